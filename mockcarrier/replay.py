"""Replayed digests (docs/interpretations.md, "digest reuse"): §3.1 gives the md5 pwd a
timestamp but no nonce, so a captured pwd works for the whole timestamp tolerance, and
again eight hours later while UTC wall time is accepted. The mock remembers when it
first saw each digest and refuses it digest_reuse_window seconds later.

Remembered per process and bounded (MAX_REMEMBERED, oldest forgotten first): with
several workers a replay may reach a worker that has not seen the digest yet.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict

MAX_REMEMBERED = 100_000  # about 15 MB per process
# A digest stays acceptable for ±tolerance around China time and around UTC wall time
# (8 h apart): remember it that long at most.
KEEP_SECONDS = 9 * 3600.0


class DigestLedger:
    """First sight of each (userid, pwd, timestamp), oldest first."""

    def __init__(self, limit: int = MAX_REMEMBERED) -> None:
        self.limit = limit
        self._seen: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()

    def replayed(self, key: tuple[str, str, str], window: float, now: float | None = None) -> bool:
        """Whether this digest was first used more than window seconds ago (and
        remember it now when it is new)."""
        now = time.monotonic() if now is None else now
        slot = hashlib.blake2b("\x00".join(key).encode("utf-8"), digest_size=12).digest()
        with self._lock:
            self._forget_old(now)
            first = self._seen.get(slot)
            if first is None:
                self._seen[slot] = now
                return False
            return now - first > window

    def _forget_old(self, now: float) -> None:
        while self._seen and (
            len(self._seen) >= self.limit or now - next(iter(self._seen.values())) > KEEP_SECONDS
        ):
            self._seen.popitem(last=False)


LEDGER = DigestLedger()  # one per process: every app of a worker shares it
