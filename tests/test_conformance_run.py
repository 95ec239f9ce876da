"""The conformance suite against a served mock carrier: through the API (with pushes to
the suite's receiver), through the `conformance` CLI and through `pytest --pyargs`."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from junitparser import JUnitXml

from conformance.catalogue import Level, select
from conformance.config import ExtraAccount, VendorConfig
from conformance.events import EventBus
from conformance.outcomes import Outcome
from conformance.output.html import HtmlReport
from conformance.output.jsonreport import JsonReport
from conformance.output.junit import JUnitReport
from conformance.runner import Runner

from .conftest import Served, free_port, start_server

MOBILES = ["13800138000", "13012345678", "18912345678"]  # China Mobile, Unicom, Telecom
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory, module_store_url: str) -> Iterator[Served]:
    served = start_server(tmp_path_factory.mktemp("conformance-mock"), store=module_store_url)
    served.admin("PUT", "/accounts/POOR01/balance", json={"balance": 0}).raise_for_status()
    yield served
    served.stop()


def vendor(mock: Served, **changes: object) -> VendorConfig:
    config = VendorConfig(
        vendor="mockcarrier",
        target=mock.url,
        userid="J10003",
        password="111111",
        apikey="abade5589e2798f82f006bbc36d269ce",
        auth_modes=["md5", "plain", "apikey"],
        signature_length=6,  # the mock adds 【通渝科技】
        test_mobiles=list(MOBILES),
        budget=5000,
        report_timeout=10.0,
        poll_interval=0.05,
        push_silence=2.0,
        lockout_attempts=25,  # the test server locks after 20 (tests/conftest.py)
        auth_failures_allowed=19,  # ...in 300 s: the suite's runs may cause 19 in that window
        lockout_window=300,
        max_examples=6,
        report_ready=0.0,  # the instant profile's reports are due at once
        mo_inject_url=f"{mock.url}/__admin/accounts/J10003/mo",  # the MO checks make MOs
        accounts=[
            ExtraAccount("arrears", "POOR01", "poor-pass"),
            ExtraAccount("ip_restricted", "IPONLY", "ip-pass"),
            ExtraAccount("lockout", "LOCK01"),
        ],
    )
    for key, value in changes.items():
        setattr(config, key, value)
    return config.validate()


def write_vendor_toml(path: Path, mock: Served) -> Path:
    path.write_text(
        f"""
