"""Several `mockcarrier serve` instances on one Redis store (issue 8, scale 2), as when
they run on several hosts behind one address.

Rules: every segment id (§3.3) is unique whichever instance answered the send; every
report is handed out exactly once by get_rpt, whichever instance a poller reaches; one
pusher works at a time, so each report is pushed once and seqids (§2.7.3) grow by one.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockcarrier.launch import RedisServer

from .conftest import Served, start_server
from .helpers import LOAD_USER, Load, check_ids_unique_and_reports_once
from .receiver import Receiver


@pytest.fixture
def instances(tmp_path: Path, redis_server: RedisServer) -> Iterator[list[Served]]:
    """Two instances (two processes, two ports) given the same store URL."""
    url = redis_server.store_url(f"instances-{tmp_path.name}")
    started: list[Served] = []
    try:
        for n in range(2):
            (tmp_path / f"i{n}").mkdir()
            started.append(start_server(tmp_path / f"i{n}", store=url))
        yield started
    finally:
        for served in started:
            served.stop()


def alternating(instances: list[Served], userid: str, password: str):
    """A client factory handing out clients of each instance in turn."""
    turn = itertools.cycle(instances)
    lock = threading.Lock()

    def make():
        with lock:
            served = next(turn)
        return served.client(userid, password)

    return make


def test_senders_and_pollers_on_two_instances_see_unique_ids_and_each_report_once(
    instances: list[Served],
) -> None:
    load = Load(alternating(instances, *LOAD_USER), senders=4, pollers=2, retsize=40).start()
    check_ids_unique_and_reports_once(load, acks=120)


def test_one_pusher_for_all_instances_each_report_pushed_once(
    instances: list[Served],
) -> None:
    receiver = Receiver(password="real-pass").start()
    try:
        settings = {
            "push_enabled": True,
            "push_rpt_url": f"{receiver.url}/rpt",
            "push_backoff_initial": 0.05,
        }
        # The account lives in the shared store: a change through one instance is seen
        # by both.
        assert instances[0].admin("PATCH", "/accounts/REAL01", json=settings).ok
        sent = [
            served.client("REAL01", "real-pass").batch_send(
                [f"1391200{n}{k:03d}" for k in range(30)], "两个实例"
            )
            for n, served in enumerate(instances)
        ]
        assert [s.result for s in sent] == [0, 0]
        items = receiver.wait_for_items(60)
        msgids = [i["msgid"] for i in items]
        assert sorted(msgids) == sorted(s.msgid + p for s in sent for p in range(30))  # §3.3
        assert len(msgids) == len(set(msgids))
        seqids = [p.request.seqid for p in receiver.received()]
        assert seqids == list(range(seqids[0], seqids[0] + len(seqids)))
    finally:
        receiver.stop()
