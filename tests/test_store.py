"""The store (SqliteStore and RedisStore, every rule on both): billing, ids, reports
derived from their message and handed out once, durability."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
import redis

from mockcarrier import ids
from mockcarrier.config import AccountConfig, Settings
from mockcarrier.delivery import Fate, outcome_for
from mockcarrier.launch import RedisServer
from mockcarrier.stores import (
    Acceptance,
    Arrears,
    Drawn,
    Message,
    Mo,
    Store,
    StoreError,
    UnknownAccount,
    open_store,
)
from mockcarrier.stores.sqlite import SqliteStore
from smsapi.mobile import classify
from smsapi.msgid import SEGMENT_STRIDE

PREFIX = 0x1A2B3C
SEED = 7
STIME = "2025-08-03 19:20:20"
STIME_AT = datetime(2025, 8, 3, 19, 20, 20)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


@pytest.fixture
def reopen(db: Path, store_url: str) -> Callable[[], Store]:
    """Open the test's store again, as a restarted mock does (SQLite or Redis)."""
    return lambda: open_store(Settings(db=str(db), store=store_url))


@pytest.fixture
def store(reopen: Callable[[], Store]) -> Iterator[Store]:
    s = reopen()
    s.ensure_accounts(
        [
            AccountConfig(userid="T00001", balance=10),
            AccountConfig(userid="T00002", chargetype=1, money="0.058"),
        ]
    )
    yield s
    s.close()


def acceptance(
    userid: str = "T00001",
    due_ats: list[float | None] | None = None,
    cost: int | None = None,
    custid: str = "batch-1",
    pktotal: int = 1,
    fate: Fate | Drawn | None = None,
    delay: float = 0.0,
) -> Acceptance:
    """One mobile per due_at (None: never reported), pktotal segments each, accepted at
    real time 0 with time scale 1: a report falls due at its latency."""
    due_ats = [0.0] if due_ats is None else due_ats
    messages = [
        Message(
            position=position,
            mobile=f"1380013{position:04d}",
            operator="china_mobile",
            text=None,
            pktotal=pktotal,
            custid="",
            svrtype="",
            exno="",
            spno="10690012122",
            exdata="",
            issues=(),
            fate=Fate(due_at) if fate is None else fate,
        )
        for position, due_at in enumerate(due_ats, start=1)
    ]
    count = len(due_ats) * pktotal if cost is None else cost
    return Acceptance(
        userid=userid,
        endpoint="batch_send",
        fmt="json",
        auth_mode="md5",
        chargetype=0 if userid == "T00001" else 1,
        cost_count=count,
        cost_micros=count * 29000,
        text="测试短信",
        custid=custid,
        seed=SEED,
        prefix=PREFIX,
        stime=STIME_AT,
        accepted_at=0.0,
        time_scale=1.0,
        messages=messages,
        delay=delay,
    )


def taken(store: Store, now: float, limit: int = 500, userid: str = "T00001") -> list[int]:
    return [r.msgid for r in store.take_reports(userid, now, limit)]


# ---------------------------------------------------------------- opening


def test_the_store_needs_a_file():
    with pytest.raises(ValueError):
        SqliteStore(":memory:")
    with pytest.raises(ValueError):
        SqliteStore("")


def test_a_store_file_of_schema_1_is_refused_with_what_to_do(db: Path):
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    with pytest.raises(StoreError, match="schema 1.*new file.*delete"):
        SqliteStore(str(db))


def test_take_reports_reads_the_partial_index_of_due_messages(db: Path):
    """The get_rpt regression of RESULTS.md: a WHERE that does not imply the partial
    index's condition scans every message."""
    from mockcarrier.stores.sqlite.handouts import DUE_MESSAGES

    SqliteStore(str(db)).close()
    with sqlite3.connect(db) as conn:
        plan = " ".join(
            str(row[3])
            for row in conn.execute(f"EXPLAIN QUERY PLAN {DUE_MESSAGES}", ("T", 1, 1, 5))
        )
    assert "USING INDEX messages_due" in plan and "TEMP B-TREE" not in plan, plan


