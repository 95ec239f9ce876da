"""The Redis connection, the store URL's own options, key names and script plumbing.

Every Lua script is registered once and called as one EVALSHA (redis-py loads it again
on NOSCRIPT, e.g. after a Redis restart). Every Redis failure becomes a StoreError,
answered -100999; the connection pool reconnects by itself once the server is back.
A send's and a hand-out's call wait for the reply `yielding`: on a worker's event loop
the loop serves other requests meanwhile (their calls meet in Redis, which writes and
syncs the append-only file once for all the commands it read together).
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import socket
import ssl
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from redis.backoff import NoBackoff
from redis.commands.core import Script
from redis.retry import Retry

from ... import waits
from ...config import REDIS_SCHEMES, redacted_url
from ..interface import StoreError

DEFAULT_PREFIX = "mockcarrier"
# What was handed out (fully reported, never reported, an MO taken) is kept this many
# real seconds, then expires: a week of admin history. A year's 15 M messages at
# ~230 bytes each (docs/reliability.md) is ~3.5 GB even if the whole year fell inside
# one retention window (as benchmarks/year.py compresses it), so any setting up to a
# year fits a 24 GB machine with room to spare.
DEFAULT_RETENTION = 7 * 86400
SCHEMA_VERSION = "2"
# The admin search indexes (mobile, custid) are lists in this many buckets per account,
# so an index entry costs ~10 bytes, not a key per mobile (~100 bytes).
BUCKETS = 4096


# A call's own key (KEYS[1] of a Once script) lives this long: redis-py sends a call again
# at once, after at most the connect timeout.
ONCE_SECONDS = 30
ONCE_DROPPED = 8  # answered calls' keys a call drops, at most
ONCE_WRAPPER = """
-- redis-py sends a call again when it lost the reply (Connection's Retry), though Redis
-- ran it: KEYS[1], the call's own key, says it ran and keeps what it answered. KEYS[2..]:
-- keys of earlier calls that were answered, no longer needed (Connection._run).
for i = 2, #KEYS do redis.call('UNLINK', KEYS[i]) end
local ran = redis.call('GET', KEYS[1])
if ran then return cjson.decode(ran) end
local answer = (function()
{body}
end)()
if {keep} then redis.call('SET', KEYS[1], cjson.encode(answer), 'EX', {seconds}) end
return answer
"""


class Once(str):
    """A script that must not apply twice for one call (a count, an increment, a new id):
    each call passes a key of its own, and the call sent again answers what the first
    answered, changing nothing (cjson keeps numbers to 14 digits: a count, an id, a seqid;
    not a msgid). A hand-out's answer is kept so too (about 60 KB for 500 reports, until
    the process's next Once call drops it, at most ONCE_SECONDS): sent again, it hands
    out the same reports, not the next ones, so none is lost. The send script has its
    own guard (sends.py)."""

    def __new__(cls, body: str, keep: str = "true") -> Once:
        """keep: a Lua condition on the answer (and ARGV) under which the call changed
        something, so its answer is kept for the call sent again; otherwise a second run
        is harmless (an empty poll) and nothing is written."""
        wrapper = ONCE_WRAPPER.replace("{seconds}", str(ONCE_SECONDS)).replace("{keep}", keep)
        return super().__new__(cls, wrapper.replace("{body}", body))  # the body last: as written


def split_url(url: str) -> tuple[str, str]:
    """(URL for redis-py, key prefix): `prefix` and `retention` are ours, not redis-py's."""
    parts = urlsplit(url)
    if parts.scheme not in REDIS_SCHEMES:
        schemes = ", ".join(f"{s}://" for s in REDIS_SCHEMES)
        raise ValueError(f"a Redis store URL starts with {schemes}")
    query = parse_qsl(parts.query)
    prefix = next((v for k, v in query if k == "prefix"), DEFAULT_PREFIX)
    rest = urlencode([(k, v) for k, v in query if k not in ("prefix", "retention")])
    return urlunsplit(parts._replace(query=rest)), prefix


def retention_of(url: str) -> int:
    """`?retention=SECONDS` of a store URL (whole seconds ≥ 1), else the default."""
    query = dict(parse_qsl(urlsplit(url).query))
    if "retention" not in query:
        return DEFAULT_RETENTION
    try:
        seconds = int(query["retention"])
    except ValueError:
        raise ValueError("retention is a whole number of seconds") from None
    if seconds < 1:
        raise ValueError("retention is at least 1 second")
    return seconds


def bucket(text: str) -> int:
    """The search-index bucket of a mobile or custid."""
    return int(hashlib.sha1(text.encode()).hexdigest()[:8], 16) % BUCKETS


# Lua: push an entry on an index list (newest first) and drop up to two dead entries at
# its tail (their item expired), so that an index holds what lives plus what is newer
# than the oldest living item. Entries: a message counter, or -base for a whole request.
LUA_INDEX = """
local function alive(P, entry)
  local n = tonumber(entry)
  if n < 0 then return redis.call('EXISTS', P .. ':q:' .. (-n)) == 1 end
  return redis.call('EXISTS', P .. ':m:' .. n) == 1
end
local function push_index(P, key, entry, touched)
  redis.call('LPUSH', key, entry)
  for _ = 1, 2 do
    local tail = redis.call('LINDEX', key, -1)
    if not tail or alive(P, tail) then break end
    redis.call('RPOP', key)
  end
  touched[key] = true
end
"""


def member(counter: int) -> str:
    """A due-queue member: the counter, zero-padded so that byte order is id order."""
    return f"{counter:011d}"


def mo_member(msgid: int) -> str:
    """An MO's member: its 64-bit id shifted and padded, so byte order is id order."""
    return f"{msgid + (1 << 63):020d}"


_YIELDING = contextvars.ContextVar("mockcarrier_redis_yielding", default=False)


@contextmanager
def yielding() -> Iterator[None]:
    """The Redis calls within wait for their replies by waits.readable: on a worker's
    loop, the loop runs other requests meanwhile. Only around calls that hold no lock: a
    thread lock held across the turn would stop the loop's thread at the next request
    that takes it (the snapshot's reload takes one), its holder never to run again."""
    token = _YIELDING.set(True)  # per greenlet, per thread
    try:
        yield
    finally:
        _YIELDING.reset(token)


class YieldingSocket:
    """A connection's socket whose reads, within `yielding`, first wait by
    waits.readable: not a read that only looks whether a reply is in (timeout 0, the
    pool's check before each call), nor one whose data TLS holds already. (A flag such
    as MSG_DONTWAIT would not spare the wait: Python polls a socket with a timeout
    before it reads.)"""

    __slots__ = ("_sock",)

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def _wait(self) -> None:
        if _YIELDING.get():
            timeout = self._sock.gettimeout()
            held = isinstance(self._sock, ssl.SSLSocket) and self._sock.pending()
            if timeout != 0 and not held:
                waits.current.readable(self._sock.fileno(), timeout)

    def recv(self, *args: Any) -> bytes:
        self._wait()
        return self._sock.recv(*args)

    def recv_into(self, *args: Any) -> int:  # hiredis' parser reads this way
        self._wait()
        return self._sock.recv_into(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def yielding_class(cls: type[redis.connection.AbstractConnection]) -> type:
    """redis-py's connection class for the store URL's scheme, on a YieldingSocket."""

    class Yielding(cls):  # type: ignore[valid-type,misc]
        def _connect(self) -> Any:
            return YieldingSocket(super()._connect())

    return Yielding


class Connection:
    """The client, the key prefix, the retention and the scripts."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url
        try:
            address, self.prefix = split_url(url)
            self.retention = retention_of(url)
        except ValueError as exc:
            raise StoreError(f"--store {redacted_url(url)}: {exc}") from exc
        # One quick retry, then -100999: a request must not hang while Redis is down.
        # Typed Any: with decode_responses every answer is str, which redis-py's
        # annotations (bytes | str) cannot say.
        self._r: Any = redis.Redis.from_url(
            address,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
            health_check_interval=30,
        )
        pool = self._r.connection_pool  # its class as the URL's scheme made it, yielding
        pool.connection_class = yielding_class(pool.connection_class)
        self._scripts: dict[str, Script] = {}
        self._answered: deque[str] = deque()  # Once calls answered: their keys, to drop
        try:
            self._r.hsetnx(self._k("meta"), "schema_version", SCHEMA_VERSION)
        except redis.RedisError as exc:
            raise StoreError(f"cannot reach {self.describe()}: {exc}") from exc

    def _k(self, *parts: object) -> str:
        return ":".join([self.prefix, *map(str, parts)])

    def _run(self, script: str, args: list[Any], client: Any = None) -> Any:
        """One EVALSHA of a script (registered by text: a class attribute of its mixin);
        a Once script's with a key of the call's own, and the keys of earlier calls that
        were answered, which it drops: a kept answer (a hand-out's, tens of KB) is gone at
        the next call, not held ONCE_SECONDS (the Redis year's memory grew without it)."""
        if script not in self._scripts:
            self._scripts[script] = self._r.register_script(getattr(self, script))
        called = self._scripts[script]
        if not isinstance(called.script, Once):
            return called(keys=[], args=args, client=client or self._r)
        own = self._k("once", uuid.uuid4().hex)
        answer = called(keys=[own, *self._answered_keys()], args=args, client=client or self._r)
        if client is None:  # answered (a pipeline's call is answered when it executes)
            self._answered.append(own)
        return answer

    def _answered_keys(self) -> list[str]:
        """Up to ONCE_DROPPED keys of answered calls, taken off the queue (another
        thread may empty it meanwhile)."""
        keys: list[str] = []
        with contextlib.suppress(IndexError):
            while len(keys) < ONCE_DROPPED:
                keys.append(self._answered.popleft())
        return keys

    def _bump(self, pipe: Any) -> None:
        """Count a change the callers cache (control, faults, accounts, auth failures)."""
        pipe.incr(self._k("version"))

    def version(self) -> int:
        return int(self._r.get(self._k("version")) or 0)

    def describe(self) -> str:
        """The URL without its password, whether Redis syncs every write, the retention."""
        text = f"{redacted_url(self.url)}, retention {self.retention} s"
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
        # Idle connections only: this must not cut off another thread's command in flight.
        self._r.connection_pool.disconnect(inuse_connections=False)
