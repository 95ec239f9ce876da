"""A send in one durable step: bill, reserve counters, keep one row per message."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from smsapi.msgid import mobile_msgid

from ... import ids
from ..interface import Acceptance, Accepted, Arrears, StoreError, UnknownAccount
from ..segments import Timing, fate_of
from .commit import GroupCommitter
from .db import Database
from .rows import schedule_values

MESSAGE_INSERT = (
    "INSERT INTO messages (msgid, request_id, userid, position, mobile, operator, text, "
    "pktotal, custid, svrtype, exno, spno, exdata, issues, stime, latency, status, errcode, "
    "errdesc, due_at, due_gap, rtime, rtime_gap, next_due) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class SqliteSends(Database):
    def __init__(self, path: str, busy_timeout: float = 10.0) -> None:
        super().__init__(path, busy_timeout)
        self._committer = GroupCommitter(self._write)

    def accept(self, acceptance: Acceptance) -> Accepted:
        """Bill, reserve one counter per message, keep the messages: one durable step,
        in the transaction of the sends that arrive with it (commit.py). Raises Arrears
        (nothing written), UnknownAccount, StoreError."""
        return self._committer.run(lambda conn: accept_in(conn, acceptance))

    def reserve_ids(self, count: int) -> int:
        """count consecutive counter values outside a send (MO ids); the first."""
        with self._write() as conn:
            return reserve_counters(conn, count)


def reserve_counters(conn: sqlite3.Connection, count: int) -> int:
    """§3.3 count consecutive counter values, used once even across a crash: the first."""
    last = conn.execute(
        "UPDATE counters SET value = value + ? WHERE name = 'msgid' RETURNING value", (count,)
    ).fetchone()[0]
    if last >= ids.COUNTER_LIMIT:
        raise StoreError("msgid space exhausted")
    return int(last) - count + 1


def debit(conn: sqlite3.Connection, a: Acceptance) -> None:
    """Take the send's price from the balance in one statement; Arrears when it cannot
    pay (nothing changed), UnknownAccount when the account is gone."""
    column, cost = (
        ("balance", a.cost_count) if a.chargetype == 0 else ("money_micros", a.cost_micros)
    )
    paid = conn.execute(
        f"UPDATE accounts SET {column} = {column} - ? WHERE userid = ? AND {column} >= ? "
        "RETURNING 1",
        (cost, a.userid, cost),
    ).fetchone()
    if paid is None:
        if conn.execute("SELECT 1 FROM accounts WHERE userid = ?", (a.userid,)).fetchone():
            raise Arrears()
        raise UnknownAccount(a.userid)


def accept_in(conn: sqlite3.Connection, a: Acceptance) -> Accepted:
    """The statements of one send, inside the caller's transaction."""
    debit(conn, a)
    first = reserve_counters(conn, a.mobiles)
    base = ids.compose(a.prefix, first)
    custid = a.custid or ids.generated_custid(a.seed, base)
    request_id = conn.execute(
        "INSERT INTO requests (userid, endpoint, msgid, custid, text, fmt, auth_mode, "
        "mobiles, segments, accepted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            a.userid, a.endpoint, base, custid, a.text, a.fmt, a.auth_mode, a.mobiles,
            a.segments, time.time(),
        ),
    ).lastrowid  # fmt: skip
    conn.executemany(MESSAGE_INSERT, message_rows(a, base, custid, request_id))
    return Accepted(base, custid)


def message_rows(a: Acceptance, base: int, custid: str, request_id: Any) -> list[tuple]:
    """The rows of a send's messages. The loop runs once a mobile (1000 times a batch):
    what the messages share is computed once, the rest inline."""
    timing = Timing.of(a)
    stime = timing.stime_text
    issues_json: dict[tuple[str, ...], str] = {}
    rows = []
    for m in a.messages:
        msgid = mobile_msgid(base, m.position)  # §3.3 msgid + 手机号码位置 - 1
        fate = fate_of(a, m, msgid)
        schedule = timing.schedule(fate)
        issues = issues_json.get(m.issues)
        if issues is None:
            issues = issues_json[m.issues] = json.dumps(list(m.issues), ensure_ascii=False)
        rows.append(
            (
                msgid, request_id, a.userid, m.position, m.mobile, m.operator, m.text,
                m.pktotal, m.custid or custid, m.svrtype, m.exno, m.spno, m.exdata, issues,
                stime, fate.latency, fate.status, fate.errcode, fate.errdesc,
                *schedule_values(schedule), None if schedule is None else schedule.due_at,
            )
        )  # fmt: skip
    return rows
