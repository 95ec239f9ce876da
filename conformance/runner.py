"""Running checks: one at a time, each ending in a CheckResult; the run emits events."""

from __future__ import annotations

import builtins
import sys
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from smsapi.errors import CodecError, TransportError

from . import metrics
from .budget import SafetyError, admit
from .catalogue import Check, select
from .config import VendorConfig
from .context import RunContext
from .events import CheckFinished, CheckStarted, EventBus, RunFinished, RunStarted, Waiting
from .outcomes import (
    REPRODUCER_LIMIT,
    CheckFailed,
    CheckResult,
    CheckSignal,
    Evidence,
    Inconclusive,
    Outcome,
    Secrets,
    Unreachable,
)
from .preflight import PreflightFailed, budget_for, credentials_of, preflight

# hypothesis groups failures (FlakyFailure) in exception groups (builtin from Python 3.11)
EXCEPTION_GROUPS = getattr(builtins, "BaseExceptionGroup", ())


def unwrap(exc: BaseException) -> BaseException:
    """The check's own signal inside what hypothesis may wrap it in (FlakyFailure...)."""
    if isinstance(exc, EXCEPTION_GROUPS):
        for inner in exc.exceptions:
            found = unwrap(inner)
            if isinstance(found, CheckSignal):
                return found
        return exc.exceptions[0] if exc.exceptions else exc
    return exc


def execute(check: Check, ctx: RunContext) -> CheckResult:
    """Run one check; never raises (but for KeyboardInterrupt)."""
    started = time.perf_counter()
    result = CheckResult(check.id, Outcome.PASSED, rule=check.title)
    lock = getattr(ctx, "lock", None)  # A7: -100002 on the suite's account mid-run
    with ctx.running(check.id) as state:
        try:
            if lock is not None and lock.locked:
                raise Inconclusive(lock.message())
            admit(check, ctx.config, ctx.budget)  # the same rule as --dry-run's plan
            check.func(ctx)
            result.outcome = Outcome.WARNED if state.warnings else Outcome.PASSED
        except Exception as raised:  # noqa: BLE001  (a verdict for every check)
            exc = unwrap(raised)
            fill(result, exc, state.exchanges, Secrets.of(ctx.config))
        result.duration = round(time.perf_counter() - started, 3)
        result.warnings = list(state.warnings)
        result.details = {**state.details, **result.details}
        result.evidence = ctx.evidence()
        result.messages_sent = state.spent
        result.judged = dict(state.judged) or {"exchanges": len(state.exchanges)}
    locked = lock is not None and lock.confirmed(credentials_of(ctx.config))
    if locked and lock is not None and result.outcome.counts_as_failure:
        # A locked account is no carrier fault: the check is not judged, and says why.
        result.outcome, result.message = Outcome.INCONCLUSIVE, lock.message()
        result.expected = result.got = ""
        result.reproducers = []
    if result.outcome in (Outcome.PASSED, Outcome.WARNED) and not any(result.judged.values()):
        # No green without evidence: a check that judged nothing has not passed.
        result.outcome = Outcome.INCONCLUSIVE
        result.message = "nothing to judge: the check saw no evidence"
    if result.outcome is Outcome.PASSED and result.warnings:
        result.outcome = Outcome.WARNED
    silent = result.details.get("silent_carrier")  # its wait was cut short (context)
    if silent and (result.outcome.counts_as_failure or result.outcome is Outcome.INCONCLUSIVE):
        result.message = f"{result.message}; {silent}" if result.message else silent
    return result


