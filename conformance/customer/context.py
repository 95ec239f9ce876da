"""What a customer-side check works with: the same interface as the carrier run's
RunContext where conformance.runner.execute needs it (running, budget, evidence),
without a carrier to send to."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from smsapi.client import Exchange

from ..budget import Budget
from ..config import VendorConfig
from ..context import EVIDENCE_KEPT, CheckState
from ..outcomes import CheckFailed, Evidence, Warning_


class CustomerContext:
    """Checks of the customer's side send no message: the budget is 0 and stays so."""

    def __init__(self, config: VendorConfig, seed: int | None = None) -> None:
        self.config = config
        self.seed = seed if seed is not None else (config.seed or secrets.randbelow(2**31))
        self.budget = Budget(0)
        self.current = CheckState("-")

    def start(self) -> None:
        """Open what the run needs; raise conformance.outcomes.Unreachable if it cannot."""

    def close(self) -> None:
        """Release what start() opened."""

    @contextmanager
    def running(self, check_id: str) -> Iterator[CheckState]:
        self.current = CheckState(check_id)
        try:
            yield self.current
        finally:
            self.current = CheckState("-")

    @property
    def strict(self) -> bool:
        return self.config.profile == "strict"

    def deviation(
        self,
        rows: tuple[str, ...] | str,
        expected: str,
        got: str,
        exchanges: list[Exchange] | Exchange | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """A deviation the strict profile fails and the lenient one warns about."""
        rows = (rows,) if isinstance(rows, str) else rows
        if self.strict:
            raise CheckFailed(
                expected, got, exchanges, details={"interpretations": list(rows), **(details or {})}
            )
        self.warn(f"expected {expected}; got {got}", rows)
        if details:
            self.current.details.update(details)

    def warn(self, message: str, rows: tuple[str, ...] = ()) -> None:
        self.current.warnings.append(Warning_(message, rows))

    def detail(self, key: str, value: Any) -> None:
        self.current.details[key] = value

    def keep(self, exchange: Exchange) -> None:
        """An exchange of the running check, kept as its evidence."""
        self.current.exchanges.append(exchange)

    def evidence(self) -> list[Evidence]:
        return [Evidence.of(e) for e in self.current.exchanges[-EVIDENCE_KEPT:]]

    def metrics(self) -> dict[str, Any]:
        """The run's figures for the reports; `messages` and `delivery` keep the layout
        the carrier reports read (nothing is sent, nothing delivered)."""
        return {
            "messages": {
                "accepted_messages": 0,
                "segments_billed": 0,
                "budget": 0,
                "price_per_segment": self.config.price,
                "cost": 0,
            },
            "delivery": {},
        }