# ---------------------------------------------------------------- accounts


def test_ensure_accounts_creates_with_configured_balance(store: Store):
    record = store.account("T00001")
    assert record is not None
    assert record.balance == 10
    assert store.account("T00002").money_micros == 58000
    assert store.account("NOBODY") is None


def test_ensure_accounts_keeps_balances_on_refresh(store: Store):
    store.accept(acceptance(due_ats=[0.0, 0.0, 0.0]))
    assert store.account("T00001").balance == 7
    store.ensure_accounts([AccountConfig(userid="T00001", balance=10, signature="【新签名】")])
    record = store.account("T00001")
    assert record.balance == 7
    assert record.config.signature == "【新签名】"


def test_ensure_accounts_leaves_unlisted_accounts_alone(store: Store):
    store.ensure_accounts([AccountConfig(userid="T00003", balance=1)])
    assert {r.userid for r in store.accounts()} == {"T00001", "T00002", "T00003"}


def test_accounts_are_put_topped_up_set_and_deleted(store: Store):
    store.put_account(AccountConfig(userid="T00009", balance=5))
    assert store.top_up("T00009", count=3).balance == 8
    assert store.set_balance("T00009", count=1, micros=7).money_micros == 7
    store.put_account(AccountConfig(userid="T00009", balance=50, signature="【改】"))
    assert store.account("T00009").balance == 1  # a config change keeps the balance
    store.put_account(AccountConfig(userid="T00009", balance=50), reset_balance=True)
    assert store.account("T00009").balance == 50
    assert store.delete_account("T00009") and not store.delete_account("T00009")
    with pytest.raises(UnknownAccount):
        store.top_up("T00009", count=1)
    with pytest.raises(UnknownAccount):
        store.set_balance("T00009", count=1, micros=None)


# ---------------------------------------------------------------- version


def test_the_version_changes_with_control_faults_configurations_and_auth_failures(
    store: Store,
):
    changes: list[Callable[[], object]] = [
        lambda: store.put_control({"clock_offset": 1.0}),
        lambda: store.add_fault({"endpoint": "*"}, remaining=1),
        lambda: store.consume_fault(store.faults()[0]["id"]),
        lambda: store.delete_faults(),
        lambda: store.put_account(AccountConfig(userid="T00009", balance=5)),
        lambda: store.ensure_accounts([AccountConfig(userid="T00001", signature="【x】")]),
        lambda: store.delete_account("T00009"),
        lambda: store.record_auth_failure("T00001", at=1.0),
        lambda: store.reset("T00001", AccountConfig(userid="T00001", balance=10)),
    ]
    for change in changes:
        before = store.version()
        change()
        assert store.version() != before, change


def test_the_version_stays_when_only_balances_and_traffic_change(store: Store):
    before = store.version()
    store.accept(acceptance(due_ats=[0.0]))
    store.top_up("T00001", count=5)
    store.set_balance("T00001", count=3, micros=None)
    store.take_reports("T00001", now=1.0, limit=10)
    store.add_mo("T00001", mo(store.reserve_ids(1)))
    store.take_mos("T00001", now=1e10, limit=10)
    assert store.version() == before


def test_a_fault_firing_moves_the_version_only_when_it_spends_its_rule(store: Store):
    """The active rules are what carriers cache: an unlimited rule firing on every
    request must not make every request reload (mockcarrier/snapshot.py)."""
    unlimited = store.add_fault({"endpoint": "*"}, remaining=None)
    counted = store.add_fault({"endpoint": "*"}, remaining=2)
    before = store.version()
    assert store.consume_fault(unlimited) and store.consume_fault(counted)
    assert store.version() == before
    assert store.consume_fault(counted)  # the last firing: the rule is spent
    assert store.version() != before
    assert not store.consume_fault(counted)


# ---------------------------------------------------------------- accept


def test_accept_bills_every_segment_by_count(store: Store):
    store.accept(acceptance(due_ats=[0.0, 0.0], cost=2))
    assert store.account("T00001").balance == 8


