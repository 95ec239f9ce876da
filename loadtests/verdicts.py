"""Thresholds against a run's figures: which pass, which fail, and a message naming each."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from smsapi.tender import DELIVERY_LIMIT_S, DELIVERY_RATE_MIN, YEAR_MESSAGES

from .settings import Thresholds

# Which thresholds each scenario judges (docs/loadtests.md).
APPLIES: dict[str, tuple[str, ...]] = {
    "volume": ("min_rate", "max_error_rate", "min_delivery_rate", "max_p99_delivery"),
    "latency": ("max_p99_delivery", "min_delivery_rate", "max_error_rate"),
    "soak": ("max_p99_delivery", "min_delivery_rate", "max_error_rate", "max_drift"),
}


@dataclass
class ThresholdVerdict:
    name: str
    rule: str
    limit: float
    value: float | None
    unit: str
    passed: bool
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Figures:
    """What the thresholds look at (None: not measured)."""

    p99_delivery_s: float | None
    delivery_rate_pct: float | None
    error_rate_pct: float
    sustained_rate: float
    drift_s: float | None


def _check(
    name: str, rule: str, value: float | None, limit: float, unit: str, at_most: bool, what: str
) -> ThresholdVerdict:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ThresholdVerdict(name, rule, limit, None, unit, False, f"{what}: not measured")
    passed = value <= limit if at_most else value >= limit
    sign = ("≤" if passed else ">") if at_most else ("≥" if passed else "<")
    return ThresholdVerdict(
        name,
        rule,
        limit,
        round(value, 4),
        unit,
        passed,
        f"{what} {value:.3f} {unit} {sign} {limit:g} {unit}",
    )


def judge(scenario: str, figures: Figures, thresholds: Thresholds) -> list[ThresholdVerdict]:
    """The verdict of every threshold the scenario applies."""
    checks = {
        "max_p99_delivery": lambda: _check(
            "max_p99_delivery",
            f"§2.1.3 delivery ≤ {DELIVERY_LIMIT_S:g} s",
            figures.p99_delivery_s,
            thresholds.max_p99_delivery,
            "s",
            True,
            "p99 delivery",
        ),
        "min_delivery_rate": lambda: _check(
            "min_delivery_rate",
            f"§2.1.3 delivery rate ≥ {DELIVERY_RATE_MIN * 100:g} %",
            figures.delivery_rate_pct,
            thresholds.min_delivery_rate,
            "%",
            False,
            "delivery rate",
        ),
        "max_error_rate": lambda: _check(
            "max_error_rate",
            "requests answered result ≠ 0 or not at all",
            figures.error_rate_pct,
            thresholds.max_error_rate,
            "%",
            True,
            "error rate",
        ),
        "min_rate": lambda: _check(
            "min_rate",
            f"§1 ~{YEAR_MESSAGES / 1e6:g} M messages a year at the peak factor",
            figures.sustained_rate,
            thresholds.min_rate,
            "msg/s",
            False,
            "sustained rate",
        ),
        "max_drift": lambda: _check(
            "max_drift",
            "soak: p99 delivery of the last quarter vs the first",
            figures.drift_s,
            thresholds.max_drift,
            "s",
            True,
            "p99 drift",
        ),
    }
    return [checks[name]() for name in APPLIES[scenario]]
