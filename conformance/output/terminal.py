"""Progress on the terminal while the run goes, a summary table at the end."""

from __future__ import annotations

from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from ..catalogue import CATEGORIES, Level
from ..events import CheckFinished, CheckStarted, Event, RunFinished, RunStarted, Waiting
from ..outcomes import Outcome
from ..plan import plan
from ..verdict import remedy_for
from .summary import category_counts, verdict

STYLES = {
    Outcome.PASSED: "green",
    Outcome.WARNED: "yellow",
    Outcome.FAILED: "bold red",
    Outcome.ERROR: "bold magenta",
    Outcome.SKIPPED: "dim",
    Outcome.INCONCLUSIVE: "yellow",
    Outcome.NOT_APPLICABLE: "dim",
}
LABELS = {
    Outcome.PASSED: "PASS",
    Outcome.WARNED: "WARN",
    Outcome.FAILED: "FAIL",
    Outcome.ERROR: "ERROR",
    Outcome.SKIPPED: "SKIP",
    Outcome.INCONCLUSIVE: "INCONCL",
    Outcome.NOT_APPLICABLE: "N/A",
}
VERDICT_STYLES = {"pass": "bold green", "fail": "bold red", "incomplete": "bold yellow"}


class TerminalReporter:
    def __init__(self, stream: TextIO | None = None, verbose: bool = False) -> None:
        self.console = Console(file=stream, highlight=False, soft_wrap=True)
        self.verbose = verbose
        self.config: Any = None  # the run's, from RunStarted (remedies name its options)

    def handle(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.console.print(self.header(event))
            ahead = self.ahead(event)
            if ahead:
                self.console.print(ahead, style="yellow", markup=False)
        elif isinstance(event, CheckStarted) and self.verbose:
            self.console.print(f"  … {event.check.id}", style="dim")
        elif isinstance(event, CheckFinished):
            self.progress(event)
        elif isinstance(event, RunFinished):
            self.summary(event)
        elif isinstance(event, Waiting):
            self.console.print(f"  … {event.text}", style="dim")

    def header(self, event: RunStarted) -> str:
        cfg = self.config = event.config
        return (
            f"conformance run against [bold]{cfg.target}[/] ({cfg.profile} profile, "
            f"{len(event.checks)} checks, budget {cfg.budget} messages, seed {event.seed})"
        )

    def ahead(self, event: RunStarted) -> str:
        """Up front, before any check: the must-checks the plan cannot judge (the same
        plan as --dry-run), so that an INCOMPLETE end is no surprise."""
        if not hasattr(event.config, "budget") or not event.checks:
            return ""
        if event.checks[0].side != "carrier":
            return ""
        steps = plan(event.config, event.checks)
        musts = [s for s in steps if s.check.level is Level.MUST]
        applicable = [s for s in musts if s.outcome is not Outcome.NOT_APPLICABLE]
        out = [s for s in applicable if not s.runs]
        if not out:
            return ""
        return (
            f"plan: at most {len(applicable) - len(out)} of {len(applicable)} must-checks can "
            f"be judged; {len(out)} will be skipped (the verdict will be INCOMPLETE): "
            + ", ".join(s.check.id for s in out)
        )

    def progress(self, event: CheckFinished) -> None:
        result, check = event.result, event.check
        outcome = result.outcome
        line = (
            f"[{STYLES[outcome]}]{LABELS[outcome]:>7}[/] {event.index:>3}/{event.total} "
            f"{check.id:<28} [dim]{result.duration:6.2f} s[/]"
        )
        self.console.print(line)
        if outcome in (Outcome.FAILED, Outcome.ERROR):
            self.console.print(f"        {check.section} {check.title}", style="dim")
            self.console.print(f"        {result.message}", style=STYLES[outcome], markup=False)
            for evidence in result.reproducers[:1]:
                # whole, so that it can be pasted (item 8): fresh §3.1 credentials included
                self.console.print("        reproducer:", markup=False)
                for line in evidence.curl.splitlines():
                    self.console.print(f"          {line}", markup=False, soft_wrap=True)
                self.console.print(
                    f"        answer: HTTP {evidence.status} {evidence.answer[:300]}", markup=False
                )
        elif outcome is Outcome.NOT_APPLICABLE:
            self.console.print(f"        {result.message}", style="dim", markup=False)
        elif outcome in (Outcome.SKIPPED, Outcome.INCONCLUSIVE):
            self.console.print(f"        {result.message}", style="dim", markup=False)
            if check.level is Level.MUST:
                remedy = remedy_for(result, self.config)
                self.console.print(f"        to judge it: {remedy}", style="dim", markup=False)
        for warning in result.warnings[:3]:
            self.console.print(f"        warning: {warning.message}", style="yellow", markup=False)

    def summary(self, event: RunFinished) -> None:
        counts = category_counts(event)
        table = Table(title="Conformance summary", show_lines=False)
        table.add_column("category")
        for outcome in Outcome:
            table.add_column(LABELS[outcome], justify="right", style=STYLES[outcome])
        table.add_column("score", justify="right")
        for category in [*CATEGORIES, "total"]:
            row = counts.get(category)
            if not row:
                continue
            score = row["score"]
            table.add_row(
                category,
                *(str(row[o.value] or "") for o in Outcome),
                "-" if score is None else f"{score:.0%}",
                style="bold" if category == "total" else None,
            )
        self.console.print(table)
        line = self.figures(event.metrics)
        if line:
            self.console.print(line, markup=False)
        seconds = (event.finished - event.started).total_seconds()
        final = verdict(event)
        cov = event.coverage
        self.console.print(
            f"verdict: [{VERDICT_STYLES[final]}]{final.upper()}[/] in {seconds:.1f} s — "
            f"{cov.headline}{':' if cov.not_judged else ''}"
        )
        for line in cov.lines():
            self.console.print(f"  {line}", markup=False)
        if event.accepted_note:
            self.console.print(event.accepted_note, style="bold yellow", markup=False)

    def figures(self, metrics: dict[str, Any]) -> str | None:
        """One line of the run's figures under the table (None: no line)."""
        delivery = metrics.get("delivery", {})
        messages = metrics.get("messages", {})
        latency = delivery.get("latency_s", {})
        line = (
            f"messages: {messages.get('segments_billed', 0)} billed of a budget of "
            f"{messages.get('budget')}, cost {messages.get('cost', 0)} yuan; delivery rate "
            f"{_pct(delivery.get('rate'))}"
        )
        if latency.get("p99") is None:  # no report was timed: no figure to show
            return line
        return (
            f"{line}, p99 {latency['p99']} s by the suite's clock (arrival bound ≤ "
            f"{delivery.get('bound_s')} s), within 5 s {_pct(delivery.get('within_limit'))}"
        )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"
