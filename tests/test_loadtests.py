"""`loadtests run`: real headless Locust runs against a served mock carrier.

Both directions of every verdict: the default delivery profile passes the tender's
thresholds, the slow and lossy profiles fail them, each by name.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Served, free_port, start_server

RUN_TIMEOUT = 90


def loadtests(
    served: Served, report: Path, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "loadtests", "run", "--target", served.url]
    cmd += ["--report-dir", str(report), "--locust-loglevel", "WARNING", *args]
    process = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        cwd=cwd,
    )
    try:
        out, err = process.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the master and its worker processes
        out, err = process.communicate()
    return subprocess.CompletedProcess(cmd, process.returncode, out, err)


def summary_of(report: Path) -> dict[str, Any]:
    return json.loads((report / "summary.json").read_text(encoding="utf-8"))


def locust_rows(report: Path) -> dict[tuple[str, str], dict[str, str]]:
    with open(report / "locust_stats.csv", encoding="utf-8") as fh:
        return {(row["Type"], row["Name"]): row for row in csv.DictReader(fh)}


def test_peak_command_states_the_derived_rate() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "loadtests", "peak", "--peak-factor", "10"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout)["peak_rate"] == round(15e6 * 10 / 31_536_000, 6)


@pytest.mark.slow
def test_latency_passes_against_the_default_profile_by_push_and_poll(tmp_path: Path) -> None:
    push_port = free_port()
    with start_server(
        tmp_path,
        "--time-scale",
        "1",  # real time: the profile's own latencies
        "--delivery-profile",
        "default",
        "--push-rpt-url",
        f"http://127.0.0.1:{push_port}/rpt",
    ) as served:  # both ways at once: each report goes by push or by poll, whichever comes first
        served.admin("PATCH", "/accounts/J10003", json={"pull_while_push": True})
        report = tmp_path / "report"
        run = loadtests(
            served,
            report,
            *("--scenario", "latency", "--users", "5", "--rate", "100", "--duration", "6s"),
            *("--push-listen", f"127.0.0.1:{push_port}", "--poll-interval", "0.5"),
        )
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    assert "loadtests: PASSED" in run.stdout
    summary = summary_of(report)
    assert summary["passed"] and summary["failed_thresholds"] == []
    delivery = summary["delivery"]
    assert delivery["latency"]["count"] >= 400
    assert delivery["latency"]["p99_ms"] <= 5000
    assert delivery["rate"] >= 0.99 and delivery["lost"] == 0
    assert delivery["latency_by_channel"]["push"]["count"] > 0
    assert delivery["push_requests"].get("ok", 0) > 0
    assert delivery["matched_by"]["msgid"] >= delivery["reported"]
    for name in ("locust.html", "delivery-percentiles.png", "delivery-histogram.png"):
        assert (report / name).stat().st_size > 0
    rows = locust_rows(report)
    assert int(rows[("DELIVERY", "push")]["Request Count"]) > 0
    assert int(rows[("POST", "single_send")]["Failure Count"]) == 0


@pytest.mark.slow
def test_latency_fails_p99_against_the_slow_profile(tmp_path: Path) -> None:
    with start_server(tmp_path, "--time-scale", "1", "--delivery-profile", "slow") as served:
        report = tmp_path / "report"
        run = loadtests(
            served,
            report,
            *("--scenario", "latency", "--users", "4", "--rate", "60", "--duration", "5s"),
            *("--drain", "7s", "--poll-interval", "0.5"),
        )
    assert run.returncode == 1, run.stdout + run.stderr[-3000:]
    assert "FAIL max_p99_delivery" in run.stdout
    summary = summary_of(report)
    assert "max_p99_delivery" in summary["failed_thresholds"]
    assert summary["delivery"]["latency_by_channel"]["poll"]["p99_ms"] > 5000


@pytest.mark.slow
def test_latency_fails_the_delivery_rate_against_the_lossy_profile(tmp_path: Path) -> None:
    with start_server(tmp_path, "--delivery-profile", "lossy") as served:  # time scale 10
        # A report directory relative to the working directory, as people give it.
        run = loadtests(
            served,
            Path("out") / "load",
            *("--scenario", "latency", "--users", "5", "--rate", "100", "--duration", "5s"),
            *("--poll-interval", "0.2"),
            cwd=tmp_path,
        )
    report = tmp_path / "out" / "load"
    assert run.returncode == 1, run.stdout + run.stderr[-3000:]
    assert "FAIL min_delivery_rate" in run.stdout
    summary = summary_of(report)
    # Every path of `files` is relative to the report directory, and names a file there.
    files = summary["files"]
    named = [files["summary"], files["locust_html"], files["report"], *files["plots"]]
    for name in named:
        assert not Path(name).is_absolute() and (report / name).is_file(), name
    assert (report / f"{files['locust_csv_prefix']}_stats.csv").is_file()
    # The run's own verdict on one page: the failed threshold, its limit and figure.
    page = (report / "report.html").read_text(encoding="utf-8")
    assert "FAIL: min_delivery_rate" in page and 'id="threshold-min_delivery_rate"' in page
    assert "data:image/png;base64," in page
    assert summary["failed_thresholds"] == ["min_delivery_rate"]
    delivery = summary["delivery"]
    assert delivery["failed"] == sum(delivery["by_errcode"].values()) > 0
    assert summary["requests"]["by_result"].keys() == {"0"}


@pytest.mark.slow
def test_distributed_run_merges_both_workers(tmp_path: Path) -> None:
    push_port = free_port()
    with start_server(
        tmp_path,
        "--delivery-profile",
        "default",
        "--push-rpt-url",
        f"http://127.0.0.1:{push_port}/rpt",
    ) as served:
        report = tmp_path / "report"
        run = loadtests(
            served,
            report,
            *("--processes", "2", "--scenario", "latency", "--users", "4", "--rate", "40"),
            *("--duration", "4s", "--push-listen", f"127.0.0.1:{push_port}"),
        )
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    summary = summary_of(report)
    workers = summary["workers"]
    assert set(workers) == {"worker0", "worker1"}
    assert all(w["messages"] > 0 for w in workers.values())
    reported = summary["delivery"]["reported"]  # delivered or failed, each segment once
    assert reported == sum(w["segments"] for w in workers.values())
    rows = locust_rows(report)  # the master's Locust statistics hold every report
    assert int(rows[("DELIVERY", "push")]["Request Count"]) == reported
    sent = sum(int(rows[("POST", e)]["Request Count"]) for e in ("single_send", "batch_send"))
    assert sent > 0


def test_volume_fails_a_rate_it_cannot_reach_and_names_it(tmp_path: Path) -> None:
    with start_server(tmp_path, "--delivery-profile", "instant") as served:
        report = tmp_path / "report"
        run = loadtests(
            served,
            report,
            *("--scenario", "volume", "--users", "3", "--rate", "30", "--duration", "3s"),
            *("--ramp", "0s", "--min-rate", "1000", "--poll-interval", "0.2"),
            *("--target-pid", str(served.process.pid), "--interval", "1"),
        )
    assert run.returncode == 1, run.stdout + run.stderr[-3000:]
    summary = summary_of(report)
    assert summary["failed_thresholds"] == ["min_rate"]
    assert 20 <= summary["volume"]["sustained_rate"] <= 36
    assert summary["volume"]["accepted_messages"] <= summary["settings"]["max_messages"]
    assert any(row["target_rss"] for row in summary["timeseries"])
    assert summary["target_memory"]["last_rss"] > 10_000_000  # the mock and its workers


def test_soak_reports_drift_and_passes_when_nothing_creeps(tmp_path: Path) -> None:
    with start_server(tmp_path, "--delivery-profile", "instant") as served:
        report = tmp_path / "report"
        run = loadtests(
            served,
            report,
            *("--scenario", "soak", "--users", "2", "--rate", "20", "--duration", "4s"),
            *("--interval", "0.5", "--poll-interval", "0.2", "--fmt", "xml"),
        )
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    summary = summary_of(report)
    assert [v["name"] for v in summary["thresholds"]][-1] == "max_drift"
    assert summary["delivery"]["drift_s"] is not None
    assert abs(summary["delivery"]["drift_s"]) < 1.0
    assert len(summary["timeseries"]) >= 6
