"""Hand-outs: reports due (§2.5 get_rpt, and claimed for a push), MOs (§2.4), the admin's
reschedule. A message is one entry of its account's due queue, scored by its next
segment's due time; one script hands out (or claims) the segments due by now in (due,
segment msgid) order (segments.due_in_order) and returns their messages and sends, from
which Python derives the reports (segments.StoredMessage): one round trip per get_rpt.
A message handed out in full leaves the queue and expires after the retention, and so
does its send once none of its messages has reports left."""

from __future__ import annotations

import json
import time

from ...ids import decompose
from ..interface import Kind, Mo, Report
from ..segments import rescheduled
from .connection import Connection, Once, member, mo_member, yielding
from .rows import MessageHash, SendRecord, dumps, request_of

# Lua: one message of the queue is done (its last segment handed out).
LUA_DONE = """
local function done(P, due, m, key, base, ret)
  redis.call('ZREM', due, m)
  redis.call('EXPIRE', key, ret)
  local o = P .. ':o:' .. base
  if redis.call('EXISTS', o) == 1 then
    if redis.call('DECR', o) > 0 then return end
    redis.call('DEL', o)
  end
  redis.call('EXPIRE', P .. ':q:' .. base, ret)
end
local function due_of(f, k, score)  -- segment k's due time; f = n, g, t, r
  if tonumber(f[1] or '1') == 1 then return tonumber(score) end
  return tonumber(f[3]) + (k - 1) * tonumber(f[2])
end
"""

# A take or a claim that handed something out keeps its answer for the call sent again
# (connection.Once), which hands out the same ones (a claim sent again would claim the
# next ones too, held from the pusher until the claim lapses); a peek or an empty take
# need not.
TAKE = Once(
    LUA_DONE
    + """
-- ARGV: P, userid, now, limit, mode (take, claim, peek), claimed until, retention.
-- segments.due_in_order: the first `limit` unclaimed messages due by now (by next due,
-- then msgid), their segments due by now sorted by (due, segment msgid), the first
-- `limit`. Returns {{member, reported before, count, base, d, x, f, p}...},
-- {{base, request JSON}...}
local P, u, now, limit, mode = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local due = P .. ':due:' .. u
local messages, offset = {}, 0
while #messages < limit do
  local page = redis.call('ZRANGEBYSCORE', due, '-inf', ARGV[3], 'WITHSCORES', 'LIMIT',
    offset, 200)
  if #page == 0 then break end
  offset = offset + #page / 2
  for j = 1, #page, 2 do
    if #messages >= limit then break end
    local key = P .. ':m:' .. tonumber(page[j])
    local f = redis.call('HMGET', key, 'n', 'g', 't', 'r', 'c', 'q')
    if tonumber(f[5] or '0') <= now and f[6] then
      messages[#messages + 1] = {page[j], key, f, page[j + 1]}
    end
  end
end
local segments = {}
for i, m in ipairs(messages) do
  local f = m[3]
  local r = tonumber(f[4] or '0')
  m[5], m[6] = r, 0
  for k = r + 1, math.min(tonumber(f[1] or '1'), r + limit) do
    local at = due_of(f, k, m[4])
    if at > now then break end
    segments[#segments + 1] = {at, k, tonumber(m[1]), i}
  end
end
table.sort(segments, function(a, b)
  if a[1] ~= b[1] then return a[1] < b[1] end
  if a[2] ~= b[2] then return a[2] < b[2] end
  return a[3] < b[3]
end)
for n = 1, math.min(limit, #segments) do
  local m = messages[segments[n][4]]
  m[6] = m[6] + 1
end
local out, bases, seen = {}, {}, {}
for _, m in ipairs(messages) do
  local member, key, f, r, count = m[1], m[2], m[3], m[5], m[6]
  if count > 0 then
    local base = f[6]
    local h = redis.call('HMGET', key, 'd', 'x', 'f', 'p')
    out[#out + 1] = {member, r, count, base, h[1], h[2] or '', h[3] or '', h[4] or '0'}
    if not seen[base] then
      seen[base] = true
      bases[#bases + 1] = {base, redis.call('GET', P .. ':q:' .. base) or ''}
    end
    if mode == 'take' then
      local now_r = r + count
      redis.call('HSET', key, 'r', now_r)
      if now_r >= tonumber(f[1] or '1') then
        done(P, due, member, key, base, ARGV[7])
      else
        redis.call('ZADD', due, string.format('%.17g', due_of(f, now_r + 1)), member)
      end
    elseif mode == 'claim' then
      redis.call('HSET', key, 'c', ARGV[6])
    end
  end
end
return {out, bases}
""",
    keep="ARGV[5] ~= 'peek' and #answer[1] > 0",
)

