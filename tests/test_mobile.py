"""smsapi.mobile: §3.2 number rules and the operator of a number."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsapi.mobile import (
    Operator,
    classify,
    mainland_operator,
    segment_operator,
    split_mobiles,
)

MAINLAND = re.compile(r"1[3-9]\d{9}")  # the platforms' rule, as a regular expression


@pytest.mark.parametrize(
    ("number", "operator"),
    [
        ("13800138000", Operator.CHINA_MOBILE),
        ("13912345678", Operator.CHINA_MOBILE),
        ("15012345678", Operator.CHINA_MOBILE),
        ("18812345678", Operator.CHINA_MOBILE),
        ("13000000000", Operator.CHINA_UNICOM),
        ("13112345678", Operator.CHINA_UNICOM),
        ("18612345678", Operator.CHINA_UNICOM),
        ("18900000000", Operator.CHINA_TELECOM),
        ("13312345678", Operator.CHINA_TELECOM),
        ("18012345678", Operator.CHINA_TELECOM),
        ("19912345678", Operator.CHINA_TELECOM),
    ],
)
def test_mainland_numbers_by_prefix(number: str, operator: Operator):
    result = classify(number)
    assert result.operator is operator
    assert result.valid
    assert result.national == number


def test_1349_is_telecom_while_1340_is_mobile():
    """The longest prefix wins: 1349 (satellite, Telecom) inside China Mobile's 134."""
    assert classify("13490000000").operator is Operator.CHINA_TELECOM
    assert classify("13400000000").operator is Operator.CHINA_MOBILE
    assert classify("13480000000").operator is Operator.CHINA_MOBILE


def test_192_is_valid_and_rides_china_mobile():
    """192 (China Broadnet) is carried on China Mobile's network."""
    result = classify("19212345678")
    assert result.valid
    assert result.operator is Operator.CHINA_MOBILE


def test_virtual_operator_blocks_go_to_their_host():
    assert classify("17001234567").operator is Operator.CHINA_TELECOM
    assert classify("17041234567").operator is Operator.CHINA_UNICOM
    assert classify("17051234567").operator is Operator.CHINA_MOBILE


def test_unallocated_segment_is_invalid():
    assert classify("12012345678").operator is Operator.INVALID
    assert classify("11012345678").operator is Operator.INVALID
    assert not classify("12012345678").valid


def test_0086_prefix_is_a_mainland_number():
    """§3.2.4 mixed batches write mainland numbers as 0086 + number."""
    result = classify("008613800138000")
    assert result.operator is Operator.CHINA_MOBILE
    assert result.national == "13800138000"
    assert result.raw == "008613800138000"


def test_0086_with_a_bad_national_number_is_invalid():
    assert classify("008612012345678").operator is Operator.INVALID
    assert classify("00861380013800").operator is Operator.INVALID  # 10 digits after 0086
    assert classify("0086138001380001").operator is Operator.INVALID  # 12 digits after 0086


def test_international_number_is_valid():
    """§3.2 国外号码: 00 + 国际电话区号 + 手机号码."""
    result = classify("0085291234567")
    assert result.operator is Operator.INTERNATIONAL
    assert result.valid
    assert result.national == "0085291234567"


def test_international_number_too_short_or_too_long_is_invalid():
    assert not classify("00852123").valid
    assert not classify("00" + "1" * 16).valid


def test_international_zero_country_code_is_invalid():
    assert not classify("000123456789").valid


@pytest.mark.parametrize(
    "number",
    [
        "+8613800138000",
        "+85291234567",
        "1380013800",  # 10 digits
        "138001380001",  # 12 digits
        "23800138000",
        "1380013800a",
        "138-0013-8000",
        "",
    ],
)
def test_malformed_numbers_are_invalid(number: str):
    result = classify(number)
    assert result.operator is Operator.INVALID
    assert not result.valid


def test_whitespace_around_a_number_is_trimmed_raw_is_kept():
    result = classify(" 13800138000 ")
    assert result.valid
    assert result.national == "13800138000"
    assert result.raw == " 13800138000 "


def test_mainland_operator_needs_eleven_digits():
    assert mainland_operator("13800138000") is Operator.CHINA_MOBILE
    assert mainland_operator("1380013800") is Operator.INVALID


@given(
    st.one_of(
        st.text(max_size=13),
        st.from_regex(MAINLAND, fullmatch=True),
        st.text(alphabet="0123456789\n٣١", min_size=10, max_size=12),
    )
)
def test_a_mainland_number_is_exactly_one_then_3_to_9_then_nine_digits(number: str) -> None:
    """mainland_operator checks the rule by string methods: it agrees with the regular
    expression on every text (Unicode digits included, a trailing newline refused)."""
    assert (mainland_operator(number) is not Operator.INVALID) == bool(MAINLAND.fullmatch(number))


@given(
    st.one_of(
        st.from_regex(MAINLAND, fullmatch=True),
        st.from_regex(r"1349\d{7}|134[0-8]\d{7}|170[0-2]\d{7}", fullmatch=True),
    )
)
def test_the_segment_table_names_the_longest_prefix_operator(number: str) -> None:
    """mainland_operator reads a table of the first four digits: it names the operator
    of the longest allocated prefix, as the prefix list does (Unicode digits included)."""
    assert mainland_operator(number) is segment_operator(number)


def test_operator_labels():
    assert Operator.CHINA_MOBILE.label_zh == "中国移动"
    assert Operator.CHINA_UNICOM.label_zh == "中国联通"
    assert Operator.CHINA_TELECOM.label_zh == "中国电信"


def test_split_mobiles_on_commas_and_trims():
    """§2.2.5 多个手机号请用英文逗号分隔."""
    assert split_mobiles(" 13800138000, 13000000000 ,18900000000") == [
        "13800138000",
        "13000000000",
        "18900000000",
    ]


def test_split_mobiles_keeps_empty_items():
    assert split_mobiles("13800138000,,18900000000,") == ["13800138000", "", "18900000000", ""]


def test_split_mobiles_single_number():
    assert split_mobiles("13800138000") == ["13800138000"]
