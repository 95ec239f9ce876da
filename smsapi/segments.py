"""Long-message segmentation and the content length limit (§2.1.5)."""

from __future__ import annotations

# §2.1.5 最大支持1000个字(含签名)，一个字母或一个汉字都视为一个字符
MAX_CONTENT_CHARS = 1000
# §2.1.5 发送时请预留至少10个字符的签名长度
SIGNATURE_RESERVE = 10
# Operators' long-SMS rule (the document is silent; see docs/interpretations.md):
# up to 70 characters travel as one message, longer ones as 67-character parts.
SINGLE_SEGMENT_CHARS = 70
LONG_SEGMENT_CHARS = 67


def char_count(text: str) -> int:
    """§2.1.5 one letter or one Chinese character counts as one character."""
    return len(text)


def segment_count(text: str) -> int:
    """Number of segments (pktotal) a text is delivered in."""
    return segments_for_length(char_count(text))


def segments_for_length(length: int) -> int:
    """Number of segments of a text of this many characters (signature included)."""
    if length <= SINGLE_SEGMENT_CHARS:
        return 1
    return -(-length // LONG_SEGMENT_CHARS)


def split_segments(text: str) -> list[str]:
    """The text of each segment, pknum order."""
    if char_count(text) <= SINGLE_SEGMENT_CHARS:
        return [text]
    step = LONG_SEGMENT_CHARS
    return [text[i : i + step] for i in range(0, len(text), step)]


def content_too_long(text: str) -> bool:
    """§2.1.5 content, signature included, over 1000 characters → -100011."""
    return char_count(text) > MAX_CONTENT_CHARS


def leaves_signature_room(text: str) -> bool:
    """§2.1.5 发送时请预留至少10个字符的签名长度: a client's own text is at most
    1000 - 10 characters, so the carrier's signature still fits."""
    return char_count(text) + SIGNATURE_RESERVE <= MAX_CONTENT_CHARS
