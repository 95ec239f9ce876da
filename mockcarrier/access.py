"""Who may see what through the admin API and the console: one rule, two front doors.

The server-wide admin token opens everything. An account may carry its own admin_token:
that token opens this account only, and nobody sees the account without it (or the
server-wide one). With no server-wide token, server-wide calls and the accounts that
have no token of their own stay open to loopback callers only (docs/reliability.md);
`serve` on any other address makes a token when none is given (mockcarrier.doors).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from smsapi.auth import secrets_equal

from .config import AccountConfig


@dataclass(frozen=True)
class Access:
    """What one presented token opens."""

    server: bool  # server-wide calls: settings, creating accounts, the clock...
    everything: bool  # every account, whatever its own token
    userids: frozenset[str] = frozenset()

    def sees(self, userid: str) -> bool:
        return self.everything or userid.upper() in self.userids


def access_for(
    token: str, server_token: str, accounts: Iterable[AccountConfig], loopback: bool = True
) -> Access | None:
    """What token opens; None when a token is required and this one opens nothing.
    loopback: the caller is this machine; nothing is open without a token otherwise."""
    if server_token and token and secrets_equal(token, server_token):
        return Access(server=True, everything=True)
    open_door = not server_token and loopback
    opened = set()
    for cfg in accounts:
        # Compare every account's token (no early exit): the time taken says nothing.
        own = cfg.admin_token
        if (own and token and secrets_equal(token, own)) or (not own and open_door):
            opened.add(cfg.userid)
    if not open_door:
        return Access(server=False, everything=False, userids=frozenset(opened)) if opened else None
    return Access(server=True, everything=False, userids=frozenset(opened))


def token_required(server_token: str, accounts: Iterable[AccountConfig]) -> bool:
    """Whether some data is hidden from a caller who presents no token."""
    return bool(server_token) or any(cfg.admin_token for cfg in accounts)
