"""A customer-side run: the selected checks one by one, as conformance.runner does for a
carrier, told to the same event bus so the same reports come out."""

from __future__ import annotations

from datetime import datetime, timezone

from ..catalogue import Check
from ..events import CheckFinished, CheckStarted, EventBus, RunFinished, RunStarted
from ..outcomes import CheckResult
from ..runner import execute
from .context import CustomerContext


def run_checks(ctx: CustomerContext, checks: list[Check], bus: EventBus) -> RunFinished:
    """Start the context, run every check (each ends in a result, none raises), close
    the context and emit RunFinished. Unreachable from ctx.start() propagates."""
    ctx.start()
    started = datetime.now(timezone.utc)
    results: dict[str, CheckResult] = {}
    try:
        bus.emit(RunStarted(ctx.config, checks, started, ctx.seed))
        for index, check in enumerate(checks, start=1):
            bus.emit(CheckStarted(check, index, len(checks)))
            results[check.id] = execute(check, ctx)  # type: ignore[arg-type]
            bus.emit(CheckFinished(check, results[check.id], index, len(checks)))
        finished = RunFinished(
            ctx.config,
            checks,
            results,
            started,
            datetime.now(timezone.utc),
            ctx.seed,
            ctx.metrics(),
        )
    finally:
        ctx.close()
    bus.emit(finished)
    return finished
