"""smsapi.auth: the §3.1 digest and its year-less MMDDHHMMSS timestamp."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from smsapi.auth import (
    CHINA_TZ,
    DIGEST_RE,
    FIXED_STRING,
    digest,
    format_timestamp,
    looks_like_unix_time,
    resolve_timestamp,
    secrets_equal,
    timestamp_skew,
)

GOLDEN_DIGEST = "26dad7f364507df18f3841cc9c4ff94d"  # §2.1.5 / §3.1


def cst(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


# ---------------------------------------------------------------- the digest (§3.1)


def test_golden_vector_of_the_document():
    """§2.1.5: J10003 / 111111 / 0803192020 → 26dad7f364507df18f3841cc9c4ff94d."""
    assert digest("J10003", "111111", "0803192020") == GOLDEN_DIGEST


def test_pre_md5_string_is_userid_fixed_string_password_timestamp():
    """§2.1.5 MD5加密之前的对应字符串: J10003000000001111110803192020."""
    raw = "J10003" + FIXED_STRING + "111111" + "0803192020"
    assert FIXED_STRING == "00000000"
    assert raw == "J10003000000001111110803192020"
    assert hashlib.md5(raw.encode()).hexdigest() == GOLDEN_DIGEST


def test_digest_is_32_lower_case_hex_characters():
    """§2.1.5 pwd 定长小写32位字符."""
    value = digest("ABCDEF", "Pass-Word", "1231235959")
    assert DIGEST_RE.match(value)
    assert value == value.lower()


def test_digest_depends_on_every_part():
    base = digest("J10003", "111111", "0803192020")
    assert digest("J10004", "111111", "0803192020") != base
    assert digest("J10003", "111112", "0803192020") != base
    assert digest("J10003", "111111", "0803192021") != base


# ---------------------------------------------------------------- format_timestamp


def test_format_timestamp_zero_pads_every_part():
    """§2.1.5 月、日、时、分、秒每段不足2位时左补0."""
    assert format_timestamp(cst(2026, 1, 2, 3, 4, 5)) == "0102030405"


def test_format_timestamp_uses_24_hour_clock():
    """§2.1.5 24小时制."""
    assert format_timestamp(cst(2025, 8, 3, 19, 20, 20)) == "0803192020"
    assert format_timestamp(cst(2025, 12, 31, 23, 59, 59)) == "1231235959"
    assert format_timestamp(cst(2025, 6, 1, 13, 0, 0)) == "0601130000"


def test_format_timestamp_is_ten_digits():
    assert len(format_timestamp(cst(2025, 11, 22, 10, 11, 12))) == 10


def test_format_timestamp_converts_utc_to_china_time():
    """The carrier is in Chongqing: an aware UTC moment is written in UTC+8."""
    moment = datetime(2025, 12, 31, 16, 0, 0, tzinfo=timezone.utc)
    assert format_timestamp(moment) == "0101000000"


def test_format_timestamp_converts_other_zones_to_china_time():
    moment = datetime(2025, 8, 3, 6, 20, 20, tzinfo=timezone(timedelta(hours=-5)))
    assert format_timestamp(moment) == "0803192020"


# ---------------------------------------------------------------- resolve_timestamp


def test_resolve_timestamp_same_day():
    now = cst(2025, 8, 3, 19, 20, 0)
    assert resolve_timestamp("0803192020", now) == cst(2025, 8, 3, 19, 20, 20)


def test_last_second_of_the_year_resolves_to_old_year_after_midnight():
    """§3.1 no year: 1231235959 sent just before New Year, read just after."""
    now = cst(2026, 1, 1, 0, 0, 1)
    assert resolve_timestamp("1231235959", now) == cst(2025, 12, 31, 23, 59, 59)


def test_first_second_of_the_year_resolves_to_new_year_before_midnight():
    now = cst(2025, 12, 31, 23, 59, 59)
    assert resolve_timestamp("0101000001", now) == cst(2026, 1, 1, 0, 0, 1)


def test_resolve_timestamp_reads_now_in_china_time():
    now = datetime(2025, 12, 31, 16, 0, 1, tzinfo=timezone.utc)  # 2026-01-01 00:00:01 CST
    assert resolve_timestamp("1231235959", now) == cst(2025, 12, 31, 23, 59, 59)


def test_feb_29_resolves_in_a_leap_year():
    now = cst(2024, 2, 28, 23, 0, 0)
    assert resolve_timestamp("0229000000", now) == cst(2024, 2, 29, 0, 0, 0)


def test_feb_29_resolves_to_the_neighbouring_leap_year():
    now = cst(2025, 1, 1, 0, 0, 0)
    assert resolve_timestamp("0229120000", now) == cst(2024, 2, 29, 12, 0, 0)


def test_feb_29_without_a_leap_year_nearby_is_invalid():
    """2025, 2026, 2027: none is a leap year."""
    assert resolve_timestamp("0229000000", cst(2026, 6, 1, 0, 0, 0)) is None


def test_thirteenth_month_is_invalid():
    assert resolve_timestamp("1301000000", cst(2025, 6, 1)) is None


def test_feb_30_is_invalid():
    assert resolve_timestamp("0230000000", cst(2024, 2, 1)) is None


def test_hour_24_is_invalid():
    assert resolve_timestamp("0801240000", cst(2025, 8, 1)) is None


def test_ten_characters_that_are_not_digits_are_invalid():
    assert resolve_timestamp("08031920ab", cst(2025, 8, 3)) is None
    assert resolve_timestamp("0803 19202", cst(2025, 8, 3)) is None


def test_nine_digits_are_invalid():
    assert resolve_timestamp("080319202", cst(2025, 8, 3)) is None


def test_eleven_digits_and_empty_are_invalid():
    assert resolve_timestamp("08031920200", cst(2025, 8, 3)) is None
    assert resolve_timestamp("", cst(2025, 8, 3)) is None


@given(
    moment=st.datetimes(
        min_value=datetime(1902, 1, 1),
        max_value=datetime(2098, 12, 31),
        timezones=st.sampled_from(
            [
                timezone.utc,
                CHINA_TZ,
                timezone(timedelta(hours=-5)),
                timezone(timedelta(hours=14)),
                timezone(timedelta(hours=-12)),
                timezone(timedelta(hours=5, minutes=30)),
            ]
        ),
    ),
    offset=st.floats(min_value=-86400, max_value=86400, allow_nan=False),
)
def test_resolve_inverts_format_within_a_day(moment: datetime, offset: float):
    """Any moment, read by a clock up to one day away, is the moment itself."""
    now = moment + timedelta(seconds=offset)
    resolved = resolve_timestamp(format_timestamp(moment), now)
    assert resolved is not None
    assert resolved.timestamp() == moment.replace(microsecond=0).timestamp()


# ---------------------------------------------------------------- skew


def test_timestamp_skew_across_new_year_is_two_seconds_behind():
    assert timestamp_skew("1231235959", cst(2026, 1, 1, 0, 0, 1)) == -2.0


def test_timestamp_skew_ahead_is_positive():
    assert timestamp_skew("0803192030", cst(2025, 8, 3, 19, 20, 20)) == 10.0


def test_timestamp_skew_of_an_invalid_timestamp_is_none():
    assert timestamp_skew("1301000000", cst(2025, 8, 3)) is None
    assert timestamp_skew("abc", cst(2025, 8, 3)) is None


def test_timestamp_skew_reads_a_utc_clock_as_china_time():
    now = datetime(2025, 8, 3, 11, 20, 20, tzinfo=timezone.utc)  # 19:20:20 CST
    assert timestamp_skew("0803192020", now) == 0.0


# ---------------------------------------------------------------- Unix seconds


def test_unix_seconds_are_recognised():
    """Some clients send time.time() as the 10-digit timestamp."""
    now = cst(2026, 1, 1, 0, 0, 1)
    assert looks_like_unix_time(str(int(now.timestamp())), now)
    assert looks_like_unix_time(str(int(now.timestamp()) - 3600), now)


def test_mmddhhmmss_is_not_unix_seconds():
    now = cst(2025, 8, 3, 19, 20, 20)
    assert not looks_like_unix_time("0803192020", now)


def test_unix_seconds_outside_the_window_are_not_recognised():
    now = cst(2026, 1, 1, 0, 0, 1)
    assert not looks_like_unix_time(str(int(now.timestamp()) - 86401), now)
    assert not looks_like_unix_time(str(int(now.timestamp()) - 100), now, window=10)


def test_non_digit_timestamp_is_not_unix_seconds():
    now = cst(2026, 1, 1)
    assert not looks_like_unix_time("", now)
    assert not looks_like_unix_time("17671968xx", now)
    assert not looks_like_unix_time(str(int(now.timestamp())) + "0", now)


# ---------------------------------------------------------------- secrets_equal


def test_equal_secrets_compare_equal():
    assert secrets_equal(GOLDEN_DIGEST, GOLDEN_DIGEST)


def test_different_secrets_compare_unequal():
    assert not secrets_equal(GOLDEN_DIGEST, GOLDEN_DIGEST[:-1] + "e")
    assert not secrets_equal(GOLDEN_DIGEST, GOLDEN_DIGEST[:-1])
    assert not secrets_equal("", "x")


def test_secrets_equal_accepts_non_ascii():
    assert secrets_equal("密码", "密码")
    assert not secrets_equal("密码", "密碼")
