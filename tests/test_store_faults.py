"""A locked or full SQLite file, a Redis server restarted, killed or out of memory
(issue 8, faults): every request it touches answers -100999 in the endpoint's shape
(§4 平台数据库内部错误); once the fault clears the mock works again without a restart,
and nothing it acknowledged is lost."""

from __future__ import annotations

import signal
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient

from mockcarrier import Settings, create_app
from mockcarrier.config import AccountConfig
from mockcarrier.launch import RedisServer
from mockcarrier.stores import Store, open_store
from mockcarrier.stores.sqlite import SqliteStore
from smsapi.answers import failure_answer
from smsapi.auth import china_now, digest, format_timestamp
from smsapi.codec import Format, encode_request, parse_answer
from smsapi.content import encode_mt_content
from smsapi.errors import Result
from smsapi.msgid import segment_msgid

USER, PASSWORD = "FAULT1", "fault-pass"


@dataclass
class Mock:
    client: FlaskClient
    store: Store
    db: Path

    def call(self, endpoint: str, fmt: Format = Format.JSON, **fields: Any) -> dict[str, Any]:
        timestamp = format_timestamp(china_now())
        auth = {"userid": USER, "pwd": digest(USER, PASSWORD, timestamp), "timestamp": timestamp}
        body = encode_request(endpoint, {**auth, **fields}, fmt)
        answer = self.client.post(f"/sms/v2/std/{endpoint}", data=body, content_type=fmt.media_type)
        assert answer.status_code == 200
        return parse_answer(answer.data, answer.content_type)

    def batch(self, *mobiles: str) -> dict[str, Any]:
        return self.call("batch_send", mobile=",".join(mobiles), content=encode_mt_content("故障"))

    def drain(self) -> list[int]:
        got: list[int] = []
        while rpts := self.call("get_rpt", retsize=500)["rpts"]:
            got.extend(r["msgid"] for r in rpts)
        return got


ACCOUNT = AccountConfig(userid=USER, password=PASSWORD, signature="", delivery_profile="instant")


@pytest.fixture
def mock(tmp_path: Path) -> Iterator[Mock]:
    db = tmp_path / "faults.db"
    store = SqliteStore(str(db), busy_timeout=0.1)  # a short wait keeps the test fast
    app = create_app(Settings(db=str(db), accounts=[ACCOUNT]), store=store)
    yield Mock(app.test_client(), store, db)
    store.close()


@pytest.fixture
def redis_mock(tmp_path: Path, redis_of_its_own: RedisServer) -> Iterator[Mock]:
    settings = Settings(store=redis_of_its_own.url, accounts=[ACCOUNT])
    store = open_store(settings)
    app = create_app(settings, store=store)
    yield Mock(app.test_client(), store, tmp_path)
    store.close()


def ids_of(sent: dict[str, Any], count: int) -> set[int]:
    return {segment_msgid(sent["msgid"], p) for p in range(1, count + 1)}


WRITERS = [
    ("single_send", {"mobile": "13912000001", "content": "%b9%ca"}),
    ("batch_send", {"mobile": "13912000001,13912000002", "content": "%b9%ca"}),
    ("multi_send", {"multimt": [{"mobile": "13912000001", "content": "%b9%ca"}]}),
    ("get_rpt", {"retsize": 10}),
    ("get_mo", {}),
]


def test_a_locked_file_answers_minus_100999_in_shape_then_recovers(mock: Mock) -> None:
    before = mock.batch("13912000001", "13912000002", "13912000003")
    assert before["result"] == 0
    balance = mock.call("get_balance")["balance"]
    other = sqlite3.connect(mock.db, isolation_level=None)  # e.g. a sqlite3 shell
    other.execute("BEGIN EXCLUSIVE")
    try:
        for endpoint, fields in WRITERS:
            for fmt in Format:
                answer = mock.call(endpoint, fmt, **fields)
                assert answer == failure_answer(endpoint, Result.INTERNAL_ERROR), (endpoint, fmt)
        # Reads go on: WAL readers are not blocked by a writer.
        assert mock.call("get_balance")["balance"] == balance
    finally:
        other.execute("ROLLBACK")
        other.close()
    after = mock.batch("13912000004")
    assert after["result"] == 0
    got = mock.drain()
    assert sorted(got) == sorted(ids_of(before, 3) | ids_of(after, 1))
    assert mock.call("get_balance")["balance"] == balance - 1  # refused sends billed nothing


