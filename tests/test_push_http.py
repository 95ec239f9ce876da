"""Push end to end: a served mock carrier pushes to a real receiver (§2.7, §2.8)."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Served, module_server, start_server
from tests.receiver import Receiver

FAST_RETRY = {"push_backoff_initial": 0.05, "push_backoff_max": 0.3}


served = module_server("push")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rx = Receiver().start()
    yield rx
    rx.stop()


@pytest.fixture
def push_on(served: Served, receiver: Receiver) -> Iterator:
    """Turn push on for an account, towards the receiver; off and reset afterwards."""
    touched: list[str] = []

    def turn_on(userid: str, **changes) -> None:
        touched.append(userid)
        settings = {
            "push_enabled": True,
            "push_rpt_url": f"{receiver.url}/rpt",
            "push_mo_url": f"{receiver.url}/mo",
            **FAST_RETRY,
            **changes,
        }
        assert served.admin("PATCH", f"/accounts/{userid}", json=settings).ok

    yield turn_on
    for userid in touched:
        served.admin("PATCH", f"/accounts/{userid}", json={"push_enabled": False})
        served.admin("POST", f"/accounts/{userid}/reset")


def pushed_due_times(served: Served, userid: str) -> dict[int, float]:
    rows = served.admin("GET", f"/accounts/{userid}/reports?state=pushed").json()
    return {r["msgid"]: r["due_at"] for r in rows}


def test_every_report_arrives_by_push_in_due_order_with_valid_digests_and_seqids(
    served, receiver, push_on
):
    push_on("REAL01", password="real-pass")  # default profile: reports due over ~0.3 s
    receiver.password = "real-pass"
    client = served.client("REAL01", "real-pass")
    sent = [client.batch_send([f"1380013{b}{n:03d}" for n in range(40)], "x") for b in range(3)]
    assert all(s.result == 0 for s in sent)
    items = receiver.wait_for_items(120)
    msgids = [i["msgid"] for i in items]
    assert sorted(msgids) == sorted(s.msgid + p for s in sent for p in range(40))  # §3.3
    assert len(msgids) == len(set(msgids))  # each once (no failure, no duplicate)
    # acknowledged, then committed as pushed: wait for the last commit
    receiver.wait_until(lambda: len(pushed_due_times(served, "REAL01")) == 120)
    due = pushed_due_times(served, "REAL01")
    arrival_due = [due[m] for m in msgids]
    assert arrival_due == sorted(arrival_due)  # in order of due time
    seqids = [p.request.seqid for p in receiver.received()]
    assert seqids == list(range(seqids[0], seqids[0] + len(seqids)))
    assert {p.auth_problem for p in receiver.pushes} == {""}  # md5 digest, fresh timestamp
    assert {p.request.problems == [] for p in receiver.pushes} == {True}
    assert [p.schema_problems for p in receiver.pushes] == [[]] * len(receiver.pushes)


def test_get_rpt_and_get_mo_hand_out_none_of_what_is_pushed(served, receiver, push_on):
    push_on("LONGCH", password="long-pass")
    client = served.client("LONGCH", "long-pass")
    client.single_send("13800138000", "to push")
    served.admin("POST", "/accounts/LONGCH/mo", json={"mobile": "13800138000", "content": "hi"})
    receiver.wait_for_items(1)
    receiver.wait_for_items(1, "mo")
    assert client.get_rpt().items == [] and client.get_mo().items == []
    # pull_while_push: what was not pushed yet can be pulled (receiver down: nothing pushed)
    receiver.stop()
    served.admin("PATCH", "/accounts/LONGCH", json={"pull_while_push": True})
    sent = client.single_send("13800138001", "to pull")
    rpts: list[dict] = []
    deadline = time.monotonic() + 10
    while not rpts and time.monotonic() < deadline:
        rpts = client.get_rpt().items
    assert [r["msgid"] for r in rpts] == [sent.msgid]


def test_under_pull_while_push_a_report_in_flight_is_not_pulled_as_well(served, receiver, push_on):
    receiver.hold = threading.Event()  # the push arrives, its answer waits
    push_on("J10003", password="111111", pull_while_push=True)
    client = served.client()
    sent = client.single_send("13800138002", "one way only")
    receiver.wait_until(lambda: bool(receiver.received(acked_only=False)))
    assert client.get_rpt().items == []  # in flight: not handed out by pull
    receiver.hold.set()
    receiver.wait_for_items(1)
    assert [i["msgid"] for i in receiver.items()] == [sent.msgid]
    assert client.get_rpt().items == []  # acknowledged: gone from the outbox


def test_a_receiver_trickling_its_answer_is_cut_at_push_timeout_and_nothing_goes_both_ways(
    served, receiver, push_on
):
    receiver.mode = "trickle"  # an acknowledgement, a byte per 0.05 s: 100 s in all
    slow_retry = {"push_backoff_initial": 30.0, "push_backoff_max": 30.0}
    push_on("J10003", password="111111", push_timeout=1.0, pull_while_push=True, **slow_retry)
    client = served.client()
    sent = client.single_send("13800138003", "trickled acknowledgement")
    receiver.wait_until(lambda: bool(receiver.received(acked_only=False)))
    assert client.get_rpt().items == []  # in flight: claimed, not pulled as well

    def failed() -> list[dict]:
        attempts = served.admin("GET", "/accounts/J10003/pushes?kind=rpt").json()
        return [a for a in attempts if not a["ok"]]

    receiver.wait_until(lambda: bool(failed()), timeout=10)
    attempt = failed()[0]
    assert attempt["error"] == "no answer within 1.0 s"
    assert 900 <= attempt["duration_ms"] < 1800  # the deadline, not 2000 reads of 0.05 s
    # not acknowledged: the claim is released and the report goes the other way, once
    pulled: list[dict] = []

    def pulled_some() -> bool:
        pulled.extend(client.get_rpt().items)
        return bool(pulled)

    receiver.wait_until(pulled_some)
    assert [r["msgid"] for r in pulled] == [sent.msgid]
    assert receiver.items() == []  # nothing acknowledged by push
    assert served.admin("GET", "/accounts/J10003/reports?state=pushed").json() == []


def test_after_the_receiver_was_down_it_gets_every_report_it_missed(served, receiver, push_on):
    push_on("NOSIG1", password="nosig-pass")
    receiver.password = "nosig-pass"
    client = served.client("NOSIG1", "nosig-pass")
    receiver.stop()  # down: connections refused
    sent = [client.batch_send([f"131{b + 1}{n:07d}" for n in range(25)], "x") for b in range(4)]

    def failures() -> list[dict]:
        attempts = served.admin("GET", "/accounts/NOSIG1/pushes?kind=rpt").json()
        return [a for a in attempts if not a["ok"]]

    deadline = time.monotonic() + 15
    while len(failures()) < 4:  # a few retries, each refused and logged
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert all("connection failed" in a["error"] and a["retry_in"] for a in failures())
    state = served.admin("GET", "/accounts/NOSIG1/push").json()["rpt"]
    assert state["pending"] == 100 and state["failures"] >= 4
    receiver.start()  # up again, on the same port
    items = receiver.wait_for_items(100)
    assert {i["msgid"] for i in items} == {s.msgid + p for s in sent for p in range(25)}
    # acknowledged, then committed: the outbox empties right after the last answer
    receiver.wait_until(
        lambda: served.admin("GET", "/accounts/NOSIG1/push").json()["rpt"]["pending"] == 0
    )


def test_pushes_resume_after_the_mock_is_killed(tmp_path: Path, receiver: Receiver):
    """kill -9 while reports wait in the outbox; the restarted mock pushes them all."""
    url = f"{receiver.url}/rpt"
    receiver.stop()
    mock = start_server(tmp_path, "--push-rpt-url", url)
    try:
        assert mock.admin("PATCH", "/accounts/J10003", json=FAST_RETRY).ok
        client = mock.client()
        sent = [client.batch_send([f"138{b + 1}{n:07d}" for n in range(50)], "x") for b in range(4)]
        deadline = time.monotonic() + 10
        while mock.admin("GET", "/accounts/J10003/push").json()["rpt"]["failures"] < 2:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        seqid_before = mock.admin("GET", "/accounts/J10003/push").json()["rpt"]["seqid"]
    finally:
        mock.stop(signal.SIGKILL)
    receiver.start()
    mock = start_server(tmp_path, "--push-rpt-url", url, db=mock.db)
    try:
        items = receiver.wait_for_items(200)
        assert {i["msgid"] for i in items} == {s.msgid + p for s in sent for p in range(50)}
        assert min(p.request.seqid or 0 for p in receiver.pushes) > seqid_before  # never reused
    finally:
        mock.stop()
