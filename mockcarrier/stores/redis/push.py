"""The pusher's state (§2.7 / §2.8): leases, push lanes (seqid and backoff), the outcome
of a push (acknowledged items leave the outbox in the same MULTI as the lane and the
attempt log) and claims given back."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from ...ids import decompose
from ..interface import Kind, PushLane
from .connection import Connection, Once, member, mo_member
from .doorbell import RedisDoorbell
from .handouts import LUA_DONE

# Reports acknowledged by a push: ARGV P, userid, now, retention, then (member, pknum)
# pairs. A message's segments up to pknum are handed out (if still its account's).
MARK_PUSHED = (
    LUA_DONE
    + """
local P, u = ARGV[1], ARGV[2]
local due, changed = P .. ':due:' .. u, 0
for i = 5, #ARGV, 2 do
  local m, k = ARGV[i], tonumber(ARGV[i + 1])
  if redis.call('ZSCORE', due, m) then
    local key = P .. ':m:' .. tonumber(m)
    local f = redis.call('HMGET', key, 'n', 'g', 't', 'r', 'q', 'p')
    local r = tonumber(f[4] or '0')
    if k > r then
      changed = changed + k - r
      -- segments r + 1 .. k went out by a push: their bits of p (StoredMessage.hand_out)
      local pushed = tonumber(f[6] or '0') + (2 ^ (k - r) - 1) * 2 ^ r
      redis.call('HSET', key, 'r', k, 'p', string.format('%d', pushed))
      if k >= tonumber(f[1] or '1') then
        done(P, due, m, key, f[5], ARGV[4])
      else
        redis.call('ZADD', due, string.format('%.17g', due_of(f, k + 1)), m)
      end
    end
  end
end
return changed
"""
)

# MOs acknowledged by a push: ARGV P, userid, now, retention, members...
MARK_MOS_PUSHED = """
local P, u = ARGV[1], ARGV[2]
local pending, n = P .. ':mos:' .. u .. ':pending', 0
for i = 5, #ARGV do
  local key = P .. ':mo:' .. ARGV[i]
  local state, owner = unpack(redis.call('HMGET', key, 'state', 'userid'))
  if state == 'pending' and owner == u then
    redis.call('HSET', key, 'state', 'pushed', 'taken_at', ARGV[3])
    redis.call('ZREM', pending, ARGV[i])
    redis.call('EXPIRE', key, ARGV[4])
    n = n + 1
  end
end
return n
"""

# Give back claims: ARGV P, kind, members...
RELEASE = """
for i = 3, #ARGV do
  if ARGV[2] == 'rpt' then
    local key = ARGV[1] .. ':m:' .. tonumber(ARGV[i])
    redis.call('HDEL', key, 'c')
  else
    local key = ARGV[1] .. ':mo:' .. ARGV[i]
    if redis.call('HGET', key, 'state') == 'pending' then
      redis.call('HSET', key, 'claimed_until', '0')
    end
  end
end
return 1
"""

# §2.7.3 seqid: ARGV lane key, advance ('1') or only start at 1.
NEXT_SEQID = Once("""
local seqid = tonumber(redis.call('HGET', ARGV[1], 'seqid') or '0')
if ARGV[2] == '1' or seqid == 0 then return redis.call('HINCRBY', ARGV[1], 'seqid', 1) end
return seqid
""")


# A push's attempt line: ARGV the log's key, the line, how many lines are kept. Once: a
# transaction sent again after its reply was lost logs the attempt once.
LOG_ATTEMPT = Once("""
redis.call('LPUSH', ARGV[1], ARGV[2])
redis.call('LTRIM', ARGV[1], 0, tonumber(ARGV[3]) - 1)
return 1
""")


class RedisPush(Connection):
    LOG_ATTEMPT = LOG_ATTEMPT
    MARK_PUSHED = MARK_PUSHED
    MARK_MOS_PUSHED = MARK_MOS_PUSHED
    RELEASE = RELEASE
    NEXT_SEQID = NEXT_SEQID

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

        return bool(self._r.transaction(take, key, value_from_callable=True))

    def doorbell(self) -> RedisDoorbell:
        return RedisDoorbell(self._r, self._k("doorbell"))  # ACCEPT publishes on it too

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

    # ------------------------------------------------------------ lanes

    def _lane_key(self, userid: str, kind: str) -> str:
        return self._k("lane", userid, kind)

    def next_seqid(self, userid: str, kind: Kind, advance: bool = True) -> int:
        """§2.7.3 seqid of the next push request, stored before the request leaves."""
        return int(self._run("NEXT_SEQID", [self._lane_key(userid, kind), int(advance)]))

    def push_lane(self, userid: str, kind: Kind) -> PushLane:
        row = self._r.hgetall(self._lane_key(userid, kind))
        return PushLane(
            userid=userid,
            kind=kind,
            seqid=int(row.get("seqid", 0)),
            failures=int(row.get("failures", 0)),
            next_at=float(row.get("next_at", 0.0)),
            last_error=row.get("last_error", ""),
        )

    def push_lane_done(
        self, userid: str, kind: Kind, failures: int = 0, next_at: float = 0.0, error: str = ""
    ) -> None:
        """Record the outcome of a push: failures 0 clears the backoff."""
        self._r.hset(self._lane_key(userid, kind), mapping=_lane(failures, next_at, error))

    # ------------------------------------------------------------ outcomes

    def release_claims(self, kind: Kind, msgids: list[int]) -> None:
        """Give back what a push claimed but did not deliver."""
        if not msgids:
            return
        if kind == "rpt":
            members = sorted({member(decompose(m)[1]) for m in msgids})
        else:
            members = [mo_member(m) for m in msgids]
        self._run("RELEASE", [self.prefix, kind, *members])

    def record_push(
        self,
        attempt: dict[str, Any],
        pushed: list[int] | None = None,
        lane: tuple[int, float, str] | None = None,
        keep: int = 5000,
    ) -> int:
        """A push's outcome at once (MULTI): the acknowledged items leave the outbox, the
        lane's backoff becomes lane, the attempt is logged (the last `keep` kept)."""
        userid, kind = attempt["userid"], attempt["kind"]
        row_id = int(self._r.incr(self._k("attempt", "seq")))
        head = [self.prefix, userid, repr(time.time()), self.retention]
        with self._r.pipeline() as pipe:
            if pushed and kind == "rpt":
                pairs: list[Any] = []
                for msgid in pushed:
                    _, counter, pknum = decompose(msgid)
                    pairs += [member(counter), pknum]
                self._run("MARK_PUSHED", head + pairs, client=pipe)
            elif pushed:
                self._run("MARK_MOS_PUSHED", head + [mo_member(m) for m in pushed], client=pipe)
            if lane is not None:
                pipe.hset(self._lane_key(userid, kind), mapping=_lane(*lane))
            line = json.dumps({"id": row_id, **attempt}, ensure_ascii=False)
            self._run("LOG_ATTEMPT", [self._k("attempts", userid), line, keep], client=pipe)
            pipe.execute()
        return row_id


def _lane(failures: int, next_at: float, error: str) -> dict[str | bytes, str | int]:
    return {"failures": failures, "next_at": repr(float(next_at)), "last_error": error}
