"""A real mock carrier, served by `mockcarrier serve` on a free port, for the HTTP tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

import schemas
from smsapi import Client
from smsapi.endpoints import BASE_PATH, ENDPOINTS

# Accounts the HTTP tests rely on, each set up for one family of rules.
ACCOUNTS_TOML = """
[server]
lockout_failures = 20
lockout_window = 300

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
userid = "SLOW01"
password = "slow-pass"
max_concurrent = 1
answer_delay_ms = 800

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Served:
    """A running `mockcarrier serve` process."""

    url: str
    db: Path
    process: subprocess.Popen
    log: Path

    def client(self, userid: str = "J10003", password: str = "111111", **kw: Any) -> Client:
        kw.setdefault("raise_for_result", False)
        kw.setdefault("session", schema_checked_session())
        return Client(self.url, userid, password, **kw)

    def admin(self, method: str, path: str, **kw: Any) -> requests.Response:
        return requests.request(method, f"{self.url}/__admin{path}", timeout=10, **kw)

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=15)


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


def start_server(tmp: Path, *extra: str, db: Path | None = None, port: int | None = None) -> Served:
    config = tmp / "accounts.toml"
    config.write_text(ACCOUNTS_TOML, encoding="utf-8")
    db = db or tmp / "mock.db"
    port = port or free_port()
    log = tmp / f"server-{port}.log"
    cmd = [
        sys.executable,
        "-m",
        "mockcarrier",
        "serve",
        "--port",
        str(port),
        "--db",
        str(db),
        "--config",
        str(config),
        "--seed",
        "20200413",
        "--time-scale",
        "10",
        *extra,
    ]
    with open(log, "ab") as out:
        process = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    served = Served(f"http://127.0.0.1:{port}", db, process, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # readiness poll, not a sleep for synchronisation
        if process.poll() is not None:
            raise RuntimeError(f"mockcarrier exited: {log.read_text(errors='replace')}")
        try:
            # 401: up, behind an --admin-token
            if requests.get(f"{served.url}/__admin/health", timeout=1).status_code in (200, 401):
                return served
        except requests.ConnectionError:
            time.sleep(0.05)
    served.stop(signal.SIGKILL)
    raise RuntimeError(f"mockcarrier did not start: {log.read_text(errors='replace')}")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = start_server(tmp_path_factory.mktemp("mock"))
    yield served
    served.stop()


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