PENDING = (
    LUA_DONE
    + """
-- segments not handed out (due by ARGV[3] when given: '+inf' otherwise). ARGV P, userid.
local due, P = ARGV[1] .. ':due:' .. ARGV[2], ARGV[1]
local upto, total = math.huge, 0
if ARGV[3] ~= '+inf' then upto = tonumber(ARGV[3]) end
local page = redis.call('ZRANGEBYSCORE', due, '-inf', ARGV[3], 'WITHSCORES')
for j = 1, #page, 2 do
  local f = redis.call('HMGET', P .. ':m:' .. tonumber(page[j]), 'n', 'g', 't', 'r')
  local k = tonumber(f[4] or '0') + 1
  while k <= tonumber(f[1] or '1') and due_of(f, k, page[j + 1]) <= upto do
    k, total = k + 1, total + 1
  end
end
return total
"""
)

RESCHEDULE = """
-- ARGV: P, userid, member, due_at, x JSON, f JSON ('' keep the fate). Segments changed.
local P, m = ARGV[1], ARGV[3]
local due = P .. ':due:' .. ARGV[2]
if not redis.call('ZSCORE', due, m) then return 0 end
local key = P .. ':m:' .. tonumber(m)
local f = redis.call('HMGET', key, 'n', 'r')
local n = tonumber(f[1] or '1')
redis.call('HSET', key, 'x', ARGV[5])
if ARGV[6] ~= '' then redis.call('HSET', key, 'f', ARGV[6]) end
if n > 1 then redis.call('HSET', key, 't', ARGV[4], 'g', '0') end
redis.call('ZADD', due, ARGV[4], m)
return n - tonumber(f[2] or '0')
"""

ADD_MO = """
-- ARGV: P, userid, member, data JSON, created_at. Drops up to two expired MOs from the
-- oldest end of the account's MO list.
local P, u, m = ARGV[1], ARGV[2], ARGV[3]
redis.call('HSET', P .. ':mo:' .. m, 'data', ARGV[4], 'userid', u, 'state', 'pending',
  'created_at', ARGV[5], 'taken_at', '', 'claimed_until', '0')
local all = P .. ':mos:' .. u
redis.call('ZADD', all, ARGV[5], m)
redis.call('ZADD', all .. ':pending', ARGV[5], m)
for _, old in ipairs(redis.call('ZRANGE', all, 0, 1)) do
  if redis.call('EXISTS', P .. ':mo:' .. old) == 0 then redis.call('ZREM', all, old) end
end
return 1
"""

TAKE_MOS = Once(
    """
-- ARGV: P, userid, now, limit, mode (take, claim, peek), claimed until, retention.
-- MOs in arrival order not claimed by a push; returns their data JSON.
local P, now, limit, mode = ARGV[1], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local pending = P .. ':mos:' .. ARGV[2] .. ':pending'
local got, offset = {}, 0
while #got < limit do
  local page = redis.call('ZRANGE', pending, offset, offset + limit - 1)
  if #page == 0 then break end
  offset = offset + #page
  for _, m in ipairs(page) do
    local key = P .. ':mo:' .. m
    if #got < limit and tonumber(redis.call('HGET', key, 'claimed_until') or '0') <= now then
      got[#got + 1] = m
    end
  end
end
local out = {}
for n, m in ipairs(got) do
  local key = P .. ':mo:' .. m
  out[n] = redis.call('HGET', key, 'data') or ''
  if mode == 'take' then
    redis.call('HSET', key, 'state', 'taken', 'taken_at', ARGV[3])
    redis.call('ZREM', pending, m)
    redis.call('EXPIRE', key, ARGV[7])
  elseif mode == 'claim' then
    redis.call('HSET', key, 'claimed_until', ARGV[6])
  end
end
return out
""",
    keep="ARGV[5] ~= 'peek' and #answer > 0",
)


