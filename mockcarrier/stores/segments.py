"""A message's segment reports, derived when they are handed out.

A store keeps one row per message: its fields, its fate and a `Schedule`, plus how many
of its segments were handed out. Segment k's report is a pure function of that row, so a
1000-mobile batch writes 1000 rows, not one per segment. Both stores use these functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from smsapi.fields import TIME_FORMAT
from smsapi.msgid import segment_msgid

from ..delivery import SEGMENT_GAP, Fate, FateValues, drawn_values
from .interface import Acceptance, Drawn, Message, Report

# What messages() shows of each segment's report (both stores' admin views).
SEGMENT_COLUMNS = ("msgid", "pknum", "status", "errcode", "rtime", "due_at", "state")

# The carrier's clock is naive (China time with the control plane's offset); it is kept
# as seconds since the naive epoch, so arithmetic needs no timezone.
_EPOCH = datetime(1970, 1, 1)


def carrier_seconds(moment: datetime) -> float:
    return (moment.replace(tzinfo=None) - _EPOCH).total_seconds()


def carrier_text(seconds: float) -> str:
    """§2.5.6 stime / rtime: YYYY-MM-DD HH:MM:SS on the carrier's clock (to the
    microsecond first, as a datetime holds it, then to the second)."""
    return _second_text(math.floor(round(seconds, 6)))


@lru_cache(maxsize=4096)
def _second_text(second: int) -> str:
    """Reports handed out together mostly share their second: formatted once."""
    return (_EPOCH + timedelta(seconds=second)).strftime(TIME_FORMAT)


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a message's segments fall due (real time) and the rtime each reports."""

    due_at: float  # real time segment 1 falls due
    due_gap: float  # real seconds between segments
    rtime: float  # carrier seconds of segment 1's rtime
    rtime_gap: float  # carrier seconds between segments

    def due(self, pknum: int) -> float:
        return self.due_at + (pknum - 1) * self.due_gap

    def rtime_of(self, pknum: int) -> str:
        return carrier_text(self.rtime + (pknum - 1) * self.rtime_gap)


@dataclass(frozen=True, slots=True)
class Timing:
    """What the schedules of one acceptance's messages share: computed once a send."""

    start: float  # real time of acceptance, plus the defect layer's delay
    scale: float  # time_scale: carrier seconds per real second
    stime: float  # carrier seconds of acceptance (§2.5.6 stime)
    stime_text: str

    @classmethod
    def of(cls, acceptance: Acceptance) -> Timing:
        stime = carrier_seconds(acceptance.stime)
        return cls(
            acceptance.accepted_at + acceptance.delay,
            acceptance.time_scale,
            stime,
            carrier_text(stime),  # the second's text, formatted once a second
        )

    @property
    def gaps(self) -> tuple[float, float]:
        """A Schedule's due_gap and rtime_gap: what every message of the send shares."""
        return (SEGMENT_GAP / self.scale, SEGMENT_GAP)

    def schedule(self, fate: Fate) -> Schedule | None:
        """The Schedule of a message of this fate; None: never reported."""
        moments = self.moments(fate.latency)
        return None if moments is None else Schedule(*moments)

    def moments(self, latency: float | None) -> tuple[float, float, float, float] | None:
        """Segment k reports at latency + (k - 1) * SEGMENT_GAP carrier seconds after
        stime, due that long / time_scale after acceptance (plus the delay): a
        Schedule's fields (due_at, due_gap, rtime, rtime_gap); None: never reported."""
        if latency is None:
            return None
        due_gap, rtime_gap = self.gaps
        return (self.start + latency / self.scale, due_gap, self.stime + latency, rtime_gap)


def rescheduled(due_at: float, rtime: str) -> Schedule:
    """The admin's reschedule: every segment not handed out yet due at due_at, rtime."""
    return Schedule(due_at, 0.0, carrier_seconds(datetime.strptime(rtime, TIME_FORMAT)), 0.0)


