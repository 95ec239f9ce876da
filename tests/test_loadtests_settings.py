"""loadtests.settings and loadtests.traffic: the tender's figures as defaults, what is sent."""

from __future__ import annotations

import argparse
from collections import Counter

import pytest

from loadtests.settings import (
    RATE_HEADROOM,
    add_options,
    average_rate,
    from_options,
    parse_duration,
    peak_rate,
)
from loadtests.traffic import MIXES, Traffic
from smsapi.fields import custom_field_rule
from smsapi.mobile import classify
from smsapi.segments import segment_count


def options(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_options(parser)
    return parser.parse_args(list(argv))


def test_the_peak_rate_is_15_million_a_year_times_the_peak_factor() -> None:
    assert average_rate() == pytest.approx(15_000_000 / (365 * 86400))
    assert peak_rate() == pytest.approx(4.7565, rel=1e-4)  # factor 10
    assert peak_rate(15_000_000, 20) == pytest.approx(2 * peak_rate())


def test_defaults_are_the_tenders_thresholds() -> None:
    settings = from_options(options(), "http://carrier", 10)
    assert settings.thresholds.max_p99_delivery == 5.0  # §2.1.3
    assert settings.thresholds.min_delivery_rate == 99.0  # §2.1.3
    assert settings.thresholds.min_rate == pytest.approx(peak_rate())
    assert settings.rate == pytest.approx(peak_rate() * RATE_HEADROOM)


def test_soak_offers_half_the_peak_and_options_override() -> None:
    assert from_options(options("--scenario", "soak")).rate == pytest.approx(peak_rate() / 2)
    settings = from_options(
        options("--rate", "50", "--peak-factor", "20", "--max-p99-delivery", "3")
    )
    assert settings.rate == 50
    assert settings.thresholds.min_rate == pytest.approx(2 * peak_rate())
    assert settings.thresholds.max_p99_delivery == 3


def test_the_cap_follows_rate_and_duration_unless_given() -> None:
    assert from_options(options("--rate", "10", "--duration", "1m")).max_messages == 740
    assert from_options(options("--max-messages", "5")).max_messages == 5


def test_ramp_defaults_to_a_tenth_of_the_duration_at_most_a_minute() -> None:
    assert from_options(options("--duration", "50s")).ramp == 5
    assert from_options(options("--duration", "2h")).ramp == 60
    assert from_options(options("--duration", "10s", "--ramp", "20s")).ramp == 10


def test_durations_read_like_locusts() -> None:
    assert parse_duration("90") == 90
    assert parse_duration("5m") == 300
    assert parse_duration("1h30m") == 5400
    assert parse_duration("1.5s") == 1.5
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_secrets_stay_out_of_the_public_settings() -> None:
    public = from_options(options("--password", "s3cret", "--apikey", "k" * 32)).public()
    assert "s3cret" not in str(public) and "k" * 32 not in str(public)


def test_unknown_scenario_and_empty_mobiles_are_refused() -> None:
    with pytest.raises(ValueError):
        from_options(argparse.Namespace(scenario="burst"))
    with pytest.raises(ValueError):
        from_options(options("--mobiles", " , "))


@pytest.mark.parametrize("scenario", sorted(MIXES))
def test_traffic_follows_the_mix_and_stays_within_the_test_mobiles(scenario: str) -> None:
    mobiles = ["13800138000", "13012345678", "18912345678"]
    traffic = Traffic(scenario, mobiles, "【通渝科技】", 1, "t")
    sends = [traffic.next() for _ in range(2000)]
    kinds = Counter(s.endpoint for s in sends)
    assert kinds.most_common(1)[0][0] == "single_send"
    assert {"batch_send", "multi_send"} <= set(kinds)
    for send in sends:
        numbers = [i.mobile for i in send.items]
        assert set(numbers) <= set(mobiles) and len(numbers) == len(set(numbers))


def test_custids_are_valid_and_unique_and_pktotal_includes_the_signature() -> None:
    traffic = Traffic("latency", ["13800138000", "13012345678"], "【通渝科技】", 1, "w0")
    items = [item for _ in range(500) for item in traffic.next().items]
    assert all(custom_field_rule(i.custid) is None for i in items)
    assert len({(i.custid, i.mobile) for i in items}) == len(items)
    assert {i.pktotal for i in items} == {1, 3}
    assert all(i.pktotal == segment_count("【通渝科技】" + i.text) for i in items)


def test_default_test_mobiles_cover_the_three_networks() -> None:
    settings = from_options(options())
    operators = {classify(m).operator.value for m in settings.mobiles}
    assert {"china_mobile", "china_unicom", "china_telecom"} <= operators
