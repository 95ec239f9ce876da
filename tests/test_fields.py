"""smsapi.fields and effective_retsize: the rules of the request tables."""

from __future__ import annotations

import pytest

from smsapi.endpoints import ENDPOINTS, effective_retsize
from smsapi.errors import Result
from smsapi.fields import (
    custom_field_rule,
    effective_exno,
    int_value,
    spno,
    svrtype_rule,
    text_value,
    userid_rule,
)

CHANNEL = "10690012122"  # tender §2.1.2: ends in 12122


# ---------------------------------------------------------------- svrtype (§2.1.5)


def test_svrtype_of_ten_letters_and_digits_is_valid():
    """§2.1.5 最大可支持10个长度的英文字母、数字组合的字符串."""
    assert svrtype_rule("SMS0012345") is None
    assert svrtype_rule("SMS001") is None


def test_empty_svrtype_is_valid():
    """F1: empty means absent."""
    assert svrtype_rule("") is None


def test_svrtype_of_eleven_characters_is_refused():
    assert svrtype_rule("SMS00123456") is Result.SVRTYPE_INVALID
    assert Result.SVRTYPE_INVALID == -100252


@pytest.mark.parametrize("svrtype", ["SMS-1", "SMS_1", "SMS 1", "短信", "a.b"])
def test_svrtype_with_other_characters_is_refused(svrtype: str):
    assert svrtype_rule(svrtype) is Result.SVRTYPE_INVALID


# ---------------------------------------------------------------- custid / exdata


def test_custom_field_of_64_allowed_characters_is_valid():
    """§2.1.5 最大可支持64位的ASCII字符串：字母、数字、下划线、减号."""
    assert custom_field_rule("a" * 64) is None
    assert custom_field_rule("b3d0a2783d31b21b8573") is None
    assert custom_field_rule("Order_2025-08-03") is None
    assert custom_field_rule("") is None


def test_custom_field_of_65_characters_is_too_long():
    """§4 -100253 自定义参数超长."""
    assert custom_field_rule("a" * 65) is Result.CUSTOM_PARAM_TOO_LONG
    assert Result.CUSTOM_PARAM_TOO_LONG == -100253


@pytest.mark.parametrize("value", ["a.b", "a b", "a/b", "订单1", "a+b", "a%20b"])
def test_custom_field_with_other_characters_is_invalid(value: str):
    """§4 -100004 custid或者exdata字段填写不合法."""
    assert custom_field_rule(value) is Result.CUSTOM_FIELD_INVALID
    assert Result.CUSTOM_FIELD_INVALID == -100004


def test_too_long_wins_over_bad_characters():
    assert custom_field_rule("." * 65) is Result.CUSTOM_PARAM_TOO_LONG


# ---------------------------------------------------------------- exno (§2.1.5, F10)


def test_exno_of_up_to_six_digits_is_kept():
    assert effective_exno("0006", CHANNEL) == "0006"
    assert effective_exno("123456", CHANNEL) == "123456"
    assert effective_exno("", CHANNEL) == ""


def test_exno_of_seven_digits_is_ignored():
    """§2.1.5 扩展号：长度不能超过6位 (ignored, not refused: F10)."""
    assert effective_exno("1234567", CHANNEL) == ""


@pytest.mark.parametrize("exno", ["12a", "abc", " 12", "-1", "1.5"])
def test_exno_with_non_digits_is_ignored(exno: str):
    assert effective_exno(exno, CHANNEL) == ""


def test_channel_plus_exno_over_twenty_digits_is_ignored():
    """§2.1.5 通道号+扩展号的总长度不能超过20位，若超出则exno无效."""
    channel = "1069001212212122"  # 16 digits
    assert effective_exno("1234", channel) == "1234"  # 20
    assert effective_exno("12345", channel) == ""  # 21


def test_spno_is_channel_then_exno():
    """§2.4.6 spno 完整的通道号."""
    assert spno(CHANNEL, "0006") == "106900121220006"
    assert spno(CHANNEL, "") == CHANNEL


# ---------------------------------------------------------------- userid


def test_userid_of_one_to_six_characters():
    """§2.1.5 userid 长度最大6个字符."""
    assert userid_rule("J10003")
    assert userid_rule("A")
    assert not userid_rule("J100031")
    assert not userid_rule("")


# ---------------------------------------------------------------- text_value


def test_absent_and_null_are_empty_text():
    assert text_value(None) == ""


def test_numbers_become_text():
    """C13: clients send "mobile":13800138000."""
    assert text_value(13800138000) == "13800138000"
    assert text_value(0) == "0"
    assert text_value(1.5) == "1.5"


def test_booleans_become_one_and_zero():
    assert text_value(True) == "1"
    assert text_value(False) == "0"


def test_whitespace_around_values_is_trimmed():
    """C8: the document's " SMS001" and "…94d "."""
    assert text_value(" SMS001") == "SMS001"
    assert text_value("26dad7f364507df18f3841cc9c4ff94d ") == "26dad7f364507df18f3841cc9c4ff94d"
    assert text_value("\t\n x \r\n") == "x"
    assert text_value("   ") == ""


def test_whitespace_inside_values_is_kept():
    assert text_value(" a b ") == "a b"


def test_lists_and_objects_are_not_scalars():
    assert text_value([1, 2]) == ""
    assert text_value({"a": 1}) == ""


# ---------------------------------------------------------------- int_value


def test_int_value_reads_json_numbers_and_text():
    assert int_value(300) == 300
    assert int_value("300") == 300
    assert int_value(" -1 ") == -1
    assert int_value("+5") == 5
    assert int_value(0) == 0


@pytest.mark.parametrize("value", [None, "", "abc", "1.5", 1.5, True, False, [], {}, "1e3"])
def test_int_value_of_something_else_is_none(value):
    """C13: a retsize that is not an integer means absent."""
    assert int_value(value) is None


# ---------------------------------------------------------------- retsize (§2.4.5 / §2.5.5)


def test_retsize_caps_of_the_document():
    assert ENDPOINTS["get_mo"].retsize_cap == 200
    assert ENDPOINTS["get_rpt"].retsize_cap == 500


@pytest.mark.parametrize("cap", [200, 500])
def test_absent_retsize_is_the_cap(cap: int):
    assert effective_retsize(None, cap) == cap


@pytest.mark.parametrize("value", [0, -1, -500])
@pytest.mark.parametrize("cap", [200, 500])
def test_retsize_of_zero_or_less_is_the_cap(value: int, cap: int):
    """§2.4.5 / §2.5.5 小于等于0或不填时，系统返回默认条数."""
    assert effective_retsize(value, cap) == cap


@pytest.mark.parametrize("cap", [200, 500])
def test_retsize_over_the_cap_is_the_cap(cap: int):
    assert effective_retsize(cap + 1, cap) == cap
    assert effective_retsize(10**9, cap) == cap


def test_retsize_within_the_cap_is_kept():
    assert effective_retsize(1, 200) == 1
    assert effective_retsize(200, 200) == 200
    assert effective_retsize(300, 500) == 300  # §2.5.7 asks retsize=300


def test_parse_time_reads_only_the_documents_format() -> None:
    from smsapi.fields import parse_time

    assert parse_time("2016-08-04 17:38:59").second == 59
    assert parse_time("2016-08-04T17:38:59") is None
    assert parse_time(20160804) is None
