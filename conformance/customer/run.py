"""A customer-side run: the selected checks one by one, as conformance.runner does for a
carrier, told to the same event bus so the same reports come out."""

from __future__ import annotations

from ..catalogue import Check
from ..events import EventBus, RunFinished
from ..runner import run_started
from .context import CustomerContext


def run_checks(ctx: CustomerContext, checks: list[Check], bus: EventBus) -> RunFinished:
    """Start the context, run every check (each ends in a result, none raises), close
    the context and emit RunFinished. Unreachable from ctx.start() propagates."""
    ctx.start()
    return run_started(ctx, checks, bus, ctx.metrics)
