"""A send in one round trip: one script bills and keeps the send, its messages, their
place in the due queue and the search indexes (atomic in Redis, durable as far as the
server is). On a worker's event loop, the sends that arrive together share one call of
it (groups.py). redis-py sends a call again once when its reply was lost (the
connection's Retry): a send whose request key is there already (its first counter, no
other send's) is answered as written, not written again.

The counters come from a block this process reserved beforehand (one INCRBY per
COUNTER_BLOCK counters, durable before any is used): the store knows the msgids before
the script runs, so it draws each fate from (seed, msgid) (segments.fate_values) and
generates the custid (ids.generated_custid) in Python, and the script needs no answer
from Redis but the balance check. A counter is never used twice (a crash leaves the rest
of a block unused); several processes and instances interleave their blocks."""

from __future__ import annotations

import functools
import os
import threading
from typing import Any

from smsapi.msgid import mobile_msgid

from ... import ids
from .. import process
from ..interface import (
    Acceptance,
    Accepted,
    Arrears,
    StaleSnapshot,
    StoreError,
    UnknownAccount,
)
from ..segments import Timing, fate_values
from .connection import LUA_INDEX, Connection, bucket, yielding
from .groups import LoopGroups
from .rows import dumps, message_json, request_json

COUNTER_BLOCK = 10_000

ACCEPT = (
    LUA_INDEX
    + """
-- Several sends in one call (RedisSends._send_group): ARGV P, retention, then eleven per
-- send: userid, balance field, cost, -cost (written by Python: Lua writes 1e+15, and
-- Redis refuses -0), base counter, request JSON, custid bucket, messages with reports,
-- the messages in one JSON array (one argument: redis-py packs each argument apart),
-- each [JSON, pktotal, due gap, segment 1's due time ('' never reported), mobile
-- bucket, own custid bucket ('' the send's)]: times as text, exact; then the store
-- version the request was checked against ('' not checked); then '1' when the account
-- pushes: the pusher's doorbell is rung once for the call (redis/doorbell.py).
-- Returns one per send: 1; -1 unknown account, -2 arrears, -3 the version moved
-- (nothing of that send written).
local P, ret = ARGV[1], ARGV[2]
local ring = false
local function accept(u, field, cost, neg, first, request, cbucket, reported, messages, version,
                      push)
  if redis.call('EXISTS', P .. ':q:' .. first) == 1 then return 1 end  -- a call sent again
  if version ~= '' and (redis.call('GET', P .. ':version') or '0') ~= version then
    return -3
  end
  local acct = P .. ':account:' .. u
  local have = redis.call('HGET', acct, field)
  if not have then return -1 end
  if tonumber(have) < tonumber(cost) then return -2 end
  redis.call('HINCRBY', acct, field, neg)
  local base = tonumber(first)
  local q = P .. ':q:' .. first
  redis.call('SET', q, request)
  reported = tonumber(reported)
  if reported == 0 then redis.call('EXPIRE', q, ret) end
  if reported > 1 then redis.call('SET', P .. ':o:' .. first, reported) end
  local touched = {}
  push_index(P, P .. ':ls:' .. u, -base, {})  -- the listing does not expire: see rows.py
  push_index(P, P .. ':ic:' .. u .. ':' .. cbucket, -base, touched)
  local due = P .. ':due:' .. u
  local c = base
  for _, m in ipairs(cjson.decode(messages)) do
    local key = P .. ':m:' .. string.format('%d', c)
    if m[2] == 1 then
      redis.call('HSET', key, 'q', first, 'd', m[1])
    else
      redis.call('HSET', key, 'q', first, 'd', m[1], 'n', m[2], 'g', m[3], 't', m[4])
    end
    if m[4] == '' then
      redis.call('EXPIRE', key, ret)
    else
      redis.call('ZADD', due, m[4], string.format('%011d', c))
    end
    push_index(P, P .. ':im:' .. u .. ':' .. m[5], c, touched)
    if m[6] ~= '' then push_index(P, P .. ':ic:' .. u .. ':' .. m[6], c, touched) end
    c = c + 1
  end
  -- an index key lasts the retention after its newest entry
  for key in pairs(touched) do redis.call('EXPIRE', key, ret) end
  if push == '1' then ring = true end
  return 1
end
local out = {}
for i = 3, #ARGV, 11 do out[#out + 1] = accept(unpack(ARGV, i, i + 10)) end
-- pcall: a ring refused (an ACL user without the channel) leaves the pusher its poll
if ring then redis.pcall('PUBLISH', P .. ':doorbell', '1') end
return out
"""
)

