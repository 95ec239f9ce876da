"""mockcarrier/stores/redis/groups.py: the sends on a worker's loop share one script call.

Rules: the sends read while a send gathers share its call, and each gets its own answer
(a refusal stays its own); the sends that arrive while a call is in flight form the next
group; off the loop each send makes its own call; a failed call fails every send of its
group, and a leader stopped while it gathers fails the others as a store failure; none
waits forever.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import gevent
import pytest

from mockcarrier import waits
from mockcarrier.config import AccountConfig
from mockcarrier.launch import RedisServer
from mockcarrier.stores import Arrears, StoreError, UnknownAccount
from mockcarrier.stores.redis import RedisStore
from mockcarrier.stores.redis.groups import LoopGroups
from mockcarrier.worker import LoopWaits

from .test_store import acceptance


@pytest.fixture
def on_the_loop(monkeypatch: pytest.MonkeyPatch) -> LoopWaits:
    """This thread's greenlets as a worker's requests on its loop."""
    loop = LoopWaits(lambda: True)
    monkeypatch.setattr(waits, "current", loop)
    return loop


@pytest.fixture
def store(redis_server: RedisServer) -> Iterator[RedisStore]:
    opened = RedisStore(redis_server.store_url(f"g{uuid.uuid4().hex[:12]}"))
    opened.ensure_accounts([AccountConfig(userid="T00001", balance=1000)])
    opened.accept(acceptance(cost=0))  # the script loaded, the counter block reserved
    yield opened
    opened.close()


def test_sends_spawned_on_the_loop_share_one_script_call(store: RedisStore, on_the_loop):
    calls = store._groups.calls
    sends = [gevent.spawn(store.accept, acceptance(cost=2)) for _ in range(8)]
    gevent.joinall(sends, raise_error=True)
    assert store._groups.calls - calls == 1
    assert len({send.value.msgid for send in sends}) == 8
    assert store.account("T00001").balance == 1000 - 16


def test_each_send_of_a_group_gets_its_own_answer(store: RedisStore, on_the_loop):
    sends = [
        gevent.spawn(store.accept, acceptance(userid="T00001", cost=1)),
        gevent.spawn(store.accept, acceptance(userid="NOSUCH", cost=1)),
        gevent.spawn(store.accept, acceptance(userid="T00001", cost=5000)),
        gevent.spawn(store.accept, acceptance(userid="T00001", cost=1)),
    ]
    gevent.joinall(sends)
    assert [type(send.exception) for send in sends] == [
        type(None),
        UnknownAccount,
        Arrears,
        type(None),
    ]
    assert store.account("T00001").balance == 998
    assert store._groups.calls == 2  # the one in the fixture, then this group


def test_sends_arriving_while_a_call_is_in_flight_form_the_next_group(on_the_loop):
    groups: list[list[int]] = []

    def run(items: list[int]) -> list[int]:
        groups.append(items)
        gevent.sleep(0.01)  # waiting for the reply: the loop serves the others
        return items

    group = LoopGroups(run)
    first = [gevent.spawn(group.call, n) for n in range(3)]
    gevent.sleep(0.005)  # the first group's call is in flight
    later = [gevent.spawn(group.call, n) for n in range(3, 6)]
    gevent.joinall(first + later, timeout=5, raise_error=True)
    assert groups == [[0, 1, 2], [3, 4, 5]]
    assert [g.value for g in first + later] == list(range(6))


def test_off_the_loop_each_send_makes_its_own_call(store: RedisStore):
    calls = store._groups.calls
    with ThreadPoolExecutor(4) as pool:
        accepted = list(pool.map(lambda _: store.accept(acceptance(cost=1)), range(8)))
    assert store._groups.calls - calls == 8
    assert len({a.msgid for a in accepted}) == 8


def test_a_failed_call_fails_every_send_of_its_group(on_the_loop):
    def run(items: list[int]) -> list[int]:
        raise StoreError("redis: connection refused")

    group = LoopGroups(run)
    sends = [gevent.spawn(group.call, n) for n in range(4)]
    gevent.joinall(sends, timeout=5)
    assert all(send.ready() for send in sends)  # none waits forever
    assert [str(send.exception) for send in sends] == ["redis: connection refused"] * 4


def test_a_leader_stopped_while_it_gathers_fails_the_others_as_a_store_failure():
    started = threading.Event()

    class SlowGather(LoopWaits):
        def gather(self) -> None:
            started.set()
            gevent.sleep(1)  # killed here

    previous, waits.current = waits.current, SlowGather(lambda: True)
    try:
        group: LoopGroups[int, Any] = LoopGroups(lambda items: items)
        leader = gevent.spawn(group.call, 1)
        gevent.sleep(0)
        joined = gevent.spawn(group.call, 2)
        gevent.sleep(0)
        leader.kill()
        joined.join(timeout=5)
    finally:
        waits.current = previous
    assert started.is_set()
    assert isinstance(joined.exception, StoreError)
