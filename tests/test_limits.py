"""mockcarrier.limits: §5.1 requests in flight per account; beyond the limit -100056."""

from __future__ import annotations

import multiprocessing
from contextlib import ExitStack

import pytest

from mockcarrier.limits import ConcurrencyLimiter, SharedConcurrencyLimiter


def test_admits_up_to_the_limit():
    limiter = ConcurrencyLimiter()
    with ExitStack() as stack:
        admitted = [stack.enter_context(limiter.slot("J10003", 3)) for _ in range(3)]
        assert admitted == [True, True, True]
        assert limiter.in_flight("J10003") == 3


def test_refuses_beyond_the_limit():
    limiter = ConcurrencyLimiter()
    with ExitStack() as stack:
        for _ in range(2):
            assert stack.enter_context(limiter.slot("J10003", 2))
        with limiter.slot("J10003", 2) as admitted:
            assert admitted is False
            assert limiter.in_flight("J10003") == 2


def test_a_refused_request_takes_no_slot():
    limiter = ConcurrencyLimiter()
    with limiter.slot("J10003", 1) as first:
        assert first
        for _ in range(5):
            with limiter.slot("J10003", 1) as again:
                assert not again
        assert limiter.in_flight("J10003") == 1
    assert limiter.in_flight("J10003") == 0


def test_frees_the_slot_on_exit():
    limiter = ConcurrencyLimiter()
    with limiter.slot("J10003", 1) as admitted:
        assert admitted
    assert limiter.in_flight("J10003") == 0
    with limiter.slot("J10003", 1) as admitted:
        assert admitted


def test_frees_the_slot_when_the_body_raises():
    limiter = ConcurrencyLimiter()
    with pytest.raises(RuntimeError), limiter.slot("J10003", 1) as admitted:
        assert admitted
        raise RuntimeError("handler failed")
    assert limiter.in_flight("J10003") == 0
    with limiter.slot("J10003", 1) as admitted:
        assert admitted


def test_refused_slot_that_raises_frees_nothing():
    limiter = ConcurrencyLimiter()
    with limiter.slot("J10003", 1) as first:
        assert first
        with pytest.raises(RuntimeError), limiter.slot("J10003", 1) as second:
            assert not second
            raise RuntimeError
        assert limiter.in_flight("J10003") == 1


def test_accounts_are_counted_apart():
    limiter = ConcurrencyLimiter()
    with limiter.slot("AAAAAA", 1) as a, limiter.slot("BBBBBB", 1) as b:
        assert a
        assert b
        assert limiter.in_flight("AAAAAA") == 1
        assert limiter.in_flight("BBBBBB") == 1


def test_unknown_account_has_nothing_in_flight():
    assert ConcurrencyLimiter().in_flight("NOBODY") == 0


# ---------------------------------------------------------------- across processes (A9)


def forked(limiter: SharedConcurrencyLimiter, row: int) -> SharedConcurrencyLimiter:
    """The limiter as a forked worker holding row sees it (same shared memory)."""
    limiter.row = row
    return limiter


def test_shared_limiter_sums_the_rows_of_every_worker():
    limiter = SharedConcurrencyLimiter(rows=3)
    with forked(limiter, 0).slot("J10003", 2) as first:
        assert first
        with forked(limiter, 1).slot("J10003", 2) as second:
            assert second
            with forked(limiter, 2).slot("J10003", 2) as third:
                assert third is False
            assert limiter.in_flight("J10003") == 2


def test_shared_limiter_clears_the_row_of_a_dead_worker():
    limiter = SharedConcurrencyLimiter(rows=2)
    row = limiter.assign_row()
    stack = ExitStack()
    assert stack.enter_context(forked(limiter, row).slot("J10003", 1))  # never released
    assert limiter.in_flight("J10003") == 1
    limiter.release_row(row)
    assert limiter.in_flight("J10003") == 0
    assert limiter.assign_row() != row  # a freed row goes to the back of the queue


def test_shared_limiter_counts_a_forked_process():
    limiter = SharedConcurrencyLimiter(rows=2)
    ctx = multiprocessing.get_context("fork")
    holding, release = ctx.Event(), ctx.Event()

    def child() -> None:
        with forked(limiter, 1).slot("J10003", 1) as admitted:
            assert admitted
            holding.set()
            release.wait(10)

    process = ctx.Process(target=child)
    process.start()
    try:
        assert holding.wait(10)
        with forked(limiter, 0).slot("J10003", 1) as admitted:
            assert admitted is False
    finally:
        release.set()
        process.join(10)
    assert process.exitcode == 0
    assert limiter.in_flight("J10003") == 0


def test_shared_limiter_keeps_accounts_apart_even_past_its_columns():
    limiter = SharedConcurrencyLimiter(rows=1, accounts=4)
    with ExitStack() as stack:
        for n in range(4):
            assert stack.enter_context(limiter.slot(f"ACC{n:03d}", 1))
        # every column taken: a fifth account shares one, a stricter limit, never looser
        assert limiter.in_flight("OTHER1") == 1
