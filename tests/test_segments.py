"""smsapi.segments: long messages (F9) and the 1000-character limit (§2.1.5)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsapi.segments import (
    MAX_CONTENT_CHARS,
    char_count,
    content_too_long,
    segment_count,
    split_segments,
)


@pytest.mark.parametrize(
    ("length", "segments"),
    [(0, 1), (1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4), (1000, 15)],
)
def test_segment_count_by_length(length: int, segments: int):
    """F9: ≤ 70 characters is one message, longer ones travel in 67-character parts."""
    assert segment_count("字" * length) == segments
    assert len(split_segments("a" * length)) == segments


def test_a_chinese_character_counts_as_one():
    """§2.1.5 一个字母或一个汉字都视为一个字符."""
    assert char_count("验证码6666") == 7
    assert segment_count("验" * 70) == 1


def test_split_segments_joins_back_to_the_text():
    text = "".join(chr(0x4E00 + i) for i in range(300))
    assert "".join(split_segments(text)) == text


def test_long_segments_are_67_characters_but_the_last():
    parts = split_segments("x" * 135)
    assert [len(p) for p in parts] == [67, 67, 1]


def test_short_text_is_one_segment_of_itself():
    assert split_segments("验证码：6666") == ["验证码：6666"]
    assert split_segments("") == [""]


def test_content_of_1000_characters_is_allowed():
    """§2.1.5 最大支持1000个字(含签名)."""
    assert MAX_CONTENT_CHARS == 1000
    assert not content_too_long("字" * 1000)


def test_content_of_1001_characters_is_too_long():
    """§4 -100011 短信内容超长."""
    assert content_too_long("字" * 1001)


@given(st.text(max_size=1100))
def test_segments_cover_the_text_exactly(text: str):
    parts = split_segments(text)
    assert sum(len(p) for p in parts) == len(text)
    assert "".join(parts) == text
    assert len(parts) == segment_count(text)


@given(st.text(min_size=71, max_size=1100))
def test_every_part_of_a_long_message_fits_67(text: str):
    parts = split_segments(text)
    assert len(parts) > 1
    assert all(0 < len(p) <= 67 for p in parts)


@given(st.text(max_size=70))
def test_short_messages_are_one_part(text: str):
    assert split_segments(text) == [text]


def test_segments_for_length_counts_like_segment_count() -> None:
    from smsapi.segments import segments_for_length

    assert [segments_for_length(n) for n in (1, 70, 71, 134, 135, 1000)] == [1, 1, 2, 2, 3, 15]
