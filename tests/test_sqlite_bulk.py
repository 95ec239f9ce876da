"""mockcarrier/stores/sqlite/bulk.py: many rows in a few statements, every row once."""

from __future__ import annotations

import sqlite3

from hypothesis import given
from hypothesis import strategies as st

from mockcarrier.stores.sqlite.bulk import MAX_CHUNK, chunk_size, insert_rows


@given(st.integers(1, 10 * MAX_CHUNK), st.integers(1, 2 * MAX_CHUNK))
def test_a_chunk_is_the_largest_power_of_two_that_fits(remaining: int, most: int) -> None:
    size = chunk_size(remaining, most)
    assert size & (size - 1) == 0  # a power of two: few statement texts to prepare
    assert size <= min(remaining, most, MAX_CHUNK) < 2 * size


def test_a_statement_binds_no_more_variables_than_the_library_allows() -> None:
    """SQLite before 3.32 (and a build that lowers it) allows 999 variables, or fewer:
    the chunks shrink to fit, and every row still goes in."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE t (a, b, c, d, e, f, g, h, i, j, k, l, m)")
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 100)
    rows = [tuple(range(n, n + 13)) for n in range(1000)]
    insert_rows(conn, "INSERT INTO t VALUES", rows)
    assert conn.execute("SELECT * FROM t ORDER BY rowid").fetchall() == rows


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
