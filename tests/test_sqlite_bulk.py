"""mockcarrier/stores/sqlite/bulk.py: many rows in a few statements, every row once."""

from __future__ import annotations

import sqlite3

from hypothesis import given
from hypothesis import strategies as st

from mockcarrier.stores.sqlite.bulk import MAX_CHUNK, chunk_size, insert_rows


@given(st.integers(min_value=1, max_value=10 * MAX_CHUNK))
def test_a_chunk_is_the_largest_power_of_two_that_fits(remaining: int) -> None:
    size = chunk_size(remaining)
    assert size & (size - 1) == 0  # a power of two: few statement texts to prepare
    assert size <= min(remaining, MAX_CHUNK) < 2 * size or size == MAX_CHUNK


@given(st.lists(st.tuples(st.integers(-(2**63), 2**63 - 1), st.text()), max_size=3000))
def test_every_row_is_inserted_once_in_order(rows: list[tuple[int, str]]) -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE t (n INTEGER, s TEXT)")
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    insert_rows(conn, "INSERT INTO t (n, s) VALUES", rows)
    conn.set_trace_callback(None)
    assert conn.execute("SELECT n, s FROM t ORDER BY rowid").fetchall() == rows
    assert len(statements) <= len(rows).bit_length() + len(rows) // MAX_CHUNK
