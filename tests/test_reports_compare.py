"""reports/compare.py: vendors side by side, ranked by the tender's rule (§7): among those
meeting every substantive requirement the lowest price wins; the others say what they miss."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reports.compare import build
from tests.reports_runs import Runs, session_runs


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    return session_runs(tmp_path_factory)


def rebid(source: Path, target: Path, vendor: str, price: str | None) -> Path:
    """The same evidence, another bid."""
    shutil.copytree(source / "conformance", target / "conformance")
    shutil.copytree(source / "load", target / "load")
    line = f"price = {price}\n" if price is not None else ""
    (target / "bid.toml").write_text(f'vendor = "{vendor}"\n{line}', encoding="utf-8")
    return target


def test_the_clean_run_ranks_first_though_the_defective_one_is_cheaper(runs: Runs) -> None:
    comparison = build([runs.defective, runs.clean])
    (first,) = comparison.ranked
    assert (first.label, first.rank) == ("Clean Carrier Co.", 1)
    (other,) = comparison.unranked
    assert (
        other.label == "Defective Carrier Co." and other.signoff.bid.price < first.signoff.bid.price
    )
    said = " ".join(other.misses)
    for clause in ("§2.1.1", "§2.1.2", "§2.1.3"):
        assert clause in said


def test_among_qualified_vendors_the_lowest_price_wins(runs: Runs, tmp_path: Path) -> None:
    cheap = rebid(runs.clean, tmp_path / "cheap", "Cheap Co.", "0.021")
    comparison = build([runs.clean, cheap])
    assert [(e.label, e.rank) for e in comparison.entries] == [
        ("Cheap Co.", 1),
        ("Clean Carrier Co.", 2),
    ]


def test_equal_prices_share_a_rank(runs: Runs, tmp_path: Path) -> None:
    twin = rebid(runs.clean, tmp_path / "twin", "Twin Co.", "0.026")
    comparison = build([runs.clean, twin])
    assert [e.rank for e in comparison.entries] == [1, 1]
    assert all(e.tied for e in comparison.entries) and len(comparison.winners) == 2


def test_a_price_above_the_cap_is_an_invalid_bid(runs: Runs, tmp_path: Path) -> None:
    dear = rebid(runs.clean, tmp_path / "dear", "Dear Co.", "0.03")
    comparison = build([dear, runs.clean])
    assert [e.label for e in comparison.ranked] == ["Clean Carrier Co."]
    assert "invalid bid" in comparison.unranked[0].misses[0]


def test_a_bid_without_a_price_is_not_ranked(runs: Runs, tmp_path: Path) -> None:
    silent = rebid(runs.clean, tmp_path / "silent", "Silent Co.", None)
    comparison = build([silent])
    assert comparison.ranked == [] and "no quoted price" in comparison.unranked[0].misses[0]


def test_vendors_of_the_same_name_are_told_apart_by_run(runs: Runs, tmp_path: Path) -> None:
    again = rebid(runs.clean, tmp_path / "again", "Clean Carrier Co.", "0.027")
    labels = [e.label for e in build([runs.clean, again]).entries]
    assert labels == ["Clean Carrier Co. (clean)", "Clean Carrier Co. (again)"]


def test_the_matrix_lists_every_check_with_each_vendors_outcome(runs: Runs) -> None:
    comparison = build([runs.clean, runs.defective])
    lines = {line.id: line.outcomes for line in comparison.check_lines()}
    assert lines["CODEC-XML-REQUEST"] == ["passed", "failed"]
    assert lines["BIZ-CHANNEL-12122"] == ["passed", "failed"]
    assert all(len(outcomes) == 2 for outcomes in lines.values())


def test_compare_command_prints_the_ranking_and_writes_the_documents(
    runs: Runs, tmp_path: Path
) -> None:
    out = tmp_path / "comparison.html"
    cmd = [sys.executable, "-m", "reports", "compare", str(runs.defective), str(runs.clean)]
    done = subprocess.run([*cmd, "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "1. Clean Carrier Co.: 0.026 yuan/message" in done.stdout
    assert "not ranked: Defective Carrier Co.: §2.1.1" in done.stdout
    html = out.read_text(encoding="utf-8")
    assert "Clean Carrier Co.</strong> ranks first" in html
    text = subprocess.run(
        ["pdftotext", "-layout", str(out.with_suffix(".pdf")), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Ranking" in text and "CODEC-XML-REQUEST" in text


def test_compare_exits_1_when_no_vendor_qualifies(runs: Runs, tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "reports", "compare", str(runs.defective), "--no-pdf"]
    done = subprocess.run(
        [*cmd, "--out", str(tmp_path / "c.html")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1 and "not ranked: Defective Carrier Co." in done.stdout


def test_a_vendor_with_a_must_check_not_judged_is_not_ranked(runs: Runs, tmp_path: Path) -> None:
    """The comparison applies the sign-off's rule: not shown is not met."""
    cheap = rebid(runs.clean, tmp_path / "unjudged", "Unjudged Co.", "0.020")
    path = cheap / "conformance" / "report.json"
    report = json.loads(path.read_text(encoding="utf-8"))
    must = next(c for c in report["checks"] if c["level"] == "must" and c["id"].startswith("MO-"))
    must["outcome"], must["message"] = "inconclusive", "no MO arrived"
    path.write_text(json.dumps(report), encoding="utf-8")
    comparison = build([runs.clean, cheap])
    unjudged = next(e for e in comparison.entries if e.label == "Unjudged Co.")
    assert unjudged.rank is None and unjudged.signoff.verdict.label == "NOT SHOWN"
    assert any(must["id"] in m for m in unjudged.misses)
    assert [e.label for e in comparison.ranked] == ["Clean Carrier Co."]
