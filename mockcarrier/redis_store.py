"""The Redis store: SqliteStore's interface on one Redis server, so that several mock
instances on several hosts, behind one address, share ids, reports, pushes and control.

What must not happen twice (a counter value, a report handed out, a fault firing) is
one Lua script, atomic in Redis; what is acknowledged is durable as far as the server
is (`appendonly yes`, `appendfsync always`: describe() says when it is not). Every
Redis failure is a StoreError, answered -100999; the connection pool reconnects by
itself once the server is back. Keys live under one prefix (`?prefix=` in the URL,
default "mockcarrier"), so instances that share it share everything.

Ids are strings in Redis and in Lua (Lua numbers are doubles; §3.3 ids are 64 bits);
sorted-set members are ids shifted by 2^63 and zero-padded, so that their byte order is
their numeric order and ties of a score fall in id order, as SQLite's ORDER BY does.
"""

from __future__ import annotations

import functools
import json
import math
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from smsapi.endpoints import REPORT_FIELDS

from .config import REDIS_SCHEMES, AccountConfig, redacted_url, to_micros
from .ids import COUNTER_LIMIT
from .store import (
    MESSAGE_COLUMNS,
    MO_FIELDS,
    REPORT_COLUMNS,
    SEGMENT_COLUMNS,
    Acceptance,
    AccountRecord,
    Arrears,
    StoreError,
    UnknownAccount,
)

DEFAULT_PREFIX = "mockcarrier"
REPORT_STATES = ("pending", "taken_once", "taken", "pushed")
_SHIFT = 1 << 63

# Reserve count counter values: KEYS counter; ARGV count, limit. -1: the space is spent
# (the counter does not move, as SQLite's rolled-back UPDATE does not).
_RESERVE = """
local now = tonumber(redis.call('GET', KEYS[1]) or '0')
if now + tonumber(ARGV[1]) >= tonumber(ARGV[2]) then return -1 end
return redis.call('INCRBY', KEYS[1], ARGV[1])
"""

# accept, phase one: KEYS account, counter, request seq; ARGV balance field, cost,
# count, limit. Checks the balance, reserves the ids and a request id: {last, request};
# -1 unknown account, -2 arrears, -3 ids spent.
_ACCEPT_RESERVE = """
local have = redis.call('HGET', KEYS[1], ARGV[1])
if not have then return -1 end
if tonumber(have) < tonumber(ARGV[2]) then return -2 end
local now = tonumber(redis.call('GET', KEYS[2]) or '0')
if now + tonumber(ARGV[3]) >= tonumber(ARGV[4]) then return -3 end
return {redis.call('INCRBY', KEYS[2], ARGV[3]), redis.call('INCR', KEYS[3])}
"""

# accept, phase two: debit (again checked: another send may have spent the balance
# meanwhile; its ids are then skipped, never reused) and write the request, messages
# and reports. ARGV: prefix, userid, field, cost, -cost (written by Python: Lua writes
# 1e+15, and Redis refuses -0), request id, request JSON, message count, then per
# message (id, score, mobile, custid, JSON), then per report (member, due_at, data JSON,
# message id).
_ACCEPT_COMMIT = """
local P, u = ARGV[1], ARGV[2]
local acct = P .. ':account:' .. u
local have = redis.call('HGET', acct, ARGV[3])
if not have then return -1 end
if tonumber(have) < tonumber(ARGV[4]) then return -2 end
redis.call('HINCRBY', acct, ARGV[3], ARGV[5])
redis.call('SET', P .. ':request:' .. ARGV[6], ARGV[7])
local i = 9
for _ = 1, tonumber(ARGV[8]) do
  local id, score = ARGV[i], ARGV[i + 1]
  redis.call('SET', P .. ':msg:' .. id, ARGV[i + 4])
  redis.call('ZADD', P .. ':msgs:' .. u, score, id)
  redis.call('ZADD', P .. ':msgs:' .. u .. ':mobile:' .. ARGV[i + 2], score, id)
  redis.call('ZADD', P .. ':msgs:' .. u .. ':custid:' .. ARGV[i + 3], score, id)
  i = i + 5
end
local pending = P .. ':rpts:' .. u .. ':pending'
while i <= #ARGV do
  local member, due = ARGV[i], ARGV[i + 1]
  redis.call('HSET', P .. ':rpt:' .. member, 'data', ARGV[i + 2], 'message', ARGV[i + 3],
    'due_at', due, 'state', 'pending', 'taken_at', '', 'claimed_until', '0', 'userid', u)
  redis.call('ZADD', pending, due, member)
  i = i + 4
end
return 1
"""

