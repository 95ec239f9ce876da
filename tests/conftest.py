"""A real mock carrier, served by `mockcarrier serve` on a free port, for the HTTP tests."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from hypothesis import HealthCheck, settings

import schemas
from mockcarrier.config import Settings
from mockcarrier.launch import Launched, RedisServer, free_port, launch, launch_redis
from mockcarrier.stores import Store, open_store
from smsapi import Client
from smsapi.endpoints import BASE_PATH, ENDPOINTS

from .helpers import Answering

# The Hypothesis profile of every test. No deadline: a @given test's examples run against
# real servers and files on a shared machine, where 200 ms is a timing lottery, not a rule
# (speed targets live in benchmarks/). Examples stay random (derandomize=False): a property
# test is there to find new counter-examples, and a failure prints the blob that replays
# it (@reproduce_failure). HYPOTHESIS_PROFILE=ci fixes the examples for a CI that must only
# turn red on a change.
_PROFILE = {
    "deadline": None,
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow],
}
settings.register_profile("tests", **_PROFILE)
settings.register_profile("ci", derandomize=True, **_PROFILE)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "tests"))

# Fixtures that cost a minute or more of real runs once per session (or module): every
# test that takes one is slow (`-m "not slow"` leaves them out of a quick loop; CI runs all).
SLOW_FIXTURES = {
    "runs",  # tests/reports_runs.py: conformance + load runs, clean and defective
    "verdicts",  # test_conformance_selfcheck.py: one suite run per defect mode of the mock
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


# Accounts the HTTP tests rely on, each set up for one family of rules.
ACCOUNTS_TOML = """
[server]
lockout_failures = 20
lockout_window = 300
verbose_reasons = true

[[accounts]]
userid = "J10003"
password = "111111"
apikey = "abade5589e2798f82f006bbc36d269ce"
auth_modes = ["md5", "plain", "apikey"]
delivery_profile = "instant"

[[accounts]]
userid = "REAL01"
password = "real-pass"
delivery_profile = "default"

[[accounts]]
userid = "LOCK01"
password = "lock-pass"

[[accounts]]
userid = "IPONLY"
password = "ip-pass"
allowed_ips = ["10.99.0.0/16"]

[[accounts]]
userid = "POOR01"
password = "poor-pass"
balance = 3
delivery_profile = "instant"

[[accounts]]
userid = "MONEY1"
password = "money-pass"
chargetype = 1
money = "1.000000"
price = "0.029"
delivery_profile = "instant"

[[accounts]]
userid = "LONGCH"
password = "long-pass"
channel = "1069001212212122"
delivery_profile = "instant"

[[accounts]]
userid = "NOSIG1"
password = "nosig-pass"
signature = ""
delivery_profile = "instant"
"""


@pytest.fixture(scope="session", autouse=True)
def conformance_state_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The suite remembers its auth failures across runs (conformance/preflight.py): in
    the tests, in a file of the session's own (CLI subprocesses inherit it), never ~/.cache."""
    import os

    path = tmp_path_factory.mktemp("conformance-state") / "auth-failures.json"
    old = os.environ.get("CONFORMANCE_STATE_FILE")
    os.environ["CONFORMANCE_STATE_FILE"] = str(path)
    yield path
    if old is None:
        os.environ.pop("CONFORMANCE_STATE_FILE", None)
    else:
        os.environ["CONFORMANCE_STATE_FILE"] = old


@dataclass
class Served(Launched):
    """A running `mockcarrier serve` process, with the test accounts above."""

    db: Path
    store: str = ""  # the Redis store's URL; "" is the SQLite file db

    def open_store(self) -> Store:
        """The store this mock writes, opened in the test's own process."""
        return open_store(Settings(db=str(self.db), store=self.store))

    def client(self, userid: str = "J10003", password: str = "111111", **kw: Any) -> Client:
        kw.setdefault("raise_for_result", False)
        kw.setdefault("session", schema_checked_session())
        return Client(self.url, userid, password, **kw)

    def admin(self, method: str, path: str, **kw: Any) -> requests.Response:
        return requests.request(method, f"{self.url}/__admin{path}", timeout=10, **kw)

    @contextlib.contextmanager
    def slow_account(self, answer_delay_ms: int = 800) -> Iterator[Client]:
        """SLOW01, for as long as the block lasts: 1 request in flight (§5.1 -100056),
        each answer held answer_delay_ms. Not among the accounts above: an answer held
        or a limit under the threads sends every request to the threads (views.runs_inline),
        and the other tests run on the event loop, as a default configuration does."""
        created = self.admin(
            "POST",
            "/accounts",
            json={
                "userid": "SLOW01",
                "password": "slow-pass",
                "max_concurrent": 1,
                "answer_delay_ms": answer_delay_ms,
            },
        )
        assert created.status_code == 201, created.text
        try:
            yield self.client("SLOW01", "slow-pass")
        finally:
            self.admin("DELETE", "/accounts/SLOW01")


def schema_checked_session() -> requests.Session:
    """A session that fails the test when an answer of the six endpoints breaks its
    schema (schemas/: JSON Schema for JSON answers, XSD + JSON Schema for XML)."""
    session = requests.Session()
    session.hooks["response"].append(check_answer_schema)
    return session


