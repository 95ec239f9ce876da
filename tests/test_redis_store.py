"""The Redis store's own rules (mockcarrier/stores/redis/): one round trip per send,
what was handed out expires after the retention and takes its index entries along,
messages stay compact, counters are never shared by two stores or two processes, a call
sent again after its reply was lost applies once (a send, a top-up, a fault's firing, a
new fault, a seqid, a hand-out, a push's attempt line). The rules both stores keep are
in tests/test_store.py and tests/test_store_equivalence.py."""

from __future__ import annotations

import dataclasses
import multiprocessing
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from mockcarrier import ids
from mockcarrier.config import AccountConfig
from mockcarrier.delivery import Fate
from mockcarrier.launch import RedisServer
from mockcarrier.stores import StaleSnapshot, StoreError
from mockcarrier.stores.interface import Drawn
from mockcarrier.stores.redis import DEFAULT_RETENTION, RedisStore
from mockcarrier.stores.redis.connection import bucket
from mockcarrier.stores.redis.sends import COUNTER_BLOCK

from .conftest import started_redis
from .test_store import PREFIX, acceptance, mo, taken

ACCOUNTS = [AccountConfig(userid="T00001", balance=10_000)]


def opened(server: RedisServer, query: str = "") -> tuple[RedisStore, str]:
    prefix = f"r{uuid.uuid4().hex[:12]}"
    store = RedisStore(server.store_url(prefix) + query)
    store.ensure_accounts(ACCOUNTS)
    return store, prefix