# Hand out (take), claim for a push (claim) or list (peek) what is due, oldest first,
# skipping what a push has claimed. KEYS: first queue, second queue (twice mode's
# taken_once, or the first again), taken-state queue ('' for MOs, which keep one list
# of all). ARGV: item key prefix, now, max score, limit, mode, claim_until, twice.
# Returns the items' data JSON in order.
_TAKE = """
local itemkey, now, upto, limit = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local mode, twice = ARGV[5], ARGV[7] == '1'
local function due(queue)
  local got, offset = {}, 0
  while #got < limit do
    local page = redis.call('ZRANGEBYSCORE', queue, '-inf', upto, 'WITHSCORES', 'LIMIT',
      offset, limit)
    if #page == 0 then break end
    for j = 1, #page, 2 do
      local claimed = redis.call('HGET', itemkey .. page[j], 'claimed_until')
      if tonumber(claimed or '0') <= now and #got < limit then
        got[#got + 1] = {page[j], tonumber(page[j + 1]), queue}
      end
    end
    offset = offset + limit
  end
  return got
end
local items = due(KEYS[1])
if twice then
  for _, item in ipairs(due(KEYS[2])) do items[#items + 1] = item end
  table.sort(items, function(a, b)
    if a[2] ~= b[2] then return a[2] < b[2] end
    return a[1] < b[1]
  end)
end
local out = {}
for n = 1, math.min(limit, #items) do
  local member, score, queue = items[n][1], items[n][2], items[n][3]
  local key = itemkey .. member
  out[n] = redis.call('HGET', key, 'data')
  if mode == 'claim' then
    redis.call('HSET', key, 'claimed_until', ARGV[6])
  elseif mode == 'take' then
    local state = 'taken'
    if twice and queue == KEYS[1] then state = 'taken_once' end
    redis.call('HSET', key, 'state', state, 'taken_at', ARGV[2])
    redis.call('ZREM', queue, member)
    if KEYS[3] ~= '' then
      local dest = KEYS[3]
      if state == 'taken_once' then dest = KEYS[2] end
      redis.call('ZADD', dest, score, member)
    end
  end
end
return out
"""

# A push was acknowledged: its items still pending become pushed (the account's own).
# KEYS pending queue, pushed queue ('' for MOs); ARGV item key prefix, now, userid,
# members...
_MARK_PUSHED = """
local n = 0
for i = 4, #ARGV do
  local key = ARGV[1] .. ARGV[i]
  local state, owner = unpack(redis.call('HMGET', key, 'state', 'userid'))
  if state == 'pending' and owner == ARGV[3] then
    redis.call('HSET', key, 'state', 'pushed', 'taken_at', ARGV[2])
    local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
    redis.call('ZREM', KEYS[1], ARGV[i])
    if KEYS[2] ~= '' and score then redis.call('ZADD', KEYS[2], score, ARGV[i]) end
    n = n + 1
  end
end
return n
"""

# Give back claims: ARGV item key prefix, members...
_RELEASE = """
for i = 2, #ARGV do
  local key = ARGV[1] .. ARGV[i]
  if redis.call('HGET', key, 'state') == 'pending' then
    redis.call('HSET', key, 'claimed_until', '0')
  end
end
return 1
"""

# HINCRBY / HSET on an account only if it exists. KEYS account; ARGV op, field, value...
_ON_ACCOUNT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 2, #ARGV, 2 do redis.call(ARGV[1], KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
"""

# Count a firing of a fault rule unless it is spent. KEYS fault hash.
_CONSUME_FAULT = """
local remaining = redis.call('HGET', KEYS[1], 'remaining')
if not remaining then return 0 end
if remaining ~= '' then
  if tonumber(remaining) <= 0 then return 0 end
  redis.call('HINCRBY', KEYS[1], 'remaining', -1)
end
redis.call('HINCRBY', KEYS[1], 'hits', 1)
return 1
"""

# §2.7.3 seqid: KEYS lane hash; ARGV advance ('1') or only start at 1.
_NEXT_SEQID = """
local seqid = tonumber(redis.call('HGET', KEYS[1], 'seqid') or '0')
if ARGV[1] == '1' or seqid == 0 then
  return redis.call('HINCRBY', KEYS[1], 'seqid', 1)
end
return seqid
"""


def member(msgid: int) -> str:
    """A sorted-set member whose byte order is the ids' numeric order."""
    return f"{msgid + _SHIFT:020d}"


