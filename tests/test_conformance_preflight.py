"""Preflight and lockout awareness (conformance/preflight.py): one authenticated call
before anything, exit 2 in one line when it fails; the suite's deliberate auth failures
kept within the carrier's lockout window across runs; a lock met mid-run judges nothing."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.catalogue import select
from conformance.config import VendorConfig
from conformance.outcomes import Outcome
from conformance.preflight import AuthFailureBudget
from conformance.runner import Runner

from .conftest import Served, module_server

BIN = Path(sys.executable).parent
MOBILES = ["13800138000", "13012345678", "18912345678"]
WINDOW = 4.0  # the lockout window this module's mock uses (seconds)

preflight_mock = module_server("preflight")


@pytest.fixture(scope="module")
def mock(preflight_mock: Served) -> Iterator[Served]:
    """The mock locks an account after 5 failures within WINDOW seconds (A7)."""
    settings = {"lockout_failures": 5, "lockout_window": WINDOW}
    preflight_mock.admin("PATCH", "/settings", json=settings).raise_for_status()
    yield preflight_mock


def conformance(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "conformance"), "run", *args], capture_output=True, text=True, timeout=timeout
    )


def loadtests(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "loadtests", "run", "--duration", "2s", "--drain", "1s", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def failures_of(mock: Served, userid: str, since: float) -> int:
    return mock.open_store().auth_failures_since(userid, since)


def config(mock: Served, userid: str, password: str, state: Path, **kw: object) -> VendorConfig:
    cfg = VendorConfig(
        target=mock.url,
        userid=userid,
        password=password,
        test_mobiles=list(MOBILES),
        budget=200,
        signature_length=6,
        report_timeout=2.0,
        poll_interval=0.05,
        lockout_window=WINDOW,
        auth_state_file=str(state),
        only=["auth", "balance"],
    )
    for key, value in kw.items():
        setattr(cfg, key, value)
    return cfg.validate()


# ---------------------------------------------------------------- the preflight


def test_a_wrong_password_stops_the_run_in_one_line_spending_one_failure(mock: Served) -> None:
    since = time.time() - 0.5
    started = time.monotonic()
    done = conformance("--target", mock.url, "--userid", "REAL01", "--password", "wrong")
    assert time.monotonic() - started < 15
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "authentication failed for REAL01 (-100001): check --userid/--password" in done.stderr
    assert "no check was run" in done.stderr and not done.stdout.strip()
    assert failures_of(mock, "REAL01", since) == 1  # nothing near a lockout


def test_a_target_with_the_interface_path_is_refused_before_any_request() -> None:
    done = conformance(
        "--target", "http://127.0.0.1:9/sms/v2/std", "--userid", "U", "--password", "p"
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "includes /sms/v2/std: give the carrier's base URL (http://127.0.0.1:9)" in done.stderr


def test_a_target_that_is_not_the_interface_is_said_so(mock: Served) -> None:
    done = conformance("--target", mock.url + "/__admin", "--userid", "J10003", "--password", "x")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "not the interface" in done.stderr and "no check was run" in done.stderr


def test_a_locked_account_says_who_and_when_it_unlocks(mock: Served) -> None:
    mock.admin("PATCH", "/settings", json={"lockout_window": 60}).raise_for_status()
    try:
        wrong = mock.client("MONEY1", "not-the-password")
        deadline = time.monotonic() + 10
        while wrong.get_balance().result != -100002:  # someone else's failures lock it
            assert time.monotonic() < deadline
        done = conformance("--target", mock.url, "--userid", "MONEY1", "--password", "money-pass")
    finally:
        mock.admin("PATCH", "/settings", json={"lockout_window": WINDOW}).raise_for_status()
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "MONEY1 is locked out (-100002)" in done.stderr
    assert "someone else" in done.stderr and "run again after about" in done.stderr


# ---------------------------------------------------------------- the failure budget


def test_the_budget_is_shared_by_runs_through_the_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    first = AuthFailureBudget("http://c", "J10003", allowed=2, window=60, path=state)
    for why in ("a", "b"):
        assert first.make_room(why) == ""
        first.note()
    second = AuthFailureBudget("http://c", "J10003", allowed=2, window=60, path=state, max_wait=1)
    assert len(second.recent()) == 2  # the first run's failures, remembered
    assert second.room_in() > 50
    refused = second.make_room("a wrong digest")
    assert "would be auth failure 3 on J10003 within 60 s" in refused
    other = AuthFailureBudget("http://c", "OTHER1", allowed=2, window=60, path=state)
    assert other.recent() == []  # per account (and target)


def test_room_always_comes_within_the_window_and_its_margin(tmp_path: Path) -> None:
    """A failure just spent leaves room a window and a margin later: waited for, not
    refused (a run right after another, when its first failure was a moment ago)."""
    budget = AuthFailureBudget("http://c", "J10003", allowed=1, window=0.3, path=tmp_path / "s")
    budget.note()
    assert budget.make_room("a wrong digest") == ""
    assert budget.waited >= 0.3


def test_an_auth_failure_counts_once_its_answer_is_in(mock: Served, tmp_path: Path) -> None:
    """The carrier counts a failure when it gets to it; the suite's window must not end
    before the carrier's, however slow the exchange (here a carrier 300 ms late)."""
    fault = {"action": "delay", "endpoint": "get_balance", "userid": "POOR01", "delay_ms": 300}
    made = mock.admin("POST", "/faults", json=fault)
    assert made.status_code == 201, made.text
    try:
        cfg = config(mock, "POOR01", "poor-pass", tmp_path / "state.json")
        run = Runner(cfg).run(select(["AUTH-WRONG-DIGEST"]))
    finally:
        mock.admin("DELETE", f"/faults/{made.json()['id']}").raise_for_status()
    assert run.results["AUTH-WRONG-DIGEST"].outcome is Outcome.PASSED
    (noted,) = AuthFailureBudget(cfg.target, "POOR01", 4, WINDOW, tmp_path / "state.json").recent()
    assert failures_of(mock, "POOR01", noted - WINDOW) >= 1  # the carrier's count of it
    assert failures_of(mock, "POOR01", noted) == 0  # counted by the carrier before the note


