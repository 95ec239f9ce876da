"""Many rows written in a few sqlite3 steps, not one step a row.

Python's sqlite3 lets go of the GIL around every sqlite3_step, and executemany steps once
a row. Under load another thread of the process (parsing or numbering the next send)
takes the GIL at each let-go, and the writer waits to get it back, up to the switch
interval (5 ms), all the while holding the store's writer lock, so the other processes
wait too. Measured (one process, a thread busy beside the writer): an executemany of the
1000 message rows of a batch took 1.5 to 3.8 s; the same rows as one INSERT of 1000
VALUES rows took 18 ms (4 ms either way with no other thread).

An INSERT of many VALUES rows steps once. Its text is prepared once per number of rows
(sqlite3's statement cache), so the rows go in chunks of a power of two: at most eleven
texts a table, and a batch of 1000 rows in six statements.
"""

from __future__ import annotations

import sqlite3
from functools import lru_cache
from itertools import chain
from typing import Any

MAX_CHUNK = 1024  # rows a statement: 1024 × 21 columns, within SQLite's 32 766 variables


def insert_rows(conn: sqlite3.Connection, insert: str, rows: list[tuple[Any, ...]]) -> None:
    """Run insert ("INSERT INTO t (a, b) VALUES") for every row, in chunks of a power of
    two rows, each one statement."""
    start = 0
    while start < len(rows):
        size = chunk_size(len(rows) - start)
        chunk = rows[start : start + size]
        conn.execute(values_statement(insert, len(chunk[0]), size), list(chain(*chunk)))
        start += size


def chunk_size(remaining: int) -> int:
    """The largest power of two at most remaining (and MAX_CHUNK)."""
    return min(MAX_CHUNK, 1 << (remaining.bit_length() - 1))


@lru_cache(maxsize=64)
def values_statement(insert: str, width: int, count: int) -> str:
    """insert followed by count rows of width placeholders."""
    row = "(" + ", ".join("?" * width) + ")"
    return f"{insert} {', '.join([row] * count)}"
