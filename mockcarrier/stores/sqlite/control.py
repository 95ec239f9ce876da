"""Control state and fault rules: read by every request through a cache keyed on
version(), so every change here bumps it in the same transaction."""

from __future__ import annotations

import json
import time
from typing import Any

from .db import Database


class SqliteControl(Database):
    def control(self) -> dict[str, Any]:
        """The runtime control state every process reads (mockcarrier.control)."""
        rows = self._read("SELECT key, value FROM control")
        return {r["key"]: json.loads(r["value"]) for r in rows}

    def put_control(self, values: dict[str, Any], replace: bool = False) -> None:
        with self._write() as conn:
            if replace:
                conn.execute("DELETE FROM control")
            conn.executemany(
                "INSERT OR REPLACE INTO control VALUES (?, ?)",
                [(k, json.dumps(v, ensure_ascii=False)) for k, v in values.items()],
            )
            self._bump_version(conn)

    def add_fault(self, rule: dict[str, Any], remaining: int | None) -> int:
        with self._write() as conn:
            fault_id = conn.execute(
                "INSERT INTO faults (rule, remaining, hits, created_at) VALUES (?, ?, 0, ?)",
                (json.dumps(rule), remaining, time.time()),
            ).lastrowid
            self._bump_version(conn)
        return int(fault_id or 0)

    def faults(self, active_only: bool = False) -> list[dict[str, Any]]:
        sql = "SELECT * FROM faults"
        if active_only:
            sql += " WHERE remaining IS NULL OR remaining > 0"
        rows = self._read(sql + " ORDER BY id")
        return [{**dict(r), "rule": json.loads(r["rule"])} for r in rows]

    def consume_fault(self, fault_id: int) -> bool:
        """Count one firing of a rule; False when it was spent meanwhile (other process)."""
        with self._write() as conn:
            fired = conn.execute(
                "UPDATE faults SET hits = hits + 1, remaining = remaining - 1 "
                "WHERE id = ? AND (remaining IS NULL OR remaining > 0) RETURNING remaining",
                (fault_id,),
            ).fetchone()
            # Only a spent rule changes the active set the carriers cache: an unlimited
            # rule firing on every request must not make every request reload.
            if fired is not None and fired[0] == 0:
                self._bump_version(conn)
            return fired is not None

    def delete_faults(self, fault_id: int | None = None) -> int:
        with self._write() as conn:
            if fault_id is None:
                deleted = conn.execute("DELETE FROM faults").rowcount
            else:
                deleted = conn.execute("DELETE FROM faults WHERE id = ?", (fault_id,)).rowcount
            if deleted:
                self._bump_version(conn)
            return deleted
