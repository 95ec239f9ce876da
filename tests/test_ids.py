"""mockcarrier.ids: the mock's msgid layout, built so §3.3 arithmetic never collides."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from mockcarrier.ids import (
    COUNTER_LIMIT,
    MAX_SEGMENTS,
    PREFIX_MAX,
    PREFIX_MIN,
    check_prefix,
    compose,
    decompose,
    message_msgid,
)
from smsapi.msgid import SEGMENT_STRIDE, in_int64, mobile_msgid, segment_msgid

PREFIX = st.integers(min_value=PREFIX_MIN, max_value=PREFIX_MAX)
COUNTER = st.integers(min_value=1, max_value=COUNTER_LIMIT - 1)
PKNUM = st.integers(min_value=1, max_value=MAX_SEGMENTS)


def test_layout_constants():
    assert COUNTER_LIMIT == SEGMENT_STRIDE == 2**34
    assert MAX_SEGMENTS == 16  # ≥ 15 segments of a 1000-character text
    assert PREFIX_MIN == -(2**25)
    assert PREFIX_MAX == 2**25 - 1


def test_compose_small_values():
    assert compose(0, 1) == 1
    assert compose(0, 1, 2) == 1 + 2**34
    assert compose(1, 5) == 2**38 + 5


def test_negative_prefix_gives_negative_ids():
    """§2.1.6 msgid允许出现负数."""
    assert compose(-1, 1) < 0
    assert compose(PREFIX_MIN, 1) < 0
    assert decompose(compose(-1, 7, 3)) == (-1, 7, 3)


def test_ids_are_never_zero():
    """§2.1.6 平台流水号：非0 (0 means failure)."""
    assert compose(0, 1) != 0
    assert compose(-1, COUNTER_LIMIT - 1, MAX_SEGMENTS) != 0


@given(PREFIX, COUNTER, PKNUM)
def test_compose_decompose_round_trip(prefix: int, counter: int, pknum: int):
    msgid = compose(prefix, counter, pknum)
    assert in_int64(msgid)
    assert msgid != 0
    assert decompose(msgid) == (prefix, counter, pknum)


@given(PREFIX, COUNTER, PKNUM, COUNTER, PKNUM)
def test_distinct_counter_pknum_pairs_give_distinct_ids(
    prefix: int, c1: int, k1: int, c2: int, k2: int
):
    assume((c1, k1) != (c2, k2))
    assert compose(prefix, c1, k1) != compose(prefix, c2, k2)


@given(PREFIX, PREFIX, COUNTER, PKNUM)
def test_distinct_prefixes_give_distinct_ids(p1: int, p2: int, counter: int, pknum: int):
    assume(p1 != p2)
    assert compose(p1, counter, pknum) != compose(p2, counter, pknum)


@given(
    PREFIX,
    st.integers(min_value=1, max_value=COUNTER_LIMIT - 1),
    st.integers(min_value=1, max_value=1000),
    PKNUM,
)
def test_client_arithmetic_lands_on_the_mocks_id(
    prefix: int, counter: int, position: int, pknum: int
):
    """§3.3: (msgid + (p - 1)) + (k - 1) * 2^34, computed by a client from the answer's
    msgid, is exactly the id the mock gave segment k of the mobile at position p."""
    assume(counter + position - 1 < COUNTER_LIMIT)
    answer_msgid = compose(prefix, counter)
    assert segment_msgid(answer_msgid, position, pknum) == compose(
        prefix, counter + position - 1, pknum
    )


@given(
    PREFIX,
    st.integers(min_value=1, max_value=COUNTER_LIMIT - 1),
    st.integers(min_value=1, max_value=1000),
)
def test_mobile_position_walks_the_counter(prefix: int, counter: int, position: int):
    assume(counter + position - 1 < COUNTER_LIMIT)
    assert mobile_msgid(compose(prefix, counter), position) == compose(
        prefix, counter + position - 1
    )


def test_client_arithmetic_at_the_edges():
    top = COUNTER_LIMIT - 1
    for prefix in (PREFIX_MIN, -1, 0, PREFIX_MAX):
        assert segment_msgid(compose(prefix, 1), top, MAX_SEGMENTS) == compose(
            prefix, top, MAX_SEGMENTS
        )


@pytest.mark.parametrize("counter", [0, -1, COUNTER_LIMIT, COUNTER_LIMIT + 1])
def test_counter_out_of_range_is_refused(counter: int):
    with pytest.raises(ValueError):
        compose(0, counter)


@pytest.mark.parametrize("pknum", [0, -1, MAX_SEGMENTS + 1])
def test_pknum_out_of_range_is_refused(pknum: int):
    with pytest.raises(ValueError):
        compose(0, 1, pknum)


@pytest.mark.parametrize("prefix", [PREFIX_MIN - 1, PREFIX_MAX + 1, 2**40, -(2**40)])
def test_check_prefix_refuses_out_of_range(prefix: int):
    with pytest.raises(ValueError):
        check_prefix(prefix)


@pytest.mark.parametrize("prefix", [PREFIX_MIN, -1, 0, 0x1A2B3C, PREFIX_MAX])
def test_check_prefix_accepts_in_range(prefix: int):
    assert check_prefix(prefix) == prefix


@pytest.mark.parametrize("prefix", [PREFIX_MIN - 1, PREFIX_MAX + 1])
def test_compose_refuses_prefix_out_of_range(prefix: int):
    with pytest.raises(ValueError):
        compose(prefix, 1)


@given(PREFIX, COUNTER, st.integers(min_value=1, max_value=1000), PKNUM)
def test_any_section_3_3_id_reads_back_to_its_message(prefix, counter, position, pknum):
    assume(counter + position - 1 < COUNTER_LIMIT)
    base = compose(prefix, counter)
    assert message_msgid(segment_msgid(base, position, pknum)) == mobile_msgid(base, position)


def test_an_id_with_no_counter_names_no_message():
    assert message_msgid(0) is None
    assert message_msgid(compose(5, 1) - 1) is None
