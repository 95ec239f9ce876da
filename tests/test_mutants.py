"""The mutation campaign's machinery (conformance/mutants): the mutating proxy in front of
a served mock, over real sockets, and a few mutants each killed by the check of its rule.
The whole campaign is slow and runs outside CI: `python -m conformance.mutants`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance.catalogue import select
from conformance.mutants.campaign import Bench, bench, categories_for, judge
from conformance.mutants.catalogue import BY_NAME, MUTANTS
from conformance.outcomes import Outcome
from conformance.runner import Runner


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    with bench(tmp_path_factory.mktemp("mutants")) as b:
        yield b


def test_the_catalogue_has_at_least_40_distinct_mutants_each_tied_to_real_checks() -> None:
    assert len(MUTANTS) >= 40 and len(BY_NAME) == len(MUTANTS)
    ids = {c.id for c in select()}
    for mutant in MUTANTS:
        assert mutant.rule and mutant.description, mutant.name
        assert mutant.kills == ("*",) or set(mutant.kills) <= ids, mutant.name
        assert mutant.request or mutant.answer or mutant.push or mutant.push_answer


def test_the_proxy_without_a_mutant_changes_nothing_the_suite_judges(served: Bench) -> None:
    outcomes, _ = served.run(None, False, only=["balance"])
    assert outcomes and all(o is Outcome.PASSED for o in outcomes.values()), outcomes


@pytest.mark.parametrize("name", ["money-two-decimals", "phantom-report", "push-seqid-restarts"])
def test_a_mutant_is_killed_by_the_check_of_its_rule(served: Bench, name: str) -> None:
    mutant = BY_NAME[name]
    outcomes, seconds = served.run(mutant, mutant.pushes)
    result = judge(served, mutant, outcomes, seconds, mutant.pushes)
    assert result.by_its_rule and result.status == "KILLED", result.failed
    assert not result.hook_errors  # a mutant's own bug never passes for a kill
    assert set(outcomes) == {c.id for c in select(categories_for(mutant))}


@pytest.mark.parametrize(
    ("name", "only", "check_id"),
    [
        ("custid-rotated-in-reports", ["MATCH-CUSTID"], "MATCH-CUSTID"),
        ("report-mobile-rotated", ["MATCH-CUSTID"], "MATCH-CUSTID"),
        # the run's other sends carry no exdata: RPT-ECHO arranges an echo of its own
        ("report-exdata-dropped", ["RPT-FAILED-REPORT", "RPT-ECHO"], "RPT-ECHO"),
        # hypothesis replays a failing example; the carrier's state makes it differ
        ("segment-id-off-by-one", ["MATCH-STATEFUL"], "MATCH-STATEFUL"),
        ("charges-twice", ["BAL-CHARGED"], "BAL-CHARGED"),  # over-charging fails (strict)
        # its own send is answered "OK": the answer is judged, not taken for a refusal
        ("success-result-unreadable", ["CODEC-ANSWER-SCHEMA"], "CODEC-ANSWER-SCHEMA"),
        # alone, the check tops the run up to its sample: 5 of 100 segments fail
        ("one-in-twenty-fails", ["BIZ-DELIVERY-RATE"], "BIZ-DELIVERY-RATE"),
    ],
)
def test_the_check_of_its_rule_alone_fails_the_mutant_and_passes_without(
    served: Bench, name: str, only: list[str], check_id: str
) -> None:
    broken, _ = served.run(BY_NAME[name], False, only=only)
    assert broken[check_id] is Outcome.FAILED, broken
    clean, _ = served.run(None, False, only=only)
    assert clean[check_id] is Outcome.PASSED, clean


def test_over_charging_is_a_deviation_the_lenient_profile_warns_about(served: Bench) -> None:
    served.proxy.use(BY_NAME["charges-twice"])
    try:
        config = served.config(False, only=["BAL-CHARGED"])
        config.profile = "lenient"
        result = Runner(config).run(select(config.only)).results["BAL-CHARGED"]
    finally:
        served.proxy.use(None)
    assert result.outcome is Outcome.WARNED, result.message
    assert any("F16" in w.rows and "more than the segments" in w.message for w in result.warnings)
