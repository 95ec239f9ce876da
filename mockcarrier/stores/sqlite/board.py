"""The version board: the store's version() in 8 bytes of shared memory beside the file.

Every request asks whether the cached state moved (mockcarrier/snapshot.py). Asked of
SQLite, that one read cost about ten thread switches a request under load (each sqlite3
call lets go of the GIL, and eight threads wait for it); read from shared memory it costs
none. The counters row stays the truth: a writer that moves it posts the new value here
after its COMMIT, still under the writer lock, so posts come in commit order and the
board only moves forward. A store opening the file posts the row's value (a process
killed between its COMMIT and its post is caught up there), and version() reads the row
itself once a second, for writers that post nothing (a program that is not this mock).
"""

from __future__ import annotations

import mmap
import os
import struct

from ..interface import StoreError

SLOT = struct.Struct("<q")


class VersionBoard:
    """`<db>-version`, mapped shared by every process that opens the store."""

    def __init__(self, path: str) -> None:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot open {path}: {exc}") from exc
        try:
            if os.fstat(fd).st_size < SLOT.size:
                os.ftruncate(fd, SLOT.size)  # zeros; a racing opener's ftruncate is a no-op
            self._map = mmap.mmap(fd, SLOT.size)
        except OSError as exc:
            raise StoreError(f"cannot map {path}: {exc}") from exc
        finally:
            os.close(fd)  # the mapping keeps the file

    def read(self) -> int:
        return int(SLOT.unpack_from(self._map)[0])

    def post(self, version: int) -> None:
        """Under the writer lock only: the version a committed transaction left."""
        SLOT.pack_into(self._map, 0, version)
