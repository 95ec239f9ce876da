"""What `mockcarrier serve` checks before it says it serves: the port is free, the
SQLite file's directory exists, the Redis store answers. One line per problem, so a
wrong start fails at once and says why (instead of a banner, then gunicorn's retries)."""

from __future__ import annotations

import errno
import socket
from pathlib import Path

from .config import Settings
from .stores import Store, StoreError, open_store

REDIS_PROBE_SECONDS = 2.0


def port_problem(host: str, port: int) -> str:
    """ "" when host:port can be bound (as gunicorn binds: SO_REUSEADDR), else why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host.strip("[]"), port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is in use (another server? pick --port)"
            return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    return ""


def db_problem(db: str) -> str:
    """ "" when the SQLite file can be made where --db says."""
    folder = Path(db).expanduser().resolve().parent
    if not folder.is_dir():
        return f"--db {db}: directory {folder} does not exist"
    return ""


def redis_problem(url: str) -> str:
    """ "" when the Redis server of --store answers a PING within a short time."""
    import redis  # only the Redis store's users need it

    from .stores.redis.connection import split_url

    address, _ = split_url(url)
    client = redis.Redis.from_url(
        address, socket_timeout=REDIS_PROBE_SECONDS, socket_connect_timeout=REDIS_PROBE_SECONDS
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        from .config import redacted_url

        return f"--store {redacted_url(url)}: cannot reach Redis ({exc})"
    finally:
        client.close()
    return ""


def checked_store(settings: Settings) -> tuple[Store | None, list[str]]:
    """The opened store and [] when serving can start, else (None, the problems)."""
    problems = [p for p in (port_problem(settings.host, settings.port),) if p]
    store_problem = redis_problem(settings.store) if settings.store else db_problem(settings.db)
    if store_problem:
        return None, [*problems, store_problem]
    try:
        store = open_store(settings)
    except StoreError as exc:
        return None, [*problems, str(exc)]
    if problems:
        store.close()
        return None, problems
    return store, []
