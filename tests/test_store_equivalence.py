"""The two stores behave the same (issue 8: "same behaviour"): a hypothesis state machine
runs one random sequence of store operations, every method of the Store interface, on a
SqliteStore and a RedisStore side by side and requires the same answer from both at every
step (wall-clock fields and row ids aside).
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import threading
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
from mockcarrier.stores import Mo, Store
from mockcarrier.stores.redis import RedisStore
from mockcarrier.stores.sqlite import SqliteStore
from smsapi.msgid import SEGMENT_STRIDE

from .test_store import acceptance

USERS = ("T00001", "T00002")
# Filled in by wall clocks the two stores do not share, or row ids: SQLite reuses the ids
# of the attempt log and of requests after a reset, Redis does not.
CLOCK_FIELDS = {"created_at", "taken_at", "accepted_at", "id", "request_id"}
times = st.floats(min_value=0.0, max_value=50.0).map(lambda t: round(t, 1))
RTIME = "2025-08-03 19:30:00"


def comparable(value: Any) -> Any:
    """An answer without its wall-clock fields, records as dicts in a canonical form."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, (list, tuple)):
        return [comparable(v) for v in value]
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in sorted(value.items()) if k not in CLOCK_FIELDS}
    return value


def outcome(call) -> Any:
    try:
        return comparable(call())
    except Exception as exc:  # the same refusal from both is the same behaviour
        return type(exc).__name__


