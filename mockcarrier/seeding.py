"""Accounts from the configuration (file, flags) into the store, without undoing what
the admin API changed since (docs/reliability.md, "Silent loss of configuration").

Every worker's app seeds at start, and gunicorn starts a worker again whenever one
dies: overwriting the stored accounts each time would undo a PATCH at random. So the
store remembers the configuration it was last seeded with, per account, and an account
is (re)written only when the configuration says something new about it: a new account,
or one whose configured settings changed since the last seed (the file wins then). A
PATCH, a DELETE or a POST stays as it is across worker restarts and `serve` restarts
with the same configuration; the balance is never touched by a re-seed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .config import AccountConfig

CONTROL_KEY = "seeded_accounts"  # in the store's control state: userid → fingerprint


def fingerprint(cfg: AccountConfig) -> str:
    """What the configuration says about one account, in a few bytes."""
    text = json.dumps(cfg.to_dict(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def seed_accounts(store: Any, accounts: list[AccountConfig]) -> list[str]:
    """Write the configured accounts that are new or changed since the last seed; the
    userids written."""
    seeded: dict[str, str] = dict(store.control().get(CONTROL_KEY) or {})
    changed = [cfg for cfg in accounts if seeded.get(cfg.userid) != fingerprint(cfg)]
    if not changed:
        return []
    store.ensure_accounts(changed)  # config written, balances kept (new ones: configured)
    seeded.update({cfg.userid: fingerprint(cfg) for cfg in changed})
    store.put_control({CONTROL_KEY: seeded})
    return [cfg.userid for cfg in changed]


def kept_control(store: Any) -> dict[str, Any]:
    """The part of the control state a `serve` restart keeps (control.initialise)."""
    state = store.control()
    return {CONTROL_KEY: state[CONTROL_KEY]} if CONTROL_KEY in state else {}
