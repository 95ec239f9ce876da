"""smsapi.Client: the one front door to a carrier that serves attachment 6."""

from __future__ import annotations

import shlex
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import requests

from .answers import failure_answer
from .auth import china_now, digest, format_timestamp
from .codec import Format, encode_request, parse_answer
from .content import decode_mo_content, encode_mt_content
from .endpoints import ENDPOINTS
from .errors import CodecError, ResultError, TransportError
from .msgid import segment_msgid


@dataclass
class Exchange:
    """One HTTP round trip, kept for reproducers."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: bytes
    status: int = 0
    answer_headers: dict[str, str] = field(default_factory=dict)
    answer_body: bytes = b""
    elapsed: float = 0.0

    def curl(self) -> str:
        """The exact request as a curl command."""
        parts = ["curl", "-sS", "-X", self.method, shlex.quote(self.url)]
        for name, value in self.request_headers.items():
            parts += ["-H", shlex.quote(f"{name}: {value}")]
        body = self.request_body.decode("utf-8", "replace")
        parts += ["--data-binary", shlex.quote(body)]
        return " ".join(parts)


@dataclass
class SendResult:
    """§2.1.6 answer of single_send / batch_send / multi_send."""

    result: int | None  # None: the suite read no integer there (conformance.context)
    msgid: int
    custid: str
    answer: dict[str, Any]
    exchange: Exchange

    def segment_id(self, position: int = 1, pknum: int = 1) -> int:
        """§3.3 the id the report of this mobile position and segment carries."""
        return segment_msgid(self.msgid, position, pknum)


@dataclass
class PullResult:
    """§2.4.6 / §2.5.6 answer of get_mo / get_rpt: items is [] when none."""

    result: int
    items: list[dict[str, Any]]
    answer: dict[str, Any]
    exchange: Exchange


@dataclass
class BalanceResult:
    """§2.6.6 answer of get_balance."""

    result: int
    chargetype: int
    balance: int
    money: str
    answer: dict[str, Any]
    exchange: Exchange


class HttpAnswer(Protocol):
    """What Client reads of an HTTP answer (a requests.Response has it)."""

    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def content(self) -> bytes: ...


@dataclass
class Answer:
    """An HttpAnswer for a transport that is not a requests.Session."""

    status_code: int
    headers: dict[str, str]
    content: bytes


class Transport(Protocol):
    """What Client sends through: a requests.Session, or a look-alike such as the load
    tests' loadtests.transport.FastTransport."""

    def post(
        self, url: str, *, data: bytes, headers: dict[str, str], timeout: float
    ) -> HttpAnswer: ...


# A server may close a keep-alive connection it found idle (gunicorn after 2 s by default,
# the mock after 5 s); a request sent on it just as it closes meets a reset, which says
# nothing of the carrier. After this long unused, the pooled connections are dropped and
# the next request opens a fresh one: nothing is ever sent twice.
IDLE_RECONNECT_SECONDS = 1.0


class SessionUse:
    """When a session's pooled connections were last used, and how many requests are on
    them now: shared by every Client of the session (the suite makes a Client per call
    on one session; a clock of each Client's own saw a new Client as just used)."""

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.busy = 0
        self.lock = threading.Lock()

    def start(self, close: Callable[[], None] | None) -> None:
        """A request goes out: the pool dropped first if it sat unused long enough (never
        under a request in flight on another thread)."""
        with self.lock:
            idle = time.monotonic() - self.last
            if close is not None and not self.busy and idle > IDLE_RECONNECT_SECONDS:
                close()
            self.busy += 1

    def end(self) -> None:
        with self.lock:
            self.busy -= 1
            self.last = time.monotonic()


_USES: weakref.WeakKeyDictionary[Any, SessionUse] = weakref.WeakKeyDictionary()
_USES_LOCK = threading.Lock()


def session_use(session: Any) -> SessionUse:
    """The session's SessionUse (one of its own for a transport that takes no weak
    reference)."""
    with _USES_LOCK:
        try:
            use = _USES.get(session)
            if use is None:
                use = _USES[session] = SessionUse()
        except TypeError:
            use = SessionUse()
    return use


def carrier_session(base_url: str) -> requests.Session:
    """A requests.Session for one carrier, with what the environment says of it (proxies,
    NO_PROXY, REQUESTS_CA_BUNDLE) read once, here. With trust_env on, requests reads them
    again, and looks for ~/.netrc, on every request: a tenth to a fifth of a client's CPU a
    call. The §3.1 credentials travel in the body, so a .netrc login would be noise."""
    session = requests.Session()
    settings = session.merge_environment_settings(base_url, {}, None, None, None)
    session.proxies.update(settings["proxies"])
    session.verify = settings["verify"]
    session.trust_env = False
    return session


