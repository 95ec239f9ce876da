"""Counts, scores and the verdict of a run, shared by every output."""

from __future__ import annotations

from typing import Any

from ..catalogue import Level
from ..events import RunFinished
from ..outcomes import Outcome

# Must-checks weigh more than should-checks in a score (issue 5: "must-checks weighted
# above should-checks").
WEIGHTS = {Level.MUST: 3, Level.SHOULD: 1}
CREDIT = {Outcome.PASSED: 1.0, Outcome.WARNED: 1.0, Outcome.FAILED: 0.0, Outcome.ERROR: 0.0}


def category_counts(run: RunFinished) -> dict[str, dict[str, Any]]:
    """Per category and in total: how many checks ended in each outcome, and the score
    (weighted share of judged checks that passed; None when none was judged)."""
    rows: dict[str, dict[str, Any]] = {}
    weights: dict[str, list[float]] = {}
    for check in run.checks:
        result = run.results.get(check.id)
        if result is None:
            continue
        for key in (check.category, "total"):
            row = rows.setdefault(key, {o.value: 0 for o in Outcome})
            row[result.outcome.value] += 1
            if result.outcome in CREDIT:
                got, of = weights.setdefault(key, [0.0, 0.0])
                weight = WEIGHTS[check.level]
                weights[key] = [got + weight * CREDIT[result.outcome], of + weight]
    for key, row in rows.items():
        got, of = weights.get(key, [0.0, 0.0])
        row["score"] = round(got / of, 4) if of else None
    return rows


def verdict(run: RunFinished) -> str:
    """pass: no check failed or errored (warnings, skips and n/a allowed)."""
    return "fail" if run.failed else "pass"
