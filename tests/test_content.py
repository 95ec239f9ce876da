"""smsapi.content: §2.1.5 MT content is urlencoded GBK, §2.4.6 MO content urlencoded UTF-8."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsapi.content import (
    decode_mo_content,
    decode_mt_content,
    encode_mo_content,
    encode_mt_content,
    is_percent_encoded,
    lost_text_issue,
    read_mt_content,
    urlencode_text,
)

EXAMPLE_TEXT = "验证码：6666，打死都不要告诉别人哦！"
# §2.1.5 短信内容进行urlencode编码后 (GBK)
EXAMPLE_GBK = (
    "%d1%e9%d6%a4%c2%eb%a3%ba6666%a3%ac%b4%f2%cb%c0%b6%bc%b2%bb%d2%aa%b8%e6%cb%df"
    "%b1%f0%c8%cb%c5%b6%a3%a1"
)
# §2.4.6 短信内容进行urlencode编码后 (UTF-8)
EXAMPLE_UTF8 = (
    "%e9%aa%8c%e8%af%81%e7%a0%81%ef%bc%9a6666%ef%bc%8c%e6%89%93%e6%ad%bb%e9%83%bd"
    "%e4%b8%8d%e8%a6%81%e5%91%8a%e8%af%89%e5%88%ab%e4%ba%ba%e5%93%a6%ef%bc%81"
)
TEST_SMS_GBK = "%b2%e2%ca%d4%b6%cc%d0%c5"  # §2.1.7 / §2.7.5 测试短信


def gbk_encodable(text: str) -> bool:
    try:
        text.encode("gbk")
    except UnicodeEncodeError:
        return False
    return True


# ---------------------------------------------------------------- golden vectors


def test_mt_content_is_the_documents_gbk_string():
    """§2.1.5 urlencode（GBK明文）, byte for byte as the document writes it."""
    assert encode_mt_content(EXAMPLE_TEXT) == EXAMPLE_GBK


def test_mo_content_is_the_documents_utf8_string():
    """§2.4.6 urlencode（UTF-8明文）."""
    assert encode_mo_content(EXAMPLE_TEXT) == EXAMPLE_UTF8


def test_escapes_are_lower_case_hex_and_digits_stay_unescaped():
    encoded = encode_mt_content(EXAMPLE_TEXT)
    assert "6666" in encoded
    assert re.findall(r"%[0-9A-Fa-f]{2}", encoded) == re.findall(r"%[0-9a-f]{2}", encoded)


def test_letters_digits_and_unreserved_marks_stay_unescaped():
    assert urlencode_text("Ab9-_.~", "gbk") == "Ab9-_.~"


def test_reserved_characters_are_all_escaped():
    assert urlencode_text("a b&c=d+e%f/g", "gbk") == "a%20b%26c%3dd%2be%25f%2fg"


def test_gbk_example_decodes_to_test_sms():
    """§2.1.7 / §2.7.5 %b2%e2%ca%d4%b6%cc%d0%c5 is 测试短信 in GBK."""
    decoded = decode_mt_content(TEST_SMS_GBK)
    assert decoded.text == "测试短信"
    assert decoded.issues == []


def test_document_strings_decode_back():
    assert decode_mt_content(EXAMPLE_GBK).text == EXAMPLE_TEXT
    assert decode_mo_content(EXAMPLE_UTF8).text == EXAMPLE_TEXT


def test_upper_case_escapes_are_read_too():
    assert decode_mt_content(TEST_SMS_GBK.upper()).text == "测试短信"


def test_mo_content_can_be_read_as_gbk():
    """§2.7.5's push example carries GBK: the charset is a parameter."""
    assert decode_mo_content(TEST_SMS_GBK, "gbk").text == "测试短信"
    assert encode_mo_content("测试短信", "gbk") == TEST_SMS_GBK


def test_mt_encoding_refuses_characters_gbk_lacks():
    with pytest.raises(UnicodeEncodeError):
        encode_mt_content("😀")


def test_mo_encoding_replaces_characters_the_charset_lacks():
    assert encode_mo_content("a😀", "gbk") == "a%3f"


# ---------------------------------------------------------------- decode issues


def test_raw_non_ascii_is_flagged_and_kept():
    decoded = decode_mt_content("测试短信")
    assert decoded.text == "测试短信"
    assert len(decoded.issues) == 1
    assert "not urlencoded" in decoded.issues[0]


def test_percent_that_starts_no_escape_is_flagged():
    decoded = decode_mt_content("100%zz")
    assert decoded.text == "100%zz"
    assert any("'%'" in issue for issue in decoded.issues)


def test_trailing_percent_is_flagged():
    assert decode_mt_content("50%").issues


def test_bytes_that_are_not_gbk_are_flagged():
    decoded = decode_mt_content("%ff%ff")
    assert any("not valid GBK" in issue for issue in decoded.issues)
    assert "\ufffd" in decoded.text


def test_utf8_sent_as_mt_content_is_garbled():
    """A client sending UTF-8 by mistake does not get its text back (C7)."""
    decoded = decode_mt_content(EXAMPLE_UTF8)
    assert decoded.text != EXAMPLE_TEXT


def test_bytes_that_are_not_utf8_are_flagged_in_mo():
    decoded = decode_mo_content(TEST_SMS_GBK)
    assert any("not valid UTF-8" in issue for issue in decoded.issues)


def test_plus_is_a_space():
    assert decode_mt_content("a+b").text == "a b"
    assert decode_mo_content("hello+world").text == "hello world"


def test_escaped_plus_is_a_plus():
    assert decode_mt_content("a%2bb").text == "a+b"


def test_clean_ascii_has_no_issues():
    decoded = decode_mt_content("Hello-World_1.0~")
    assert decoded.text == "Hello-World_1.0~"
    assert decoded.issues == []


# ---------------------------------------------------------------- is_percent_encoded


def test_percent_encoded_detection():
    assert is_percent_encoded(TEST_SMS_GBK.encode())
    assert not is_percent_encoded(b"plain")
    assert not is_percent_encoded("测试".encode("gbk"))
    assert not is_percent_encoded(b"100%")


# ---------------------------------------------------------------- round trips


@given(st.text().filter(gbk_encodable))
def test_gbk_encodable_text_round_trips(text: str):
    encoded = encode_mt_content(text)
    assert encoded.isascii()
    decoded = decode_mt_content(encoded)
    assert decoded.text == text
    assert decoded.issues == []


@given(st.text())
def test_any_text_round_trips_through_utf8(text: str):
    encoded = encode_mo_content(text)
    assert encoded.isascii()
    decoded = decode_mo_content(encoded)
    assert decoded.text == text
    assert decoded.issues == []


@given(st.text())
def test_encoded_text_has_only_unreserved_characters_and_lower_case_escapes(text: str):
    encoded = encode_mo_content(text)
    assert re.fullmatch(r"(?:[A-Za-z0-9_.~-]|%[0-9a-f]{2})*", encoded)


def test_runs_of_question_marks_are_flagged_as_text_lost_before_sending():
    assert "ISO-8859-1" in lost_text_issue("????123456")
    assert lost_text_issue("真的吗?") == ""
    assert any("ISO-8859-1" in i for i in read_mt_content("%3F%3F%3F%3F").issues)


def test_the_mock_reader_names_utf8_content():
    read = read_mt_content(urlencode_text("测试", "utf-8"))
    assert any("UTF-8, not GBK" in issue for issue in read.issues)
