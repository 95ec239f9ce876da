"""The durable store: SQLite in WAL mode, one file.

Everything the mock acknowledges is committed before the answer leaves, so it survives
`kill -9`. The interface is what a later Redis store implements too.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from .config import AccountConfig, to_micros
from .ids import COUNTER_LIMIT

SCHEMA_VERSION = "1"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    userid TEXT PRIMARY KEY, config TEXT NOT NULL,
    balance INTEGER NOT NULL, money_micros INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY, userid TEXT NOT NULL, endpoint TEXT NOT NULL,
    msgid INTEGER NOT NULL, custid TEXT NOT NULL, text TEXT, fmt TEXT NOT NULL,
    auth_mode TEXT NOT NULL, mobiles INTEGER NOT NULL, segments INTEGER NOT NULL,
    accepted_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS requests_user ON requests (userid, id);
CREATE TABLE IF NOT EXISTS messages (
    msgid INTEGER PRIMARY KEY, request_id INTEGER NOT NULL, userid TEXT NOT NULL,
    position INTEGER NOT NULL, mobile TEXT NOT NULL, operator TEXT NOT NULL, text TEXT,
    pktotal INTEGER NOT NULL, custid TEXT NOT NULL, svrtype TEXT NOT NULL,
    exno TEXT NOT NULL, spno TEXT NOT NULL, exdata TEXT NOT NULL, issues TEXT NOT NULL,
    stime TEXT NOT NULL, outcome TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS messages_user ON messages (userid, request_id);
CREATE INDEX IF NOT EXISTS messages_mobile ON messages (userid, mobile);
CREATE INDEX IF NOT EXISTS messages_custid ON messages (userid, custid);
CREATE TABLE IF NOT EXISTS reports (
    msgid INTEGER PRIMARY KEY, message_msgid INTEGER NOT NULL, userid TEXT NOT NULL,
    custid TEXT NOT NULL, pknum INTEGER NOT NULL, pktotal INTEGER NOT NULL,
    mobile TEXT NOT NULL, spno TEXT NOT NULL, exno TEXT NOT NULL, stime TEXT NOT NULL,
    rtime TEXT NOT NULL, status INTEGER NOT NULL, errcode TEXT NOT NULL,
    errdesc TEXT NOT NULL, exdata TEXT NOT NULL, due_at REAL NOT NULL,
    state TEXT NOT NULL, taken_at REAL);
CREATE INDEX IF NOT EXISTS reports_due ON reports (userid, due_at) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS reports_message ON reports (message_msgid);
CREATE TABLE IF NOT EXISTS mos (
    msgid INTEGER PRIMARY KEY, userid TEXT NOT NULL, mobile TEXT NOT NULL,
    spno TEXT NOT NULL, exno TEXT NOT NULL, rtime TEXT NOT NULL, text TEXT NOT NULL,
    state TEXT NOT NULL, created_at REAL NOT NULL, taken_at REAL);
CREATE INDEX IF NOT EXISTS mos_pending ON mos (userid, created_at) WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS auth_failures (userid TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS auth_failures_user ON auth_failures (userid, at);
"""
REPORT_FIELDS = (
    "msgid",
    "custid",
    "pknum",
    "pktotal",
    "mobile",
    "spno",
    "exno",
    "stime",
    "rtime",
    "status",
    "errcode",
    "errdesc",
    "exdata",
)  # §2.5.6 table 5-3, in the document's order
MO_FIELDS = ("msgid", "mobile", "spno", "exno", "rtime")  # §2.4.6 table 4-3 (content apart)


class StoreError(RuntimeError):
    """The store failed; the caller answers -100999 (§4 平台数据库内部错误)."""


class Arrears(Exception):
    """The balance cannot pay for every segment (§4 -100003)."""


class UnknownAccount(KeyError):
    pass


@dataclass
class AccountRecord:
    config: AccountConfig
    balance: int
    money_micros: int

    @property
    def userid(self) -> str:
        return self.config.userid


@dataclass
class Acceptance:
    """What a send writes: the request row, then messages and reports built from the
    first counter value the store reserved for it."""

    userid: str
    endpoint: str
    fmt: str
    auth_mode: str
    text: str | None
    mobiles: int
    segments: int  # every segment, billed or not
    cost_count: int  # segments billed (chargetype 0)
    cost_micros: int  # money billed (chargetype 1)
    build: Callable[[int], tuple[int, str, list[tuple], list[tuple]]] = field(repr=False)


