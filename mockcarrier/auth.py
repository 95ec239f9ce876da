"""§3.1 authentication of a request, with the lockout and address rules of §4."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from smsapi.auth import DIGEST_RE, digest, looks_like_unix_time, secrets_equal, timestamp_skew
from smsapi.errors import Result
from smsapi.fields import text_value, userid_rule

from . import replay
from .config import Settings
from .snapshot import Snapshot, Snapshots
from .stores.interface import AccountRecord, Store


@dataclass
class AuthOutcome:
    result: Result
    account: AccountRecord | None = None
    mode: str = ""  # md5 / plain / apikey
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.result == Result.OK


# X-Mock-Reason of a refused login without verbose_reasons: the same whether the userid
# exists, the pwd, the apikey or the timestamp was wrong.
VAGUE_REASON = "userid, pwd, apikey or timestamp wrong (verbose_reasons tells which)"


def authenticate(
    fields: dict[str, Any],
    remote_addr: str,
    cache: Snapshots,
    settings: Settings,
    now: datetime,
    snapshot: Snapshot | None = None,
    count_failure: bool = True,
) -> AuthOutcome:
    """Who sent this request, or the §4 code that refuses it; a replayed digest is
    refused (mockcarrier.replay), a refusal's reason vague unless verbose_reasons.
    Accounts and the lockout come from the snapshot (cache.current() unless given):
    a request that changes nothing reads no account from the store. count_failure
    False: a failed login is not counted towards the lockout (the caller checks the
    request again on a fresh snapshot, which counts it)."""
    snapshot = snapshot or cache.current()
    store = cache.store if count_failure else None
    outcome = _authenticate(fields, remote_addr, cache, store, snapshot, settings, now)
    if outcome.result == Result.AUTH_FAILED and not settings.verbose_reasons:
        outcome.reason = VAGUE_REASON
    if outcome.ok and outcome.mode == "md5" and _replayed(fields, settings):
        # Said plainly (only the holder of a right digest gets here), and not counted
        # towards the lockout: a client reusing its digest must not lock its account.
        outcome = AuthOutcome(
            Result.AUTH_FAILED,
            reason=f"digest replayed: first used over {settings.digest_reuse_window:g} s "
            "ago; make timestamp and pwd afresh",
        )
    return outcome


def _replayed(fields: dict[str, Any], settings: Settings) -> bool:
    if settings.digest_reuse_window <= 0 or settings.timestamp_tolerance <= 0:
        return False  # reuse allowed, or timestamps unchecked: nothing to tell replays by
    key = (
        text_value(fields.get("userid")).upper(),
        text_value(fields.get("pwd")).lower(),
        text_value(fields.get("timestamp")),
    )
    return replay.LEDGER.replayed(key, settings.digest_reuse_window)


def guess_key(remote_addr: str) -> str:
    """Where unknown apikeys are counted: per source address, each guess being new."""
    return f"apikey@{remote_addr}"


def _authenticate(
    fields: dict[str, Any],
    remote_addr: str,
    cache: Snapshots,
    store: Store | None,
    snapshot: Snapshot,
    settings: Settings,
    now: datetime,
) -> AuthOutcome:
    apikey = text_value(fields.get("apikey"))
    if apikey:  # §3.1 apikey present: userid and pwd are not used
        account = snapshot.account_by_apikey(apikey)
        key = account.userid if account else guess_key(remote_addr)
    else:
        key = text_value(fields.get("userid")).upper()
        account = snapshot.account(key) if userid_rule(key) else None

    epoch = now.timestamp()
    since = epoch - settings.lockout_window
    # An address that guessed apikeys is locked out of apikey mode, right key or not.
    keys = (key, guess_key(remote_addr)) if apikey and account else (key,)
    for locked in keys:
        if locked and cache.locked_out(snapshot, locked, since, settings.lockout_failures):
            return AuthOutcome(
                Result.AUTH_LOCKED, reason=f"{locked}: locked after repeated failures"
            )
    if account is None:
        reason = "unknown account" if not apikey else "unknown apikey"
        return _failed(store, key, epoch, reason, settings)
    if not address_allowed(remote_addr, account.config.allowed_ips):
        return AuthOutcome(Result.IP_NOT_ALLOWED, reason=f"{remote_addr} not in the allow-list")

    if apikey:
        if "apikey" not in account.config.auth_modes:
            return _failed(store, key, epoch, "apikey mode not enabled for this account", settings)
        return AuthOutcome(Result.OK, account, "apikey")

    mode, reason = check_password(fields, account, settings, now)
    if not mode:
        return _failed(store, key, epoch, reason, settings)
    return AuthOutcome(Result.OK, account, mode)


def check_password(
    fields: dict[str, Any], account: AccountRecord, settings: Settings, now: datetime
) -> tuple[str, str]:
    """(mode, "") when pwd is right in a mode the account has, else ("", why)."""
    cfg = account.config
    pwd = text_value(fields.get("pwd"))
    userid = text_value(fields.get("userid"))
    timestamp = text_value(fields.get("timestamp"))
    reason = "pwd does not match"
    if "md5" in cfg.auth_modes and DIGEST_RE.match(pwd.lower()) and timestamp:
        problem = timestamp_problem(timestamp, settings, now)
        # The digest is over the userid as sent; clients that upper-case it first match too.
        candidates = {
            digest(userid, cfg.password, timestamp),
            digest(cfg.userid, cfg.password, timestamp),
        }
        matched = any(secrets_equal(pwd.lower(), c) for c in candidates)
        if matched and not problem:
            return "md5", ""
        reason = problem if matched else "md5 digest does not match"
    elif "md5" in cfg.auth_modes and DIGEST_RE.match(pwd.lower()):
        reason = "timestamp missing (required in md5 mode)"
    if "plain" in cfg.auth_modes and secrets_equal(pwd, cfg.password):
        return "plain", ""
    return "", reason


def timestamp_problem(timestamp: str, settings: Settings, now: datetime) -> str:
    """§3.1 a timestamp too far from the carrier's clock may be refused; "" when fine."""
    if settings.timestamp_tolerance <= 0:
        return ""
    skew = timestamp_skew(timestamp, now)
    if skew is None:
        if settings.accept_unix_timestamp and looks_like_unix_time(
            timestamp, now, settings.timestamp_tolerance
        ):
            return ""
        return f"timestamp {timestamp!r} is not MMDDHHMMSS"
    if abs(skew) <= settings.timestamp_tolerance:
        return ""
    if settings.accept_utc_timestamp:
        # §3.1 names no time zone: a client whose clock runs in UTC is still current.
        utc_skew = timestamp_skew(timestamp, now, timezone.utc)
        if utc_skew is not None and abs(utc_skew) <= settings.timestamp_tolerance:
            return ""
    return f"timestamp {skew:+.0f} s from the carrier's clock (China time)"


