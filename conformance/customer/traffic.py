"""The recorded traffic of a customer's platform, read for the client checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from smsapi.auth import CHINA_TZ
from smsapi.codec import charset_of, parse_answer, parse_request, request_format
from smsapi.endpoints import ENDPOINTS
from smsapi.errors import CodecError
from smsapi.fields import int_value, text_value

from ..config import VendorConfig, VendorConfigError, without_secrets
from .cadence import DOCUMENT_WAIT, Poll
from .context import CustomerContext
from .proxy import Recorded, Recording


@dataclass
class ProxySettings:
    """How `conformance proxy` forwards and judges (docs/conformance-client.md)."""

    listen: str
    upstream: str
    userid: str = ""  # the account --password belongs to (empty: every account)
    password: str = ""  # to check the §3.1 digest; without it CLIENT-DIGEST is n/a
    timestamp_tolerance: float = 300.0  # U6: seconds a timestamp may be off China time
    poll_wait: float = DOCUMENT_WAIT  # U5: after an empty answer, wait this long
    poll_follow: float = 1.0  # U5: after an answer with data, poll again within this
    poll_slack: float = 0.2  # U5: timer jitter forgiven on poll_wait
    timeout: float = 60.0  # seconds the carrier may take to answer

    def validate(self) -> ProxySettings:
        host, sep, port = self.listen.rpartition(":")
        if not sep or not port.isdigit():
            raise VendorConfigError(f"--listen {self.listen!r} is not HOST:PORT")
        if not self.upstream.startswith(("http://", "https://")):
            raise VendorConfigError(f"--upstream {self.upstream!r} is not an http(s) URL")
        if self.userid and not self.password:
            raise VendorConfigError("--userid names whose --password the digest is checked with")
        if min(self.poll_wait, self.poll_follow, self.poll_slack) < 0:
            raise VendorConfigError("poll timings are 0 or more")
        return self

    def password_for(self, userid: str) -> str | None:
        if not self.password or (self.userid and self.userid.upper() != userid.upper()):
            return None
        return self.password

    def to_dict(self) -> dict[str, Any]:
        return without_secrets(self)


@dataclass
class Request:
    """A recorded request to one of the six endpoints, read tolerantly (smsapi.codec)."""

    rec: Recorded
    endpoint: str
    fields: dict[str, Any] | None  # None: the body could not be read at all
    notes: tuple[str, ...] = ()  # read, but off-spec (smsapi.codec: a GBK JSON body, W1)
    unreadable: str = ""  # why the body could not be read

    def text(self, name: str) -> str:
        return text_value((self.fields or {}).get(name))

    @property
    def account(self) -> str:
        return self.text("userid").upper() or (f"apikey:{self.text('apikey')[:8]}")

    @property
    def moment(self) -> datetime:
        """When the request came, in China time (§3.1 timestamps are read against it)."""
        return datetime.fromtimestamp(self.rec.received_at, CHINA_TZ)


class ProxyContext(CustomerContext):
    """A judgement of the recorded traffic (the proxy may still be running)."""

    def __init__(
        self,
        config: VendorConfig,
        settings: ProxySettings,
        recording: Recording,
        seed: int | None = None,
    ) -> None:
        super().__init__(config, seed)
        self.settings = settings
        self.recording = recording
        self._read: dict[int, Request] = {}

    def traffic(self) -> list[Recorded]:
        return self.recording.snapshot()

    def requests(self, *endpoints: str) -> list[Request]:
        """Requests to the six endpoints (or to those named), in arrival order."""
        out = []
        for rec in self.traffic():
            name = rec.endpoint
            if name is None or rec.method != "POST" or (endpoints and name not in endpoints):
                continue
            if rec.index not in self._read:
                body, why = rec.request_body, ""
                notes: list[str] = []
                try:
                    fmt = request_format(rec.content_type, body)
                    fields = parse_request(body, fmt, charset_of(rec.content_type), notes)
                except CodecError as exc:
                    fields, why = None, str(exc)
                self._read[rec.index] = Request(rec, name, fields, tuple(notes), why)
            out.append(self._read[rec.index])
        return out

    def polls(self) -> list[Poll]:
        """get_mo / get_rpt requests with the number of items each answer brought."""
        out = []
        for req in self.requests("get_mo", "get_rpt"):
            rec = req.rec
            if rec.upstream_error:
                continue
            out.append(
                Poll(
                    (req.account, req.endpoint, rec.client),
                    rec.started,
                    rec.finished,
                    pulled_items(req.endpoint, rec),
                    req,
                )
            )
        return out

    def metrics(self) -> dict[str, Any]:
        traffic = self.traffic()
        by_endpoint: dict[str, int] = {}
        results: dict[str, int] = {}
        for rec in traffic:
            name = rec.endpoint or "other"
            by_endpoint[name] = by_endpoint.get(name, 0) + 1
            result = answer_result(rec)
            if result is not None:
                results[str(result)] = results.get(str(result), 0) + 1
        return {
            **super().metrics(),
            "proxy": {
                "listen": self.settings.listen,
                "upstream": self.settings.upstream,
                "requests": len(traffic),
                "by_endpoint": by_endpoint,
                "answer_results": results,
                "upstream_errors": sum(1 for r in traffic if r.upstream_error),
                "settings": self.settings.to_dict(),
            },
        }


def read_answer(rec: Recorded) -> dict[str, Any] | None:
    if rec.status != 200:
        return None
    try:
        return parse_answer(rec.answer_body, rec.answer_headers.get("Content-Type"))
    except CodecError:
        return None


def answer_result(rec: Recorded) -> int | None:
    answer = read_answer(rec)
    return int_value(answer.get("result")) if answer else None


def pulled_items(endpoint: str, rec: Recorded) -> int | None:
    """How many MOs / reports a successful get_mo / get_rpt answer brought; None when
    the answer is a failure or unreadable (then it says nothing about the cadence)."""
    answer = read_answer(rec)
    if not answer or int_value(answer.get("result")) != 0:
        return None
    items = answer.get(ENDPOINTS[endpoint].list_field or "")
    if isinstance(items, list):
        return len(items)
    return 0 if items in ("", None) else None
