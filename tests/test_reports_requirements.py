"""reports/requirements.py: one row per tender requirement, judged from real runs against
the mock (clean, and with defects), and the tender's own figures."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from reports import tender
from reports.inputs import Bid, Spread, read_bid, read_conformance, read_load
from reports.requirements import (
    RequirementRow,
    RequirementVerdict,
    judge_all,
    judge_delivery_time,
    judge_interface,
    judge_price,
    judge_volume,
    overall,
    shortfalls,
)
from tests.reports_runs import WRONG_CHANNEL, Runs, session_runs

KEYS = ["2.1.1", "2.1.2", "2.1.3-time", "2.1.3-rate", "volume", "price"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    return session_runs(tmp_path_factory)


def judged(run: Path) -> list[RequirementRow]:
    """The rows of a run directory: its conformance report, load summary and bid."""
    return judge_all(read_conformance(run / "conformance"), read_load(run / "load"), read_bid(run))


@pytest.fixture(scope="module")
def clean(runs: Runs) -> dict[str, RequirementRow]:
    rows = judged(runs.clean)
    assert [r.key for r in rows] == KEYS  # the tender's order
    return {r.key: r for r in rows}


@pytest.fixture(scope="module")
def defective(runs: Runs) -> dict[str, RequirementRow]:
    return {r.key: r for r in judged(runs.defective)}


def test_the_clean_run_meets_every_requirement(clean: dict[str, RequirementRow]) -> None:
    assert all(r.verdict.met for r in clean.values()), {k: r.misses for k, r in clean.items()}
    assert overall(list(clean.values())).met
    assert shortfalls(list(clean.values())) == []


def test_each_row_quotes_the_tender_and_shows_its_evidence(
    clean: dict[str, RequirementRow],
) -> None:
    for row in clean.values():
        assert row.quote in tender.QUOTES.values()
        assert row.evidence and row.headline


def test_interface_failures_name_the_categories_and_the_failed_checks(
    defective: dict[str, RequirementRow],
) -> None:
    row = defective["2.1.1"]
    assert row.verdict is RequirementVerdict.FAIL
    assert "must-check(s) failed" in row.misses[0] and "codec" in row.misses[0]
    # xml-answered-in-json and money-as-number, each caught by name
    assert {"CODEC-XML-REQUEST", "BAL-SHAPE"} <= set(row.checks)
    codec = next(c for c in row.categories if c.name == "codec")
    assert codec.failed and codec.counts["failed"] == len(codec.failed)


def test_interface_rows_leave_out_the_checks_of_other_clauses(
    clean: dict[str, RequirementRow],
) -> None:
    categories = {c.name for c in clean["2.1.1"].categories}
    assert "business" not in categories  # BIZ-* checks are the rows of §2.1.2 / §2.1.3


def test_a_channel_not_ending_in_12122_fails_2_1_2(defective: dict[str, RequirementRow]) -> None:
    row = defective["2.1.2"]
    assert row.verdict is RequirementVerdict.FAIL and row.checks == ["BIZ-CHANNEL-12122"]
    assert WRONG_CHANNEL in " ".join(row.misses)
    assert sum(WRONG_CHANNEL in line for line in row.evidence) == 3  # three networks


def test_lost_deliveries_fail_the_rate_but_not_the_time(
    defective: dict[str, RequirementRow],
) -> None:
    assert defective["2.1.3-rate"].verdict is RequirementVerdict.FAIL
    assert "< 99%" in defective["2.1.3-rate"].misses[0]
    assert defective["2.1.3-time"].verdict is RequirementVerdict.PASS  # lossy is not slow


def test_a_slow_p99_fails_the_delivery_time(runs: Runs) -> None:
    conf = read_conformance(runs.clean / "conformance")
    load = read_load(runs.clean / "load")
    slow = replace(load, latency=replace(load.latency, p99=5.01, max=7.9))
    row = judge_delivery_time(conf, slow)
    assert row.verdict is RequirementVerdict.FAIL and "p99 5.01 s > 5 s" in row.misses[0]
    at_limit = replace(load, latency=replace(load.latency, p99=5.0))
    assert judge_delivery_time(conf, at_limit).verdict is RequirementVerdict.PASS  # 不超过: ≤ 5 s
    nothing = replace(load, latency=Spread())
    assert judge_delivery_time(conf, nothing).verdict is RequirementVerdict.INCOMPLETE


def test_volume_is_the_yearly_volume_at_the_peak_factor(runs: Runs) -> None:
    load = read_load(runs.clean / "load")
    target = 15_000_000 / (365 * 24 * 3600) * load.peak_factor
    assert judge_volume(replace(load, sustained_rate=target)).verdict is RequirementVerdict.PASS
    row = judge_volume(replace(load, sustained_rate=target * 0.9))
    assert row.verdict is RequirementVerdict.FAIL and f"{target:.2f}" in row.misses[0]


@pytest.mark.parametrize(
    ("price", "verdict"),
    [
        ("0.029", RequirementVerdict.PASS),
        ("0.02", RequirementVerdict.PASS),
        ("0.0291", RequirementVerdict.FAIL),
    ],
)
def test_the_price_cap_is_0_029_yuan_inclusive(price: str, verdict: RequirementVerdict) -> None:
    row = judge_price(Bid(price=Decimal(price), source="test"))
    assert row.verdict is verdict
    if verdict is RequirementVerdict.FAIL:
        assert "invalid bid" in row.misses[0]


def test_the_annual_cost_is_the_price_times_15_million() -> None:
    row = judge_price(Bid(price=Decimal("0.026"), source="test"))
    assert "390,000.00 yuan a year" in row.evidence[0]
    assert "435,000.00 yuan a year" in row.evidence[1]  # the cap's
    assert tender.annual_cost(Decimal("0.029")) == Decimal("435000.000")


def test_without_a_quoted_price_the_price_is_not_shown() -> None:
    row = judge_price(Bid())
    assert row.verdict is RequirementVerdict.INCOMPLETE and "no quoted price" in row.misses[0]


def test_should_check_failures_and_skips_are_remarks_not_failures(runs: Runs) -> None:
    conf = read_conformance(runs.clean / "conformance")
    should = next(c for c in conf.checks if c.level == "should" and c.outcome == "passed")
    broken = replace(
        conf,
        checks=[replace(c, outcome="failed") if c is should else c for c in conf.checks],
    )
    row = judge_interface(broken)
    assert row.verdict is RequirementVerdict.REMARKS and should.id in row.checks
    assert any("should-check(s) failed" in m for m in row.misses)


@pytest.mark.parametrize("outcome", ["skipped", "inconclusive"])
def test_a_must_check_not_judged_leaves_the_interface_not_shown_never_passed(
    runs: Runs, outcome: str
) -> None:
    conf = read_conformance(runs.clean / "conformance")
    must = next(c for c in conf.checks if c.level == "must" and c.category == "matching")
    unjudged = replace(
        conf,
        checks=[replace(c, outcome=outcome) if c is must else c for c in conf.checks],
    )
    row = judge_interface(unjudged)
    assert row.verdict is RequirementVerdict.INCOMPLETE and row.verdict.label == "NOT SHOWN"
    assert any(must.id in m and "not judged" in m for m in row.misses)
    rows = judge_all(unjudged, read_load(runs.clean / "load"), read_bid(runs.clean))
    assert overall(rows) is RequirementVerdict.INCOMPLETE  # the sign-off cannot pass either
    assert "judged" in row.evidence[0] and "not judged" in row.evidence[0]


def test_a_clause_check_not_judged_leaves_its_requirement_not_shown(runs: Runs) -> None:
    conf = read_conformance(runs.clean / "conformance")
    unjudged = replace(
        conf,
        checks=[
            replace(c, outcome="inconclusive", message="no delivered report")
            if c.id == "BIZ-DELIVERY-5S"
            else c
            for c in conf.checks
        ],
    )
    row = judge_delivery_time(unjudged, read_load(runs.clean / "load"))
    assert row.verdict is RequirementVerdict.INCOMPLETE
    assert "BIZ-DELIVERY-5S not judged: no delivered report" in row.misses


def test_a_partial_suite_run_does_not_show_the_interface(runs: Runs) -> None:
    conf = read_conformance(runs.clean / "conformance")
    partial = replace(conf, settings={**conf.settings, "only": ["codec"]})
    row = judge_interface(partial)
    assert row.verdict is RequirementVerdict.INCOMPLETE and "ran only codec" in row.misses[0]


def test_overall_fail_outweighs_not_shown_which_outweighs_remarks() -> None:
    def rows(*verdicts: RequirementVerdict) -> list[RequirementRow]:
        return [RequirementRow(str(i), "§", "t", "q", v) for i, v in enumerate(verdicts)]

    assert (
        overall(rows(RequirementVerdict.PASS, RequirementVerdict.PASS)) is RequirementVerdict.PASS
    )
    assert (
        overall(rows(RequirementVerdict.PASS, RequirementVerdict.REMARKS))
        is RequirementVerdict.REMARKS
    )
    assert (
        overall(rows(RequirementVerdict.REMARKS, RequirementVerdict.INCOMPLETE))
        is RequirementVerdict.INCOMPLETE
    )
    assert (
        overall(rows(RequirementVerdict.INCOMPLETE, RequirementVerdict.FAIL))
        is RequirementVerdict.FAIL
    )
