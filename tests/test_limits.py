"""mockcarrier.limits: §5.1 requests in flight per account; beyond the limit -100056."""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from mockcarrier.limits import ConcurrencyLimiter


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
