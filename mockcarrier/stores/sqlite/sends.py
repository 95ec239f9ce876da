"""A send in one durable step: bill, reserve counters, keep one row per message.

The sends of a group transaction (commit.py) are written together: one debit per account
when the group's total can be paid, one counter reservation, the request rows and the
message rows each in a few statements of many rows (bulk.py), whatever the group's size.
A message row keeps only its own values; what it shares with its request is kept once,
on the request row (schema.py)."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass

from smsapi.msgid import mobile_msgid

from ... import ids
from ..interface import Acceptance, Accepted, Arrears, StoreError, UnknownAccount
from ..segments import Timing, fate_values
from .bulk import insert_rows
from .commit import GroupCommitter
from .db import Database

REQUEST_INSERT = (
    "INSERT INTO requests (id, userid, endpoint, msgid, custid, text, fmt, auth_mode, "
    "mobiles, segments, accepted_at, pktotal, svrtype, exno, spno, exdata, issues, stime, "
    "due_gap, rtime_gap) VALUES"
)  # rows by bulk.insert_rows
# A message that shares its request's values (every message of a batch_send): the
# shared columns stay NULL (schema.py).
MESSAGE_INSERT = (
    "INSERT INTO messages (msgid, request_id, userid, position, mobile, operator, latency, "
    "status, errcode, errdesc, due_at, rtime, next_due) VALUES"
)
# A message with values of its own (a multi_send item unlike the first).
OWN_MESSAGE_INSERT = (
    "INSERT INTO messages (msgid, request_id, userid, position, mobile, operator, latency, "
    "status, errcode, errdesc, due_at, rtime, next_due, text, pktotal, custid, svrtype, "
    "exno, spno, exdata, issues) VALUES"
)


# A send of this many mobiles or more is numbered before its group transaction: its ids
# reserved in a transaction of their own, then its fates drawn and rows built outside the
# writer lock (a thousand of them took half the time a batch held it), so the other
# process writes meanwhile. Refused then (arrears), it leaves its ids unused: never reused.
NUMBER_AHEAD = 100


class SqliteSends(Database):
    def __init__(self, path: str, busy_timeout: float = 10.0) -> None:
        super().__init__(path, busy_timeout)
        self._committer: GroupCommitter[Acceptance | Numbered, Accepted] = GroupCommitter(
            self._write, accept_group
        )

    checks_version = False  # version() reads the board, no SQLite call: read it first
    on_network = False  # a file of this host: its waits are its locks'

    def accept(self, acceptance: Acceptance) -> Accepted:
        """Bill, reserve one counter per message, keep the messages: one durable step,
        in the transaction of the sends that arrive with it (commit.py). Raises Arrears
        (nothing written; a send of NUMBER_AHEAD mobiles or more leaves the ids it
        reserved unused), UnknownAccount, StoreError."""
        if acceptance.mobiles >= NUMBER_AHEAD:
            counter = self.reserve_ids(acceptance.mobiles)
            return self._committer.run(numbered(acceptance, counter, time.time()))
        return self._committer.run(acceptance)

    def reserve_ids(self, count: int) -> int:
        """count consecutive counter values outside a send (MO ids); the first."""
        with self._write() as conn:
            return reserve_counters(conn, count)


@dataclass(slots=True)
class Numbered:
    """A send numbered from its first counter, with the rows that keep it."""

    acceptance: Acceptance
    accepted: Accepted
    request: tuple
    messages: list[tuple]  # rows sharing the request's values
    own: list[tuple]  # rows with values of their own


def numbered(a: Acceptance, counter: int, now: float) -> Numbered:
    """The send's ids from counter on, its custid, its request row and message rows."""
    base = ids.compose(a.prefix, counter)
    custid = a.custid or ids.generated_custid(a.seed, base)
    request_id = counter  # the send's first counter: unique, never reused, in order
    timing = Timing.of(a)
    shared = shared_values(a)
    request = (
        request_id, a.userid, a.endpoint, base, custid, shared[0], a.fmt, a.auth_mode,
        a.mobiles, a.segments, now, *shared[1:], timing.stime_text, *timing.gaps,
    )  # fmt: skip
    send = Numbered(a, Accepted(base, custid), request, [], [])
    message_rows(a, base, custid, request_id, timing, shared, send.messages, send.own)
    return send


def reserve_counters(conn: sqlite3.Connection, count: int) -> int:
    """§3.3 count consecutive counter values, used once even across a crash: the first."""
    last = conn.execute(
        "UPDATE counters SET value = value + ? WHERE name = 'msgid' RETURNING value", (count,)
    ).fetchone()[0]
    if last >= ids.COUNTER_LIMIT:
        raise StoreError("msgid space exhausted")
    return int(last) - count + 1


def price(a: Acceptance) -> tuple[str, int]:
    """The balance column a send is paid from and what it costs there."""
    return ("balance", a.cost_count) if a.chargetype == 0 else ("money_micros", a.cost_micros)


def take_price(conn: sqlite3.Connection, userid: str, column: str, cost: int) -> bool:
    """Take cost from one balance in one statement; False (nothing changed) when the
    balance cannot pay it or the account is gone."""
    paid = conn.execute(
        f"UPDATE accounts SET {column} = {column} - ? WHERE userid = ? AND {column} >= ? "
        "RETURNING 1",
        (cost, userid, cost),
    ).fetchone()
    return paid is not None


