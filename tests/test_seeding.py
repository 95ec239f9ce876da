"""mockcarrier.seeding: the configuration seeds accounts without undoing admin changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockcarrier import control
from mockcarrier.config import AccountConfig, Settings
from mockcarrier.seeding import seed_accounts
from mockcarrier.stores.sqlite import SqliteStore

FILE = AccountConfig(userid="SEED01", password="p", balance=50)


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(str(tmp_path / "seed.db"))


def test_a_new_account_is_written_with_its_configured_balance(store: SqliteStore) -> None:
    assert seed_accounts(store, [FILE]) == ["SEED01"]
    assert store.account("SEED01").balance == 50


def test_a_patch_outlives_seeding_with_the_same_configuration(store: SqliteStore) -> None:
    seed_accounts(store, [FILE])
    store.put_account(FILE.updated({"allowed_ips": ["10.0.0.0/8"]}))
    assert seed_accounts(store, [FILE]) == []  # another worker, or `serve` again
    assert store.account("SEED01").config.allowed_ips == ["10.0.0.0/8"]


def test_a_changed_configuration_wins_and_keeps_the_balance(store: SqliteStore) -> None:
    seed_accounts(store, [FILE])
    store.put_account(FILE.updated({"allowed_ips": ["10.0.0.0/8"]}))
    store.top_up("SEED01", 7)
    edited = FILE.updated({"signature": "【新】"})
    assert seed_accounts(store, [edited]) == ["SEED01"]
    record = store.account("SEED01")
    assert record.config.signature == "【新】" and record.config.allowed_ips == []
    assert record.balance == 57


def test_a_deleted_account_stays_deleted_until_the_configuration_changes(
    store: SqliteStore,
) -> None:
    seed_accounts(store, [FILE])
    store.delete_account("SEED01")
    assert seed_accounts(store, [FILE]) == [] and store.account("SEED01") is None


def test_a_serve_restart_keeps_what_was_seeded(store: SqliteStore) -> None:
    seed_accounts(store, [FILE])
    store.put_account(FILE.updated({"max_concurrent": 3}))
    control.initialise(store, Settings(accounts=[FILE]))  # what `serve` does first
    assert seed_accounts(store, [FILE]) == []
    assert store.account("SEED01").config.max_concurrent == 3
