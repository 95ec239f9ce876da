"""A run as a stream of events; output handlers (terminal, JSON, JUnit, HTML) subscribe."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from .catalogue import Check
from .config import VendorConfig
from .outcomes import CheckResult


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


Event = RunStarted | CheckStarted | CheckFinished | RunFinished


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