def test_accept_bills_money_by_price(store: Store):
    store.accept(acceptance("T00002", due_ats=[0.0]))
    assert store.account("T00002").money_micros == 58000 - 29000


def test_accept_answers_the_first_msgid_and_the_custid(store: Store):
    accepted = store.accept(acceptance(custid="order-9"))
    assert (accepted.msgid, accepted.custid) == (ids.compose(PREFIX, 1), "order-9")


def test_a_send_without_custid_gets_one_generated_from_seed_and_msgid(store: Store):
    """§2.1.6 the carrier's id of the batch, also in every report of it."""
    accepted = store.accept(acceptance(custid="", due_ats=[0.0, 0.0]))
    assert accepted.custid == ids.generated_custid(SEED, accepted.msgid)
    reports = store.take_reports("T00001", now=1.0, limit=10)
    assert {r.custid for r in reports} == {accepted.custid}


def test_accept_reserves_consecutive_counters(store: Store):
    """§3.3 msgid + position - 1: one counter value per mobile, batches back to back."""
    first = store.accept(acceptance(due_ats=[0.0] * 3)).msgid
    second = store.accept(acceptance(due_ats=[0.0] * 2)).msgid
    assert ids.decompose(first)[1] == 1 and ids.decompose(second)[1] == 4
    assert store.reserve_ids(1) == 6


def test_accept_keeps_one_row_per_message_and_derives_its_reports(store: Store):
    msgid = store.accept(acceptance(due_ats=[0.0, 0.0])).msgid
    messages = store.messages("T00001")
    assert sorted(m["msgid"] for m in messages) == [msgid, msgid + 1]
    assert all(m["text"] == "测试短信" for m in messages)
    assert len(store.reports("T00001")) == 2


def test_each_message_reads_back_with_its_own_values_or_its_requests(store: Store):
    """A multi_send's items differ (text, pktotal, custid, exno...): each message and
    report shows its own; an item like the first shows the request's."""
    a = acceptance(due_ats=[0.0, 0.0, 0.0], custid="req", pktotal=2, cost=5)
    first, second, third = a.messages
    a.text = None  # each item has its own text, as a multi_send's do
    first.text = third.text = "甲"
    second.text, second.pktotal, second.custid, second.exno = "乙", 1, "own", "77"
    second.issues = ("W2",)
    msgid = store.accept(a).msgid
    shown = {m["msgid"]: m for m in store.messages("T00001")}
    assert [(shown[msgid + i]["text"], shown[msgid + i]["custid"]) for i in range(3)] == [
        ("甲", "req"), ("乙", "own"), ("甲", "req"),
    ]  # fmt: skip
    assert (shown[msgid + 1]["exno"], shown[msgid + 1]["issues"]) == ("77", ["W2"])
    reports = {r.msgid: r for r in store.take_reports("T00001", now=5.0, limit=10)}
    assert (reports[msgid + 1].custid, reports[msgid + 1].pktotal) == ("own", 1)
    assert (reports[msgid + 2].custid, reports[msgid + 2].pktotal) == ("req", 2)
    assert len(reports) == 5  # 2 + 1 + 2 segments


def test_a_batchs_message_rows_leave_what_they_share_to_the_request_row(db: Path):
    """Schema 3: a batch_send's message rows write only their own values (the shared
    columns stay NULL: half the row), and read back whole."""
    store = SqliteStore(str(db))
    store.ensure_accounts([AccountConfig(userid="T00001", balance=10)])
    msgid = store.accept(acceptance(due_ats=[0.0, 0.0], custid="c-1")).msgid
    with sqlite3.connect(db) as conn:
        shared = conn.execute(
            "SELECT text, pktotal, custid, svrtype, exno, spno, exdata, issues, due_gap, "
            "rtime_gap FROM messages"
        ).fetchall()
    assert shared == [(None,) * 10] * 2
    assert [(m["msgid"], m["custid"], m["spno"]) for m in store.messages("T00001")] == [
        (msgid + 1, "c-1", "10690012122"), (msgid, "c-1", "10690012122"),
    ]  # fmt: skip
    store.close()


