"""mockcarrier.snapshot: control state, fault rules, accounts and the lockout cached per
process, reloaded only when the store's version moves.

Rules: a request with nothing changed reads none of them from the store (one version
read); a change made through another handle on the same store (another process, another
instance) is seen by the very next request; a fault's count holds across carriers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from mockcarrier import control, faults
from mockcarrier.config import AccountConfig, Settings
from mockcarrier.service import Carrier
from mockcarrier.snapshot import Snapshots
from mockcarrier.stores import StaleSnapshot, Store, StoreError
from mockcarrier.stores.redis import RedisStore
from mockcarrier.stores.sqlite import SqliteStore
from smsapi import Client
from smsapi.codec import Format, encode_form
from tests.conftest import Served, module_server
from tests.helpers import Counted

ACCOUNT = AccountConfig(
    userid="J10003",
    password="111111",
    apikey="abade5589e2798f82f006bbc36d269ce",
    auth_modes=["md5", "plain", "apikey"],
    delivery_profile="instant",
)
CACHED = ("control", "faults", "accounts", "account", "auth_failures_since")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "mock.db"


@pytest.fixture
def stores(db: Path) -> Iterator[list[SqliteStore]]:
    opened: list[SqliteStore] = []
    yield opened
    for store in opened:
        store.close()


def carrier(db: Path, stores: list[SqliteStore]) -> tuple[Carrier, Counted]:
    """A carrier over its own handle on the store file (as another process has)."""
    store = SqliteStore(str(db))
    stores.append(store)
    counted = Counted(store)
    settings = Settings(db=str(db), seed=7, accounts=[ACCOUNT], lockout_failures=3)
    made = Carrier(settings, counted)
    if len(stores) == 1:
        control.initialise(store, settings)
    return made, counted


def call(c: Carrier, endpoint: str, **fields: Any) -> dict[str, Any]:
    body = encode_form({"userid": "J10003", "pwd": "111111", **fields})
    return c.handle(endpoint, body, Format.FORM, "127.0.0.1").answer


def test_a_request_with_nothing_changed_reads_no_control_faults_or_accounts(db, stores):
    c, counted = carrier(db, stores)
    faults.add(c.store, {"action": "delay", "endpoint": "get_balance", "delay_ms": 1})
    assert call(c, "get_rpt")["result"] == 0  # loads the snapshot...
    assert call(c, "get_mo", apikey=ACCOUNT.apikey)["result"] == 0  # ...and this key's lockout
    counted.calls.clear()
    for _ in range(3):
        assert call(c, "get_rpt")["result"] == 0
        assert call(c, "get_mo", apikey=ACCOUNT.apikey)["result"] == 0
        assert call(c, "single_send", mobile="13800138000", content="x")["result"] == 0
    assert counted.calls["version"] == 9 and counted.calls["accept"] == 3
    assert not {name: counted.calls[name] for name in CACHED if counted.calls[name]}


def test_get_balance_reads_the_balance_live(db, stores):
    c, counted = carrier(db, stores)
    call(c, "get_balance")
    counted.calls.clear()
    before = call(c, "get_balance")["balance"]
    c.store.top_up("J10003", count=5)
    assert call(c, "get_balance")["balance"] == before + 5
    assert counted.calls["account"] == 2 and counted.calls["accounts"] == 0


def test_a_defect_switched_elsewhere_applies_to_the_next_request(db, stores):
    one, _ = carrier(db, stores)
    two, _ = carrier(db, stores)
    assert call(two, "single_send", mobile="13800138000", content="x")["custid"] != ""
    control.set_defects(one.store, ["custid-not-echoed"])
    assert call(two, "single_send", mobile="13800138000", content="x")["custid"] == ""


def test_a_fault_added_elsewhere_fires_on_the_next_request_and_its_count_holds(db, stores):
    one, _ = carrier(db, stores)
    two, _ = carrier(db, stores)
    call(one, "get_balance"), call(two, "get_balance")  # both snapshots loaded
    faults.add(one.store, {"action": "result", "result": -100999, "count": 2})
    answers = [call(c, "get_balance")["result"] for c in (two, one, two, one)]
    assert answers == [-100999, -100999, 0, 0]  # two firings in all, not two each


def test_a_password_changed_elsewhere_is_checked_on_the_next_request(db, stores):
    one, _ = carrier(db, stores)
    two, _ = carrier(db, stores)
    assert call(two, "get_balance")["result"] == 0
    one.store.put_account(AccountConfig(**{**ACCOUNT.to_dict(), "password": "222222"}))
    assert call(two, "get_balance")["result"] == -100001
    assert call(two, "get_balance", pwd="222222")["result"] == 0


def test_failures_in_one_carrier_lock_the_account_in_the_other(db, stores):
    one, _ = carrier(db, stores)
    two, _ = carrier(db, stores)
    assert call(two, "get_balance")["result"] == 0
    for _ in range(3):
        assert call(one, "get_balance", pwd="wrong")["result"] == -100001
    assert call(two, "get_balance")["result"] == -100002  # locked, right password or not


def test_a_count_under_the_lockout_stays_cached_and_one_over_is_read_again(db):
    store = SqliteStore(str(db))
    try:
        store.ensure_accounts([ACCOUNT])
        counted = Counted(store)
        cache = Snapshots(counted, Settings())
        store.record_auth_failure("J10003", 100.0)
        snapshot = cache.current()
        assert not cache.locked_out(snapshot, "J10003", 50.0, 2)
        assert not cache.locked_out(snapshot, "J10003", 60.0, 2)  # later: fewer or as many
        assert counted.calls["auth_failures_since"] == 1
        assert cache.locked_out(snapshot, "J10003", 60.0, 1)  # at the threshold: read
        assert cache.locked_out(snapshot, "J10003", 60.0, 1)
        assert counted.calls["auth_failures_since"] == 3
        assert not cache.locked_out(snapshot, "J10003", 40.0, 2)  # earlier: read again
        assert counted.calls["auth_failures_since"] == 4
    finally:
        store.close()


# ---------------------------------------------------------------- sends, both stores
# A send on a store that checks the version in the send's own step (Redis: the send
# script) runs on the cached snapshot without reading the version first; the rules
# above must hold for it all the same.


@pytest.fixture
def handles() -> Iterator[list[Store]]:
    """Handles on one store (each as another process or instance has); the first put
    in its start-time control state."""
    opened: list[Store] = []
    yield opened
    for store in opened:
        store.close()


def on_store(store_url: str, tmp_path: Path, handles: list[Store]) -> tuple[Carrier, Counted]:
    db = str(tmp_path / "mock.db")
    store: Any = RedisStore(store_url) if store_url else SqliteStore(db)
    handles.append(store)
    settings = Settings(db=db, store=store_url, seed=7, accounts=[ACCOUNT], lockout_failures=3)
    if len(handles) == 1:
        store.ensure_accounts([ACCOUNT])
        control.initialise(store, settings)
    counted = Counted(store)
    return Carrier(settings, counted), counted


def send(c: Carrier, **fields: Any) -> dict[str, Any]:
    return call(c, "single_send", mobile="13800138000", content="x", **fields)


def test_a_send_reads_the_version_first_only_where_the_store_does_not_check_it(
    store_url, tmp_path, handles
):
    c, counted = on_store(store_url, tmp_path, handles)
    assert send(c)["result"] == 0  # the snapshot is loaded
    counted.calls.clear()
    assert [send(c)["result"] for _ in range(3)] == [0, 0, 0]
    assert counted.calls["accept"] == 3
    assert counted.calls["version"] == (0 if c.store.checks_version else 3)
    assert not {name: counted.calls[name] for name in CACHED if counted.calls[name]}


def test_a_defect_switched_elsewhere_applies_to_the_next_send(store_url, tmp_path, handles):
    one, _ = on_store(store_url, tmp_path, handles)
    two, _ = on_store(store_url, tmp_path, handles)
    assert send(two)["custid"] != ""
    control.set_defects(one.store, ["custid-not-echoed"])
    assert send(two)["custid"] == ""


def test_a_password_changed_elsewhere_is_checked_on_the_next_send(store_url, tmp_path, handles):
    one, _ = on_store(store_url, tmp_path, handles)
    two, _ = on_store(store_url, tmp_path, handles)
    assert send(two)["result"] == 0
    one.store.put_account(AccountConfig(**{**ACCOUNT.to_dict(), "password": "222222"}))
    assert send(two, pwd="222222")["result"] == 0
    assert send(two)["result"] == -100001


def test_a_fault_added_elsewhere_fires_on_the_next_send(store_url, tmp_path, handles):
    one, _ = on_store(store_url, tmp_path, handles)
    two, _ = on_store(store_url, tmp_path, handles)
    assert send(two)["result"] == 0
    faults.add(one.store, {"action": "result", "result": -100999, "count": 1})
    assert [send(two)["result"], send(two)["result"]] == [-100999, 0]


def test_a_send_refused_on_a_state_changed_elsewhere_is_checked_again(store_url, tmp_path, handles):
    """Refused on the cached snapshot (1001 mobiles), then allowed by a defect switched on
    elsewhere meanwhile: the refusal is not the carrier's answer, the state's now is."""
    one, _ = on_store(store_url, tmp_path, handles)
    two, _ = on_store(store_url, tmp_path, handles)
    assert send(two)["result"] == 0
    control.set_defects(one.store, ["batch-limit-ignored"])
    mobiles = ",".join(f"139{n:08d}" for n in range(1001))
    assert call(two, "batch_send", mobile=mobiles, content="x")["result"] == 0


def test_a_fault_firing_on_a_send_is_counted_once_when_the_state_moved_elsewhere(
    store_url, tmp_path, handles
):
    """A firing is a write: a send whose cached snapshot holds fault rules reads the
    version first, so it is not handled twice (and its rule spent twice) when another
    change landed meanwhile."""
    one, _ = on_store(store_url, tmp_path, handles)
    two, _ = on_store(store_url, tmp_path, handles)
    faults.add(one.store, {"action": "delay", "delay_ms": 1, "count": 3})
    assert send(two)["result"] == 0  # fired once; the snapshot holds the rule
    control.set_defects(one.store, ["custid-not-echoed"])
    assert send(two)["custid"] == ""
    assert [f["remaining"] for f in one.store.faults()] == [1]


def test_a_failed_login_let_in_by_a_defect_still_counts_towards_the_lockout(
    store_url, tmp_path, handles
):
    """auth-not-checked lets a wrong password in; the failure is counted all the same,
    on either store (an optimistic send counts it on a fresh snapshot)."""
    c, _ = on_store(store_url, tmp_path, handles)
    control.set_defects(c.store, ["auth-not-checked"])
    assert send(c)["result"] == 0
    assert [send(c, pwd="wrong")["result"] for _ in range(4)] == [0, 0, 0, -100002]


def test_a_send_the_store_calls_stale_on_a_fresh_snapshot_is_a_store_failure(
    store_url, tmp_path, handles
):
    """Checked on a fresh snapshot, a send carries no version; were the store to call it
    stale all the same, that is its failure (-100999), never an exception out of
    handle()."""
    c, counted = on_store(store_url, tmp_path, handles)
    assert send(c)["result"] == 0

    def accept(acceptance: Any) -> Any:
        raise StaleSnapshot()

    counted.accept = accept  # type: ignore[method-assign]
    assert send(c)["result"] == -100999


def test_a_send_refused_while_the_store_fails_is_answered_in_the_documents_shape(
    store_url, tmp_path, handles
):
    """Refused on the cached snapshot, the version cannot be read (the store is down):
    the answer is the store failure's (-100999), never an exception out of handle()."""
    c, counted = on_store(store_url, tmp_path, handles)
    assert send(c)["result"] == 0

    def version() -> int:
        raise StoreError("redis: connection refused")

    counted.version = version  # type: ignore[method-assign]
    mobiles = ",".join(f"139{n:08d}" for n in range(1001))
    assert call(c, "batch_send", mobile=mobiles, content="x")["result"] == -100999


