"""mockcarrier.config: an account's settings are refused at start when they break a rule."""

from __future__ import annotations

import pytest

from mockcarrier.config import AccountConfig, ConfigError


def test_the_demo_defaults_are_valid():
    assert AccountConfig(userid="J10003").channel.endswith("12122")  # tender §2.1.2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"channel": "1069A012122"}, "channel must be digits"),
        ({"channel": "1" * 21}, "at most 20 digits"),  # §2.1.5 channel + exno ≤ 20
        ({"apikey": "short"}, "32 characters"),  # §3.1
        ({"chargetype": 2}, "chargetype is 0 or 1"),
        ({"max_concurrent": 0}, "max_concurrent"),
        ({"delivery_profile": "fast"}, "delivery_profile is one of"),  # every way in
    ],
)
def test_a_broken_setting_is_refused_naming_it(changes, message):
    with pytest.raises(ConfigError, match=message):
        AccountConfig(userid="T00001", **changes)


def test_a_channel_of_exactly_20_digits_is_accepted():
    assert len(AccountConfig(userid="T00001", channel="1" * 20).channel) == 20


def test_the_profile_names_are_the_delivery_simulators():
    from mockcarrier.config import PROFILE_NAMES
    from mockcarrier.delivery import PROFILES

    assert set(PROFILE_NAMES) == set(PROFILES)