def test_arrears_write_nothing(store: Store):
    """§4 -100003 用户欠费: the balance, the counter and the tables stay as they were."""
    with pytest.raises(Arrears):
        store.accept(acceptance(due_ats=[0.0] * 11))
    assert store.account("T00001").balance == 10
    assert store.messages("T00001") == []
    assert store.reports("T00001") == []
    assert store.reserve_ids(1) == 1  # the counter did not move


def test_arrears_by_money_write_nothing(store: Store):
    with pytest.raises(Arrears):
        store.accept(acceptance("T00002", due_ats=[0.0] * 3))
    assert store.account("T00002").money_micros == 58000
    assert store.reserve_ids(1) == 1


def test_exact_balance_is_enough(store: Store):
    store.accept(acceptance(due_ats=[0.0] * 10))
    assert store.account("T00001").balance == 0
    with pytest.raises(Arrears):
        store.accept(acceptance(due_ats=[0.0]))


def test_accept_for_an_unknown_account_raises(store: Store):
    with pytest.raises(UnknownAccount):
        store.accept(acceptance("NOBODY"))


def test_a_drawn_fate_is_the_profiles_draw_for_seed_and_msgid(store: Store):
    """README: outcomes are seeded by (seed, msgid), so a fresh store replays."""
    msgid = store.accept(acceptance(due_ats=[0.0] * 3, fate=Drawn("default"))).msgid
    got = {m["msgid"]: m["outcome"] for m in store.messages("T00001")}
    for position in range(3):
        fate = outcome_for(
            classify(f"1380013{position + 1:04d}"), msgid + position, SEED, "default"
        )
        expected = {"latency": fate.latency, "status": fate.status, "errcode": fate.errcode}
        assert got[msgid + position] == expected


# ---------------------------------------------------------------- take_reports (§2.5)


def test_take_reports_hands_out_due_reports_oldest_due_first(store: Store):
    msgid = store.accept(acceptance(due_ats=[10.0, 5.0, 20.0])).msgid
    assert taken(store, 15.0) == [msgid + 1, msgid]


def test_take_reports_hands_each_report_out_once(store: Store):
    store.accept(acceptance(due_ats=[1.0, 2.0]))
    assert len(taken(store, 5.0)) == 2
    assert taken(store, 5.0) == []
    assert taken(store, 1000.0) == []


def test_take_reports_waits_for_due_at(store: Store):
    msgid = store.accept(acceptance(due_ats=[10.0, 20.0])).msgid
    assert taken(store, 9.999) == []
    assert taken(store, 10.0) == [msgid]
    assert taken(store, 25.0) == [msgid + 1]


def test_take_reports_respects_the_limit(store: Store):
    msgid = store.accept(acceptance(due_ats=[3.0, 1.0, 2.0])).msgid
    assert taken(store, 5.0, limit=2) == [msgid + 1, msgid + 2]
    assert taken(store, 5.0, limit=2) == [msgid]


def test_take_reports_is_per_account(store: Store):
    store.accept(acceptance("T00002", due_ats=[0.0]))
    assert taken(store, 5.0) == []
    assert len(taken(store, 5.0, userid="T00002")) == 1


def test_a_never_reported_message_has_no_report(store: Store):
    msgid = store.accept(acceptance(due_ats=[None, 1.0])).msgid
    assert taken(store, 1e9) == [msgid + 1]
    (unreported,) = store.messages("T00001", msgids=(msgid,))
    assert unreported["segments"] == [] and unreported["outcome"]["latency"] is None


def test_segments_report_one_gap_apart_with_their_own_ids(store: Store):
    """§3.3 segment k's msgid = msgid + (k - 1) * 2^34; SEGMENT_GAP apart (0.02 s)."""
    msgid = store.accept(acceptance(due_ats=[1.0], pktotal=3)).msgid
    assert taken(store, 1.03) == [msgid, msgid + SEGMENT_STRIDE]
    (third,) = store.take_reports("T00001", now=1.05, limit=10)
    assert (third.msgid, third.pknum, third.pktotal) == (msgid + 2 * SEGMENT_STRIDE, 3, 3)
    assert taken(store, 99.0) == []


