"""What every request reads and an admin rarely changes, cached per process.

A request needs the control state (clock offset, tolerances, defect modes, magic
numbers), the active fault rules, the account it names (by userid or apikey) and whether
that account is locked out. Read from the store, that is about five reads per request
(and a scan of every account for an apikey). The store keeps a version (store.version())
that moves whenever any of these changes, in any process or instance sharing it; the
carrier reads that one value per request and reloads the rest only when it moved.

The rule: a snapshot is labelled with the version read *before* its contents, so it is
never newer in name than in content; a change that lands while it loads moves the
version again, and the next request reloads. A send on a store that checks the version
in the send's own step (Store.checks_version: Redis, where reading it is a round trip)
reads none: it runs on cached(), and the store refuses it unwritten when the version
moved (service.Carrier handles it again on a fresh snapshot).

What is not cached: balances (get_balance and the store's accept read them live; the
balances inside the cached AccountRecords are as of the load and must not be read) and a
fault rule's remaining count (the store's consume_fault decides each firing, and bumps
the version when it spends a rule).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field

from . import control, faults
from .config import Settings
from .stores.interface import AccountRecord, Store


def apikey_digest(apikey: str) -> bytes:
    """The apikey index's key: a lookup by digest tells a timing observer nothing of
    the keys (the digest of a guess shares no prefix with a real key's)."""
    return hashlib.sha256(apikey.encode("utf-8", "surrogatepass")).digest()


@dataclass
class Snapshot:
    """The cached state as of one version of the store."""

    version: int
    control: control.Control
    rules: tuple[faults.FaultRule, ...]  # active fault rules, in the order added
    accounts: dict[str, AccountRecord]  # by userid; balances stale (never read them)
    by_apikey: dict[bytes, AccountRecord]  # by apikey_digest
    # Auth failures counted since a moment, per key, filled as keys are asked for:
    # key → (since, count). The count can only fall as `since` moves on (failures age
    # out) until a new failure moves the version, so a count under the lockout threshold
    # stays under it; one at or over it is read again (a locked key is rare).
    failures: dict[str, tuple[float, int]] = field(default_factory=dict)
    # What may hold an answer ("": nothing): accounts' answer_delay_ms, delay fault rules.
    holds_answers: str = ""
    # The fewest requests in flight an account admits (§5.1 -100056), and that account.
    least_concurrency: tuple[int, str] | None = None

    def account(self, userid: str) -> AccountRecord | None:
        return self.accounts.get(userid)

    def account_by_apikey(self, apikey: str) -> AccountRecord | None:
        return self.by_apikey.get(apikey_digest(apikey)) if apikey else None


class Snapshots:
    """One process's snapshot of one store: `current()` costs one store read
    (version()) while nothing changed."""

    def __init__(self, store: Store, base: Settings) -> None:
        self.store = store
        self.base = base  # start-time settings; the control state's overrides apply
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()  # one reload at a time; readers never wait

    def current(self) -> Snapshot:
        version = self.store.version()
        snapshot = self._snapshot
        if snapshot is not None and snapshot.version == version:
            return snapshot
        with self._lock:
            snapshot = self._snapshot
            if snapshot is None or snapshot.version != version:
                snapshot = self._snapshot = self.load(version)
        return snapshot

    def cached(self) -> Snapshot | None:
        """The snapshot last loaded, not checked against the store's version (for a send
        whose store step checks it: Store.checks_version)."""
        return self._snapshot

    def moved(self, snapshot: Snapshot) -> bool:
        """Whether the store's version moved since snapshot was loaded."""
        return self.store.version() != snapshot.version

    def load(self, version: int) -> Snapshot:
        """The state as of version (read after it, so possibly newer: see the rule)."""
        accounts = {r.userid: r for r in self.store.accounts()}
        rules = faults.active_rules(self.store)
        configs = [r.config for r in accounts.values()]
        return Snapshot(
            version=version,
            control=control.from_state(self.store.control(), self.base),
            rules=rules,
            accounts=accounts,
            by_apikey={
                apikey_digest(r.config.apikey): r for r in accounts.values() if r.config.apikey
            },
            holds_answers=", ".join(
                [f"{c.userid}'s answer_delay_ms" for c in configs if c.answer_delay_ms]
                + [f"delay fault {rule.id}" for rule in rules if rule.action == faults.DELAY]
            ),
            least_concurrency=min(((c.max_concurrent, c.userid) for c in configs), default=None),
        )

    def locked_out(self, snapshot: Snapshot, key: str, since: float, threshold: int) -> bool:
        """§4 -100002: whether key failed threshold times or more since `since`."""
        cached = snapshot.failures.get(key)
        if cached is not None and since >= cached[0] and cached[1] < threshold:
            return False
        count = self.store.auth_failures_since(key, since)
        snapshot.failures[key] = (since, count)
        return count >= threshold


__all__ = ["Snapshot", "Snapshots", "apikey_digest"]