class Client:
    """A client of attachment 6.

    auth is "md5" (the §3.1 digest with a fresh timestamp, the default), "plain"
    (password in clear, per-account option) or "apikey" (needs apikey).
    With raise_for_result, a result ≠ 0 raises ResultError; otherwise it is returned.
    """

    def __init__(
        self,
        base_url: str,
        userid: str = "",
        password: str = "",
        apikey: str = "",
        *,
        fmt: Format | str = Format.JSON,
        auth: str = "md5",
        timeout: float = 30.0,
        raise_for_result: bool = True,
        session: Transport | None = None,
        clock: Callable[[], datetime] = china_now,
    ) -> None:
        if auth not in ("md5", "plain", "apikey"):
            raise ValueError("auth is md5, plain or apikey")
        if auth == "apikey" and not apikey:
            raise ValueError("apikey auth needs an apikey")
        self.base_url = base_url.rstrip("/")
        self.userid = userid
        self.password = password
        self.apikey = apikey
        self.fmt = Format(fmt)
        self.auth = auth
        self.timeout = timeout
        self.raise_for_result = raise_for_result
        self.session: Transport = session or carrier_session(self.base_url)
        self.clock = clock
        self.last_exchange: Exchange | None = None
        self._use = session_use(self.session)

    # ------------------------------------------------------------ low level

    def auth_fields(self) -> dict[str, str]:
        """§3.1 the credentials of one request."""
        if self.auth == "apikey":
            return {"apikey": self.apikey}
        if self.auth == "plain":
            return {"userid": self.userid, "pwd": self.password}
        timestamp = format_timestamp(self.clock())
        return {
            "userid": self.userid,
            "pwd": digest(self.userid, self.password, timestamp),
            "timestamp": timestamp,
        }

    def post(self, endpoint: str, body: bytes, content_type: str) -> Exchange:
        """POST a prepared body; TransportError unless an HTTP answer comes back."""
        url = f"{self.base_url}{ENDPOINTS[endpoint].path}"
        headers = {"Content-Type": content_type}
        exchange = Exchange("POST", url, headers, body)
        # a transport without close() (the load tests') keeps its own connections
        self._use.start(getattr(self.session, "close", None))
        started = time.perf_counter()
        try:
            response = self.session.post(url, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise TransportError(f"{endpoint}: {exc}") from exc
        finally:
            self._use.end()
        exchange.elapsed = time.perf_counter() - started
        exchange.status = response.status_code
        exchange.answer_headers = dict(response.headers)
        exchange.answer_body = response.content
        self.last_exchange = exchange
        return exchange

    def call(
        self, endpoint: str, fields: dict[str, Any], fmt: Format | str | None = None
    ) -> tuple[dict[str, Any], Exchange]:
        """Send fields (credentials added) and read the answer into a dict."""
        fmt = Format(fmt) if fmt else self.fmt
        body = encode_request(endpoint, {**self.auth_fields(), **fields}, fmt)
        exchange = self.post(endpoint, body, fmt.media_type)
        if exchange.status != 200:
            raise TransportError(f"{endpoint}: HTTP {exchange.status}")
        try:
            answer = parse_answer(exchange.answer_body, exchange.answer_headers.get("Content-Type"))
        except CodecError as exc:
            raise CodecError(f"{endpoint}: {exc}", exchange.answer_body) from exc
        result = answer.get("result")
        if self.raise_for_result and result not in (0, "0"):
            code = str(result)
            raise ResultError(int(code) if code.lstrip("-").isdigit() else -1, answer)
        return answer, exchange

    # ------------------------------------------------------------ the six endpoints

    def single_send(self, mobile: str, content: str, **options: str) -> SendResult:
        """§2.1 one content to one mobile. Options: svrtype, exno, custid, exdata."""
        fields = {"mobile": mobile, "content": encode_mt_content(content), **_set(options)}
        return self._send("single_send", fields)

    def batch_send(self, mobiles: Iterable[str], content: str, **options: str) -> SendResult:
        """§2.2 one content to up to 1000 mobiles."""
        fields = {
            "mobile": ",".join(mobiles),
            "content": encode_mt_content(content),
            **_set(options),
        }
        return self._send("batch_send", fields)

    def multi_send(self, items: Iterable[dict[str, str]]) -> SendResult:
        """§2.3 personalised contents: items of mobile, content (text), and options."""
        multimt = [{**_set(item), "content": encode_mt_content(item["content"])} for item in items]
        return self._send("multi_send", {"multimt": multimt})

    def get_mo(self, retsize: int | None = None, charset: str = "utf-8") -> PullResult:
        """§2.4 pull MOs; each item gains `text`, its content decoded."""
        result = self._pull("get_mo", "mos", retsize)
        for item in result.items:
            item["text"] = decode_mo_content(str(item.get("content", "")), charset).text
        return result

    def get_rpt(self, retsize: int | None = None) -> PullResult:
        """§2.5 pull status reports."""
        return self._pull("get_rpt", "rpts", retsize)

    def get_balance(self) -> BalanceResult:
        """§2.6 balance."""
        answer, exchange = self.call("get_balance", {})
        failure = failure_answer("get_balance", -1)
        return BalanceResult(
            int(answer.get("result", -1)),
            int(answer.get("chargetype", failure["chargetype"])),
            int(answer.get("balance", 0)),
            str(answer.get("money", failure["money"])),
            answer,
            exchange,
        )

    def _send(self, endpoint: str, fields: dict[str, Any]) -> SendResult:
        answer, exchange = self.call(endpoint, fields)
        return SendResult(
            int(answer.get("result", -1)),
            int(answer.get("msgid", 0) or 0),
            str(answer.get("custid", "")),
            answer,
            exchange,
        )

    def _pull(self, endpoint: str, list_field: str, retsize: int | None) -> PullResult:
        fields = {} if retsize is None else {"retsize": retsize}
        answer, exchange = self.call(endpoint, fields)
        items = answer.get(list_field)
        items = items if isinstance(items, list) else []
        return PullResult(int(answer.get("result", -1)), items, answer, exchange)


def _set(options: dict[str, Any]) -> dict[str, str]:
    """Options that were given (None dropped), as text."""
    return {k: str(v) for k, v in options.items() if v is not None}
