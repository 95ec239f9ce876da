"""The SQLite store's writer lock and the --workers concurrency limiter (limits.py), held
by threads of two processes at once, never make the kernel refuse a lock (EDEADLK):
found by benchmarks/year.py as -100999 answers under load with 2 workers."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from pathlib import Path

from mockcarrier.limits import SharedConcurrencyLimiter
from mockcarrier.stores.sqlite import SqliteStore


def waiting_locks(pids: set[int]) -> list[str]:
    """Lock requests of these processes the kernel has put to wait (/proc/locks lines with
    '->': `N: -> FLOCK ADVISORY WRITE <pid> <dev:inode> ...`). /proc/locks is the whole
    machine's: other processes (a parallel test worker's mock) must not count."""
    return [
        line
        for line in Path("/proc/locks").read_text().splitlines()
        if "->" in line and int(line.split("->", 1)[1].split()[3]) in pids
    ]


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_a_writer_waiting_while_its_process_waits_on_the_limiter_is_not_refused(
    tmp_path: Path,
) -> None:
    """Process A: thread 1 holds the writer lock, thread 2 waits on the limiter, which
    process B holds; B's other thread then asks for the writer lock. No thread is in a
    cycle (A's thread 1 needs nothing more), so B's writer must wait, then write."""
    path = str(tmp_path / "locks.db")
    SqliteStore(path).close()
    limiter = SharedConcurrencyLimiter(rows=4)  # made before the fork, as gunicorn does
    fork = multiprocessing.get_context("fork")
    child_holds_limiter, try_write, results = fork.Event(), fork.Event(), fork.Queue()

    def child() -> None:
        store = SqliteStore(path)
        release = threading.Event()

        def hold_limiter() -> None:
            with limiter._locked():
                child_holds_limiter.set()
                release.wait(30)

        holder = threading.Thread(target=hold_limiter)
        holder.start()
        try_write.wait(30)
        try:
            with store._write() as conn:
                conn.execute("SELECT 1")
            results.put("written")
        except Exception as exc:  # reported to the test, not swallowed
            results.put(repr(exc))
        release.set()
        holder.join()

    process = fork.Process(target=child)
    process.start()
    store = SqliteStore(path)
    release_writer, parent_errors = threading.Event(), []
    assert child_holds_limiter.wait(30)

    def hold_writer() -> None:
        with store._write():
            release_writer.wait(30)

    def wait_on_limiter() -> None:
        try:
            with limiter._locked():
                pass
        except Exception as exc:  # reported below
            parent_errors.append(exc)

    ours = {os.getpid(), process.pid}
    writer = threading.Thread(target=hold_writer)
    writer.start()
    wait_for(lambda: store._writer.locked())
    waiter = threading.Thread(target=wait_on_limiter)
    waiter.start()
    wait_for(lambda: len(waiting_locks(ours)) >= 1)  # thread 2 blocked on B's record lock
    try_write.set()
    # B's writer either waits (a second blocked lock) or was refused at once.
    wait_for(lambda: len(waiting_locks(ours)) >= 2 or not results.empty())
    release_writer.set()
    writer.join()
    outcome = results.get(timeout=30)
    waiter.join(30)
    process.join(30)
    store.close()
    assert outcome == "written"
    assert parent_errors == []
