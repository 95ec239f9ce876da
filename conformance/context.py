"""What a check works with: clients, the budget, the ledger, the receiver, evidence."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests

from smsapi.client import Client, Exchange, PullResult, SendResult
from smsapi.codec import Format, parse_answer
from smsapi.content import encode_mt_content
from smsapi.errors import CodecError, Result, TransportError, result_text
from smsapi.mobile import Operator, classify
from smsapi.push import PushKind
from smsapi.segments import SINGLE_SEGMENT_CHARS, segments_for_length

from .budget import Budget, guard_mobiles
from .config import VendorConfig
from .ledger import Item, Ledger, SentMessage
from .outcomes import CheckFailed, CheckSkipped, Evidence, NotApplicable, Unreachable, Warning_
from .receiver import Push, Receiver

EVIDENCE_KEPT = 6  # exchanges a check keeps as evidence (the last ones)
# A message text the test phones show: says who sends it and why.
SHORT_TEXT = "通渝短信接口验收测试 {tag}"


@dataclass
class CheckState:
    """What one running check has gathered."""

    check_id: str
    exchanges: list[Exchange] = field(default_factory=list)
    warnings: list[Warning_] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    spent: int = 0


@dataclass
class MO:
    data: dict[str, Any]
    source: str
    seen_at: float
    exchange: Exchange | None = None


@dataclass
class _Meter:
    """The segments of a send's items, and what the send spent of them."""

    pktotals: list[int]
    spent: int = 0