def test_segments_of_several_messages_come_out_in_due_order(store: Store):
    first = store.accept(acceptance(due_ats=[1.0], pktotal=3)).msgid
    second = store.accept(acceptance(due_ats=[1.01], cost=1)).msgid
    assert taken(store, 5.0, limit=3) == [first, second, first + SEGMENT_STRIDE]
    assert taken(store, 5.0) == [first + 2 * SEGMENT_STRIDE]


def test_reports_carry_the_fields_of_table_5_3(store: Store):
    msgid = store.accept(acceptance(custid="c-1", due_ats=[2.5])).msgid
    (report,) = store.take_reports("T00001", now=3.0, limit=1)
    assert list(report.fields()) == [
        "msgid", "custid", "pknum", "pktotal", "mobile", "spno", "exno", "stime", "rtime",
        "status", "errcode", "errdesc", "exdata",
    ]  # fmt: skip
    assert (report.msgid, report.custid, report.pknum, report.pktotal) == (msgid, "c-1", 1, 1)
    assert (report.stime, report.rtime) == (STIME, "2025-08-03 19:20:22")
    assert (report.status, report.errcode, report.errdesc) == (0, "DELIVRD", "success")
    named = report.fields()  # each value under its own name, as get_rpt writes it
    assert {k: named[k] for k in ("msgid", "custid", "stime", "rtime", "errdesc")} == {
        "msgid": msgid, "custid": "c-1", "stime": STIME, "rtime": "2025-08-03 19:20:22",
        "errdesc": "success",
    }  # fmt: skip


def test_the_defect_layers_delay_postpones_every_report(store: Store):
    store.accept(acceptance(due_ats=[1.0], delay=10.0))
    assert taken(store, 10.9) == []
    assert len(taken(store, 11.0)) == 1


def test_taken_reports_are_marked_taken(store: Store):
    store.accept(acceptance(due_ats=[0.0, 50.0]))
    store.take_reports("T00001", now=1.0, limit=500)
    assert len(store.reports("T00001", state="taken")) == 1
    assert len(store.reports("T00001", state="pending")) == 1


# ---------------------------------------------------------------- push claims


def test_take_reports_skips_reports_a_push_has_claimed_until_the_claim_lapses(store: Store):
    msgid = store.accept(acceptance(due_ats=[1.0, 2.0])).msgid
    claimed = store.pending_reports("T00001", now=5.0, limit=1, claim_for=10.0)
    assert [r.msgid for r in claimed] == [msgid]
    assert taken(store, 5.0) == [msgid + 1]
    assert taken(store, 15.0) == [msgid]


def test_released_claims_can_be_pulled_at_once(store: Store):
    msgid = store.accept(acceptance(due_ats=[1.0], pktotal=2)).msgid
    store.pending_reports("T00001", now=5.0, limit=1, claim_for=10.0)
    store.release_claims("rpt", [msgid])
    assert taken(store, 5.0) == [msgid, msgid + SEGMENT_STRIDE]


def test_acknowledged_pushes_leave_the_outbox_and_the_attempt_is_logged(store: Store):
    msgid = store.accept(acceptance(due_ats=[1.0, 2.0])).msgid
    assert store.pending_count("T00001", "rpt", now=1.5) == 1
    assert store.pending_count("T00001", "rpt") == 2
    assert store.next_due("T00001") == 1.0
    due = store.pending_reports("T00001", now=5.0, limit=10)
    assert [r.msgid for r in due] == [msgid, msgid + 1]
    row_id = store.record_push(attempt("T00001", msgid), pushed=[msgid], lane=(0, 0.0, ""))
    assert [r.msgid for r in store.pending_reports("T00001", now=5.0, limit=10)] == [msgid + 1]
    assert [r["msgid"] for r in store.reports("T00001", state="pushed")] == [msgid]
    (logged,) = store.push_attempts("T00001")
    assert (logged["id"], logged["seqid"]) == (row_id, 1)
    assert store.push_attempts("T00001", kind="mo") == []


