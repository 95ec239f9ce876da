"""The mock's msgid layout, chosen so §3.3 ids never collide.

    msgid = prefix << 38 | (pknum - 1) << 34 | counter      (counter < 2^34, pknum ≤ 16)

A per-mobile id is prefix << 38 | counter, and §3.3's `base + (pos - 1)` walks the
counter while `+ (pknum - 1) * 2^34` fills bits 34..37 without a carry, so every
(counter, pknum) pair has its own id, and the sum is the same wrapped or not.
"""

from __future__ import annotations

import hashlib

from smsapi.msgid import SEGMENT_STRIDE, wrap_int64

COUNTER_BITS = 34  # = log2 of the §3.3 segment stride
SEGMENT_BITS = 4
PREFIX_SHIFT = COUNTER_BITS + SEGMENT_BITS
COUNTER_LIMIT = 1 << COUNTER_BITS  # counters run 1 .. 2^34 - 1
MAX_SEGMENTS = 1 << SEGMENT_BITS  # 16 ≥ ceil(1000 / 67) = 15
PREFIX_MIN = -(1 << (63 - PREFIX_SHIFT))
PREFIX_MAX = (1 << (63 - PREFIX_SHIFT)) - 1

assert SEGMENT_STRIDE == COUNTER_LIMIT


def check_prefix(prefix: int) -> int:
    if not PREFIX_MIN <= prefix <= PREFIX_MAX:
        raise ValueError(f"msgid prefix must lie in [{PREFIX_MIN}, {PREFIX_MAX}]")
    return prefix


def compose(prefix: int, counter: int, pknum: int = 1) -> int:
    """The id of segment pknum of the message numbered counter."""
    if not 0 < counter < COUNTER_LIMIT:
        raise ValueError("counter out of range")
    if not 0 < pknum <= MAX_SEGMENTS:
        raise ValueError("pknum out of range")
    check_prefix(prefix)
    return wrap_int64((prefix << PREFIX_SHIFT) | ((pknum - 1) << COUNTER_BITS) | counter)


def decompose(msgid: int) -> tuple[int, int, int]:
    """(prefix, counter, pknum) of an id made by compose."""
    unsigned = msgid & 0xFFFFFFFFFFFFFFFF
    counter = unsigned & (COUNTER_LIMIT - 1)
    pknum = ((unsigned >> COUNTER_BITS) & (MAX_SEGMENTS - 1)) + 1
    prefix = wrap_int64(unsigned) >> PREFIX_SHIFT
    return prefix, counter, pknum


def message_msgid(msgid: int) -> int | None:
    """§3.3 read backwards: the per-mobile id a per-mobile or segment id belongs to
    (the id of its segment 1); None when no id of this layout could be it."""
    prefix, counter, _ = decompose(msgid)
    if counter == 0:
        return None
    return compose(prefix, counter)


def generated_custid(seed: int, msgid: int) -> str:
    """§2.1.6 the carrier's unique id for a batch sent without custid (20 hex, as the
    document's example b3d0a2783d31b21b8573)."""
    return hashlib.sha1(f"{seed}:{msgid}".encode()).hexdigest()[:20]
