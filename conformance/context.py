"""What a check works with: clients, the budget, the ledger, the receiver, evidence."""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests

from smsapi.client import Client, Exchange, PullResult, SendResult, carrier_session
from smsapi.codec import Format, parse_answer
from smsapi.content import encode_mt_content
from smsapi.endpoints import GET_RPT
from smsapi.errors import CodecError, Result, TransportError, result_text
from smsapi.mobile import Operator, classify
from smsapi.msgid import in_int64
from smsapi.push import PushKind
from smsapi.segments import SINGLE_SEGMENT_CHARS, segments_for_length
from smsapi.timing import carrier_epoch

from .budget import Budget, guard_mobiles
from .config import VendorConfig
from .ledger import Outgoing, RunLedger, SentMessage, Silence, silent_carrier
from .outcomes import (
    CheckFailed,
    CheckSkipped,
    Evidence,
    Inconclusive,
    NotApplicable,
    Secrets,
    Unreachable,
    Warning_,
)
from .preflight import LockWatch, budget_for
from .receiver import ReceivedPush, Receiver

UNREADABLE = None  # SendResult.result of an answer whose result is no integer
EVIDENCE_KEPT = 6  # exchanges a check keeps as evidence (the last ones)
# A message text the test phones show: says who sends it and why.
SHORT_TEXT = "通渝短信接口验收测试 {tag}"
SUITE_CUSTID = re.compile(r"cf[0-9a-f]{6}\d{4,}")  # the custids the suite's runs give
LONG_LENGTH = 140  # characters with the signature: three 67-character segments (F9)
PROGRESS_EVERY_S = 5.0  # a "waiting for reports" line this often while a check waits
# What a run-wide check sends itself when the run sent nothing (`--only` it alone): a long
# single_send and a two-item multi_send with custids and exdata of their own.
ARRANGED_COST = segments_for_length(LONG_LENGTH) + 2
NO_REPORT = "no report came for the run's {n} message(s) within the report timeout"


def run_wide_cost(cfg: VendorConfig) -> int:
    """The cost of a run-wide (final) check: nothing when the run's other checks send,
    else the traffic it arranges itself (RunContext.arrange_traffic)."""
    from .catalogue import select  # the catalogue imports the checks, which import this

    try:
        chosen = select(cfg.only or None)
    except ValueError:
        chosen = []
    return 0 if any(not c.final and c.worst_cost(cfg) for c in chosen) else ARRANGED_COST


@dataclass
class CheckState:
    """What one running check has gathered."""

    check_id: str
    exchanges: list[Exchange] = field(default_factory=list)
    warnings: list[Warning_] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    spent: int = 0
    judged: dict[str, int] = field(default_factory=dict)  # evidence judged, by kind


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

    def judged(self, kind: str, count: int = 1) -> None:
        """Count evidence the running check judged ("reports", "sends", "mos"...)."""
        self.current.judged[kind] = self.current.judged.get(kind, 0) + count

    def require_evidence(self, kind: str, count: int, why: str) -> None:
        """Count the evidence; none at all ends the check inconclusive, saying why
        (and what would give it evidence)."""
        self.judged(kind, count)
        if count <= 0:
            raise Inconclusive(why)

    def evidence(self) -> list[Evidence]:
        secrets = Secrets.of(self.config)  # reproducers ask for credentials, never print them
        return [Evidence.of(e, secrets=secrets) for e in self.current.exchanges[-EVIDENCE_KEPT:]]