def test_a_pushed_segment_moves_its_messages_cursor(store: Store):
    msgid = store.accept(acceptance(due_ats=[1.0], pktotal=3)).msgid
    store.record_push(attempt("T00001", msgid), pushed=[msgid, msgid + SEGMENT_STRIDE])
    assert taken(store, 5.0) == [msgid + 2 * SEGMENT_STRIDE]
    states = [s["state"] for s in store.messages("T00001")[0]["segments"]]
    assert states == ["pushed", "pushed", "taken"]


def test_an_acknowledged_push_marks_only_the_named_accounts_items(store: Store):
    mine = store.accept(acceptance("T00001", due_ats=[1.0])).msgid
    theirs = store.accept(acceptance("T00002", due_ats=[1.0])).msgid
    store.record_push(attempt("T00001", mine), pushed=[mine, theirs])
    assert [r["msgid"] for r in store.reports("T00001", state="pushed")] == [mine]
    assert [r["msgid"] for r in store.reports("T00002", state="pending")] == [theirs]


def attempt(userid: str, msgid: int) -> dict:
    out = {"userid": userid, "kind": "rpt", "seqid": 1, "url": "http://r", "count": 1}
    out |= {"first_msgid": msgid, "last_msgid": msgid, "started_at": 5.0}
    out |= {"duration_ms": 1.0, "ok": 1, "http_status": 200, "answer": "{}"}
    return out | {"error": "", "retry_in": None, "note": ""}


# ---------------------------------------------------------------- durability


def test_data_survives_closing_and_reopening(reopen: Callable[[], Store], store: Store):
    msgid = store.accept(acceptance(due_ats=[1.0, 2.0])).msgid
    store.take_reports("T00001", now=1.5, limit=500)
    store.close()

    reopened = reopen()
    try:
        assert reopened.account("T00001").balance == 8
        assert reopened.account("T00002").money_micros == 58000
        assert taken(reopened, 5.0) == [msgid + 1]
        # the counter went on from where it was (Redis: each store object, like each
        # process, numbers from a block of its own, so the next block)
        next_id = reopened.reserve_ids(1)
        assert next_id == 3 if isinstance(reopened, SqliteStore) else next_id > 2
    finally:
        reopened.close()


def test_reopening_keeps_balances_when_accounts_are_ensured_again(
    reopen: Callable[[], Store], store: Store
):
    store.accept(acceptance(due_ats=[0.0] * 4))
    store.close()
    reopened = reopen()
    try:
        reopened.ensure_accounts([AccountConfig(userid="T00001", balance=10)])
        assert reopened.account("T00001").balance == 6
    finally:
        reopened.close()


# ---------------------------------------------------------------- reserve_ids


def test_reserve_ids_returns_the_first_of_a_block(store: Store):
    assert store.reserve_ids(5) == 1
    assert store.reserve_ids(1) == 6


def test_reserve_ids_is_unique_across_threads(store: Store):
    threads_n, per_thread = 8, 200
    results: list[list[int]] = [[] for _ in range(threads_n)]
    errors: list[BaseException] = []
    start = threading.Barrier(threads_n)

    def work(out: list[int]) -> None:
        try:
            start.wait()
            for _ in range(per_thread):
                out.append(store.reserve_ids(1))
        except BaseException as exc:  # reported below, not swallowed
            errors.append(exc)
        finally:
            store.close()  # this thread's connection

    workers = [threading.Thread(target=work, args=(out,)) for out in results]
    for t in workers:
        t.start()
    for t in workers:
        t.join()

    assert errors == []
    got = [value for out in results for value in out]
    assert len(got) == threads_n * per_thread
    assert len(set(got)) == len(got)
    assert set(got) == set(range(1, threads_n * per_thread + 1))


# ---------------------------------------------------------------- the rest of the interface


def mo(msgid: int, mobile: str = "13800138000", text: str = "TD") -> Mo:
    return Mo(msgid, mobile, "10690012122", "", STIME, text)


