"""§3.1 authentication: the md5 digest and its year-less timestamp."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache

# §3.1 userid + 固定字符串 + pwd(明文) + timestamp
FIXED_STRING = "00000000"
# The carrier is in Chongqing: timestamps are China Standard Time (UTC+8, no DST).
CHINA_TZ = timezone(timedelta(hours=8), "CST")
TIMESTAMP_RE = re.compile(r"^\d{10}$")
DIGEST_RE = re.compile(r"^[0-9a-f]{32}$")
APIKEY_LENGTH = 32  # §3.1 apikey为32位长度


def digest(userid: str, password: str, timestamp: str) -> str:
    """§3.1 pwd = md5(userid + "00000000" + password + timestamp), lower-case hex."""
    raw = f"{userid}{FIXED_STRING}{password}{timestamp}"
    return hashlib.md5(raw.encode("utf-8")).hexdigest()


def shell_credentials(userid: str, password_variable: str = "PASSWORD") -> list[str]:
    """§3.1 the same digest made by a POSIX shell, for a request replayed later: U, P (read
    from $PASSWORD_VARIABLE, never written out), a fresh TS and SIG = md5(U 00000000 P TS)."""
    quoted = "'" + userid.replace("'", "'\\''") + "'"
    return [
        f'U={quoted}; P="${{{password_variable}:?export {password_variable}=the password of '
        f'{re.sub(r"[^A-Za-z0-9_]", "", userid)}}}"',
        "TS=$(TZ=Asia/Shanghai date +%m%d%H%M%S)",
        f'SIG=$(printf \'%s{FIXED_STRING}%s%s\' "$U" "$P" "$TS" | md5sum | cut -d\' \' -f1)',
    ]


def china_now(offset_seconds: float = 0.0) -> datetime:
    """Now, in China time, moved by a clock offset (the mock's control plane)."""
    return datetime.now(CHINA_TZ) + timedelta(seconds=offset_seconds)


def format_timestamp(moment: datetime) -> str:
    """§3.1 MMDDHHMMSS, 24 h, each part zero padded to two digits."""
    return moment.astimezone(CHINA_TZ).strftime("%m%d%H%M%S")


def resolve_timestamp(timestamp: str, now: datetime, tz: timezone = CHINA_TZ) -> datetime | None:
    """The moment a year-less MMDDHHMMSS stands for: the candidate year nearest to now.

    §3.1 gives no year, so 1231235959 sent a second before New Year must resolve to
    the old year and 0101000000 to the new one, whichever side of midnight `now` is.
    The text is read as wall-clock time in tz (China time unless told otherwise).
    Returns None when the text is not a valid MMDDHHMMSS.
    """
    if not TIMESTAMP_RE.match(timestamp or ""):
        return None
    now = now.astimezone(tz)
    candidates = _candidates(timestamp, now.year, tz)
    if not candidates:
        return None
    return min(candidates, key=lambda moment: abs((moment - now).total_seconds()))


@lru_cache(maxsize=1024)
def _candidates(timestamp: str, year: int, tz: timezone) -> tuple[datetime, ...]:
    """The moments MMDDHHMMSS names in the years around `year` (a request asks up to
    three times: its check, its warnings in China time and in UTC)."""
    month, day, hour, minute, second = (int(timestamp[i : i + 2]) for i in range(0, 10, 2))
    candidates = []
    for y in (year - 1, year, year + 1):
        try:
            candidates.append(datetime(y, month, day, hour, minute, second, tzinfo=tz))
        except ValueError:  # 0230, 1340, Feb 29 outside leap years...
            continue
    return tuple(candidates)


def timestamp_skew(timestamp: str, now: datetime, tz: timezone = CHINA_TZ) -> float | None:
    """Seconds between the client's timestamp (wall clock in tz) and now; None when
    the text is not MMDDHHMMSS."""
    moment = resolve_timestamp(timestamp, now, tz)
    if moment is None:
        return None
    return (moment - now).total_seconds()


def looks_like_unix_time(timestamp: str, now: datetime, window: float = 86400.0) -> bool:
    """True when a 10-digit timestamp is really Unix seconds (a common client mistake)."""
    if not TIMESTAMP_RE.match(timestamp or ""):
        return False
    return abs(int(timestamp) - now.timestamp()) <= window


def secrets_equal(given: str, expected: str) -> bool:
    """Compare secrets in constant time (length differences aside)."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
