"""Group commit: the sends of a process that arrive together share one write transaction.

A request hands its job to the process's committer thread and waits. The committer takes
every job waiting, runs each inside a SAVEPOINT of one `BEGIN IMMEDIATE` transaction (taken
under the same writer locks as every other write), commits once, then answers each job:
none is answered before the commit that makes it durable, so nothing acknowledged is lost
on kill -9. A job that raises (Arrears, UnknownAccount, a full disk...) is rolled back to
its savepoint and fails alone; a failed COMMIT fails every job of the group.
"""

from __future__ import annotations

import os
import queue
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
    """One committer thread per process (started on first use, again after a fork)."""

    def __init__(self, write: Callable[[], Any]) -> None:
        self._write = write  # the store's _write(): a context manager giving a connection
        self._start_lock = threading.Lock()
        self._pid = 0
        self._queue: queue.SimpleQueue[Job[Any]] = queue.SimpleQueue()
        self.groups = 0  # transactions committed by this process's committer (diagnostics)
        self._waiting = 0
        self._count = threading.Lock()

    def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run work(conn) in the next group transaction; its result once committed."""
        self._ensure_thread()
        job = Job(work)
        with self._count:
            self._waiting += 1
        try:
            self._queue.put(job)
            return job.answer()
        finally:
            with self._count:
                self._waiting -= 1

    def waiting(self) -> int:
        """Jobs handed in and not answered yet."""
        return self._waiting

    def _ensure_thread(self) -> None:
        if self._pid == os.getpid():
            return
        with self._start_lock:
            if self._pid != os.getpid():  # a forked child has no thread: its own queue
                self._queue = queue.SimpleQueue()
                threading.Thread(
                    target=self._loop, args=(self._queue,), name="group-commit", daemon=True
                ).start()
                self._pid = os.getpid()

    def _loop(self, jobs: queue.SimpleQueue[Job[Any]]) -> None:
        while True:
            group = [jobs.get()]
            while len(group) < MAX_GROUP:
                try:
                    group.append(jobs.get_nowait())
                except queue.Empty:
                    break
            self._commit(group)

    def _commit(self, group: list[Job[Any]]) -> None:
        try:
            with self._write() as conn:
                for number, job in enumerate(group):
                    _run_in_savepoint(conn, job, number)
            self.groups += 1
        except BaseException as exc:  # nothing of the group was committed
            failure = exc if isinstance(exc, StoreError) else StoreError(str(exc))
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
