"""How the app waits. On a worker's event loop (mockcarrier.worker) a request runs to its
end unless it lets the loop turn, so its waits do: the loop runs the other requests
meanwhile. On any other thread (a pool thread, the pusher, a test) a wait blocks that
thread, as it should. The worker installs the loop's ways (worker.LoopWaits); this module
imports no gevent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

# acquire(block): take a lock; block=False only tries (False: held elsewhere), block=True
# waits for it (False: its own timeout passed).
Acquire = Callable[[bool], bool]


def acquiring(lock: Any, timeout: float = -1) -> Acquire:
    """A thread lock's Acquire: tried, or waited for up to timeout (-1: no bound)."""
    return lambda block: lock.acquire(timeout=timeout) if block else lock.acquire(False)


class ThreadWaits:
    """The waits of a plain thread."""

    def gather(self) -> None:
        """Before a send leads a group (the SQLite group commit, stores/sqlite/commit.py;
        the Redis group send, stores/redis/groups.py). On a thread the time it waits for
        the writer's locks is the time the others join it: nothing."""

    def readable(self, fileno: int, timeout: float | None) -> None:
        """Before reading a reply the store waits for (stores/redis/connection.py): on a
        thread, nothing (the read itself blocks)."""

    def pause(self, seconds: float) -> None:
        """A held answer (answer_delay_ms, a delay fault)."""
        time.sleep(seconds)

    def on_the_loop(self) -> bool:
        """Whether the caller is a request on a worker's loop (not on a thread)."""
        return False

    def event(self) -> Any:
        """An event the caller can wait on: a greenlet's on the loop, a thread's here."""
        return threading.Event()

    def writing(self) -> AbstractContextManager[Any]:
        """Around a store write that takes locks (stores/sqlite/db.py, commit.py): on the
        loop one request at a time is in it, so a request never waits on the loop's
        thread for a lock another request of the loop holds. On a thread, nothing: the
        locks order the threads."""
        return nullcontext()

    def take(self, acquire: Acquire, release: Callable[[], None]) -> bool:
        """Take a lock that another thread or process may hold (the store's writer locks);
        what acquire(True) says. release gives it back: on the loop, a wait abandoned (the
        request killed) gives back what it took after all. On a thread, acquire(True)."""
        return acquire(True)


current: ThreadWaits = ThreadWaits()


def install(waits: ThreadWaits) -> None:
    """The waits of this process from now on (a worker process installs its loop's)."""
    global current
    current = waits
