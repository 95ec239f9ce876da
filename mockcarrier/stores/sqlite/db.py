"""Connections, the writer lock and transactions of the SQLite store.

Every write is one `BEGIN IMMEDIATE` transaction taken under a writer lock: a thread lock
for the writers of this process, then a `flock` of `<db>-writer` for the processes
(docs/reliability.md), on the process's one write connection (its page cache stays warm
from one transaction to the next; each thread's own would start cold after any other
thread's write and read its pages again). Reads go straight to the thread's own
connection (WAL: readers never wait for the writer).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import partial
from typing import Any

from ... import waits
from .. import process
from ..interface import StoreError
from .board import VersionBoard
from .schema import create_or_check

VERSION_COUNTER = "version"  # counters row bumped by every cached-state change
ROW_CHECK_SECONDS = 1.0  # version() reads the counters row itself this often (board.py)
VERSION_ROW = f"SELECT value FROM counters WHERE name = '{VERSION_COUNTER}'"


class Database:
    """One SQLite file shared by every thread (and process) of the mock."""

    def __init__(self, path: str, busy_timeout: float = 10.0) -> None:
        if path in ("", ":memory:"):
            raise ValueError("the store needs a file path")
        self.path = path
        # How long a writer waits for another connection's lock (any process) before
        # the request fails with -100999.
        self.busy_timeout = busy_timeout
        # Test-only: a page limit makes SQLite answer "database or disk is full", the
        # way a full disk does; None is no limit (docs/reliability.md).
        self.page_limit: int | None = None
        self._local = threading.local()
        self._writer = threading.Lock()
        self._lock_fd: int | None = None
        self._lock_pid = 0
        self._writer_conn: sqlite3.Connection | None = None  # used under self._writer only
        self._writer_pid = 0
        self._inherited: list[sqlite3.Connection] = []  # a parent's, never used nor closed
        self._board = VersionBoard(f"{path}-version")
        self._row_version = 0  # the counters row as last read by version()
        self._row_checked = 0.0
        with self._write() as conn:
            create_or_check(conn, path)
            self._local.to_post = self._read_version(conn)  # catch the board up (board.py)

    def describe(self) -> str:
        return f"sqlite {self.path}"

    def close(self) -> None:
        """Close this thread's connection, and the write connection when no write is
        under way (the next call opens a new one)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        if self._writer.acquire(blocking=False):
            try:
                self._drop_writer_conn()
            finally:
                self._writer.release()

    # ------------------------------------------------------------ connections

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection, for reads."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._open()
        return conn

    def _open(self, check_same_thread: bool = True) -> sqlite3.Connection:
        conn = None
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,
                isolation_level=None,
                check_same_thread=check_same_thread,
            )
            conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: safe across kill -9
        except sqlite3.Error as exc:
            if conn is not None:  # a locked file: retried by the next request
                conn.close()
            raise StoreError(f"cannot open {self.path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        return conn

    def _write_conn(self) -> sqlite3.Connection:
        """Under self._writer: the process's write connection (one of its own in a
        forked child: SQLite connections must not cross a fork)."""
        if self._writer_conn is not None and self._writer_pid != process.pid():
            self._inherited.append(self._writer_conn)
            self._writer_conn = None
        if self._writer_conn is None:
            self._writer_conn = self._open(check_same_thread=False)
            self._writer_pid = process.pid()
        return self._writer_conn

    def _drop_writer_conn(self) -> None:
        if self._writer_conn is not None and self._writer_pid == process.pid():
            self._writer_conn.close()
        self._writer_conn = None

    def _read(self, sql: str, args: tuple[Any, ...] | list[Any] = ()) -> list[sqlite3.Row]:
        try:
            return self._conn().execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc

    def _scalar(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        rows = self._read(sql, args)
        return rows[0][0] if rows else None

    # ------------------------------------------------------------ writing

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, committed when the block ends without an exception.

        Writers queue on a thread lock, then on a flock() of a file beside the store (the
        kernel frees it when a process dies): both wake the next writer at once, where
        SQLite's busy handler polls with sleeps of up to 100 ms. Other programs that open
        the file still meet busy_timeout. A flock, not an fcntl record lock: the kernel's
        deadlock check for record locks counts processes, not threads, so a thread waiting
        here while another thread of its process waited on the limiter's record lock
        (limits.py) was refused with EDEADLK (tests/test_store_locks.py). On a worker's
        loop the locks are waited for by waits.take, the loop serving the others
        meanwhile (mockcarrier.worker)."""
        with waits.current.writing():
            writer = waits.acquiring(self._writer, self.busy_timeout)
            if not waits.current.take(writer, self._writer.release):
                raise StoreError("database is locked (another writer of this process)")
            try:
                fd = self._writer_fd()
                try:
                    waits.current.take(partial(flock_exclusive, fd), partial(flock_free, fd))
                except OSError as exc:
                    raise StoreError(f"cannot lock {self.path}-writer: {exc}") from exc
                try:
                    with self._transaction() as conn:
                        yield conn
                finally:
                    flock_free(fd)
            finally:
                self._writer.release()

    def _writer_fd(self) -> int:
        """This process's own descriptor of the writer lock file: a descriptor inherited
        across fork() shares its flock with the parent, so a child opens its own."""
        if self._lock_fd is None or self._lock_pid != process.pid():
            self._lock_fd = os.open(f"{self.path}-writer", os.O_RDWR | os.O_CREAT, 0o644)
            self._lock_pid = process.pid()
        return self._lock_fd

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._write_conn()
        try:
            if self.page_limit is not None:
                conn.execute(f"PRAGMA max_page_count={int(self.page_limit)}")
            # IMMEDIATE takes the write lock first, so read-then-write (counters, taking
            # reports) is serialised across threads and processes alike.
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc
        try:
            yield conn
            conn.execute("COMMIT")
            posted = getattr(self._local, "to_post", None)
            if posted is not None:  # still under the writer lock: posts keep commit order
                self._board.post(posted)
        except BaseException as exc:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            if conn.in_transaction:  # neither committed nor rolled back: start afresh
                self._drop_writer_conn()
            if isinstance(exc, sqlite3.Error):
                raise StoreError(str(exc)) from exc
            raise
        finally:
            self._local.to_post = None

    def _bump_version(self, conn: sqlite3.Connection) -> None:
        """Inside a write: the cached state (control, faults, accounts' configurations,
        auth failures) changed; readers of version() reload it once it is committed."""
        self._local.to_post = conn.execute(
            "UPDATE counters SET value = value + 1 WHERE name = ? RETURNING value",
            (VERSION_COUNTER,),
        ).fetchone()[0]

    @staticmethod
    def _read_version(conn: sqlite3.Connection) -> int:
        return int(conn.execute(VERSION_ROW).fetchone()[0])

    def version(self) -> int:
        """The board's number (no SQLite call: board.py), or the counters row's when
        a writer that posts nothing moved it (read once a second)."""
        now = time.monotonic()
        if now - self._row_checked >= ROW_CHECK_SECONDS:
            self._row_checked = now
            self._row_version = int(self._scalar(VERSION_ROW))
        return max(self._board.read(), self._row_version)


def flock_exclusive(fd: int, block: bool) -> bool:
    """The processes' writer lock (waits.Acquire): tried, or waited for."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if block else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:  # only when tried: another process holds it
        return False
    return True


def flock_free(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)