@dataclass(slots=True)
class StoredMessage:
    """A message as a store keeps it: enough to derive each of its reports."""

    msgid: int  # §3.3 the per-mobile id (segment 1)
    custid: str  # resolved: the message's, the request's or the generated one
    pktotal: int
    mobile: str
    spno: str
    exno: str
    exdata: str
    stime: str
    status: int
    errcode: str
    errdesc: str
    schedule: Schedule | None  # None: never reported
    reported: int = 0  # segments handed out (1..reported)
    pushed: int = 0  # bit k - 1 set: segment k went out by a push (else by a pull)

    def report(self, pknum: int) -> Report:
        """Segment pknum's report; §3.3 its msgid = msgid + (pknum - 1) * 2^34."""
        assert self.schedule is not None
        return Report(
            segment_msgid(self.msgid, 1, pknum), self.custid, pknum, self.pktotal,
            self.mobile, self.spno, self.exno, self.stime, self.schedule.rtime_of(pknum),
            self.status, self.errcode, self.errdesc, self.exdata,
        )  # fmt: skip

    def due_segments(self, now: float, limit: int) -> list[tuple[float, Report]]:
        """The next segments due by now, at most limit, in pknum order: each one's due
        time (a pull orders by it) and report."""
        out: list[tuple[float, Report]] = []
        schedule = self.schedule
        if schedule is None:
            return out
        pknum = self.reported + 1
        while pknum <= self.pktotal and len(out) < limit:
            due = schedule.due(pknum)
            if due > now:
                break
            out.append((due, self.report(pknum)))
            pknum += 1
        return out

    def segment_state(self, pknum: int) -> str:
        """ "pending" (not handed out yet), "taken" (pulled) or "pushed"."""
        if pknum > self.reported:
            return "pending"
        return "pushed" if self.pushed >> (pknum - 1) & 1 else "taken"

    def hand_out(self, count: int, pushed: bool) -> None:
        """The next count segments went out, by a push or a pull."""
        if pushed:
            self.pushed |= ((1 << count) - 1) << self.reported
        self.reported += count

    def segment_views(self) -> list[dict[str, Any]]:
        """Every segment's report as messages() shows it (SEGMENT_COLUMNS); none when the
        message is never reported."""
        if self.schedule is None:
            return []
        out = []
        for pknum in range(1, self.pktotal + 1):
            out.append(
                {
                    "msgid": segment_msgid(self.msgid, 1, pknum),
                    "pknum": pknum,
                    "status": self.status,
                    "errcode": self.errcode,
                    "rtime": self.schedule.rtime_of(pknum),
                    "due_at": self.schedule.due(pknum),
                    "state": self.segment_state(pknum),
                }
            )
        return out

    def report_views(self, state: str) -> list[dict[str, Any]]:
        """The segments in state as reports() lists them: the §2.5.6 fields, the
        message's msgid, due_at and state."""
        if self.schedule is None:
            return []
        return [
            {
                **self.report(pknum).fields(),
                "message_msgid": self.msgid,
                "due_at": self.schedule.due(pknum),
                "state": state,
            }
            for pknum in range(1, self.pktotal + 1)
            if self.segment_state(pknum) == state
        ]

    @property
    def next_due(self) -> float | None:
        """When its next segment falls due; None when all are handed out or never."""
        if self.schedule is None or self.reported >= self.pktotal:
            return None
        return self.schedule.due(self.reported + 1)


def due_in_order(
    messages: list[StoredMessage], now: float, limit: int
) -> list[tuple[StoredMessage, Report]]:
    """§2.5 the reports of messages due by now, oldest due first (ties in msgid order), at
    most limit. Given the first `limit` messages by (next_due, msgid), these are the first
    reports of all: each of those messages has one due no later than any report after."""
    candidates = [
        (due, report.msgid, message, report)
        for message in messages
        for due, report in message.due_segments(now, limit)
    ]
    candidates.sort(key=_due_then_msgid)
    return [(message, report) for _, _, message, report in candidates[:limit]]


def _due_then_msgid(candidate: tuple[float, int, StoredMessage, Report]) -> tuple[float, int]:
    return candidate[0], candidate[1]


def views_due_first(views: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """Report views (StoredMessage.report_views) as reports() lists them: by due time,
    then msgid; at most limit."""
    return sorted(views, key=lambda v: (v["due_at"], v["msgid"]))[:limit]


def fate_values(acceptance: Acceptance, message: Message, msgid: int) -> FateValues:
    """The message's fate once numbered, fixed or drawn from (seed, msgid), as a Fate's
    fields (latency, status, errcode, errdesc): a batch numbers a thousand messages."""
    fate = message.fate
    if isinstance(fate, Drawn):
        return drawn_values(acceptance.seed, msgid, fate.profile, message.operator)
    return (fate.latency, fate.status, fate.errcode, fate.errdesc)


__all__ = [
    "SEGMENT_COLUMNS",
    "Schedule",
    "StoredMessage",
    "Timing",
    "carrier_seconds",
    "due_in_order",
    "fate_values",
    "views_due_first",
    "carrier_text",
    "rescheduled",
]