def debit(conn: sqlite3.Connection, a: Acceptance) -> None:
    """Take the send's price from the balance; Arrears when it cannot pay (nothing
    changed), UnknownAccount when the account is gone."""
    column, cost = price(a)
    if not take_price(conn, a.userid, column, cost):
        if conn.execute("SELECT 1 FROM accounts WHERE userid = ?", (a.userid,)).fetchone():
            raise Arrears()
        raise UnknownAccount(a.userid)


def pay(conn: sqlite3.Connection, group: list[Acceptance]) -> list[Exception | None]:
    """Debit each send of the group; per send None (paid) or the exception refusing it.
    A balance that pays the total of its sends is debited once; otherwise each send in
    turn, in arrival order, until the balance runs out."""
    refusals: list[Exception | None] = [None] * len(group)
    by_balance: dict[tuple[str, str], list[int]] = {}
    total: dict[tuple[str, str], int] = {}
    for i, a in enumerate(group):
        column, cost = price(a)
        by_balance.setdefault((a.userid, column), []).append(i)
        total[(a.userid, column)] = total.get((a.userid, column), 0) + cost
    for (userid, column), members in by_balance.items():
        if len(members) > 1 and take_price(conn, userid, column, total[(userid, column)]):
            continue
        for i in members:
            try:
                debit(conn, group[i])
            except (Arrears, UnknownAccount) as exc:
                refusals[i] = exc
    return refusals


def accept_group(
    conn: sqlite3.Connection, group: list[Acceptance | Numbered]
) -> list[Accepted | Exception]:
    """The statements of a group of sends, inside the group's transaction: the paid ones
    not numbered yet numbered in arrival order from one reservation of counters."""
    sends = [s.acceptance if isinstance(s, Numbered) else s for s in group]
    refusals = pay(conn, sends)
    fresh = [
        s for s, refused in zip(group, refusals, strict=True)
        if refused is None and not isinstance(s, Numbered)
    ]  # fmt: skip
    counter = reserve_counters(conn, sum(a.mobiles for a in fresh)) if fresh else 0
    answers: list[Accepted | Exception] = []
    requests: list[tuple] = []
    messages: list[tuple] = []
    own: list[tuple] = []
    now = time.time()
    for send, refused in zip(group, refusals, strict=True):
        if refused is not None:
            answers.append(refused)
            continue
        if not isinstance(send, Numbered):
            send = numbered(send, counter, now)
            counter += send.acceptance.mobiles
        requests.append(send.request)
        messages.extend(send.messages)
        own.extend(send.own)
        answers.append(send.accepted)
    if requests:
        insert_rows(conn, REQUEST_INSERT, requests)
        insert_rows(conn, MESSAGE_INSERT, messages)
        insert_rows(conn, OWN_MESSAGE_INSERT, own)
    return answers


Shared = tuple[str | None, int, str, str, str, str, str]  # text .. exdata, issues JSON


def shared_values(a: Acceptance) -> Shared:
    """What the request row keeps for its messages (with its custid): the first
    message's text, pktotal, svrtype, exno, spno, exdata and issues (a batch_send's are
    every message's)."""
    first = a.messages[0]
    return (
        a.text if first.text is None else first.text, first.pktotal, first.svrtype,
        first.exno, first.spno, first.exdata, issues_text(first.issues),
    )  # fmt: skip


def issues_text(issues: tuple[str, ...]) -> str:
    return json.dumps(list(issues), ensure_ascii=False) if issues else "[]"


def message_rows(
    a: Acceptance,
    base: int,
    custid: str,
    request_id: int,
    timing: Timing,
    shared: Shared,
    rows: list[tuple],
    own: list[tuple],
) -> None:
    """The rows of a send's messages: in rows those sharing the request's values, in own
    those with values of their own. The loop runs once a mobile (1000 times a batch):
    what the messages share is computed once, the rest inline."""
    userid = a.userid
    text, pktotal, svrtype, exno, spno, exdata, _ = shared
    first_issues = a.messages[0].issues
    for m in a.messages:
        msgid = mobile_msgid(base, m.position)  # §3.3 msgid + 手机号码位置 - 1
        fate = fate_values(a, m, msgid)  # latency, status, errcode, errdesc
        moments = timing.moments(fate[0])  # due_at, due_gap, rtime, rtime_gap
        due_at, rtime = (None, None) if moments is None else (moments[0], moments[2])
        row = (
            msgid, request_id, userid, m.position, m.mobile, m.operator, *fate, due_at, rtime,
            due_at,  # next_due: segment 1's
        )  # fmt: skip
        if (
            (m.text is None or m.text == text) and m.pktotal == pktotal
            and (m.custid or custid) == custid and m.svrtype == svrtype and m.exno == exno
            and m.spno == spno and m.exdata == exdata and m.issues == first_issues
        ):  # fmt: skip
            rows.append(row)
        else:
            own.append(
                (
                    *row, m.text, m.pktotal, m.custid or custid, m.svrtype, m.exno, m.spno,
                    m.exdata, issues_text(m.issues),
                )
            )  # fmt: skip
