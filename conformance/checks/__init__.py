"""The checks, one module per category; importing this package registers them all."""

from __future__ import annotations

from smsapi.client import Exchange

from ..context import RunContext
from ..outcomes import CheckFailed
from ..shapes import Finding


def judge(
    ctx: RunContext, findings: list[Finding], expected: str, exchange: Exchange | None
) -> None:
    """Fail on the first plain finding; profile-dependent ones fail (strict) or warn."""
    for finding in findings:
        if not finding.rows:
            raise CheckFailed(expected, finding.message, exchange)
    for finding in findings:
        ctx.deviation(finding.rows, expected, finding.message, exchange)


from . import (  # noqa: E402  (registration order = report order within a category)
    auth,
    balance,
    business,
    codec,
    errors,
    limits,
    matching,
    properties,
    push,
    reports,
    robustness,
    stateful,
)

__all__ = [
    "auth",
    "balance",
    "business",
    "codec",
    "errors",
    "judge",
    "limits",
    "matching",
    "properties",
    "push",
    "reports",
    "robustness",
    "stateful",
]
