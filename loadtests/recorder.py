"""What each Locust process notes down for the ledger: plain lists, cheap to ship."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Sink = Callable[[list[list]], None]


class Recorder:
    """Hands records to the ledger at once (sink) or keeps them for shipping (worker)."""

    def __init__(self, worker: str, sink: Sink | None = None) -> None:
        self.worker = worker
        self.sink = sink
        self.buffer: list[list] = []

    def emit(self, record: list) -> None:
        if self.sink is not None:
            self.sink([record])
        else:
            self.buffer.append(record)

    def take(self) -> list[list]:
        """The records kept since the last take."""
        taken, self.buffer = self.buffer, []
        return taken

    def request(self, endpoint: str, started: float, seconds: float, result: str) -> None:
        self.emit(["req", self.worker, endpoint, started, seconds, result])

    def sent(self, started: float, msgid: int, items: list[list]) -> None:
        """An accepted send; items are [mobile, custid, pktotal] in request order."""
        self.emit(["sent", self.worker, started, msgid, items])

    def report(self, channel: str, arrived: float, report: dict[str, Any]) -> None:
        self.emit(["rpt", self.worker, channel, arrived, report])

    def push(self, outcome: str) -> None:
        """A push request the receiver answered: ok, auth_failed, unreadable, ..."""
        self.emit(["push", self.worker, outcome])
