"""How the app waits. On a worker's event loop (mockcarrier.worker) a request runs to its
end unless it lets the loop turn, so its waits do: the loop runs the other requests
meanwhile. On any other thread (a pool thread, the pusher, a test) a wait blocks that
thread, as it should. The worker installs the loop's ways (worker.LoopWaits); this module
imports no gevent.
"""

from __future__ import annotations

import threading
import time
from typing import Any


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


current: ThreadWaits = ThreadWaits()


def install(waits: ThreadWaits) -> None:
    """The waits of this process from now on (a worker process installs its loop's)."""
    global current
    current = waits
