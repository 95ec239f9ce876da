"""Safety against real carriers: send only to test mobiles, never beyond the budget."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from smsapi.mobile import classify

from .outcomes import CheckSkipped


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
