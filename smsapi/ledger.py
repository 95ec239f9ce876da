"""§3.3 the one report-matching ledger: what was sent, which reports came, what is owed.

Shared by the conformance suite, the load tests and the benchmarks; each chooses what it
keeps and counts (evidence per report, histograms, or counters only), none matches twice.

The rules, in order, for a report:
1. msgid (§3.3): its msgid minus (pknum - 1)·2^34 is a sent message's per-mobile msgid
   (send msgid + position - 1): matched, unless the report names another mobile or
   custid (smsapi.matching.names_other_message): then its msgid names another message.
   A msgid that is another segment's id (its pknum says otherwise) names that segment.
   Either is a matching fault (`named`), and custid + mobile decides.
2. custid + mobile (+ pknum) (§3.3): for a report the msgid did not match, once its send
   can be recorded (a push may overtake the send's own answer: resolve() after a settling
   time, or at once for callers whose sends are always recorded first). Of several
   messages sharing custid + mobile (a batch repeating a number) the one still owed that
   segment, of the same pktotal first.
3. Neither: unmatched (a phantom, or a report whose send is not recorded yet: it is
   matched again when a send with its msgid is recorded).

A matched report tells whether its segment was reported before (a duplicate; `repeated`
when the same way, pull or push, again) and which of its fields disagree with the send
(`findings`: pktotal, pknum beyond pktotal, custid, the mobile in another §3.2 form).
The carrier's pktotal (its first report's) is the message's segment count from then on
(F9: a carrier may split otherwise). Delivery timing is the client's clock, through
smsapi.timing, computed when asked.

Memory: per accepted send one AcceptedSend holding per-mobile lists (mobiles, custids,
pktotals and two bit masks of the segments reported); per outstanding message one dict
entry by msgid (and one by custid + mobile when that index is kept). With
forget_complete, a fully reported message leaves both indexes (a later report of it is
then unmatched): a year of 15 M messages stays flat.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

from .matching import (
    custid_key,
    names_other_message,
    owner_msgid,
    report_delivered,
    report_msgid,
    report_pknum,
    report_pktotal,
)
from .msgid import SEGMENT_STRIDE, mobile_msgid, segment_msgid, wrap_int64
from .segments import LONG_SEGMENT_CHARS, MAX_CONTENT_CHARS, segments_for_length
from .timing import CLOCK_SKEW_S, DeliveryTiming, clock_findings, delivery_timing

P = TypeVar("P")

# The most segments a 1000-character text can take (+1): how far a msgid naming another
# segment of a message is looked for.
MAX_SEGMENTS = segments_for_length(MAX_CONTENT_CHARS) + 1
assert MAX_SEGMENTS * LONG_SEGMENT_CHARS > MAX_CONTENT_CHARS
PUSH = "push"  # the source of a pushed report; any other source is a pull

# Findings: a matched report's field that disagrees with its send.
PKTOTAL = "pktotal"  # another pktotal than the message's (its first report's)
PKNUM = "pknum"  # pknum beyond the message's pktotal
CUSTID = "custid"  # not the message's custid (missing; another one names another message)
MOBILE_FORM = "mobile_form"  # the message's mobile in another §3.2 form (M5)


class AcceptedSend(Generic[P]):
    """One accepted send request: per mobile (1-based position) its number, custid,
    pktotal, the segments reported (bit k-1 for segment k, pulled and pushed apart), and
    what the caller attached (payloads)."""

    __slots__ = (
        "base",
        "sent_at",
        "mobiles",
        "custids",
        "pktotals",
        "pulled",
        "pushed",
        "payloads",
    )

    def __init__(
        self,
        base: int,
        sent_at: float,
        mobiles: Sequence[str],
        custids: Sequence[str],
        pktotals: Sequence[int],
        payloads: Sequence[P] | None = None,
    ) -> None:
        n = len(mobiles)
        if len(custids) != n or len(pktotals) != n or (payloads is not None and len(payloads) != n):
            raise ValueError("one custid, pktotal (and payload) per mobile")
        self.base = base  # the msgid of the send answer
        self.sent_at = sent_at  # when the request started (the client's clock)
        self.mobiles = list(mobiles)
        self.custids = list(custids)
        self.pktotals = [max(int(t), 1) for t in pktotals]
        self.pulled = [0] * n
        self.pushed = [0] * n
        self.payloads = list(payloads) if payloads is not None else None

    def __len__(self) -> int:
        return len(self.mobiles)

    def message(self, position: int) -> MessageAt[P]:
        return MessageAt(self, position)


class MessageAt(NamedTuple, Generic[P]):
    """One message: the mobile at `position` (1-based) of an accepted send."""

    send: AcceptedSend[P]
    position: int

    @property
    def msgid(self) -> int:
        """§3.3 the per-mobile msgid: send msgid + position - 1."""
        return mobile_msgid(self.send.base, self.position)

    def segment_id(self, pknum: int) -> int:
        return segment_msgid(self.send.base, self.position, pknum)

    @property
    def mobile(self) -> str:
        return self.send.mobiles[self.position - 1]

    @property
    def custid(self) -> str:
        return self.send.custids[self.position - 1]

    @property
    def pktotal(self) -> int:
        """The suite's count until a report came, then the carrier's (F9)."""
        return self.send.pktotals[self.position - 1]

    @property
    def sent_at(self) -> float:
        return self.send.sent_at

    @property
    def payload(self) -> P | None:
        payloads = self.send.payloads
        return payloads[self.position - 1] if payloads is not None else None

    @property
    def seen(self) -> int:
        """Bit k-1 set: segment k reported, either way."""
        i = self.position - 1
        return self.send.pulled[i] | self.send.pushed[i]

    def unreported(self) -> list[int]:
        """The segments (pknum 1..pktotal) no report has come for yet."""
        seen = self.seen
        return [k for k in range(1, self.pktotal + 1) if not seen >> (k - 1) & 1]

    @property
    def complete(self) -> bool:
        full = (1 << self.pktotal) - 1
        return self.seen & full == full


@dataclass(slots=True, eq=False)
class FiledReport(Generic[P]):
    """One report as it arrived, and what the ledger made of it."""

    data: dict[str, Any]
    source: str  # pull / push (or the caller's channel name: only "push" is told apart)
    seen_at: float  # its arrival by the client's clock
    bound_s: float = 0.0  # how much earlier it may have been available (pull; smsapi.timing)
    exchange: Any = None  # what carried it, for the caller's evidence
    matched_by: str = ""  # msgid / custid / "" (unmatched)
    send: AcceptedSend[P] | None = None  # the send it was filed under (see `at`)
    position: int = 0
    pknum: int = 0  # the segment it was filed under
    named: MessageAt[P] | None = None  # the other message / segment its msgid names
    named_pknum: int = 0
    duplicate: bool = False  # its segment was reported before (either way)
    repeated: bool = False  # ... the same way (pull after pull, push after push)
    completes: bool = False  # it made its message fully reported
    recount: int = 0  # segments its pktotal added to its message's (F9; negative: fewer)
    findings: tuple[str, ...] = ()

    @property
    def at(self) -> MessageAt[P] | None:
        """The message it was filed under (made when asked: most callers never do)."""
        return MessageAt(self.send, self.position) if self.send is not None else None

    @property
    def msgid(self) -> int | None:
        return report_msgid(self.data)

    @property
    def message(self) -> P | None:
        """The caller's payload of the message it was filed under."""
        payloads = self.send.payloads if self.send is not None else None
        return payloads[self.position - 1] if payloads is not None else None

    @property
    def msgid_names(self) -> P | None:
        """The caller's payload of the other message its msgid names (a matching fault)."""
        return self.named.payload if self.named is not None else None

    @property
    def delivered(self) -> bool:
        return report_delivered(self.data)

    def timing(self) -> DeliveryTiming | None:
        """Its segment's delivery by the client's clock (None before it is matched)."""
        if self.send is None:
            return None
        return delivery_timing(self.data, self.send.sent_at, self.seen_at, self.bound_s)

    def clock_findings(self, skew_s: float = CLOCK_SKEW_S) -> list[str]:
        """§2.5.6 stime / rtime against the send and the arrival (smsapi.timing)."""
        if self.send is None:
            return []
        return clock_findings(self.data, self.send.sent_at, self.seen_at, skew_s)


