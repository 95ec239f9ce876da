"""A run as a stream of events; output handlers (terminal, JSON, JUnit, HTML) subscribe."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from .catalogue import Check
from .config import VendorConfig
from .outcomes import CheckResult
from .verdict import Coverage, Verdict, accepted_note, coverage, decide, exit_code


@dataclass
class RunStarted:
    config: VendorConfig
    checks: list[Check]
    started: datetime
    seed: int


@dataclass
class CheckStarted:
    check: Check
    index: int
    total: int


@dataclass
class CheckFinished:
    check: Check
    result: CheckResult
    index: int
    total: int


@dataclass
class RunFinished:
    """Everything a report needs: the checks, their results, the run's figures."""

    config: VendorConfig
    checks: list[Check]
    results: dict[str, CheckResult]
    started: datetime
    finished: datetime
    seed: int
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return any(r.outcome.counts_as_failure for r in self.results.values())

    @property
    def coverage(self) -> Coverage:
        """Must-checks judged of those that apply, and why each other one was not."""
        return coverage(self.checks, self.results, self.config)

    @property
    def verdict(self) -> Verdict:
        return decide(self.results, self.coverage)

    @property
    def accept_incomplete(self) -> bool:
        return bool(getattr(self.config, "accept_incomplete", False))

    @property
    def exit_code(self) -> int:
        return exit_code(self.verdict, self.accept_incomplete)

    @property
    def accepted_note(self) -> str:
        """Said by every report when --accept-incomplete made an INCOMPLETE run exit 0."""
        return accepted_note(self.verdict, self.accept_incomplete)


@dataclass
class Waiting:
    """A check waits (for reports, MOs): a line every few seconds, so a run never stalls
    silently ("MATCH-BATCH-MSGID: waiting for 12 report(s), 8 s of 60")."""

    text: str


Event = RunStarted | CheckStarted | CheckFinished | RunFinished | Waiting


class Handler(Protocol):
    def handle(self, event: Event) -> None: ...


class EventBus:
    def __init__(self, handlers: list[Handler] | None = None) -> None:
        self.handlers: list[Handler] = list(handlers or [])

    def subscribe(self, handler: Handler) -> None:
        self.handlers.append(handler)

    def emit(self, event: Event) -> None:
        for handler in self.handlers:
            handler.handle(event)
