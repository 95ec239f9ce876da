"""The data model in Redis, and how its values become records.

Keys (under the prefix P):
    P:counter            the msgid counter (§3.3 ids: mockcarrier/ids.py)
    P:q:<base>           a send (string): request JSON (SendRecord)
    P:o:<base>           how many of a send's messages still have reports to hand out
                         (only for a send of two or more such messages)
    P:m:<counter>        a message (hash, small enough for Redis' listpack encoding): q its
                         send's base, d message JSON, and only when needed: n pktotal, g
                         due gap, t segment 1's due time (pktotal > 1), r segments handed
                         out, p which of them by a push (bit k - 1), c claimed until (a push
                         in flight), x a reschedule (due_at, rtime), f a new fate (status,
                         errcode, errdesc)
    P:due:<userid>       messages with reports left (sorted set: next segment's due time)
    P:ls:<userid>        the account's sends, newest first (list of -base)
    P:im:<userid>:<b>    mobile index bucket b (list of counters, newest first)
    P:ic:<userid>:<b>    custid index bucket b (counters, or -base: the send's custid)
A message handed out in full (or never reported) expires after the retention, and so
does a send once none of its messages has reports left. Index entries whose item expired
are dropped from the tail as new entries arrive (two per entry pushed), so a list holds
what lives and what is newer than its oldest living entry. The search indexes also
expire the retention after their newest entry (a message pending longer than that is
found by msgid and in the listing, not by a search); the listing does not, so that a
pending message stays listed.

A drawn fate is kept as its profile's name and drawn again when read: it is a pure
function of (seed, msgid) (delivery.drawn_fate), so a message keeps ~40 bytes of JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from smsapi.mobile import Operator

from ...delivery import Fate, drawn_fate
from ...ids import compose
from ..interface import Acceptance, Drawn, Message
from ..segments import Schedule, StoredMessage, Timing, carrier_seconds, carrier_text

_COMPACT = {"separators": (",", ":"), "ensure_ascii": False}
OPERATORS = tuple(o.value for o in Operator)  # a message keeps its operator's index


def dumps(value: Any) -> str:
    return json.dumps(value, **_COMPACT)  # type: ignore[arg-type]


def request_json(a: Acceptance, custid: str) -> str:
    """What every message of a send shares, in the order of SendRecord's fields."""
    return dumps(
        [
            a.userid, a.endpoint, a.fmt, a.auth_mode, a.text, str(a.seed), a.prefix,
            carrier_seconds(a.stime), a.accepted_at, a.time_scale, a.delay, a.mobiles, custid,
        ]
    )  # fmt: skip


def message_json(m: Message) -> str:
    """One message, short: [mobile, operator, pktotal, spno, fate, text, custid, svrtype,
    exno, exdata, issues], the trailing empty ones left out. Its position is its
    counter's distance from the send's base; its msgid the counter with the prefix."""
    f = m.fate
    fate: Any = f.profile if isinstance(f, Drawn) else [f.status, f.errcode, f.errdesc, f.latency]
    values = [
        m.mobile, OPERATORS.index(m.operator), m.pktotal, m.spno, fate, m.text, m.custid,
        m.svrtype, m.exno, m.exdata, list(m.issues),
    ]  # fmt: skip
    while values[-1] in (None, "", []):
        values.pop()
    return dumps(values)


@dataclass(frozen=True, slots=True)
class SendRecord:
    base: int
    userid: str
    endpoint: str
    fmt: str
    auth_mode: str
    text: str | None
    seed: str
    prefix: int
    stime: float  # carrier seconds
    accepted_at: float
    time_scale: float
    delay: float
    mobiles: int
    custid: str  # resolved: the request's or the generated one

    @property
    def msgid(self) -> int:
        return compose(self.prefix, self.base)


def request_of(base: int | str, raw: str | None) -> SendRecord | None:
    return SendRecord(int(base), *json.loads(raw)) if raw else None


@dataclass(frozen=True, slots=True)
class Fields:
    """A message's JSON read back."""

    mobile: str
    operator: str
    pktotal: int
    spno: str
    fate: Fate
    text: str | None = None
    custid: str = ""
    svrtype: str = ""
    exno: str = ""
    exdata: str = ""
    issues: tuple[str, ...] = ()


@dataclass(slots=True)
class MessageHash:
    """A message hash read back."""

    counter: int
    request: SendRecord
    raw: dict[str, str]

    @property
    def msgid(self) -> int:
        return compose(self.request.prefix, self.counter)

    @property
    def fields(self) -> Fields:
        mobile, operator, pktotal, spno, fate, *rest = json.loads(self.raw["d"])
        name = OPERATORS[operator]
        if isinstance(fate, str):  # drawn: again, from (seed, msgid)
            fixed = drawn_fate(int(self.request.seed), self.msgid, fate, name)
        else:
            fixed = Fate(fate[3], fate[0], fate[1], fate[2])
        if len(rest) > 5:
            rest[5] = tuple(rest[5])
        return Fields(mobile, name, pktotal, spno, fixed, *rest)

    @property
    def timing(self) -> Timing:
        q = self.request
        return Timing(q.accepted_at + q.delay, q.time_scale, q.stime, carrier_text(q.stime))

    def stored(self) -> StoredMessage:
        f, q = self.fields, self.request
        status, code, desc = f.fate.status, f.fate.errcode, f.fate.errdesc
        schedule = self.timing.schedule(f.fate)  # as the send made it
        if "x" in self.raw:  # an admin's reschedule (segments.rescheduled)
            due_at, rtime = json.loads(self.raw["x"])
            schedule = Schedule(due_at, 0.0, rtime, 0.0)
        if "f" in self.raw:
            status, code, desc = json.loads(self.raw["f"])
        return StoredMessage(
            msgid=self.msgid,
            custid=f.custid or q.custid,
            pktotal=f.pktotal,
            mobile=f.mobile,
            spno=f.spno,
            exno=f.exno,
            exdata=f.exdata,
            stime=carrier_text(q.stime),  # = the send's stime, to the second
            status=status,
            errcode=code,
            errdesc=desc,
            schedule=schedule,
            reported=int(self.raw.get("r", 0)),
            pushed=int(self.raw.get("p", 0)),
        )
