"""§2.4.1 / §2.5.1 polling cadence: 若有返回，则需要一直获取，直到接口返回无数据时，延时5秒.

Polls of one stream (account, endpoint, client address) in time order; each gap runs
from the answer of one poll to the next request (U5).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

DOCUMENT_WAIT = 5.0  # §2.4.1 / §2.5.1 延时5秒


@dataclass(frozen=True)
class Poll:
    stream: Hashable  # (account, endpoint, client)
    started: float  # seconds, request in
    finished: float  # seconds, answer out
    items: int | None  # reports / MOs in the answer; None: a failure or unreadable answer
    ref: Any = None  # what the poll came from (a recorded request)


@dataclass(frozen=True)
class Gap:
    before: Poll
    after: Poll

    @property
    def seconds(self) -> float:
        return self.after.started - self.before.finished


def gaps(polls: list[Poll]) -> list[Gap]:
    """Consecutive polls of each stream, judged or not."""
    streams: dict[Hashable, list[Poll]] = {}
    for poll in sorted(polls, key=lambda p: p.started):
        streams.setdefault(poll.stream, []).append(poll)
    return [Gap(a, b) for same in streams.values() for a, b in zip(same, same[1:], strict=False)]


def too_soon_after_empty(polls: list[Poll], wait: float, slack: float) -> list[Gap]:
    """Polls that came less than `wait` (less slack) after an empty answer."""
    return [g for g in gaps(polls) if g.before.items == 0 and g.seconds < wait - slack]


def lagging_after_data(polls: list[Poll], follow: float) -> list[Gap]:
    """Polls that came more than `follow` seconds after an answer that brought data."""
    return [g for g in gaps(polls) if g.before.items and g.seconds > follow]
