"""mockcarrier.worker: where a request runs once it is read in full.

Rules: a request the app says may run on the event loop's own thread runs there, any
other on a pool thread; at most --threads at once are in the app on the loop, the others
enter in the order they came; the six endpoints run there on either store unless an
answer may be held or an account admits fewer requests in flight than the threads could
run (on Redis, as the snapshot last loaded says); on the loop a send lets it turn before
it commits, a SQLite write while it waits for a writer lock held elsewhere (one write of
the loop at a time, and a lock had for a request killed meanwhile is given back), and a
Redis send or hand-out while it waits for its reply, nothing else; the
admin API and the console always run on the threads; and in a served mock a held answer
never holds the loop, and clients that send their next request the moment they have an
answer are served in turn.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import re
import selectors
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import gevent
import pytest
from gevent._hub_local import get_hub_if_exists

from mockcarrier import control, faults, views, waits
from mockcarrier.app import create_app
from mockcarrier.config import AccountConfig, Settings
from mockcarrier.service import Carrier
from mockcarrier.stores import Store
from mockcarrier.stores.redis import RedisStore
from mockcarrier.stores.sqlite import SqliteStore
from mockcarrier.worker import AbandonableWait, LoopWaits, OffloadedApp
from smsapi.errors import Result

from .conftest import start_server
from .helpers import Counted
from .test_store import acceptance

ACCOUNT = AccountConfig(userid="J10003", password="111111", delivery_profile="instant")


# ---------------------------------------------------------------- the worker


def thread_of(offloaded: OffloadedApp, path: str) -> int:
    """The thread the app answered path on."""
    environ = {"PATH_INFO": path, "wsgi.input": io.BytesIO(b""), "CONTENT_LENGTH": ""}
    body = offloaded(environ, lambda status, headers: None)
    return int(b"".join(body))


def ident_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [])
    return [str(threading.get_ident()).encode()]


def test_a_request_the_app_calls_inline_runs_on_the_loop_thread_any_other_on_a_pool_thread():
    offloaded = OffloadedApp(ident_app, 2, 1024, lambda environ: environ["PATH_INFO"] == "/quick")
    assert thread_of(offloaded, "/quick") == threading.get_ident()
    assert thread_of(offloaded, "/other") != threading.get_ident()


def test_an_app_that_says_nothing_runs_every_request_on_a_pool_thread():
    offloaded = OffloadedApp(ident_app, 2, 1024, None)
    assert thread_of(offloaded, "/quick") != threading.get_ident()


def test_at_most_threads_requests_are_in_the_app_on_the_loop_at_once():
    """As many as the pool would run: an account admitting that many (runs_inline's
    condition) meets -100056 on the loop no sooner than on the threads."""
    inside = most = 0

    def waiting_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        nonlocal inside, most
        inside += 1
        most = max(most, inside)
        gevent.sleep(0.001)  # as a Redis send waiting for its reply lets the loop turn
        inside -= 1
        start_response("200 OK", [])
        return [b""]

    offloaded = OffloadedApp(waiting_app, 3, 1024, lambda environ: True)
    environ = {"PATH_INFO": "/", "wsgi.input": io.BytesIO(b""), "CONTENT_LENGTH": ""}
    answered = [gevent.spawn(offloaded, dict(environ), lambda *a: None) for _ in range(12)]
    gevent.joinall(answered, raise_error=True)
    assert most == 3
    assert (offloaded.in_the_app, len(offloaded.waiting)) == (0, 0)


def test_a_request_waiting_for_room_enters_before_any_that_came_after_it():
    offloaded = OffloadedApp(ident_app, 1, 1024, lambda environ: True)
    order: list[str] = []

    def enter(name: str) -> None:
        offloaded._enter()
        order.append(name)
        offloaded._leave()

    offloaded._enter()  # the only place taken
    waiter = gevent.spawn(enter, "waiter")
    gevent.sleep(0)  # it waits for room
    offloaded._leave()  # the place is the waiter's, though it has not run yet
    enter("newcomer")
    waiter.join()
    assert order == ["waiter", "newcomer"]


def test_a_request_killed_while_waiting_for_room_takes_no_place_with_it():
    offloaded = OffloadedApp(ident_app, 1, 1024, lambda environ: True)
    offloaded._enter()
    unserved = gevent.spawn(offloaded._enter)
    gevent.sleep(0)
    unserved.kill()  # still waiting
    handed = gevent.spawn(offloaded._enter)
    gevent.sleep(0)
    handed.kill(block=False)  # the kill comes first, then the place is handed over
    offloaded._leave()
    handed.join()
    assert (offloaded.in_the_app, len(offloaded.waiting)) == (0, 0)


def test_sends_on_the_loop_share_a_transaction_with_the_requests_read_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the loop's turn each would commit alone: a request on the loop runs to
    its end unless it lets the loop turn (stores/sqlite/commit.py)."""
    store = SqliteStore(str(tmp_path / "loop.db"))
    store.ensure_accounts([AccountConfig(userid="T00001", balance=0)])
    monkeypatch.setattr(waits, "current", LoopWaits(lambda: True))
    store.accept(acceptance(cost=0))  # the committer runs
    groups = store._committer.groups
    sends = [gevent.spawn(store.accept, acceptance(cost=0)) for _ in range(8)]
    gevent.joinall(sends, raise_error=True)
    assert len({send.value.msgid for send in sends}) == 8
    assert store._committer.groups - groups == 1
    store.close()


