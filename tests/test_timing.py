"""smsapi.timing: delivery time by the client's own clock, the carrier's stime / rtime
cross-checked against it (tender §2.1.3, §2.5.6, M7/M12)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from smsapi.auth import CHINA_TZ
from smsapi.fields import TIME_FORMAT
from smsapi.timing import (
    CLOCK_SKEW_S,
    carrier_epoch,
    clock_findings,
    decides,
    delivered_within,
    delivery_timing,
)

SENT = 1_780_000_000.0  # a whole second of the client's clock


def stamp(at: float) -> str:
    """A moment as the carrier writes it: China time, whole seconds."""
    return datetime.fromtimestamp(at, CHINA_TZ).strftime(TIME_FORMAT)


def test_carrier_times_are_read_as_china_time() -> None:
    assert carrier_epoch(stamp(SENT)) == SENT
    assert carrier_epoch("2016-08-04T17:38:59") is None


def test_delivery_is_the_clients_clock_not_rtime_minus_stime() -> None:
    lying = {"stime": stamp(SENT), "rtime": stamp(SENT)}  # rtime = stime, delivered in 6 s
    timing = delivery_timing(lying, SENT, SENT + 6.0)
    assert timing.delivery_s == 6.0 and timing.carrier_s == 0.0
    assert not delivered_within(timing)


def test_the_arrival_bound_goes_to_the_carrier() -> None:
    polled = delivery_timing({}, SENT, SENT + 5.8, bound_s=1.0)  # seen by a poll 1 s apart
    assert polled.earliest_s == pytest.approx(4.8) and delivered_within(polled)
    pushed = delivery_timing({}, SENT, SENT + 5.8)
    assert not delivered_within(pushed)


def test_stamps_between_the_send_and_the_arrival_pass() -> None:
    report = {"stime": stamp(SENT), "rtime": stamp(SENT + 2)}
    assert clock_findings(report, SENT + 0.4, SENT + 2.5) == []


def test_rtime_after_the_arrival_beyond_the_skew_is_found() -> None:
    report = {"stime": stamp(SENT), "rtime": stamp(SENT + 30)}
    (finding,) = clock_findings(report, SENT, SENT + 3.0)
    assert finding.startswith("rtime") and "after the report arrived" in finding


def test_stamps_in_utc_are_eight_hours_before_the_send() -> None:
    utc = datetime.fromtimestamp(SENT, timezone.utc).strftime(TIME_FORMAT)
    report = {"stime": utc, "rtime": utc}
    found = clock_findings(report, SENT, SENT + 1.0)
    assert len(found) == 2 and all("before the send started" in f for f in found)


def test_the_skew_is_the_callers_choice() -> None:
    report = {"rtime": stamp(SENT + 1.0 + CLOCK_SKEW_S + 2)}
    assert clock_findings(report, SENT, SENT + 1.0)
    assert not clock_findings(report, SENT, SENT + 1.0, skew_s=CLOCK_SKEW_S + 3)


def test_a_pull_held_back_past_the_limit_decides_nothing() -> None:
    # polled 7 s after the send, the queue last empty at the send: 0..7 s, no evidence
    held = delivery_timing({}, SENT, SENT + 7, bound_s=7)
    assert delivered_within(held) and not decides(held)
    assert decides(delivery_timing({}, SENT, SENT + 4, bound_s=4))  # surely within
    assert decides(delivery_timing({}, SENT, SENT + 9, bound_s=1))  # surely late
