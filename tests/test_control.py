"""The control plane (mockcarrier.control): clock offset and New Year, run-time settings,
magic numbers, per-operator delivery profiles, balance; at start and through the admin
API, listed by `mockcarrier config show`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from mockcarrier.cli import main
from smsapi.auth import CHINA_TZ, china_now
from tests.conftest import Served, module_server, start_server, wait_for_reports

CONFIG = """
[server]
clock_offset = 30
timestamp_tolerance = 120
defects = ["money-as-number"]
magic = { "13912345678" = { latency = 2.5, status = 1, errcode = "REJECTD" } }

[[faults]]
action = "result"
endpoint = "get_rpt"
result = -100999
count = 2

[[accounts]]
userid = "OPS001"
password = "ops"
operator_profiles = { china_unicom = "slow", international = "lossy" }
push_enabled = true
push_rpt_url = "http://127.0.0.1:9/rpt"
push_rpt_batch = 50
mo_charset = "gbk"
"""


served = module_server("control")


@pytest.fixture(autouse=True)
def clean(served: Served) -> Iterator[None]:
    served.admin("POST", "/accounts/J10003/reset")
    yield
    served.admin("PUT", "/clock", json={"offset": 0})
    served.admin("PATCH", "/settings", json={"timestamp_tolerance": 600, "magic_numbers": True})
    served.admin("PUT", "/magic", json={})
    served.admin("PATCH", "/accounts/J10003", json={"operator_profiles": {}})


def mock_clock(served: Served):
    offset = served.admin("GET", "/clock").json()["offset"]
    return lambda: china_now(offset)


# ---------------------------------------------------------------- clock


def test_a_clock_offset_moves_what_a_fresh_timestamp_is(served):
    clock = served.admin("PUT", "/clock", json={"offset": 3600}).json()
    assert clock["offset"] == 3600
    shown = datetime.strptime(clock["now"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA_TZ)
    assert abs((shown - china_now(3600)).total_seconds()) < 5
    assert served.client().get_balance().result == -100001  # an hour behind the mock
    assert served.client(clock=mock_clock(served)).get_balance().result == 0


def test_new_year_timestamps_on_either_side_of_midnight_are_current(served):
    served.admin("PUT", "/clock", json={"now": "2020-12-31 23:59:58"})
    before = served.client(clock=lambda: datetime(2020, 12, 31, 23, 59, 55, tzinfo=CHINA_TZ))
    after = served.client(clock=lambda: datetime(2021, 1, 1, 0, 0, 3, tzinfo=CHINA_TZ))
    sent = before.single_send("13800138000", "happy new year")
    assert sent.result == 0 and after.get_balance().result == 0
    (report,) = wait_for_reports(after, 1)
    assert report["msgid"] == sent.msgid
    assert report["stime"].startswith(("2020-12-31 23:59", "2021-01-01 00:00"))


def test_the_clock_refuses_what_it_cannot_read(served):
    assert served.admin("PUT", "/clock", json={"now": "tomorrow"}).status_code == 400
    assert served.admin("PUT", "/clock", json={}).status_code == 400


# ---------------------------------------------------------------- settings


def test_run_time_settings_change_for_every_request_and_others_are_refused(served):
    stale = served.client(clock=lambda: china_now() - timedelta(hours=5))
    assert stale.get_balance().result == -100001
    changed = served.admin("PATCH", "/settings", json={"timestamp_tolerance": 0})
    assert changed.ok and changed.json()["timestamp_tolerance"] == 0
    assert stale.get_balance().result == 0  # the check is off
    assert served.admin("GET", "/settings").json()["timestamp_tolerance"] == 0
    for bad in ({"port": 1}, {"lockout_failures": "many"}, {"magic_numbers": 1}):
        assert served.admin("PATCH", "/settings", json=bad).status_code == 400, bad
    refused = served.admin("PATCH", "/settings", json={"lockout_failures": 0})
    assert refused.status_code == 400  # validated like a start-time setting


# ---------------------------------------------------------------- delivery


def test_magic_numbers_of_ones_own_fix_a_numbers_fate(served):
    table = {
        "13912345678": {"latency": None},  # never reported
        "13912345679": {"latency": 0, "status": 1, "errcode": "REJECTD"},
    }
    assert served.admin("PUT", "/magic", json=table).ok
    magic = served.admin("GET", "/magic").json()
    assert magic["custom"] == table and "1xx00000002" in magic["builtin"]
    client = served.client()
    sent = client.batch_send(["13912345678", "13912345679"], "magic")
    (report,) = wait_for_reports(client, 1)
    assert (report["msgid"], report["status"], report["errcode"]) == (sent.msgid + 1, 1, "REJECTD")
    bad = {"13912345678": {"latency": -1}}
    assert served.admin("PUT", "/magic", json=bad).status_code == 400


def test_built_in_magic_numbers_can_be_turned_off(served):
    client = served.client()
    client.single_send("13800000009", "magic")  # built in: delivered at once
    assert wait_for_reports(client, 1)[0]["errcode"] == "DELIVRD"
    served.admin("PATCH", "/settings", json={"magic_numbers": False})
    sent = client.single_send("13800000002", "no magic")  # built in: fails; now instant
    (report,) = wait_for_reports(client, 1)
    assert (report["msgid"], report["errcode"]) == (sent.msgid, "DELIVRD")


def test_each_operator_can_have_its_own_delivery_profile(served):
    changes = {"operator_profiles": {"china_unicom": "slow"}}
    assert served.admin("PATCH", "/accounts/J10003", json=changes).ok
    served.client().batch_send(["13800138000", "13100138000"], "profiles")

    def latency(mobile: str) -> float:
        (message,) = served.admin("GET", f"/accounts/J10003/messages?mobile={mobile}").json()
        return message["outcome"]["latency"]

    assert latency("13800138000") == 0.0  # the account's instant profile
    assert latency("13100138000") > 1.0  # slow for China Unicom
    bad = {"operator_profiles": {"china_unicorn": "slow"}}
    assert served.admin("PATCH", "/accounts/J10003", json=bad).status_code == 400


def test_the_balance_can_be_set(served):
    assert served.admin("PUT", "/accounts/POOR01/balance", json={"balance": 7}).ok
    assert served.client("POOR01", "poor-pass").get_balance().balance == 7
    assert served.admin("PUT", "/accounts/MONEY1/balance", json={"money": "1.5"}).ok
    assert served.client("MONEY1", "money-pass").get_balance().money == "1.500000"
    assert served.admin("PUT", "/accounts/POOR01/balance", json={}).status_code == 400


# ---------------------------------------------------------------- at start


def test_config_show_lists_the_control_plane_from_file_and_flags(tmp_path: Path):
    config = tmp_path / "mock.toml"
    config.write_text(CONFIG, encoding="utf-8")
    result = CliRunner().invoke(
        main,
        ["config", "show", "--config", str(config), "--defect", "push-as-json"],
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert (shown["clock_offset"], shown["timestamp_tolerance"]) == (30, 120)
    assert shown["defects"] == ["money-as-number", "push-as-json"]
    assert shown["magic"]["13912345678"]["errcode"] == "REJECTD"
    assert shown["faults"][0]["result"] == -100999
    (account,) = shown["accounts"]
    assert account["operator_profiles"] == {"china_unicom": "slow", "international": "lossy"}
    assert (account["push_enabled"], account["push_rpt_batch"], account["mo_charset"]) == (
        True,
        50,
        "gbk",
    )
    assert account["balance"] and account["max_concurrent"] == 100
    for bad in (["--defect", "nope"], ["--fault", '{"action": "explode"}'], ["--fault", "{"]):
        refused = CliRunner().invoke(main, ["config", "show", *bad])
        assert refused.exit_code == 2 and "Error" in refused.output, bad


def test_a_restart_starts_from_the_configuration_again(tmp_path: Path):
    mock = start_server(tmp_path, "--clock-offset", "120", "--defect", "money-as-number")
    try:
        assert mock.admin("GET", "/clock").json()["offset"] == 120
        mock.admin("PUT", "/clock", json={"offset": 0})
        mock.admin("PUT", "/defects", json={"enabled": ["push-as-json"]})
    finally:
        mock.stop()
    mock = start_server(
        tmp_path, "--clock-offset", "120", "--defect", "money-as-number", db=mock.db
    )
    try:
        assert mock.admin("GET", "/clock").json()["offset"] == 120
        assert mock.admin("GET", "/settings").json()["defects"] == ["money-as-number"]
    finally:
        mock.stop()


def test_nonsense_through_the_control_plane_is_refused_not_crashed_on(served):
    for method, path, body in (
        ("PUT", "/clock", {"offset": 1e300}),
        ("PUT", "/clock", {"now": "9999-12-31 23:59:59"}),
        ("PATCH", "/settings", {"timestamp_tolerance": "NaN"}),
        ("PUT", "/magic", {"13912345678": {"latency": 1e300}}),
        ("PUT", "/magic", {"13912345678": "fails"}),
        ("PATCH", "/accounts/J10003", {"operator_profiles": ["slow"]}),
        ("PATCH", "/accounts/J10003", {"push_rpt_url": 42}),
        ("PATCH", "/accounts/J10003", {"push_enabled": "yes"}),
        ("PATCH", "/accounts/J10003", {"push_rpt_batch": 501}),
        ("PUT", "/defects", {"enabled": "all"}),
        ("POST", "/faults", {"action": "result", "result": "x"}),
    ):
        response = served.admin(method, path, json=body)
        assert response.status_code == 400, (path, body, response.text)
    nan = served.admin(
        "PATCH",
        "/settings",
        data='{"clock_offset": NaN}',
        headers={"Content-Type": "application/json"},
    )
    assert nan.status_code == 400
    assert served.client().get_balance().result == 0  # still serving
