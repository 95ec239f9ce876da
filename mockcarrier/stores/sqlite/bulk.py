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

MAX_CHUNK = 1024  # rows a statement at most
OLD_VARIABLE_LIMIT = 999  # SQLite before 3.32 (Python 3.10 cannot ask the library)


def insert_rows(conn: sqlite3.Connection, insert: str, rows: list[tuple[Any, ...]]) -> None:
    """Run insert ("INSERT INTO t (a, b) VALUES") for every row, in chunks of a power of
    two rows, each one statement within the library's limit of variables."""
    if not rows:
        return
    width = len(rows[0])
    most = max(1, variable_limit(conn) // width)
    start = 0
    while start < len(rows):
        size = chunk_size(len(rows) - start, most)
        chunk = rows[start : start + size]
        conn.execute(values_statement(insert, width, size), list(chain.from_iterable(chunk)))
        start += size


def chunk_size(remaining: int, most: int = MAX_CHUNK) -> int:
    """The largest power of two at most remaining, most and MAX_CHUNK."""
    return 1 << (min(remaining, most, MAX_CHUNK).bit_length() - 1)


def variable_limit(conn: sqlite3.Connection) -> int:
    """How many variables (?) one statement may bind with this SQLite library (250 000
    in Debian's, 32 766 by default since 3.32, 999 before)."""
    getlimit = getattr(conn, "getlimit", None)  # Python 3.11
    if getlimit is None:
        return OLD_VARIABLE_LIMIT
    return int(getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))


@lru_cache(maxsize=64)
def values_statement(insert: str, width: int, count: int) -> str:
    """insert followed by count rows of width placeholders."""
    row = "(" + ", ".join("?" * width) + ")"
    return f"{insert} {', '.join([row] * count)}"
