"""loadtests/report.py: report.html, the run's own verdict on one page, and the paths of
summary.json's `files` (relative to the report directory)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from loadtests import plots
from loadtests.report import number, write_report
from loadtests.summary import relative_to_report


def latency(p50: float, p99: float) -> dict[str, Any]:
    return {"count": 3, "min_ms": 90.0, "mean_ms": p50, "p50_ms": p50, "p95_ms": p99,
            "p99_ms": p99, "max_ms": p99}  # fmt: skip


def summary(passed: bool = False) -> dict[str, Any]:
    """A summary as loadtests/summary.py writes it (the fields the page reads)."""
    return {
        "tool": "loadtests 0.1.0",
        "scenario": "latency",
        "target": "http://carrier.example:8080",
        "started": "2026-11-30T10:00:00+00:00",
        "finished": "2026-11-30T10:01:00+00:00",
        "settings": {
            "userid": "J10003",
            "users": 4,
            "annual_volume": 15000000.0,
            "thresholds": {"max_p99_delivery": 5.0},
        },  # fmt: skip
        "passed": passed,
        "failed_thresholds": [] if passed else ["min_delivery_rate"],
        "thresholds": [
            {
                "name": "max_p99_delivery",
                "rule": "§2.1.3 delivery ≤ 5 s",
                "limit": 5.0,
                "value": 0.4603,
                "unit": "s",
                "passed": True,
                "message": "p99 0.460 s ≤ 5 s",
            },
            {
                "name": "min_delivery_rate",
                "rule": "§2.1.3 delivery rate ≥ 99 %",
                "limit": 99.0,
                "value": 82.0611,
                "unit": "%",
                "passed": passed,
                "message": "delivery rate 82.061 % < 99 %",
            },
        ],  # fmt: skip
        "volume": {
            "annual_volume": 15000000.0,
            "peak_factor": 10.0,
            "peak_rate": 4.756468797564688,
            "offered_rate": 60.0,
            "sustained_rate": 60.0644,
            "accepted_messages": 242,
        },  # fmt: skip
        "requests": {"total": 245, "by_result": {"0": 245}, "error_rate": 0.0},
        "http_latency": {"all_sends": latency(4.8, 55.7)},
        "delivery": {
            "segments": 262,
            "reported": 262,
            "delivered": 215,
            "failed": 47,
            "lost": 0,
            "rate": 0.820611,
            "by_errcode": {"UNDELIV": 37},
            "latency": latency(263.9, 460.3),
            "histogram_bucket_ms": 100.0,
            "histogram": [[200.0, 2], [400.0, 1]],
        },  # fmt: skip
        "interval_s": 1.0,
        "timeseries": [{"t": 0.0, "delivery": latency(263.9, 460.3)}],
        "files": {"summary": "summary.json", "locust_html": "locust.html"},
    }


@pytest.fixture
def page(tmp_path: Path) -> str:
    data = summary()
    data["files"]["plots"] = plots.write_plots(data, tmp_path)
    assert write_report(data, tmp_path) == "report.html"
    return (tmp_path / "report.html").read_text(encoding="utf-8")


def test_the_page_leads_with_the_verdict_and_the_failed_threshold(page: str) -> None:
    assert page.index("FAIL: min_delivery_rate") < page.index('id="thresholds"')


def test_each_threshold_shows_its_rule_limit_and_measured_value(page: str) -> None:
    row = page[page.index('id="threshold-min_delivery_rate"') :]
    row = row[: row.index("</tr>")]
    assert "§2.1.3 delivery rate ≥ 99 %" in row and "99 %" in row and "82.061 %" in row
    assert "FAIL" in row


def test_figures_are_written_as_a_person_reads_them(page: str) -> None:
    assert "15,000,000" in page and "4.756 msg/s" in page and "82.06 %" in page
    assert "4.756468797564688 msg" not in page and "15000000.0 " not in page
    assert "0.460 s" in page  # p99 delivery, from milliseconds


def test_the_plots_are_inside_the_page(page: str) -> None:
    assert page.count('src="data:image/png;base64,') == 2


def test_a_passing_run_says_so(tmp_path: Path) -> None:
    write_report(summary(passed=True), tmp_path)
    assert "PASS: every threshold met" in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_the_page_can_be_rewritten_from_a_report_directory(tmp_path: Path) -> None:

    (tmp_path / "summary.json").write_text(json.dumps(summary()), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "loadtests.report", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "report.html").is_file()


@pytest.mark.parametrize(
    "value, shown", [(15000000.0, "15,000,000"), (4.756468797564688, "4.756"), (None, "–")]
)
def test_numbers_are_grouped_and_rounded(value: Any, shown: str) -> None:
    assert number(value) == shown


def test_files_are_relative_to_the_report_directory_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert relative_to_report("out/load/locust.html", "out/load") == "locust.html"
    assert relative_to_report(str(tmp_path / "out/load/locust"), "out/load") == "locust"
    assert relative_to_report(None, "out/load") is None
    assert os.path.isabs(relative_to_report("x", "/elsewhere")) is False
