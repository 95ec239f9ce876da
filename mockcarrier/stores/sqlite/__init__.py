"""The SQLite store (the default): one file in WAL mode shared by every process of a mock.

Read mockcarrier/stores/interface.py first. One concern a module, combined here:
db (connections, the writer lock, transactions, version), schema, accounts, sends
(accept, reserve_ids), handouts (pull, push claims, counts), push (lease, lanes,
acknowledgements), control (control state, fault rules), views (the admin's lists).
"""

from __future__ import annotations

from ..interface import Store
from .accounts import SqliteAccounts
from .control import SqliteControl
from .handouts import SqliteHandouts
from .push import SqlitePush
from .schema import SCHEMA_VERSION
from .sends import SqliteSends
from .views import SqliteViews


class SqliteStore(
    SqliteAccounts, SqliteSends, SqliteHandouts, SqlitePush, SqliteControl, SqliteViews
):
    """Implements mockcarrier.stores.interface.Store on one SQLite file."""


__all__ = ["SCHEMA_VERSION", "SqliteStore"]


def _implements_store(store: SqliteStore) -> Store:  # mypy checks the Protocol here
    return store
