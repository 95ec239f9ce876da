"""Load shared by the many-process and crash tests: sender threads that keep a ledger of
what the mock acknowledged, poller threads that keep every report handed out."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from smsapi import Client
from smsapi.errors import SmsApiError
from smsapi.msgid import expected_segment_ids
from smsapi.segments import segment_count

# The load account has no signature, so a text's segments are its own (§2.1.5, F8).
LOAD_USER = ("NOSIG1", "nosig-pass")
SHORT = "您的ETC已充值100元"
LONG = "通行费扣款通知：" * 12  # 96 characters: 2 segments


@dataclass(frozen=True)
class Ack:
    """A send the mock acknowledged: its msgid and each mobile's segment count."""

    msgid: int
    pktotals: tuple[int, ...]

    def segment_ids(self) -> set[int]:
        """§3.3 every report id this answer stands for."""
        return {i for ids in expected_segment_ids(self.msgid, list(self.pktotals)) for i in ids}


def mobiles(rng: random.Random, count: int) -> list[str]:
    # 13912xxxxxx never matches the magic pattern 1xx0000000d (README).
    return [f"13912{rng.randrange(10**6):06d}" for _ in range(count)]


def send_one(client: Client, rng: random.Random, turn: int) -> Ack | None:
    """One send of the mix (single, batch, multi; short and long texts); its Ack when
    the mock acknowledged it (result 0)."""
    kind = turn % 3
    if kind == 0:
        text = LONG if turn % 2 else SHORT
        sent = client.single_send(mobiles(rng, 1)[0], text)
        pktotals = [segment_count(text)]
    elif kind == 1:
        numbers = mobiles(rng, rng.randint(2, 20))
        sent = client.batch_send(numbers, SHORT)
        pktotals = [segment_count(SHORT)] * len(numbers)
    else:
        texts = [SHORT, LONG, SHORT]
        sent = client.multi_send(
            {"mobile": m, "content": t} for m, t in zip(mobiles(rng, 3), texts, strict=True)
        )
        pktotals = [segment_count(t) for t in texts]
    return Ack(sent.msgid, tuple(pktotals)) if sent.result == 0 else None


@dataclass
class Load:
    """Threads sending and polling against one mock until told to stop."""

    make_client: Callable[[], Client]
    senders: int = 4
    pollers: int = 2
    retsize: int = 50
    acks: list[Ack] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)  # result codes ≠ 0
    reports: list[dict] = field(default_factory=list)
    send_failures: int = 0  # no answer (transport error)
    poll_failures: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop_sending: threading.Event = field(default_factory=threading.Event)
    _stop_polling: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> Load:
        for n in range(self.senders):
            self._spawn(self._send_loop, n)
        for n in range(self.pollers):
            self._spawn(self._poll_loop, n)
        return self

    def _spawn(self, target: Callable[[int], None], n: int) -> None:
        thread = threading.Thread(target=target, args=(n,), daemon=True)
        thread.start()
        self._threads.append(thread)

    def _send_loop(self, n: int) -> None:
        client, rng, turn = self.make_client(), random.Random(n), n
        while not self._stop_sending.is_set():
            turn += 1
            try:
                ack = send_one(client, rng, turn)
            except SmsApiError:
                with self._lock:
                    self.send_failures += 1
                if self._stop_polling.wait(0.01):
                    return
                continue
            with self._lock:
                if ack:
                    self.acks.append(ack)
                else:
                    self.refused.append(turn)

    def _poll_loop(self, n: int) -> None:
        client = self.make_client()
        while not self._stop_polling.is_set():
            try:
                items = client.get_rpt(self.retsize).items
            except SmsApiError:
                with self._lock:
                    self.poll_failures += 1
                self._stop_polling.wait(0.01)
                continue
            with self._lock:
                self.reports.extend(items)
            if not items:
                self._stop_polling.wait(0.02)  # nothing due: poll again shortly (§2.5)

    def wait_for_acks(self, count: int, timeout: float = 30.0) -> None:
        """Until the mock acknowledged count sends (or fail)."""
        deadline = time.monotonic() + timeout
        while len(self.acks) < count:
            assert time.monotonic() < deadline, f"{len(self.acks)} of {count} sends acked"
            time.sleep(0.02)

    def wait_for_reports(self, ids: set[int], timeout: float = 30.0) -> None:
        """Until every id in ids came back in a report (or fail)."""
        deadline = time.monotonic() + timeout
        while not ids <= self.received():
            missing = len(ids - self.received())
            assert time.monotonic() < deadline, f"{missing} of {len(ids)} reports missing"
            time.sleep(0.02)

    def stop_sending(self) -> None:
        """Stop the senders and wait for their last answers (the ledger is then final)."""
        self._stop_sending.set()
        for thread in self._threads[: self.senders]:
            thread.join(timeout=60)
            assert not thread.is_alive(), "a sender hangs"

    def stop(self) -> None:
        self._stop_sending.set()
        self._stop_polling.set()
        for thread in self._threads:
            thread.join(timeout=60)
            assert not thread.is_alive(), "a load thread hangs"

    def received(self) -> set[int]:
        with self._lock:
            return {r["msgid"] for r in self.reports}

    def duplicates(self) -> list[int]:
        with self._lock:
            return [i for i, n in Counter(r["msgid"] for r in self.reports).items() if n > 1]

    def expected(self) -> set[int]:
        with self._lock:
            return set().union(*(a.segment_ids() for a in self.acks))

    def segment_count(self) -> int:
        with self._lock:
            return sum(sum(a.pktotals) for a in self.acks)


def check_ids_unique_and_reports_once(load: Load, acks: int) -> None:
    """Run a started load until `acks` sends were acknowledged, then require that no two
    acknowledged sends share a segment id (§3.3) and that every report of every one was
    handed out exactly once."""
    try:
        load.wait_for_acks(acks)
        load.stop_sending()
        expected = load.expected()
        assert len(expected) == load.segment_count()  # §3.3 no id answered twice
        load.wait_for_reports(expected)
    finally:
        load.stop()
    assert load.send_failures == 0 and load.refused == []
    assert load.duplicates() == []
    assert load.received() == expected


class Counted:
    """A real store, its method calls counted (a thin wrapper: every call goes through)."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if not callable(attr):
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return attr(*args, **kwargs)

        return counted


class Answering(BaseHTTPRequestHandler):
    """Answers every POST with a §2.6 balance, keeping the connection; notes the
    client's port of each request (one port per TCP connection) and its target.
    Served by the `answering` fixture (conftest.py)."""

    protocol_version = "HTTP/1.1"
    ports: list[int] = []
    targets: list[str] = []  # each request line's target: an absolute URL through a proxy

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).ports.append(self.client_address[1])
        type(self).targets.append(self.path)
        body = b'{"result":0,"chargetype":0,"balance":5,"money":"0"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def ports_around_a_pause(client: Client, pause: float = 0.3) -> tuple[int, int, int]:
    """Two get_balance calls back to back, a pause, a third (Answering's server): the
    client port of each, one port per TCP connection."""
    client.get_balance()
    client.get_balance()
    time.sleep(pause)  # the idleness under test, not a wait for anything
    client.get_balance()
    first, again, after_idle = Answering.ports
    return first, again, after_idle
