"""What the admin API and the console show (JSON-ready dicts), and an account's reset.

The views read what is kept: what was handed out stays for the retention; the search
indexes (mobile, custid) find what they still list; messages() with msgids finds any
message still kept. Listing handed-out reports scans the newest SCAN_MESSAGES messages.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ...config import AccountConfig, to_micros
from ...ids import decompose
from ..segments import views_due_first
from .connection import BUCKETS, Connection, bucket, mo_member
from .rows import MessageHash, SendRecord, request_of

SCAN_MESSAGES = 20_000  # how far reports(state taken/pushed) looks back
_CHUNK = 200
REPORT_STATES = ("pending", "taken", "pushed")


class RedisViews(Connection):
    # ------------------------------------------------------------ reading back

    def _requests(self, bases: list[int]) -> dict[int, SendRecord]:
        with self._r.pipeline(transaction=False) as pipe:
            for base in bases:
                pipe.get(self._k("q", base))
            raws = pipe.execute()
        found = (request_of(b, raw) for b, raw in zip(bases, raws, strict=True))
        return {r.base: r for r in found if r is not None}

    def _rows(self, counters: list[int], userid: str) -> list[MessageHash]:
        """The messages of these counters that the account still keeps, in that order."""
        with self._r.pipeline(transaction=False) as pipe:
            for counter in counters:
                pipe.hgetall(self._k("m", counter))
            raws = pipe.execute()
        requests = self._requests(sorted({int(r["q"]) for r in raws if r}))
        rows = []
        for counter, raw in zip(counters, raws, strict=True):
            request = requests.get(int(raw["q"])) if raw else None
            if request is not None and request.userid == userid:
                rows.append(MessageHash(counter, request, raw))
        return rows

    def _listed(self, userid: str) -> Iterator[list[int]]:
        """The account's messages, newest first, in chunks of counters."""
        key = self._k("ls", userid)
        start = 0
        while True:
            entries = self._r.lrange(key, start, start + _CHUNK - 1)
            if not entries:
                return
            start += len(entries)
            bases = [-int(e) for e in entries]
            requests = self._requests(bases)
            counters: list[int] = []
            for base in bases:
                if base in requests:
                    n = requests[base].mobiles
                    counters += range(base + n - 1, base - 1, -1)
            yield counters

    def _indexed(self, key: str) -> Iterator[list[int]]:
        """The counters an index bucket lists (a whole send's for its -base entries)."""
        entries = [int(e) for e in self._r.lrange(key, 0, -1)]
        bases = [-e for e in entries if e < 0]
        requests = self._requests(bases) if bases else {}
        counters: list[int] = []
        for e in entries:
            if e > 0:
                counters.append(e)
            elif -e in requests:
                n = requests[-e].mobiles
                counters += range(-e + n - 1, -e - 1, -1)
        for start in range(0, len(counters), _CHUNK):
            yield counters[start : start + _CHUNK]

    # ------------------------------------------------------------ views

    def messages(
        self,
        userid: str,
        *,
        mobile: str = "",
        custid: str = "",
        msgids: tuple[int, ...] = (),
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """What was sent, newest first, every filter given applying."""
        if limit <= 0:
            return []
        if msgids:
            chunks: Iterator[list[int]] = iter([sorted({decompose(m)[1] for m in msgids})])
        elif mobile:
            chunks = self._indexed(self._k("im", userid, bucket(mobile)))
        elif custid:
            chunks = self._indexed(self._k("ic", userid, bucket(custid)))
        else:
            chunks = self._listed(userid)
        wanted = set(msgids)
        out: dict[int, dict[str, Any]] = {}
        for counters in chunks:
            for row in self._rows(counters, userid):
                item = message_view(row)
                if (
                    (not mobile or item["mobile"] == mobile)
                    and (not custid or item["custid"] == custid)
                    and (not wanted or item["msgid"] in wanted)
                ):
                    out[item["msgid"]] = item
            if len(out) >= limit and not msgids:
                break
        return sorted(out.values(), key=lambda i: i["msgid"], reverse=True)[:limit]

    def reports(self, userid: str, state: str = "pending", limit: int = 500) -> list[dict]:
        """Segment reports in one state, earliest due first."""
        if state not in REPORT_STATES or limit <= 0:
            return []
        rows: list[dict[str, Any]] = []
        if state == "pending":
            # the first `limit` messages of the queue hold the first `limit` segments
            members = self._r.zrange(self._k("due", userid), 0, limit - 1)
            for start in range(0, len(members), _CHUNK):
                chunk = [int(m) for m in members[start : start + _CHUNK]]
                for row in self._rows(chunk, userid):
                    rows += row.stored().report_views(state)
        else:
            seen = 0
            for counters in self._listed(userid):
                for row in self._rows(counters, userid):
                    rows += row.stored().report_views(state)
                seen += len(counters)
                if seen >= SCAN_MESSAGES:
                    break
        return views_due_first(rows, limit)

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
        if msgid is not None:
            members = [mo_member(msgid)]
        else:
            members = self._r.zrevrange(self._k("mos", userid), 0, -1)
        out: list[dict[str, Any]] = []
        for m in members:
            if len(out) >= limit:
                break
            raw = self._r.hgetall(self._k("mo", m))
            if not raw or raw["userid"] != userid:
                continue
            data = json.loads(raw["data"])
            if (state and raw["state"] != state) or (mobile and data["mobile"] != mobile):
                continue
            out.append(
                {
                    **data,
                    "userid": userid,
                    "state": raw["state"],
                    "created_at": float(raw["created_at"]),
                    "taken_at": float(raw["taken_at"]) if raw["taken_at"] else None,
                    "claimed_until": float(raw["claimed_until"]),
                }
            )
        return out

    def push_attempts(self, userid: str, kind: str = "", limit: int = 100) -> list[dict]:
        out = []
        for raw in self._r.lrange(self._k("attempts", userid), 0, -1):
            row = json.loads(raw)
            if not kind or row["kind"] == kind:
                out.append(row)
                if len(out) >= limit:
                    break
        return out

    # ------------------------------------------------------------ reset

    def reset(self, userid: str, cfg: AccountConfig) -> None:
        """Forget what an account sent and received; balance back to its configured start."""
        doomed: set[str] = set()
        for counters in self._listed(userid):
            doomed.update(self._k("m", c) for c in counters)
        due = self._r.zrange(self._k("due", userid), 0, -1)
        with self._r.pipeline(transaction=False) as pipe:
            for m in due:
                pipe.hget(self._k("m", int(m)), "q")
            bases = pipe.execute()
        doomed.update(self._k("m", int(m)) for m in due)
        for base in {*bases, *(-int(e) for e in self._r.lrange(self._k("ls", userid), 0, -1))}:
            if base is not None:
                doomed.update((self._k("q", base), self._k("o", base)))
        doomed.update(self._k("im", userid, b) for b in range(BUCKETS))
        doomed.update(self._k("ic", userid, b) for b in range(BUCKETS))
        doomed.update(self._k("mo", m) for m in self._r.zrange(self._k("mos", userid), 0, -1))
        for name in ("ls", "due", "authfail", "attempts"):
            doomed.add(self._k(name, userid))
        doomed.update((self._k("mos", userid), self._k("mos", userid, "pending")))
        keys = sorted(doomed)
        for start in range(0, len(keys), 1000):
            self._r.delete(*keys[start : start + 1000])
        with self._r.pipeline() as pipe:
            for kind in ("rpt", "mo"):  # seqid is kept: a receiver sees it grow (§2.7.3)
                lane = self._k("lane", userid, kind)
                if self._r.exists(lane):
                    pipe.hset(lane, mapping={"failures": 0, "next_at": "0.0", "last_error": ""})
            key = self._k("account", userid)
            if self._r.exists(key):
                pipe.hset(
                    key, mapping={"balance": cfg.balance, "money_micros": to_micros(cfg.money)}
                )
            self._bump(pipe)
            pipe.execute()


def message_view(row: MessageHash) -> dict[str, Any]:
    """A message as the admin API shows it, with its segments' reports."""
    f, q = row.fields, row.request
    stored = row.stored()
    return {
        "msgid": stored.msgid,
        "request_id": q.base,
        "userid": q.userid,
        "position": row.counter - q.base + 1,
        "mobile": f.mobile,
        "operator": f.operator,
        "text": q.text if f.text is None else f.text,
        "pktotal": f.pktotal,
        "custid": stored.custid,
        "svrtype": f.svrtype,
        "exno": f.exno,
        "spno": f.spno,
        "exdata": f.exdata,
        "issues": list(f.issues),
        "stime": stored.stime,
        "outcome": {  # the fate as drawn, or as the admin's reschedule changed it
            "latency": f.fate.latency,
            "status": stored.status,
            "errcode": stored.errcode,
        },
        "endpoint": q.endpoint,
        "fmt": q.fmt,
        "auth_mode": q.auth_mode,
        "request_msgid": q.msgid,
        "segments": stored.segment_views(),
    }
