"""What the console shows, as plain data: every phone's inbox, grouped by operator.

Built from the rows the store returns (operations.search); no Flask here, so the rules
of what the console says are tested without a browser.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from smsapi.mobile import Operator, classify
from smsapi.msgid import segment_msgid
from smsapi.segments import split_segments

from . import defects as defect_modes
from . import ids

# Operator groups in the order the console lists them, with English labels beside
# smsapi's Chinese ones.
OPERATOR_ORDER = (
    Operator.CHINA_MOBILE,
    Operator.CHINA_UNICOM,
    Operator.CHINA_TELECOM,
    Operator.MAINLAND_OTHER,
    Operator.INTERNATIONAL,
    Operator.INVALID,
)
LABELS_EN = {
    Operator.CHINA_MOBILE: "China Mobile",
    Operator.CHINA_UNICOM: "China Unicom",
    Operator.CHINA_TELECOM: "China Telecom",
    Operator.MAINLAND_OTHER: "Other mainland segment",
    Operator.INTERNATIONAL: "International",
    Operator.INVALID: "Invalid number",
}
# Where a report is on its way to the customer (the store's report states).
QUEUE_LABELS = {
    "scheduled": "计划中 scheduled",
    "pending": "待取 queued",
    "taken": "已取 pulled",
    "pushed": "已推送 pushed",
}


@dataclass(frozen=True)
class Delivery:
    """A delivery state as the console shows it."""

    kind: str  # pending | delivered | failed | unreported
    label: str


PENDING = Delivery("pending", "等待回执 pending")
UNREPORTED = Delivery("unreported", "无回执 no report")


def report_delivery(report: dict[str, Any], now: float) -> Delivery:
    """One segment's state: pending until its report is due, then what it says."""
    if report["due_at"] > now and report["state"] == "pending":
        return PENDING
    if report["status"] == 0:
        return Delivery("delivered", report["errcode"] or "DELIVRD")
    return Delivery("failed", report["errcode"] or "failed")


def queue_label(report: dict[str, Any], now: float) -> str:
    state = report["state"]
    if state == "pending" and report["due_at"] > now:
        state = "scheduled"
    return QUEUE_LABELS.get(state, state)


@dataclass
class SegmentView:
    pknum: int
    pktotal: int
    msgid: int  # the id this segment's report carries (or will), as the defects write it
    expected: int  # §3.3 the id it should carry: differs only under a defect mode
    text: str
    delivery: Delivery
    rtime: str = ""  # shown once due
    queue: str = ""


@dataclass
class MessageView:
    """One message (MT) as the phone received it."""

    msgid: int  # the per-mobile id
    text: str  # decoded, signature included
    mobile: str  # as sent (0086... or 00...)
    custid: str
    exno: str
    spno: str
    svrtype: str
    exdata: str
    endpoint: str
    fmt: str
    auth_mode: str
    position: int
    request_msgid: int  # the msgid of the send answer
    stime: str
    rtime: str
    delivery: Delivery
    segments: list[SegmentView]
    issues: list[str]
    kind: str = "mt"


@dataclass
class MoView:
    """A reply from the phone (MO)."""

    msgid: int
    text: str
    mobile: str
    spno: str
    exno: str
    rtime: str
    queue: str
    kind: str = "mo"


@dataclass
class PhoneView:
    number: str  # the national number: 0086 + n and n are one phone
    operator: Operator
    entries: list[MessageView | MoView] = field(default_factory=list)

    @property
    def latest(self) -> int:
        return max(map(_order, self.entries), default=0)


@dataclass
class OperatorGroup:
    operator: Operator
    phones: list[PhoneView]

    @property
    def label_zh(self) -> str:
        return self.operator.label_zh

    @property
    def label_en(self) -> str:
        return LABELS_EN[self.operator]


def _order(entry: MessageView | MoView) -> int:
    """Where an entry stands in the mock's one id sequence: its msgid's counter."""
    return ids.decompose(entry.msgid)[1]