def test_a_failed_login_on_a_send_counts_once_towards_the_lockout(store_url, tmp_path, handles):
    c, _ = on_store(store_url, tmp_path, handles)
    assert send(c)["result"] == 0
    assert [send(c, pwd="wrong")["result"] for _ in range(2)] == [-100001] * 2
    assert send(c)["result"] == 0  # two failures: under the lockout of 3
    assert send(c, pwd="wrong")["result"] == -100001
    assert send(c)["result"] == -100002  # the third locks it, right password or not


# ---------------------------------------------------------------- served, two processes

two_workers = module_server("snapshot", "--workers", "2", "--threads", "2")
ROUNDS = 6  # requests after each change, each on a new connection (either worker)


def fresh(served: Served, userid: str = "J10003", password: str = "111111") -> Client:
    """A client on a connection of its own: gunicorn hands it to either worker."""
    return served.client(userid, password, session=requests.Session())


def test_a_defect_switched_applies_to_every_next_request_in_every_process(two_workers):
    assert two_workers.admin("PUT", "/defects", json={"enabled": ["money-as-number"]}).ok
    try:
        moneys = [fresh(two_workers, "MONEY1", "money-pass") for _ in range(ROUNDS)]
        assert all(isinstance(c.get_balance().answer["money"], float) for c in moneys)
    finally:
        assert two_workers.admin("PUT", "/defects", json={"enabled": []}).ok
    moneys = [fresh(two_workers, "MONEY1", "money-pass") for _ in range(ROUNDS)]
    assert all(isinstance(c.get_balance().answer["money"], str) for c in moneys)