@dataclass(frozen=True)
class Collision(Generic[P]):
    """§3.3 one id standing for segments of two sent messages."""

    segment_id: int
    first: MessageAt[P]  # keeps the id: reports go to it
    second: MessageAt[P]


Listener = Callable[[FiledReport[P]], None]


class Ledger(Generic[P]):
    """Sent messages and the reports filed against them (module docstring: the rules).

    custid_index: keep the custid + mobile index (rule 2); off, rule 2 is not applied.
    custid_at_once: apply rule 2 as soon as a report arrives (callers whose sends are
        recorded before their reports can arrive); else only in resolve().
    forget_complete: drop fully reported messages from the indexes (flat memory).
    max_unmatched: keep at most this many unmatched reports (None: all); the rest are
        counted in `dropped`.
    on_match: called with every report when it is matched (at once or later).
    """

    def __init__(
        self,
        *,
        custid_index: bool = True,
        custid_at_once: bool = False,
        forget_complete: bool = False,
        max_unmatched: int | None = None,
        on_match: Listener[P] | None = None,
    ) -> None:
        self.custid_index = custid_index
        self.custid_at_once = custid_at_once
        self.forget_complete = forget_complete
        self.max_unmatched = max_unmatched
        self.on_match = on_match
        self.lock = threading.RLock()
        self._by_id: dict[int, AcceptedSend[P]] = {}  # per-mobile msgid → its send
        self._by_custid: dict[tuple[str, str], list[MessageAt[P]]] = {}
        self._unmatched: dict[int, FiledReport[P]] = {}  # id(report) → report, in order
        self._waiting: dict[int, list[FiledReport[P]]] = {}  # msgid they name → reports
        self._max_pktotal = 1
        self.collisions: list[Collision[P]] = []
        # Counters
        self.sends = 0
        self.messages = 0
        self.complete_messages = 0
        self.expected_segments = 0  # Σ pktotal (the carrier's once reported)
        self.reported_segments = 0  # segments 1..pktotal with a report
        self.matched: Counter[str] = Counter()  # reports by how they matched
        self.duplicates = 0
        self.findings: Counter[str] = Counter()
        self.dropped = 0  # unmatched reports not kept (max_unmatched)

    # ------------------------------------------------------------------ sends

    def sent(
        self,
        msgid: int,
        mobiles: Sequence[str],
        custids: Sequence[str],
        pktotals: Sequence[int],
        sent_at: float,
        payloads: Sequence[P] | None = None,
    ) -> AcceptedSend[P]:
        """An accepted send (its answer's msgid; one custid and pktotal per mobile in
        request order; when the request started): its messages indexed, and the reports
        that came before it matched."""
        send = AcceptedSend(msgid, sent_at, mobiles, custids, pktotals, payloads)
        with self.lock:
            self.sends += 1
            self.messages += len(send)
            for position in range(1, len(send) + 1):
                self._index(send, position)
            if self._waiting:
                for position in range(1, len(send) + 1):
                    for report in self._waiting.pop(mobile_msgid(msgid, position), ()):
                        self._refile(report)
        return send

    def _index(self, send: AcceptedSend[P], position: int) -> None:
        """Index one message by its msgid (first holder keeps an id: a collision is
        noted) and by custid + mobile."""
        key = mobile_msgid(send.base, position)
        pktotal = send.pktotals[position - 1]
        self.expected_segments += pktotal
        clash = self._collision(key, pktotal)
        if clash is not None:
            self.collisions.append(Collision(clash[0], clash[1], MessageAt(send, position)))
        if key not in self._by_id:
            self._by_id[key] = send
        self._max_pktotal = max(self._max_pktotal, pktotal)
        if self.custid_index:
            index = custid_key(send.custids[position - 1], send.mobiles[position - 1])
            self._by_custid.setdefault(index, []).append(MessageAt(send, position))

    def _collision(self, key: int, pktotal: int) -> tuple[int, MessageAt[P]] | None:
        """§3.3 a segment of this new message (msgid `key`) whose id is already a segment
        of a sent one: the same msgid, or ids 2^34 apart meeting."""
        held = self._by_id.get(key)
        if held is not None:
            return key, self._at(held, key)
        for d in range(1, pktotal):  # our segment d+1 is another message's first
            sid = wrap_int64(key + d * SEGMENT_STRIDE)
            held = self._by_id.get(sid)
            if held is not None:
                return sid, self._at(held, sid)
        for d in range(1, self._max_pktotal):  # our first is another's segment d+1
            other = wrap_int64(key - d * SEGMENT_STRIDE)
            held = self._by_id.get(other)
            if held is not None and self._at(held, other).pktotal > d:
                return key, self._at(held, other)
        return None

    @staticmethod
    def _at(send: AcceptedSend[P], key: int) -> MessageAt[P]:
        return MessageAt(send, wrap_int64(key - send.base) + 1)

    # ------------------------------------------------------------------ reports

    def file(
        self,
        data: dict[str, Any],
        source: str,
        seen_at: float,
        bound_s: float = 0.0,
        exchange: Any = None,
    ) -> FiledReport[P]:
        """A report arrived: matched by msgid (and custid + mobile when custid_at_once),
        else kept unmatched."""
        report: FiledReport[P] = FiledReport(data, source, seen_at, bound_s, exchange)
        with self.lock:
            if not self._by_msgid(report) and not (self.custid_at_once and self._by_cm(report)):
                self._keep(report)
        return report

    def resolve(
        self, now: float, age: float = 0.0, recorded: frozenset[str] = frozenset()
    ) -> list[FiledReport[P]]:
        """Rule 1 again for every unmatched report (a send recorded since may be the one
        its msgid names, in another segment), then rule 2 for those that waited `age`
        seconds (by then their send is recorded) or carry one of the `recorded` custids
        (sends known recorded). Returns those it matched."""
        found = []
        with self.lock:
            for report in list(self._unmatched.values()):
                ready = now - report.seen_at >= age or report.data.get("custid") in recorded
                if self._by_msgid(report) or (ready and self._by_cm(report)):
                    self._unkeep(report)
                    found.append(report)
        return found

    def _refile(self, report: FiledReport[P]) -> None:
        """An unmatched report's send was recorded: rule 1 (and 2) again."""
        if self._by_msgid(report) or (self.custid_at_once and self._by_cm(report)):
            self._unkeep(report)

    def _by_msgid(self, report: FiledReport[P]) -> bool:
        """Rule 1. Sets `named` when its msgid names another message or segment."""
        data = report.data
        msgid = report_msgid(data)
        if msgid is None:
            return False
        pknum = report_pknum(data)
        key = owner_msgid(msgid, pknum)
        send = self._by_id.get(key)
        if send is not None:
            i = wrap_int64(key - send.base)
            if not names_other_message(data, send.mobiles[i], send.custids[i]):
                report.named = None  # what an earlier try found, before this send came
                self._match(report, send, i, pknum, "msgid", key)
                return True
            report.named, report.named_pknum = MessageAt(send, i + 1), pknum
            return False
        for k in range(1, MAX_SEGMENTS + 1):  # another segment's id: its pknum is wrong
            other = owner_msgid(msgid, k)
            send = self._by_id.get(other) if k != pknum else None
            if send is not None:
                report.named, report.named_pknum = self._at(send, other), k
                break
        return False

    def _by_cm(self, report: FiledReport[P]) -> bool:
        """Rule 2: custid + mobile (+ pknum)."""
        data = report.data
        custid = str(data.get("custid", "") or "")
        if not custid or not self.custid_index:
            return False
        found = self._by_custid.get(custid_key(custid, str(data.get("mobile", ""))))
        if not found:
            return False
        pknum, pktotal = report_pknum(data), report_pktotal(data)
        owed = [m for m in found if pknum <= m.pktotal and not m.seen >> (pknum - 1) & 1]
        same = [m for m in owed if m.pktotal == pktotal]
        at = (same or owed or found)[0]
        self._match(report, at.send, at.position - 1, pknum, "custid", at.msgid)
        return True

    def _match(
        self, report: FiledReport[P], send: AcceptedSend[P], i: int, pknum: int, how: str, key: int
    ) -> None:
        """File a report under segment `pknum` of the message at position i + 1 of a send
        (msgid `key`)."""
        data = report.data
        bit = 1 << (pknum - 1)
        pulled, pushed = send.pulled[i], send.pushed[i]
        before = pulled | pushed
        if report.source == PUSH:
            report.repeated = bool(pushed & bit)
            send.pushed[i] = pushed | bit
        else:
            report.repeated = bool(pulled & bit)
            send.pulled[i] = pulled | bit
        report.duplicate = duplicate = bool(before & bit)
        pktotal, expected = report_pktotal(data), send.pktotals[i]
        custid, mobile = data.get("custid"), data.get("mobile")
        if (
            pktotal != expected
            or pknum > expected
            or (custid != send.custids[i] and str(custid or "") != send.custids[i])
            or (mobile and mobile != send.mobiles[i])
        ):
            self._findings(report, send, i, pknum, pktotal, before)
        if pknum <= send.pktotals[i] and not duplicate:
            self.reported_segments += 1
        report.matched_by, report.send, report.position, report.pknum = how, send, i + 1, pknum
        self.matched[how] += 1
        self.duplicates += duplicate
        full = (1 << send.pktotals[i]) - 1
        if before & full != full and (before | bit) & full == full:
            report.completes = True
            self.complete_messages += 1
            if self.forget_complete:
                self._forget(send, i, key)
        if self.on_match is not None:
            self.on_match(report)

    def _findings(
        self,
        report: FiledReport[P],
        send: AcceptedSend[P],
        i: int,
        pknum: int,
        pktotal: int,
        before: int,
    ) -> None:
        """The report's fields that disagree with its send (the carrier's first pktotal
        becomes the message's: F9, a carrier may split otherwise)."""
        data, findings = report.data, []
        if pktotal != send.pktotals[i]:
            findings.append(PKTOTAL)
            if not before:
                report.recount = pktotal - send.pktotals[i]
                self.expected_segments += report.recount
                send.pktotals[i] = pktotal
        if pknum > send.pktotals[i]:
            findings.append(PKNUM)
        if str(data.get("custid", "") or "") != send.custids[i]:
            findings.append(CUSTID)
        mobile = str(data.get("mobile", "") or "")
        if mobile and mobile != send.mobiles[i]:
            findings.append(MOBILE_FORM)  # another number would not have matched
        report.findings = tuple(findings)
        self.findings.update(findings)

    def _forget(self, send: AcceptedSend[P], i: int, key: int) -> None:
        """A fully reported message leaves the indexes (forget_complete)."""
        held = self._by_id.pop(key, None)
        if held is not send and held is not None:  # a collision's first holder stays
            self._by_id[key] = held
        if self.custid_index:
            index = custid_key(send.custids[i], send.mobiles[i])
            at = MessageAt(send, i + 1)
            left = [m for m in self._by_custid.get(index, []) if m != at]
            if left:
                self._by_custid[index] = left
            else:
                self._by_custid.pop(index, None)

    def _keep(self, report: FiledReport[P]) -> None:
        if self.max_unmatched is not None and len(self._unmatched) >= self.max_unmatched:
            self.dropped += 1
            return
        self._unmatched[id(report)] = report
        msgid = report_msgid(report.data)
        if msgid is not None:  # matched again when a send of that msgid is recorded
            key = owner_msgid(msgid, report_pknum(report.data))
            self._waiting.setdefault(key, []).append(report)

    def _unkeep(self, report: FiledReport[P]) -> None:
        self._unmatched.pop(id(report), None)
        msgid = report_msgid(report.data)
        if msgid is not None:
            key = owner_msgid(msgid, report_pknum(report.data))
            waiting = self._waiting.get(key)
            if waiting is not None:
                waiting[:] = [r for r in waiting if r is not report]
                if not waiting:
                    del self._waiting[key]

    # ------------------------------------------------------------------ state

    @property
    def unmatched(self) -> list[FiledReport[P]]:
        """Reports no rule matched (yet), in arrival order."""
        with self.lock:
            return list(self._unmatched.values())

    @property
    def held(self) -> int:
        """Messages indexed by msgid: what the ledger's memory grows with."""
        return len(self._by_id)

    @property
    def pending(self) -> int:
        """Segments still owed their first report."""
        return self.expected_segments - self.reported_segments

    def outstanding(self) -> Iterator[MessageAt[P]]:
        """Messages still owed a report (indexed ones: with forget_complete, every one
        not fully reported; without, in msgid order of first holders)."""
        with self.lock:
            held = list(self._by_id.items())
        for key, send in held:
            at = self._at(send, key)
            if not at.complete:
                yield at
