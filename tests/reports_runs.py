"""Real run directories for the report tests, made once per test session: the conformance
suite (`conformance run`) and the load tests (`loadtests run`) against a served mock
carrier, once clean and once with defects, each with a bid.toml.

Layout of a run directory (docs/reports.md): conformance/ (report.json), load/
(summary.json), bid.toml (vendor, price), vendor.toml (the suite's config).
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import start_server

RUN_TIMEOUT = 120
# The defective mock: two codec defects (XML answered in JSON, money a number), a channel
# number not ending in 12122, and the lossy delivery profile (3 % failed).
DEFECTS = ("xml-answered-in-json", "money-as-number")
WRONG_CHANNEL = "10690099999"
# Default test mobiles of the load tests, three networks; the defective run adds the
# mock's magic number 13800000002 (always UNDELIV, README) so that its delivery rate
# misses 99 % in every run, not only in most runs of the 3 % lossy profile.
MOBILES = "13800138000,15012345678,13012345678,18612345678,18912345678,13312345678"
FAILING_MOBILE = "13800000002"

VENDOR_TOML = """\
vendor = "{vendor}"
profile = "strict"

[credentials]
userid = "J10003"
password = "111111"
apikey = "abade5589e2798f82f006bbc36d269ce"
auth_modes = ["md5", "plain", "apikey"]

[channel]
suffix = "12122"
signature_length = 6

[test_mobiles]
china_mobile = ["13800138000"]
china_unicom = ["13012345678"]
china_telecom = ["18912345678"]

[budget]
messages = 5000

[timing]
report_timeout = 20.0
poll_interval = 0.2

[mo]
inject_url = "{url}/__admin/accounts/J10003/mo"
"""


EXPECTED_EXITS = {
    "clean conformance": 0,
    "clean load": 0,
    "defective conformance": 1,
    "defective load": 1,
}


@dataclass(frozen=True)
class Runs:
    clean: Path
    defective: Path
    logs: dict[str, str]  # what each command printed, for failure messages


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT)


def make_run(
    root: Path, vendor: str, price: str, *, defective: bool
) -> tuple[Path, dict[str, subprocess.CompletedProcess]]:
    root.mkdir(parents=True)
    (root / "bid.toml").write_text(f'vendor = "{vendor}"\nprice = {price}\n', encoding="utf-8")
    config = root / "vendor.toml"
    extra: list[str] = []
    if defective:
        for name in DEFECTS:
            extra += ["--defect", name]
        extra += ["--delivery-profile", "lossy"]
    (root / "mock").mkdir()
    served = start_server(root / "mock", *extra)
    # the full configuration (issue 15): a budget for every check, MOs made by the mock
    config.write_text(VENDOR_TOML.format(vendor=vendor, url=served.url), encoding="utf-8")
    try:
        if defective:
            changed = served.admin("PATCH", "/accounts/J10003", json={"channel": WRONG_CHANNEL})
            assert changed.status_code == 200, changed.text
        conformance = _run(
            [
                *(sys.executable, "-m", "conformance", "run", "--config", str(config)),
                *("--target", served.url, "--report-dir", str(root / "conformance")),
                *("--seed", "7"),
            ]
        )
        mobiles = MOBILES + (f",{FAILING_MOBILE}" if defective else "")
        load = _run(
            [
                *(sys.executable, "-m", "loadtests", "run", "--target", served.url),
                *("--report-dir", str(root / "load"), "--locust-loglevel", "WARNING"),
                *("--scenario", "latency", "--users", "4", "--rate", "60"),
                *("--duration", "4s", "--drain", "3s", "--poll-interval", "0.2"),
                *("--mobiles", mobiles),
            ]
        )
    finally:
        served.stop()
    return root, {"conformance": conformance, "load": load}


def make_runs(base: Path) -> Runs:
    clean, clean_logs = make_run(base / "clean", "Clean Carrier Co.", "0.026", defective=False)
    defective, bad_logs = make_run(
        base / "defective", "Defective Carrier Co.", "0.024", defective=True
    )
    logs = {}
    for name, done in [
        *(("clean " + k, v) for k, v in clean_logs.items()),
        *(("defective " + k, v) for k, v in bad_logs.items()),
    ]:
        logs[name] = f"exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return Runs(clean, defective, logs)


_CACHE: dict[str, Runs] = {}
# Reuse run directories made before (clean/, defective/ and logs.json, as a session of
# these tests leaves them): for working on the reports without a minute of runs each time.
REUSE_ENV = "TEST_REPORTS_RUNS"


def session_runs(factory: pytest.TempPathFactory) -> Runs:
    """The two run directories, made on first use in this test session (shared by the
    test modules of the reports, and by the pytest-xdist workers of one session)."""
    if "runs" not in _CACHE:
        runs = shared_runs(factory)
        # Both tools' own verdicts first: clean passes (0), defective fails (1).
        for name, expected in EXPECTED_EXITS.items():
            if not runs.logs[name].startswith(f"exit {expected}\n"):
                pytest.fail(f"{name} should exit {expected}:\n{runs.logs[name]}")
        _CACHE["runs"] = runs
    return _CACHE["runs"]


def shared_runs(factory: pytest.TempPathFactory) -> Runs:
    """Made once per session: under xdist, the first worker makes them in the directory
    all workers share (basetemp's parent), under a lock; the others wait and read them."""
    if os.environ.get(REUSE_ENV):
        return read_runs(Path(os.environ[REUSE_ENV]))
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return write_runs(factory.mktemp("reports-runs"))
    base = factory.getbasetemp().parent / "reports-runs"
    base.mkdir(exist_ok=True)
    with open(base / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if (base / LOGS).exists():
            return read_runs(base)
        return write_runs(base)


LOGS = "logs.json"


def write_runs(base: Path) -> Runs:
    runs = make_runs(base)
    (base / LOGS).write_text(json.dumps(runs.logs), encoding="utf-8")
    return runs


def read_runs(base: Path) -> Runs:
    logs = json.loads((base / LOGS).read_text(encoding="utf-8"))
    return Runs(base / "clean", base / "defective", logs)
