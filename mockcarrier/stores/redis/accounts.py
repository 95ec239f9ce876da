"""Accounts (one hash each: config JSON, balance, money_micros) and the failure log of
authentication. Changing an account's configuration or logging a failure bumps the
version (Connection.version) in the same MULTI."""

from __future__ import annotations

import json
import math
import uuid
from typing import Any

from ...config import AccountConfig, to_micros
from ..interface import AccountRecord, UnknownAccount
from .connection import Connection, Once

# A failed authentication: ARGV P, userid, entry (len:userid...), at, cutoff, keep.
# Every account's failures before cutoff go (a log of all, scored by time, names them).
AUTH_FAILURE = """
local P = ARGV[1]
local all = P .. ':authfail'
for _, old in ipairs(redis.call('ZRANGEBYSCORE', all, '-inf', '(' .. ARGV[5])) do
  local n = tonumber(string.match(old, '^(%d+):'))
  local start = #tostring(n) + 2
  redis.call('ZREM', P .. ':authfail:' .. string.sub(old, start, start + n - 1), old)
end
redis.call('ZREMRANGEBYSCORE', all, '-inf', '(' .. ARGV[5])
local mine = P .. ':authfail:' .. ARGV[2]
redis.call('ZADD', all, ARGV[4], ARGV[3])
redis.call('ZADD', mine, ARGV[4], ARGV[3])
redis.call('EXPIRE', all, ARGV[6])
redis.call('EXPIRE', mine, ARGV[6])
redis.call('INCR', P .. ':version')
return 1
"""


class RedisAccounts(Connection):
    AUTH_FAILURE = AUTH_FAILURE
    # HINCRBY / HSET on an account only if it exists. ARGV key, op, field, value...
    ON_ACCOUNT = Once("""
if redis.call('EXISTS', ARGV[1]) == 0 then return 0 end
for i = 3, #ARGV, 2 do redis.call(ARGV[2], ARGV[1], ARGV[i], ARGV[i + 1]) end
return 1
""")

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
            self._bump(pipe)
            pipe.execute()

    def put_account(self, cfg: AccountConfig, reset_balance: bool = False) -> None:
        key = self._account_key(cfg.userid)
        with self._r.pipeline() as pipe:
            pipe.hset(key, "config", json.dumps(cfg.to_dict()))
            if reset_balance:
                pipe.hset(
                    key, mapping={"balance": cfg.balance, "money_micros": to_micros(cfg.money)}
                )
            else:
                pipe.hsetnx(key, "balance", cfg.balance)
                pipe.hsetnx(key, "money_micros", to_micros(cfg.money))
            pipe.sadd(self._k("accounts"), cfg.userid)
            self._bump(pipe)
            pipe.execute()

    def delete_account(self, userid: str) -> bool:
        with self._r.pipeline() as pipe:
            pipe.delete(self._account_key(userid))
            pipe.srem(self._k("accounts"), userid)
            deleted = bool(pipe.execute()[0])
        if deleted:
            self._r.incr(self._k("version"))
        return deleted

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
        args: list[Any] = [self._account_key(userid), op]
        for name, value in values.items():
            args += [name, value]
        if not self._run("ON_ACCOUNT", args):
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

    # ------------------------------------------------------------ authentication

    def record_auth_failure(self, userid: str, at: float, keep: float = 86400.0) -> None:
        """Record a failure, forgetting every account's failures older than keep seconds
        (unknown userids included: the log stays bounded; idle keys expire)."""
        entry = f"{len(userid.encode())}:{userid}{at!r}:{uuid.uuid4().hex}"  # bytes, as Lua
        args = [self.prefix, userid, entry, repr(at), repr(at - keep), max(1, math.ceil(keep))]
        self._run("AUTH_FAILURE", args)

    def auth_failures_since(self, userid: str, since: float) -> int:
        return int(self._r.zcount(self._k("authfail", userid), repr(since), "+inf"))


def _account(row: dict[str, str]) -> AccountRecord | None:
    if not row or "config" not in row:
        return None
    return AccountRecord(
        AccountConfig.from_dict(json.loads(row["config"])),
        int(row["balance"]),
        int(row["money_micros"]),
    )
