"""Group commit: the sends of a process that arrive together share one write transaction.

A request queues its item and takes the process's leader lock; whoever holds it is the
committer. The leader takes the writer locks, then every item waiting (they queued while
it waited for those locks), hands them all to the group's work (sends.accept_group: a
handful of statements for the whole group, not a handful per send: each sqlite3 call
lets go of the GIL, and every let-go costs thread switches under load), commits once,
then answers each. A request whose item a previous leader committed finds it answered
when it gets the lock and returns. On a worker's event loop (mockcarrier.worker) a
request runs to its end without a switch, so nothing would join its group: there a send
first lets the loop take one turn (waits.gather), in which the requests read meanwhile
reach their sends and queue behind it; and the loop serves the others while the leader
waits for a lock another process or thread holds (waits.take, one writer of the loop at
a time: waits.writing), so the sends read meanwhile join its group too. No committer
thread: an uncontended send commits on its own thread, without two thread hand-offs.
None is answered before the commit that makes it durable, so nothing acknowledged is
lost on kill -9. The work answers each item with its result or with the exception that
refuses it alone (Arrears, UnknownAccount: refused before anything of it is written); an
exception out of the work (a full disk) or a failed COMMIT fails every item of the
group, and nothing of it is kept.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ... import waits
from .. import process
from ..interface import StoreError

Item = TypeVar("Item")  # what a request hands in
Answer = TypeVar("Answer")  # what it is answered
# The group's work: one answer per item, in order: its result, or the exception that
# refuses it alone (having written nothing of it).
GroupWork = Callable[[sqlite3.Connection, list[Item]], list["Answer | Exception"]]
MAX_GROUP = 512  # jobs in one transaction at most: bounds how long a commit holds the lock


class Job(Generic[Item, Answer]):
    """One request's item and, once done, its answer. Set by the leader that committed
    it while holding the leader lock: whoever takes the lock after it sees them (no
    event of its own to wait on)."""

    __slots__ = ("done", "error", "item", "result")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.done = False
        self.result: Answer | None = None
        self.error: BaseException | None = None

    def answer(self) -> Answer:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]


class GroupCommitter(Generic[Item, Answer]):
    """The group commit of one process (its state starts afresh after a fork)."""

    def __init__(self, write: Callable[[], Any], work: GroupWork[Item, Answer]) -> None:
        self._write = write  # the store's _write(): a context manager giving a connection
        self._work = work
        self.groups = 0  # transactions committed by this process (diagnostics)
        self._fresh()

    def _fresh(self) -> None:
        self._pid = process.pid()
        self._leader = threading.Lock()  # held by the thread committing a group
        self._mutex = threading.Lock()  # guards _pending and _waiting
        self._pending: list[Job[Item, Answer]] = []
        self._waiting = 0

    def run(self, item: Item) -> Answer:
        """Hand item to the next group transaction; its answer once committed."""
        if self._pid != process.pid():  # a forked child: no lock of the parent's is ours
            self._fresh()
        job: Job[Item, Answer] = Job(item)
        with self._mutex:
            self._pending.append(job)
            self._waiting += 1
        try:
            # no lock held: the sends that arrive meanwhile queue behind this one
            waits.current.gather()
            with waits.current.writing():
                while not job.done:  # a leader committing meanwhile may take this job too
                    waits.current.take(waits.acquiring(self._leader), self._leader.release)
                    try:
                        if not job.done:
                            self._commit(job)
                    finally:
                        self._leader.release()
            return job.answer()
        finally:
            with self._mutex:
                self._waiting -= 1

    def waiting(self) -> int:
        """Jobs handed in and not answered yet."""
        return self._waiting

    def _take(self) -> list[Job[Item, Answer]]:
        with self._mutex:
            group = self._pending[:MAX_GROUP]
            del self._pending[:MAX_GROUP]
        return group

    def _commit(self, own: Job[Item, Answer]) -> None:
        """As the leader: one transaction for the jobs waiting once the writer locks are
        ours (own among them, or in a later group of this leader's loop in run())."""
        group: list[Job[Item, Answer]] = []
        try:
            with self._write() as conn:
                group = self._take()
                answers = self._work(conn, [job.item for job in group])
            for job, answer in zip(group, answers, strict=True):
                if isinstance(answer, Exception):
                    job.error = answer
                else:
                    job.result = answer
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
                job.done = True
