"""The suite's model of the carrier: what was sent, which reports are owed, which came.

Every accepted send is recorded per mobile; every report that arrives (pulled or
pushed) is filed against the segment it names by msgid (§3.3), or, when no sent
segment carries that id, by custid + mobile (+ pknum). The matching checks read it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from smsapi.client import Exchange
from smsapi.matching import report_msgid, report_pknum, report_pktotal
from smsapi.mobile import classify
from smsapi.msgid import mobile_msgid, segment_msgid
from smsapi.segments import LONG_SEGMENT_CHARS, MAX_CONTENT_CHARS, segments_for_length

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

    @property
    def msgid(self) -> int | None:
        return report_msgid(self.data)


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
    sent_at: float
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
    ) -> list[SentMessage]:
        """An accepted send: one SentMessage per mobile, its segment ids indexed."""
        now = time.time()
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
        """A report arrived: find its segment by msgid, else by custid + mobile + pknum."""
        report = Report(data, source, time.time(), exchange)
        with self._lock:
            self.reports.append(report)
            self._match(report)
        return report

    def _match(self, report: Report) -> None:
        """By msgid only: a report whose send is not recorded yet (a push can overtake
        the send's own answer) waits in unmatched for resolve()."""
        found = self._by_id.get(report.msgid) if report.msgid is not None else None
        if not found:
            self.unmatched.append(report)
            return
        report.matched_by = "msgid"
        report.message, report.pknum = found[0], found[1]
        report.message.reports.setdefault(report.pknum, []).append(report)

    def resolve(self, age: float = SETTLE_SECONDS) -> None:
        """§3.3 custid + mobile (+ pknum) for reports no msgid matched and that waited
        `age` seconds (by then their send is recorded): how a wrong msgid shows."""
        now = time.time()
        with self._lock:
            still = []
            for report in self.unmatched:
                message = self._by_custid(report.data) if now - report.seen_at >= age else None
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
        """§3.3 custid + mobile (+ pknum): the one message it names, if exactly one."""
        custid = str(data.get("custid", "") or "")
        if not custid:
            return None
        national = classify(str(data.get("mobile", ""))).national
        found = [
            m
            for m in self.messages
            if m.custid == custid and classify(m.mobile).national == national
        ]
        return found[0] if len(found) == 1 else None

    def owed(self) -> list[SentMessage]:
        """Messages whose reports have not all come yet."""
        with self._lock:
            return [m for m in self.messages if not m.complete]

    def of_check(self, check_id: str) -> list[SentMessage]:
        with self._lock:
            return [m for m in self.messages if m.check_id == check_id]
