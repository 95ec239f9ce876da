"""The suite's record of a run on smsapi.ledger (the §3.3 matching rules live there):
what each check sent, with the evidence of its send, and every report that arrived with
its exchange and its arrival's bound.

Every accepted send is recorded per mobile; every report (pulled or pushed) is filed by
msgid at once, or (its msgid wrong) by custid + mobile (+ pknum) once its send can be
recorded (SETTLE_SECONDS, or at once for sends known recorded): a matching fault is then
one fault, seen at once, and the delivery still counts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from smsapi.client import Exchange
from smsapi.ledger import FiledReport, Ledger, MessageAt
from smsapi.msgid import mobile_msgid, segment_msgid

# Seconds a report waits for its send to be recorded before custid matching is tried
# (a push can overtake the send's own answer).
SETTLE_SECONDS = 1.0


@dataclass
class Outgoing:
    """What the suite asks to send to one mobile."""

    mobile: str
    text: str
    custid: str = ""
    exdata: str = ""
    exno: str = ""


@dataclass(eq=False)
class SentMessage:
    """The message to one mobile of an accepted send, with the suite's evidence."""

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
    reports: dict[int, list[Report]] = field(default_factory=dict)  # by pknum
    at: MessageAt[SentMessage] | None = None  # the message in smsapi.ledger

    @property
    def msgid(self) -> int:
        """§3.3 the per-mobile msgid: base + position - 1."""
        return mobile_msgid(self.base_msgid, self.position)

    def segment_id(self, pknum: int) -> int:
        return segment_msgid(self.base_msgid, self.position, pknum)

    @property
    def pktotal(self) -> int:
        """pktotal as the carrier reports it, or the suite's count before any report."""
        return self.at.pktotal if self.at is not None else self.expected_pktotal

    def unreported(self) -> list[int]:
        """The segments (pknum 1..pktotal) no report has come for yet."""
        return self.at.unreported() if self.at is not None else []

    @property
    def complete(self) -> bool:
        return self.at is None or self.at.complete

    def all_reports(self) -> list[Report]:
        return [r for k in sorted(self.reports) for r in self.reports[k]]


Report = FiledReport[SentMessage]  # one report as it arrived, and where it was filed


def reports_of(messages: list[SentMessage]) -> list[Report]:
    """Every report filed under these messages."""
    return [r for m in messages for r in m.all_reports()]


def _file_under(report: Report) -> None:
    """smsapi.ledger matched a report: listed under its message's segment."""
    message = report.message
    if message is not None:
        message.reports.setdefault(report.pknum, []).append(report)


class RunLedger:
    """One run's sends and reports, matched by smsapi.ledger."""

    def __init__(self) -> None:
        self.matcher: Ledger[SentMessage] = Ledger(on_match=_file_under)
        self.messages: list[SentMessage] = []
        self.reports: list[Report] = []
        self.foreign: list[Report] = []  # drained before the run started
        self._lock = self.matcher.lock
        self.clear_at = time.time()  # start of the last poll that left nothing behind

    def record(
        self,
        check_id: str,
        endpoint: str,
        msgid: int,
        answer_custid: str,
        items: list[Outgoing],
        pktotals: list[int],
        valid: list[bool],
        exchange: Exchange | None = None,
        sent_at: float | None = None,
    ) -> list[SentMessage]:
        """An accepted send: one SentMessage per mobile. sent_at: when the request
        started (default now)."""
        now = time.time() if sent_at is None else sent_at
        custids = [item.custid or answer_custid for item in items]  # F13: the batch's
        out = [
            SentMessage(
                check_id,
                endpoint,
                msgid,
                position,
                item.mobile,
                custid,
                item.exdata,
                item.exno,
                item.text,
                pktotal,
                ok,
                now,
                exchange,
            )
            for position, (item, custid, pktotal, ok) in enumerate(
                zip(items, custids, pktotals, valid, strict=True), start=1
            )
        ]
        with self._lock:
            mobiles = [i.mobile for i in items]
            send = self.matcher.sent(msgid, mobiles, custids, pktotals, now, out)
            for message in out:
                message.at = send.message(message.position)
            self.messages += out
        return out

    @property
    def unmatched(self) -> list[Report]:
        return self.matcher.unmatched

    @property
    def collisions(self) -> list[tuple[int, SentMessage, SentMessage]]:
        """§3.3 ids standing for segments of two messages: (id, first, second)."""
        found = []
        for clash in self.matcher.collisions:
            first, second = clash.first.payload, clash.second.payload
            if first is not None and second is not None:
                found.append((clash.segment_id, first, second))
        return found

    def file(self, data: dict[str, Any], source: str, exchange: Exchange | None = None) -> Report:
        """A report arrived. A pushed one arrived now; a pulled one at most since the
        queue was last clear."""
        now = time.time()
        bound = 0.0 if source == "push" else now - self.clear_at
        with self._lock:
            report = self.matcher.file(data, source, now, round(bound, 3), exchange)
            self.reports.append(report)
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

    def resolve(self, age: float = SETTLE_SECONDS, recorded: frozenset[str] = frozenset()) -> None:
        """§3.3 custid + mobile (+ pknum) for reports no msgid matched and that waited
        `age` seconds, or carry one of the `recorded` custids (sends known complete)."""
        self.matcher.resolve(time.time(), age, recorded)

    def file_foreign(self, data: dict[str, Any], source: str) -> None:
        with self._lock:
            self.foreign.append(FiledReport(data, source, time.time()))

    def faults(self, messages: list[SentMessage]) -> list[Report]:
        """Reports of these messages found only by custid + mobile, or whose msgid names
        one of them for another mobile or segment: §3.3 broken, visible before any timeout."""
        with self._lock:
            found = [r for m in messages for r in m.all_reports() if r.matched_by == "custid"]
            return found + self.misnamed(messages)

    def misnamed(self, messages: list[SentMessage]) -> list[Report]:
        """§3.3 reports whose msgid names one of these messages but whose custid + mobile
        name no message of the run: their custid or mobile is wrong. (When custid + mobile
        find another message, the msgid is the wrong one: faults() has those.)"""
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


def silent_carrier(ledger: RunLedger, window: float, polled_at: float) -> Silence | None:
    """The silent-carrier rule: a poll started a full `window` (report_timeout) or more
    after the run's first accepted send, and not one report (pulled or pushed, matched or
    not) has arrived in the run. Later waits then end after a short grace instead of the
    whole timeout: their verdict (no report) is already known. One report ends the rule
    for good, so a slow but working carrier always gets full waits."""
    first = ledger.first_sent_at()
    if first is None or ledger.reports or polled_at - first < window:
        return None
    return Silence(len(ledger.messages), polled_at - first)
