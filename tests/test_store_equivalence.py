"""The two stores behave the same (issue 8: "same behaviour"): a hypothesis state machine
runs one random sequence of store operations on a SqliteStore and a RedisStore side by
side and requires the same answer from both at every step (wall-clock fields aside)."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    precondition,
    rule,
    run_state_machine_as_test,
)

from mockcarrier.config import AccountConfig
from mockcarrier.launch import RedisServer
from mockcarrier.redis_store import RedisStore
from mockcarrier.store import SqliteStore

from .test_store import acceptance

USERS = ("T00001", "T00002")
# Filled in by wall clocks the two stores do not share.
CLOCK_FIELDS = {"created_at", "taken_at", "accepted_at"}
times = st.floats(min_value=0.0, max_value=50.0).map(lambda t: round(t, 1))


def comparable(value: Any, ignore: frozenset[str]) -> Any:
    """An answer without its wall-clock (and ignored) fields, dicts in a canonical form."""
    if isinstance(value, list):
        return [comparable(v, ignore) for v in value]
    if isinstance(value, dict):
        return {
            k: comparable(v, ignore)
            for k, v in sorted(value.items())
            if k not in CLOCK_FIELDS and k not in ignore
        }
    return value


def outcome(call, ignore: frozenset[str]) -> Any:
    try:
        return comparable(call(), ignore)
    except Exception as exc:  # the same refusal from both is the same behaviour
        return type(exc).__name__


class BothStores(RuleBasedStateMachine):
    redis: RedisServer  # set by the test

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="equiv-"))
        self.stores = [
            SqliteStore(str(self.tmp / "store.db")),
            RedisStore(self.redis.store_url(f"eq{uuid.uuid4().hex[:12]}")),
        ]
        accounts = [
            AccountConfig(userid="T00001", balance=30),
            AccountConfig(userid="T00002", chargetype=1, money="0.300"),
        ]
        for store in self.stores:
            store.ensure_accounts(accounts)
        self.sent: list[int] = []
        self.mo_ids: list[int] = []

    def same(self, name: str, *args: Any, ignore: tuple[str, ...] = (), **kw: Any) -> Any:
        skip = frozenset(ignore)
        got = [outcome(lambda s=s: getattr(s, name)(*args, **kw), skip) for s in self.stores]
        assert got[0] == got[1], f"{name}{args}{kw}: sqlite {got[0]!r} != redis {got[1]!r}"
        return got[0]

    @rule(user=st.sampled_from(USERS), due=st.lists(times, min_size=1, max_size=4))
    def send(self, user: str, due: list[float]) -> None:
        chargetype = 0 if user == "T00001" else 1
        answer = self.same("accept", acceptance(user, due_ats=due), chargetype)
        if isinstance(answer, tuple):  # (msgid, custid): accepted
            self.sent.append(answer[0])

    @rule(
        user=st.sampled_from(USERS),
        now=times,
        limit=st.integers(0, 5),
        twice=st.booleans(),
    )
    def take_reports(self, user: str, now: float, limit: int, twice: bool) -> None:
        self.same("take_reports", user, now, limit, twice=twice)

    @rule(user=st.sampled_from(USERS), now=times, limit=st.integers(1, 5), claim=st.booleans())
    def pending_push(self, user: str, now: float, limit: int, claim: bool) -> None:
        self.same("pending_push", user, "rpt", now, limit, claim_for=5.0 if claim else 0.0)

    @precondition(lambda self: self.sent)
    @rule(data=st.data())
    def release_or_push(self, data: st.DataObject) -> None:
        msgid = data.draw(st.sampled_from(self.sent))
        if data.draw(st.booleans()):
            self.same("release_claims", "rpt", [msgid])
        else:
            attempt = {"userid": "T00001", "kind": "rpt", "seqid": 1, "url": "http://r"}
            attempt |= {"count": 1, "first_msgid": msgid, "last_msgid": msgid}
            attempt |= {"started_at": 0.0, "duration_ms": 1.0, "ok": 1, "http_status": 200}
            attempt |= {"answer": "", "error": "", "retry_in": None, "note": ""}
            for store in self.stores:
                store.record_push(attempt, pushed=[msgid])
            # the attempt log's row ids: SQLite reuses them after a reset, Redis does not
            self.same("push_attempts", "T00001", ignore=("id",))

    @precondition(lambda self: self.sent)
    @rule(data=st.data(), due=times, fail=st.booleans())
    def reschedule(self, data: st.DataObject, due: float, fail: bool) -> None:
        msgid = data.draw(st.sampled_from(self.sent))
        failure = (1, "UNDELIV", "x") if fail else None
        for user in USERS:
            self.same("reschedule_reports", user, msgid, due_at=due, rtime="r", failure=failure)

    @rule(user=st.sampled_from(USERS), text=st.text(max_size=5))
    def add_mo(self, user: str, text: str) -> None:
        first = self.same("reserve_ids", 1)
        mo = {"msgid": first, "mobile": "13800138000", "spno": "1069", "exno": "", "rtime": "r"}
        self.same("add_mo", user, mo | {"text": text})

    @rule(user=st.sampled_from(USERS), limit=st.integers(0, 3))
    def take_mos(self, user: str, limit: int) -> None:
        self.same("take_mos", user, 1e10, limit)

    @rule(user=st.sampled_from(USERS), count=st.integers(-5, 20))
    def top_up(self, user: str, count: int) -> None:
        self.same("top_up", user, count=count, micros=count * 1000)

    @rule(user=st.sampled_from(USERS))
    def reset(self, user: str) -> None:
        cfg = AccountConfig(userid=user, balance=30)
        self.same("reset", user, cfg)

    @rule(user=st.sampled_from(USERS), state=st.sampled_from(["pending", "taken", "pushed"]))
    def views_agree(self, user: str, state: str) -> None:
        self.same("reports", user, state)
        self.same("messages", user, ignore=("request_id",))  # row ids, as for attempts
        self.same("list_mos", user)
        self.same("account", user)
        self.same("pending_count", user, "rpt", 25.0)
        self.same("pending_count", user, "mo")
        self.same("next_due", user)

    def teardown(self) -> None:
        for store in self.stores:
            store.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def test_sqlite_and_redis_give_the_same_answers(redis_server: RedisServer) -> None:
    BothStores.redis = redis_server
    run_state_machine_as_test(
        BothStores,
        settings=settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
