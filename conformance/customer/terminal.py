"""The terminal output of a customer-side run: the carrier run's progress lines and
summary table, with the run's own header and figures (no messages, no delivery)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..events import RunStarted
from ..output.terminal import TerminalReporter


class CustomerTerminal(TerminalReporter):
    def __init__(
        self, title: str, figures: Callable[[dict[str, Any]], str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.title = title
        self.figures_of = figures  # RunFinished.metrics → one line of figures

    def header(self, event: RunStarted) -> str:
        return (
            f"{self.title} ({event.config.profile} profile, {len(event.checks)} checks, "
            f"seed {event.seed})"
        )

    def figures(self, metrics: dict[str, Any]) -> str | None:
        return self.figures_of(metrics) if self.figures_of else None
