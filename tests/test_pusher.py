"""mockcarrier.pusher: the outbox, seqid, backoff and the lease, over a real store and a
real receiver (the app is driven through Flask's test client; pushes go over HTTP)."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockcarrier import faults
from mockcarrier.app import create_app
from mockcarrier.config import AccountConfig, Settings
from mockcarrier.pusher import (
    LEASE,
    Pusher,
    PushTimeout,
    backoff_delay,
    claim_seconds,
    holder_dead,
    post_within,
)
from mockcarrier.service import Carrier
from mockcarrier.stores.sqlite.doorbell import SocketDoorbell
from smsapi.content import decode_mo_content, encode_mt_content
from smsapi.push import PushKind, encode_push, push_fields
from tests.receiver import Receiver, wait_until
from tests.test_redis_store import commands_of

# Fixed fates, so due order differs from position order: position 1 is due last.
MAGIC = {
    "13900000011": {"latency": 0.6},
    "13900000012": {"latency": 0.4},
    "13900000013": {"latency": 0.2},
    "13900000014": {"latency": 0.0},
}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rx = Receiver().start()
    yield rx
    rx.stop()


class Mock:
    """An app over a store file, its carrier and the pushers started on it."""

    def __init__(self, db: Path, account: AccountConfig, store: str = "") -> None:
        settings = Settings(db=str(db), store=store, seed=7, magic=MAGIC, accounts=[account])
        self.app = create_app(settings)
        self.carrier: Carrier = self.app.extensions["mockcarrier"]
        self.http = self.app.test_client()
        self.pushers: list[Pusher] = []

    def start_pusher(self, poll: float = 0.02, lease_ttl: float = 10.0) -> Pusher:
        pusher = Pusher(self.carrier, poll=poll, lease_ttl=lease_ttl).start()
        self.pushers.append(pusher)
        return pusher

    def send(self, mobiles: list[str], text: str = "push me") -> int:
        answer = self.http.post(
            "/sms/v2/std/batch_send",
            json={
                "userid": "J10003",
                "pwd": "111111",
                "mobile": ",".join(mobiles),
                "content": encode_mt_content(text),
            },
        ).get_json()
        assert answer["result"] == 0
        return answer["msgid"]

    def stop(self) -> None:
        for pusher in self.pushers:
            pusher.stop()


@pytest.fixture
def mocks(tmp_path: Path) -> Iterator[list[Mock]]:
    made: list[Mock] = []
    yield made
    for mock in made:
        mock.stop()


def account(receiver: Receiver, **changes) -> AccountConfig:
    return AccountConfig(
        auth_modes=["md5", "plain"],
        delivery_profile="instant",
        push_enabled=True,
        push_rpt_url=f"{receiver.url}/rpt",
        push_mo_url=f"{receiver.url}/mo",
        push_backoff_initial=0.05,
        push_backoff_max=0.2,
        **changes,
    )


def new_mock(
    mocks: list[Mock], tmp_path: Path, receiver: Receiver, store: str = "", **changes
) -> Mock:
    mock = Mock(tmp_path / "mock.db", account(receiver, **changes), store)
    mocks.append(mock)
    return mock


def outbox_empty(mock: Mock) -> None:
    """Wait for the commit that follows the last acknowledgement (the receiver has the
    items a moment before the store marks them pushed)."""
    wait_until(lambda: mock.carrier.store.pending_count("J10003", "rpt") == 0)


def seqids(receiver: Receiver, kind: str = "rpt") -> list[int]:
    """Every push's seqid, in order (0: a push without one)."""
    return [p.request.seqid or 0 for p in receiver.received(kind, acked_only=False)]


def holds_lease(mock: Mock, pusher: Pusher) -> bool:
    return (mock.carrier.store.lease(LEASE) or {}).get("holder") == pusher.holder


# ---------------------------------------------------------------- pure rules


def test_backoff_doubles_from_the_initial_delay_with_jitter_and_is_capped():
    rng = random.Random(1)
    for failures, base in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0)):
        delay = backoff_delay(failures, 1.0, 30.0, rng)
        assert 0.8 * base <= delay <= 1.2 * base
    assert backoff_delay(40, 1.0, 30.0, rng) == 30.0
    assert backoff_delay(10_000, 1.0, 30.0, rng) == 30.0  # no overflow


def test_post_within_ends_a_trickled_answer_at_the_deadline(receiver: Receiver) -> None:
    receiver.mode = "trickle"  # a byte per 0.05 s: the whole answer would take 100 s
    fields = push_fields(PushKind.RPT, "J10003", "111111", 1, [])
    body, content_type = encode_push(fields)
    started = time.monotonic()
    with pytest.raises(PushTimeout):
        post_within(f"{receiver.url}/rpt", body, content_type, timeout=0.5)
    assert 0.45 <= time.monotonic() - started < 1.5  # not a socket timeout per byte
    receiver.mode = "ok"
    status, answer = post_within(f"{receiver.url}/rpt", body, content_type, timeout=5)
    assert status == 200 and b'"result":0' in answer


