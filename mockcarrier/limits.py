"""§5.1 concurrent requests per account (default 100), beyond which -100056."""

from __future__ import annotations

import fcntl
import mmap
import tempfile
import threading
import zlib
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


class SharedConcurrencyLimiter:
    """Requests in flight per account across the worker processes of one server (A9).

    The gunicorn master makes it before forking, so every worker maps the same
    anonymous shared memory. Each worker counts in its own row; admission sums the
    rows. The master clears a dead worker's row (child_exit), so a worker killed
    mid-request leaks no slot. Admission (sum, then count) is exclusive across processes
    by an fcntl record lock, which the kernel releases when its holder dies; a request
    ending takes its count back from its own row under the thread lock alone: only this
    process writes that row, and an admission reading it meanwhile sees the old, higher
    count (stricter, never looser). Two system calls a request instead of four.
    """

    KEY_BYTES = 32  # a userid is at most 6 characters: ≤ 24 bytes of UTF-8

    def __init__(self, rows: int, accounts: int = 1024) -> None:
        self.rows = rows
        self.accounts = accounts
        keys = accounts * self.KEY_BYTES
        self._mem = mmap.mmap(-1, keys + rows * accounts * 4)  # MAP_SHARED | MAP_ANONYMOUS
        self._keys = memoryview(self._mem)[:keys]
        self._counts = memoryview(self._mem)[keys:].cast("i")
        self._lock_file = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the server)
        self._thread_lock = threading.Lock()
        self._free_rows = list(range(rows))  # bookkeeping of the master
        self._slots: dict[str, int] = {}  # per-process cache of account slots
        self.row = 0  # the row of this process; set in each worker after the fork

    # ------------------------------------------------------------ master side

    def assign_row(self) -> int:
        """A free row for a worker about to be forked."""
        if not self._free_rows:
            raise RuntimeError("no free limiter row: more workers than rows")
        return self._free_rows.pop(0)

    def release_row(self, row: int) -> None:
        """A worker exited: whatever it had in flight is over."""
        with self._locked():
            for slot in range(self.accounts):
                self._counts[row * self.accounts + slot] = 0
        self._free_rows.append(row)

    # ------------------------------------------------------------ worker side

    @contextmanager
    def slot(self, userid: str, limit: int) -> Iterator[bool]:
        """Yields True when the request may proceed, False past the limit."""
        with self._locked():
            index = self.row * self.accounts + self._slot(userid)
            admitted = self._total(userid) < limit
            if admitted:
                self._counts[index] += 1
        try:
            yield admitted
        finally:
            if admitted:
                with self._thread_lock:  # this process's row: see the class docstring
                    self._counts[index] -= 1

    def in_flight(self, userid: str) -> int:
        with self._locked():
            return self._total(userid)

    def _total(self, userid: str) -> int:
        slot = self._slot(userid)
        return sum(self._counts[row * self.accounts + slot] for row in range(self.rows))

    def _slot(self, userid: str) -> int:
        """The account's column, claimed on first use (linear probing; called locked).
        With every column taken, accounts share one (a stricter limit, never a looser)."""
        cached = self._slots.get(userid)
        if cached is not None:
            return cached
        key = userid.encode("utf-8")[: self.KEY_BYTES].ljust(self.KEY_BYTES, b"\0")
        start = zlib.crc32(key) % self.accounts
        slot = start
        for probe in range(self.accounts):
            slot = (start + probe) % self.accounts
            stored = bytes(self._keys[slot * self.KEY_BYTES : (slot + 1) * self.KEY_BYTES])
            if stored == key:
                break
            if not any(stored):
                self._keys[slot * self.KEY_BYTES : (slot + 1) * self.KEY_BYTES] = key
                break
        else:
            slot = start
        self._slots[userid] = slot
        return slot

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._thread_lock:
            fcntl.lockf(self._lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.lockf(self._lock_file, fcntl.LOCK_UN)
