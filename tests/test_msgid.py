"""smsapi.msgid: the §3.3 matching arithmetic, in signed 64-bit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsapi.msgid import (
    INT64_MAX,
    INT64_MIN,
    SEGMENT_STRIDE,
    expected_segment_ids,
    in_int64,
    mobile_msgid,
    segment_msgid,
    wrap_int64,
)

INT64 = st.integers(min_value=INT64_MIN, max_value=INT64_MAX)
POSITION = st.integers(min_value=1, max_value=1000)
PKNUM = st.integers(min_value=1, max_value=16)


def test_segment_stride_is_two_to_the_34():
    """§3.3 (当前分条数-1)*17179869184."""
    assert SEGMENT_STRIDE == 17179869184 == 2**34


def test_int64_bounds():
    assert INT64_MIN == -(2**63)
    assert INT64_MAX == 2**63 - 1


# ---------------------------------------------------------------- wrap_int64


def test_wrap_leaves_int64_values_alone():
    for value in (0, 1, -1, INT64_MAX, INT64_MIN, 17179869184):
        assert wrap_int64(value) == value


def test_wrap_one_past_max_is_min():
    assert wrap_int64(2**63) == -(2**63)


def test_wrap_one_below_min_is_max():
    assert wrap_int64(-(2**63) - 1) == 2**63 - 1


def test_wrap_is_modulo_two_to_the_64():
    assert wrap_int64(2**64) == 0
    assert wrap_int64(2**64 + 5) == 5
    assert wrap_int64(-(2**64) - 5) == -5


# ---------------------------------------------------------------- in_int64


def test_documents_example_msgid_is_outside_int64():
    """§2.1.6 示例 9223372036854775808 is 2^63: no Java long holds it (M1)."""
    assert not in_int64(9223372036854775808)
    assert wrap_int64(9223372036854775808) == INT64_MIN


def test_int64_edges_are_inside():
    assert in_int64(INT64_MAX)
    assert in_int64(INT64_MIN)
    assert not in_int64(INT64_MIN - 1)


# ---------------------------------------------------------------- §3.3 formulas


def test_first_mobile_has_the_answer_msgid():
    assert mobile_msgid(1000, 1) == 1000
    assert segment_msgid(1000) == 1000


def test_batch_position_adds_to_msgid():
    """§3.3 群发: msgid + 手机号位置 - 1."""
    assert mobile_msgid(1000, 3) == 1002
    assert segment_msgid(1000, 3, 1) == 1002


def test_segment_adds_multiples_of_the_stride():
    """§3.3 长短信: msgid + (当前分条数-1)*17179869184."""
    assert segment_msgid(1000, 1, 2) == 1000 + 17179869184
    assert segment_msgid(1000, 1, 15) == 1000 + 14 * 17179869184


def test_position_and_segment_combine():
    """§3.3 (msgid+(手机号位置-1))+(当前分条数-1)*17179869184."""
    assert segment_msgid(-77, 5, 3) == -77 + 4 + 2 * 17179869184


def test_arithmetic_wraps_past_max():
    """§2.1.6 msgid允许出现负数: the sum wraps in two's complement."""
    assert mobile_msgid(INT64_MAX, 2) == INT64_MIN
    assert segment_msgid(INT64_MAX, 1, 2) == INT64_MIN + 17179869184 - 1


def test_negative_msgid_walks_towards_zero():
    assert mobile_msgid(-3, 4) == 0
    assert segment_msgid(-(2**40), 1, 2) == -(2**40) + 2**34


@pytest.mark.parametrize("position", [0, -1])
def test_positions_are_one_based(position: int):
    with pytest.raises(ValueError):
        mobile_msgid(5, position)
    with pytest.raises(ValueError):
        segment_msgid(5, position, 1)


@pytest.mark.parametrize("pknum", [0, -1])
def test_pknum_is_one_based(pknum: int):
    with pytest.raises(ValueError):
        segment_msgid(5, 1, pknum)


def test_expected_segment_ids_per_mobile_in_order():
    s = SEGMENT_STRIDE
    assert expected_segment_ids(100, [1, 3, 2]) == [
        [100],
        [101, 101 + s, 101 + 2 * s],
        [102, 102 + s],
    ]


def test_expected_segment_ids_of_no_mobiles_is_empty():
    assert expected_segment_ids(100, []) == []


def test_expected_segment_ids_wrap():
    assert expected_segment_ids(INT64_MAX, [1, 1]) == [[INT64_MAX], [INT64_MIN]]


@given(INT64, POSITION, PKNUM)
def test_segment_msgid_is_the_golden_formula(msgid: int, position: int, pknum: int):
    expected = (msgid + position - 1 + (pknum - 1) * 17179869184 + 2**63) % 2**64 - 2**63
    assert segment_msgid(msgid, position, pknum) == expected


@given(st.integers(min_value=-(2**70), max_value=2**70), POSITION, PKNUM)
def test_results_are_always_int64(msgid: int, position: int, pknum: int):
    assert in_int64(segment_msgid(msgid, position, pknum))
    assert in_int64(mobile_msgid(msgid, position))
    assert in_int64(wrap_int64(msgid))


@given(st.integers(min_value=-(2**70), max_value=2**70))
def test_wrap_keeps_the_value_modulo_two_to_the_64(value: int):
    assert (wrap_int64(value) - value) % 2**64 == 0


@given(INT64, st.lists(st.integers(min_value=1, max_value=15), max_size=20))
def test_expected_segment_ids_shape(msgid: int, pktotals: list[int]):
    ids = expected_segment_ids(msgid, pktotals)
    assert [len(row) for row in ids] == pktotals
    assert all(row[0] == mobile_msgid(msgid, p) for p, row in enumerate(ids, start=1))
