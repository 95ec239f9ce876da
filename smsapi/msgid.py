"""§3.3 msgid arithmetic: per-mobile and per-segment ids in signed 64-bit."""

from __future__ import annotations

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
# §3.3 长短信分条流水号 = msgid + (当前分条数-1) * 17179869184 (= 2^34)
SEGMENT_STRIDE = 17179869184


def wrap_int64(value: int) -> int:
    """Two's-complement wrap to signed 64-bit: why §3.3 says msgid may be negative."""
    return ((value - INT64_MIN) & 0xFFFFFFFFFFFFFFFF) + INT64_MIN


def in_int64(value: int) -> bool:
    """§2.1.6 msgid is a 64-bit signed integer (Java/C# long)."""
    return INT64_MIN <= value <= INT64_MAX


def mobile_msgid(msgid: int, position: int) -> int:
    """§3.3 batch/multi: the mobile at 1-based position p has msgid + p - 1."""
    if position < 1:
        raise ValueError("positions are 1-based")
    return wrap_int64(msgid + position - 1)


def segment_msgid(msgid: int, position: int = 1, pknum: int = 1) -> int:
    """§3.3 long message: (msgid + (p - 1)) + (pknum - 1) * 2^34, wrapped."""
    if pknum < 1:
        raise ValueError("pknum is 1-based")
    return wrap_int64(mobile_msgid(msgid, position) + (pknum - 1) * SEGMENT_STRIDE)


def expected_segment_ids(msgid: int, pktotals: list[int]) -> list[list[int]]:
    """Every segment id a send answer's msgid stands for, per mobile in request order."""
    return [
        [segment_msgid(msgid, position, k) for k in range(1, total + 1)]
        for position, total in enumerate(pktotals, start=1)
    ]
