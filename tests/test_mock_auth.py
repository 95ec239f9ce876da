"""mockcarrier.auth: the §3.1 timestamp window and the address allow-list."""

from __future__ import annotations

from datetime import datetime

import pytest

from mockcarrier.auth import address_allowed, timestamp_problem
from mockcarrier.config import Settings
from smsapi.auth import CHINA_TZ


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


def test_unix_seconds_only_when_enabled() -> None:
    now = at("2026-11-24 12:00:00")
    unix = str(int(now.timestamp()))
    assert "not MMDDHHMMSS" in timestamp_problem(unix, Settings(), now)
    assert timestamp_problem(unix, Settings(accept_unix_timestamp=True), now) == ""


def test_allow_list_by_network() -> None:
    assert address_allowed("10.1.2.3", [])
    assert address_allowed("10.1.2.3", ["10.0.0.0/8"])
    assert not address_allowed("127.0.0.1", ["10.0.0.0/8", "192.168.1.7"])
    assert not address_allowed("not-an-address", ["10.0.0.0/8"])