class BothStores(RuleBasedStateMachine):
    redis: RedisServer  # set by the test

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="equiv-"))
        self.stores: list[Store] = [
            SqliteStore(str(self.tmp / "store.db")),
            RedisStore(self.redis.store_url(f"eq{uuid.uuid4().hex[:12]}")),
        ]
        accounts = [
            AccountConfig(userid="T00001", balance=30),
            AccountConfig(userid="T00002", chargetype=1, money="0.300"),
        ]
        for store in self.stores:
            store.ensure_accounts(accounts)
        self.versions = [store.version() for store in self.stores]
        self.sent: list[int] = []
        self.mo_ids: list[int] = []
        self.fault_ids: list[int] = []

    def same(self, name: str, *args: Any, row_id: bool = False, **kw: Any) -> Any:
        """Call name on both stores: the same answer (row_id: the answer is a row id,
        which SQLite reuses after a reset and Redis does not: only its failure counts)."""
        got = [outcome(lambda s=s: getattr(s, name)(*args, **kw)) for s in self.stores]
        if row_id:
            got = [g if isinstance(g, str) else "a row id" for g in got]
        assert got[0] == got[1], f"{name}{args}{kw}: sqlite {got[0]!r} != redis {got[1]!r}"
        return got[0]

    # ------------------------------------------------------------ sending and pulling

    @rule(
        user=st.sampled_from(USERS),
        due=st.lists(st.one_of(times, st.none()), min_size=1, max_size=4),
        pktotal=st.integers(1, 3),
        custid=st.sampled_from(["", "c-1"]),
    )
    def send(self, user: str, due: list[float | None], pktotal: int, custid: str) -> None:
        answer = self.same("accept", acceptance(user, due, pktotal=pktotal, custid=custid))
        if isinstance(answer, dict):  # Accepted
            self.sent += [answer["msgid"] + k * SEGMENT_STRIDE for k in range(pktotal)]

    @rule(user=st.sampled_from(USERS), now=times, limit=st.integers(0, 5))
    def take_reports(self, user: str, now: float, limit: int) -> None:
        self.same("take_reports", user, now, limit)

    @rule(user=st.sampled_from(USERS), now=times, limit=st.integers(1, 5), claim=st.booleans())
    def pending_reports(self, user: str, now: float, limit: int, claim: bool) -> None:
        self.same("pending_reports", user, now, limit, claim_for=5.0 if claim else 0.0)

    @precondition(lambda self: self.sent)
    @rule(data=st.data(), user=st.sampled_from(USERS))
    def release_or_push(self, data: st.DataObject, user: str) -> None:
        msgids = data.draw(st.lists(st.sampled_from(self.sent), min_size=1, max_size=3))
        if data.draw(st.booleans()):
            self.same("release_claims", "rpt", msgids)
        else:
            lane = data.draw(st.sampled_from([None, (0, 0.0, ""), (2, 9.0, "refused")]))
            logged = attempt(user, "rpt", msgids[0])
            self.same("record_push", logged, pushed=msgids, lane=lane, row_id=True)
            self.same("push_attempts", user)

    @precondition(lambda self: self.sent)
    @rule(data=st.data(), due=times, fail=st.booleans())
    def reschedule(self, data: st.DataObject, due: float, fail: bool) -> None:
        msgid = data.draw(st.sampled_from(self.sent))
        failure = (1, "UNDELIV", "x") if fail else None
        for user in USERS:
            self.same("reschedule_reports", user, msgid, due_at=due, rtime=RTIME, failure=failure)

    # ------------------------------------------------------------ MOs

    @rule(user=st.sampled_from(USERS), text=st.text(max_size=5))
    def add_mo(self, user: str, text: str) -> None:
        first = self.same("reserve_ids", 1)
        self.same("add_mo", user, Mo(first, "13800138000", "1069", "", "r", text))
        self.mo_ids.append(first)

    @rule(user=st.sampled_from(USERS), limit=st.integers(0, 3), claim=st.booleans())
    def take_or_claim_mos(self, user: str, limit: int, claim: bool) -> None:
        if claim:
            self.same("pending_mos", user, 1e10, limit, claim_for=5.0)
        else:
            self.same("take_mos", user, 1e10, limit)

    @precondition(lambda self: self.mo_ids)
    @rule(data=st.data(), user=st.sampled_from(USERS))
    def release_or_push_mos(self, data: st.DataObject, user: str) -> None:
        msgids = data.draw(st.lists(st.sampled_from(self.mo_ids), min_size=1, max_size=2))
        if data.draw(st.booleans()):
            self.same("release_claims", "mo", msgids)
        else:
            self.same("record_push", attempt(user, "mo", msgids[0]), pushed=msgids, row_id=True)

    # ------------------------------------------------------------ accounts

    @rule(user=st.sampled_from(USERS), count=st.integers(-5, 20))
    def top_up(self, user: str, count: int) -> None:
        self.same("top_up", user, count=count, micros=count * 1000)

    @rule(
        user=st.sampled_from((*USERS, "T00003")),
        count=st.one_of(st.none(), st.integers(0, 9)),
    )
    def set_balance(self, user: str, count: int | None) -> None:
        self.same("set_balance", user, count, None if count is None else count * 1000)

    @rule(user=st.sampled_from((*USERS, "T00003")), reset=st.booleans(), balance=st.integers(0, 9))
    def put_account(self, user: str, reset: bool, balance: int) -> None:
        cfg = AccountConfig(userid=user, balance=balance, chargetype=int(user == "T00002"))
        self.same("put_account", cfg, reset_balance=reset)

    @rule(user=st.sampled_from((*USERS, "T00003")))
    def delete_or_ensure(self, user: str) -> None:
        if user == "T00003":
            self.same("delete_account", user)
        else:
            self.same("ensure_accounts", [AccountConfig(userid=user, balance=30)])

    @rule(user=st.sampled_from(USERS))
    def reset(self, user: str) -> None:
        self.same("reset", user, AccountConfig(userid=user, balance=30))

    @rule(user=st.sampled_from(USERS), at=times)
    def auth_failure(self, user: str, at: float) -> None:
        self.same("record_auth_failure", user, at, keep=20.0)
        self.same("auth_failures_since", user, at - 10.0)

    # ------------------------------------------------------------ control, faults, pusher

    @rule(
        key=st.sampled_from(["defects", "clock_offset"]), value=st.integers(), replace=st.booleans()
    )
    def put_control(self, key: str, value: int, replace: bool) -> None:
        self.same("put_control", {key: value}, replace=replace)
        self.same("control")

    @rule(remaining=st.one_of(st.none(), st.integers(0, 2)))
    def add_fault(self, remaining: int | None) -> None:
        fault_id = self.same("add_fault", {"endpoint": "*", "result": -100999}, remaining)
        self.fault_ids.append(fault_id)

    @precondition(lambda self: self.fault_ids)
    @rule(data=st.data())
    def consume_or_delete_fault(self, data: st.DataObject) -> None:
        fault_id = data.draw(st.sampled_from(self.fault_ids))
        choice = data.draw(st.sampled_from(["consume", "delete", "delete_all"]))
        if choice == "consume":
            self.same("consume_fault", fault_id)
        else:
            self.same("delete_faults", fault_id if choice == "delete" else None)
        self.same("faults", active_only=data.draw(st.booleans()))

    @rule(holder=st.sampled_from("ab"), now=times, dead=st.booleans(), release=st.booleans())
    def lease(self, holder: str, now: float, dead: bool, release: bool) -> None:
        self.same("acquire_lease", "pusher", holder, 10.0, now, lambda h: dead)
        if release:
            self.same("release_lease", "pusher", holder)
        self.same("lease", "pusher")

    @rule(listening=st.booleans())
    def doorbell(self, listening: bool) -> None:
        """A ring nobody listens to is silent; a listener hears its store's ring."""
        bells = [store.doorbell() for store in self.stores]
        woken = [threading.Event() for _ in self.stores]
        try:
            if listening:
                assert all(bell.listen(w.set) for bell, w in zip(bells, woken, strict=True))
            for store in self.stores:
                store.doorbell().ring()
            heard = [w.wait(10) if listening else w.is_set() for w in woken]
            assert heard == [listening, listening], f"rings heard: {heard}"
        finally:
            for bell in bells:
                bell.close()

    @rule(
        user=st.sampled_from(USERS),
        kind=st.sampled_from(["rpt", "mo"]),
        advance=st.booleans(),
        failures=st.integers(0, 3),
    )
    def lanes(self, user: str, kind: str, advance: bool, failures: int) -> None:
        self.same("next_seqid", user, kind, advance=advance)
        self.same("push_lane_done", user, kind, failures, float(failures), "e" * failures)
        self.same("push_lane", user, kind)

    # ------------------------------------------------------------ what every step leaves

    @rule(user=st.sampled_from(USERS), state=st.sampled_from(["pending", "taken", "pushed"]))
    def views_agree(self, user: str, state: str) -> None:
        self.same("reports", user, state)
        self.same("messages", user)
        self.same("list_mos", user)
        self.same("account", user)
        self.same("accounts")
        self.same("pending_count", user, "rpt", 25.0)
        self.same("pending_count", user, "rpt")
        self.same("pending_count", user, "mo")
        self.same("next_due", user)
        self.same("push_attempts", user, "rpt")

    @rule()
    def versions_change_together(self) -> None:
        """version() is each store's own number: both change at the same steps."""
        now = [store.version() for store in self.stores]
        changed = [a != b for a, b in zip(now, self.versions, strict=True)]
        assert changed[0] == changed[1], f"version changed: sqlite {changed[0]}, redis {changed[1]}"
        self.versions = now

    def teardown(self) -> None:
        for store in self.stores:
            store.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def attempt(userid: str, kind: str, msgid: int) -> dict[str, Any]:
    out = {"userid": userid, "kind": kind, "seqid": 1, "url": "http://r", "count": 1}
    out |= {"first_msgid": msgid, "last_msgid": msgid, "started_at": 0.0, "duration_ms": 1.0}
    return out | {
        "ok": 1,
        "http_status": 200,
        "answer": "",
        "error": "",
        "retry_in": None,
        "note": "",
    }


def test_sqlite_and_redis_give_the_same_answers(redis_server: RedisServer) -> None:
    BothStores.redis = redis_server
    run_state_machine_as_test(
        BothStores,
        settings=settings(
            max_examples=50,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
