"""The matching, report and business checks against a served mock: none passes on empty
evidence, each fails against a carrier that breaks its rule (the mock's defect modes), a
matching fault fails at once and still counts as delivered, and a run-wide check run
alone (`--only`) arranges its own traffic."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance import context
from conformance.catalogue import Level, select
from conformance.events import EventBus, Waiting
from conformance.outcomes import Outcome
from conformance.runner import Runner

from .conftest import Served, start_server
from .test_conformance_run import vendor

NEVER_REPORTED = "13800000003"  # the mock's magic number: accepted, never reported
MINE = ("matching", "reports", "business")  # the categories these checks live in


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    # SQLite only: the checks are under test here, not the stores
    served = start_server(tmp_path_factory.mktemp("conformance-matching"))
    yield served
    served.stop()


def run(mock: Served, only: list[str], defects: tuple[str, ...] = (), **changes: object):
    mock.admin("PUT", "/defects", json={"enabled": list(defects)}).raise_for_status()
    seen: list[Waiting] = []

    class Watch:
        def handle(self, event: object) -> None:
            if isinstance(event, Waiting):
                seen.append(event)

    try:
        mos = f"{mock.url}/__admin/accounts/J10003/mo"  # the MO checks make their own MOs
        config = vendor(mock, only=only, mo_inject_url=mos, **changes)
        finished = Runner(config, EventBus([Watch()])).run()
    finally:
        mock.admin("PUT", "/defects", json={"enabled": []})
    return finished.results, seen


def test_a_carrier_that_never_reports_passes_no_report_check(
    mock: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(context, "PROGRESS_EVERY_S", 0.4)
    finals = [c.id for c in select(list(MINE)) if c.final]
    only = ["MATCH-SINGLE-MSGID", "MATCH-STATEFUL", *finals]
    results, waiting = run(
        mock, only, test_mobiles=[NEVER_REPORTED], report_timeout=1.0, max_examples=1
    )
    # RPT-ANSWER-SHAPE judges the (empty) get_rpt answers themselves: they exist
    musts = {c.id for c in select(only) if c.level is Level.MUST} - {"RPT-ANSWER-SHAPE"}
    assert not [cid for cid in musts if results[cid].outcome is Outcome.PASSED]
    for owed in ("MATCH-SINGLE-MSGID", "MATCH-STATEFUL", "MATCH-ALL-REPORTED"):
        assert results[owed].outcome is Outcome.FAILED, results[owed].message
    assert results["BIZ-DELIVERY-RATE"].outcome is Outcome.FAILED
    for fields in ("RPT-FIELDS", "MATCH-CUSTID", "MATCH-NO-PHANTOM-REPORT", "BIZ-DELIVERY-5S"):
        assert results[fields].outcome is Outcome.INCONCLUSIVE, results[fields].message
    assert any("waiting for" in w.text and " s of 1" in w.text for w in waiting)


@pytest.mark.parametrize(
    ("defect", "check_id"),
    [
        ("phantom-report", "MATCH-NO-PHANTOM-REPORT"),
        ("failed-report-delivrd", "RPT-FAILED-REPORT"),
        ("report-times-utc", "RPT-TIMES-CLOCK"),
        ("report-custid-missing", "MATCH-CUSTID"),
        ("pknum-zero-for-short", "MATCH-PKNUM-PKTOTAL"),
        ("wrong-segment-stride", "MATCH-STATEFUL"),
        ("exdata-not-echoed", "RPT-ECHO"),
        ("msgid-as-string", "MATCH-MSGID-TYPE"),
        ("time-iso-format", "MO-FIELDS"),
    ],
)
def test_each_check_alone_fails_the_defect_of_its_rule_and_passes_without(
    mock: Served, defect: str, check_id: str
) -> None:
    broken, _ = run(mock, [check_id], (defect,), max_examples=1)
    assert broken[check_id].outcome is Outcome.FAILED, broken[check_id].message
    clean, _ = run(mock, [check_id], max_examples=1)
    assert clean[check_id].outcome is Outcome.PASSED, clean[check_id].message
    assert sum(clean[check_id].judged.values()) > 0


def test_a_wrong_msgid_fails_at_once_and_still_counts_delivered(mock: Served) -> None:
    only = ["MATCH-BATCH-MSGID", "BIZ-DELIVERY-RATE"]
    results, _ = run(mock, only, ("batch-msgid-off-by-one",), report_timeout=30.0)
    matching = results["MATCH-BATCH-MSGID"]
    assert matching.outcome is Outcome.FAILED and "msgid" in matching.message
    assert matching.duration < 5.0  # found by custid: no waiting out the 30 s
    rate = results["BIZ-DELIVERY-RATE"]
    assert rate.outcome is Outcome.PASSED and rate.details["rate"] == 1.0


def test_the_stateful_machine_sends_every_kind_in_one_example(mock: Served) -> None:
    results, _ = run(mock, ["MATCH-STATEFUL"], max_examples=1, stateful_steps=2)
    result = results["MATCH-STATEFUL"]
    assert result.outcome is Outcome.PASSED, result.message
    tally = result.details["tally"]
    assert all(tally[kind] >= 1 for kind in ("single_send", "batch_send", "multi_send"))
    assert tally["short"] >= 1 and tally["long"] >= 1
    assert result.judged["messages"] >= 5 and result.judged["reports"] >= result.judged["messages"]


def test_late_reports_with_rtime_equal_to_stime_fail_the_five_seconds(mock: Served) -> None:
    results, _ = run(mock, ["BIZ-DELIVERY-5S"], ("late-reports-rtime-stime",))
    result = results["BIZ-DELIVERY-5S"]
    assert result.outcome is Outcome.FAILED, result.message
    assert result.details["carrier_s"]["max"] == 0.0  # the carrier's own account: 0 s
    assert result.details["latency_s"]["p50"] > 5.0  # the suite's clock: 6 s


def test_a_run_wide_check_alone_judges_what_it_arranged(mock: Path) -> None:
    results, _ = run(mock, ["MATCH-UNIQUE-MSGID"])
    result = results["MATCH-UNIQUE-MSGID"]
    assert result.outcome is Outcome.PASSED and result.judged["sends"] == 2
    assert result.messages_sent == context.ARRANGED_COST