def test_a_full_disk_answers_minus_100999_then_recovers(mock: Mock) -> None:
    acked: set[int] = set()
    first = mock.batch("13912000001", "13912000002")
    acked |= ids_of(first, 2)
    with sqlite3.connect(mock.db) as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    mock.store.page_limit = pages  # no page to spare: SQLITE_FULL, as on a full disk
    refused = 0
    for n in range(3000):  # until the file is full
        sent = mock.batch(*(f"13912{n:03d}{k:03d}" for k in range(20)))
        if sent["result"] == Result.INTERNAL_ERROR:
            assert sent == failure_answer("batch_send", Result.INTERNAL_ERROR)
            refused += 1
            break
        acked |= ids_of(sent, 20)
    assert refused == 1, "the page limit never filled the file"
    assert mock.batch(*(f"13912999{k:03d}" for k in range(20)))["result"] == -100999
    assert mock.call("get_balance")["result"] == 0  # reads still work
    mock.store.page_limit = 1 << 30  # space freed
    last = mock.batch("13912998001")
    assert last["result"] == 0
    got = mock.drain()
    assert len(got) == len(set(got))
    assert set(got) == acked | ids_of(last, 1)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["restart", "kill-9"])
def test_a_redis_restart_answers_minus_100999_then_recovers_losing_nothing(
    redis_mock: Mock, redis_of_its_own: RedisServer, sig: int
) -> None:
    """appendfsync always: what was acknowledged is on disk even after kill -9."""
    before = redis_mock.batch("13912000001", "13912000002", "13912000003")
    assert before["result"] == 0
    balance = redis_mock.call("get_balance")["balance"]
    redis_of_its_own.stop(sig)
    for endpoint, fields in [*WRITERS, ("get_balance", {})]:
        for fmt in Format:
            answer = redis_mock.call(endpoint, fmt, **fields)
            assert answer == failure_answer(endpoint, Result.INTERNAL_ERROR), (endpoint, fmt)
    redis_of_its_own.start()  # same port, same files; the mock is not restarted
    after = redis_mock.batch("13912000004")
    assert after["result"] == 0
    assert sorted(redis_mock.drain()) == sorted(ids_of(before, 3) | ids_of(after, 1))
    assert redis_mock.call("get_balance")["balance"] == balance - 1


def test_a_full_redis_answers_minus_100999_then_recovers(
    redis_mock: Mock, redis_of_its_own: RedisServer
) -> None:
    """Out of memory (maxmemory, noeviction) is Redis' full disk: writes are refused."""
    first = redis_mock.batch("13912000001", "13912000002")
    assert first["result"] == 0
    admin = redis.Redis(port=redis_of_its_own.port)
    admin.config_set("maxmemory-policy", "noeviction")
    admin.config_set("maxmemory", 1)  # below what is used: every write is refused
    try:
        for endpoint, fields in WRITERS:
            answer = redis_mock.call(endpoint, **fields)
            if endpoint == "get_mo":  # no MO waits: it writes nothing, so it answers
                assert answer == {"result": 0, "mos": []}
                continue
            assert answer == failure_answer(endpoint, Result.INTERNAL_ERROR), endpoint
        assert redis_mock.call("get_balance")["result"] == 0  # reads still work
    finally:
        admin.config_set("maxmemory", 0)  # memory freed
        admin.close()
    last = redis_mock.batch("13912998001")
    assert last["result"] == 0
    got = redis_mock.drain()
    assert len(got) == len(set(got))
    assert set(got) == ids_of(first, 2) | ids_of(last, 1)
