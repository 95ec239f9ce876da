"""Group commit (mockcarrier/stores/sqlite/commit.py): the sends of a process that arrive
together share one write transaction, each answered once it is committed, each failing
alone."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mockcarrier.config import AccountConfig
from mockcarrier.stores import Acceptance, Arrears, UnknownAccount
from mockcarrier.stores.sqlite import SqliteStore
from mockcarrier.stores.sqlite import sends as sqlite_sends
from mockcarrier.stores.sqlite.sends import NUMBER_AHEAD

from .test_store import acceptance


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(str(tmp_path / "commit.db"))
    s.ensure_accounts([AccountConfig(userid="T00001", balance=3)])
    yield s
    s.close()


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


def send_while_the_writer_is_held(store: SqliteStore, acceptances: list[Acceptance]) -> list[Any]:
    """Queue every acceptance behind a held writer lock, then let them all go: they
    reach the committer together. Each one's Accepted, or the exception it raised."""
    answers: list[Any] = [None] * len(acceptances)

    def send(i: int) -> None:
        try:
            answers[i] = store.accept(acceptances[i])
        except Exception as exc:  # what the caller would see
            answers[i] = exc

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(acceptances))]
    with store._write():  # another writer of this process holds the lock
        for t in threads:
            t.start()
        wait_for(lambda: store._committer.waiting() == len(acceptances))
    for t in threads:
        t.join()
    return answers


def test_sends_that_arrive_together_share_one_transaction(store: SqliteStore) -> None:
    store.accept(acceptance(due_ats=[1.0], cost=0))  # the committer runs
    groups = store._committer.groups
    answers = send_while_the_writer_is_held(store, [acceptance(cost=0) for _ in range(8)])
    assert all(not isinstance(a, Exception) for a in answers)
    assert len({a.msgid for a in answers}) == 8
    assert store._committer.groups - groups <= 2  # the first alone at most, then the rest


def test_arrears_in_a_group_fail_only_their_own_send(store: SqliteStore) -> None:
    """The balance pays for three one-segment sends of four in one group: one gets
    Arrears, the three others are kept with their counters and their debit."""
    answers = send_while_the_writer_is_held(store, [acceptance() for _ in range(4)])
    refused = [a for a in answers if isinstance(a, Arrears)]
    accepted = [a for a in answers if not isinstance(a, Exception)]
    assert (len(refused), len(accepted)) == (1, 3)
    assert store.account("T00001").balance == 0
    kept = sorted(m["msgid"] for m in store.messages("T00001"))
    assert kept == sorted(a.msgid for a in accepted)
    assert store.reserve_ids(1) == 4  # the refused send reserved no counter


def test_an_unknown_account_in_a_group_fails_alone(store: SqliteStore) -> None:
    answers = send_while_the_writer_is_held(
        store, [acceptance(cost=0), acceptance("NOBODY", cost=0), acceptance(cost=0)]
    )
    assert [type(a).__name__ for a in answers] == ["Accepted", "UnknownAccount", "Accepted"]
    assert isinstance(answers[1], UnknownAccount)
    assert len(store.messages("T00001")) == 2


def test_a_full_disk_refuses_every_send_of_the_group_and_keeps_none(store: SqliteStore) -> None:
    """No page to spare: each send fails in its savepoint, none is kept or answered OK."""
    store.accept(acceptance(cost=0))
    store.page_limit = store._scalar("PRAGMA page_count")  # no page to spare
    answers = send_while_the_writer_is_held(
        store, [acceptance(due_ats=[0.0] * (NUMBER_AHEAD - 1), cost=0) for _ in range(3)]
    )
    store.page_limit = None
    assert all(type(a).__name__ == "StoreError" for a in answers), answers
    assert len(store.messages("T00001")) == 1


def test_a_group_debits_each_account_once_and_reserves_its_counters_once(store: SqliteStore):
    """Every sqlite3 call lets go of the GIL: a group's statements do not grow with its
    size when its balance pays for all of it (sends.accept_group)."""
    store.set_balance("T00001", count=100, micros=None)
    store.accept(acceptance(cost=0))  # the write connection exists
    statements: list[str] = []
    store._write_conn().set_trace_callback(statements.append)
    answers = send_while_the_writer_is_held(store, [acceptance() for _ in range(8)])
    store._write_conn().set_trace_callback(None)
    assert all(not isinstance(a, Exception) for a in answers)
    assert sum(s.startswith("UPDATE accounts") for s in statements) == 1
    assert sum(s.startswith("UPDATE counters") for s in statements) == 1
    assert store.account("T00001").balance == 100 - 8
    msgids = sorted(a.msgid for a in answers)
    assert msgids == list(range(msgids[0], msgids[0] + 8))  # numbered in one reservation


def test_a_big_send_draws_its_fates_outside_the_writer_lock(
    store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A send of NUMBER_AHEAD mobiles or more is numbered first, in a transaction of its
    own; its fates are drawn and rows built with the writer lock free (the other process
    writes meanwhile); a smaller send's inside its group transaction."""
    store.set_balance("T00001", count=10 * NUMBER_AHEAD, micros=None)
    drawn = sqlite_sends.fate_values
    held: list[bool] = []

    def fate_values(*args: Any) -> Any:
        held.append(store._writer.locked())
        return drawn(*args)

    monkeypatch.setattr(sqlite_sends, "fate_values", fate_values)
    store.accept(acceptance(due_ats=[0.0] * NUMBER_AHEAD))
    assert held == [False] * NUMBER_AHEAD
    held.clear()
    store.accept(acceptance(due_ats=[0.0] * (NUMBER_AHEAD - 1)))
    assert held == [True] * (NUMBER_AHEAD - 1)


def test_a_big_send_refused_for_arrears_leaves_its_ids_unused(store: SqliteStore) -> None:
    """Numbered before its debit: refused, its ids are never given to another send."""
    with pytest.raises(Arrears):
        store.accept(acceptance(due_ats=[0.0] * NUMBER_AHEAD))
    assert store.account("T00001").balance == 3
    assert store.messages("T00001") == []
    assert store.reserve_ids(1) == NUMBER_AHEAD + 1


def test_a_batch_is_written_in_a_few_statements_not_one_a_row(store: SqliteStore) -> None:
    """Each sqlite3 step lets go of the GIL, and a writer waiting to get it back holds
    the writer lock meanwhile (bulk.py): the 1000 message rows of a batch go in at most
    ten INSERT statements (chunks of a power of two), each row once, in order."""
    store.set_balance("T00001", count=1000, micros=None)
    store.accept(acceptance(cost=0))  # the write connection exists
    statements: list[str] = []
    store._write_conn().set_trace_callback(statements.append)
    accepted = store.accept(acceptance(due_ats=[0.0] * 1000))
    store._write_conn().set_trace_callback(None)
    assert 1 <= sum(s.startswith("INSERT INTO messages") for s in statements) <= 10
    rows = store._read("SELECT msgid, position FROM messages WHERE request_id = ?", (2,))
    assert [tuple(r) for r in rows] == [(accepted.msgid + p - 1, p) for p in range(1, 1001)]