def test_mos_are_handed_out_in_arrival_order_once_and_listed_newest_first(store: Store):
    first = store.reserve_ids(2)
    store.add_mo("T00001", mo(first, text="一"))
    store.add_mo("T00001", mo(first + 1, mobile="13900139000", text="二"))
    assert store.pending_count("T00001", "mo") == 2
    got = store.take_mos("T00001", now=1e10, limit=1)
    assert [(m.msgid, m.text) for m in got] == [(first, "一")]
    assert [m["msgid"] for m in store.list_mos("T00001")] == [first + 1, first]
    assert [m["msgid"] for m in store.list_mos("T00001", state="pending")] == [first + 1]
    assert [m["msgid"] for m in store.list_mos("T00001", mobile="13900139000")] == [first + 1]
    assert store.list_mos("T00002") == []
    assert len(store.take_mos("T00001", now=1e10, limit=10)) == 1
    assert store.take_mos("T00001", now=1e10, limit=10) == []


def test_mos_claimed_for_a_push_wait_until_released(store: Store):
    first = store.reserve_ids(1)
    store.add_mo("T00001", mo(first))
    assert [m.msgid for m in store.pending_mos("T00001", 5.0, 10, claim_for=10.0)] == [first]
    assert store.take_mos("T00001", now=6.0, limit=10) == []
    store.release_claims("mo", [first])
    assert [m.msgid for m in store.take_mos("T00001", now=6.0, limit=10)] == [first]


def test_messages_are_found_by_mobile_custid_and_id_newest_first(store: Store):
    a = store.accept(acceptance(due_ats=[0.0, 0.0], custid="c-a")).msgid
    b = store.accept(acceptance(due_ats=[0.0], custid="c-b")).msgid
    assert [m["msgid"] for m in store.messages("T00001")] == [b, a + 1, a]
    assert [m["msgid"] for m in store.messages("T00001", limit=1)] == [b]
    assert [m["msgid"] for m in store.messages("T00001", custid="c-a")] == [a + 1, a]
    assert [m["msgid"] for m in store.messages("T00001", mobile="13800130001")] == [b, a]
    found = store.messages("T00001", mobile="13800130001", custid="c-a")
    assert [m["msgid"] for m in found] == [a]
    (one,) = store.messages("T00001", msgids=(a + 1,))
    assert (one["endpoint"], one["request_msgid"], one["position"]) == ("batch_send", a, 2)
    assert [s["msgid"] for s in one["segments"]] == [a + 1]
    assert store.messages("T00002", msgids=(a,)) == []


def test_reschedule_changes_only_reports_not_handed_out(store: Store):
    msgid = store.accept(acceptance(due_ats=[1.0, 100.0])).msgid
    store.take_reports("T00001", now=5.0, limit=500)
    assert store.reschedule_reports("T00001", msgid, due_at=2.0, rtime=STIME) == 0
    changed = store.reschedule_reports(
        "T00001", msgid + 1, due_at=3.0, rtime="2025-08-03 19:30:00", failure=(1, "UNDELIV", "x")
    )
    assert changed == 1
    (report,) = store.take_reports("T00001", now=5.0, limit=500)
    assert (report.rtime, report.status, report.errcode) == ("2025-08-03 19:30:00", 1, "UNDELIV")


def test_seqid_grows_by_one_per_push_and_survives_a_reset(store: Store):
    assert store.next_seqid("T00001", "rpt", advance=False) == 1
    assert store.next_seqid("T00001", "rpt", advance=False) == 1
    assert [store.next_seqid("T00001", "rpt") for _ in range(2)] == [2, 3]
    assert store.next_seqid("T00001", "mo") == 1
    store.push_lane_done("T00001", "rpt", failures=2, next_at=9.0, error="refused")
    lane = store.push_lane("T00001", "rpt")
    assert (lane.seqid, lane.failures, lane.next_at, lane.last_error) == (3, 2, 9.0, "refused")
    store.reset("T00001", AccountConfig(userid="T00001", balance=10))
    lane = store.push_lane("T00001", "rpt")
    assert (lane.seqid, lane.failures) == (3, 0)