class RecordingClient(Client):
    """smsapi.Client keeping every exchange as evidence of the running check."""

    def __init__(self, ctx: RunContext, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ctx = ctx

    def post(self, endpoint: str, body: bytes, content_type: str) -> Exchange:
        exchange = super().post(endpoint, body, content_type)
        self._ctx.record(endpoint, exchange, self.userid)
        return exchange


class RunContext(CheckContext):
    def __init__(self, config: VendorConfig, seed: int | None = None) -> None:
        super().__init__(config, seed)
        self.tag = secrets.token_hex(3)  # custids of this run: cf<tag><n>
        self.session = carrier_session(config.target)
        self.budget = Budget(config.budget)
        self.ledger = RunLedger()
        self.mos: list[MO] = []
        self.exchanges: list[tuple[str, str, Exchange]] = []  # (check id, endpoint, exchange)
        # A7: deliberate auth failures per lockout window, and a -100002 seen in the run
        self.auth_budget = budget_for(config)
        self.lock = LockWatch(config.userid, self.auth_budget)
        self.receiver: Receiver | None = None
        self.settled = False
        self.silence_told = False  # the silent-carrier rule announced (once per run)
        self.on_progress: Callable[[str], None] | None = None  # "waiting for 12 reports..."
        self.started_at = time.time()
        self._counter = 0
        self._lock = threading.Lock()

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Open the receiver, then drain what the target held before the run."""
        self.started_at = time.time()
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

    def record(self, endpoint: str, exchange: Exchange, userid: str = "") -> None:
        self.lock.observe(self.current.check_id, exchange, userid)
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
        """A custid of this run (SUITE_CUSTID)."""
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
        items: list[Outgoing],
        fmt: Format | str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> SendResult:
        """Send through smsapi: guarded (test mobiles only), within the budget, and
        recorded in the ledger when accepted."""
        with self._metered(items) as meter:
            valid = [classify(i.mobile).valid for i in items]
            fields = _send_fields(endpoint, items, extra or {})
            started = time.time()
            answer, exchange = self.client(fmt or Format.JSON).call(endpoint, fields)
            sent = send_result(answer, exchange)
            self._file_sent(meter, endpoint, sent, items, valid, started)
            return sent

    def send_raw(
        self, endpoint: str, body: bytes, content_type: str, items: list[Outgoing]
    ) -> tuple[dict[str, Any] | None, Exchange]:
        """Send a body written by hand (the document's examples) to the items' mobiles,
        under the same guard, budget and ledger as send()."""
        with self._metered(items) as meter:
            started = time.time()
            exchange = self.raw(endpoint, body, content_type)
            try:
                answer = parse_answer(
                    exchange.answer_body, exchange.answer_headers.get("Content-Type")
                )
            except CodecError:
                return None, exchange
            sent = send_result(answer, exchange)
            self._file_sent(meter, endpoint, sent, items, [True] * len(items), started)
            return answer, exchange

    @contextmanager
    def _metered(self, items: list[Outgoing]) -> Iterator[_Meter]:
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
        self,
        meter: _Meter,
        endpoint: str,
        sent: SendResult,
        items: list[Outgoing],
        valid: list[bool],
        started: float,
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
            started,
        )

    def send_single(self, mobile: str, text: str, fmt: Any = None, **options: str) -> SendResult:
        return self.send("single_send", [Outgoing(mobile, text, **options)], fmt)

    def send_batch(
        self, mobiles: list[str], text: str, fmt: Any = None, **options: str
    ) -> SendResult:
        return self.send("batch_send", [Outgoing(m, text, **options) for m in mobiles], fmt)

    def send_multi(self, items: list[Outgoing], fmt: Any = None) -> SendResult:
        return self.send("multi_send", items, fmt)

    def sent_messages(self) -> list[SentMessage]:
        """The messages the running check sent (from the ledger)."""
        return self.ledger.of_check(self.current.check_id)

    def expect_accepted(self, sent: SendResult, what: str) -> None:
        self.judged("sends")
        if sent.result is UNREADABLE:
            got = f"an unreadable result {sent.answer.get('result', '(missing)')!r}"
            raise CheckFailed(f"{what} accepted (result 0)", got, sent.exchange)
        if sent.result != 0:
            raise CheckFailed(
                f"{what} accepted (result 0)",
                f"result {sent.result} ({result_text(sent.result, 'en')})",
                sent.exchange,
            )
        # §2.1.6 §3.3 an accepted send names its msgid: non-zero signed 64-bit (0 = failure)
        if sent.msgid == 0 or not in_int64(sent.msgid):
            raise CheckFailed(
                f"{what} accepted with its msgid (a non-zero signed 64-bit integer, §2.1.6)",
                f"result 0 with msgid {sent.answer.get('msgid', '(missing)')!r}",
                sent.exchange,
            )

    def expect_reported(self, what: str) -> None:
        """An acceptance holds when what was accepted goes out: every segment the running
        check sent gets its report within report_timeout (a carrier answering 0 and then
        dropping messages, past a limit say, has not accepted them)."""
        messages = self.sent_messages()
        self.await_reports(messages)
        self.judged("reports", sum(len(m.all_reports()) for m in messages))
        missing = [m for m in messages if not m.complete]
        if missing:
            first = missing[0]
            raise CheckFailed(
                f"{what}: a report for every accepted message within "
                f"{self.config.report_timeout:g} s",
                f"{len(missing)} of {len(messages)} message(s) unreported (first: position "
                f"{first.position}, {first.mobile})",
                first.exchange,
            )

    # ------------------------------------------------------------ reports and MOs

    def pull_reports(self, retsize: int | None = None, fmt: Any = None) -> PullResult:
        """One get_rpt; every report in it is filed in the ledger, its arrival bounded
        by the last poll that left nothing behind."""
        client = self.client(fmt or Format.JSON)
        started = time.time()
        pulled = client.get_rpt(retsize)
        cap = GET_RPT.retsize_cap or 500
        asked = retsize if retsize is not None and 0 < retsize < cap else cap
        if pulled.result == 0:
            self.ledger.pulled(list(pulled.items), started, asked, pulled.exchange)
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
            started = time.time()
            pulled = client.get_rpt()
            for item in pulled.items:
                if isinstance(item, dict):
                    self.ledger.file_foreign(item, "pull")
            if not pulled.items:
                self.ledger.clear_at = started
                break

    def await_reports(
        self,
        messages: list[SentMessage],
        timeout: float | None = None,
        stop_on_fault: bool = False,
    ) -> bool:
        """Poll get_rpt (and watch the receiver) until every message has all its reports
        or the timeout passes; with stop_on_fault, also as soon as a report of theirs shows
        a matching fault (ledger.faults: no waiting out the timeout for it). Says how many
        reports it waits for every few seconds. A carrier proven silent (silent_carrier)
        gets only [timing] silent_polls polls. True when all came."""
        timeout = timeout or self.config.report_timeout
        started = time.monotonic()
        deadline, told = started + timeout, started
        grace = self.config.silent_polls * self.config.poll_interval
        custids = frozenset(m.custid for m in messages if m.custid)

        def done() -> bool:
            if all(m.complete for m in messages):
                return True
            return stop_on_fault and bool(self.ledger.faults(messages))

        while True:
            if done():
                return all(m.complete for m in messages)
            polled_at = time.time()
            try:
                pulled = self.pull_reports(500)
            except (TransportError, CodecError):
                pulled = None
            self.ledger.resolve(recorded=custids)  # these sends are recorded: no settling
            if done():
                return all(m.complete for m in messages)
            now = time.monotonic()
            silence = self.config.silent_polls and silent_carrier(
                self.ledger, self.config.report_timeout, polled_at
            )
            if silence and now >= min(deadline, started + grace):
                self._silent(silence)
                self.ledger.resolve(age=0)
                return False
            if now >= deadline:
                self.ledger.resolve(age=0)
                return False
            if now - told >= PROGRESS_EVERY_S:
                told = now
                owed = sum(len(m.unreported()) for m in messages)
                self.progress(
                    f"{self.current.check_id}: waiting for {owed} report(s), "
                    f"{now - started:.0f} s of {timeout:.0f}"
                )
            if not pulled or not pulled.items:
                time.sleep(self.config.poll_interval)

    def _silent(self, silence: Silence) -> None:
        """A wait cut short by the silent-carrier rule: the check's result says so, and the
        terminal once per run."""
        self.detail("silent_carrier", silence.note())
        if not self.silence_told:
            self.silence_told = True
            self.progress(
                f"{self.current.check_id}: {silence.note()} (later waits poll "
                f"{self.config.silent_polls} times)"
            )

    def progress(self, text: str) -> None:
        """A line for whoever watches the run (the terminal, through the event bus)."""
        if self.on_progress:
            self.on_progress(text)

    def settle(self) -> None:
        """Once per run, before the final checks: wait for every owed report."""
        if not self.settled:
            self.settled = True
            self.await_reports(self.ledger.owed())
            self.ledger.resolve(age=0)

    def before_run(self, report: dict[str, Any]) -> bool:
        """A report of a message sent before this run (late, after the drain): accepted
        (stime) before the run started, or carrying another suite run's custid."""
        stime = carrier_epoch(report.get("stime"))
        if stime is not None and stime < self.started_at - self.config.clock_skew - 1:
            return True
        custid = str(report.get("custid", "") or "")
        return bool(SUITE_CUSTID.fullmatch(custid)) and not custid.startswith(f"cf{self.tag}")

    def run_messages(self) -> list[SentMessage]:
        """What a run-wide check judges: every message of the run, once its reports came
        (settle). A run that sent nothing (the check selected alone) gets a small
        traffic of the check's own first (ARRANGED_COST segments), so `--only` judges
        as the full run does."""
        if not self.ledger.messages:
            self.arrange_traffic()
        self.settle()
        return self.ledger.messages

    def arrange_traffic(self) -> None:
        """A long single_send and a two-item multi_send, each with custid and exdata.
        A refusal leaves nothing to judge (the send checks judge refusals)."""
        first = self.mobiles(1)[0]
        long = Outgoing(first, self.text(LONG_LENGTH), custid=self.custid(), exdata="cfLong")
        items = [
            Outgoing(m, self.text(), custid=self.custid(), exdata=f"cfItem{n}")
            for n, m in enumerate(self.mobiles(2, distinct=False), start=1)
        ]
        for endpoint, sent_items in (("single_send", [long]), ("multi_send", items)):
            sent = self.send(endpoint, sent_items)
            if sent.result != 0:
                raise Inconclusive(
                    f"the run sent nothing, and the {endpoint} this check arranged was refused "
                    f"(result {sent.result}): no message to judge"
                )
        self.settled = False  # the new messages are owed their reports

    def _on_push(self, kind: PushKind, items: list[dict[str, Any]], push: ReceivedPush) -> None:
        for item in items:
            if kind is PushKind.RPT:
                self.ledger.file(item, "push")
            else:
                self.mos.append(MO(item, "push", time.time()))

    # ------------------------------------------------------------ verdicts

    def require_mode(self, mode: str) -> None:
        if mode not in self.config.auth_modes:
            raise NotApplicable(f"the vendor did not enable {mode} auth (A5)")

    @contextmanager
    def auth_failure(self, why: str) -> Iterator[None]:
        """Around the request of a deliberate auth failure on the suite's own account,
        which may take only so many per lockout window, counted across runs (A7): wait
        for room, or skip when there is none; the failure counts once its answer is in."""
        refused = self.auth_budget.make_room(why)
        if refused:
            raise CheckSkipped(refused)
        try:
            yield
        finally:
            self.auth_budget.note()


def _send_fields(endpoint: str, items: list[Outgoing], extra: dict[str, Any]) -> dict[str, Any]:
    """The request fields of a send (§2.1.5, §2.2.5, §2.3.5); empty options left out."""

    def options(item: Outgoing) -> dict[str, str]:
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


def send_result(answer: dict[str, Any], exchange: Exchange) -> SendResult:
    """The answer of a send; an unreadable result ("OK", missing, not an integer) is
    UNREADABLE (None), which no check takes for acceptance nor for a refusal code."""

    def as_int(value: Any, unreadable: int | None = 0) -> int | None:
        try:
            return int(str(value).strip())
        except (TypeError, ValueError):
            return unreadable

    return SendResult(
        as_int(answer.get("result"), UNREADABLE),
        as_int(answer.get("msgid", 0)) or 0,
        str(answer.get("custid", "") or ""),
        answer,
        exchange,
    )
