"""Safety against real carriers: send only to test mobiles, never beyond the budget."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from smsapi.mobile import classify

from .outcomes import CheckSkipped, NotApplicable

if TYPE_CHECKING:
    from .catalogue import Check

NO_TEST_MOBILES = "no test mobiles configured (--test-mobiles or [test_mobiles])"


class SafetyError(Exception):
    """A check tried to send to a number that is neither a test mobile nor invalid.
    A bug of the suite: it never reaches the carrier."""


class Budget:
    """Billed segments the run may spend. A send reserves its worst case first and is
    refunded what the carrier refused, so the limit holds even when a carrier accepts
    what it should have refused."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.spent = 0
        self.reserved = 0
        self.planned = 0  # the worst cases of the checks admitted so far (the plan)
        self._lock = threading.Lock()

    @property
    def left(self) -> int:
        return self.limit - self.spent - self.reserved

    def reserve(self, segments: int, why: str = "") -> int:
        with self._lock:
            if segments > self.left:
                raise CheckSkipped(
                    f"needs up to {segments} message(s){' for ' + why if why else ''}; "
                    f"{self.left} left of the budget of {self.limit} (raise --budget)"
                )
            self.reserved += segments
            return segments

    def settle(self, reserved: int, spent: int) -> None:
        """A reservation ends: `spent` of it was billed (at most the reservation)."""
        with self._lock:
            self.reserved -= reserved
            self.spent += min(spent, reserved)


def guard_mobiles(numbers: Iterable[str], test_mobiles: Iterable[str]) -> None:
    """Each number is a configured test mobile (in any §3.2 form, 0086 included) or
    one no phone can have (invalid)."""
    allowed = {classify(m).national for m in test_mobiles}
    for number in numbers:
        mobile = classify(number)
        if mobile.valid and mobile.national not in allowed:
            raise SafetyError(f"refusing to send to {number.strip()!r}: not a test mobile")


def admit(check: Check, config: Any, budget: Budget) -> None:
    """Item 9: the one rule that decides, before a check runs, whether it can: the run and
    --dry-run both apply it in catalogue order, so the plan's skips are the run's skips.
    A check that bills needs a test mobile (billed segments go to test mobiles only); it
    runs only when its worst case fits what the plan has left of the budget (what other
    checks did not spend is not lent to later ones, so the plan holds whatever the carrier
    does). A check whose needs the configuration does not meet (an auth mode, the push
    receiver, an extra account) is NOT_APPLICABLE and costs nothing. Raises NotApplicable
    or CheckSkipped saying why; admits the check's worst case otherwise."""
    reason = check.not_applicable(config)
    if reason:
        raise NotApplicable(reason)
    worst = check.worst_cost(config)
    if worst and not getattr(config, "test_mobiles", None):
        raise CheckSkipped(f"sends to test mobiles: {NO_TEST_MOBILES}")
    with budget._lock:
        left = budget.limit - budget.planned
        if worst > left:
            raise CheckSkipped(
                f"needs up to {worst} message(s); {left} left of the budget of "
                f"{budget.limit} (raise --budget)"
            )
        budget.planned += worst
