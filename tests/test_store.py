"""mockcarrier.store.SqliteStore: billing, ids, reports handed out once, durability."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest

from mockcarrier import ids
from mockcarrier.config import AccountConfig
from mockcarrier.store import Acceptance, Arrears, SqliteStore, UnknownAccount

PREFIX = 0x1A2B3C
STIME = "2025-08-03 19:20:20"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


@pytest.fixture
def store(db: Path):
    s = SqliteStore(str(db))
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
    due_ats: list[float] | None = None,
    cost: int | None = None,
    custid: str = "batch-1",
    seen: list[int] | None = None,
) -> Acceptance:
    """One mobile per due_at, one segment each, as service.accept builds them."""
    due_ats = [0.0] if due_ats is None else due_ats

    def build(first: int) -> tuple[int, str, list[tuple], list[tuple]]:
        if seen is not None:
            seen.append(first)
        base = ids.compose(PREFIX, first)
        messages, reports = [], []
        for position, due_at in enumerate(due_ats, start=1):
            msgid = ids.compose(PREFIX, first + position - 1)
            mobile = f"1380013{position:04d}"
            messages.append(
                (
                    msgid,
                    userid,
                    position,
                    mobile,
                    "china_mobile",
                    None,
                    1,
                    custid,
                    "",
                    "",
                    "10690012122",
                    "",
                    "[]",
                    STIME,
                    json.dumps({"latency": due_at}),
                )
            )
            reports.append(
                (
                    msgid,
                    msgid,
                    userid,
                    custid,
                    1,
                    1,
                    mobile,
                    "10690012122",
                    "",
                    STIME,
                    STIME,
                    0,
                    "DELIVRD",
                    "success",
                    "",
                    due_at,
                    "pending",
                )
            )
        return base, custid, messages, reports

    mobiles = len(due_ats)
    return Acceptance(
        userid=userid,
        endpoint="batch_send",
        fmt="json",
        auth_mode="md5",
        text="测试短信",
        mobiles=mobiles,
        segments=mobiles,
        cost_count=mobiles if cost is None else cost,
        cost_micros=(mobiles if cost is None else cost) * 29000,
        build=build,
    )


# ---------------------------------------------------------------- accounts


def test_the_store_needs_a_file():
    with pytest.raises(ValueError):
        SqliteStore(":memory:")
    with pytest.raises(ValueError):
        SqliteStore("")


def test_ensure_accounts_creates_with_configured_balance(store: SqliteStore):
    record = store.account("T00001")
    assert record is not None
    assert record.balance == 10
    assert store.account("T00002").money_micros == 58000
    assert store.account("NOBODY") is None


def test_ensure_accounts_keeps_balances_on_refresh(store: SqliteStore):
    store.accept(acceptance(due_ats=[0.0, 0.0, 0.0]), chargetype=0)
    assert store.account("T00001").balance == 7
    store.ensure_accounts([AccountConfig(userid="T00001", balance=10, signature="【新签名】")])
    record = store.account("T00001")
    assert record.balance == 7
    assert record.config.signature == "【新签名】"


def test_ensure_accounts_leaves_unlisted_accounts_alone(store: SqliteStore):
    store.ensure_accounts([AccountConfig(userid="T00003", balance=1)])
    assert {r.userid for r in store.accounts()} == {"T00001", "T00002", "T00003"}


# ---------------------------------------------------------------- accept


def test_accept_bills_every_segment_by_count(store: SqliteStore):
    store.accept(acceptance(due_ats=[0.0, 0.0], cost=2), chargetype=0)
    assert store.account("T00001").balance == 8


def test_accept_bills_money_by_price(store: SqliteStore):
    store.accept(acceptance("T00002", due_ats=[0.0]), chargetype=1)
    assert store.account("T00002").money_micros == 58000 - 29000


def test_accept_returns_what_build_made(store: SqliteStore):
    msgid, custid = store.accept(acceptance(custid="order-9"), chargetype=0)
    assert (msgid, custid) == (ids.compose(PREFIX, 1), "order-9")


def test_accept_reserves_consecutive_counters(store: SqliteStore):
    """§3.3 msgid + position - 1: one counter value per mobile, batches back to back."""
    seen: list[int] = []
    store.accept(acceptance(due_ats=[0.0] * 3, seen=seen), chargetype=0)
    store.accept(acceptance(due_ats=[0.0] * 2, seen=seen), chargetype=0)
    assert seen == [1, 4]
    assert store.reserve_ids(1) == 6


def test_accept_stores_messages_and_reports(store: SqliteStore):
    msgid, _ = store.accept(acceptance(due_ats=[0.0, 0.0]), chargetype=0)
    messages = store.messages("T00001")
    assert sorted(m["msgid"] for m in messages) == [msgid, msgid + 1]
    assert all(m["text"] == "测试短信" for m in messages)
    assert len(store.reports("T00001")) == 2


def test_arrears_write_nothing(store: SqliteStore):
    """§4 -100003 用户欠费: the balance, the counter and the tables stay as they were."""
    seen: list[int] = []
    with pytest.raises(Arrears):
        store.accept(acceptance(due_ats=[0.0] * 11, seen=seen), chargetype=0)
    assert seen == []  # build never ran
    assert store.account("T00001").balance == 10
    assert store.messages("T00001") == []
    assert store.reports("T00001") == []
    assert store.reserve_ids(1) == 1  # the counter did not move


def test_arrears_by_money_write_nothing(store: SqliteStore):
    with pytest.raises(Arrears):
        store.accept(acceptance("T00002", due_ats=[0.0] * 3), chargetype=1)
    assert store.account("T00002").money_micros == 58000
    assert store.reserve_ids(1) == 1


def test_exact_balance_is_enough(store: SqliteStore):
    store.accept(acceptance(due_ats=[0.0] * 10), chargetype=0)
    assert store.account("T00001").balance == 0
    with pytest.raises(Arrears):
        store.accept(acceptance(due_ats=[0.0]), chargetype=0)


def test_accept_for_an_unknown_account_raises(store: SqliteStore):
    with pytest.raises(UnknownAccount):
        store.accept(acceptance("NOBODY"), chargetype=0)


# ---------------------------------------------------------------- take_reports (§2.5)


def test_take_reports_hands_out_due_reports_oldest_due_first(store: SqliteStore):
    msgid, _ = store.accept(acceptance(due_ats=[10.0, 5.0, 20.0]), chargetype=0)
    taken = store.take_reports("T00001", now=15.0, limit=500)
    assert [r["msgid"] for r in taken] == [msgid + 1, msgid]


def test_take_reports_hands_each_report_out_once(store: SqliteStore):
    store.accept(acceptance(due_ats=[1.0, 2.0]), chargetype=0)
    assert len(store.take_reports("T00001", now=5.0, limit=500)) == 2
    assert store.take_reports("T00001", now=5.0, limit=500) == []
    assert store.take_reports("T00001", now=1000.0, limit=500) == []


def test_take_reports_skips_reports_a_push_has_claimed_until_the_claim_lapses(
    store: SqliteStore,
):
    msgid, _ = store.accept(acceptance(due_ats=[1.0, 2.0]), chargetype=0)
    claimed = store.pending_push("T00001", "rpt", now=5.0, limit=1, claim_for=10.0)
    assert [r["msgid"] for r in claimed] == [msgid]
    assert [r["msgid"] for r in store.take_reports("T00001", now=5.0, limit=500)] == [msgid + 1]
    assert [r["msgid"] for r in store.take_reports("T00001", now=15.0, limit=500)] == [msgid]


def test_released_claims_can_be_pulled_at_once(store: SqliteStore):
    msgid, _ = store.accept(acceptance(due_ats=[1.0]), chargetype=0)
    store.pending_push("T00001", "rpt", now=5.0, limit=1, claim_for=10.0)
    store.release_claims("rpt", [msgid])
    assert [r["msgid"] for r in store.take_reports("T00001", now=5.0, limit=500)] == [msgid]


def test_a_store_file_without_the_claim_column_is_upgraded(db: Path, store: SqliteStore):
    store.accept(acceptance(due_ats=[1.0]), chargetype=0)
    store.close()
    with sqlite3.connect(db) as conn:
        conn.execute("ALTER TABLE reports DROP COLUMN claimed_until")
        conn.execute("ALTER TABLE mos DROP COLUMN claimed_until")
    reopened = SqliteStore(str(db))
    assert len(reopened.take_reports("T00001", now=5.0, limit=500)) == 1
    reopened.close()


def test_take_reports_waits_for_due_at(store: SqliteStore):
    msgid, _ = store.accept(acceptance(due_ats=[10.0, 20.0]), chargetype=0)
    assert store.take_reports("T00001", now=9.999, limit=500) == []
    assert [r["msgid"] for r in store.take_reports("T00001", now=10.0, limit=500)] == [msgid]
    assert [r["msgid"] for r in store.take_reports("T00001", now=25.0, limit=500)] == [msgid + 1]


def test_take_reports_respects_the_limit(store: SqliteStore):
    msgid, _ = store.accept(acceptance(due_ats=[3.0, 1.0, 2.0]), chargetype=0)
    first = store.take_reports("T00001", now=5.0, limit=2)
    second = store.take_reports("T00001", now=5.0, limit=2)
    assert [r["msgid"] for r in first] == [msgid + 1, msgid + 2]
    assert [r["msgid"] for r in second] == [msgid]


def test_take_reports_is_per_account(store: SqliteStore):
    store.accept(acceptance("T00002", due_ats=[0.0]), chargetype=1)
    assert store.take_reports("T00001", now=5.0, limit=500) == []
    assert len(store.take_reports("T00002", now=5.0, limit=500)) == 1


def test_reports_carry_the_fields_of_table_5_3(store: SqliteStore):
    msgid, _ = store.accept(acceptance(custid="c-1"), chargetype=0)
    (report,) = store.take_reports("T00001", now=1.0, limit=1)
    assert list(report) == [
        "msgid",
        "custid",
        "pknum",
        "pktotal",
        "mobile",
        "spno",
        "exno",
        "stime",
        "rtime",
        "status",
        "errcode",
        "errdesc",
        "exdata",
    ]
    assert report["msgid"] == msgid
    assert (report["custid"], report["pknum"], report["pktotal"]) == ("c-1", 1, 1)


def test_taken_reports_are_marked_taken(store: SqliteStore):
    store.accept(acceptance(due_ats=[0.0, 50.0]), chargetype=0)
    store.take_reports("T00001", now=1.0, limit=500)
    assert len(store.reports("T00001", state="taken")) == 1
    assert len(store.reports("T00001", state="pending")) == 1


# ---------------------------------------------------------------- durability


def test_data_survives_closing_and_reopening(db: Path, store: SqliteStore):
    msgid, _ = store.accept(acceptance(due_ats=[1.0, 2.0]), chargetype=0)
    store.take_reports("T00001", now=1.5, limit=500)
    store.close()

    reopened = SqliteStore(str(db))
    try:
        assert reopened.account("T00001").balance == 8
        assert reopened.account("T00002").money_micros == 58000
        assert [r["msgid"] for r in reopened.take_reports("T00001", now=5.0, limit=500)] == [
            msgid + 1
        ]
        assert reopened.reserve_ids(1) == 3  # the counter went on from where it was
    finally:
        reopened.close()


def test_reopening_keeps_balances_when_accounts_are_ensured_again(db: Path, store: SqliteStore):
    store.accept(acceptance(due_ats=[0.0] * 4), chargetype=0)
    store.close()
    reopened = SqliteStore(str(db))
    try:
        reopened.ensure_accounts([AccountConfig(userid="T00001", balance=10)])
        assert reopened.account("T00001").balance == 6
    finally:
        reopened.close()


# ---------------------------------------------------------------- reserve_ids


def test_reserve_ids_returns_the_first_of_a_block(store: SqliteStore):
    assert store.reserve_ids(5) == 1
    assert store.reserve_ids(1) == 6


def test_reserve_ids_is_unique_across_threads(store: SqliteStore):
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