def message_delivery(segments: list[SegmentView]) -> Delivery:
    """A message is pending while any segment is, failed when any segment failed."""
    if not segments or all(s.delivery is UNREPORTED for s in segments):
        return UNREPORTED
    if any(s.delivery.kind == "pending" for s in segments):
        return PENDING
    failed = [s.delivery for s in segments if s.delivery.kind == "failed"]
    if failed:
        return failed[0]
    return segments[0].delivery


def message_view(
    row: dict[str, Any], now: float, active: Collection[str] = frozenset()
) -> MessageView:
    """A store message row (with its reports as row["segments"]) as the console shows it;
    active: the defect modes on (a report's id as they write it)."""
    reports = {r["pknum"]: r for r in row["segments"]}
    texts = split_segments(row["text"])
    segments = []
    for pknum, text in enumerate(texts, start=1):
        report = reports.get(pknum)
        delivery = report_delivery(report, now) if report else UNREPORTED
        expected = segment_msgid(row["msgid"], 1, pknum)
        segments.append(
            SegmentView(
                pknum=pknum,
                pktotal=row["pktotal"],
                msgid=defect_modes.report_id(active, report["msgid"] if report else expected),
                expected=expected,
                text=text,
                delivery=delivery,
                rtime=report["rtime"] if report and delivery is not PENDING else "",
                queue=queue_label(report, now) if report else "",
            )
        )
    return MessageView(
        msgid=row["msgid"],
        text=row["text"],
        mobile=row["mobile"],
        custid=row["custid"],
        exno=row["exno"],
        spno=row["spno"],
        svrtype=row["svrtype"],
        exdata=row["exdata"],
        endpoint=row["endpoint"],
        fmt=row["fmt"],
        auth_mode=row["auth_mode"],
        position=row["position"],
        request_msgid=row["request_msgid"],
        stime=row["stime"],
        rtime=max((s.rtime for s in segments), default=""),
        delivery=message_delivery(segments),
        segments=segments,
        issues=list(row.get("issues") or []),
    )


def mo_view(row: dict[str, Any]) -> MoView:
    return MoView(
        msgid=row["msgid"],
        text=row["text"],
        mobile=row["mobile"],
        spno=row["spno"],
        exno=row["exno"],
        rtime=row["rtime"],
        queue=QUEUE_LABELS.get(row["state"], row["state"]),
    )


def inbox(
    messages: list[dict[str, Any]],
    mos: list[dict[str, Any]],
    now: float,
    active: Collection[str] = frozenset(),
) -> list[OperatorGroup]:
    """Every phone with its messages and replies, newest first, in operator groups."""
    phones: dict[str, PhoneView] = {}
    entries: list[MessageView | MoView] = [message_view(r, now, active) for r in messages]
    entries += [mo_view(r) for r in mos]
    for entry in entries:
        number = classify(entry.mobile)
        phone = phones.get(number.national)
        if phone is None:
            phone = phones[number.national] = PhoneView(number.national, number.operator)
        phone.entries.append(entry)
    for phone in phones.values():
        phone.entries.sort(key=_order, reverse=True)
    groups = []
    for operator in OPERATOR_ORDER:
        members = [p for p in phones.values() if p.operator is operator]
        if members:
            members.sort(key=lambda p: p.latest, reverse=True)
            groups.append(OperatorGroup(operator, members))
    return groups


@dataclass
class QueueView:
    """The report queue: what get_rpt (or a push) would hand out now, and what is to come."""

    due: int
    scheduled: int
    rows: list[dict[str, Any]]


def report_queue(pending: list[dict[str, Any]], now: float, shown: int = 50) -> QueueView:
    due = sum(1 for r in pending if r["due_at"] <= now)
    rows = [
        {
            **r,
            "delivery": report_delivery(r, now),
            "queue": queue_label(r, now),
        }
        for r in pending[:shown]
    ]
    return QueueView(due=due, scheduled=len(pending) - due, rows=rows)
