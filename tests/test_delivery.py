"""mockcarrier.delivery: the fate of each message, seeded and replayable."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mockcarrier.delivery import (
    FAILED_STATUS,
    INVALID_NUMBER,
    MAGIC_OUTCOMES,
    MAGIC_RE,
    PROFILES,
    SEGMENT_GAP,
    Fate,
    drawn_values,
    magic_outcome,
    outcome_for,
)
from mockcarrier.stores.segments import Timing, carrier_seconds, carrier_text
from smsapi.fields import TIME_FORMAT
from smsapi.mobile import MobileNumber, Operator, classify

SEED = 20200413
DRAWS = 20_000
# One ordinary number per network of the tender (§2.1.2), none of them magic.
MAINLAND = {
    Operator.CHINA_MOBILE: classify("13912345678"),
    Operator.CHINA_UNICOM: classify("18612345678"),
    Operator.CHINA_TELECOM: classify("18912345678"),
}


def draws(profile: str, operator: Operator, seed: int = SEED) -> list[Fate]:
    mobile = MAINLAND[operator]
    return [outcome_for(mobile, msgid, seed, profile) for msgid in range(1, DRAWS + 1)]


def p99(outcomes: list[Fate]) -> float:
    latencies = sorted(o.latency for o in outcomes if o.latency is not None)
    return latencies[int(len(latencies) * 0.99)]


def failure_rate(outcomes: list[Fate]) -> float:
    return sum(not o.delivered for o in outcomes) / len(outcomes)


# ---------------------------------------------------------------- magic numbers


def test_magic_1_is_delivered_after_half_a_second():
    outcome = outcome_for(classify("13800000001"), 1, SEED, "default")
    assert outcome.delivered
    assert outcome.latency == 0.5
    assert (outcome.status, outcome.errcode, outcome.errdesc) == (0, "DELIVRD", "success")


def test_magic_2_fails_undeliv():
    outcome = outcome_for(classify("13800000002"), 1, SEED, "default")
    assert not outcome.delivered
    assert outcome.status == FAILED_STATUS != 0  # §2.5.6 status 非0:失败
    assert outcome.errcode == "UNDELIV"


def test_magic_3_is_never_reported():
    outcome = outcome_for(classify("13800000003"), 1, SEED, "default")
    assert outcome.latency is None


def test_magic_6_is_delivered_after_six_seconds():
    """Beyond the tender's 5 s: for checking a client's patience."""
    outcome = outcome_for(classify("13800000006"), 1, SEED, "default")
    assert outcome.delivered
    assert outcome.latency == 6.0


def test_magic_numbers_work_for_any_segment_and_the_0086_form():
    assert outcome_for(classify("18900000002"), 9, SEED, "default").errcode == "UNDELIV"
    assert outcome_for(classify("008613800000001"), 9, SEED, "default").latency == 0.5


@pytest.mark.parametrize("profile", list(PROFILES))
def test_magic_numbers_ignore_the_profile_and_the_seed(profile: str):
    for seed in (1, 2, 3):
        assert outcome_for(classify("13800000001"), 5, seed, profile) == Fate(0.5)


def test_magic_numbers_can_be_switched_off():
    mobile = classify("13800000003")
    assert all(
        outcome_for(mobile, msgid, SEED, "instant", magic=False) == Fate(0.0)
        for msgid in range(1, 50)
    )


# ---------------------------------------------------------------- invalid numbers


@pytest.mark.parametrize("number", ["12345", "1380013800", "+8613800138000", "12012345678"])
def test_invalid_number_fails_mn_0001(number: str):
    """§3.2 / F2: an invalid number in a batch comes back as a failed report."""
    outcome = outcome_for(classify(number), 1, SEED, "default")
    assert not outcome.delivered
    assert outcome.status == FAILED_STATUS
    assert outcome.errcode == INVALID_NUMBER[0] == "MN:0001"
    assert outcome.errdesc == "fail"
    assert outcome.latency == 0.0


# ---------------------------------------------------------------- determinism


def test_same_seed_and_msgid_give_the_same_outcome():
    mobile = MAINLAND[Operator.CHINA_MOBILE]
    for msgid in (1, 2, -5, 2**62):
        first = outcome_for(mobile, msgid, SEED, "lossy")
        assert outcome_for(mobile, msgid, SEED, "lossy") == first


def test_outcomes_vary_with_the_msgid():
    mobile = MAINLAND[Operator.CHINA_MOBILE]
    latencies = {outcome_for(mobile, msgid, SEED, "default").latency for msgid in range(100)}
    assert len(latencies) > 90


def test_outcomes_vary_with_the_seed():
    mobile = MAINLAND[Operator.CHINA_MOBILE]
    a = [outcome_for(mobile, msgid, 1, "default") for msgid in range(100)]
    b = [outcome_for(mobile, msgid, 2, "default") for msgid in range(100)]
    assert a != b


# Draws of earlier versions (seed 7, china_unicom): a replay under one seed must not
# change from one version of the mock to the next. One vector per path of the draw.
EARLIER_DRAWS = [
    ((1, "default"), (1.0638835238849662, 0, "DELIVRD", "success")),  # log-normal
    ((72, "default"), (1.7790727589413875, 1, "EXPIRED", "fail")),  # failed
    ((108, "default"), (3.13453097258331, 0, "DELIVRD", "success")),  # the tail
    ((147, "lossy"), (3.134980406423129, 0, "DELIVRD", "success")),
    ((108, "lossy"), (3.13453097258331, 1, "MK:0005", "fail")),  # the tail, failed
    ((5, "instant"), (0.0, 0, "DELIVRD", "success")),  # median 0: no latency drawn
]
# sha256 over repr() of 100 000 draws of earlier versions (see the test below)
EARLIER_DIGEST = "ac619760d9e2f779ec188df50e639588aa76be9074a125a4f6e9a84d50627966"


@pytest.mark.parametrize(("key", "values"), EARLIER_DRAWS)
def test_a_draw_is_the_one_earlier_versions_made(key: tuple[int, str], values: tuple) -> None:
    msgid, profile = key
    assert drawn_values(7, msgid, profile, "china_unicom") == values


def test_every_draw_of_a_seed_is_the_one_earlier_versions_made() -> None:
    digest = hashlib.sha256()
    for offset in range(5000):
        for profile in ("default", "slow", "lossy", "instant"):
            for operator in [op for op in Operator if op is not Operator.INVALID]:
                msgid = 471416709920587777 + offset
                digest.update(repr(drawn_values(11, msgid, profile, operator.value)).encode())
    assert digest.hexdigest() == EARLIER_DIGEST


def test_instant_profile_delivers_everything_at_once():
    outcomes = [
        outcome_for(MAINLAND[op], m, SEED, "instant") for op in MAINLAND for m in range(200)
    ]
    assert all(o == Fate(0.0) for o in outcomes)


# ---------------------------------------------------------------- profiles (statistics)


@pytest.mark.parametrize("operator", list(MAINLAND))
def test_default_profile_meets_the_tender(operator: Operator):
    """Tender: delivery ≤ 5 s, delivery rate ≥ 99 %."""
    outcomes = draws("default", operator)
    assert p99(outcomes) < 5.0
    assert failure_rate(outcomes) < 0.01


@pytest.mark.parametrize("operator", list(MAINLAND))
def test_slow_profile_misses_the_five_seconds(operator: Operator):
    assert p99(draws("slow", operator)) > 5.0


@pytest.mark.parametrize("operator", list(MAINLAND))
def test_lossy_profile_misses_the_delivery_rate(operator: Operator):
    assert failure_rate(draws("lossy", operator)) > 0.01


def test_failed_outcomes_carry_a_failure_code():
    failed = [o for o in draws("lossy", Operator.CHINA_MOBILE) if not o.delivered]
    assert failed
    assert all(o.status == FAILED_STATUS and o.errcode != "DELIVRD" for o in failed)
    assert all(o.errdesc == "fail" for o in failed)


def test_latencies_are_never_negative():
    for profile in PROFILES:
        assert all(o.latency >= 0 for o in draws(profile, Operator.CHINA_UNICOM)[:2000])


# ---------------------------------------------------------------- segments


# A send at real time 0 and carrier second 0, time not scaled (stores/segments.Timing).
AT_ZERO = Timing(start=0.0, scale=1.0, stime=0.0, stime_text="1970-01-01 00:00:00")


def test_later_segments_report_a_little_later():
    schedule = AT_ZERO.schedule(Fate(1.0))
    assert schedule is not None
    assert schedule.due(1) == 1.0
    assert schedule.due(3) == pytest.approx(1.0 + 2 * SEGMENT_GAP)
    assert schedule.rtime + 2 * schedule.rtime_gap == pytest.approx(1.0 + 2 * SEGMENT_GAP)


def test_unreported_message_has_no_segment_reports():
    assert AT_ZERO.schedule(Fate(None)) is None


@given(st.from_regex(r"\A1\d{2}0{7}\d\Z") | st.text(alphabet="0123456789", max_size=13))
def test_magic_outcome_answers_as_the_magic_pattern(national: str):
    """The zeros are checked before the pattern; the answer is the pattern's."""
    match = MAGIC_RE.match(national)
    expected = MAGIC_OUTCOMES.get(match.group(1)) if match else None
    assert magic_outcome(MobileNumber(national, national, Operator.CHINA_MOBILE)) == expected


# §2.5.6 stime is the carrier's clock at acceptance, to the second (Timing.of formats it
# from the carrier seconds, once a second; it must read as the moment's own text).
@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
    st.sampled_from([None, timezone(timedelta(hours=8))]),
)
@example(datetime(2026, 12, 1, 11, 59, 59, 999999), None)
@example(datetime(2026, 12, 1, 11, 59, 59, 999999), timezone(timedelta(hours=8)))
def test_a_sends_stime_text_is_its_moment_to_the_second(moment: datetime, zone) -> None:
    moment = moment.replace(tzinfo=zone)
    assert carrier_text(carrier_seconds(moment)) == moment.strftime(TIME_FORMAT)
