"""The durable store: SQLite in WAL mode, one file (the default), or Redis
(mockcarrier.redis_store, `--store redis://...`) behind the same methods.

Everything the mock acknowledges is committed before the answer leaves, so it survives
`kill -9`.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from smsapi.endpoints import MO_FIELDS as ENDPOINT_MO_FIELDS
from smsapi.endpoints import REPORT_FIELDS

from .config import AccountConfig, Settings, to_micros
from .ids import COUNTER_LIMIT

if TYPE_CHECKING:
    from .redis_store import RedisStore

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
    state TEXT NOT NULL, taken_at REAL, claimed_until REAL NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS reports_due ON reports (userid, due_at) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS reports_message ON reports (message_msgid);
CREATE TABLE IF NOT EXISTS mos (
    msgid INTEGER PRIMARY KEY, userid TEXT NOT NULL, mobile TEXT NOT NULL,
    spno TEXT NOT NULL, exno TEXT NOT NULL, rtime TEXT NOT NULL, text TEXT NOT NULL,
    state TEXT NOT NULL, created_at REAL NOT NULL, taken_at REAL,
    claimed_until REAL NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS mos_pending ON mos (userid, created_at) WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS auth_failures (userid TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS auth_failures_user ON auth_failures (userid, at);
CREATE TABLE IF NOT EXISTS control (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS faults (
    id INTEGER PRIMARY KEY, rule TEXT NOT NULL, remaining INTEGER,
    hits INTEGER NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS push_lanes (
    userid TEXT NOT NULL, kind TEXT NOT NULL, seqid INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '', PRIMARY KEY (userid, kind));
CREATE TABLE IF NOT EXISTS push_attempts (
    id INTEGER PRIMARY KEY, userid TEXT NOT NULL, kind TEXT NOT NULL, seqid INTEGER NOT NULL,
    url TEXT NOT NULL, count INTEGER NOT NULL, first_msgid INTEGER, last_msgid INTEGER,
    started_at REAL NOT NULL, duration_ms REAL NOT NULL, ok INTEGER NOT NULL,
    http_status INTEGER, answer TEXT NOT NULL, error TEXT NOT NULL, retry_in REAL,
    note TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS push_attempts_user ON push_attempts (userid, kind, id);
"""
# The MO columns of table 4-3 but content: the store keeps the text and encodes it when
# it hands the MO out (mo_charset).
MO_FIELDS = tuple(f for f in ENDPOINT_MO_FIELDS if f != "content")
# The rows Acceptance.build makes (a message row without request_id, which the store
# adds second), as the messages and reports tables hold them.
MESSAGE_COLUMNS = (
    "msgid", "request_id", "userid", "position", "mobile", "operator", "text", "pktotal",
    "custid", "svrtype", "exno", "spno", "exdata", "issues", "stime", "outcome",
)  # fmt: skip
REPORT_COLUMNS = (
    "msgid", "message_msgid", "userid", "custid", "pknum", "pktotal", "mobile", "spno",
    "exno", "stime", "rtime", "status", "errcode", "errdesc", "exdata", "due_at", "state",
)  # fmt: skip
# What messages() gives of each segment's report (both stores).
SEGMENT_COLUMNS = ("msgid", "pknum", "status", "errcode", "rtime", "due_at", "state")


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

    def __init__(self, path: str, busy_timeout: float = 10.0) -> None:
        if path in ("", ":memory:"):
            raise ValueError("the store needs a file path")
        self.path = path
        # How long a writer waits for another connection's lock (any process) before
        # the request fails with -100999.
        self.busy_timeout = busy_timeout
        # Test-only: a page limit makes SQLite answer "database or disk is full", the
        # way a full disk does; None is no limit (docs/reliability.md).
        self.page_limit: int | None = None
        self._local = threading.local()
        self._writer = threading.Lock()
        self._lock_fd: int | None = None
        self._lock_pid = 0
        try:
            self._conn().executescript(SCHEMA)
            self._add_missing_columns()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot create the schema in {path}: {exc}") from exc
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
            )
            conn.execute("INSERT OR IGNORE INTO counters VALUES ('msgid', 0)")

    # ------------------------------------------------------------ plumbing

    def _add_missing_columns(self) -> None:
        """A store file written by an earlier version lacks the push claim column."""
        conn = self._conn()
        for table in ("reports", "mos"):
            columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            if "claimed_until" not in columns:
                conn.execute(
                    f"ALTER TABLE {table} ADD COLUMN claimed_until REAL NOT NULL DEFAULT 0"
                )

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
                conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: safe across kill -9
            except sqlite3.Error as exc:
                if conn is not None:  # a locked file: retried by the next request
                    conn.close()
                raise StoreError(f"cannot open {self.path}: {exc}") from exc
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        # Writers queue on a thread lock, then on a flock() of a file beside the store (the
        # kernel frees it when a process dies): both wake the next writer at once, where
        # SQLite's busy handler polls with sleeps of up to 100 ms. Other programs that
        # open the file still meet busy_timeout.
        # flock, not an fcntl record lock: the kernel's deadlock check for record locks
        # counts processes, not threads, so a thread waiting here while another thread
        # of its process waits on the limiter's record lock (limits.py) was refused with
        # EDEADLK: -100999 under load with --workers (tests/test_store_locks.py).
        if not self._writer.acquire(timeout=self.busy_timeout):
            raise StoreError("database is locked (another writer of this process)")
        try:
            try:
                fcntl.flock(self._writer_fd(), fcntl.LOCK_EX)
            except OSError as exc:
                raise StoreError(f"cannot lock {self.path}-writer: {exc}") from exc
            try:
                with self._transaction() as conn:
                    yield conn
            finally:
                fcntl.flock(self._writer_fd(), fcntl.LOCK_UN)
        finally:
            self._writer.release()

    def _writer_fd(self) -> int:
        """This process's own descriptor of the writer lock file: a descriptor inherited
        across fork() shares its flock with the parent, so a child opens its own."""
        if self._lock_fd is None or self._lock_pid != os.getpid():
            self._lock_fd = os.open(f"{self.path}-writer", os.O_RDWR | os.O_CREAT, 0o644)
            self._lock_pid = os.getpid()
        return self._lock_fd

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        try:
            if self.page_limit is not None:
                conn.execute(f"PRAGMA max_page_count={int(self.page_limit)}")
            # IMMEDIATE takes the write lock first, so read-then-write (counters, taking
            # reports) is serialised across threads and processes alike.
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            if conn.in_transaction:  # neither committed nor rolled back: start afresh
                self.close()
            if isinstance(exc, sqlite3.Error):
                raise StoreError(str(exc)) from exc
            raise

    def _read(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        try:
            return self._conn().execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc

    def describe(self) -> str:
        return f"sqlite {self.path}"

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
        """Record a failure, forgetting every failure older than keep seconds (unknown
        userids included: the log stays bounded)."""
        with self._write() as conn:
            conn.execute("DELETE FROM auth_failures WHERE at < ?", (at - keep,))
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
                "?, NULL, 0)",
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

    def take_reports(
        self, userid: str, now: float, limit: int, twice: bool = False
    ) -> list[dict[str, Any]]:
        """§2.5 hand out due reports, oldest due first; each one once: they are marked
        taken in the transaction that reads them. twice: the defect mode that hands
        each out a second time (state taken_once in between)."""
        # `state = 'pending'` alone lets SQLite use the partial index reports_due; an IN
        # list, even of one value, makes every get_rpt scan the whole table.
        states = "state IN ('pending', 'taken_once')" if twice else "state = 'pending'"
        with self._write() as conn:
            rows = conn.execute(
                f"SELECT {', '.join(REPORT_FIELDS)}, state FROM reports WHERE userid = ? "
                f"AND {states} AND due_at <= ? AND claimed_until <= ? "
                "ORDER BY due_at, msgid LIMIT ?",
                (userid, now, now, limit),
            ).fetchall()
            conn.executemany(
                "UPDATE reports SET state = ?, taken_at = ? WHERE msgid = ?",
                [
                    (
                        "taken_once" if twice and r["state"] == "pending" else "taken",
                        now,
                        r["msgid"],
                    )
                    for r in rows
                ],
            )
        return [{k: r[k] for k in REPORT_FIELDS} for r in rows]

    def add_mo(self, userid: str, mo: dict[str, Any]) -> int:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO mos VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, NULL, 0)",
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
                "AND state = 'pending' AND claimed_until <= ? ORDER BY created_at, msgid LIMIT ?",
                (userid, now, limit),
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
                    f"SELECT {', '.join(SEGMENT_COLUMNS)} FROM reports "
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

    def list_mos(
        self,
        userid: str,
        *,
        mobile: str = "",
        msgid: int | None = None,
        state: str = "",
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        """MOs received, newest first; every state unless one is given."""
        sql = "SELECT * FROM mos WHERE userid = ?"
        args: list[Any] = [userid]
        if state:
            sql += " AND state = ?"
            args.append(state)
        if mobile:
            sql += " AND mobile = ?"
            args.append(mobile)
        if msgid is not None:
            sql += " AND msgid = ?"
            args.append(msgid)
        sql += " ORDER BY created_at DESC, msgid DESC LIMIT ?"
        args.append(limit)
        return [dict(r) for r in self._read(sql, tuple(args))]

    def reschedule_reports(
        self,
        userid: str,
        message_msgid: int,
        *,
        due_at: float,
        rtime: str,
        failure: tuple[int, str, str] | None = None,
    ) -> int:
        """Give a message's reports not handed out yet a new due time and rtime, and
        with failure (status, errcode, errdesc) a new fate. Returns how many changed."""
        sql = "UPDATE reports SET due_at = ?, rtime = ?"
        args: list[Any] = [due_at, rtime]
        if failure is not None:
            sql += ", status = ?, errcode = ?, errdesc = ?"
            args.extend(failure)
        sql += " WHERE userid = ? AND message_msgid = ? AND state = 'pending'"
        args.extend((userid, message_msgid))
        with self._write() as conn:
            return conn.execute(sql, tuple(args)).rowcount

    # ------------------------------------------------------------ control plane

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

    def set_balance(self, userid: str, count: int | None, micros: int | None) -> AccountRecord:
        with self._write() as conn:
            if count is not None:
                conn.execute("UPDATE accounts SET balance = ? WHERE userid = ?", (count, userid))
            if micros is not None:
                conn.execute(
                    "UPDATE accounts SET money_micros = ? WHERE userid = ?", (micros, userid)
                )
        record = self.account(userid)
        if record is None:
            raise UnknownAccount(userid)
        return record

    # ------------------------------------------------------------ faults

    def add_fault(self, rule: dict[str, Any], remaining: int | None) -> int:
        with self._write() as conn:
            return int(
                conn.execute(
                    "INSERT INTO faults (rule, remaining, hits, created_at) VALUES (?, ?, 0, ?)",
                    (json.dumps(rule), remaining, time.time()),
                ).lastrowid
            )

    def faults(self, active_only: bool = False) -> list[dict[str, Any]]:
        sql = "SELECT * FROM faults"
        if active_only:
            sql += " WHERE remaining IS NULL OR remaining > 0"
        rows = self._read(sql + " ORDER BY id")
        return [{**dict(r), "rule": json.loads(r["rule"])} for r in rows]

    def consume_fault(self, fault_id: int) -> bool:
        """Count one firing of a rule; False when it was spent meanwhile (other process)."""
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE faults SET hits = hits + 1, remaining = remaining - 1 "
                "WHERE id = ? AND (remaining IS NULL OR remaining > 0)",
                (fault_id,),
            )
            return cur.rowcount > 0

    def delete_faults(self, fault_id: int | None = None) -> int:
        with self._write() as conn:
            if fault_id is None:
                return conn.execute("DELETE FROM faults").rowcount
            return conn.execute("DELETE FROM faults WHERE id = ?", (fault_id,)).rowcount

    # ------------------------------------------------------------ leases

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

    def release_lease(self, name: str, holder: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

    def lease(self, name: str) -> dict[str, Any] | None:
        rows = self._read("SELECT * FROM leases WHERE name = ?", (name,))
        return dict(rows[0]) if rows else None

    # ------------------------------------------------------------ push outbox

    def pending_push(
        self, userid: str, kind: str, now: float, limit: int, claim_for: float = 0.0
    ) -> list[dict]:
        """What is due to be pushed, in order: reports by due time, MOs by arrival.
        They stay pending until a push of them is acknowledged (record_push). With
        claim_for, the rows are claimed for that long, so that get_rpt / get_mo (under
        pull_while_push) cannot hand out what a push has in flight; a claim lapses on
        its own, so a crash mid-push leaves nothing stuck."""
        table = "reports" if kind == "rpt" else "mos"
        if kind == "rpt":
            sql = (
                f"SELECT {', '.join(REPORT_FIELDS)} FROM reports WHERE userid = ? "
                "AND state = 'pending' AND due_at <= ? AND claimed_until <= ? "
                "ORDER BY due_at, msgid LIMIT ?"
            )
            args: tuple = (userid, now, now, limit)
        else:
            sql = (
                f"SELECT {', '.join(MO_FIELDS)}, text FROM mos WHERE userid = ? "
                "AND state = 'pending' AND claimed_until <= ? ORDER BY created_at, msgid LIMIT ?"
            )
            args = (userid, now, limit)
        if not claim_for:
            return [dict(r) for r in self._read(sql, args)]
        with self._write() as conn:
            rows = [dict(r) for r in conn.execute(sql, args).fetchall()]
            conn.executemany(
                f"UPDATE {table} SET claimed_until = ? WHERE msgid = ?",
                [(now + claim_for, r["msgid"]) for r in rows],
            )
        return rows

    def release_claims(self, kind: str, msgids: list[int]) -> None:
        """Give back rows a push claimed but did not deliver."""
        table = "reports" if kind == "rpt" else "mos"
        with self._write() as conn:
            conn.executemany(
                f"UPDATE {table} SET claimed_until = 0 WHERE msgid = ? AND state = 'pending'",
                [(m,) for m in msgids],
            )

    def pending_count(self, userid: str, kind: str, now: float | None = None) -> int:
        """Items not handed out yet (due by now, when given)."""
        table = "reports" if kind == "rpt" else "mos"
        sql = f"SELECT COUNT(*) FROM {table} WHERE userid = ? AND state = 'pending'"
        args: tuple = (userid,)
        if now is not None and kind == "rpt":
            sql += " AND due_at <= ?"
            args = (userid, now)
        return int(self._read(sql, args)[0][0])

    def next_due(self, userid: str) -> float | None:
        """When the next pending report of an account falls due."""
        rows = self._read(
            "SELECT MIN(due_at) FROM reports WHERE userid = ? AND state = 'pending'", (userid,)
        )
        return rows[0][0]

    def next_seqid(self, userid: str, kind: str, advance: bool = True) -> int:
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

    def push_lane(self, userid: str, kind: str) -> dict[str, Any]:
        rows = self._read("SELECT * FROM push_lanes WHERE userid = ? AND kind = ?", (userid, kind))
        if rows:
            return dict(rows[0])
        return {
            "userid": userid,
            "kind": kind,
            "seqid": 0,
            "failures": 0,
            "next_at": 0.0,
            "last_error": "",
        }

    def push_lane_done(
        self, userid: str, kind: str, failures: int = 0, next_at: float = 0.0, error: str = ""
    ) -> None:
        """Record the outcome of a push: failures 0 clears the backoff."""
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO push_lanes (userid, kind) VALUES (?, ?)", (userid, kind)
            )
            conn.execute(
                "UPDATE push_lanes SET failures = ?, next_at = ?, last_error = ? "
                "WHERE userid = ? AND kind = ?",
                (failures, next_at, error, userid, kind),
            )

    def record_push(
        self,
        attempt: dict[str, Any],
        pushed: list[int] | None = None,
        lane: tuple[int, float, str] | None = None,
        keep: int = 5000,
    ) -> int:
        """A push's outcome in one transaction: the acknowledged items become pushed
        (they leave the outbox), the lane's backoff becomes (failures, next_at, error),
        and the attempt is logged (about the last `keep` per account are kept)."""
        userid, kind = attempt["userid"], attempt["kind"]
        table = "reports" if kind == "rpt" else "mos"
        columns = ", ".join(attempt)
        marks = ", ".join("?" * len(attempt))
        with self._write() as conn:
            if pushed:
                conn.executemany(
                    f"UPDATE {table} SET state = 'pushed', taken_at = ? "
                    "WHERE msgid = ? AND userid = ? AND state = 'pending'",
                    [(time.time(), m, userid) for m in pushed],
                )
            if lane is not None:
                conn.execute(
                    "INSERT OR IGNORE INTO push_lanes (userid, kind) VALUES (?, ?)", (userid, kind)
                )
                conn.execute(
                    "UPDATE push_lanes SET failures = ?, next_at = ?, last_error = ? "
                    "WHERE userid = ? AND kind = ?",
                    (*lane, userid, kind),
                )
            row_id = int(
                conn.execute(
                    f"INSERT INTO push_attempts ({columns}) VALUES ({marks})",
                    tuple(attempt.values()),
                ).lastrowid
            )
            if row_id % 100 == 0:
                conn.execute(
                    "DELETE FROM push_attempts WHERE userid = ? AND id <= ?",
                    (userid, row_id - keep),
                )
        return row_id

    def push_attempts(self, userid: str, kind: str = "", limit: int = 100) -> list[dict]:
        sql = "SELECT * FROM push_attempts WHERE userid = ?"
        args: list[Any] = [userid]
        if kind:
            sql += " AND kind = ?"
            args.append(kind)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        return [dict(r) for r in self._read(sql, tuple(args))]

    def reset(self, userid: str, cfg: AccountConfig) -> None:
        """Forget what an account sent and received; balance back to its configured start."""
        with self._write() as conn:
            for table in (
                "reports",
                "messages",
                "requests",
                "mos",
                "auth_failures",
                "push_attempts",
            ):
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


Store: TypeAlias = "SqliteStore | RedisStore"


def open_store(settings: Settings) -> Store:
    """The store settings name: Redis at settings.store, else SQLite at settings.db."""
    if settings.store:
        from .redis_store import RedisStore  # redis is imported only when asked for

        return RedisStore(settings.store)
    return SqliteStore(settings.db)


def _account(row: sqlite3.Row) -> AccountRecord:
    return AccountRecord(
        AccountConfig.from_dict(json.loads(row["config"])), row["balance"], row["money_micros"]
    )
