"""Figures over the whole run: delivery times and rate (tender §2.1.3), channel numbers
per operator (§2.1.2), messages and cost. The JSON report carries them for sign-off."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from smsapi.matching import report_delivered
from smsapi.mobile import classify
from smsapi.tender import DELIVERY_LIMIT_S, DELIVERY_RATE_MIN
from smsapi.timing import decides, delivered_within

from .ledger import RunLedger, SentMessage


@dataclass
class Sample:
    """One segment's first report: when, how long, to whom."""

    offset_s: float  # seconds from the run's first send to the report's arrival
    latency_s: float  # send request started → report arrived, by the suite's clock (L1/B2)
    bound_s: float  # the arrival is known within this (0 for a push; polling for a pull)
    within: bool  # within 5 s, the bound given to the carrier (smsapi.timing)
    decided: bool  # the measurement tells within from late (smsapi.timing.decides)
    carrier_s: float | None  # rtime - stime, the carrier's own account
    source: str  # push / pull
    operator: str
    delivered: bool
    status: Any
    errcode: Any


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered) - 1e-9)))
    return ordered[rank - 1]


def spread(values: list[float]) -> dict[str, float | None]:
    return {
        "count": len(values),
        "p50": percentile(values, 0.50),
        "p95": percentile(values, 0.95),
        "p99": percentile(values, 0.99),
        "max": max(values) if values else None,
    }


def samples(ledger: RunLedger) -> list[Sample]:
    """The first report of each segment sent to a valid number, however it was matched
    (msgid or custid: a matching fault is the matching checks' business, not a loss)."""
    messages = [m for m in ledger.messages if m.valid]
    if not messages:
        return []
    start = min(m.sent_at for m in messages)
    out = []
    for m in messages:
        operator = classify(m.mobile).operator.value
        for k in sorted(m.reports):
            report = m.reports[k][0]
            timing = report.timing()
            assert timing is not None  # filed under a message
            out.append(
                Sample(
                    round(report.seen_at - start, 3),
                    round(timing.delivery_s, 3),
                    round(timing.bound_s, 3),
                    delivered_within(timing),
                    decides(timing),
                    timing.carrier_s,
                    report.source,
                    operator,
                    report_delivered(report.data),
                    report.data.get("status"),
                    report.data.get("errcode"),
                )
            )
    return out


def delivery(ledger: RunLedger) -> dict[str, Any]:
    """Tender §2.1.3 figures: delivery time by the suite's clock (with its bound), share
    within 5 s, delivery rate; the carrier's rtime - stime beside them."""
    got = samples(ledger)
    owed = sum(m.pktotal for m in ledger.messages if m.valid)
    delivered = [s for s in got if s.delivered]
    timed = [s for s in delivered if s.decided]  # the rest: held back, no evidence (M12)
    within = sum(1 for s in timed if s.within)
    carrier = [s.carrier_s for s in delivered if s.carrier_s is not None]
    by_operator: dict[str, dict[str, int]] = {}
    for s in got:
        row = by_operator.setdefault(s.operator, {"reports": 0, "delivered": 0})
        row["reports"] += 1
        row["delivered"] += s.delivered
    return {
        "segments_owed": owed,
        "reports": len(got),
        "delivered": len(delivered),
        "unreported": owed - len(got),
        "rate": round(len(delivered) / owed, 5) if owed else None,
        "rate_target": DELIVERY_RATE_MIN,
        "timed": len(timed),
        "untimed": len(delivered) - len(timed),
        "latency_s": spread([s.latency_s for s in timed]),
        "bound_s": max((s.bound_s for s in timed), default=None),
        "within_limit": round(within / len(timed), 5) if timed else None,
        "limit_s": DELIVERY_LIMIT_S,
        "carrier_s": spread(carrier),
        "by_operator": by_operator,
        "samples": [s.__dict__ for s in got],
    }


def channel_of(spno: str, exno: str) -> str:
    """The channel number of a §2.4.6 spno (完整的通道号 = channel + exno)."""
    if exno and spno.endswith(exno):
        return spno[: -len(exno)]
    return spno


def channels(ledger: RunLedger, mos: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Channel numbers seen per operator, from the run's reports and MOs."""
    return channels_of(ledger.messages, mos)


def channels_of(messages: list[SentMessage], mos: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Channel numbers seen per operator, from these messages' reports and these MOs."""
    out: dict[str, set[str]] = {}
    for m in messages:
        if not m.valid:  # an invalid number (F2) belongs to none of the three networks
            continue
        operator = classify(m.mobile).operator.value
        for report in m.all_reports():
            spno = str(report.data.get("spno", "") or "")
            if spno:
                out.setdefault(operator, set()).add(
                    channel_of(spno, str(report.data.get("exno", "") or ""))
                )
    for mo in mos:
        spno = str(mo.get("spno", "") or "")
        if spno:
            operator = classify(str(mo.get("mobile", ""))).operator.value
            out.setdefault(operator, set()).add(channel_of(spno, str(mo.get("exno", "") or "")))
    return {op: sorted(found) for op, found in sorted(out.items())}