class SqliteStore:
    """One SQLite file shared by every thread (and process) of the mock."""

    def __init__(self, path: str) -> None:
        if path in ("", ":memory:"):
            raise ValueError("the store needs a file path")
        self.path = path
        self._local = threading.local()
        try:
            self._conn().executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot create the schema in {path}: {exc}") from exc
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
            )
            conn.execute("INSERT OR IGNORE INTO counters VALUES ('msgid', 0)")

    # ------------------------------------------------------------ plumbing

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: safe across kill -9
                conn.execute("PRAGMA busy_timeout=10000")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open {self.path}: {exc}") from exc
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StoreError(str(exc)) from exc
            raise

    def _read(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        try:
            return self._conn().execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # ------------------------------------------------------------ accounts

    def ensure_accounts(self, accounts: list[AccountConfig]) -> None:
        """Create accounts that do not exist yet; configuration of existing ones is
        refreshed, their balances kept."""
        with self._write() as conn:
            for cfg in accounts:
                conn.execute(
                    "INSERT INTO accounts VALUES (?, ?, ?, ?) ON CONFLICT(userid) "
                    "DO UPDATE SET config = excluded.config",
                    (cfg.userid, json.dumps(cfg.to_dict()), cfg.balance, to_micros(cfg.money)),
                )

    def put_account(self, cfg: AccountConfig, reset_balance: bool = False) -> None:
        with self._write() as conn:
            exists = conn.execute("SELECT 1 FROM accounts WHERE userid = ?", (cfg.userid,))
            if exists.fetchone() and not reset_balance:
                conn.execute(
                    "UPDATE accounts SET config = ? WHERE userid = ?",
                    (json.dumps(cfg.to_dict()), cfg.userid),
                )
            else:
                conn.execute(
                    "INSERT OR REPLACE INTO accounts VALUES (?, ?, ?, ?)",
                    (cfg.userid, json.dumps(cfg.to_dict()), cfg.balance, to_micros(cfg.money)),
                )

    def delete_account(self, userid: str) -> bool:
        with self._write() as conn:
            return conn.execute("DELETE FROM accounts WHERE userid = ?", (userid,)).rowcount > 0

    def account(self, userid: str) -> AccountRecord | None:
        rows = self._read("SELECT * FROM accounts WHERE userid = ?", (userid,))
        return _account(rows[0]) if rows else None

    def accounts(self) -> list[AccountRecord]:
        return [_account(r) for r in self._read("SELECT * FROM accounts ORDER BY userid")]

    def top_up(self, userid: str, count: int = 0, micros: int = 0) -> AccountRecord:
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE accounts SET balance = balance + ?, money_micros = money_micros + ? "
                "WHERE userid = ?",
                (count, micros, userid),
            )
            if cur.rowcount == 0:
                raise UnknownAccount(userid)
        record = self.account(userid)
        assert record is not None
        return record

    # ------------------------------------------------------------ auth failures

    def record_auth_failure(self, userid: str, at: float, keep: float = 86400.0) -> None:
        """Record a failure, forgetting this account's failures older than keep seconds."""
        with self._write() as conn:
            conn.execute(
                "DELETE FROM auth_failures WHERE userid = ? AND at < ?", (userid, at - keep)
            )
            conn.execute("INSERT INTO auth_failures VALUES (?, ?)", (userid, at))

    def auth_failures_since(self, userid: str, since: float) -> int:
        rows = self._read(
            "SELECT COUNT(*) FROM auth_failures WHERE userid = ? AND at >= ?", (userid, since)
        )
        return int(rows[0][0])

    # ------------------------------------------------------------ sending

    def accept(self, acceptance: Acceptance, chargetype: int) -> tuple[int, str]:
        """Bill, reserve ids and store messages and reports in one transaction.

        Returns (msgid, custid) as acceptance.build made them. Raises Arrears when the
        balance cannot pay every billed segment, StoreError when ids are exhausted.
        """
        a = acceptance
        with self._write() as conn:
            row = conn.execute(
                "SELECT balance, money_micros FROM accounts WHERE userid = ?", (a.userid,)
            ).fetchone()
            if row is None:
                raise UnknownAccount(a.userid)
            if chargetype == 0 and row["balance"] < a.cost_count:
                raise Arrears()
            if chargetype == 1 and row["money_micros"] < a.cost_micros:
                raise Arrears()
            # Each message (mobile) takes one counter value: §3.3 msgid + position - 1.
            last = conn.execute(
                "UPDATE counters SET value = value + ? WHERE name = 'msgid' RETURNING value",
                (a.mobiles,),
            ).fetchone()[0]
            if last >= COUNTER_LIMIT:
                raise StoreError("msgid space exhausted")
            first = last - a.mobiles + 1
            msgid, custid, messages, reports = a.build(first)
            request_id = conn.execute(
                "INSERT INTO requests (userid, endpoint, msgid, custid, text, fmt, auth_mode, "
                "mobiles, segments, accepted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    a.userid,
                    a.endpoint,
                    msgid,
                    custid,
                    a.text,
                    a.fmt,
                    a.auth_mode,
                    a.mobiles,
                    a.segments,
                    time.time(),
                ),
            ).lastrowid
            conn.executemany(
                "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(m[0], request_id, *m[1:]) for m in messages],
            )
            conn.executemany(
                "INSERT INTO reports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                "?, NULL)",
                reports,
            )
            if chargetype == 0:
                conn.execute(
                    "UPDATE accounts SET balance = balance - ? WHERE userid = ?",
                    (a.cost_count, a.userid),
                )
            else:
                conn.execute(
                    "UPDATE accounts SET money_micros = money_micros - ? WHERE userid = ?",
                    (a.cost_micros, a.userid),
                )
        return msgid, custid

    def reserve_ids(self, count: int) -> int:
        """Reserve count consecutive counter values outside a send (MO ids)."""
        with self._write() as conn:
            last = conn.execute(
                "UPDATE counters SET value = value + ? WHERE name = 'msgid' RETURNING value",
                (count,),
            ).fetchone()[0]
            if last >= COUNTER_LIMIT:
                raise StoreError("msgid space exhausted")
            return last - count + 1

    # ------------------------------------------------------------ pulling

    def take_reports(self, userid: str, now: float, limit: int) -> list[dict[str, Any]]:
        """§2.5 hand out due reports, oldest due first; each one once: they are marked
        taken in the transaction that reads them."""
        with self._write() as conn:
            rows = conn.execute(
                f"SELECT {', '.join(REPORT_FIELDS)} FROM reports WHERE userid = ? "
                "AND state = 'pending' AND due_at <= ? ORDER BY due_at, msgid LIMIT ?",
                (userid, now, limit),
            ).fetchall()
            conn.executemany(
                "UPDATE reports SET state = 'taken', taken_at = ? WHERE msgid = ?",
                [(now, r["msgid"]) for r in rows],
            )
        return [dict(r) for r in rows]

    def add_mo(self, userid: str, mo: dict[str, Any]) -> int:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO mos VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, NULL)",
                (
                    mo["msgid"],
                    userid,
                    mo["mobile"],
                    mo["spno"],
                    mo["exno"],
                    mo["rtime"],
                    mo["text"],
                    time.time(),
                ),
            )
        return int(mo["msgid"])

    def take_mos(self, userid: str, now: float, limit: int) -> list[dict[str, Any]]:
        """§2.4 hand out MOs in arrival order, each one once."""
        with self._write() as conn:
            rows = conn.execute(
                f"SELECT {', '.join(MO_FIELDS)}, text FROM mos WHERE userid = ? "
                "AND state = 'pending' ORDER BY created_at, msgid LIMIT ?",
                (userid, limit),
            ).fetchall()
            conn.executemany(
                "UPDATE mos SET state = 'taken', taken_at = ? WHERE msgid = ?",
                [(now, r["msgid"]) for r in rows],
            )
        return [dict(r) for r in rows]

    # ------------------------------------------------------------ views for admin

    def messages(
        self,
        userid: str,
        *,
        mobile: str = "",
        custid: str = "",
        msgids: tuple[int, ...] = (),
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        sql = (
            "SELECT m.*, r.endpoint, r.fmt, r.auth_mode, r.msgid AS request_msgid, "
            "COALESCE(m.text, r.text) AS full_text FROM messages m JOIN requests r "
            "ON r.id = m.request_id WHERE m.userid = ?"
        )
        args: list[Any] = [userid]
        if mobile:
            sql += " AND m.mobile = ?"
            args.append(mobile)
        if custid:
            sql += " AND m.custid = ?"
            args.append(custid)
        if msgids:
            sql += f" AND m.msgid IN ({', '.join('?' * len(msgids))})"
            args.extend(msgids)
        sql += " ORDER BY m.msgid DESC LIMIT ?"
        args.append(limit)
        out = []
        for row in self._read(sql, tuple(args)):
            item = dict(row)
            item["text"] = item.pop("full_text")
            item["issues"] = json.loads(item["issues"])
            item["outcome"] = json.loads(item["outcome"])
            item["segments"] = [
                dict(r)
                for r in self._read(
                    "SELECT msgid, pknum, status, errcode, rtime, due_at, state FROM reports "
                    "WHERE message_msgid = ? ORDER BY pknum",
                    (row["msgid"],),
                )
            ]
            out.append(item)
        return out

    def reports(self, userid: str, state: str = "pending", limit: int = 500) -> list[dict]:
        rows = self._read(
            "SELECT * FROM reports WHERE userid = ? AND state = ? ORDER BY due_at LIMIT ?",
            (userid, state, limit),
        )
        return [dict(r) for r in rows]

    def reset(self, userid: str, cfg: AccountConfig) -> None:
        """Forget what an account sent and received; balance back to its configured start."""
        with self._write() as conn:
            for table in ("reports", "messages", "requests", "mos", "auth_failures"):
                conn.execute(f"DELETE FROM {table} WHERE userid = ?", (userid,))
            conn.execute(
                "UPDATE accounts SET balance = ?, money_micros = ? WHERE userid = ?",
                (cfg.balance, to_micros(cfg.money), userid),
            )


def _account(row: sqlite3.Row) -> AccountRecord:
    return AccountRecord(
        AccountConfig.from_dict(json.loads(row["config"])), row["balance"], row["money_micros"]
    )
