"""reports/inputs.py: the adapters read what the suite and the load tests really write, and
refuse anything else in one line that names the file and the field."""

from __future__ import annotations

import hashlib
import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from reports.inputs import (
    Bid,
    InputError,
    parse_price,
    read_bid,
    read_conformance,
    read_load,
)
from tests.reports_runs import WRONG_CHANNEL, Runs, session_runs


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    return session_runs(tmp_path_factory)


def edited(source: Path, target: Path, change: Any) -> Path:
    """A copy of a real JSON output with one change applied (change(data) -> data)."""
    target.mkdir(parents=True, exist_ok=True)
    data = json.loads(source.read_text(encoding="utf-8"))
    (target / source.name).write_text(json.dumps(change(data)), encoding="utf-8")
    return target


def test_the_suites_report_json_is_read_with_its_identity(runs: Runs) -> None:
    conf = read_conformance(runs.clean / "conformance")
    assert conf.verdict == "pass" and conf.vendor == "Clean Carrier Co."
    assert conf.suite.startswith("tongyu-conformance ") and conf.schemas_digest
    assert conf.sha256 == hashlib.sha256(conf.path.read_bytes()).hexdigest()
    assert {"codec", "auth", "matching", "business"} <= {c.name for c in conf.categories}
    assert len({c.id for c in conf.checks}) == len(conf.checks) > 50
    for network in ("china_mobile", "china_unicom", "china_telecom"):
        assert conf.channels[network] == ["10690012122"]
    assert conf.latency.count > 0 and conf.delivery_rate == 1.0


def test_a_report_file_may_be_named_instead_of_its_directory(runs: Runs) -> None:
    assert read_conformance(runs.clean / "conformance" / "report.json").verdict == "pass"
    assert read_load(runs.clean / "load" / "summary.json").passed


def test_failed_checks_carry_their_reproducers(runs: Runs) -> None:
    conf = read_conformance(runs.defective / "conformance")
    failed = [c for c in conf.checks if c.failed]
    assert conf.verdict == "fail" and failed
    with_curl = [c for c in failed if c.reproducers]
    assert with_curl and all("curl -sS" in e.curl for c in with_curl for e in c.reproducers)
    # item 8: fresh §3.1 credentials made by the shell, the password never written out
    assert all("111111" not in e.curl for c in with_curl for e in c.reproducers)
    assert conf.channels["china_mobile"] == [WRONG_CHANNEL]


def test_the_load_summary_is_read_in_seconds(runs: Runs) -> None:
    load = read_load(runs.clean / "load")
    raw = json.loads((runs.clean / "load" / "summary.json").read_text(encoding="utf-8"))
    assert load.latency.p99 == pytest.approx(raw["delivery"]["latency"]["p99_ms"] / 1000)
    assert load.latency.count == raw["delivery"]["latency"]["count"] > 100
    assert load.delivery_rate == 1.0 and load.passed
    assert load.bucket_s == pytest.approx(raw["delivery"]["histogram_bucket_ms"] / 1000)
    assert sum(n for _, n in load.histogram) == load.latency.count
    assert load.timeseries and all(p.p99 is None or p.p99 < 5 for p in load.timeseries)
    assert load.peak_rate == pytest.approx(15e6 / (365 * 86400) * load.peak_factor)


def test_the_defective_load_run_reads_its_failures(runs: Runs) -> None:
    load = read_load(runs.defective / "load")
    assert not load.passed and load.delivery_rate < 0.99
    assert load.by_errcode.get("UNDELIV", 0) > 0


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda d: {**d, "format": "something-else"}, "is not a conformance report"),
        (lambda d: {**d, "format_version": 99}, "format_version 99"),
        (lambda d: {k: v for k, v in d.items() if k != "checks"}, "'checks' is a required"),
        (
            lambda d: {**d, "metrics": {**d["metrics"], "delivery": {"rate": "high"}}},
            "$.metrics.delivery",
        ),
        (lambda d: {**d, "run": {**d["run"], "started": "yesterday"}}, "not an ISO 8601"),
    ],
)
def test_a_report_json_of_an_unknown_format_is_refused(
    runs: Runs, tmp_path: Path, change: Any, says: str
) -> None:
    folder = edited(runs.clean / "conformance" / "report.json", tmp_path, change)
    with pytest.raises(InputError, match="report.json") as raised:
        read_conformance(folder)
    assert says in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda d: {**d, "schema": "tongyu-loadtests-summary/2"}, "summary schema"),
        (lambda d: {k: v for k, v in d.items() if k != "delivery"}, "'delivery' is a required"),
        (
            lambda d: {**d, "delivery": {**d["delivery"], "histogram": [[1, 2, 3]]}},
            "$.delivery.histogram[0]",
        ),
    ],
)
def test_a_summary_json_that_is_not_schema_1_is_refused(
    runs: Runs, tmp_path: Path, change: Any, says: str
) -> None:
    folder = edited(runs.clean / "load" / "summary.json", tmp_path, change)
    with pytest.raises(InputError, match="summary.json") as raised:
        read_load(folder)
    assert says in str(raised.value)


def test_a_missing_input_names_the_file_and_the_command_that_writes_it(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"report.json: no such file .*conformance run"):
        read_conformance(tmp_path)
    with pytest.raises(InputError, match=r"summary.json: no such file .*loadtests run"):
        read_load(tmp_path / "nowhere")


def test_an_input_that_is_not_json_is_refused(tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text("<html>", encoding="utf-8")
    with pytest.raises(InputError, match="not JSON"):
        read_load(tmp_path)


def test_bid_toml_gives_the_vendor_and_the_quoted_price(runs: Runs, tmp_path: Path) -> None:
    bid = read_bid(runs.clean)
    assert (bid.vendor, bid.price) == ("Clean Carrier Co.", Decimal("0.026"))
    assert "bid.toml" in bid.source
    assert read_bid(tmp_path) == Bid()  # no bid.toml: nothing known
    (tmp_path / "bid.toml").write_text('vendor = "X"\ncost = 1\n', encoding="utf-8")
    with pytest.raises(InputError, match="unknown key"):
        read_bid(tmp_path)
    (tmp_path / "bid.toml").write_text('price = "cheap"\n', encoding="utf-8")
    with pytest.raises(InputError, match="not a positive number"):
        read_bid(tmp_path)


@pytest.mark.parametrize("text", ["0", "-0.01", "abc", "nan", "inf", ""])
def test_a_price_is_a_positive_number_of_yuan(text: str) -> None:
    with pytest.raises(InputError):
        parse_price(text)


def test_prices_are_exact_decimals() -> None:
    assert parse_price("0.029") == Decimal("0.029")
    assert parse_price(0.029) == Decimal("0.029")  # a TOML float, through its text


def test_a_run_directory_copied_elsewhere_reads_the_same(runs: Runs, tmp_path: Path) -> None:
    copy = shutil.copytree(runs.clean / "conformance", tmp_path / "conformance")
    assert read_conformance(copy).sha256 == read_conformance(runs.clean / "conformance").sha256
