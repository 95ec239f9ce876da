"""The pusher's state: its lease, each lane's seqid and backoff, the acknowledgements."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any

from ... import ids
from ..interface import Kind, PushLane
from .db import Database
from .doorbell import SocketDoorbell
from .rows import STORED_COLUMNS, stored_message


class SqlitePush(Database):
    # ------------------------------------------------------------ the lease

    def acquire_lease(
        self, name: str, holder: str, ttl: float, now: float, holder_dead: Callable[[str], bool]
    ) -> bool:
        """Take or renew a lease: free, ours, expired, or held by a process known dead."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT holder, expires_at FROM leases WHERE name = ?", (name,)
            ).fetchone()
            if (
                row is None
                or row["holder"] == holder
                or row["expires_at"] < now
                or holder_dead(row["holder"])
            ):
                conn.execute(
                    "INSERT OR REPLACE INTO leases VALUES (?, ?, ?)", (name, holder, now + ttl)
                )
                return True
            return False

    def doorbell(self) -> SocketDoorbell:
        return SocketDoorbell(self.path)

    def release_lease(self, name: str, holder: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

    def lease(self, name: str) -> dict[str, Any] | None:
        rows = self._read("SELECT * FROM leases WHERE name = ?", (name,))
        return dict(rows[0]) if rows else None

    # ------------------------------------------------------------ lanes

    def next_seqid(self, userid: str, kind: Kind, advance: bool = True) -> int:
        """§2.7.3 seqid of the next push request of an account and kind, committed before
        the request leaves (a crash may skip one value, never reuse it)."""
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO push_lanes (userid, kind) VALUES (?, ?)", (userid, kind)
            )
            row = conn.execute(
                "UPDATE push_lanes SET seqid = seqid + 1 WHERE userid = ? AND kind = ? "
                "AND (? OR seqid = 0) RETURNING seqid",
                (userid, kind, advance),
            ).fetchone()
            if row is not None:
                return int(row[0])
            return int(
                conn.execute(
                    "SELECT seqid FROM push_lanes WHERE userid = ? AND kind = ?", (userid, kind)
                ).fetchone()[0]
            )

    def push_lane(self, userid: str, kind: Kind) -> PushLane:
        rows = self._read(
            "SELECT seqid, failures, next_at, last_error FROM push_lanes "
            "WHERE userid = ? AND kind = ?",
            (userid, kind),
        )
        if not rows:
            return PushLane(userid, kind)
        seqid, failures, next_at, last_error = rows[0]
        return PushLane(userid, kind, seqid, failures, next_at, last_error)

    def push_lane_done(
        self, userid: str, kind: Kind, failures: int = 0, next_at: float = 0.0, error: str = ""
    ) -> None:
        """Record the outcome of a push: failures 0 clears the backoff."""
        with self._write() as conn:
            _set_lane(conn, userid, kind, (failures, next_at, error))

    def record_push(
        self,
        attempt: dict[str, Any],
        pushed: list[int] | None = None,
        lane: tuple[int, float, str] | None = None,
        keep: int = 5000,
    ) -> int:
        """A push's outcome in one transaction: the acknowledged items (report or MO
        msgids) leave the outbox, the lane's backoff becomes lane (failures, next_at,
        error), the attempt is logged (about the last `keep` per account are kept)."""
        userid, kind = attempt["userid"], attempt["kind"]
        columns = ", ".join(attempt)
        marks = ", ".join("?" * len(attempt))
        with self._write() as conn:
            if pushed and kind == "rpt":
                _reports_pushed(conn, userid, pushed)
            elif pushed:
                conn.executemany(
                    "UPDATE mos SET state = 'pushed', taken_at = ? "
                    "WHERE msgid = ? AND userid = ? AND state = 'pending'",
                    [(time.time(), m, userid) for m in pushed],
                )
            if lane is not None:
                _set_lane(conn, userid, kind, lane)
            row_id = int(
                conn.execute(
                    f"INSERT INTO push_attempts ({columns}) VALUES ({marks})",
                    tuple(attempt.values()),
                ).lastrowid
                or 0
            )
            if row_id % 100 == 0:
                conn.execute(
                    "DELETE FROM push_attempts WHERE userid = ? AND id <= ?",
                    (userid, row_id - keep),
                )
        return row_id


def _set_lane(
    conn: sqlite3.Connection, userid: str, kind: str, lane: tuple[int, float, str]
) -> None:
    conn.execute("INSERT OR IGNORE INTO push_lanes (userid, kind) VALUES (?, ?)", (userid, kind))
    conn.execute(
        "UPDATE push_lanes SET failures = ?, next_at = ?, last_error = ? "
        "WHERE userid = ? AND kind = ?",
        (*lane, userid, kind),
    )


def _reports_pushed(conn: sqlite3.Connection, userid: str, pushed: list[int]) -> None:
    """Acknowledged segments: each message's cursor moves past the last one pushed (a
    push hands a message's due segments out in pknum order). Another account's ids and
    segments handed out already change nothing."""
    last: dict[int, int] = {}
    for msgid in pushed:
        message_msgid = ids.message_msgid(msgid)
        if message_msgid is not None:
            pknum = ids.decompose(msgid)[2]
            last[message_msgid] = max(last.get(message_msgid, 0), pknum)
    rows = []
    for message_msgid, pknum in last.items():
        row = conn.execute(
            f"SELECT {STORED_COLUMNS} FROM messages_full WHERE msgid = ? AND userid = ? "
            "AND next_due IS NOT NULL",
            (message_msgid, userid),
        ).fetchone()
        if row is None:
            continue
        message = stored_message(row)
        if pknum <= message.reported:
            continue
        message.hand_out(min(pknum, message.pktotal) - message.reported, pushed=True)
        rows.append((message.reported, message.next_due, message.pushed, message_msgid))
    conn.executemany(
        "UPDATE messages SET reported = ?, next_due = ?, pushed = ? WHERE msgid = ?", rows
    )