vendor = "mockcarrier"
target = "{mock.url}"
[credentials]
userid = "J10003"
password = "111111"
auth_modes = ["md5", "plain"]
[channel]
signature_length = 6
[test_mobiles]
china_mobile = ["13800138000"]
china_unicom = ["13012345678"]
china_telecom = ["18912345678"]
[budget]
messages = 5000
[timing]
report_timeout = 10
poll_interval = 0.05
report_ready = 0
[mo]
inject_url = "{mock.url}/__admin/accounts/J10003/mo"
[hypothesis]
max_examples = 4
[auth]
failures_allowed = 19                # the test server locks after 20 in 300 s
lockout_window = 300
""",
        encoding="utf-8",
    )
    return path


@pytest.mark.slow
def test_every_check_passes_against_the_mock_with_pushes(mock: Served, tmp_path: Path) -> None:
    port = free_port()
    push = {
        "push_enabled": True,
        "push_rpt_url": f"http://127.0.0.1:{port}/push",
        "push_timeout": 1.0,
        "push_backoff_initial": 0.2,
        "push_backoff_max": 1.0,
    }
    mock.admin("PATCH", "/accounts/J10003", json=push).raise_for_status()
    mock.admin("POST", "/accounts/J10003/mo", json={"mobile": MOBILES[0], "content": "收到"})
    config = vendor(
        mock,
        callback_listen=f"127.0.0.1:{port}",
        callback_url=f"http://127.0.0.1:{port}/push",
        report_dir=str(tmp_path),
    )
    bus = EventBus(
        [JsonReport(tmp_path), HtmlReport(tmp_path), JUnitReport(tmp_path / "junit.xml")]
    )
    started = time.monotonic()
    try:
        run = Runner(config, bus).run()
    finally:
        mock.admin("PATCH", "/accounts/J10003", json={"push_enabled": False})
    elapsed = time.monotonic() - started
    bad = {cid: r.message for cid, r in run.results.items() if r.outcome.counts_as_failure}
    assert not bad
    # get_rpt hands nothing while reports are pushed (P1): its retsize is judged without push
    musts = [c.id for c in select() if c.level is Level.MUST and c.id != "LIMIT-RPT-RETSIZE"]
    assert run.results["LIMIT-RPT-RETSIZE"].outcome is Outcome.NOT_APPLICABLE
    assert all(run.results[cid].outcome is Outcome.PASSED for cid in musts), {
        cid: run.results[cid].outcome.value
        for cid in musts
        if run.results[cid].outcome is not Outcome.PASSED
    }
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "pass" and report["format_version"] == 2
    assert report["exit_code"] == 0 and not report["coverage"]["not_judged"]
    assert report["coverage"]["must_judged"] == report["coverage"]["must_applicable"] > 60
    # The mock takes Unix-seconds timestamps as real carriers do (A2): a strict warning only.
    warned = {cid for cid, r in run.results.items() if r.outcome is Outcome.WARNED}
    assert warned == {"AUTH-UNIX-TIMESTAMP"}
    outcomes = report["summary"]["outcomes"]
    assert outcomes["passed"] + outcomes["warned"] + outcomes["not_applicable"] == len(run.results)
    assert report["metrics"]["delivery"]["rate"] == 1.0
    assert report["metrics"]["channels"] == {
        op: ["10690012122"] for op in ("china_mobile", "china_telecom", "china_unicom")
    }
    assert report["metrics"]["pushes"], "reports came by push"
    assert (tmp_path / "report.html").read_text(encoding="utf-8").count("passed") > 50
    print(f"full suite against the mock: {len(run.results)} checks in {elapsed:.1f} s")


@pytest.mark.slow
def test_cli_run_passes_and_writes_json_and_junit(mock: Served, tmp_path: Path) -> None:
    config = write_vendor_toml(tmp_path / "vendor.toml", mock)
    junit = tmp_path / "out.xml"
    done = subprocess.run(
        [str(BIN / "conformance"), "run", "--config", str(config), "--report-dir", str(tmp_path)]
        + ["--junit-xml", str(junit)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "Conformance summary" in done.stdout and "verdict: PASS" in done.stdout
    assert "judged" in done.stdout.split("verdict: PASS")[1]  # the coverage it rests on
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    checks = {c["id"]: c for c in report["checks"]}
    assert len(checks) == len(select())
    assert checks["AUTH-APIKEY"]["outcome"] == "not_applicable"  # not enabled in the file
    assert checks["MATCH-BATCH-MSGID"]["outcome"] == "passed"
    curl = checks["MATCH-BATCH-MSGID"]["evidence"][0]["curl"]
    assert "\ncurl -sS" in curl and '"$SIG"' in curl and "111111" not in curl  # replayable
    assert report["settings"]["password"] == "***"
    xml = JUnitXml.fromfile(str(junit))
    suites = {suite.name: suite for suite in xml}
    assert set(suites) >= {"codec", "matching", "business"}
    assert sum(s.failures + s.errors for s in suites.values()) == 0
    assert sum(s.tests for s in suites.values()) == len(select())
    assert (tmp_path / "junit.xml").exists()


def test_cli_fails_naming_the_rule_with_a_reproducer(mock: Served, tmp_path: Path) -> None:
    config = write_vendor_toml(tmp_path / "vendor.toml", mock)
    mock.admin("PUT", "/defects", json={"enabled": ["batch-msgid-off-by-one"]}).raise_for_status()
    try:
        done = subprocess.run(
            [
                str(BIN / "conformance"),
                "run",
                "--config",
                str(config),
                "--only",
                "MATCH-BATCH-MSGID",
            ]
            + ["--report-dir", str(tmp_path), "--report-timeout", "2"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        mock.admin("PUT", "/defects", json={"enabled": []})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAIL" in done.stdout and "§3.3.2" in done.stdout
    (check,) = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["checks"]
    assert check["outcome"] == "failed" and "msgid" in check["message"]
    assert "\ncurl -sS -X POST" in check["reproducers"][0]["curl"]
    assert "TS=$(TZ=Asia/Shanghai date +%m%d%H%M%S)" in check["reproducers"][0]["curl"]
    assert "batch_send" in check["reproducers"][0]["curl"]


def test_cli_says_an_unreachable_target_in_one_line_with_status_2() -> None:
    args = [
        "run",
        "--target",
        f"http://127.0.0.1:{free_port()}",
        "--userid",
        "U",
        "--password",
        "p",
    ]
    done = subprocess.run(
        [str(BIN / "conformance"), *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "cannot reach" in done.stderr


def test_cli_says_a_usage_error_in_one_line_with_status_2() -> None:
    done = subprocess.run(
        [str(BIN / "conformance"), "run", "--userid", "U"], capture_output=True, text=True
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "no target" in done.stderr


def test_the_checks_run_under_plain_pytest(mock: Served, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--pyargs", "conformance", "-q", "-p", "no:cacheprovider"]
        + ["--target", mock.url, "--userid", "J10003", "--password", "111111"]
        + ["--only", "codec", "--only", "balance", "--signature-length", "6"]
        + ["--test-mobiles", str(write_mobiles(tmp_path)), "--budget", "100"]
        + ["--poll-interval", "0.05", "--report-dir", str(tmp_path), "--accept-incomplete"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    codec_and_balance = len([c for c in select() if c.category in ("codec", "balance")])
    assert f"{codec_and_balance} passed" in done.stdout
    # two categories are not the whole interface: INCOMPLETE, accepted for this job
    assert "INCOMPLETE: judged" in done.stdout and "accepted by --accept-incomplete" in done.stdout
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "incomplete" and report["accepted_incomplete"] is True


def write_mobiles(folder: Path) -> Path:
    path = folder / "mobiles.txt"
    path.write_text("\n".join(MOBILES) + "\n", encoding="utf-8")
    return path


def test_a_locked_out_account_is_said_in_one_line_with_status_2(mock: Served) -> None:
    wrong = mock.client("LOCK01", "not-the-password")
    deadline = time.monotonic() + 30
    while wrong.get_balance().result != -100002:  # the test server locks after 20
        assert time.monotonic() < deadline
    args = ["run", "--target", mock.url, "--userid", "LOCK01", "--password", "lock-pass"]
    done = subprocess.run(
        [str(BIN / "conformance"), *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "locked out (-100002" in done.stderr
