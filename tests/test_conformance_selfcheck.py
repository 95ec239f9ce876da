"""`conformance selfcheck`: every defect mode of the mock carrier is caught by the check
of the rule it breaks, with the expectation, what came back and a reproducer."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.outcomes import Outcome
from conformance.selfcheck import CAUGHT_BY, SelfcheckVerdict, selfcheck


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SelfcheckVerdict]:
    # the clean run is proven in test_conformance_run.py; here the defects only
    found = selfcheck(tmp_path_factory.mktemp("selfcheck"), clean=False)
    return {v.name: v for v in found}


def test_the_selfcheck_knows_every_defect_mode_of_the_mock(verdicts: dict) -> None:
    assert set(verdicts) == set(CAUGHT_BY)


@pytest.mark.parametrize("defect", sorted(CAUGHT_BY))
def test_each_defect_is_caught_by_the_check_of_its_rule(defect: str, verdicts: dict) -> None:
    verdict = verdicts[defect]
    assert verdict.caught, verdict.failed
    (check_id,) = [c for c in CAUGHT_BY[defect] if c in verdict.failed][:1]
    result = verdict.run.results[check_id]
    assert result.outcome is Outcome.FAILED
    assert result.message.startswith("expected ") and "; got " in result.message
    assert result.rule  # the check's one-line rule goes with every failure
    final = {c.id for c in verdict.run.checks if c.final}  # run-wide: no single request
    if check_id not in final:
        assert result.reproducers and "\ncurl " in "\n" + result.reproducers[0].curl


def test_selfcheck_can_run_one_named_defect(tmp_path: Path) -> None:
    (only,) = selfcheck(tmp_path, ["custid-not-echoed"], clean=False)
    assert only.name == "custid-not-echoed" and only.caught


def test_a_defect_caught_only_by_other_checks_is_a_miss() -> None:
    elsewhere = SelfcheckVerdict(
        "custid-not-echoed", [], ["CODEC-ANSWER-SCHEMA"], 0.0, None, ("X",)
    )
    untied = SelfcheckVerdict("new-defect", [], ["MATCH-CUSTID"], 0.0, None, ())
    assert not elsewhere.caught and elsewhere.caught_elsewhere == ["CODEC-ANSWER-SCHEMA"]
    assert not untied.caught
