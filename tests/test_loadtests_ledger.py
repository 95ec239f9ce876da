"""loadtests.ledger / verdicts / summary: matching reports to sent segments and judging a run."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from hdrh.histogram import HdrHistogram

from loadtests.ledger import LoadLedger, percentiles
from loadtests.settings import LoadSettings, Thresholds
from loadtests.summary import build
from loadtests.verdicts import Figures, judge
from smsapi.auth import CHINA_TZ
from smsapi.fields import TIME_FORMAT
from smsapi.msgid import segment_msgid

T0 = 1_000_000.0
BASE = 7 << 38 | 100  # a msgid like the mock's


def report(msgid: int, status: int = 0, pknum: int = 1, pktotal: int = 1, **kw) -> dict:
    return {
        "msgid": msgid,
        "status": status,
        "errcode": "DELIVRD" if status == 0 else "UNDELIV",
        "pknum": pknum,
        "pktotal": pktotal,
        **kw,
    }


def ledger_with_batch(events: list | None = None) -> LoadLedger:
    """A batch to three mobiles, the third a 2-segment message, sent at T0."""
    ledger = LoadLedger(T0, 1.0, lambda *e: events.append(e) if events is not None else None)
    items = [["13800138000", "c1", 1], ["13012345678", "c1", 1], ["18912345678", "c1", 2]]
    ledger.sent("w", T0, BASE, items)
    return ledger


def test_reports_match_by_position_and_segment_ids() -> None:
    ledger = ledger_with_batch()
    ledger.report("w", "poll", T0 + 1.0, report(segment_msgid(BASE, 1)))
    ledger.report("w", "poll", T0 + 2.0, report(segment_msgid(BASE, 2)))
    ledger.report("w", "push", T0 + 3.0, report(segment_msgid(BASE, 3, 1), pktotal=2))
    ledger.report("w", "push", T0 + 4.0, report(segment_msgid(BASE, 3, 2), pknum=2, pktotal=2))
    assert ledger.expected_segments == 4
    assert ledger.delivered_segments == 4 and ledger.pending == 0
    assert ledger.matched_by["msgid"] == 4
    assert percentiles(ledger.delivery)["max_ms"] == pytest.approx(4000, rel=1e-3)
    assert ledger.by_channel["push"].get_total_count() == 2


def test_custid_matches_when_the_msgid_does_not() -> None:
    ledger = ledger_with_batch()
    wrong = report(12345, custid="c1", mobile="13012345678")
    ledger.report("w", "poll", T0 + 1.0, wrong)
    assert ledger.matched_by == {"custid": 1}
    assert ledger.delivered_segments == 1


def test_a_report_before_its_send_record_waits_and_then_matches() -> None:
    ledger = LoadLedger(T0, 1.0)
    ledger.report("w2", "push", T0 + 2.0, report(BASE))
    assert ledger.matcher.unmatched and ledger.delivered_segments == 0
    ledger.sent("w1", T0, BASE, [["13800138000", "c9", 1]])
    assert not ledger.matcher.unmatched and ledger.delivered_segments == 1


def test_failed_reports_count_against_the_delivery_rate_not_latency() -> None:
    events: list = []
    ledger = ledger_with_batch(events)
    ledger.report("w", "poll", T0 + 1.0, report(segment_msgid(BASE, 1), status=1))
    assert ledger.errcodes == {"UNDELIV": 1}
    assert ledger.delivery.get_total_count() == 0
    assert events == [("poll", 1.0, "UNDELIV")]


def test_segments_without_a_report_are_lost_at_the_end() -> None:
    events: list = []
    ledger = ledger_with_batch(events)
    ledger.report("w", "poll", T0 + 1.0, report(segment_msgid(BASE, 1)))
    ledger.finish(T0 + 30)
    assert ledger.errcodes["lost"] == 3
    assert ledger.delivery_rate() == pytest.approx(0.25)
    assert [e[0] for e in events].count("lost") == 3


def test_duplicates_and_both_ways_are_noted_once() -> None:
    ledger = ledger_with_batch()
    first = report(segment_msgid(BASE, 1))
    ledger.report("w", "poll", T0 + 1.0, first)
    ledger.report("w", "poll", T0 + 1.5, first)
    ledger.report("w", "push", T0 + 2.0, first)
    assert ledger.notes["duplicate_poll"] == 1
    assert ledger.notes["reported_both_ways"] == 1
    assert ledger.reported_segments == 1
    assert percentiles(ledger.delivery)["max_ms"] == pytest.approx(1000, rel=1e-3)


def test_a_report_with_more_segments_than_predicted_raises_the_expectation() -> None:
    ledger = LoadLedger(T0, 1.0)
    ledger.sent("w", T0, BASE, [["13800138000", "c1", 1]])
    ledger.report("w", "poll", T0 + 1, report(BASE, pknum=1, pktotal=2))
    assert ledger.expected_segments == 2 and ledger.pending == 1
    assert ledger.notes["pktotal_differs"] == 1


def test_sustained_rate_counts_accepted_messages_in_the_window() -> None:
    ledger = LoadLedger(T0, 1.0)
    for i in range(100):  # 10 messages a second for 10 s
        ledger.sent("w", T0 + i / 10, BASE + 10 * i, [["13800138000", f"c{i}", 1]])
    assert ledger.sustained_rate(T0 + 2, T0 + 8) == pytest.approx(10.0)


def test_error_rate_and_counts_by_result() -> None:
    ledger = LoadLedger(T0, 1.0)
    ledger.request("w", "single_send", T0, 0.01, "0")
    ledger.request("w", "single_send", T0, 0.01, "-100999")
    ledger.request("w", "get_rpt", T0, 0.01, "transport")
    ledger.request("w", "get_rpt", T0, 0.01, "0")
    assert ledger.error_counts() == {"-100999": 1, "0": 2, "transport": 1}
    assert ledger.error_rate() == pytest.approx(0.5)


def test_percentiles_are_exact_to_three_significant_digits() -> None:
    ledger = LoadLedger(T0, 1.0)
    for i in range(1, 1001):
        ledger.sent("w", T0, BASE + 10 * i, [["13800138000", f"c{i}", 1]])
        ledger.report("w", "poll", T0 + i / 100, report(BASE + 10 * i))
    figures = percentiles(ledger.delivery)
    assert figures["p50_ms"] == pytest.approx(5000, rel=1e-3)
    assert figures["p99_ms"] == pytest.approx(9900, rel=1e-3)
    assert figures["max_ms"] == pytest.approx(10000, rel=1e-3)


def test_drift_compares_the_last_quarter_with_the_first() -> None:
    ledger = LoadLedger(T0, 1.0)
    for second in range(8):  # latency grows by 0.5 s each interval
        for k in range(10):
            msgid = BASE + 100 * second + 10 * k
            ledger.sent("w", T0 + second, msgid, [["13800138000", f"c{second}-{k}", 1]])
            ledger.report("w", "poll", T0 + second + 1 + 0.5 * second, report(msgid))
    assert ledger.drift() == pytest.approx(3.0, rel=0.01)


def test_each_threshold_fails_by_name() -> None:
    bad = Figures(
        p99_delivery_s=8.0,
        delivery_rate_pct=97.0,
        error_rate_pct=5.0,
        sustained_rate=1.0,
        drift_s=2.0,
    )
    verdicts = {v.name: v for v in judge("soak", bad, Thresholds(min_rate=4.75))}
    assert not any(v.passed for v in verdicts.values())
    assert verdicts["max_p99_delivery"].message == "p99 delivery 8.000 s > 5 s"
    assert verdicts["min_delivery_rate"].message == "delivery rate 97.000 % < 99 %"
    volume = {v.name: v for v in judge("volume", bad, Thresholds(min_rate=4.75))}
    assert not volume["min_rate"].passed and "max_drift" not in volume


def test_tender_figures_pass_and_missing_figures_fail() -> None:
    good = Figures(4.99, 99.0, 0.0, 5.0, 0.0)
    assert all(v.passed for v in judge("soak", good, Thresholds(min_rate=4.75)))
    unmeasured = Figures(None, None, 0.0, 5.0, None)
    failed = [v.name for v in judge("latency", unmeasured, Thresholds()) if not v.passed]
    assert failed == ["max_p99_delivery", "min_delivery_rate"]


def test_summary_is_json_with_the_figures_the_reports_read() -> None:
    ledger = ledger_with_batch()
    ledger.request("w", "batch_send", T0, 0.004, "0")
    for k, (position, pknum, pktotal) in enumerate([(1, 1, 1), (2, 1, 1), (3, 1, 2), (3, 2, 2)]):
        rpt = report(segment_msgid(BASE, position, pknum), pknum=pknum, pktotal=pktotal)
        ledger.report("w", "poll", T0 + 1 + k, rpt)
    ledger.finish(T0 + 10)
    settings = LoadSettings(target="http://carrier", scenario="latency", rate=3.0)
    summary, verdicts = build(ledger, settings, (T0, T0 + 1), T0 + 10)
    data = json.loads(json.dumps(summary))
    assert data["passed"] is True and data["failed_thresholds"] == []
    assert data["delivery"]["latency"]["count"] == 4
    assert data["delivery"]["rate"] == 1.0
    assert data["requests"]["by_result"] == {"0": 1}
    assert data["http_latency"]["batch_send"]["count"] == 1
    assert data["volume"]["sustained_rate"] == 3.0
    assert data["settings"]["password"] == "***"
    assert data["timeseries"][0]["delivery"]["count"] == 4
    decoded = HdrHistogram.decode(data["delivery"]["hdr"])
    assert decoded.get_total_count() == 4


def test_a_msgid_naming_another_message_is_matched_by_custid_and_noted() -> None:
    ledger = ledger_with_batch()
    wrong = report(segment_msgid(BASE, 1), custid="c1", mobile="13012345678")  # 1's id, 2's mobile
    ledger.report("w", "poll", T0 + 1.0, wrong)
    assert ledger.notes["msgid_names_other_message"] == 1
    assert ledger.matched_by == {"custid": 1} and ledger.delivered_segments == 1
    assert [m.position for m in ledger.matcher.outstanding()] == [1, 3]  # 2 was delivered
    assert ledger.message_delivery_rate() == pytest.approx(1 / 3)


def test_stamps_outside_the_send_and_the_arrival_are_noted() -> None:
    ledger = ledger_with_batch()
    utc = datetime.fromtimestamp(T0, timezone.utc).strftime(TIME_FORMAT)  # not China time
    ledger.report("w", "poll", T0 + 1.0, report(segment_msgid(BASE, 1), stime=utc, rtime=utc))
    assert ledger.notes["clock_stime"] == 1 and ledger.notes["clock_rtime"] == 1
    china = datetime.fromtimestamp(T0, CHINA_TZ).strftime(TIME_FORMAT)
    ledger.report("w", "poll", T0 + 1.0, report(segment_msgid(BASE, 2), stime=china, rtime=china))
    assert ledger.notes["clock_stime"] == 1  # the China-time stamps are fine


def test_a_long_run_forgets_what_is_fully_reported_and_still_counts_the_lost() -> None:
    ledger = LoadLedger(T0, 1.0, forget_complete=True)
    items = [["13800138000", "c1", 1], ["13012345678", "c1", 1], ["18912345678", "c1", 2]]
    ledger.sent("w", T0, BASE, items)
    ledger.report("w", "poll", T0 + 1.0, report(segment_msgid(BASE, 1)))
    ledger.report("w", "poll", T0 + 1.0, report(segment_msgid(BASE, 2), status=1))
    assert ledger.matcher.held == 1  # only the 2-segment message is still owed
    ledger.finish(T0 + 30)
    assert ledger.errcodes["lost"] == 2 and ledger.message_delivery_rate() == pytest.approx(1 / 3)
