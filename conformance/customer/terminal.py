"""The terminal output of a customer-side run: the carrier run's progress lines and
summary table, with the run's own header and figures (no messages, no delivery)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from ..catalogue import CATEGORIES
from ..events import Event, RunFinished, RunStarted
from ..outcomes import Outcome
from ..output.summary import category_counts, verdict
from ..output.terminal import LABELS, STYLES, TerminalReporter


class CustomerTerminal(TerminalReporter):
    def __init__(self, title: str, figures: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.title = title
        self.figures = figures  # RunFinished.metrics → one line of figures

    def handle(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.console.print(
                f"{self.title} ({event.config.profile} profile, {len(event.checks)} checks, "
                f"seed {event.seed})"
            )
        else:
            super().handle(event)

    def summary(self, event: RunFinished) -> None:
        counts = category_counts(event)
        table = Table(title="Conformance summary")
        table.add_column("category")
        for outcome in Outcome:
            table.add_column(LABELS[outcome], justify="right", style=STYLES[outcome])
        table.add_column("score", justify="right")
        for category in [*CATEGORIES, "total"]:
            row = counts.get(category)
            if row:
                score = row["score"]
                table.add_row(
                    category,
                    *(str(row[o.value] or "") for o in Outcome),
                    "-" if score is None else f"{score:.0%}",
                    style="bold" if category == "total" else None,
                )
        self.console.print(table)
        if self.figures:
            self.console.print(self.figures(event.metrics), markup=False)
        seconds = (event.finished - event.started).total_seconds()
        final = verdict(event)
        style = "bold green" if final == "pass" else "bold red"
        self.console.print(f"verdict: [{style}]{final.upper()}[/] in {seconds:.1f} s")
