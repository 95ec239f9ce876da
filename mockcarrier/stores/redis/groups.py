"""Sends on a worker's event loop share one script call (the Redis store's group send).

A send on the loop's thread that finds no group forming leads one: it lets the loop take
one turn (waits.gather), in which the requests read meanwhile reach their sends and join
it, then makes one call for the whole group and answers each. The sends that arrive
while that call waits for its reply form the next group. Off the loop (a pool thread, a
test), a send makes a call of its own. None is answered before the call that writes it
has returned; an exception out of the call fails every send of its group. On one loop's
thread only the greenlet running touches the group: no lock.

Why: a call costs the worker about as much CPU as the send's own work (redis-py, the
socket, the turn of the loop while it waits), and Redis a script invocation; three A/B
pairs of `benchmarks.single_send --store redis` (the same hour) gave 0.42-0.46 of the
bare baseline grouped, against 0.31-0.38 a call each.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ... import waits
from ..interface import StoreError

Item = TypeVar("Item")  # what a send hands in
Answer = TypeVar("Answer")  # what the call answers for it


class Joined(Generic[Item, Answer]):
    """A send that joined a group: its item, and once the call returned, its answer."""

    __slots__ = ("done", "error", "item", "result")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.done: Any = waits.current.event()
        self.result: Answer | None = None
        self.error: BaseException | None = None

    def answer(self) -> Answer:
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]


class LoopGroups(Generic[Item, Answer]):
    """The groups of one store in one process: `run` makes one call for a list of items
    and answers one per item, in order."""

    def __init__(self, run: Callable[[list[Item]], list[Answer]]) -> None:
        self._run = run
        self._forming: list[Joined[Item, Answer]] | None = None  # while its leader gathers
        self.calls = 0  # calls made (diagnostics, tests)

    def call(self, item: Item) -> Answer:
        if not waits.current.on_the_loop():
            return self._call([item])[0]
        if self._forming is not None:
            joined: Joined[Item, Answer] = Joined(item)
            self._forming.append(joined)
            return joined.answer()
        forming = self._forming = []
        try:
            try:
                waits.current.gather()
            finally:
                self._forming = None  # the next send leads the next group
            answers = self._call([item, *(joined.item for joined in forming)])
        except BaseException as exc:
            # The leader stopped (killed, interrupted) fails the others as a store failure.
            error = exc if isinstance(exc, Exception) else StoreError(f"send group: {exc!r}")
            for joined in forming:
                joined.error = error
                joined.done.set()
            raise
        for joined, answer in zip(forming, answers[1:], strict=True):
            joined.result = answer
            joined.done.set()
        return answers[0]

    def _call(self, items: list[Item]) -> list[Answer]:
        self.calls += 1
        return self._run(items)