def address_allowed(remote_addr: str, allowed: list[str]) -> bool:
    """-100057 unless the address lies in one of the account's networks (none: any)."""
    if not allowed:
        return True
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in allowed)


def _failed(
    store: Store | None, key: str, epoch: float, reason: str, settings: Settings
) -> AuthOutcome:
    """A failed login, counted in store (None: not counted)."""
    if key and store is not None:  # a request that names no account cannot lock one
        # kept as long as the lockout looks back: the failure log stays bounded
        store.record_auth_failure(key, epoch, keep=settings.lockout_window)
    return AuthOutcome(Result.AUTH_FAILED, reason=reason)


# W4: an accepted timestamp older than this was not made for the request carrying it.
STALE_TIMESTAMP_SECONDS = 60.0


def timestamp_warnings(timestamp: str, settings: Settings, now: datetime) -> list[str]:
    """What a real carrier takes silently in an accepted md5 request's timestamp: the
    flags of X-Mock-Warning and the message's issues (never a refusal)."""
    if not timestamp:
        return []
    skew = timestamp_skew(timestamp, now)
    if skew is None:
        if looks_like_unix_time(timestamp, now, max(settings.timestamp_tolerance, 86400.0)):
            return [f"timestamp {timestamp} is Unix seconds, not MMDDHHMMSS (accepted, A2)"]
        return []
    tolerance = settings.timestamp_tolerance
    utc_skew = timestamp_skew(timestamp, now, timezone.utc)
    if 0 < tolerance < abs(skew) and utc_skew is not None and abs(utc_skew) <= tolerance:
        return [f"timestamp {timestamp} is UTC wall time, not China time (accepted, A1)"]
    if skew < -STALE_TIMESTAMP_SECONDS:
        return [
            f"timestamp {timestamp} is {-skew:.0f} s old: a digest reused past its timestamp? "
            "make timestamp and pwd afresh for each request (W4)"
        ]
    return []