@pytest.fixture
def admin(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis(port=redis_server.port, decode_responses=True)
    yield client
    client.close()


@pytest.fixture(scope="module")
def quiet_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server no other test talks to: MONITOR sees only this test's commands
    (the shared one also serves other modules' mocks, whose pushers run meanwhile)."""
    server = started_redis(tmp_path_factory.mktemp("quiet-redis"))
    yield server
    server.stop()


def commands_of(server: RedisServer, action: Callable[[], object], lua: bool = False) -> list[str]:
    """The commands clients sent Redis during action (MONITOR; a script's own commands
    are not the client's: MONITOR marks them lua), or with lua those of the scripts."""
    seen: list[str] = []
    start, end = f"start-{uuid.uuid4().hex}", f"end-{uuid.uuid4().hex}"
    watcher = redis.Redis(port=server.port, decode_responses=True)
    started = threading.Event()

    def monitor() -> None:
        with watcher.monitor() as m:
            for row in m.listen():
                command = row["command"]
                if command == f"ECHO {start}":
                    started.set()
                elif command == f"ECHO {end}":
                    return
                elif started.is_set() and (row.get("client_type") == "lua") == lua:
                    seen.append(command.split()[0].upper())

    admin = redis.Redis(port=server.port)
    thread = threading.Thread(target=monitor)
    thread.start()
    # MONITOR is registered once its reply is read, which no event tells: echo a marker
    # until the watcher sees one, then act.
    deadline = time.monotonic() + 10
    while not started.wait(0.05):
        assert time.monotonic() < deadline, "MONITOR never started"
        admin.echo(start)
    action()
    admin.echo(end)
    thread.join(30)
    admin.close()
    watcher.close()
    return seen


def counter_of(msgid: int) -> int:
    return ids.decompose(msgid)[1]


# ---------------------------------------------------------------- round trips


def test_a_send_is_one_evalsha_and_nothing_else(quiet_redis: RedisServer):
    store, _ = opened(quiet_redis)
    store.accept(acceptance())  # the script is loaded and the counter block reserved
    assert commands_of(quiet_redis, lambda: store.accept(acceptance())) == ["EVALSHA"]
    batch = acceptance(due_ats=[0.5] * 1000, pktotal=2)
    assert commands_of(quiet_redis, lambda: store.accept(batch)) == ["EVALSHA"]


def test_a_send_of_an_account_that_pushes_rings_the_doorbell_in_its_one_evalsha(
    quiet_redis: RedisServer,
):
    store, _ = opened(quiet_redis)
    bell, woken = store.doorbell(), threading.Event()
    assert bell.listen(woken.set)  # its subscription takes a connection of the pool
    store.accept(acceptance())  # the script is loaded and the counter block reserved
    pushing = dataclasses.replace(acceptance(), push=True)
    try:
        assert commands_of(quiet_redis, lambda: store.accept(pushing)) == ["EVALSHA"]
        assert woken.wait(10), "the pusher's doorbell was not rung"
    finally:
        bell.close()
    published = lambda send: commands_of(quiet_redis, send, lua=True).count("PUBLISH")  # noqa: E731
    assert published(lambda: store.accept(pushing)) == 1
    assert published(lambda: store.accept(acceptance())) == 0  # no push, no ring


def test_a_user_barred_from_the_doorbells_channel_still_sends(quiet_redis: RedisServer):
    """An ACL user with every key but no channel (Redis 7's default for a new user): the
    ring is refused, the send is not."""
    admin = redis.Redis(port=quiet_redis.port)
    user = f"u{uuid.uuid4().hex[:8]}"
    admin.acl_setuser(
        user, enabled=True, passwords=["+pw"], keys=["*"], commands=["+@all"], reset_channels=True
    )
    try:
        url = quiet_redis.store_url(f"r{uuid.uuid4().hex[:12]}").replace("://", f"://{user}:pw@")
        store = RedisStore(url)
        store.ensure_accounts(ACCOUNTS)
        store.accept(dataclasses.replace(acceptance(), push=True))
        assert store.account("T00001").balance == ACCOUNTS[0].balance - 1
        bell = store.doorbell()
        assert not bell.listen(lambda: None)  # SUBSCRIBE refused: the pusher polls
        # the lease holder asks at every tick: not again before RETRY_AFTER
        assert commands_of(quiet_redis, lambda: bell.listen(lambda: None)) == []
        bell.ring()  # refused, silently
    finally:
        admin.acl_deluser(user)
        admin.close()


def test_a_get_rpt_is_one_evalsha(quiet_redis: RedisServer):
    store, _ = opened(quiet_redis)
    store.accept(acceptance(due_ats=[0.5] * 10))
    assert taken(store, 0.0) == []  # the script is loaded
    got: list = []
    assert commands_of(quiet_redis, lambda: got.extend(taken(store, 1.0))) == ["EVALSHA"]
    assert len(got) == 10


def test_a_send_checked_against_a_moved_version_writes_nothing(redis_server: RedisServer):
    """The send script checks the version the request was checked against (one round
    trip: service.Carrier sends on the cached snapshot): moved, nothing is billed or kept
    and its counters go to the next send; the version as it is, the send is kept."""
    store, _ = opened(redis_server)
    version = store.version()
    store.record_auth_failure("T00001", time.time())  # moves the version
    before = store.account("T00001")
    with pytest.raises(StaleSnapshot):
        store.accept(dataclasses.replace(acceptance(), version=version))
    assert store.account("T00001") == before
    assert store.messages("T00001") == []
    accepted = store.accept(dataclasses.replace(acceptance(), version=store.version()))
    assert counter_of(accepted.msgid) == 1  # the refused send's counter, not skipped
    assert store.account("T00001").balance == before.balance - 1


def test_a_send_call_sent_again_is_written_once(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
):
    """redis-py sends a call again once when it lost the reply (the connection's Retry):
    the script ran, and must not bill or keep the send twice."""
    store, _ = opened(redis_server)
    real = store._run

    def sent_twice(script: str, args: list, client: object = None) -> object:
        if script == "ACCEPT":
            real(script, args)  # its reply lost
        return real(script, args, client)

    monkeypatch.setattr(store, "_run", sent_twice)
    accepted = store.accept(acceptance(cost=3, due_ats=[0.5, 0.5]))
    assert store.account("T00001").balance == 10_000 - 3
    listed = sorted(m["msgid"] for m in store.messages("T00001"))
    assert listed == [accepted.msgid, accepted.msgid + 1]


class LostReply:
    """The reply to the store's next script call is read and then lost, as when the
    connection drops after Redis ran the call: redis-py's Retry sends it again."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.passing = -1  # replies read before the one lost; -1: none is lost
        self.lost = 0
        real = redis.connection.AbstractConnection.read_response

        def read_response(conn: Any, *args: Any, **kwargs: Any) -> Any:
            answer = real(conn, *args, **kwargs)
            if self.passing == 0:
                self.lost += 1
                self.passing = -1
                raise redis.ConnectionError("the reply was lost")
            self.passing -= self.passing > 0
            return answer

        monkeypatch.setattr(redis.connection.AbstractConnection, "read_response", read_response)

    def next_call(self, call: Callable[[], object], after: int = 0) -> object:
        """call, losing the reply after `after` replies it reads."""
        self.passing = after
        answer = call()
        assert self.lost == 1  # the call did meet a lost reply
        self.lost = 0
        return answer


def test_calls_whose_reply_is_lost_are_not_applied_twice(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
):
    """A top-up, a fault's firing, a new fault, a push lane's seqid and a push's attempt
    line: each call's own key tells the call sent again that it ran (and what it
    answered)."""
    store, _ = opened(redis_server)
    store.top_up("T00001", 0)  # each script loaded: the first call meets NOSCRIPT
    first = store.add_fault({"endpoint": "single_send", "action": "error"}, 5)
    store.consume_fault(first)
    store.next_seqid("T00001", "rpt")
    lost = LostReply(monkeypatch)
    assert lost.next_call(lambda: store.top_up("T00001", 7)).balance == 10_007
    assert store.account("T00001").balance == 10_007
    assert lost.next_call(lambda: store.consume_fault(first)) is True
    assert [(f["remaining"], f["hits"]) for f in store.faults()] == [(3, 2)]
    second = lost.next_call(lambda: store.add_fault({"endpoint": "get_mo"}, None))
    assert [f["id"] for f in store.faults()] == [first, second]
    assert lost.next_call(lambda: store.next_seqid("T00001", "rpt")) == 2
    assert store.next_seqid("T00001", "rpt", advance=False) == 2
    attempt = {"userid": "T00001", "kind": "rpt", "outcome": "acked"}
    store.record_push(attempt)  # the log's script loaded
    # after the attempt's id: the transaction's first reply (MULTI's) is lost
    lost.next_call(lambda: store.record_push(attempt, lane=(0, 0.0, "")), after=1)
    assert len(store.push_attempts("T00001")) == 2  # logged once each


def test_a_hand_out_whose_reply_is_lost_hands_the_same_out_again(
    redis_server: RedisServer, admin: redis.Redis, monkeypatch: pytest.MonkeyPatch
):
    """Sent again, a get_rpt or get_mo that ran would hand out the next ones: the first
    ones would be lost, handed out to nobody. An empty poll or a peek keeps nothing."""
    store, prefix = opened(redis_server)
    accepted = store.accept(acceptance(due_ats=[0.0, 0.0, 0.0]))
    first = store.reserve_ids(3)
    for n in range(3):
        store.add_mo("T00001", mo(first + n))
    assert store.take_reports("T00001", -1.0, 1) == []  # the script loaded, nothing due
    assert store.pending_mos("T00001", time.time(), 1)  # loaded too, nothing taken
    assert admin.keys(f"{prefix}:once:*") == []
    lost = LostReply(monkeypatch)
    now = time.time() + 60
    reports = lost.next_call(lambda: store.take_reports("T00001", now, 2))
    assert [r.msgid for r in reports] + taken(store, now) == [
        accepted.msgid, accepted.msgid + 1, accepted.msgid + 2,
    ]  # fmt: skip
    mos = lost.next_call(lambda: store.take_mos("T00001", now, 2))
    mos += store.take_mos("T00001", now, 5)
    assert [m.msgid for m in mos] == [first, first + 1, first + 2]
    # A pusher's claim: sent again, it claims the same ones, not the next ones too
    pushed = store.accept(acceptance(due_ats=[0.0, 0.0, 0.0]))
    claimed = lost.next_call(lambda: store.pending_reports("T00001", now, 1, claim_for=60))
    assert [r.msgid for r in claimed] == [pushed.msgid]
    unclaimed = store.pending_reports("T00001", now, 5)
    assert [r.msgid for r in unclaimed] == [pushed.msgid + 1, pushed.msgid + 2]
    moid = store.reserve_ids(2)
    for n in range(2):
        store.add_mo("T00001", mo(moid + n))
    claimed_mos = lost.next_call(lambda: store.pending_mos("T00001", now, 1, claim_for=60))
    assert [m.msgid for m in claimed_mos] == [moid]
    assert [m.msgid for m in store.pending_mos("T00001", now, 5)] == [moid + 1]


def test_a_kept_answer_is_dropped_by_the_next_call_once_its_call_was_answered(
    redis_server: RedisServer, admin: redis.Redis
):
    """A hand-out's kept answer (tens of KB) lives until the next call, not ONCE_SECONDS:
    held that long, they grew the Redis year's memory 1.2 times from half way."""
    store, prefix = opened(redis_server)
    store.accept(acceptance(due_ats=[0.0, 0.0]))
    assert len(taken(store, 1.0, 1)) == 1  # handed out: its answer kept for a resend
    assert len(admin.keys(f"{prefix}:once:*")) == 1
    store.top_up("T00001", 1)  # any call of a Once script drops it
    kept = admin.keys(f"{prefix}:once:*")
    assert len(kept) == 1 and admin.ttl(kept[0]) > 0  # the top-up's own, in its place


def test_counters_come_from_a_block_reserved_once_per_ten_thousand(quiet_redis: RedisServer):
    store, _ = opened(quiet_redis)
    store.accept(acceptance())  # the scripts are loaded
    store.reserve_ids(COUNTER_BLOCK - 2)  # one counter left in the block
    commands = commands_of(quiet_redis, lambda: [store.accept(acceptance()) for _ in range(50)])
    assert commands == ["EVALSHA"] * 51  # 50 sends and one new block (for the second)


# ---------------------------------------------------------------- counters


def test_two_stores_on_one_redis_never_share_a_counter(redis_server: RedisServer):
    """Two mock instances: each numbers from blocks of its own."""
    first, prefix = opened(redis_server)
    second = RedisStore(redis_server.store_url(prefix))
    msgids = []
    for _ in range(20):
        msgids += [first.accept(acceptance()).msgid, second.accept(acceptance()).msgid]
    msgids += [
        ids.compose(PREFIX, first.reserve_ids(1)),
        ids.compose(PREFIX, second.reserve_ids(1)),
    ]
    assert len(set(msgids)) == len(msgids)
    assert sorted(taken(first, 1.0) + taken(second, 1.0)) == sorted(msgids[:40])


_STORE: RedisStore | None = None  # opened in the parent, inherited by the forked child


def _reserve_in_child(out: multiprocessing.Queue) -> None:
    assert _STORE is not None
    out.put(_STORE.reserve_ids(1))


def test_a_forked_process_numbers_from_a_block_of_its_own(redis_server: RedisServer):
    """gunicorn forks workers after the store is opened: a child never uses the
    parent's block."""
    global _STORE
    _STORE, _ = opened(redis_server)
    parent_first = _STORE.reserve_ids(1)
    out: multiprocessing.Queue = multiprocessing.get_context("fork").Queue()
    child = multiprocessing.get_context("fork").Process(target=_reserve_in_child, args=(out,))
    child.start()
    child_id = out.get(timeout=30)
    child.join(timeout=30)
    assert child_id > parent_first + 1  # not the parent's next
    assert _STORE.reserve_ids(1) == parent_first + 1


# ---------------------------------------------------------------- retention


def wait_for(condition, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_what_was_handed_out_expires_after_the_retention_what_is_pending_stays(
    redis_server: RedisServer, admin: redis.Redis
):
    store, prefix = opened(redis_server, "&retention=1")
    handed = store.accept(acceptance(due_ats=[0.0, None], custid="gone")).msgid
    never = handed + 1
    pending = store.accept(acceptance(due_ats=[1e6], custid="kept")).msgid
    assert taken(store, 1.0) == [handed]
    assert admin.ttl(f"{prefix}:m:{counter_of(handed)}") > 0
    assert admin.ttl(f"{prefix}:m:{counter_of(pending)}") == -1  # not handed out yet

    def gone() -> bool:
        return not store.messages("T00001", msgids=(handed, never))

    assert wait_for(gone)
    assert admin.exists(f"{prefix}:q:{counter_of(handed)}") == 0  # its send too
    assert [m["msgid"] for m in store.messages("T00001")] == [pending]
    assert store.pending_count("T00001", "rpt") == 1


def test_index_entries_of_expired_messages_are_dropped(
    redis_server: RedisServer, admin: redis.Redis
):
    """The mobile and custid indexes hold what lives (and what is newer): they do not
    grow with every message ever sent."""
    store, prefix = opened(redis_server, "&retention=1")
    a = acceptance(due_ats=[0.0, 0.0])
    for m in a.messages:
        m.mobile = "13800138000"
    sent = store.accept(a).msgid
    taken(store, 1.0)
    index = f"{prefix}:im:T00001:{bucket('13800138000')}"
    assert admin.llen(index) == 2
    assert wait_for(lambda: not store.messages("T00001", msgids=(sent, sent + 1)))
    latest = acceptance(due_ats=[1e6])
    latest.messages[0].mobile = "13800138000"
    kept = store.accept(latest).msgid
    assert admin.lrange(index, 0, -1) == [str(counter_of(kept))]
    assert [m["msgid"] for m in store.messages("T00001", mobile="13800138000")] == [kept]


def test_the_retention_is_a_url_option_with_a_year_sized_default(redis_server: RedisServer):
    assert opened(redis_server)[0].retention == DEFAULT_RETENTION
    assert opened(redis_server, "&retention=86400")[0].retention == 86400
    for bad in ("0", "-5", "a-day"):
        with pytest.raises(StoreError, match="retention"):
            RedisStore(redis_server.store_url("x") + f"&retention={bad}")


# ---------------------------------------------------------------- memory


def test_a_message_is_a_small_listpack_hash(redis_server: RedisServer, admin: redis.Redis):
    """Redis keeps a hash of short values as one compact listpack (~100 bytes); a value
    over 64 bytes would turn it into a hashtable three times the size."""
    store, prefix = opened(redis_server)
    msgid = store.accept(acceptance(due_ats=[None], fate=Drawn("default"))).msgid
    key = f"{prefix}:m:{counter_of(msgid)}"
    assert admin.object("encoding", key) == "listpack"
    usage = admin.memory_usage(key)
    assert usage is not None and usage < 160


def test_a_fixed_fate_is_kept_and_read_back(redis_server: RedisServer):
    store, _ = opened(redis_server)
    msgid = store.accept(acceptance(fate=Fate(0.0, 1, "UNDELIV", "fail"))).msgid
    (report,) = store.take_reports("T00001", 1.0, 10)
    assert (report.msgid, report.status, report.errcode, report.errdesc) == (
        msgid,
        1,
        "UNDELIV",
        "fail",
    )
