"""Handing out reports and MOs: pulled (take_*) or claimed for a push (pending_*).

Reports are derived from their message row when they fall due (segments.StoredMessage):
a pull reads the messages whose `next_due` has come, in due order, and advances their
`reported` cursor in the same transaction, so each segment goes out once.
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from ... import ids
from ..interface import Kind, Mo, Report, StoreError
from ..segments import StoredMessage, due_in_order, rescheduled
from .db import Database
from .rows import STORED_COLUMNS, schedule_values, stored_message

# `next_due IS NOT NULL` spelled out, as the partial index messages_due says it: a query
# whose WHERE does not imply the index's condition scans the whole table (the get_rpt
# regression of benchmarks/RESULTS.md).
DUE_MESSAGES = (
    f"SELECT {STORED_COLUMNS} FROM messages_full WHERE userid = ? AND next_due IS NOT NULL "
    "AND next_due <= ? AND claimed_until <= ? ORDER BY next_due, msgid LIMIT ?"
)
MO_COLUMNS = "msgid, mobile, spno, exno, rtime, text"
PENDING_MOS = (
    f"SELECT {MO_COLUMNS} FROM mos WHERE userid = ? AND state = 'pending' "
    "AND claimed_until <= ? ORDER BY created_at, msgid LIMIT ?"
)


def due_reports(
    conn: sqlite3.Connection, userid: str, now: float, limit: int
) -> tuple[list[Report], dict[int, StoredMessage], dict[int, int]]:
    """The reports due by now in hand-out order, at most limit (segments.due_in_order);
    the messages they come from and how many each gives."""
    rows = conn.execute(DUE_MESSAGES, (userid, now, now, limit)).fetchall()
    chosen = due_in_order([stored_message(r) for r in rows], now, limit)
    messages: dict[int, StoredMessage] = {}
    counts: dict[int, int] = {}
    for message, _ in chosen:
        messages[message.msgid] = message
        counts[message.msgid] = counts.get(message.msgid, 0) + 1
    return [report for _, report in chosen], messages, counts


def advance(
    conn: sqlite3.Connection, messages: dict[int, StoredMessage], counts: dict[int, int]
) -> None:
    """Segments pulled: each message's cursor moves by its count. The messages whose last
    segment went out (nearly all: most have one) are closed in one statement; an
    executemany of one UPDATE each cost twice as much a report."""
    finished: dict[int, list[int]] = {}  # by pktotal: most messages have one segment
    rows = []
    for msgid, count in counts.items():
        message = messages[msgid]
        message.hand_out(count, pushed=False)
        if message.reported >= message.pktotal:
            finished.setdefault(message.reported, []).append(msgid)
        else:
            rows.append((message.reported, message.next_due, msgid))
    for reported, msgids in finished.items():
        conn.execute(FINISHED, (reported, json.dumps(msgids)))
    if rows:
        conn.executemany("UPDATE messages SET reported = ?, next_due = ? WHERE msgid = ?", rows)


# Every segment handed out: the cursor at pktotal, out of the due index.
FINISHED = (
    "UPDATE messages SET reported = ?, next_due = NULL "
    "WHERE msgid IN (SELECT value FROM json_each(?))"
)


def _mo(row: sqlite3.Row) -> Mo:
    return Mo(row[0], row[1], row[2], row[3], row[4], row[5])


class SqliteHandouts(Database):
    # ------------------------------------------------------------ pulling

    def take_reports(self, userid: str, now: float, limit: int) -> list[Report]:
        """§2.5 due reports, oldest due first, each handed out once."""
        with self._write() as conn:
            reports, messages, counts = due_reports(conn, userid, now, limit)
            advance(conn, messages, counts)
        return reports

    def add_mo(self, userid: str, mo: Mo) -> int:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO mos VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, NULL, 0)",
                (mo.msgid, userid, mo.mobile, mo.spno, mo.exno, mo.rtime, mo.text, time.time()),
            )
        return mo.msgid

    def take_mos(self, userid: str, now: float, limit: int) -> list[Mo]:
        """§2.4 MOs in arrival order, each handed out once."""
        with self._write() as conn:
            rows = conn.execute(PENDING_MOS, (userid, now, limit)).fetchall()
            conn.executemany(
                "UPDATE mos SET state = 'taken', taken_at = ? WHERE msgid = ?",
                [(now, r["msgid"]) for r in rows],
            )
        return [_mo(r) for r in rows]

    # ------------------------------------------------------------ the push outbox

    def pending_reports(
        self, userid: str, now: float, limit: int, claim_for: float = 0.0
    ) -> list[Report]:
        """Reports due to be pushed, in due order; claimed (their messages) for claim_for
        seconds so that get_rpt cannot hand out what a push has in flight. A claim lapses
        by itself: a crash mid-push leaves nothing stuck."""
        if not claim_for:
            try:
                reports, _, _ = due_reports(self._conn(), userid, now, limit)
            except sqlite3.Error as exc:
                raise StoreError(str(exc)) from exc
            return reports
        with self._write() as conn:
            reports, _, counts = due_reports(conn, userid, now, limit)
            conn.executemany(
                "UPDATE messages SET claimed_until = ? WHERE msgid = ?",
                [(now + claim_for, msgid) for msgid in counts],
            )
        return reports

    def pending_mos(self, userid: str, now: float, limit: int, claim_for: float = 0.0) -> list[Mo]:
        if not claim_for:
            return [_mo(r) for r in self._read(PENDING_MOS, (userid, now, limit))]
        with self._write() as conn:
            rows = conn.execute(PENDING_MOS, (userid, now, limit)).fetchall()
            conn.executemany(
                "UPDATE mos SET claimed_until = ? WHERE msgid = ?",
                [(now + claim_for, r["msgid"]) for r in rows],
            )
        return [_mo(r) for r in rows]

    def release_claims(self, kind: Kind, msgids: list[int]) -> None:
        """Give back what a push claimed but did not deliver (report or MO msgids)."""
        if kind == "rpt":
            sql = "UPDATE messages SET claimed_until = 0 WHERE msgid = ? AND next_due IS NOT NULL"
            keys = {ids.message_msgid(m) for m in msgids} - {None}
        else:
            sql = "UPDATE mos SET claimed_until = 0 WHERE msgid = ? AND state = 'pending'"
            keys = set(msgids)
        with self._write() as conn:
            conn.executemany(sql, [(k,) for k in keys])

    # ------------------------------------------------------------ counting

    def pending_count(self, userid: str, kind: Kind, now: float | None = None) -> int:
        """Items not handed out yet (due by now, when given)."""
        if kind == "mo":
            return int(
                self._scalar(
                    "SELECT COUNT(*) FROM mos WHERE userid = ? AND state = 'pending'", (userid,)
                )
            )
        sql = (
            f"SELECT {STORED_COLUMNS} FROM messages_full WHERE userid = ? AND next_due IS NOT NULL"
        )
        args: tuple[Any, ...] = (userid,)
        if now is not None:
            sql += " AND next_due <= ?"
            args = (userid, now)
        total = 0
        for row in self._read(sql, args):
            message = stored_message(row)
            if now is None:
                total += message.pktotal - message.reported
            else:
                total += len(message.due_segments(now, message.pktotal))
        return total

    def next_due(self, userid: str) -> float | None:
        """When the next report of an account not handed out yet falls due."""
        value = self._scalar(
            "SELECT MIN(next_due) FROM messages WHERE userid = ? AND next_due IS NOT NULL",
            (userid,),
        )
        return None if value is None else float(value)

    # ------------------------------------------------------------ the admin's changes

    def reschedule_reports(
        self,
        userid: str,
        message_msgid: int,
        *,
        due_at: float,
        rtime: str,
        failure: tuple[int, str, str] | None = None,
    ) -> int:
        """A message's reports not handed out yet get a new due time and rtime, and with
        failure (status, errcode, errdesc) a new fate. Returns how many changed."""
        schedule = rescheduled(due_at, rtime)
        sql = "UPDATE messages SET due_at = ?, due_gap = ?, rtime = ?, rtime_gap = ?, next_due = ?"
        args: list[Any] = [*schedule_values(schedule), due_at]
        if failure is not None:
            sql += ", status = ?, errcode = ?, errdesc = ?"
            args.extend(failure)
        sql += (
            " WHERE userid = ? AND msgid = ? AND next_due IS NOT NULL RETURNING "
            "COALESCE(pktotal, (SELECT pktotal FROM requests WHERE id = request_id)) - reported"
        )
        args.extend((userid, message_msgid))
        with self._write() as conn:
            row = conn.execute(sql, args).fetchone()
        return int(row[0]) if row else 0