def check_answer_schema(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    path = urlsplit(response.url).path
    name = path.rsplit("/", 1)[-1]
    if not path.startswith(f"{BASE_PATH}/") or name not in ENDPOINTS:
        return
    problems = schemas.answer_errors(name, response.content, response.headers.get("Content-Type"))
    if problems:
        pytest.fail(
            f"{name} answer breaks its schema: {problems}\n{response.content[:600]!r}",
            pytrace=False,
        )


# §2.1.9 / §2.4.9 / §2.5.9 / §2.6.9 what a failure answer carries besides result, written
# out here (not taken from smsapi.answers) so that the HTTP tests hold the mock to the text.
FAILURE_SHAPES = {
    "single_send": {"msgid": 0, "custid": ""},
    "batch_send": {"msgid": 0, "custid": ""},
    "multi_send": {"msgid": 0, "custid": ""},
    "get_mo": {"mos": ""},
    "get_rpt": {"rpts": ""},
    "get_balance": {"chargetype": 0, "balance": 0, "money": "0.000000"},
}


def start_server(
    tmp: Path, *extra: str, db: Path | None = None, port: int | None = None, store: str = ""
) -> Served:
    """`mockcarrier serve` with the test accounts, on the SQLite file db (or tmp/mock.db),
    or on the Redis store at the URL store."""
    config = tmp / "accounts.toml"
    config.write_text(ACCOUNTS_TOML, encoding="utf-8")
    db = db or tmp / "mock.db"
    port = port or free_port()
    args = ["--store", store] if store else ["--db", str(db)]
    args += ["--config", str(config), "--seed", "20200413", "--time-scale", "10", *extra]
    launched = launch(args, tmp / f"server-{port}.log", port=port)
    return Served(launched.url, launched.process, launched.log, db, store)


# ---------------------------------------------------------------- parallel workers
# Under pytest-xdist (`-n 2`) every worker is a session of its own: session and module
# fixtures (the served mocks, the redis-server) start once per worker, on ports from
# free_port() and in directories from tmp_path_factory (per worker), so workers share no
# server, port or file. `--dist loadscope` keeps a module's tests on one worker, so its
# module_server() starts once. The report runs (tests/reports_runs.py) are the one thing
# the workers share, made once under a lock.

# ---------------------------------------------------------------- both stores

STORES = ["sqlite", "redis"]


def started_redis(dir: Path) -> RedisServer:
    try:
        return launch_redis(dir)
    except FileNotFoundError:
        pytest.fail("redis-server is not installed: `bash setup.sh` installs it", pytrace=False)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server for the session; each test takes a key prefix of its own."""
    server = started_redis(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def redis_of_its_own(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server the test may reconfigure, stop and start (not the shared one)."""
    server = started_redis(tmp_path / "redis")
    yield server
    server.stop(signal.SIGKILL)


def store_for(request: pytest.FixtureRequest) -> str:
    """'' for the SQLite store, or the URL of a fresh Redis store (a prefix of its own)."""
    if request.param == "sqlite":
        return ""
    server: RedisServer = request.getfixturevalue("redis_server")
    return server.store_url(f"t{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="session", params=STORES)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """The shared mock of the HTTP tests, once on each store."""
    served = start_server(tmp_path_factory.mktemp("mock"), store=store_for(request))
    yield served
    served.stop()


@pytest.fixture(params=STORES)
def store_url(request: pytest.FixtureRequest) -> str:
    """Each test that takes it runs on both stores."""
    return store_for(request)


@pytest.fixture(scope="module", params=STORES)
def module_store_url(request: pytest.FixtureRequest) -> str:
    return store_for(request)


def module_server(name: str, *extra: str) -> Callable[..., Iterator[Served]]:
    """A module-scoped fixture: a mock of the test module's own (extra: `serve` options),
    once on each store, for tests that change what the shared `server` must keep (clock,
    faults, defects, push settings, processes). Use: `served = module_server("faults")`."""

    @pytest.fixture(scope="module")
    def fixture(
        tmp_path_factory: pytest.TempPathFactory, module_store_url: str
    ) -> Iterator[Served]:
        served = start_server(tmp_path_factory.mktemp(name), *extra, store=module_store_url)
        yield served
        served.stop()

    return fixture


@pytest.fixture
def answering() -> Iterator[str]:
    """A plain HTTP server of helpers.Answering: its base URL."""
    Answering.ports = []
    Answering.targets = []
    http = ThreadingHTTPServer(("127.0.0.1", 0), Answering)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_address[1]}"
    http.shutdown()
    http.server_close()


@pytest.fixture
def demo(server: Served) -> Client:
    """The document's account J10003 / 111111, md5 mode, JSON."""
    return server.client()


def wait_for_reports(client: Client, count: int, timeout: float = 20.0) -> list[dict]:
    """Poll get_rpt (as §2.5 recommends) until count reports came, or fail."""
    got: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        batch = client.get_rpt().items
        got.extend(batch)
        if not batch:
            time.sleep(0.05)
    assert len(got) >= count, f"{len(got)} of {count} reports within {timeout} s"
    return got
