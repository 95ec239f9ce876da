"""Accounts, balances and authentication failures.

A change of configuration or of the auth-failure log bumps version(); a balance change
(every send) does not.
"""

from __future__ import annotations

import json
import sqlite3

from ...config import AccountConfig, to_micros
from ..interface import AccountRecord, UnknownAccount
from .db import Database


class SqliteAccounts(Database):
    def ensure_accounts(self, accounts: list[AccountConfig]) -> None:
        """Create accounts that do not exist yet; configuration of existing ones is
        refreshed, their balances kept."""
        with self._write() as conn:
            for cfg in accounts:
                conn.execute(
                    "INSERT INTO accounts VALUES (?, ?, ?, ?) ON CONFLICT(userid) "
                    "DO UPDATE SET config = excluded.config",
                    (cfg.userid, _config(cfg), cfg.balance, to_micros(cfg.money)),
                )
            self._bump_version(conn)

    def put_account(self, cfg: AccountConfig, reset_balance: bool = False) -> None:
        with self._write() as conn:
            if reset_balance:
                conn.execute(
                    "INSERT OR REPLACE INTO accounts VALUES (?, ?, ?, ?)",
                    (cfg.userid, _config(cfg), cfg.balance, to_micros(cfg.money)),
                )
            else:
                conn.execute(
                    "INSERT INTO accounts VALUES (?, ?, ?, ?) ON CONFLICT(userid) "
                    "DO UPDATE SET config = excluded.config",
                    (cfg.userid, _config(cfg), cfg.balance, to_micros(cfg.money)),
                )
            self._bump_version(conn)

    def delete_account(self, userid: str) -> bool:
        with self._write() as conn:
            deleted = conn.execute("DELETE FROM accounts WHERE userid = ?", (userid,)).rowcount
            if deleted:
                self._bump_version(conn)
            return deleted > 0

    def account(self, userid: str) -> AccountRecord | None:
        rows = self._read("SELECT * FROM accounts WHERE userid = ?", (userid,))
        return _account(rows[0]) if rows else None

    def accounts(self) -> list[AccountRecord]:
        return [_account(r) for r in self._read("SELECT * FROM accounts ORDER BY userid")]

    def top_up(self, userid: str, count: int = 0, micros: int = 0) -> AccountRecord:
        with self._write() as conn:
            row = conn.execute(
                "UPDATE accounts SET balance = balance + ?, money_micros = money_micros + ? "
                "WHERE userid = ? RETURNING *",
                (count, micros, userid),
            ).fetchone()
        if row is None:
            raise UnknownAccount(userid)
        return _account(row)

    def set_balance(self, userid: str, count: int | None, micros: int | None) -> AccountRecord:
        with self._write() as conn:
            row = conn.execute(
                "UPDATE accounts SET balance = COALESCE(?, balance), "
                "money_micros = COALESCE(?, money_micros) WHERE userid = ? RETURNING *",
                (count, micros, userid),
            ).fetchone()
        if row is None:
            raise UnknownAccount(userid)
        return _account(row)

    def reset(self, userid: str, cfg: AccountConfig) -> None:
        """Forget what an account sent and received; balance back to its configured start."""
        with self._write() as conn:
            for table in ("messages", "requests", "mos", "auth_failures", "push_attempts"):
                conn.execute(f"DELETE FROM {table} WHERE userid = ?", (userid,))
            # seqid is kept: a receiver keeps seeing it grow (§2.7.3).
            conn.execute(
                "UPDATE push_lanes SET failures = 0, next_at = 0, last_error = '' WHERE userid = ?",
                (userid,),
            )
            conn.execute(
                "UPDATE accounts SET balance = ?, money_micros = ? WHERE userid = ?",
                (cfg.balance, to_micros(cfg.money), userid),
            )
            self._bump_version(conn)  # its auth failures are gone

    # ------------------------------------------------------------ authentication

    def record_auth_failure(self, userid: str, at: float, keep: float = 86400.0) -> None:
        """Record a failure, forgetting every failure older than keep seconds (unknown
        userids included: the log stays bounded)."""
        with self._write() as conn:
            conn.execute("DELETE FROM auth_failures WHERE at < ?", (at - keep,))
            conn.execute("INSERT INTO auth_failures VALUES (?, ?)", (userid, at))
            self._bump_version(conn)

    def auth_failures_since(self, userid: str, since: float) -> int:
        return int(
            self._scalar(
                "SELECT COUNT(*) FROM auth_failures WHERE userid = ? AND at >= ?", (userid, since)
            )
        )


def _config(cfg: AccountConfig) -> str:
    return json.dumps(cfg.to_dict())


def _account(row: sqlite3.Row) -> AccountRecord:
    return AccountRecord(
        AccountConfig.from_dict(json.loads(row["config"])), row["balance"], row["money_micros"]
    )
