"""What a customer-side check works with: the same interface as the carrier run's
RunContext where conformance.runner.execute needs it (running, budget, evidence),
without a carrier to send to."""

from __future__ import annotations

from typing import Any

from smsapi.client import Exchange

from ..budget import Budget
from ..config import VendorConfig
from ..context import CheckContext


class CustomerContext(CheckContext):
    """Checks of the customer's side send no message: the budget is 0 and stays so."""

    def __init__(self, config: VendorConfig, seed: int | None = None) -> None:
        super().__init__(config, seed)
        self.budget = Budget(0)

    def start(self) -> None:
        """Open what the run needs; raise conformance.outcomes.Unreachable if it cannot."""

    def close(self) -> None:
        """Release what start() opened."""

    def keep(self, exchange: Exchange) -> None:
        """An exchange of the running check, kept as its evidence."""
        self.current.exchanges.append(exchange)

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
