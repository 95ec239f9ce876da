"""The plan of a run (`conformance run --dry-run`, item 9): the same rule the runner applies
before each check (budget.admit), in the same order, so the plan's skips, its not-applicable
checks and its message count are the run's."""

from __future__ import annotations

from dataclasses import dataclass

from .budget import Budget, admit
from .catalogue import Check, Level
from .config import VendorConfig
from .outcomes import CheckSignal, Outcome

LABELS = {Outcome.SKIPPED: "skipped", Outcome.NOT_APPLICABLE: "not applicable"}


@dataclass
class Step:
    check: Check
    cost: int  # worst-case billed segments (0 when it does not run)
    outcome: Outcome | None = None  # None: it runs; SKIPPED or NOT_APPLICABLE: it does not
    reason: str = ""

    @property
    def runs(self) -> bool:
        return self.outcome is None

    @property
    def label(self) -> str:
        return LABELS.get(self.outcome, "") if self.outcome else ""


def plan(config: VendorConfig, checks: list[Check]) -> list[Step]:
    """Each check in run order: runs (with its worst case) or not, and why."""
    budget = Budget(config.budget)
    steps = []
    for check in checks:
        try:
            admit(check, config, budget)
        except CheckSignal as signal:
            steps.append(Step(check, 0, signal.outcome, str(signal)))
            continue
        steps.append(Step(check, check.worst_cost(config)))
    return steps


def planned_messages(steps: list[Step]) -> int:
    """The most billed segments the run can spend: what its budget admits (the run's
    report.json records the same figure as metrics.messages.planned_segments)."""
    return sum(step.cost for step in steps)


def summarise(config: VendorConfig, steps: list[Step]) -> list[str]:
    """The plan's closing lines: totals, cost, and the must-checks it cannot judge."""
    total = planned_messages(steps)
    musts = [s for s in steps if s.check.level is Level.MUST]
    applicable = [s for s in musts if s.outcome is not Outcome.NOT_APPLICABLE]
    skipped = [s for s in applicable if not s.runs]
    lines = [
        f"{len(steps)} checks: {sum(s.runs for s in steps)} run, "
        f"{sum(s.outcome is Outcome.SKIPPED for s in steps)} skipped, "
        f"{sum(s.outcome is Outcome.NOT_APPLICABLE for s in steps)} not applicable; "
        f"up to {total} message(s) within a budget of {config.budget}; cost up to "
        f"{total * config.price:.3f} yuan at {config.price} yuan per segment; "
        f"test mobiles: {len(config.test_mobiles)}",
        f"at most {len(applicable) - len(skipped)} of {len(applicable)} must-checks can be "
        f"judged; {len(skipped)} will not be: the verdict will be INCOMPLETE"
        if skipped
        else f"all {len(applicable)} must-checks that apply will run (each still needs evidence)",
    ]
    if not total:
        lines.append(
            "nothing will be sent: the checks that judge the run's sends, reports and "
            "deliveries will end not judged (give --test-mobiles and a --budget)"
        )
    return lines
