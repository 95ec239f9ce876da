"""smsapi.matching: how a status report finds its segment (§3.3) and what it says (§2.5.6)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from smsapi.matching import (
    custid_key,
    names_other_message,
    owner_msgid,
    report_delivered,
    report_msgid,
    report_pknum,
    report_pktotal,
)
from smsapi.msgid import INT64_MAX, INT64_MIN, SEGMENT_STRIDE, mobile_msgid, segment_msgid

int64 = st.integers(INT64_MIN, INT64_MAX)


@given(int64, st.integers(1, 1000), st.integers(1, 15))
def test_owner_msgid_inverts_the_segment_formula(msgid: int, position: int, pknum: int) -> None:
    segment = segment_msgid(msgid, position, pknum)
    assert owner_msgid(segment, pknum) == mobile_msgid(msgid, position)


def test_owner_msgid_of_a_short_message_is_the_id_itself() -> None:
    assert owner_msgid(12345) == 12345
    assert owner_msgid(12345 + SEGMENT_STRIDE, 2) == 12345


def test_owner_msgid_wraps_below_int64_min() -> None:
    assert owner_msgid(INT64_MIN, 2) == INT64_MAX - SEGMENT_STRIDE + 1


def test_custid_key_is_custid_and_the_mobiles_national_form() -> None:
    assert custid_key("c1", "13800138000") == ("c1", "13800138000")
    assert custid_key("c1", "008613800138000") == custid_key("c1", "13800138000")
    assert custid_key("c2", "13800138000") != custid_key("c1", "13800138000")


def test_report_delivered_only_for_status_zero() -> None:
    assert report_delivered({"status": 0})
    assert report_delivered({"status": "0"})
    assert not report_delivered({"status": 1})
    assert not report_delivered({"status": ""})
    assert not report_delivered({})


def test_report_msgid_reads_numbers_and_numeric_strings() -> None:
    assert report_msgid({"msgid": -42}) == -42
    assert report_msgid({"msgid": "9223372036854775807"}) == INT64_MAX
    assert report_msgid({"msgid": "x"}) is None
    assert report_msgid({}) is None


def test_report_msgid_wraps_the_documents_2_to_the_63() -> None:
    # §2.1.8 example 9223372036854775808 is 2^63: read as it wraps in a signed long
    assert report_msgid({"msgid": 9223372036854775808}) == INT64_MIN


def test_pknum_and_pktotal_default_to_one() -> None:
    assert report_pknum({}) == 1 and report_pktotal({}) == 1
    assert report_pknum({"pknum": 0, "pktotal": 0}) == 1  # short as some carriers write it
    assert report_pknum({"pknum": "2"}) == 2 and report_pktotal({"pktotal": 3}) == 3


def test_a_report_names_another_message_by_its_mobile_or_custid() -> None:
    assert names_other_message({"mobile": "13012345678"}, "13800138000", "c1")
    assert names_other_message({"custid": "c2"}, "13800138000", "c1")
    assert not names_other_message(
        {"mobile": "008613800138000", "custid": "c1"}, "13800138000", "c1"
    )
    assert not names_other_message({"custid": ""}, "13800138000", "c1")  # custid missing
    assert not names_other_message({}, "13800138000", "c1")
