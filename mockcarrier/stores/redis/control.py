"""The control plane (one hash of JSON values) and fault rules. Every change bumps the
version in the same MULTI or script, so that callers may cache both (Store.version)."""

from __future__ import annotations

import json
import time
from typing import Any

from .connection import Connection, Once

# Count a firing of a fault rule unless it is spent. ARGV fault hash, version key.
CONSUME_FAULT = Once("""
local remaining = redis.call('HGET', ARGV[1], 'remaining')
if not remaining then return 0 end
if remaining ~= '' then
  if tonumber(remaining) <= 0 then return 0 end
  if redis.call('HINCRBY', ARGV[1], 'remaining', -1) == 0 then
    redis.call('INCR', ARGV[2])  -- spent: the set of active rules changed
  end
end
redis.call('HINCRBY', ARGV[1], 'hits', 1)
return 1
""")


# A fault rule: ARGV P, rule JSON, remaining ('' unlimited), created_at. Its id.
ADD_FAULT = Once("""
local P = ARGV[1]
local last = redis.call('ZRANGE', P .. ':faults', -1, -1, 'WITHSCORES')
local id = 1
if #last > 0 then id = tonumber(last[2]) + 1 end
redis.call('HSET', P .. ':fault:' .. id, 'rule', ARGV[2], 'remaining', ARGV[3], 'hits', 0,
  'created_at', ARGV[4])
redis.call('ZADD', P .. ':faults', id, id)
redis.call('INCR', P .. ':version')
return id
""")


class RedisControl(Connection):
    CONSUME_FAULT = CONSUME_FAULT
    ADD_FAULT = ADD_FAULT

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
            self._bump(pipe)
            pipe.execute()

    def add_fault(self, rule: dict[str, Any], remaining: int | None) -> int:
        """A new rule; its id is the highest one's + 1 (as SQLite's rowid)."""
        args = [
            self.prefix, json.dumps(rule), "" if remaining is None else remaining,
            repr(time.time()),
        ]  # fmt: skip
        return int(self._run("ADD_FAULT", args))

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
        return bool(self._run("CONSUME_FAULT", [self._k("fault", fault_id), self._k("version")]))

    def delete_faults(self, fault_id: int | None = None) -> int:
        ids = [fault_id] if fault_id is not None else self._r.zrange(self._k("faults"), 0, -1)
        if not ids:
            return 0
        with self._r.pipeline() as pipe:
            for i in ids:
                pipe.delete(self._k("fault", i))
                pipe.zrem(self._k("faults"), str(i))
            deleted = sum(pipe.execute()[::2])
        if deleted:
            self._r.incr(self._k("version"))
        return int(deleted)
