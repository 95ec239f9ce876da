"""The version board (mockcarrier/stores/sqlite/board.py): version() read from shared
memory, posted by the writer after its COMMIT, caught up from the counters row."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockcarrier.config import AccountConfig
from mockcarrier.stores.sqlite import SqliteStore, db


@pytest.fixture
def path(tmp_path: Path) -> str:
    return str(tmp_path / "board.db")


@pytest.fixture
def stores(path: str) -> Iterator[tuple[SqliteStore, SqliteStore]]:
    """Two stores on one file, as two worker processes would hold it."""
    one, two = SqliteStore(path), SqliteStore(path)
    yield one, two
    one.close()
    two.close()


def counters_row(path: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT value FROM counters WHERE name = 'version'").fetchone()[0])


def test_a_change_committed_by_one_store_is_seen_by_the_other_at_once(stores, monkeypatch):
    one, two = stores
    monkeypatch.setattr(db, "ROW_CHECK_SECONDS", 3600.0)  # the board alone must tell
    two.version()  # the row read once; from now on only the board can move it
    before = two.version()
    one.put_control({"clock_offset": 5.0})
    assert two.version() == counters_row(one.path) > before


def test_version_reads_no_sqlite_while_nothing_changed(stores, monkeypatch):
    _, two = stores
    monkeypatch.setattr(db, "ROW_CHECK_SECONDS", 3600.0)
    two.version()
    statements: list[str] = []
    two._conn().set_trace_callback(statements.append)
    for _ in range(100):
        two.version()
    assert statements == []


def test_a_store_opening_the_file_catches_the_board_up(path: str, monkeypatch):
    """A process killed between its COMMIT and its post left the board behind."""
    monkeypatch.setattr(db, "ROW_CHECK_SECONDS", 3600.0)
    store = SqliteStore(path)
    store.put_account(AccountConfig(userid="T00001", balance=1))
    store._board.post(0)  # as if the post had not happened
    store.close()
    reopened = SqliteStore(path)
    assert reopened._board.read() == counters_row(path) > 0
    reopened.close()


def test_a_writer_that_posts_nothing_is_seen_by_the_row_check(stores, monkeypatch):
    """A program that is not this mock moves the counters row without the board."""
    one, _ = stores
    monkeypatch.setattr(db, "ROW_CHECK_SECONDS", 0.0)
    before = one.version()
    with sqlite3.connect(one.path) as conn:
        conn.execute("UPDATE counters SET value = value + 7 WHERE name = 'version'")
    assert one.version() == before + 7


def test_a_rolled_back_change_posts_nothing(stores, monkeypatch):
    one, two = stores
    monkeypatch.setattr(db, "ROW_CHECK_SECONDS", 3600.0)
    before = two.version()
    with pytest.raises(RuntimeError), one._write() as conn:
        one._bump_version(conn)
        raise RuntimeError("the transaction fails after its bump")
    assert two.version() == before == counters_row(one.path)
