"""The pusher's doorbell (interface.Doorbell; mockcarrier/stores/sqlite/doorbell.py and
mockcarrier/stores/redis/doorbell.py): a ring from any process of the store wakes the
one listener; a ring nobody hears is lost without a word; on one host one listener per
store file, and closing frees its place. The pusher's use of it: tests/test_pusher.py."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from mockcarrier.config import Settings
from mockcarrier.stores import Store, open_store
from mockcarrier.stores.sqlite.doorbell import SocketDoorbell, bell_address

RING_FROM_ANOTHER_PROCESS = """
import sys
from mockcarrier.config import Settings
from mockcarrier.stores import open_store
open_store(Settings(db=sys.argv[1], store=sys.argv[2])).doorbell().ring()
"""


@pytest.fixture
def store(tmp_path: Path, store_url: str) -> Iterator[Store]:
    opened = open_store(Settings(db=str(tmp_path / "mock.db"), store=store_url))
    yield opened
    opened.close()


def ring_from_another_process(tmp_path: Path, store_url: str) -> None:
    argv = [sys.executable, "-c", RING_FROM_ANOTHER_PROCESS, str(tmp_path / "mock.db"), store_url]
    subprocess.run(argv, check=True, timeout=60)


def test_a_ring_from_another_process_wakes_the_listener(store, tmp_path, store_url):
    bell = store.doorbell()
    woken = threading.Event()
    assert bell.listen(woken.set)
    try:
        assert bell.listening
        ring_from_another_process(tmp_path, store_url)
        assert woken.wait(10), "the ring did not reach the listener"
    finally:
        bell.close()
    assert not bell.listening


def test_a_ring_nobody_listens_to_is_lost_without_a_word(store):
    store.doorbell().ring()  # no error, no wait


def test_rings_keep_waking_the_listener(store):
    bell, ringer = store.doorbell(), store.doorbell()
    woken = threading.Event()
    assert bell.listen(woken.set)
    try:
        for _ in range(3):
            woken.clear()
            ringer.ring()
            assert woken.wait(10)
    finally:
        bell.close()


def test_one_listener_per_store_file_on_a_host_and_closing_frees_its_place(tmp_path):
    first, second = SocketDoorbell(str(tmp_path / "a.db")), SocketDoorbell(str(tmp_path / "a.db"))
    elsewhere = SocketDoorbell(str(tmp_path / "b.db"))
    try:
        assert first.listen(lambda: None)
        assert not second.listen(lambda: None)  # another process's pusher listens still
        assert elsewhere.listen(lambda: None)  # another store's bell is another name
        first.close()
        assert second.listen(lambda: None)  # free when close returns
    finally:
        for bell in (first, second, elsewhere):
            bell.close()


def test_a_bell_says_it_listens_until_its_name_is_free(tmp_path):
    """Seen from another thread while close() waits for the listening thread: `listening`
    turns False only once a successor can bind (the pusher's lease change relies on it)."""
    bell, successor = SocketDoorbell(str(tmp_path / "a.db")), SocketDoorbell(str(tmp_path / "a.db"))
    in_wake, release = threading.Event(), threading.Event()
    assert bell.listen(lambda: (in_wake.set(), release.wait(10)))
    bell.ring()
    assert in_wake.wait(10)  # the listening thread is busy waking its pusher
    closer = threading.Thread(target=bell.close)
    closer.start()
    try:
        while bell._listener is not None:  # close() has told the thread to stop
            closer.join(0.01)
        assert bell.listening  # its thread holds the name still
        assert not successor.listen(lambda: None)
    finally:
        release.set()
        closer.join(10)
    assert not bell.listening
    assert successor.listen(lambda: None)  # free once it says so
    successor.close()


def test_the_bells_name_is_the_store_files_wherever_it_is_named_from(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert bell_address("mock.db") == bell_address(str(tmp_path / "mock.db"))
    assert bell_address("mock.db") != bell_address("other.db")


def test_a_listener_asked_again_listens_once(store, store_url, redis_server):
    bell = store.doorbell()
    try:
        assert bell.listen(lambda: None)
        assert bell.listen(lambda: None)  # every tick of the lease holder asks
        if store_url:  # Redis: one subscription to the channel, not one a tick
            with redis.Redis(port=redis_server.port, decode_responses=True) as admin:
                assert admin.pubsub_numsub(bell.channel) == [(bell.channel, 1)]
    finally:
        bell.close()