def test_a_fault_added_fires_on_the_next_requests_exactly_count_times(two_workers):
    rule = {"action": "result", "result": -100999, "endpoint": "get_balance", "count": 3}
    assert two_workers.admin("POST", "/faults", json=rule).status_code == 201
    try:
        results = [fresh(two_workers).get_balance().result for _ in range(ROUNDS)]
    finally:
        assert two_workers.admin("DELETE", "/faults").ok
    assert results == [-100999] * 3 + [0] * (ROUNDS - 3)


def test_a_changed_password_is_checked_on_every_next_request(two_workers):
    assert two_workers.admin("PATCH", "/accounts/NOSIG1", json={"password": "new-pass"}).ok
    try:
        old = [fresh(two_workers, "NOSIG1", "nosig-pass").get_balance() for _ in range(ROUNDS)]
        new = [fresh(two_workers, "NOSIG1", "new-pass").get_balance() for _ in range(ROUNDS)]
    finally:
        two_workers.admin("PATCH", "/accounts/NOSIG1", json={"password": "nosig-pass"})
    assert [a.result for a in old] == [-100001] * ROUNDS
    assert [a.result for a in new] == [0] * ROUNDS


def test_a_lockout_applies_to_every_next_request_in_every_process(two_workers):
    assert two_workers.admin("PATCH", "/settings", json={"lockout_failures": 3}).ok
    try:
        wrong = [fresh(two_workers, "LOCK01", "wrong").get_balance() for _ in range(3)]
        right = [fresh(two_workers, "LOCK01", "lock-pass").get_balance() for _ in range(ROUNDS)]
    finally:
        two_workers.admin("PATCH", "/settings", json={"lockout_failures": 20})
    assert [a.result for a in wrong] == [-100001] * 3
    assert [a.result for a in right] == [-100002] * ROUNDS