def test_a_push_claim_outlasts_every_push_its_round_may_make():
    cfg = AccountConfig(userid="J10003", push_timeout=5.0)
    duplicate = faults.FaultRule(action=faults.PUSH_DUPLICATE)
    delay = faults.FaultRule(action=faults.PUSH_DELAY, delay_ms=30_000)
    assert claim_seconds(cfg, []) > 2 * 5.0  # two batches under push_reorder
    assert claim_seconds(cfg, [duplicate]) > 4 * 5.0  # and a duplicate of each
    assert claim_seconds(cfg, [duplicate, delay]) > 4 * (5.0 + 30.0)


def test_a_lease_holder_is_dead_only_when_its_process_on_this_host_is_gone():
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    host = socket.gethostname()
    assert holder_dead(f"{host}:{gone.pid}:abcd")
    assert not holder_dead(f"{host}:{os.getppid()}:abcd")  # alive
    assert not holder_dead(f"another-host:{gone.pid}:abcd")  # cannot tell: wait for expiry
    assert holder_dead(f"{host}:{os.getpid()}:not-a-live-pusher")  # our pid, earlier run


# ---------------------------------------------------------------- the outbox


def test_reports_go_in_due_order_one_request_each_with_seqid_growing_by_one(
    tmp_path, receiver, mocks
):
    mock = new_mock(mocks, tmp_path, receiver, push_rpt_batch=1)
    mock.start_pusher()
    base = mock.send(list(MAGIC))
    items = receiver.wait_for_items(4)
    assert [i["msgid"] for i in items] == [base + 3, base + 2, base + 1, base]  # due order
    assert seqids(receiver) == [1, 2, 3, 4]
    assert all(p.auth_problem == "" for p in receiver.pushes)
    outbox_empty(mock)
    assert len(mock.carrier.store.reports("J10003", "pushed")) == 4


def test_batches_hold_at_most_the_accounts_batch_size(tmp_path, receiver, mocks):
    mock = new_mock(mocks, tmp_path, receiver, push_rpt_batch=2)
    mobiles = [f"1380013{n:04d}" for n in range(5)]
    mock.send(mobiles)  # all due at once, before the pusher starts
    mock.start_pusher()
    receiver.wait_for_items(5)
    assert [len(p.request.items) for p in receiver.received()] == [2, 2, 1]


def test_a_refused_push_is_retried_with_a_new_seqid_until_acknowledged(tmp_path, receiver, mocks):
    mock = new_mock(mocks, tmp_path, receiver)
    receiver.mode = "error"  # {"result": -100999}: not received
    mock.start_pusher()
    base = mock.send(["13800138000"])
    wait_until(lambda: mock.carrier.store.push_lane("J10003", "rpt").failures >= 3)
    assert "result" in mock.carrier.store.push_lane("J10003", "rpt").last_error
    assert len(receiver.pushes) >= 3
    assert mock.carrier.store.pending_count("J10003", "rpt") == 1  # still in the outbox
    receiver.mode = "ok"
    receiver.wait_for_items(1)
    outbox_empty(mock)
    got = seqids(receiver)
    assert got == list(range(1, len(got) + 1))  # every request, retries too, +1
    attempts = mock.carrier.store.push_attempts("J10003", "rpt")
    assert attempts[0]["ok"] == 1 and attempts[0]["first_msgid"] == base
    failed = [a for a in attempts if not a["ok"]]
    assert all(0 < a["retry_in"] <= 0.2 for a in failed)  # push_backoff_max
    assert mock.carrier.store.push_lane("J10003", "rpt").failures == 0


def test_a_wrong_seqid_or_http_error_answer_does_not_count(tmp_path, receiver, mocks):
    mock = new_mock(mocks, tmp_path, receiver)
    mock.start_pusher()
    for mode in ("wrong-seqid", "http500"):
        receiver.mode = mode
        before = len(receiver.pushes)
        mock.send(["13800138000"])
        receiver.wait_until(lambda b=before: len(receiver.pushes) >= b + 2)  # retried
        assert mock.carrier.store.pending_count("J10003", "rpt") == 1
        receiver.mode = "ok"
        receiver.wait_until(lambda: mock.carrier.store.pending_count("J10003", "rpt") == 0)


