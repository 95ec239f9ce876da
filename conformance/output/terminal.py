"""Progress on the terminal while the run goes, a summary table at the end."""

from __future__ import annotations

from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from ..catalogue import CATEGORIES
from ..events import CheckFinished, CheckStarted, Event, RunFinished, RunStarted
from ..outcomes import Outcome
from .summary import category_counts, verdict

STYLES = {
    Outcome.PASSED: "green",
    Outcome.WARNED: "yellow",
    Outcome.FAILED: "bold red",
    Outcome.ERROR: "bold magenta",
    Outcome.SKIPPED: "dim",
    Outcome.NOT_APPLICABLE: "dim",
}
LABELS = {
    Outcome.PASSED: "PASS",
    Outcome.WARNED: "WARN",
    Outcome.FAILED: "FAIL",
    Outcome.ERROR: "ERROR",
    Outcome.SKIPPED: "SKIP",
    Outcome.NOT_APPLICABLE: "N/A",
}


class TerminalReporter:
    def __init__(self, stream: TextIO | None = None, verbose: bool = False) -> None:
        self.console = Console(file=stream, highlight=False, soft_wrap=True)
        self.verbose = verbose

    def handle(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.console.print(self.header(event))
        elif isinstance(event, CheckStarted) and self.verbose:
            self.console.print(f"  … {event.check.id}", style="dim")
        elif isinstance(event, CheckFinished):
            self.progress(event)
        elif isinstance(event, RunFinished):
            self.summary(event)

    def header(self, event: RunStarted) -> str:
        cfg = event.config
        return (
            f"conformance run against [bold]{cfg.target}[/] ({cfg.profile} profile, "
            f"{len(event.checks)} checks, budget {cfg.budget} messages, seed {event.seed})"
        )

    def progress(self, event: CheckFinished) -> None:
        result, check = event.result, event.check
        outcome = result.outcome
        line = (
            f"[{STYLES[outcome]}]{LABELS[outcome]:>5}[/] {event.index:>3}/{event.total} "
            f"{check.id:<28} [dim]{result.duration:6.2f} s[/]"
        )
        self.console.print(line)
        if outcome in (Outcome.FAILED, Outcome.ERROR):
            self.console.print(f"        {check.section} {check.title}", style="dim")
            self.console.print(f"        {result.message}", style=STYLES[outcome], markup=False)
            for evidence in result.reproducers[:1]:
                curl = evidence.curl if len(evidence.curl) < 600 else evidence.curl[:600] + " …"
                self.console.print(f"        reproducer: {curl}", markup=False)
                self.console.print(
                    f"        answer: HTTP {evidence.status} {evidence.answer[:300]}", markup=False
                )
        elif outcome in (Outcome.SKIPPED, Outcome.NOT_APPLICABLE):
            self.console.print(f"        {result.message}", style="dim", markup=False)
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
        style = "bold green" if final == "pass" else "bold red"
        self.console.print(f"verdict: [{style}]{final.upper()}[/] in {seconds:.1f} s")

    def figures(self, metrics: dict[str, Any]) -> str | None:
        """One line of the run's figures under the table (None: no line)."""
        delivery = metrics.get("delivery", {})
        messages = metrics.get("messages", {})
        latency = delivery.get("latency_s", {})
        return (
            f"messages: {messages.get('segments_billed', 0)} billed of a budget of "
            f"{messages.get('budget')}, cost {messages.get('cost', 0)} yuan; delivery rate "
            f"{_pct(delivery.get('rate'))}, p99 {latency.get('p99')} s, within 5 s "
            f"{_pct(delivery.get('within_limit'))}"
        )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"
