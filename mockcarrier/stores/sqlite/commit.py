"""Group commit: the sends of a process that arrive together share one write transaction.

A request queues its job and takes the process's leader lock; whoever holds it is the
committer. The leader takes the writer locks, then every job waiting (they queued while it
waited for those locks), runs each inside a SAVEPOINT of one `BEGIN IMMEDIATE`
transaction, commits once, then answers each. A request whose job a previous leader
committed finds it answered when it gets the lock and returns. No committer thread: an
uncontended send commits on its own thread, without two thread hand-offs (about 200 µs
a send, measured). None is answered before the commit that makes it durable, so nothing
acknowledged is lost on kill -9. A job that raises (Arrears, UnknownAccount, a full
disk...) is rolled back to its savepoint and fails alone; a failed COMMIT fails every job
of the group.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ..interface import StoreError

T = TypeVar("T")
MAX_GROUP = 512  # jobs in one transaction at most: bounds how long a commit holds the lock


class Job(Generic[T]):
    __slots__ = ("done", "error", "result", "run")

    def __init__(self, run: Callable[[sqlite3.Connection], T]) -> None:
        self.run = run
        self.done = threading.Event()
        self.result: T | None = None
        self.error: BaseException | None = None

    def answer(self) -> T:
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]


class GroupCommitter:
    """The group commit of one process (its state starts afresh after a fork)."""

    def __init__(self, write: Callable[[], Any]) -> None:
        self._write = write  # the store's _write(): a context manager giving a connection
        self.groups = 0  # transactions committed by this process (diagnostics)
        self._fresh()

    def _fresh(self) -> None:
        self._pid = os.getpid()
        self._leader = threading.Lock()  # held by the thread committing a group
        self._mutex = threading.Lock()  # guards _pending and _waiting
        self._pending: list[Job[Any]] = []
        self._waiting = 0

    def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run work(conn) in the next group transaction; its result once committed."""
        if self._pid != os.getpid():  # a forked child: no lock of the parent's is ours
            self._fresh()
        job = Job(work)
        with self._mutex:
            self._pending.append(job)
            self._waiting += 1
        try:
            while not job.done.is_set():
                with self._leader:  # a leader committing meanwhile may take this job too
                    if not job.done.is_set():
                        self._commit(job)
            return job.answer()
        finally:
            with self._mutex:
                self._waiting -= 1

    def waiting(self) -> int:
        """Jobs handed in and not answered yet."""
        return self._waiting

    def _take(self) -> list[Job[Any]]:
        with self._mutex:
            group = self._pending[:MAX_GROUP]
            del self._pending[:MAX_GROUP]
        return group

    def _commit(self, own: Job[Any]) -> None:
        """As the leader: one transaction for the jobs waiting once the writer locks are
        ours (own among them, or in a later group of this leader's loop in run())."""
        group: list[Job[Any]] = []
        try:
            with self._write() as conn:
                group = self._take()
                for number, job in enumerate(group):
                    _run_in_savepoint(conn, job, number)
            self.groups += 1
        except BaseException as exc:  # nothing of the group was committed
            failure = exc if isinstance(exc, StoreError) else StoreError(str(exc))
            if not group:  # the locks were not had: only the leader's own job fails
                with self._mutex:
                    if own in self._pending:
                        self._pending.remove(own)
                group = [own]
            for job in group:
                job.error = failure
        finally:
            for job in group:
                job.done.set()


def _run_in_savepoint(conn: sqlite3.Connection, job: Job[Any], number: int) -> None:
    name = f"job{number}"
    conn.execute(f"SAVEPOINT {name}")
    try:
        job.result = job.run(conn)
    except Exception as exc:  # this job's alone: the others go on
        conn.execute(f"ROLLBACK TO {name}")
        job.error = StoreError(str(exc)) if isinstance(exc, sqlite3.Error) else exc
    conn.execute(f"RELEASE {name}")
