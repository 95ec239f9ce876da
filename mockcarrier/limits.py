"""§5.1 concurrent requests per account (default 100), beyond which -100056."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager


class ConcurrencyLimiter:
    """Counts requests in flight per account within this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight: dict[str, int] = defaultdict(int)

    @contextmanager
    def slot(self, userid: str, limit: int) -> Iterator[bool]:
        """Yields True when the request may proceed, False past the limit."""
        with self._lock:
            admitted = self._in_flight[userid] < limit
            if admitted:
                self._in_flight[userid] += 1
        try:
            yield admitted
        finally:
            if admitted:
                with self._lock:
                    self._in_flight[userid] -= 1

    def in_flight(self, userid: str) -> int:
        with self._lock:
            return self._in_flight[userid]
