"""What the admin API and the console show: JSON-ready dicts, derived like the hand-outs.

No index serves the searches by mobile or custid: they are rare (a person at the console)
and scan the account's messages newest first, where an index would cost every send."""

from __future__ import annotations

import json
from typing import Any

from ..segments import views_due_first
from .db import Database
from .rows import STORED_COLUMNS, STORED_FIELDS, stored_message

# A message as the admin API shows it, after the columns its reports are derived from
# (one read gives both: the first len(STORED_FIELDS) values of each row).
MESSAGE_VIEW = (
    f"SELECT {STORED_COLUMNS}, msgid, request_id, userid, position, mobile, operator, text, "
    "pktotal, custid, svrtype, exno, spno, exdata, issues, stime, latency, status, errcode, "
    "endpoint, fmt, auth_mode, request_msgid FROM messages_full WHERE userid = ?"
)


class SqliteViews(Database):
    def messages(
        self,
        userid: str,
        *,
        mobile: str = "",
        custid: str = "",
        msgids: tuple[int, ...] = (),
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Messages sent, newest first, each with its segments' reports ("segments")."""
        sql = MESSAGE_VIEW
        args: list[Any] = [userid]
        if mobile:
            sql += " AND mobile = ?"
            args.append(mobile)
        if custid:
            sql += " AND custid = ?"
            args.append(custid)
        if msgids:
            sql += f" AND msgid IN ({', '.join('?' * len(msgids))})"
            args.extend(msgids)
        sql += " ORDER BY msgid DESC LIMIT ?"
        args.append(limit)
        out = []
        stored = len(STORED_FIELDS)
        for row in self._read(sql, args):
            values = tuple(row)
            item = dict(zip(row.keys()[stored:], values[stored:], strict=True))
            item["issues"] = json.loads(item["issues"])
            item["outcome"] = {
                "latency": item.pop("latency"),
                "status": item.pop("status"),
                "errcode": item.pop("errcode"),
            }
            item["segments"] = stored_message(values[:stored]).segment_views()
            out.append(item)
        return out

    def reports(self, userid: str, state: str = "pending", limit: int = 500) -> list[dict]:
        """Segment reports in one state ("pending", "taken", "pushed"), by due time."""
        if state == "pending":
            sql = (
                f"SELECT {STORED_COLUMNS} FROM messages_full WHERE userid = ? "
                "AND next_due IS NOT NULL ORDER BY next_due, msgid LIMIT ?"
            )
            args: tuple[Any, ...] = (userid, limit)
        else:
            # a message with a segment in that state: some pushed, or not all pushed
            handed = "pushed != 0" if state == "pushed" else "pushed != (1 << reported) - 1"
            sql = (
                f"SELECT {STORED_COLUMNS} FROM messages_full WHERE userid = ? AND reported > 0 "
                f"AND {handed} ORDER BY due_at, msgid LIMIT ?"
            )
            args = (userid, limit)
        views = [
            v for row in self._read(sql, args) for v in stored_message(row).report_views(state)
        ]
        return views_due_first(views, limit)

    def list_mos(
        self,
        userid: str,
        *,
        mobile: str = "",
        msgid: int | None = None,
        state: str = "",
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        """MOs received, newest first; every state unless one is given."""
        sql = "SELECT * FROM mos WHERE userid = ?"
        args: list[Any] = [userid]
        if state:
            sql += " AND state = ?"
            args.append(state)
        if mobile:
            sql += " AND mobile = ?"
            args.append(mobile)
        if msgid is not None:
            sql += " AND msgid = ?"
            args.append(msgid)
        sql += " ORDER BY created_at DESC, msgid DESC LIMIT ?"
        args.append(limit)
        return [dict(r) for r in self._read(sql, args)]

    def push_attempts(self, userid: str, kind: str = "", limit: int = 100) -> list[dict]:
        sql = "SELECT * FROM push_attempts WHERE userid = ?"
        args: list[Any] = [userid]
        if kind:
            sql += " AND kind = ?"
            args.append(kind)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        return [dict(r) for r in self._read(sql, args)]