def fill(
    result: CheckResult, exc: BaseException, exchanges: list[Any], secrets: Secrets | None = None
) -> None:
    if isinstance(exc, CheckFailed):
        result.outcome = Outcome.FAILED
        result.expected, result.got = exc.expected, exc.got
        result.message = str(exc)
        result.details.update(exc.details)
        shown = exc.exchanges or exchanges[-1:]
        result.reproducers = [
            e
            if isinstance(e, Evidence)
            else Evidence.of(e, secrets=secrets, limit=REPRODUCER_LIMIT)
            for e in shown
        ]
    elif isinstance(exc, CheckSignal):
        result.outcome = exc.outcome
        result.message = str(exc)
        result.remedy = getattr(exc, "remedy", "")
    elif isinstance(exc, CodecError):  # the target answered something unreadable
        result.outcome = Outcome.FAILED
        result.expected, result.got = "a readable answer in the document's format", str(exc)
        result.message = f"expected {result.expected}; got {result.got}"
        result.reproducers = [
            Evidence.of(e, secrets=secrets, limit=REPRODUCER_LIMIT) for e in exchanges[-1:]
        ]
    elif isinstance(exc, TransportError) and exchanges and exchanges[-1].status:
        result.outcome = Outcome.FAILED  # an HTTP answer, but not 200 (M10)
        result.expected, result.got = "HTTP 200", str(exc)
        result.message = f"expected HTTP 200; got {exc}"
        result.reproducers = [
            Evidence.of(e, secrets=secrets, limit=REPRODUCER_LIMIT) for e in exchanges[-1:]
        ]
    elif isinstance(exc, TransportError):
        result.outcome = Outcome.ERROR
        result.message = f"no answer: {exc}"
    elif isinstance(exc, SafetyError):
        result.outcome = Outcome.ERROR
        result.message = str(exc)
    else:
        result.outcome = Outcome.ERROR
        tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
        result.message = f"the check crashed: {type(exc).__name__}: {exc}"
        result.details["traceback"] = "".join(tb[-4:])


def run_metrics(ctx: RunContext) -> dict[str, Any]:
    spent = ctx.budget.spent
    return {
        "messages": {
            "accepted_messages": len(ctx.ledger.messages),
            "segments_billed": spent,
            "budget": ctx.budget.limit,
            "planned_segments": ctx.budget.planned,  # --dry-run's "up to" (conformance/plan.py)
            "price_per_segment": ctx.config.price,
            "cost": round(spent * ctx.config.price, 4),
        },
        "delivery": metrics.delivery(ctx.ledger),
        "channels": metrics.channels(ctx.ledger, [mo.data for mo in ctx.mos]),
        "reports": {
            "received": len(ctx.ledger.reports),
            "unmatched": len(ctx.ledger.unmatched),
            "before_run": len(ctx.ledger.foreign),
        },
        "mos": len(ctx.mos),
        "pushes": [p.to_dict() for p in ctx.receiver.snapshot()] if ctx.receiver else [],
        "requests": len(ctx.exchanges),
    }


class Runner:
    """Runs the selected checks against the target and tells the bus as it goes."""

    def __init__(self, config: VendorConfig, bus: EventBus | None = None) -> None:
        self.config = config
        self.bus = bus or EventBus()
        self.ctx: RunContext | None = None

    def start(self) -> RunContext:
        """Preflight (one authenticated call), then open the context: receiver up, old
        reports drained."""
        try:
            preflight(credentials_of(self.config), budget_for(self.config))
        except PreflightFailed as exc:
            raise PreflightFailed(f"{exc}; no check was run") from None
        ctx = RunContext(self.config)
        ctx.auth_budget.say = lambda line: print(f"conformance: {line}", file=sys.stderr)
        try:
            ctx.start()
        except Unreachable:
            ctx.close()
            raise
        except TransportError as exc:
            ctx.close()
            raise Unreachable(f"cannot reach {self.config.target}: {exc}") from None
        except OSError as exc:
            ctx.close()
            raise Unreachable(f"cannot listen on {self.config.callback_listen}: {exc}") from None
        except CodecError as exc:
            ctx.close()
            raise Unreachable(
                f"{self.config.target} does not answer in the format: {exc}"
            ) from None
        self.ctx = ctx
        return ctx

    def run(self, checks: list[Check] | None = None) -> RunFinished:
        checks = checks if checks is not None else select(self.config.only)
        ctx = self.start()
        ctx.on_progress = lambda text: self.bus.emit(Waiting(text))
        return run_started(ctx, checks, self.bus, lambda: run_metrics(ctx))


def run_started(
    ctx: Any, checks: list[Check], bus: EventBus, figures: Callable[[], dict[str, Any]]
) -> RunFinished:
    """Run every check on a started context (a RunContext or a customer-side one), telling
    the bus; close the context and emit RunFinished with the run's figures."""
    started = datetime.now(timezone.utc)
    results: dict[str, CheckResult] = {}
    try:
        bus.emit(RunStarted(ctx.config, checks, started, ctx.seed))
        for index, check in enumerate(checks, start=1):
            bus.emit(CheckStarted(check, index, len(checks)))
            results[check.id] = execute(check, ctx)
            bus.emit(CheckFinished(check, results[check.id], index, len(checks)))
        finished = RunFinished(
            ctx.config,
            checks,
            results,
            started,
            datetime.now(timezone.utc),
            ctx.seed,
            figures(),
        )
    finally:
        ctx.close()
    bus.emit(finished)
    return finished
