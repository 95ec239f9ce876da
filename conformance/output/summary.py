"""Counts, scores and the verdict of a run, shared by every output."""

from __future__ import annotations

from typing import Any

from ..catalogue import Level
from ..events import RunFinished
from ..outcomes import Outcome

# Must-checks weigh more than should-checks in a score (issue 5: "must-checks weighted
# above should-checks").
WEIGHTS = {Level.MUST: 3, Level.SHOULD: 1}
# A check not judged (skipped, inconclusive) earns nothing but still counts: a run that
# skips half its checks cannot score 100 %. Not applicable checks do not count at all.
CREDIT = {
    Outcome.PASSED: 1.0,
    Outcome.WARNED: 1.0,
    Outcome.FAILED: 0.0,
    Outcome.ERROR: 0.0,
    Outcome.SKIPPED: 0.0,
    Outcome.INCONCLUSIVE: 0.0,
}


def category_counts(run: RunFinished) -> dict[str, dict[str, Any]]:
    """Per category and in total: how many checks ended in each outcome, and the score
    (weighted share of the applicable checks that were judged and held; None when no
    check applied)."""
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
    """pass, fail or incomplete (conformance/verdict.py: no pass without full evidence)."""
    return run.verdict.value


def verdict_line(run: RunFinished) -> str:
    """The verdict with what it rests on, as every report states it first."""
    text = f"{run.verdict.value.upper()}: {run.coverage.headline}"
    note = run.accepted_note
    return text + (f" ({note})" if note else "")