class HeldElsewhere:
    """The store's writer flock, held by another open file of it: as another process
    would hold it."""

    def __init__(self, store: SqliteStore) -> None:
        self.fd = os.open(f"{store.path}-writer", os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError: held

    def release(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def test_a_write_on_the_loop_waiting_for_the_writer_lock_lets_the_loop_serve_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were it to wait on the loop's thread, the worker would do nothing until the other
    process's transaction ended."""
    store = SqliteStore(str(tmp_path / "loop.db"))
    store.ensure_accounts([AccountConfig(userid="T00001", balance=0)])
    monkeypatch.setattr(waits, "current", LoopWaits(lambda: True))
    held = HeldElsewhere(store)
    done: list[str] = []

    def release_later() -> None:
        time.sleep(0.3)
        done.append("released")
        held.release()

    releaser = threading.Thread(target=release_later)
    releaser.start()
    write = gevent.spawn(lambda: (store.top_up("T00001", 5), done.append("written")))
    other = gevent.spawn(lambda: done.append("other"))
    gevent.joinall([write, other], raise_error=True)
    releaser.join()
    assert done == ["other", "released", "written"]
    assert store.account("T00001").balance == 5  # type: ignore[union-attr]
    store.close()


def test_sends_read_while_the_leader_waits_for_the_writer_lock_join_its_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqliteStore(str(tmp_path / "loop.db"))
    store.ensure_accounts([AccountConfig(userid="T00001", balance=0)])
    monkeypatch.setattr(waits, "current", LoopWaits(lambda: True))
    store.accept(acceptance(cost=0))  # the committer runs
    groups = store._committer.groups
    held = HeldElsewhere(store)
    releaser = threading.Timer(0.3, held.release)
    releaser.start()
    leader = gevent.spawn(store.accept, acceptance(cost=0))
    gevent.sleep(0.05)  # the leader is waiting for the lock by now
    later = [gevent.spawn(store.accept, acceptance(cost=0)) for _ in range(4)]
    gevent.joinall([leader, *later], raise_error=True)
    releaser.join()
    assert len({send.value.msgid for send in [leader, *later]}) == 5
    assert store._committer.groups - groups == 1
    store.close()


class CountedTakes(LoopWaits):
    """LoopWaits that count the lock waits in progress at once."""

    def __init__(self) -> None:
        super().__init__(lambda: True)
        self.now = self.most = 0

    def take(self, acquire: waits.Acquire, release: Any) -> bool:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            return super().take(acquire, release)
        finally:
            self.now -= 1


def test_on_the_loop_one_write_at_a_time_waits_for_the_writer_locks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The others wait their turn on the loop: each waiting for a lock would hold a
    helper thread of the hub's few, and the one holding the thread locks could find
    none left to wait for the flock."""
    store = SqliteStore(str(tmp_path / "loop.db"))
    store.ensure_accounts([AccountConfig(userid="T00001", balance=0)])
    counted = CountedTakes()
    monkeypatch.setattr(waits, "current", counted)
    held = HeldElsewhere(store)
    releaser = threading.Timer(0.2, held.release)
    releaser.start()
    writes = [gevent.spawn(store.top_up, "T00001", 1) for _ in range(4)]
    takes = [gevent.spawn(store.take_reports, "T00001", time.time(), 10) for _ in range(2)]
    sends = [gevent.spawn(store.accept, acceptance(cost=0)) for _ in range(2)]
    gevent.joinall(writes + takes + sends, raise_error=True)
    releaser.join()
    assert store.account("T00001").balance == 4  # type: ignore[union-attr]
    assert counted.most == 1
    store.close()


def test_a_write_killed_while_it_waits_for_the_writer_lock_leaves_it_free(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqliteStore(str(tmp_path / "loop.db"), busy_timeout=2.0)
    store.ensure_accounts([AccountConfig(userid="T00001", balance=0)])
    monkeypatch.setattr(waits, "current", LoopWaits(lambda: True))
    held = HeldElsewhere(store)
    releaser = threading.Timer(0.3, held.release)
    releaser.start()
    write = gevent.spawn(store.top_up, "T00001", 5)
    gevent.sleep(0.05)
    write.kill()
    releaser.join()
    gevent.get_hub().threadpool.join()  # the helper thread is done with the lock
    HeldElsewhere(store).release()  # another process can take it (or this would block)
    with ThreadPoolExecutor(1) as pool:  # a thread's write: a lock left taken fails it
        pool.submit(store.top_up, "T00001", 7).result(timeout=5)
    assert store.account("T00001").balance == 7  # type: ignore[union-attr]
    store.close()


def test_a_lock_had_after_its_wait_was_abandoned_is_given_back() -> None:
    lock = threading.Lock()
    lock.acquire()
    wait = AbandonableWait(waits.acquiring(lock), lock.release)
    helper = threading.Thread(target=wait.run)
    helper.start()
    wait.abandon()  # while the helper waits
    lock.release()
    helper.join()
    assert lock.acquire(blocking=False)


def test_a_lock_had_before_its_wait_was_abandoned_is_given_back() -> None:
    lock = threading.Lock()
    wait = AbandonableWait(waits.acquiring(lock), lock.release)
    assert wait.run()  # had, the request killed before it was told
    wait.abandon()
    assert lock.acquire(blocking=False)


class CountedWaits(LoopWaits):
    """LoopWaits that count the reply waits in progress at once."""

    def __init__(self) -> None:
        super().__init__(lambda: True)
        self.now = self.most = self.calls = 0

    def readable(self, fileno: int, timeout: float | None) -> None:
        self.now += 1
        self.calls += 1
        self.most = max(self.most, self.now)
        try:
            super().readable(fileno, timeout)
        finally:
            self.now -= 1


def test_redis_sends_and_hand_outs_on_the_loop_wait_for_their_replies_together(
    redis_server: Any, opened: list[Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = RedisStore(redis_server.store_url(f"w{time.monotonic_ns()}"))
    opened.append(store)
    store.ensure_accounts([AccountConfig(userid="T00001", balance=0)])
    for _ in range(9):
        store.accept(acceptance(cost=0))  # reports due; the scripts registered
    counted = CountedWaits()
    monkeypatch.setattr(waits, "current", counted)
    # (never reported: the takes hand out the nine before them, whatever the order)
    sends = [gevent.spawn(store.accept, acceptance(cost=0, due_ats=[None])) for _ in range(4)]
    takes = [gevent.spawn(store.take_reports, "T00001", time.time() + 60, 2) for _ in range(5)]
    gevent.joinall(sends + takes, raise_error=True)
    assert len({send.value.msgid for send in sends}) == 4
    assert len({report.msgid for take in takes for report in take.value}) == 9  # each once
    assert counted.calls >= 6  # the sends' group call and each take (a reply may come in parts)
    assert counted.most > 1  # one waited while another was sent


def test_other_redis_calls_hold_the_loop_for_their_reply(
    redis_server: Any, opened: list[Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A caller may hold a thread lock (the snapshot's reload does): were it to let the
    loop turn, the next request taking that lock would stop the loop's thread for good."""
    store = RedisStore(redis_server.store_url(f"w{time.monotonic_ns()}"))
    opened.append(store)
    store.ensure_accounts([AccountConfig(userid="T00001", balance=0)])
    counted = CountedWaits()
    monkeypatch.setattr(waits, "current", counted)
    store.version()
    store.accounts()
    store.control()
    assert counted.calls == 0


def test_a_held_answer_on_the_loop_lets_the_loop_serve_others_meanwhile() -> None:
    loop = LoopWaits(lambda: True)
    done: list[str] = []
    held = gevent.spawn(lambda: (loop.pause(0.2), done.append("held")))
    other = gevent.spawn(lambda: done.append("other"))
    gevent.joinall([held, other], raise_error=True)
    assert done == ["other", "held"]


def test_off_the_loops_thread_the_waits_make_no_hub() -> None:
    """A pool thread has no loop of its own to turn (nor should it make one)."""
    loop = LoopWaits(lambda: True)
    hubs: list[Any] = []
    reader, writer = socket.socketpair()
    writer.send(b"x")

    def elsewhere() -> None:
        loop.gather()
        loop.readable(reader.fileno(), 1.0)
        loop.pause(0.001)
        with loop.writing():
            lock = threading.Lock()
            assert loop.take(waits.acquiring(lock), lock.release)
        hubs.append(get_hub_if_exists())

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    reader.close()
    writer.close()
    assert hubs == [None]


# ---------------------------------------------------------------- what the carrier says


@pytest.fixture
def opened() -> Iterator[list[Store]]:
    stores: list[Store] = []
    yield stores
    for store in stores:
        store.close()


def carrier_on(
    store_url: str, tmp_path: Path, opened: list[Store], account: AccountConfig = ACCOUNT, **kw
) -> Carrier:
    db = str(tmp_path / "mock.db")
    store: Any = RedisStore(store_url) if store_url else SqliteStore(db)
    opened.append(store)
    settings = Settings(db=db, store=store_url, seed=7, accounts=[account], **kw)
    control.initialise(store, settings)
    return Carrier(settings, store)


SEND = {"PATH_INFO": "/sms/v2/std/single_send"}


def test_the_six_endpoints_run_inline_on_either_store(store_url, tmp_path, opened):
    carrier = carrier_on(store_url, tmp_path, opened)
    carrier.snapshot()  # on Redis, what decides is the snapshot last loaded
    assert views.runs_inline(carrier, SEND)


def test_on_redis_the_requests_run_on_the_threads_until_a_snapshot_is_loaded(
    redis_server, tmp_path, opened
):
    carrier = carrier_on(redis_server.store_url(f"w{time.monotonic_ns()}"), tmp_path, opened)
    carrier.snapshots._snapshot = None  # as a worker starts
    assert carrier.threads_reason() == "nothing read from the store yet"
    carrier.snapshot()
    assert views.runs_inline(carrier, SEND)


def test_on_redis_a_change_decides_where_requests_run_from_the_snapshot_that_loads_it(
    redis_server, tmp_path, opened
):
    carrier = carrier_on(redis_server.store_url(f"w{time.monotonic_ns()}"), tmp_path, opened)
    carrier.snapshot()
    carrier.store.put_account(ACCOUNT.updated({"answer_delay_ms": 1}))
    assert views.runs_inline(carrier, SEND)  # no round trip asked
    carrier.snapshot()
    assert carrier.threads_reason() == "an answer may be held: J10003's answer_delay_ms"


def test_telling_where_a_request_runs_costs_no_store_call_but_the_version(
    store_url, tmp_path, opened
):
    # Asked before every request: on Redis a store call would be a round trip.
    carrier = carrier_on(store_url, tmp_path, opened)
    counted = Counted(carrier.store)
    carrier.store = counted  # type: ignore[assignment]
    carrier.snapshots.store = counted  # type: ignore[assignment]
    carrier.snapshot()
    counted.calls.clear()
    views.runs_inline(carrier, SEND)
    assert dict(counted.calls) == ({} if store_url else {"version": 1})


def test_the_admin_api_and_the_console_run_on_the_threads(tmp_path, opened):
    carrier = carrier_on("", tmp_path, opened)
    for path in ("/__admin/accounts", "/", "/messages", "/sms/v2/std"):
        assert not views.runs_inline(carrier, {"PATH_INFO": path}), path
    for name in ("single_send", "batch_send", "multi_send", "get_balance", "get_rpt", "get_mo"):
        assert views.runs_inline(carrier, {"PATH_INFO": f"/sms/v2/std/{name}"}), name


def test_an_answer_delay_sends_the_requests_to_the_threads_from_the_next_one_on(tmp_path, opened):
    carrier = carrier_on("", tmp_path, opened)
    assert views.runs_inline(carrier, SEND)
    carrier.store.put_account(ACCOUNT.updated({"answer_delay_ms": 1}))
    assert not views.runs_inline(carrier, SEND)
    assert carrier.threads_reason() == "an answer may be held: J10003's answer_delay_ms"
    carrier.store.put_account(ACCOUNT)
    assert views.runs_inline(carrier, SEND)


def test_a_delay_fault_sends_the_requests_to_the_threads(tmp_path, opened):
    carrier = carrier_on("", tmp_path, opened)
    rule = faults.add(carrier.store, {"action": "delay", "endpoint": "get_rpt", "delay_ms": 5})
    assert not views.runs_inline(carrier, SEND)
    assert carrier.threads_reason() == f"an answer may be held: delay fault {rule['id']}"
    carrier.store.delete_faults()
    assert views.runs_inline(carrier, SEND)


def test_an_account_admitting_fewer_requests_than_the_threads_sends_them_to_the_threads(
    tmp_path, opened
):
    # 2 workers of 4 threads could run 8 requests at once: an account admitting 7
    # would meet -100056 there, and never if they ran one at a time on the loop.
    under = ACCOUNT.updated({"max_concurrent": 7})
    carrier = carrier_on("", tmp_path, opened, under, workers=2, threads=4)
    assert not views.runs_inline(carrier, SEND)
    assert carrier.threads_reason() == "J10003 admits 7 requests in flight, under 8 threads"
    carrier.store.put_account(ACCOUNT.updated({"max_concurrent": 8}))
    assert views.runs_inline(carrier, SEND)


def test_the_health_answer_says_where_the_requests_run_and_why(store_url, tmp_path, opened):
    carrier = carrier_on(store_url, tmp_path, opened)
    app = create_app(carrier.settings, carrier.store)
    health = app.test_client().get("/__admin/health", headers={"Host": "127.0.0.1:8080"})
    assert health.json["requests_run_on"] == "event loop", health.json


# ---------------------------------------------------------------- served


def test_a_held_answer_does_not_hold_the_loop(tmp_path: Path) -> None:
    served = start_server(tmp_path, "--threads", "2")  # one worker: one loop
    try:
        fault = {"action": "delay", "endpoint": "single_send", "delay_ms": 4000, "count": 1}
        assert served.admin("POST", "/faults", json=fault).status_code == 201
        with ThreadPoolExecutor(1) as pool:
            held = pool.submit(served.client().single_send, "13800138000", "held")
            deadline = time.monotonic() + 10
            while True:  # until the delay fired: the send's answer is held from then on
                started = time.monotonic()
                (rule,) = served.admin("GET", "/faults").json()
                assert time.monotonic() - started < 2.0, "the admin API waited on the loop"
                if rule["hits"]:
                    break
                assert time.monotonic() < deadline, "the delay never fired"
            started = time.monotonic()
            assert served.client().get_balance().result == Result.OK
            assert time.monotonic() - started < 2.0, "get_balance waited for the held answer"
            assert not held.done()  # it was answered while the other was held
            assert held.result(timeout=30).result == Result.OK
    finally:
        served.stop()


def test_clients_that_send_again_at_once_are_served_in_turn(tmp_path: Path) -> None:
    # 16 keep-alive connections, each sending its next get_balance the moment it has an
    # answer (as wrk does). On the loop, a connection whose next request is in before
    # the loop looks again must not be served again ahead of the others.
    served = start_server(tmp_path)  # one worker: one loop
    try:
        host, port = served.url.removeprefix("http://").split(":")
        body = json.dumps({"apikey": "abade5589e2798f82f006bbc36d269ce"}).encode()
        request = (
            f"POST /sms/v2/std/get_balance HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        counts = back_to_back(host, int(port), request, connections=16, seconds=3.0)
        assert min(counts) >= 20, counts  # every connection was served, many times
        assert min(counts) >= 0.8 * max(counts), counts
    finally:
        served.stop()


def back_to_back(
    host: str, port: int, request: bytes, connections: int, seconds: float
) -> list[int]:
    """Answers each connection got in `seconds`, each sending request again the moment
    its previous answer is in (one thread, non-blocking sockets: no client-side turns)."""
    counts, pending = [0] * connections, [b""] * connections
    socks: list[socket.socket] = []
    with selectors.DefaultSelector() as selector, ExitStack() as stack:
        for n in range(connections):
            sock = stack.enter_context(socket.create_connection((host, port)))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ, n)
            sock.sendall(request)
            socks.append(sock)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for key, _ in selector.select(0.1):
                n = key.data
                sock = socks[n]
                pending[n] += sock.recv(65536)
                while b"\r\n\r\n" in pending[n]:
                    head, rest = pending[n].split(b"\r\n\r\n", 1)
                    found = re.search(rb"(?i)content-length: *(\d+)", head)
                    assert found, head
                    length = int(found[1])
                    if len(rest) < length:
                        break
                    pending[n] = rest[length:]
                    counts[n] += 1
                    sock.sendall(request)
    return counts
