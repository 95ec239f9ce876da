"""The SQLite store's tables (schema 3): one row per message, reports derived from it.

Schema 1 kept one row per segment report and five indexes; schema 2 kept a message row
with its fate, its Schedule and a `reported` cursor (mockcarrier/stores/segments.py), and
`next_due` (NULL once every segment is handed out or when it is never reported) behind a
partial index: the only index a send writes besides the primary keys. Schema 3 keeps
what a send's messages share (text, pktotal, custid, svrtype, exno, spno, exdata, issues,
stime, the segment gaps) once, on the request row: a message row writes only its own
values, and NULL in those columns means "the request's". A batch message's row is half
as wide, and an insert of a thousand of them half as long (benchmarks/RESULTS.md).
`messages_full` reads every message with what it shares, under the names schema 2 had.
"""

from __future__ import annotations

import sqlite3

from ..interface import StoreError

SCHEMA_VERSION = "3"
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
    accepted_at REAL NOT NULL, pktotal INTEGER NOT NULL, svrtype TEXT NOT NULL,
    exno TEXT NOT NULL, spno TEXT NOT NULL, exdata TEXT NOT NULL, issues TEXT NOT NULL,
    stime TEXT NOT NULL, due_gap REAL NOT NULL, rtime_gap REAL NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    msgid INTEGER PRIMARY KEY, request_id INTEGER NOT NULL, userid TEXT NOT NULL,
    position INTEGER NOT NULL, mobile TEXT NOT NULL, operator TEXT NOT NULL,
    latency REAL, status INTEGER NOT NULL, errcode TEXT NOT NULL, errdesc TEXT NOT NULL,
    due_at REAL, rtime REAL, reported INTEGER NOT NULL DEFAULT 0, next_due REAL,
    pushed INTEGER NOT NULL DEFAULT 0, claimed_until REAL NOT NULL DEFAULT 0,
    text TEXT, pktotal INTEGER, custid TEXT, svrtype TEXT, exno TEXT, spno TEXT,
    exdata TEXT, issues TEXT, due_gap REAL, rtime_gap REAL);
CREATE INDEX IF NOT EXISTS messages_due ON messages (userid, next_due)
    WHERE next_due IS NOT NULL;
CREATE VIEW IF NOT EXISTS messages_full AS SELECT
    m.msgid AS msgid, m.request_id AS request_id, m.userid AS userid,
    m.position AS position, m.mobile AS mobile, m.operator AS operator,
    COALESCE(m.text, r.text) AS text, COALESCE(m.pktotal, r.pktotal) AS pktotal,
    COALESCE(m.custid, r.custid) AS custid, COALESCE(m.svrtype, r.svrtype) AS svrtype,
    COALESCE(m.exno, r.exno) AS exno, COALESCE(m.spno, r.spno) AS spno,
    COALESCE(m.exdata, r.exdata) AS exdata, COALESCE(m.issues, r.issues) AS issues,
    r.stime AS stime, m.latency AS latency, m.status AS status, m.errcode AS errcode,
    m.errdesc AS errdesc, m.due_at AS due_at, COALESCE(m.due_gap, r.due_gap) AS due_gap,
    m.rtime AS rtime, COALESCE(m.rtime_gap, r.rtime_gap) AS rtime_gap,
    m.reported AS reported, m.next_due AS next_due, m.pushed AS pushed,
    m.claimed_until AS claimed_until, r.endpoint AS endpoint, r.fmt AS fmt,
    r.auth_mode AS auth_mode, r.msgid AS request_msgid
    FROM messages m JOIN requests r ON r.id = m.request_id;
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


def create_or_check(conn: sqlite3.Connection, path: str) -> None:
    """Inside a write transaction: create the tables of a new file, or refuse a file of
    another schema (1: a row per report; 2: every message row wide; a mock's store is
    test data, nothing worth a migration)."""
    try:
        has_meta = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
        ).fetchone()
        if has_meta:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            found = row[0] if row else None
            if found not in (None, SCHEMA_VERSION):
                raise StoreError(
                    f"{path} holds a store of schema {found}; this mock writes schema "
                    f"{SCHEMA_VERSION}. Start it on a new file (--db) or delete {path} "
                    "(and its -wal, -shm files) to start afresh."
                )
        for statement in SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
        conn.execute("INSERT OR IGNORE INTO counters VALUES ('msgid', 0)")
        conn.execute("INSERT OR IGNORE INTO counters VALUES ('version', 0)")
    except sqlite3.Error as exc:
        raise StoreError(f"cannot create the schema in {path}: {exc}") from exc
