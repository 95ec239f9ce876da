"""mockcarrier.stores.process: this process's id without a system call.

Rule: it is os.getpid(), in the process that imported it and in every child os.fork()
made after (gunicorn's workers): a child never takes its parent's id for its own, and so
never uses its parent's connections, locks or reserved ids."""

from __future__ import annotations

import os

from mockcarrier.stores import process


def test_the_id_is_the_process_own() -> None:
    assert process.pid() == os.getpid()


def test_a_forked_child_has_its_own_id() -> None:
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: say what it sees, and leave without pytest's teardown
        try:
            os.write(write, f"{process.pid()} {os.getpid()}".encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        seen, actual = answer.read().split()
    os.waitpid(child, 0)
    assert int(seen) == int(actual) == child != os.getpid()
    assert process.pid() == os.getpid()  # the parent's own, unchanged