def split_url(url: str) -> tuple[str, str]:
    """(URL for redis-py, key prefix): `prefix` is ours, not a redis-py option."""
    parts = urlsplit(url)
    if parts.scheme not in REDIS_SCHEMES:
        schemes = ", ".join(f"{s}://" for s in REDIS_SCHEMES)
        raise ValueError(f"a Redis store URL starts with {schemes}")
    query = parse_qsl(parts.query)
    prefix = next((v for k, v in query if k == "prefix"), DEFAULT_PREFIX)
    rest = urlencode([(k, v) for k, v in query if k != "prefix"])
    return urlunsplit(parts._replace(query=rest)), prefix


def _guarded(method: Callable) -> Callable:
    @functools.wraps(method)
    def call(*args: Any, **kw: Any) -> Any:
        try:
            return method(*args, **kw)
        except redis.RedisError as exc:
            raise StoreError(f"redis: {exc}") from exc

    return call


class RedisStore:
    """The store on one Redis server (or any server speaking its protocol with Lua)."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url
        address, self.prefix = split_url(url)
        # One quick retry, then -100999: a request must not hang while Redis is down.
        self._r = redis.Redis.from_url(
            address,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
            health_check_interval=30,
        )
        scripts = {
            "reserve": _RESERVE,
            "accept_reserve": _ACCEPT_RESERVE,
            "accept_commit": _ACCEPT_COMMIT,
            "take": _TAKE,
            "mark_pushed": _MARK_PUSHED,
            "release": _RELEASE,
            "on_account": _ON_ACCOUNT,
            "consume_fault": _CONSUME_FAULT,
            "next_seqid": _NEXT_SEQID,
        }
        self._scripts = {name: self._r.register_script(text) for name, text in scripts.items()}
        try:
            self._r.hsetnx(self._k("meta"), "schema_version", "1")
        except redis.RedisError as exc:
            raise StoreError(f"cannot reach {self.describe()}: {exc}") from exc

    # ------------------------------------------------------------ plumbing

    def _k(self, *parts: object) -> str:
        return ":".join([self.prefix, *map(str, parts)])

    def _run(self, script: str, keys: list[str], args: list[Any], client: Any = None) -> Any:
        return self._scripts[script](keys=keys, args=args, client=client or self._r)

    def describe(self) -> str:
        """The URL without its password, and whether Redis syncs every write."""
        text = redacted_url(self.url)
        try:
            conf = self._r.config_get("append*") | self._r.config_get("maxmemory-policy")
        except redis.RedisError:  # CONFIG may be renamed or refused: say nothing
            return text
        warnings = []
        if conf.get("appendonly") != "yes" or conf.get("appendfsync") != "always":
            warnings.append(
                f"appendonly {conf.get('appendonly')}, appendfsync {conf.get('appendfsync')}: "
                "a Redis crash can lose acknowledged sends"
            )
        if conf.get("maxmemory-policy", "noeviction") != "noeviction":
            warnings.append(
                f"maxmemory-policy {conf['maxmemory-policy']}: Redis may evict stored reports"
            )
        if warnings:
            return f"{text} (WARNING: {'; '.join(warnings)})"
        return f"{text} (appendfsync always)"

    def close(self) -> None:
        # Idle connections only: as SqliteStore.close closes only its caller's thread's
        # connection, this must not cut off another thread's command in flight.
        self._r.connection_pool.disconnect(inuse_connections=False)

    # ------------------------------------------------------------ accounts

    def _account_key(self, userid: str) -> str:
        return self._k("account", userid)

    def ensure_accounts(self, accounts: list[AccountConfig]) -> None:
        """Create accounts that do not exist yet; configuration of existing ones is
        refreshed, their balances kept."""
        with self._r.pipeline() as pipe:
            for cfg in accounts:
                key = self._account_key(cfg.userid)
                pipe.hset(key, "config", json.dumps(cfg.to_dict()))
                pipe.hsetnx(key, "balance", cfg.balance)
                pipe.hsetnx(key, "money_micros", to_micros(cfg.money))
                pipe.sadd(self._k("accounts"), cfg.userid)
            pipe.execute()

    def put_account(self, cfg: AccountConfig, reset_balance: bool = False) -> None:
        key = self._account_key(cfg.userid)
        values: dict[str, Any] = {"config": json.dumps(cfg.to_dict())}
        if reset_balance or not self._r.exists(key):
            values.update(balance=cfg.balance, money_micros=to_micros(cfg.money))
        with self._r.pipeline() as pipe:
            pipe.hset(key, mapping=values)
            pipe.sadd(self._k("accounts"), cfg.userid)
            pipe.execute()

    def delete_account(self, userid: str) -> bool:
        with self._r.pipeline() as pipe:
            pipe.delete(self._account_key(userid))
            pipe.srem(self._k("accounts"), userid)
            return bool(pipe.execute()[0])

    def account(self, userid: str) -> AccountRecord | None:
        return _account(self._r.hgetall(self._account_key(userid)))

    def accounts(self) -> list[AccountRecord]:
        userids = sorted(self._r.smembers(self._k("accounts")))
        with self._r.pipeline(transaction=False) as pipe:
            for userid in userids:
                pipe.hgetall(self._account_key(userid))
            rows = pipe.execute()
        return [a for a in map(_account, rows) if a is not None]

    def _on_account(self, userid: str, op: str, values: dict[str, int]) -> AccountRecord:
        args: list[Any] = [op]
        for name, value in values.items():
            args += [name, value]
        if not self._run("on_account", [self._account_key(userid)], args):
            raise UnknownAccount(userid)
        record = self.account(userid)
        if record is None:
            raise UnknownAccount(userid)
        return record

    def top_up(self, userid: str, count: int = 0, micros: int = 0) -> AccountRecord:
        return self._on_account(userid, "HINCRBY", {"balance": count, "money_micros": micros})

    def set_balance(self, userid: str, count: int | None, micros: int | None) -> AccountRecord:
        values = {k: v for k, v in (("balance", count), ("money_micros", micros)) if v is not None}
        if not values:
            return self._on_account(userid, "HINCRBY", {"balance": 0})
        return self._on_account(userid, "HSET", values)

    # ------------------------------------------------------------ auth failures

    def record_auth_failure(self, userid: str, at: float, keep: float = 86400.0) -> None:
        """Record a failure, forgetting this account's failures older than keep seconds;
        a key with no newer failure expires (unknown userids leave nothing behind)."""
        key = self._k("authfail", userid)
        with self._r.pipeline() as pipe:
            pipe.zremrangebyscore(key, "-inf", f"({at - keep!r}")
            pipe.zadd(key, {f"{at!r}:{uuid.uuid4().hex}": at})
            pipe.expire(key, max(1, math.ceil(keep)))
            pipe.execute()

    def auth_failures_since(self, userid: str, since: float) -> int:
        return int(self._r.zcount(self._k("authfail", userid), repr(since), "+inf"))

    # ------------------------------------------------------------ sending

    def accept(self, acceptance: Acceptance, chargetype: int) -> tuple[int, str]:
        """Bill, reserve ids and store messages and reports (see SqliteStore.accept).

        Two scripts, with acceptance.build between them in Python: a process that dies
        between them has acknowledged nothing; it leaves a gap in the ids, never a reuse.
        """
        a = acceptance
        field, cost = (
            ("balance", a.cost_count) if chargetype == 0 else ("money_micros", a.cost_micros)
        )
        got = self._run(
            "accept_reserve",
            [self._account_key(a.userid), self._k("counter"), self._k("request", "seq")],
            [field, cost, a.mobiles, COUNTER_LIMIT],
        )
        _accept_refusal(got, a.userid)
        last, request_id = int(got[0]), int(got[1])
        msgid, custid, messages, reports = a.build(last - a.mobiles + 1)
        request = {
            "userid": a.userid,
            "endpoint": a.endpoint,
            "msgid": msgid,
            "custid": custid,
            "text": a.text,
            "fmt": a.fmt,
            "auth_mode": a.auth_mode,
            "mobiles": a.mobiles,
            "segments": a.segments,
            "accepted_at": time.time(),
        }
        report_members: dict[int, list[str]] = {}
        tail: list[Any] = []
        for values in reports:
            row = dict(zip(REPORT_COLUMNS, values, strict=True))
            report = member(row["msgid"])
            report_members.setdefault(row["message_msgid"], []).append(report)
            data = {k: row[k] for k in REPORT_FIELDS}
            tail += [report, repr(row["due_at"]), json.dumps(data), row["message_msgid"]]
        args: list[Any] = [self.prefix, a.userid, field, cost, -cost, request_id]
        args += [json.dumps(request), len(messages)]
        for values in messages:
            row = dict(zip(MESSAGE_COLUMNS, (values[0], request_id, *values[1:]), strict=True))
            row["reports"] = report_members.get(row["msgid"], [])
            args += [
                row["msgid"],
                row["msgid"] % COUNTER_LIMIT,  # the counter: exact as a score, in id order
                row["mobile"],
                row["custid"],
                json.dumps(row),
            ]
        _accept_refusal(
            self._run("accept_commit", [self._account_key(a.userid)], args + tail), a.userid
        )
        return msgid, custid

    def reserve_ids(self, count: int) -> int:
        """Reserve count consecutive counter values outside a send (MO ids)."""
        last = self._run("reserve", [self._k("counter")], [count, COUNTER_LIMIT])
        if last < 0:
            raise StoreError("msgid space exhausted")
        return int(last) - count + 1

    # ------------------------------------------------------------ pulling

    def _take(
        self,
        kind: str,
        userid: str,
        now: float,
        limit: int,
        mode: str,
        claim_until: float = 0.0,
        twice: bool = False,
    ) -> list[dict[str, Any]]:
        if limit <= 0:
            return []
        itemkey, queues = self._item_keys(kind)
        first = self._k(queues, userid, "pending")
        if kind == "rpt":
            keys = [first, self._k(queues, userid, "taken_once") if twice else first]
            keys.append(self._k(queues, userid, "taken"))
            upto = repr(now)
        else:
            keys, upto = [first, first, ""], "+inf"
        args = [itemkey, repr(now), upto, limit, mode, repr(claim_until), "1" if twice else "0"]
        # an item whose hash a reset removed meanwhile comes back empty: skip it
        return [json.loads(data) for data in self._run("take", keys, args) if data]

    def take_reports(
        self, userid: str, now: float, limit: int, twice: bool = False
    ) -> list[dict[str, Any]]:
        """§2.5 hand out due reports, oldest due first; each one once (twice: the defect
        mode that hands each out a second time, state taken_once in between)."""
        return self._take("rpt", userid, now, limit, "take", twice=twice)

    def add_mo(self, userid: str, mo: dict[str, Any]) -> int:
        msgid = int(mo["msgid"])
        created = time.time()
        data = {k: mo[k] for k in MO_FIELDS} | {"text": mo["text"]}
        mo_member = member(msgid)
        with self._r.pipeline() as pipe:
            pipe.hset(
                self._k("mo", mo_member),
                mapping={
                    "data": json.dumps(data),
                    "userid": userid,
                    "state": "pending",
                    "created_at": repr(created),
                    "taken_at": "",
                    "claimed_until": "0",
                },
            )
            pipe.zadd(self._k("mos", userid), {mo_member: created})
            pipe.zadd(self._k("mos", userid, "pending"), {mo_member: created})
            pipe.execute()
        return msgid

    def take_mos(self, userid: str, now: float, limit: int) -> list[dict[str, Any]]:
        """§2.4 hand out MOs in arrival order, each one once."""
        return self._take("mo", userid, now, limit, "take")

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
        if limit <= 0:
            return []
        if msgids:
            candidates = sorted(set(msgids), reverse=True)
        else:
            index = self._k("msgs", userid)
            if mobile:
                index = self._k("msgs", userid, "mobile", mobile)
            elif custid:
                index = self._k("msgs", userid, "custid", custid)
            # a custid filter on the mobile index reads further than limit
            depth = -1 if mobile and custid else limit - 1
            candidates = [int(m) for m in self._r.zrevrange(index, 0, depth)]
        rows = self._r.mget([self._k("msg", m) for m in candidates]) if candidates else []
        messages = [json.loads(r) for r in rows if r]
        messages = [
            m
            for m in messages
            if m["userid"] == userid
            and (not mobile or m["mobile"] == mobile)
            and (not custid or m["custid"] == custid)
        ][:limit]
        requests = (
            self._r.mget([self._k("request", m["request_id"]) for m in messages])
            if messages
            else []
        )
        out = []
        for item, request_json in zip(messages, requests, strict=True):
            request = json.loads(request_json or "{}")
            members = item.pop("reports")
            item.update(
                endpoint=request.get("endpoint"),
                fmt=request.get("fmt"),
                auth_mode=request.get("auth_mode"),
                request_msgid=request.get("msgid"),
            )
            if item["text"] is None:
                item["text"] = request.get("text")
            item["issues"] = json.loads(item["issues"])
            item["outcome"] = json.loads(item["outcome"])
            segments = [self._report_row(userid, m) for m in members]
            item["segments"] = sorted(
                ({k: r[k] for k in SEGMENT_COLUMNS} for r in segments if r is not None),
                key=lambda s: s["pknum"],
            )
            out.append(item)
        return out

    def _report_row(self, userid: str, report_member: str) -> dict[str, Any] | None:
        """A report as SqliteStore's `SELECT *` gives it."""
        raw = self._r.hgetall(self._k("rpt", report_member))
        if not raw:
            return None
        data = json.loads(raw["data"])
        return {
            "msgid": data["msgid"],
            "message_msgid": int(raw["message"]),
            "userid": userid,
            **{k: data[k] for k in REPORT_FIELDS if k != "msgid"},
            "due_at": float(raw["due_at"]),
            "state": raw["state"],
            "taken_at": float(raw["taken_at"]) if raw["taken_at"] else None,
            "claimed_until": float(raw["claimed_until"]),
        }

    def reports(self, userid: str, state: str = "pending", limit: int = 500) -> list[dict]:
        if state not in REPORT_STATES or limit <= 0:
            return []
        members = self._r.zrange(self._k("rpts", userid, state), 0, limit - 1)
        rows = [self._report_row(userid, m) for m in members]
        return [r for r in rows if r is not None]

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
        if msgid is not None:
            members = [member(msgid)]
        else:
            members = self._r.zrevrange(self._k("mos", userid), 0, -1)
        out: list[dict[str, Any]] = []
        for m in members:
            if len(out) >= limit:
                break
            raw = self._r.hgetall(self._k("mo", m))
            if not raw or raw["userid"] != userid:
                continue
            data = json.loads(raw["data"])
            if (state and raw["state"] != state) or (mobile and data["mobile"] != mobile):
                continue
            out.append(
                {
                    **{k: data[k] for k in MO_FIELDS},
                    "userid": userid,
                    "text": data["text"],
                    "state": raw["state"],
                    "created_at": float(raw["created_at"]),
                    "taken_at": float(raw["taken_at"]) if raw["taken_at"] else None,
                    "claimed_until": float(raw["claimed_until"]),
                }
            )
        return out

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
        raw = self._r.get(self._k("msg", message_msgid))
        if raw is None:
            return 0
        message = json.loads(raw)
        if message["userid"] != userid:
            return 0
        keys = [self._k("rpt", m) for m in message["reports"]]
        pending = self._k("rpts", userid, "pending")

        def change(pipe: Any) -> int:
            rows = [(key, pipe.hgetall(key)) for key in keys]
            pipe.multi()
            changed = 0
            for key, row in rows:
                if row.get("state") != "pending":
                    continue
                data = json.loads(row["data"]) | {"rtime": rtime}
                if failure is not None:
                    data.update(zip(("status", "errcode", "errdesc"), failure, strict=True))
                pipe.hset(key, mapping={"data": json.dumps(data), "due_at": repr(due_at)})
                pipe.zadd(pending, {key.rsplit(":", 1)[1]: due_at})
                changed += 1
            return changed

        return self._r.transaction(change, *keys, value_from_callable=True)

    # ------------------------------------------------------------ control plane

    def control(self) -> dict[str, Any]:
        """The runtime control state every process reads (mockcarrier.control)."""
        return {k: json.loads(v) for k, v in self._r.hgetall(self._k("control")).items()}

    def put_control(self, values: dict[str, Any], replace: bool = False) -> None:
        with self._r.pipeline() as pipe:
            if replace:
                pipe.delete(self._k("control"))
            if values:
                pipe.hset(
                    self._k("control"),
                    mapping={k: json.dumps(v, ensure_ascii=False) for k, v in values.items()},
                )
            pipe.execute()

    # ------------------------------------------------------------ faults

    def add_fault(self, rule: dict[str, Any], remaining: int | None) -> int:
        fault_id = int(self._r.incr(self._k("fault", "seq")))
        with self._r.pipeline() as pipe:
            pipe.hset(
                self._k("fault", fault_id),
                mapping={
                    "rule": json.dumps(rule),
                    "remaining": "" if remaining is None else remaining,
                    "hits": 0,
                    "created_at": repr(time.time()),
                },
            )
            pipe.zadd(self._k("faults"), {str(fault_id): fault_id})
            pipe.execute()
        return fault_id

    def faults(self, active_only: bool = False) -> list[dict[str, Any]]:
        ids = [int(i) for i in self._r.zrange(self._k("faults"), 0, -1)]
        with self._r.pipeline(transaction=False) as pipe:
            for fault_id in ids:
                pipe.hgetall(self._k("fault", fault_id))
            rows = pipe.execute()
        out = []
        for fault_id, raw in zip(ids, rows, strict=True):
            if not raw:
                continue
            remaining = int(raw["remaining"]) if raw["remaining"] != "" else None
            if active_only and remaining is not None and remaining <= 0:
                continue
            out.append(
                {
                    "id": fault_id,
                    "rule": json.loads(raw["rule"]),
                    "remaining": remaining,
                    "hits": int(raw["hits"]),
                    "created_at": float(raw["created_at"]),
                }
            )
        return out

    def consume_fault(self, fault_id: int) -> bool:
        """Count one firing of a rule; False when it was spent meanwhile (other process)."""
        return bool(self._run("consume_fault", [self._k("fault", fault_id)], []))

    def delete_faults(self, fault_id: int | None = None) -> int:
        ids = [fault_id] if fault_id is not None else self._r.zrange(self._k("faults"), 0, -1)
        if not ids:
            return 0
        with self._r.pipeline() as pipe:
            for i in ids:
                pipe.delete(self._k("fault", i))
                pipe.zrem(self._k("faults"), str(i))
            return sum(pipe.execute()[::2])

    # ------------------------------------------------------------ leases

    def acquire_lease(
        self, name: str, holder: str, ttl: float, now: float, holder_dead: Callable[[str], bool]
    ) -> bool:
        """Take or renew a lease: free, ours, expired, or held by a process known dead."""
        key = self._k("lease", name)

        def take(pipe: Any) -> bool:
            row = pipe.hgetall(key)
            if (
                row
                and row["holder"] != holder
                and float(row["expires_at"]) >= now
                and not holder_dead(row["holder"])
            ):
                return False
            pipe.multi()
            pipe.hset(key, mapping={"holder": holder, "expires_at": repr(now + ttl)})
            return True

        return self._r.transaction(take, key, value_from_callable=True)

    def release_lease(self, name: str, holder: str) -> None:
        key = self._k("lease", name)

        def release(pipe: Any) -> None:
            if pipe.hget(key, "holder") == holder:
                pipe.multi()
                pipe.delete(key)

        self._r.transaction(release, key)

    def lease(self, name: str) -> dict[str, Any] | None:
        row = self._r.hgetall(self._k("lease", name))
        if not row:
            return None
        return {"name": name, "holder": row["holder"], "expires_at": float(row["expires_at"])}

    # ------------------------------------------------------------ push outbox

    def pending_push(
        self, userid: str, kind: str, now: float, limit: int, claim_for: float = 0.0
    ) -> list[dict]:
        """What is due to be pushed, in order (see SqliteStore.pending_push): with
        claim_for, claimed for that long against get_rpt / get_mo."""
        mode = "claim" if claim_for else "peek"
        return self._take(kind, userid, now, limit, mode, claim_until=now + claim_for)

    def _item_keys(self, kind: str) -> tuple[str, str]:
        return (self._k("rpt", ""), "rpts") if kind == "rpt" else (self._k("mo", ""), "mos")

    def release_claims(self, kind: str, msgids: list[int]) -> None:
        """Give back rows a push claimed but did not deliver."""
        if msgids:
            itemkey, _ = self._item_keys(kind)
            self._run("release", [], [itemkey, *map(member, msgids)])

    def pending_count(self, userid: str, kind: str, now: float | None = None) -> int:
        """Items not handed out yet (due by now, when given)."""
        _, queues = self._item_keys(kind)
        queue = self._k(queues, userid, "pending")
        if now is not None and kind == "rpt":
            return int(self._r.zcount(queue, "-inf", repr(now)))
        return int(self._r.zcard(queue))

    def next_due(self, userid: str) -> float | None:
        """When the next pending report of an account falls due."""
        first = self._r.zrange(self._k("rpts", userid, "pending"), 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    def _lane_key(self, userid: str, kind: str) -> str:
        return self._k("lane", userid, kind)

    def next_seqid(self, userid: str, kind: str, advance: bool = True) -> int:
        """§2.7.3 seqid of the next push request, stored before the request leaves."""
        key = self._lane_key(userid, kind)
        return int(self._run("next_seqid", [key], ["1" if advance else "0"]))

    def push_lane(self, userid: str, kind: str) -> dict[str, Any]:
        row = self._r.hgetall(self._lane_key(userid, kind))
        return {
            "userid": userid,
            "kind": kind,
            "seqid": int(row.get("seqid", 0)),
            "failures": int(row.get("failures", 0)),
            "next_at": float(row.get("next_at", 0.0)),
            "last_error": row.get("last_error", ""),
        }

    def push_lane_done(
        self, userid: str, kind: str, failures: int = 0, next_at: float = 0.0, error: str = ""
    ) -> None:
        """Record the outcome of a push: failures 0 clears the backoff."""
        self._r.hset(self._lane_key(userid, kind), mapping=_lane(failures, next_at, error))

    def record_push(
        self,
        attempt: dict[str, Any],
        pushed: list[int] | None = None,
        lane: tuple[int, float, str] | None = None,
        keep: int = 5000,
    ) -> int:
        """A push's outcome at once (MULTI): the acknowledged items become pushed, the
        lane's backoff becomes (failures, next_at, error), the attempt is logged (the
        last `keep` per account are kept)."""
        userid, kind = attempt["userid"], attempt["kind"]
        row_id = int(self._r.incr(self._k("attempt", "seq")))
        itemkey, queues = self._item_keys(kind)
        with self._r.pipeline() as pipe:
            if pushed:
                pushed_queue = self._k(queues, userid, "pushed") if kind == "rpt" else ""
                self._run(
                    "mark_pushed",
                    [self._k(queues, userid, "pending"), pushed_queue],
                    [itemkey, repr(time.time()), userid, *map(member, pushed)],
                    client=pipe,
                )
            if lane is not None:
                pipe.hset(self._lane_key(userid, kind), mapping=_lane(*lane))
            attempts = self._k("attempts", userid)
            pipe.lpush(attempts, json.dumps({"id": row_id, **attempt}, ensure_ascii=False))
            pipe.ltrim(attempts, 0, keep - 1)
            pipe.execute()
        return row_id

    def push_attempts(self, userid: str, kind: str = "", limit: int = 100) -> list[dict]:
        out = []
        for raw in self._r.lrange(self._k("attempts", userid), 0, -1):
            row = json.loads(raw)
            if not kind or row["kind"] == kind:
                out.append(row)
                if len(out) >= limit:
                    break
        return out

    def reset(self, userid: str, cfg: AccountConfig) -> None:
        """Forget what an account sent and received; balance back to its configured start."""
        doomed: set[str] = {self._k("authfail", userid), self._k("attempts", userid)}
        doomed.update(self._k("rpts", userid, s) for s in REPORT_STATES)
        doomed.update((self._k("msgs", userid), self._k("mos", userid)))
        doomed.add(self._k("mos", userid, "pending"))
        ids = self._r.zrange(self._k("msgs", userid), 0, -1)
        for chunk in _chunks(ids, 500):
            for raw in self._r.mget([self._k("msg", m) for m in chunk]):
                if raw is None:
                    continue
                message = json.loads(raw)
                doomed.add(self._k("msg", message["msgid"]))
                doomed.add(self._k("request", message["request_id"]))
                doomed.add(self._k("msgs", userid, "mobile", message["mobile"]))
                doomed.add(self._k("msgs", userid, "custid", message["custid"]))
                doomed.update(self._k("rpt", m) for m in message["reports"])
        doomed.update(self._k("mo", m) for m in self._r.zrange(self._k("mos", userid), 0, -1))
        for chunk in _chunks(sorted(doomed), 1000):
            self._r.delete(*chunk)
        with self._r.pipeline() as pipe:
            for kind in ("rpt", "mo"):  # seqid is kept: a receiver sees it grow (§2.7.3)
                if self._r.exists(self._lane_key(userid, kind)):
                    pipe.hset(self._lane_key(userid, kind), mapping=_lane(0, 0.0, ""))
            pipe.execute()
        self._on_account(
            userid, "HSET", {"balance": cfg.balance, "money_micros": to_micros(cfg.money)}
        )


# Every public method answers a Redis failure with StoreError (-100999), as SqliteStore
# does with SQLite's.
for _name, _method in list(vars(RedisStore).items()):
    if callable(_method) and not _name.startswith("_"):
        setattr(RedisStore, _name, _guarded(_method))


def _accept_refusal(got: Any, userid: str) -> None:
    if got == -1:
        raise UnknownAccount(userid)
    if got == -2:
        raise Arrears()
    if got == -3:
        raise StoreError("msgid space exhausted")


def _lane(failures: int, next_at: float, error: str) -> dict[str, Any]:
    return {"failures": failures, "next_at": repr(float(next_at)), "last_error": error}


def _account(row: dict[str, str]) -> AccountRecord | None:
    if not row or "config" not in row:
        return None
    return AccountRecord(
        AccountConfig.from_dict(json.loads(row["config"])),
        int(row["balance"]),
        int(row["money_micros"]),
    )


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