RESERVE = """
-- a block of counters: ARGV counter key, count, limit; -1 spent (the counter stays)
if tonumber(redis.call('GET', ARGV[1]) or '0') + tonumber(ARGV[2]) >= tonumber(ARGV[3]) then
  return -1
end
return redis.call('INCRBY', ARGV[1], ARGV[2])
"""


_block_lock = threading.Lock()


def _fresh_lock() -> None:
    """A forked child gets a lock of its own: another thread may have held the parent's."""
    global _block_lock
    _block_lock = threading.Lock()


os.register_at_fork(after_in_child=_fresh_lock)


class RedisSends(Connection):
    ACCEPT = ACCEPT
    RESERVE = RESERVE
    _block: tuple[int, int, int] = (0, 0, 0)  # (pid, next counter, end): this process's

    def _counters(self, count: int) -> int:
        """count consecutive counters from this process's block (a new block when it
        runs short: the rest of the old one is skipped): the first."""
        with _block_lock:
            pid, start, end = self._block
            if pid != process.pid() or start + count > end:  # a forked child reserves its own
                size = max(COUNTER_BLOCK, count)
                last = self._run("RESERVE", [self._k("counter"), size, ids.COUNTER_LIMIT])
                if last < 0:
                    raise StoreError("msgid space exhausted")
                pid, start, end = process.pid(), int(last) - size + 1, int(last) + 1
            self._block = (pid, start + count, end)
            return start

    def _give_back(self, first: int, count: int) -> None:
        """Counters of a refused send return to the block if none was taken since."""
        with _block_lock:
            pid, start, end = self._block
            if pid == process.pid() and start == first + count:
                self._block = (pid, first, end)

    def reserve_ids(self, count: int) -> int:
        return self._counters(count)

    checks_version = True  # the version is a round trip: the send's script checks it
    on_network = True  # every call is a round trip to redis-server

    @functools.cached_property
    def _groups(self) -> LoopGroups[list[Any], int]:
        return LoopGroups(self._send_group)

    def _send_group(self, sends: list[list[Any]]) -> list[int]:
        """One ACCEPT for several sends' arguments: one answer each."""
        flat = [arg for send in sends for arg in send]
        with yielding():
            return self._run("ACCEPT", [self.prefix, self.retention, *flat])

    def accept(self, acceptance: Acceptance) -> Accepted:
        """Bill, number, keep the messages: one EVALSHA (and, once per block, one more;
        on a worker's loop shared with the sends that arrive with it: groups.py), which
        first checks the version the request was checked against, if given."""
        a = acceptance
        first = self._counters(a.mobiles)
        base = ids.compose(a.prefix, first)
        custid = a.custid or ids.generated_custid(a.seed, base)
        field, cost = (
            ("balance", a.cost_count) if a.chargetype == 0 else ("money_micros", a.cost_micros)
        )
        rows: list[Any] = []
        reported = 0
        timing = Timing.of(a)
        for m in a.messages:
            latency = fate_values(a, m, mobile_msgid(base, m.position))[0]
            moments = timing.moments(latency)  # due_at, due_gap, rtime, rtime_gap
            reported += moments is not None
            due = "" if moments is None else repr(moments[0])
            gap = "" if m.pktotal == 1 or moments is None else repr(moments[1])
            own = bucket(m.custid) if m.custid else ""
            rows.append([message_json(m), m.pktotal, gap, due, bucket(m.mobile), own])
        args: list[Any] = [
            a.userid, field, cost, -cost, first, request_json(a, custid), bucket(custid),
            reported, dumps(rows), "" if a.version is None else str(a.version),
            "1" if a.push else "0",
        ]  # fmt: skip
        got = self._groups.call(args)  # on an error its counters are skipped, not reused
        if got in (-1, -2, -3):
            self._give_back(first, a.mobiles)
            if got == -1:
                raise UnknownAccount(a.userid)
            if got == -3:
                raise StaleSnapshot()
            raise Arrears()
        return Accepted(base, custid)


__all__ = ["COUNTER_BLOCK", "RedisSends"]
