"""`mockcarrier serve --workers N`: several processes on one store (SQLite, and Redis).

Rules: every segment id (§3.3) is unique across processes; every report is handed out
exactly once by get_rpt, whichever process a poller reaches; -100056 counts requests in
flight across all processes (A9).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from mockcarrier.launch import free_port
from smsapi.errors import Result, TransportError

from .conftest import Served, module_server, start_server
from .helpers import LOAD_USER, Load, check_ids_unique_and_reports_once

many = module_server("workers", "--workers", "3", "--threads", "3")


@pytest.fixture(scope="module")
def slow(many: Served) -> Iterator[Served]:
    """many, with SLOW01 (conftest.Served.slow_account)."""
    with many.slow_account():
        yield many


def test_parallel_senders_and_pollers_see_unique_ids_and_each_report_once(
    many: Served,
) -> None:
    load = Load(lambda: many.client(*LOAD_USER), senders=6, pollers=3, retsize=40).start()
    check_ids_unique_and_reports_once(load, acks=150)


def slow_delay(served: Served, ms: int) -> None:
    """SLOW01 (max_concurrent 1) holds every answer ms milliseconds."""
    deadline = time.monotonic() + 30
    while True:  # also while workers respawn
        with contextlib.suppress(requests.ConnectionError):
            patched = served.admin("PATCH", "/accounts/SLOW01", json={"answer_delay_ms": ms})
            if patched.ok:
                return
        assert time.monotonic() < deadline, "admin API unreachable"
        time.sleep(0.05)


def test_the_concurrency_limit_counts_across_processes(slow: Served) -> None:
    # Nine requests at once land on three processes; counted per process, up to three
    # would pass. The held answer outlasts the other eight, even on a busy machine.
    client = slow.client("SLOW01", "slow-pass")
    slow_delay(slow, 3000)
    try:
        with ThreadPoolExecutor(9) as pool:
            results = list(pool.map(lambda _: client.get_balance().result, range(9)))
    finally:
        slow_delay(slow, 800)
    assert results.count(Result.OK) == 1
    assert results.count(Result.TOO_MANY_CONNECTIONS) == 8


def worker_pids(served: Served) -> list[int]:
    master = served.process.pid
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def test_a_worker_killed_mid_request_leaves_no_slot_taken(slow: Served) -> None:
    slow_delay(slow, 20_000)
    try:
        with ThreadPoolExecutor(1) as pool:
            held = pool.submit(slow.client("SLOW01", "slow-pass").get_balance)
            probe = slow.client("SLOW01", "slow-pass", timeout=1)
            deadline = time.monotonic() + 10
            while True:  # until some request holds the one slot (a probe may be it)
                try:
                    answer = probe.get_balance().answer
                    if answer["result"] == Result.TOO_MANY_CONNECTIONS:
                        break
                except TransportError:
                    break
                assert time.monotonic() < deadline, f"no request ever held the slot: {answer}"
            for pid in worker_pids(slow):  # the holder among them
                os.kill(pid, signal.SIGKILL)
            held.exception(timeout=30)  # refused, or cut by the kill
        slow_delay(slow, 0)
        deadline = time.monotonic() + 30
        while True:  # the master respawned workers and cleared the dead ones' counts
            with contextlib.suppress(TransportError):
                if slow.client("SLOW01", "slow-pass").get_balance().result == 0:
                    break
            assert time.monotonic() < deadline, "the dead worker's slot stays taken"
            time.sleep(0.05)
    finally:
        slow_delay(slow, 800)


def test_a_fresh_store_opened_by_several_processes_at_once_starts(tmp_path: Path) -> None:
    served = start_server(tmp_path, "--workers", "4", "--threads", "1")
    try:
        clients = [served.client(*LOAD_USER) for _ in range(8)]
        with ThreadPoolExecutor(8) as pool:
            sent = list(pool.map(lambda c: c.single_send("13912000001", "开"), clients))
        assert [s.result for s in sent] == [0] * 8
        assert len({s.msgid for s in sent}) == 8
    finally:
        served.stop()


def test_an_admin_change_outlives_a_worker_killed_and_a_restart(tmp_path: Path) -> None:
    """Issue 19 #6: each worker's app seeds the accounts from the configuration; a PATCH
    must not be undone by a respawned worker, nor by `serve` started again on the same
    store with the same configuration (mockcarrier.seeding)."""
    served = start_server(tmp_path, "--workers", "2", "--threads", "2")
    patch = {"allowed_ips": ["10.0.0.0/8"], "push_backoff_max": 120.0}
    try:
        assert served.admin("PATCH", "/accounts/REAL01", json=patch).ok
        before = set(worker_pids(served))
        for pid in before:
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while True:  # the master respawns both workers; each one ran create_app
            now = set(worker_pids(served))
            with contextlib.suppress(requests.ConnectionError):
                if len(now) == 2 and not now & before and served.admin("GET", "/health").ok:
                    break
            assert time.monotonic() < deadline, "workers were not respawned"
            time.sleep(0.05)
        for _ in range(6):  # whichever worker answers
            shown = served.admin("GET", "/accounts/REAL01").json()
            assert shown["allowed_ips"] == patch["allowed_ips"]
            assert shown["push_backoff_max"] == patch["push_backoff_max"]
    finally:
        served.stop()
    again = start_server(tmp_path, "--workers", "2", "--threads", "2", port=free_port())
    try:
        shown = again.admin("GET", "/accounts/REAL01").json()
        assert shown["allowed_ips"] == patch["allowed_ips"]
        assert again.client("REAL01", "real-pass").get_balance().result == Result.IP_NOT_ALLOWED
        # reset is the explicit way back to the configured account
        assert again.admin("POST", "/accounts/REAL01/reset").ok
        assert again.admin("GET", "/accounts/REAL01").json()["allowed_ips"] == []
    finally:
        again.stop()