def test_reset_forgets_what_an_account_sent_and_restores_its_balance(store: Store):
    store.accept(acceptance(due_ats=[1.0, 2.0]))
    store.add_mo("T00001", mo(store.reserve_ids(1)))
    store.record_auth_failure("T00001", at=100.0)
    store.accept(acceptance("T00002", due_ats=[1.0]))
    store.reset("T00001", AccountConfig(userid="T00001", balance=10))
    assert store.account("T00001").balance == 10
    assert store.messages("T00001") == [] and store.reports("T00001") == []
    assert store.list_mos("T00001") == [] and store.auth_failures_since("T00001", 0.0) == 0
    assert len(store.messages("T00002")) == 1  # other accounts keep theirs


def test_auth_failures_are_counted_in_a_window_and_old_ones_forgotten(store: Store):
    for at in (100.0, 200.0, 300.0):
        store.record_auth_failure("T00001", at=at, keep=150.0)
    assert store.auth_failures_since("T00001", 200.0) == 2
    assert store.auth_failures_since("T00001", 0.0) == 2  # 100 fell out of the window
    assert store.auth_failures_since("T00002", 0.0) == 0


def test_a_fault_rule_fires_as_often_as_it_may(store: Store):
    limited = store.add_fault({"endpoint": "get_rpt", "result": -100999}, remaining=2)
    endless = store.add_fault({"endpoint": "*", "result": -100999}, remaining=None)
    assert [store.consume_fault(limited) for _ in range(3)] == [True, True, False]
    assert all(store.consume_fault(endless) for _ in range(3))
    assert [f["id"] for f in store.faults(active_only=True)] == [endless]
    spent = store.faults()[0]
    assert (spent["remaining"], spent["hits"], spent["rule"]["endpoint"]) == (0, 2, "get_rpt")
    assert store.delete_faults(limited) == 1
    assert store.delete_faults() == 1
    assert store.faults() == []


def test_a_lease_has_one_holder_until_it_expires_or_is_released(store: Store):
    never_dead = lambda holder: False  # noqa: E731
    assert store.acquire_lease("pusher", "a", ttl=10.0, now=0.0, holder_dead=never_dead)
    assert not store.acquire_lease("pusher", "b", ttl=10.0, now=5.0, holder_dead=never_dead)
    assert store.acquire_lease("pusher", "a", ttl=10.0, now=5.0, holder_dead=never_dead)
    assert store.acquire_lease("pusher", "b", ttl=10.0, now=16.0, holder_dead=never_dead)
    assert store.acquire_lease("pusher", "c", ttl=10.0, now=17.0, holder_dead=lambda h: h == "b")
    store.release_lease("pusher", "b")  # not b's any more: nothing happens
    assert store.lease("pusher")["holder"] == "c"
    store.release_lease("pusher", "c")
    assert store.lease("pusher") is None


def test_control_state_is_merged_or_replaced(store: Store):
    store.put_control({"defects": ["x"], "clock_offset": 1.5})
    store.put_control({"clock_offset": 2.0})
    assert store.control() == {"defects": ["x"], "clock_offset": 2.0}
    store.put_control({"magic": {"13912345678": {"status": 1}}}, replace=True)
    assert store.control() == {"magic": {"13912345678": {"status": 1}}}


def test_the_redis_store_warns_when_redis_could_lose_what_it_acknowledged(
    redis_of_its_own: RedisServer,
):
    from mockcarrier.stores.redis import RedisStore

    admin = redis.Redis(port=redis_of_its_own.port)
    try:
        store = RedisStore(redis_of_its_own.url)
        assert store.describe().endswith("(appendfsync always)")
        admin.config_set("appendfsync", "everysec")
        admin.config_set("maxmemory-policy", "allkeys-lru")
        warning = store.describe()
        assert "appendfsync everysec" in warning and "allkeys-lru" in warning
        store.close()
    finally:
        admin.close()
