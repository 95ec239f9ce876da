"""The Redis store: the Store interface (mockcarrier/stores/interface.py) on one Redis
server, so that several mock instances behind one address share ids, reports, pushes
and control. One script per send; what was handed out expires after the retention
(`?retention=SECONDS` in the store URL). The data model: rows.py.

    connection.py  client, URL options, key names, scripts, version, describe
    accounts.py    accounts and authentication failures
    sends.py       accept (one EVALSHA) and counter reservations
    handouts.py    reports and MOs handed out, claims, reschedules
    push.py        leases, push lanes, push outcomes
    control.py     control plane and fault rules
    views.py       the admin views and an account's reset
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import redis

from ..interface import StoreError
from .accounts import RedisAccounts
from .connection import DEFAULT_RETENTION, split_url
from .control import RedisControl
from .handouts import RedisHandouts
from .push import RedisPush
from .sends import RedisSends
from .views import RedisViews


class RedisStore(RedisAccounts, RedisSends, RedisHandouts, RedisPush, RedisControl, RedisViews):
    """The store on one Redis server (or any server speaking its protocol with Lua)."""


def _guarded(method: Callable) -> Callable:
    @functools.wraps(method)
    def call(*args: Any, **kw: Any) -> Any:
        try:
            return method(*args, **kw)
        except redis.RedisError as exc:
            raise StoreError(f"redis: {exc}") from exc

    return call


# Every public method answers a Redis failure with StoreError (-100999).
for _name in dir(RedisStore):
    _method = getattr(RedisStore, _name)
    if callable(_method) and not _name.startswith("_") and not _name.isupper():
        setattr(RedisStore, _name, _guarded(_method))

__all__ = ["DEFAULT_RETENTION", "RedisStore", "split_url"]
