"""This process's id without a system call.

The stores tell a forked child from its parent by its pid (a child must not use the
parent's connections, locks or reserved ids); os.getpid() is a system call, asked
several times a send. The id is kept here and renewed in every child os.fork() makes
(gunicorn's workers, multiprocessing's fork)."""

from __future__ import annotations

import os

_pid = os.getpid()


def _renew() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_renew)


def pid() -> int:
    """os.getpid(), as of the last fork."""
    return _pid
