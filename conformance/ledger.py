"""The suite's model of the carrier: what was sent, which reports are owed, which came.

Every accepted send is recorded per mobile; every report that arrives (pulled or
pushed) is filed against the segment it names by msgid (§3.3), or, when no sent
segment carries that id (or it names another message or segment), by custid + mobile
(+ pknum): a matching fault is then one fault, seen at once, and the delivery still
counts. Each report keeps its arrival by the suite's clock and that arrival's bound.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from smsapi.client import Exchange
from smsapi.matching import names_other_message, report_msgid, report_pknum, report_pktotal
from smsapi.mobile import classify
from smsapi.msgid import mobile_msgid, segment_msgid
from smsapi.segments import LONG_SEGMENT_CHARS, MAX_CONTENT_CHARS, segments_for_length
from smsapi.timing import DeliveryTiming, delivery_timing

# The most segments a 1000-character text can take: ids are indexed up to here.
MAX_SEGMENTS = segments_for_length(MAX_CONTENT_CHARS) + 1
assert MAX_SEGMENTS * LONG_SEGMENT_CHARS > MAX_CONTENT_CHARS
# Seconds a report waits for its send to be recorded before custid matching is tried.
SETTLE_SECONDS = 1.0


@dataclass
class Report:
    """One report as it arrived."""

    data: dict[str, Any]
    source: str  # pull / push
    seen_at: float
    exchange: Exchange | None = None
    matched_by: str = ""  # msgid / custid / "" (unmatched)
    message: SentMessage | None = None
    pknum: int = 0  # the segment it was filed under
    # How much earlier it may have been available than seen_at: 0 for a push; for a pull,
    # the time since the last poll that left nothing behind (smsapi.timing).
    bound_s: float = 0.0
    msgid_names: SentMessage | None = None  # the other mobile's message its msgid names

    @property
    def msgid(self) -> int | None:
        return report_msgid(self.data)

    def timing(self) -> DeliveryTiming | None:
        """Its segment's delivery by the suite's clock (None before it is matched)."""
        if self.message is None:
            return None
        return delivery_timing(self.data, self.message.sent_at, self.seen_at, self.bound_s)


@dataclass
class SentMessage:
    """The message to one mobile of an accepted send."""

    check_id: str
    endpoint: str
    base_msgid: int  # the msgid of the send answer
    position: int  # 1-based place of the mobile in the request (§3.3)
    mobile: str
    custid: str  # the custid the reports must carry (§3.3)
    exdata: str
    exno: str
    text: str
    expected_pktotal: int  # by the suite's own count (F9: the carrier may split otherwise)
    valid: bool  # §3.2 a valid number (an invalid one is owed a failed report, F2)
    sent_at: float  # when the send request started (the suite's clock, L1)
    exchange: Exchange | None = None
    reports: dict[int, list[Report]] = field(default_factory=dict)

    @property
    def msgid(self) -> int:
        """§3.3 the per-mobile msgid: base + position - 1."""
        return mobile_msgid(self.base_msgid, self.position)

    def segment_id(self, pknum: int) -> int:
        return segment_msgid(self.base_msgid, self.position, pknum)

    @property
    def pktotal(self) -> int:
        """pktotal as the carrier reports it, or the suite's count before any report."""
        for filed in self.reports.values():
            for report in filed:
                return report_pktotal(report.data)
        return self.expected_pktotal

    def unreported(self) -> list[int]:
        """The segments (pknum 1..pktotal) no report has come for yet."""
        return [k for k in range(1, self.pktotal + 1) if not self.reports.get(k)]

    @property
    def complete(self) -> bool:
        return not self.unreported()

    def all_reports(self) -> list[Report]:
        return [r for k in sorted(self.reports) for r in self.reports[k]]


@lru_cache(maxsize=4096)
def national(mobile: str) -> str:
    """§3.2 the national form of a number (cached: every report asks)."""
    return classify(mobile).national


def reports_of(messages: list[SentMessage]) -> list[Report]:
    """Every report filed under these messages."""
    return [r for m in messages for r in m.all_reports()]


