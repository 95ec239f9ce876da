"""The silent-carrier rule (ledger.silent_carrier, issue 15 item 7): once a full
report_timeout has passed since the run's first accepted send without one report, later
waits end after [timing] silent_polls polls, with the same verdicts as full waits and a
message saying so; one report ends the rule, so a slow but working carrier keeps its
full waits."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from conformance.catalogue import Level, select
from conformance.config import VendorConfig
from conformance.events import CheckFinished, CheckStarted, EventBus, Waiting
from conformance.ledger import Outgoing, RunLedger, silent_carrier
from conformance.outcomes import CheckResult, Outcome
from conformance.runner import Runner

from .conftest import Served, start_server
from .stand_ins import ACCEPTED_XML, YES_XML, tiny_carrier

MOBILES = ["13800138000", "13012345678", "18912345678"]
WAITING = ["matching", "reports", "business"]  # the send-and-wait checks
NOTE = "not waiting the full timeout again"


def vendor(target: str, **changes: object) -> VendorConfig:
    config = VendorConfig(
        vendor="under-test",
        target=target,
        userid="J10003",
        password="111111",
        signature_length=6,
        test_mobiles=list(MOBILES),
        budget=5000,
        report_timeout=3.0,
        poll_interval=0.05,
        report_ready=0.0,
        request_timeout=10.0,
        max_examples=2,
    )
    for key, value in changes.items():
        setattr(config, key, value)
    return config.validate()


class Watch:
    """Every event of the run, with when it came."""

    def __init__(self) -> None:
        self.events: list[tuple[float, object]] = []

    def handle(self, event: object) -> None:
        self.events.append((time.monotonic(), event))

    def of(self, kind: type) -> list[tuple[float, object]]:
        return [(t, e) for t, e in self.events if isinstance(e, kind)]


def run(config: VendorConfig, only: list[str]) -> tuple[dict[str, CheckResult], Watch, float]:
    config.only = only
    watch = Watch()
    started = time.monotonic()
    results = Runner(config, EventBus([watch])).run().results
    return results, watch, time.monotonic() - started


# ---------------------------------------------------------------- the rule


def sent(ledger: RunLedger, at: float) -> None:
    ledger.record("X", "single_send", 1000, "", [Outgoing(MOBILES[0], "hi", "c1")], [1], [True])
    ledger.messages[-1].sent_at = at


def test_a_carrier_is_silent_only_a_full_window_after_the_first_send_without_a_report() -> None:
    ledger = RunLedger()
    assert silent_carrier(ledger, 3.0, time.time() + 100) is None  # nothing sent yet
    sent(ledger, 1000.0)
    assert silent_carrier(ledger, 3.0, 1002.9) is None
    silence = silent_carrier(ledger, 3.0, 1003.0)
    assert silence is not None and silence.messages == 1
    assert "any of the run's 1 messages in 3 s" in silence.note() and NOTE in silence.note()


def test_one_report_of_any_kind_ends_the_rule_for_good() -> None:
    ledger = RunLedger()
    sent(ledger, 1000.0)
    ledger.file({"msgid": 999, "custid": "nobody", "mobile": MOBILES[1]}, "push")  # phantom
    assert silent_carrier(ledger, 3.0, 5000.0) is None


def test_silent_polls_must_not_be_negative() -> None:
    with pytest.raises(Exception, match="silent_polls"):
        vendor("http://127.0.0.1:9", silent_polls=-1)


# ---------------------------------------------------------------- a silent carrier


def test_a_silent_carrier_fails_every_waiting_must_check_in_a_bounded_time() -> None:
    with tiny_carrier(body=ACCEPTED_XML) as url:  # result 0 to every request, never a report
        config = vendor(url)
        results, watch, took = run(config, WAITING)
    # RPT-ANSWER-SHAPE judges the get_rpt answers themselves (no report wait): they exist
    musts = [c.id for c in select(WAITING) if c.level is Level.MUST and c.id != "RPT-ANSWER-SHAPE"]
    unjudgeable = (Outcome.NOT_APPLICABLE, Outcome.SKIPPED)
    ran = [cid for cid in musts if results[cid].outcome not in unjudgeable]
    assert len(ran) >= 10, {cid: results[cid].outcome for cid in musts}
    assert not [cid for cid in ran if results[cid].outcome is Outcome.PASSED]
    # one full report_timeout, then a few polls per check: not one full wait per check
    assert took < 4 * config.report_timeout + 10, took
    cut = [cid for cid, r in results.items() if "silent_carrier" in r.details]
    assert len(cut) >= 5, cut
    unmet = (Outcome.FAILED, Outcome.INCONCLUSIVE)
    assert all(NOTE in results[c].message for c in cut if results[c].outcome in unmet)
    assert any(NOTE in e.text for _, e in watch.of(Waiting))  # the terminal is told


def test_cut_waits_give_the_verdicts_of_full_waits() -> None:
    only = ["MATCH-SINGLE-MSGID", "MATCH-BATCH-MSGID", "RPT-FIELDS", "BIZ-DELIVERY-RATE"]
    with tiny_carrier(body=ACCEPTED_XML) as url:
        cut, _, _ = run(vendor(url, report_timeout=1.0), only)
        full, _, _ = run(vendor(url, report_timeout=1.0, silent_polls=0), only)
    assert {c: r.outcome for c, r in cut.items()} == {c: r.outcome for c, r in full.items()}
    assert any("silent_carrier" in r.details for r in cut.values())
    assert not any("silent_carrier" in r.details for r in full.values())


# ---------------------------------------------------------------- a slow, working carrier


@pytest.fixture(scope="module")
def slow_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    # reports ~0.8 s after the send (the slow profile, 4x faster than real time)
    served = start_server(
        tmp_path_factory.mktemp("slow"), "--delivery-profile", "slow", "--time-scale", "4"
    )
    yield served
    served.stop()


def test_a_slow_carrier_that_reports_keeps_its_full_waits_and_passes(slow_mock: Served) -> None:
    only = [
        "MATCH-SINGLE-MSGID",
        "MATCH-BATCH-MSGID",
        "MATCH-MULTI-MSGID",
        "MATCH-SINGLE-LONG",
        "MATCH-BATCH-LONG",
        "MATCH-MULTI-LONG",
        "MATCH-STATEFUL",
        "RPT-FAILED-REPORT",
        "BIZ-CHANNEL-12122",
    ]
    # a wait cut to one poll (0.05 s) would miss reports due ~0.8 s after their send
    config = vendor(slow_mock.url, report_timeout=4.0, silent_polls=1)
    results, watch, _ = run(config, only)
    assert all(r.outcome is Outcome.PASSED for r in results.values()), {
        c: r.message for c, r in results.items() if r.outcome is not Outcome.PASSED
    }
    assert not any("silent_carrier" in r.details for r in results.values())
    # the rule was in scope: a check started a full report_timeout after the first send
    first_done = watch.of(CheckFinished)[0][0]  # the first send came before this
    later = [e.check.id for t, e in watch.of(CheckStarted) if t >= first_done + 4.0]
    assert later, "the run ended before the rule could apply: send more"


@pytest.mark.parametrize("answer", [YES_XML, ACCEPTED_XML], ids=["bare", "with-msgid"])
def test_a_carrier_saying_yes_to_everything_and_never_reporting_passes_no_must_check(
    answer: bytes,
) -> None:
    # issue 15: result 0 to every request (no refusal, no report, no MO)
    with tiny_carrier(body=answer) as url:
        results, _, _ = run(vendor(url), [])
    musts = [c.id for c in select() if c.level is Level.MUST]
    passed = [cid for cid in musts if results[cid].outcome in (Outcome.PASSED, Outcome.WARNED)]
    assert not passed, {cid: results[cid].judged for cid in passed}
    judged = [cid for cid in musts if results[cid].outcome is Outcome.FAILED]
    assert len(judged) > len(musts) / 2  # most are broken outright, not merely unjudged
