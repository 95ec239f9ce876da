"""Delivery time by the client's own clock (tender §2.1.3, L1/B2), and the carrier's stime /
rtime (§2.5.6, China time) cross-checked against it. Shared by the conformance suite and
the load tests: one home for the rule.

A report's arrival is when it reached the client: a push's receipt, or the poll that first
returned it. A pull knows the arrival only within a bound (the report became available
some time after the previous poll that left nothing behind): the bound is stated with
every figure, and a segment counts as late only when even its earliest possible arrival
is beyond the limit (no red without a carrier fault).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .auth import CHINA_TZ
from .fields import parse_time
from .tender import DELIVERY_LIMIT_S

CLOCK_SKEW_S = 2.0  # default bound on the carrier's clock against the client's
TIME_RESOLUTION_S = 1.0  # §2.5.6 stime / rtime are whole seconds


def carrier_epoch(value: Any) -> float | None:
    """§2.5.6 a YYYY-MM-DD HH:MM:SS China-time stamp as Unix seconds (None if unreadable)."""
    moment = parse_time(value)
    return moment.replace(tzinfo=CHINA_TZ).timestamp() if moment else None


@dataclass(frozen=True)
class DeliveryTiming:
    """One segment's delivery as the client measured it, beside the carrier's account."""

    delivery_s: float  # send request started → report arrived (the client's clock)
    bound_s: float  # how much earlier the report may have been available (0: a push)
    carrier_s: float | None  # rtime - stime, the carrier's own account (None: unreadable)

    @property
    def earliest_s(self) -> float:
        """The shortest delivery time the measurement allows."""
        return max(self.delivery_s - self.bound_s, 0.0)


def delivery_timing(
    report: dict[str, Any], sent_at: float, arrived_at: float, bound_s: float = 0.0
) -> DeliveryTiming:
    """§2.1.3 delivery time by the client's clock: arrival minus the send's start."""
    stime, rtime = carrier_epoch(report.get("stime")), carrier_epoch(report.get("rtime"))
    carrier = rtime - stime if stime is not None and rtime is not None else None
    return DeliveryTiming(arrived_at - sent_at, max(bound_s, 0.0), carrier)


def delivered_within(timing: DeliveryTiming, limit_s: float = DELIVERY_LIMIT_S) -> bool:
    """§2.1.3 delivered within the limit, giving the carrier the measurement's bound."""
    return timing.earliest_s <= limit_s


def decides(timing: DeliveryTiming, limit_s: float = DELIVERY_LIMIT_S) -> bool:
    """Whether the measurement tells within from late: surely within (even its latest
    possible arrival is within the limit) or surely late (even its earliest is beyond).
    A pull held back longer than the limit (a check arranging a queue) leaves it open:
    evidence of neither, so it is left out of the figures and the verdict."""
    return timing.delivery_s <= limit_s or timing.earliest_s > limit_s


def clock_findings(
    report: dict[str, Any], sent_at: float, arrived_at: float, skew_s: float = CLOCK_SKEW_S
) -> list[str]:
    """§2.5.6 / M7 the carrier's stime and rtime against the client's clock: neither
    before the send started nor after the report arrived, within skew_s (plus the
    stamps' one-second resolution). Unreadable stamps are RPT-FIELDS' business."""
    found = []
    low, high = sent_at - skew_s - TIME_RESOLUTION_S, arrived_at + skew_s
    for key in ("stime", "rtime"):
        at = carrier_epoch(report.get(key))
        if at is None:
            continue
        if at < low:
            found.append(f"{key} {report[key]} is {sent_at - at:.1f} s before the send started")
        elif at > high:
            found.append(f"{key} {report[key]} is {at - arrived_at:.1f} s after the report arrived")
    return found
