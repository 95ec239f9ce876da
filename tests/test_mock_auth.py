"""mockcarrier.auth: the §3.1 timestamp window and the address allow-list."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from mockcarrier.auth import (
    VAGUE_REASON,
    address_allowed,
    authenticate,
    timestamp_problem,
    timestamp_warnings,
)
from mockcarrier.config import AccountConfig, Settings
from mockcarrier.replay import DigestLedger
from mockcarrier.snapshot import Snapshots
from mockcarrier.stores.sqlite import SqliteStore
from smsapi.auth import CHINA_TZ, china_now, digest, format_timestamp
from smsapi.errors import Result


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA_TZ)


@pytest.mark.parametrize(
    "now, timestamp",
    [
        ("2026-12-31 23:59:59", "0101000001"),  # client clock already in the new year
        ("2027-01-01 00:00:01", "1231235959"),  # client clock still in the old year
        ("2028-02-29 12:00:00", "0229115930"),  # leap day
    ],
)
def test_timestamp_window_works_across_new_year(now: str, timestamp: str) -> None:
    assert timestamp_problem(timestamp, Settings(), at(now)) == ""


def test_timestamp_outside_tolerance_is_a_problem() -> None:
    settings = Settings(timestamp_tolerance=300)
    assert "from the carrier's clock" in timestamp_problem(
        "0101001000", settings, at("2027-01-01 00:00:00")
    )
    assert timestamp_problem("0101000400", settings, at("2027-01-01 00:00:00")) == ""


def test_a_timestamp_in_utc_wall_time_is_current_unless_turned_off() -> None:
    now = at("2026-11-24 20:00:00")  # 12:00 UTC
    assert timestamp_problem("1124120000", Settings(), now) == ""
    assert "China time" in timestamp_problem(
        "1124120000", Settings(accept_utc_timestamp=False), now
    )
    assert timestamp_problem("1124160000", Settings(), now) != ""  # neither clock


def test_tolerance_zero_turns_the_check_off() -> None:
    assert (
        timestamp_problem("0615120000", Settings(timestamp_tolerance=0), at("2027-01-01 00:00:00"))
        == ""
    )


def test_unix_seconds_accepted_by_default_and_refused_when_switched_off() -> None:
    now = at("2026-11-24 12:00:00")
    unix = str(int(now.timestamp()))
    assert timestamp_problem(unix, Settings(), now) == ""  # A2: real carriers take them
    assert "not MMDDHHMMSS" in timestamp_problem(unix, Settings(accept_unix_timestamp=False), now)


def test_allow_list_by_network() -> None:
    assert address_allowed("10.1.2.3", [])
    assert address_allowed("10.1.2.3", ["10.0.0.0/8"])
    assert not address_allowed("127.0.0.1", ["10.0.0.0/8", "192.168.1.7"])
    assert not address_allowed("not-an-address", ["10.0.0.0/8"])


def test_accepted_timestamps_carry_the_flags_a_real_carrier_keeps_quiet() -> None:
    now = at("2026-11-24 12:00:00")
    settings = Settings()
    assert timestamp_warnings("1124120000", settings, now) == []
    assert "Unix seconds" in timestamp_warnings(str(int(now.timestamp())), settings, now)[0]
    assert "reused past its timestamp" in timestamp_warnings("1124115500", settings, now)[0]
    assert "UTC wall time" in timestamp_warnings("1124040000", settings, now)[0]


# ---------------------------------------------------------------- replay and guessing (issue 19)

KEY = "abade5589e2798f82f006bbc36d269ce"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(str(tmp_path / "auth.db"))
    s.ensure_accounts(
        [
            AccountConfig(
                userid="J10003", password="111111", apikey=KEY, auth_modes=["md5", "apikey"]
            )
        ]
    )
    yield s
    s.close()


@pytest.fixture
def cache(store: SqliteStore) -> Snapshots:
    """The accounts and the lockout as a carrier reads them (mockcarrier.snapshot)."""
    return Snapshots(store, Settings())


def md5_fields(timestamp: str | None = None, password: str = "111111") -> dict[str, str]:
    timestamp = timestamp or format_timestamp(china_now())
    return {
        "userid": "J10003",
        "pwd": digest("J10003", password, timestamp),
        "timestamp": timestamp,
    }


def test_reasons_do_not_tell_whether_a_userid_exists(cache: Snapshots) -> None:
    now = china_now()
    unknown = authenticate({"userid": "NOBODY", "pwd": "x"}, "10.0.0.1", cache, Settings(), now)
    wrong = authenticate(md5_fields(password="nope"), "10.0.0.1", cache, Settings(), now)
    assert unknown.result == wrong.result == Result.AUTH_FAILED
    assert unknown.reason == wrong.reason == VAGUE_REASON


def test_verbose_reasons_tell_what_was_wrong(cache: Snapshots) -> None:
    verbose = Settings(verbose_reasons=True)
    now = china_now()
    unknown = authenticate({"userid": "NOBODY", "pwd": "x"}, "10.0.0.1", cache, verbose, now)
    wrong = authenticate(md5_fields(password="nope"), "10.0.0.1", cache, verbose, now)
    assert unknown.reason == "unknown account" and "does not match" in wrong.reason


def test_apikey_guesses_lock_the_address_out_of_apikey_mode(cache: Snapshots) -> None:
    settings = Settings(lockout_failures=3)
    now = china_now()
    for n in range(3):
        guess = authenticate({"apikey": f"{n:032d}"}, "10.0.0.9", cache, settings, now)
        assert guess.result == Result.AUTH_FAILED
    # the right key from that address: locked too, or guessing would go on
    right = authenticate({"apikey": KEY}, "10.0.0.9", cache, settings, now)
    assert right.result == Result.AUTH_LOCKED
    elsewhere = authenticate({"apikey": KEY}, "10.0.0.10", cache, settings, now)
    assert elsewhere.ok


def test_a_digest_is_refused_once_its_reuse_window_passed(cache: Snapshots) -> None:
    # A timestamp no other test signs with: the replay ledger is the process's, and a
    # digest another test made in the same second would already be past its window.
    fields = md5_fields(format_timestamp(china_now() - timedelta(seconds=2)))
    settings = Settings(digest_reuse_window=0.2)
    now = china_now()
    assert authenticate(fields, "10.0.0.1", cache, settings, now).ok
    assert authenticate(fields, "10.0.0.1", cache, settings, now).ok  # a burst in one second
    deadline = time.monotonic() + 5
    while True:  # until the window passed (a poll, not a fixed sleep)
        replay = authenticate(fields, "10.0.0.1", cache, settings, now)
        if not replay.ok:
            break
        assert time.monotonic() < deadline, "a replayed digest was never refused"
    assert replay.result == Result.AUTH_FAILED and "replayed" in replay.reason
    # a fresh digest still works, and the refusals locked nothing
    fresh = md5_fields(format_timestamp(china_now() + timedelta(seconds=3)))
    assert authenticate(fresh, "10.0.0.1", cache, settings, now).ok


def test_digest_reuse_is_unlimited_when_turned_off(cache: Snapshots) -> None:
    fields = md5_fields()
    settings = Settings(digest_reuse_window=0)
    for _ in range(3):
        assert authenticate(fields, "10.0.0.1", cache, settings, china_now()).ok


def test_the_ledger_forgets_the_oldest_past_its_limit() -> None:
    ledger = DigestLedger(limit=2)
    for n in range(3):
        assert not ledger.replayed(("U", str(n), "t"), window=10, now=0.0)
    assert not ledger.replayed(("U", "0", "t"), window=10, now=100.0)  # forgotten: new again
    assert ledger.replayed(("U", "0", "t"), window=10, now=200.0)


def test_the_failure_log_stays_bounded(store: SqliteStore, cache: Snapshots) -> None:
    """Each unknown userid adds a row; rows older than the lockout window go."""
    settings = Settings(lockout_window=60)
    start = china_now()
    for n in range(50):
        authenticate({"userid": f"U{n:04d}", "pwd": "x"}, "10.0.0.1", cache, settings, start)
    later = start + timedelta(seconds=120)
    authenticate({"userid": "LATE01", "pwd": "x"}, "10.0.0.1", cache, settings, later)
    rows = store._read("SELECT COUNT(*) AS n FROM auth_failures")[0]["n"]
    assert rows == 1