def test_the_outbox_and_seqid_survive_a_new_process_on_the_same_file(tmp_path, receiver, mocks):
    first = new_mock(mocks, tmp_path, receiver)
    first.start_pusher()
    receiver.mode = "error"
    first.send(["13800138000", "13100000000"])
    receiver.wait_until(lambda: len(receiver.pushes) >= 2)
    first.stop()
    last_seqid = max(seqids(receiver))
    receiver.mode = "ok"
    second = new_mock(mocks, tmp_path, receiver)  # a new store connection, a new pusher
    second.start_pusher()
    receiver.wait_for_items(2)
    assert min(p.request.seqid for p in receiver.received()) > last_seqid


def test_only_the_lease_holder_pushes_and_another_takes_over_when_it_stops(
    tmp_path, receiver, mocks
):
    one = new_mock(mocks, tmp_path, receiver)
    two = new_mock(mocks, tmp_path, receiver)
    p1 = one.start_pusher()
    receiver.wait_until(lambda: holds_lease(one, p1))
    p2 = two.start_pusher()
    one.send([f"1390013{n:04d}" for n in range(20)])
    items = receiver.wait_for_items(20)
    assert len(items) == 20  # each once: the other process did not push
    p1.stop()  # releases the lease
    receiver.wait_until(lambda: holds_lease(two, p2))
    two.send(["13800138000"])
    assert len(receiver.wait_for_items(21)) == 21


def test_a_send_kept_where_the_lease_is_not_is_pushed_at_its_ring_not_at_the_poll(
    tmp_path, receiver, mocks, store_url
):
    # Two processes of one mock (two carriers on one store); the pushers poll once a
    # minute, so only the ring of the process that kept the send brings it in time.
    one = new_mock(mocks, tmp_path, receiver, store_url)
    two = new_mock(mocks, tmp_path, receiver, store_url)
    holder = one.start_pusher(poll=60)
    receiver.wait_until(lambda: holds_lease(one, holder) and holder.doorbell.listening)
    other = two.start_pusher(poll=60)
    two.send(["13800138000"])
    assert len(receiver.wait_for_items(1, timeout=15)) == 1
    assert not other.doorbell.listening  # the pusher without the lease hears no ring
    one.carrier.inject_mo("J10003", "13800138001", "回复")  # the holder's own: woken directly
    assert len(receiver.wait_for_items(1, kind="mo", timeout=15)) == 1


def test_on_redis_a_send_rings_in_its_own_round_trip_and_the_pusher_adds_none(
    tmp_path, receiver, mocks, redis_of_its_own
):
    mock = new_mock(mocks, tmp_path, receiver, redis_of_its_own.store_url("p"))
    pusher = Pusher(mock.carrier)  # not started: it holds no lease
    assert commands_of(redis_of_its_own, lambda: pusher.notify(sent=True)) == []
    assert commands_of(redis_of_its_own, pusher.notify) == ["PUBLISH"]  # an MO, a retry


def test_a_pusher_stops_listening_when_it_loses_the_lease(tmp_path, receiver, mocks):
    mock = new_mock(mocks, tmp_path, receiver)
    pusher = mock.start_pusher(lease_ttl=0.3)  # renewed every 0.1 s
    receiver.wait_until(lambda: holds_lease(mock, pusher) and pusher.doorbell.listening)
    taken = mock.carrier.store.acquire_lease(LEASE, "elsewhere:1:x", 60, time.time(), bool)
    assert taken
    receiver.wait_until(lambda: not pusher.doorbell.listening)
    successor = SocketDoorbell(str(tmp_path / "mock.db"))
    assert successor.listen(lambda: None)  # its name is free for the next holder
    successor.close()


def test_mos_are_pushed_in_the_accounts_charset(tmp_path, receiver, mocks):
    mock = new_mock(mocks, tmp_path, receiver, mo_charset="gbk")
    mock.start_pusher()
    mock.carrier.inject_mo("J10003", "13800138000", "测试短信")
    (mo,) = receiver.wait_for_items(1, "mo")
    assert mo["content"] == "%b2%e2%ca%d4%b6%cc%d0%c5"  # as §2.7.5 shows
    assert decode_mo_content(mo["content"], "gbk").text == "测试短信"
    assert seqids(receiver, "mo") == [1]  # MOs count their own seqid
    # schemas/push_mo_request.json is strict (UTF-8, C11): GBK is the only deviation
    assert [p.split(":")[0] for p in receiver.pushes[0].schema_problems] == ["mos/0/content"]


def test_mos_are_pushed_in_utf8_by_default_in_the_documents_shape(tmp_path, receiver, mocks):
    mock = new_mock(mocks, tmp_path, receiver)
    mock.start_pusher()
    mock.carrier.inject_mo("J10003", "13800138000", "验证码：6666")
    (mo,) = receiver.wait_for_items(1, "mo")
    assert decode_mo_content(mo["content"]).text == "验证码：6666"
    assert receiver.pushes[0].schema_problems == []