class CheckContext:
    """What every run's context shares: the config, the seed, the running check and the
    verdict helpers (the carrier run's RunContext and the customer side's contexts)."""

    def __init__(self, config: VendorConfig, seed: int | None = None) -> None:
        self.config = config
        self.seed = seed if seed is not None else (config.seed or secrets.randbelow(2**31))
        self.current = CheckState("-")

    @contextmanager
    def running(self, check_id: str) -> Iterator[CheckState]:
        self.current = CheckState(check_id)
        try:
            yield self.current
        finally:
            self.current = CheckState("-")

    @property
    def strict(self) -> bool:
        return self.config.profile == "strict"

    def deviation(
        self,
        rows: tuple[str, ...] | str,
        expected: str,
        got: str,
        exchanges: list[Exchange] | Exchange | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """A deviation the strict profile fails and the lenient one warns about."""
        rows = (rows,) if isinstance(rows, str) else rows
        if self.strict:
            raise CheckFailed(
                expected, got, exchanges, details={"interpretations": list(rows), **(details or {})}
            )
        self.warn(f"expected {expected}; got {got}", rows)
        if details:
            self.current.details.update(details)

    def warn(self, message: str, rows: tuple[str, ...] = ()) -> None:
        self.current.warnings.append(Warning_(message, rows))

    def detail(self, key: str, value: Any) -> None:
        self.current.details[key] = value

    def evidence(self) -> list[Evidence]:
        return [Evidence.of(e) for e in self.current.exchanges[-EVIDENCE_KEPT:]]


class RecordingClient(Client):
    """smsapi.Client keeping every exchange as evidence of the running check."""

    def __init__(self, ctx: RunContext, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ctx = ctx

    def post(self, endpoint: str, body: bytes, content_type: str) -> Exchange:
        exchange = super().post(endpoint, body, content_type)
        self._ctx.record(endpoint, exchange)
        return exchange


class RunContext(CheckContext):
    def __init__(self, config: VendorConfig, seed: int | None = None) -> None:
        super().__init__(config, seed)
        self.tag = secrets.token_hex(3)  # custids of this run: cf<tag><n>
        self.session = requests.Session()
        self.budget = Budget(config.budget)
        self.ledger = Ledger()
        self.mos: list[MO] = []
        self.exchanges: list[tuple[str, str, Exchange]] = []  # (check id, endpoint, exchange)
        self.auth_failures_left = config.auth_failures_allowed
        self.receiver: Receiver | None = None
        self.settled = False
        self._counter = 0
        self._lock = threading.Lock()

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Open the receiver, then drain what the target held before the run."""
        if self.config.callback_listen:
            self.receiver = Receiver(
                self.config.callback_listen,
                self.config.password,
                self._on_push,
                self.config.push_silence,
            ).start()
        if self.client().get_balance().result == Result.AUTH_LOCKED:
            raise Unreachable(
                f"{self.config.userid} is locked out (-100002, repeated auth failures): "
                "wait for the carrier's lockout window, then run again"
            )
        self.drain()

    def close(self) -> None:
        if self.receiver:
            self.receiver.stop()
        self.session.close()

    # ------------------------------------------------------------ clients

    def client(
        self,
        fmt: Format | str = Format.JSON,
        auth: str | None = None,
        userid: str | None = None,
        password: str | None = None,
        apikey: str | None = None,
    ) -> RecordingClient:
        cfg = self.config
        return RecordingClient(
            self,
            cfg.target,
            cfg.userid if userid is None else userid,
            cfg.password if password is None else password,
            cfg.apikey if apikey is None else apikey,
            fmt=fmt,
            auth=auth or cfg.primary_auth,
            timeout=cfg.request_timeout,
            raise_for_result=False,
            session=self.session,
        )

    def record(self, endpoint: str, exchange: Exchange) -> None:
        with self._lock:
            self.exchanges.append((self.current.check_id, endpoint, exchange))
            self.current.exchanges.append(exchange)

    def raw(self, endpoint: str, body: bytes, content_type: str, fresh: bool = False) -> Exchange:
        """POST a body as is; the exchange comes back whatever the HTTP status. fresh:
        on a connection of its own (hostile bodies may leave a connection unusable)."""
        client = self.client()
        if not fresh:
            return client.post(endpoint, body, content_type)
        with requests.Session() as session:
            client.session = session
            return client.post(endpoint, body, content_type)

    def auth_fields(self, auth: str | None = None) -> dict[str, str]:
        return self.client(auth=auth).auth_fields()

    # ------------------------------------------------------------ sending

    def mobiles(self, count: int = 1, distinct: bool = True) -> list[str]:
        """Test mobiles for a send: distinct ones (as many as there are, up to count),
        or count of them cycling through the list."""
        numbers = list(dict.fromkeys(self.config.test_mobiles))
        if not numbers:
            raise CheckSkipped("no test mobiles configured (--test-mobiles or [test_mobiles])")
        if distinct:
            return numbers[:count]
        return [numbers[i % len(numbers)] for i in range(count)]

    def mobiles_of(self, operator: Operator) -> list[str]:
        return [m for m in self.config.test_mobiles if classify(m).operator is operator]

    def custid(self) -> str:
        with self._lock:
            self._counter += 1
            return f"cf{self.tag}{self._counter:04d}"

    def text(self, length: int | None = None) -> str:
        """A message text; with length, exactly that many characters with the carrier's
        signature counted in (F8)."""
        base = SHORT_TEXT.format(tag=f"{self.current.check_id} {self.tag}")
        if length is None:
            room = SINGLE_SEGMENT_CHARS - self.config.signature_length
            return base[:room]
        length -= self.config.signature_length
        filler = "测试短信内容" * (length // 6 + 1)
        return (base + " " + filler)[:length] if length > len(base) else base[:length]

    def segments(self, text: str) -> int:
        """The suite's own count of segments for a text (signature included)."""
        return segments_for_length(len(text) + self.config.signature_length)

    def send(
        self,
        endpoint: str,
        items: list[Item],
        fmt: Format | str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> SendResult:
        """Send through smsapi: guarded (test mobiles only), within the budget, and
        recorded in the ledger when accepted."""
        with self._metered(items) as meter:
            valid = [classify(i.mobile).valid for i in items]
            fields = _send_fields(endpoint, items, extra or {})
            answer, exchange = self.client(fmt or Format.JSON).call(endpoint, fields)
            sent = _send_result(answer, exchange)
            self._file_sent(meter, endpoint, sent, items, valid)
            return sent

    def send_raw(
        self, endpoint: str, body: bytes, content_type: str, items: list[Item]
    ) -> tuple[dict[str, Any] | None, Exchange]:
        """Send a body written by hand (the document's examples) to the items' mobiles,
        under the same guard, budget and ledger as send()."""
        with self._metered(items) as meter:
            exchange = self.raw(endpoint, body, content_type)
            try:
                answer = parse_answer(
                    exchange.answer_body, exchange.answer_headers.get("Content-Type")
                )
            except CodecError:
                return None, exchange
            sent = _send_result(answer, exchange)
            self._file_sent(meter, endpoint, sent, items, [True] * len(items))
            return answer, exchange

    @contextmanager
    def _metered(self, items: list[Item]) -> Iterator[_Meter]:
        """A send to test mobiles only, its worst case reserved from the budget and what
        it spent billed when it ends."""
        guard_mobiles([i.mobile for i in items], self.config.test_mobiles)
        meter = _Meter([self.segments(i.text) for i in items])
        reserved = self.budget.reserve(sum(meter.pktotals), self.current.check_id)
        try:
            yield meter
        finally:
            self.budget.settle(reserved, meter.spent)
            self.current.spent += meter.spent

    def _file_sent(
        self, meter: _Meter, endpoint: str, sent: SendResult, items: list[Item], valid: list[bool]
    ) -> None:
        """An accepted send is billed for its valid mobiles and recorded in the ledger."""
        if sent.result != 0:
            return
        meter.spent = sum(p for p, ok in zip(meter.pktotals, valid, strict=True) if ok)
        self.ledger.record(
            self.current.check_id,
            endpoint,
            sent.msgid,
            sent.custid,
            items,
            meter.pktotals,
            valid,
            sent.exchange,
        )

    def send_single(self, mobile: str, text: str, fmt: Any = None, **options: str) -> SendResult:
        return self.send("single_send", [Item(mobile, text, **options)], fmt)

    def send_batch(
        self, mobiles: list[str], text: str, fmt: Any = None, **options: str
    ) -> SendResult:
        return self.send("batch_send", [Item(m, text, **options) for m in mobiles], fmt)

    def send_multi(self, items: list[Item], fmt: Any = None) -> SendResult:
        return self.send("multi_send", items, fmt)

    def sent_messages(self) -> list[SentMessage]:
        """The messages the running check sent (from the ledger)."""
        return self.ledger.of_check(self.current.check_id)

    def expect_accepted(self, sent: SendResult, what: str) -> None:
        if sent.result != 0:
            raise CheckFailed(
                f"{what} accepted (result 0)",
                f"result {sent.result} ({result_text(sent.result, 'en')})",
                sent.exchange,
            )

    # ------------------------------------------------------------ reports and MOs

    def pull_reports(self, retsize: int | None = None, fmt: Any = None) -> PullResult:
        """One get_rpt; every report in it is filed in the ledger."""
        client = self.client(fmt or Format.JSON)
        pulled = client.get_rpt(retsize)
        for item in pulled.items:
            if isinstance(item, dict):
                self.ledger.file(item, "pull", pulled.exchange)
        return pulled

    def pull_mos(self, retsize: int | None = None) -> PullResult:
        pulled = self.client().get_mo(retsize)
        for item in pulled.items:
            if isinstance(item, dict):
                self.mos.append(MO(item, "pull", time.time(), pulled.exchange))
        return pulled

    def drain(self, limit: int = 50) -> None:
        """Take what the target held before the run, so it is not taken for ours."""
        client = self.client()
        for _ in range(limit):
            pulled = client.get_rpt()
            for item in pulled.items:
                if isinstance(item, dict):
                    self.ledger.file_foreign(item, "pull")
            if not pulled.items:
                break

    def await_reports(self, messages: list[SentMessage], timeout: float | None = None) -> bool:
        """Poll get_rpt (and watch the receiver) until every message has all its reports
        or the timeout passes. True when all came."""
        deadline = time.monotonic() + (timeout or self.config.report_timeout)
        while True:
            if all(m.complete for m in messages):
                return True
            try:
                pulled = self.pull_reports(500)
            except (TransportError, CodecError):
                pulled = None
            self.ledger.resolve()
            if all(m.complete for m in messages):
                return True
            if time.monotonic() >= deadline:
                self.ledger.resolve(age=0)
                return False
            if not pulled or not pulled.items:
                time.sleep(self.config.poll_interval)

    def settle(self) -> None:
        """Once per run, before the final checks: wait for every owed report."""
        if not self.settled:
            self.settled = True
            self.await_reports(self.ledger.owed())
            self.ledger.resolve(age=0)

    def _on_push(self, kind: PushKind, items: list[dict[str, Any]], push: Push) -> None:
        for item in items:
            if kind is PushKind.RPT:
                self.ledger.file(item, "push")
            else:
                self.mos.append(MO(item, "push", time.time()))

    # ------------------------------------------------------------ verdicts

    def require_mode(self, mode: str) -> None:
        if mode not in self.config.auth_modes:
            raise NotApplicable(f"the vendor did not enable {mode} auth (A5)")

    def spend_auth_failure(self, why: str) -> None:
        """The suite's own account may take only so many failures (A7 lockout)."""
        if self.auth_failures_left <= 0:
            raise CheckSkipped(
                f"{why} would be one auth failure too many on the suite's account "
                f"(A7; raise [auth] failures_allowed)"
            )
        self.auth_failures_left -= 1


def _send_fields(endpoint: str, items: list[Item], extra: dict[str, Any]) -> dict[str, Any]:
    """The request fields of a send (§2.1.5, §2.2.5, §2.3.5); empty options left out."""

    def options(item: Item) -> dict[str, str]:
        return {
            k: v
            for k, v in (("custid", item.custid), ("exdata", item.exdata), ("exno", item.exno))
            if v
        }

    if endpoint == "multi_send":
        multimt = [
            {"mobile": i.mobile, "content": encode_mt_content(i.text), **options(i)} for i in items
        ]
        return {"multimt": multimt, **extra}
    first = items[0]
    mobile = ",".join(i.mobile for i in items) if endpoint == "batch_send" else first.mobile
    return {"mobile": mobile, "content": encode_mt_content(first.text), **options(first), **extra}


def _send_result(answer: dict[str, Any], exchange: Exchange) -> SendResult:
    def as_int(value: Any) -> int:
        try:
            return int(str(value).strip())
        except (TypeError, ValueError):
            return 0

    return SendResult(
        as_int(answer.get("result", -1)),
        as_int(answer.get("msgid", 0)),
        str(answer.get("custid", "") or ""),
        answer,
        exchange,
    )