def message_member(msgid: int) -> str | None:
    """The due-queue member of a message's id (segment 1); None for another id."""
    _, counter, pknum = decompose(msgid)
    return member(counter) if counter and pknum == 1 else None


class RedisHandouts(Connection):
    TAKE = TAKE
    PENDING = PENDING
    RESCHEDULE = RESCHEDULE
    ADD_MO = ADD_MO
    TAKE_MOS = TAKE_MOS

    def _reports(self, userid: str, now: float, limit: int, mode: str, until: float) -> list:
        if limit <= 0:
            return []
        args = [self.prefix, userid, repr(now), limit, mode, repr(until), self.retention]
        with yielding():
            out, bases = self._run("TAKE", args)
        requests: dict[str, SendRecord | None] = {b: request_of(b, j) for b, j in bases}
        picked: list[tuple[float, int, Report]] = []
        for m, before, count, base, d, x, f, p in out:
            request = requests.get(base)
            if request is None or not d:  # a reset removed it meanwhile
                continue
            raw = {"d": d, "r": str(before), "p": p}
            raw |= ({"x": x} if x else {}) | ({"f": f} if f else {})
            message = MessageHash(int(m), request, raw).stored()
            assert message.schedule is not None
            for k in range(before + 1, before + count + 1):
                report = message.report(k)
                picked.append((message.schedule.due(k), report.msgid, report))
        picked.sort(key=lambda c: (c[0], c[1]))  # as segments.due_in_order orders them
        return [report for _, _, report in picked]

    def take_reports(self, userid: str, now: float, limit: int) -> list[Report]:
        """§2.5 due reports, oldest due first, each handed out once."""
        return self._reports(userid, now, limit, "take", 0.0)

    def pending_reports(
        self, userid: str, now: float, limit: int, claim_for: float = 0.0
    ) -> list[Report]:
        mode = "claim" if claim_for else "peek"
        return self._reports(userid, now, limit, mode, now + claim_for)

    def reschedule_reports(
        self,
        userid: str,
        message_msgid: int,
        *,
        due_at: float,
        rtime: str,
        failure: tuple[int, str, str] | None = None,
    ) -> int:
        m = message_member(message_msgid)
        if m is None:
            return 0
        schedule = rescheduled(due_at, rtime)
        args = [
            self.prefix, userid, m, repr(due_at), dumps([due_at, schedule.rtime]),
            dumps(list(failure)) if failure else "",
        ]  # fmt: skip
        return int(self._run("RESCHEDULE", args))

    def pending_count(self, userid: str, kind: Kind, now: float | None = None) -> int:
        """Reports (segments) or MOs not handed out yet (due by now, when given)."""
        if kind == "mo":
            return int(self._r.zcard(self._k("mos", userid, "pending")))
        return int(
            self._run("PENDING", [self.prefix, userid, "+inf" if now is None else repr(now)])
        )

    def next_due(self, userid: str) -> float | None:
        first = self._r.zrange(self._k("due", userid), 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    # ------------------------------------------------------------ MOs

    def add_mo(self, userid: str, mo: Mo) -> int:
        data = {
            "msgid": mo.msgid, "mobile": mo.mobile, "spno": mo.spno, "exno": mo.exno,
            "rtime": mo.rtime, "text": mo.text,
        }  # fmt: skip
        self._run(
            "ADD_MO", [self.prefix, userid, mo_member(mo.msgid), dumps(data), repr(time.time())]
        )
        return mo.msgid

    def _mos(self, userid: str, now: float, limit: int, mode: str, until: float) -> list[Mo]:
        if limit <= 0:
            return []
        args = [self.prefix, userid, repr(now), limit, mode, repr(until), self.retention]
        with yielding():
            taken = self._run("TAKE_MOS", args)
        return [Mo(**json.loads(d)) for d in taken if d]

    def take_mos(self, userid: str, now: float, limit: int) -> list[Mo]:
        """§2.4 MOs in arrival order, each handed out once."""
        return self._mos(userid, now, limit, "take", 0.0)

    def pending_mos(self, userid: str, now: float, limit: int, claim_for: float = 0.0) -> list[Mo]:
        return self._mos(userid, now, limit, "claim" if claim_for else "peek", now + claim_for)


__all__ = ["RedisHandouts", "message_member"]