@dataclass
class Item:
    """What the suite asked to send to one mobile."""

    mobile: str
    text: str
    custid: str = ""
    exdata: str = ""
    exno: str = ""


class Ledger:
    def __init__(self) -> None:
        self.messages: list[SentMessage] = []
        self.reports: list[Report] = []
        self.unmatched: list[Report] = []
        self.foreign: list[Report] = []  # drained before the run started
        self.collisions: list[tuple[int, SentMessage, SentMessage]] = []
        self._by_id: dict[int, tuple[SentMessage, int, bool]] = {}
        self._lock = threading.RLock()
        self.clear_at = time.time()  # start of the last poll that left nothing behind
        self._by_custid_mobile: dict[tuple[str, str], list[SentMessage]] = {}

    def record(
        self,
        check_id: str,
        endpoint: str,
        msgid: int,
        answer_custid: str,
        items: list[Item],
        pktotals: list[int],
        valid: list[bool],
        exchange: Exchange | None = None,
        sent_at: float | None = None,
    ) -> list[SentMessage]:
        """An accepted send: one SentMessage per mobile, its segment ids indexed.
        sent_at: when the request started (default now)."""
        now = time.time() if sent_at is None else sent_at
        out = []
        with self._lock:
            for position, (item, pktotal, ok) in enumerate(
                zip(items, pktotals, valid, strict=True), start=1
            ):
                message = SentMessage(
                    check_id,
                    endpoint,
                    msgid,
                    position,
                    item.mobile,
                    item.custid or answer_custid,  # F13 no custid: the batch's custid
                    item.exdata,
                    item.exno,
                    item.text,
                    pktotal,
                    ok,
                    now,
                    exchange,
                )
                for k in range(1, MAX_SEGMENTS + 1):
                    self._index(message, k, real=k <= pktotal)
                key = (message.custid, national(message.mobile))
                self._by_custid_mobile.setdefault(key, []).append(message)
                self.messages.append(message)
                out.append(message)
            # A pushed report may arrive before the send's own answer: file it now.
            waiting, self.unmatched = self.unmatched, []
            for report in waiting:
                self._match(report)
        return out

    def _index(self, message: SentMessage, k: int, real: bool) -> None:
        """Index segment k's id. Segments beyond the suite's own count are indexed too
        (a carrier may split otherwise, F9) but never displace a real segment."""
        sid = message.segment_id(k)
        held = self._by_id.get(sid)
        if held and held[2]:
            if real:
                self.collisions.append((sid, held[0], message))
            return
        self._by_id[sid] = (message, k, real)

    def file(self, data: dict[str, Any], source: str, exchange: Exchange | None = None) -> Report:
        """A report arrived: find its segment by msgid, else by custid + mobile + pknum.
        A pushed one arrived now; a pulled one at most since the queue was last clear."""
        now = time.time()
        bound = 0.0 if source == "push" else now - self.clear_at
        report = Report(data, source, now, exchange, bound_s=round(bound, 3))
        with self._lock:
            self.reports.append(report)
            self._match(report)
        return report

    def pulled(
        self, items: list[Any], started: float, asked: int, exchange: Exchange | None = None
    ) -> list[Report]:
        """One get_rpt answer (the poll started at `started`, asking up to `asked`): its
        reports filed; when it held fewer than asked, the queue was clear at its start."""
        with self._lock:
            filed = [self.file(i, "pull", exchange) for i in items if isinstance(i, dict)]
            if len(items) < asked:
                self.clear_at = max(self.clear_at, started)
        return filed

    def _match(self, report: Report) -> None:
        """By msgid only: a report whose send is not recorded yet (a push can overtake
        the send's own answer), or whose msgid names another message or segment (its
        mobile, custid or pknum differ), waits in unmatched for resolve()."""
        found = self._by_id.get(report.msgid) if report.msgid is not None else None
        if found and (
            names_other_message(report.data, found[0].mobile, found[0].custid)
            or report_pknum(report.data) != found[1]  # the id of another segment
        ):
            report.msgid_names = found[0]
            found = None
        if not found:
            self.unmatched.append(report)
            return
        report.matched_by = "msgid"
        report.message, report.pknum = found[0], found[1]
        report.message.reports.setdefault(report.pknum, []).append(report)

    def resolve(self, age: float = SETTLE_SECONDS, recorded: frozenset[str] = frozenset()) -> None:
        """§3.3 custid + mobile (+ pknum) for reports no msgid matched and that waited
        `age` seconds (by then their send is recorded): how a wrong msgid shows. Reports
        carrying one of the `recorded` custids (sends known complete) need not wait."""
        now = time.time()
        with self._lock:
            still = []
            for report in self.unmatched:
                ready = now - report.seen_at >= age or report.data.get("custid") in recorded
                message = self._by_custid(report.data) if ready else None
                if message is None:
                    still.append(report)
                    continue
                report.matched_by = "custid"
                report.message, report.pknum = message, report_pknum(report.data)
                message.reports.setdefault(report.pknum, []).append(report)
            self.unmatched = still

    def file_foreign(self, data: dict[str, Any], source: str) -> None:
        with self._lock:
            self.foreign.append(Report(data, source, time.time()))

    def _by_custid(self, data: dict[str, Any]) -> SentMessage | None:
        """§3.3 custid + mobile (+ pknum): the message it names."""
        custid = str(data.get("custid", "") or "")
        if not custid:
            return None
        found = self._by_custid_mobile.get((custid, national(str(data.get("mobile", "")))))
        if not found:
            return None
        # Several messages share custid + mobile (a batch repeating a number): the report
        # is one of theirs; file it under the first still owed that segment.
        pknum, pktotal = report_pknum(data), report_pktotal(data)
        owed = [m for m in found if pknum <= m.pktotal and not m.reports.get(pknum)]
        same = [m for m in owed if m.pktotal == pktotal]
        return (same or owed or found)[0]

    def faults(self, messages: list[SentMessage]) -> list[Report]:
        """Reports of these messages found only by custid + mobile, or whose msgid names
        one of them for another mobile: §3.3 broken, visible before any timeout."""
        with self._lock:
            found = [r for m in messages for r in m.all_reports() if r.matched_by == "custid"]
            ids = {id(m) for m in messages}
            found += [r for r in self.unmatched if id(r.msgid_names) in ids]
        return found

    def misnamed(self, messages: list[SentMessage]) -> list[Report]:
        """§3.3 reports whose msgid names one of these messages but whose custid + mobile
        name no message of the run: their custid or mobile is wrong. (When custid + mobile
        find another message, the msgid is the wrong one: faults() has those.)"""
        with self._lock:
            ids = {id(m) for m in messages}
            return [r for r in self.unmatched if id(r.msgid_names) in ids]

    def owed(self) -> list[SentMessage]:
        """Messages whose reports have not all come yet."""
        with self._lock:
            return [m for m in self.messages if not m.complete]

    def first_sent_at(self) -> float | None:
        """When the run's first accepted send started (None before any)."""
        with self._lock:
            return self.messages[0].sent_at if self.messages else None

    def of_check(self, check_id: str) -> list[SentMessage]:
        with self._lock:
            return [m for m in self.messages if m.check_id == check_id]


@dataclass(frozen=True)
class Silence:
    """A carrier proven silent: how many messages it was sent, how long it had."""

    messages: int
    waited_s: float

    def note(self) -> str:
        return (
            f"no report arrived for any of the run's {self.messages} messages in "
            f"{self.waited_s:.0f} s; not waiting the full timeout again"
        )


def silent_carrier(ledger: Ledger, window: float, polled_at: float) -> Silence | None:
    """The silent-carrier rule: a poll started a full `window` (report_timeout) or more
    after the run's first accepted send, and not one report (pulled or pushed, matched or
    not) has arrived in the run. Later waits then end after a short grace instead of the
    whole timeout: their verdict (no report) is already known. One report ends the rule
    for good, so a slow but working carrier always gets full waits."""
    first = ledger.first_sent_at()
    if first is None or ledger.reports or polled_at - first < window:
        return None
    return Silence(len(ledger.messages), polled_at - first)
