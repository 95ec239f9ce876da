"""A message row of the SQLite store to and from segments.StoredMessage."""

from __future__ import annotations

import sqlite3
from typing import Any

from ..segments import Schedule, StoredMessage

# What take_reports and the views read of a message to derive its reports.
STORED_FIELDS = (
    "msgid", "custid", "pktotal", "mobile", "spno", "exno", "exdata", "stime", "status",
    "errcode", "errdesc", "due_at", "due_gap", "rtime", "rtime_gap", "reported", "pushed",
)  # fmt: skip
STORED_COLUMNS = ", ".join(STORED_FIELDS)


def stored_message(row: sqlite3.Row | tuple[Any, ...]) -> StoredMessage:
    """A row of STORED_COLUMNS as a StoredMessage (schedule None: never reported)."""
    (
        msgid, custid, pktotal, mobile, spno, exno, exdata, stime, status, errcode, errdesc,
        due_at, due_gap, rtime, rtime_gap, reported, pushed,
    ) = tuple(row)  # fmt: skip
    schedule = None if due_at is None else Schedule(due_at, due_gap, rtime, rtime_gap)
    return StoredMessage(
        msgid, custid, pktotal, mobile, spno, exno, exdata, stime, status, errcode, errdesc,
        schedule, reported, pushed,
    )  # fmt: skip


NEVER_DUE = (None, None, None, None)  # the schedule columns of a message never reported


def schedule_values(schedule: Schedule | None) -> tuple[Any, Any, Any, Any]:
    """due_at, due_gap, rtime, rtime_gap as the row keeps them (NULLs: never reported)."""
    if schedule is None:
        return NEVER_DUE
    return (schedule.due_at, schedule.due_gap, schedule.rtime, schedule.rtime_gap)
