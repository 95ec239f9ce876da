"""`conformance selfcheck`: every defect mode of the mock carrier is caught by the check
of the rule it breaks, with the expectation, what came back and a reproducer."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.outcomes import Outcome
from conformance.selfcheck import Verdict, selfcheck

# defect mode of the mock → the check that must catch it (others may catch it too)
CAUGHT_BY = {
    "batch-msgid-off-by-one": "MATCH-BATCH-MSGID",
    "wrong-segment-stride": "MATCH-SINGLE-LONG",
    "xml-answered-in-json": "CODEC-XML-REQUEST",
    "msgid-as-string": "CODEC-ANSWER-SCHEMA",
    "money-as-number": "BAL-SHAPE",
    "failure-shape-broken": "ERR-FAILURE-SHAPE",
    "auth-not-checked": "AUTH-WRONG-DIGEST",
    "push-digest-upper-case": "PUSH-DIGEST",
    "retsize-cap-ignored": "LIMIT-RPT-RETSIZE",
    "batch-limit-ignored": "LIMIT-BATCH-OVER-1000",
    "custid-not-echoed": "MATCH-MULTI-MSGID",
    "report-custid-missing": "MATCH-CUSTID",
    "pknum-zero-for-short": "MATCH-PKNUM-PKTOTAL",
    "time-iso-format": "RPT-FIELDS",
    "reports-handed-twice": "MATCH-NO-DUPLICATE-REPORT",
    "seqid-not-increasing": "PUSH-SEQID",
    "push-over-limit": "PUSH-BATCH-SIZE",
    "push-as-json": "PUSH-FORM",
    "push-no-retry": "PUSH-RETRY-REFUSED",
}


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Verdict]:
    # the clean run is proven in test_conformance_run.py; here the defects only
    found = selfcheck(tmp_path_factory.mktemp("selfcheck"), clean=False)
    return {v.name: v for v in found}


def test_the_selfcheck_knows_every_defect_mode_of_the_mock(verdicts: dict) -> None:
    assert set(verdicts) == set(CAUGHT_BY)


@pytest.mark.parametrize("defect", sorted(CAUGHT_BY))
def test_each_defect_is_caught_by_the_check_of_its_rule(defect: str, verdicts: dict) -> None:
    verdict = verdicts[defect]
    assert CAUGHT_BY[defect] in verdict.failed, verdict.failed
    result = verdict.run.results[CAUGHT_BY[defect]]
    assert result.outcome is Outcome.FAILED
    assert result.message.startswith("expected ") and "; got " in result.message
    assert result.rule  # the check's one-line rule goes with every failure
    assert result.reproducers and result.reproducers[0].curl.startswith("curl ")


def test_selfcheck_can_run_one_named_defect(tmp_path: Path) -> None:
    (only,) = selfcheck(tmp_path, ["custid-not-echoed"], clean=False)
    assert only.name == "custid-not-echoed" and only.caught