def test_two_runs_back_to_back_give_the_same_verdict_without_a_lockout(
    mock: Served, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    runs = [Runner(config(mock, "J10003", "111111", state)).run(select(["auth", "balance"]))]
    started = time.monotonic()
    second = Runner(config(mock, "J10003", "111111", state))
    runs.append(second.run(select(["auth", "balance"])))
    outcomes = [{cid: r.outcome for cid, r in run.results.items()} for run in runs]
    assert outcomes[0] == outcomes[1]
    assert outcomes[0]["AUTH-WRONG-DIGEST"] is Outcome.PASSED
    assert not [cid for cid, o in outcomes[1].items() if o.counts_as_failure]
    assert second.ctx is not None and second.ctx.auth_budget.waited > 0  # it waited for room
    assert time.monotonic() - started < WINDOW + 10


def test_a_lock_met_during_a_run_leaves_checks_not_judged_instead_of_failed(
    mock: Served, tmp_path: Path
) -> None:
    mock.admin("PATCH", "/settings", json={"lockout_failures": 2}).raise_for_status()
    try:  # the carrier locks sooner than the suite's budget of 4 says
        cfg = config(mock, "NOSIG1", "nosig-pass", tmp_path / "state.json", signature_length=0)
        run = Runner(cfg).run(select(["auth", "balance"]))
    finally:
        mock.admin("PATCH", "/settings", json={"lockout_failures": 5}).raise_for_status()
    results = run.results
    assert not [cid for cid, r in results.items() if r.outcome.counts_as_failure]
    locked = [cid for cid, r in results.items() if "locked out (-100002)" in r.message]
    assert "BAL-SHAPE" in locked  # every check after the lock: not judged
    assert all(results[cid].outcome is Outcome.INCONCLUSIVE for cid in locked)
    assert "the suite caused" in results["BAL-SHAPE"].message


# ---------------------------------------------------------------- loadtests run


def test_loadtests_run_preflights_a_wrong_password_without_the_banner(mock: Served) -> None:
    started = time.monotonic()
    done = loadtests("--target", mock.url, "--userid", "LONGCH", "--password", "wrong")
    assert time.monotonic() - started < 15
    assert done.returncode == 2 and "loadtests latency" not in done.stdout
    assert done.stderr.strip().splitlines() == [
        "loadtests: authentication failed for LONGCH (-100001): check --userid/--password; "
        "nothing was sent"
    ]


def test_loadtests_run_refuses_a_target_with_the_interface_path() -> None:
    done = loadtests("--target", "http://127.0.0.1:9/sms/v2/std/")
    assert done.returncode == 2 and "includes /sms/v2/std" in done.stderr


def test_loadtests_run_says_a_mistyped_option_before_any_banner(mock: Served) -> None:
    done = loadtests("--target", mock.url, "--max-mesages", "5")
    assert done.returncode == 2 and not done.stdout.strip()
    assert "unrecognized arguments: --max-mesages 5" in done.stderr


def test_loadtests_run_help_shows_the_defaults() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "loadtests", "run", "--help"], capture_output=True, text=True
    )
    assert "(default: 10)" in done.stdout and "(default: latency)" in done.stdout
