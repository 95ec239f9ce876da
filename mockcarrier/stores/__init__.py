"""The mock's durable state. The interface: mockcarrier/stores/interface.py (read it
first). The SQLite store (the default): mockcarrier/stores/sqlite/. The Redis store
(several instances on one Redis): mockcarrier/stores/redis/."""

from __future__ import annotations

from ..config import Settings
from .interface import (
    Acceptance,
    Accepted,
    AccountRecord,
    Arrears,
    Drawn,
    Message,
    Mo,
    PushLane,
    Report,
    StaleSnapshot,
    Store,
    StoreError,
    UnknownAccount,
)


def open_store(settings: Settings) -> Store:
    """The store settings name: Redis at settings.store, else SQLite at settings.db."""
    if settings.store:
        from .redis import RedisStore  # redis is imported only when asked for

        return RedisStore(settings.store)
    from .sqlite import SqliteStore

    return SqliteStore(settings.db)


__all__ = [
    "Acceptance",
    "Accepted",
    "AccountRecord",
    "Arrears",
    "Drawn",
    "Message",
    "Mo",
    "PushLane",
    "Report",
    "StaleSnapshot",
    "Store",
    "StoreError",
    "UnknownAccount",
    "open_store",
]
