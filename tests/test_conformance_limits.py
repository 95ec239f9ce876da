"""The limits, balance, codec and robustness checks against a served mock: each passes
on the clean mock, fails on the defect that breaks its rule, and never passes without
evidence (issue 15 items 3 and 11)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conformance.checks.limits import retsize_limit, retsize_volume
from conformance.config import VendorConfig, VendorConfigError, load_config
from conformance.events import EventBus
from conformance.outcomes import CheckResult, Outcome
from conformance.runner import Runner

from .conftest import Served, free_port, start_server
from .stand_ins import ACCEPTED_XML, tiny_carrier

MOBILES = ["13800138000", "13012345678", "18912345678"]


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    # one store: what is judged here is the suite (the stores' equivalence is tested apart)
    served = start_server(tmp_path_factory.mktemp("limits-mock"))
    yield served
    served.stop()


def vendor(target: str, **changes: object) -> VendorConfig:
    config = VendorConfig(
        vendor="mockcarrier",
        target=target,
        userid="J10003",
        password="111111",
        signature_length=6,
        test_mobiles=list(MOBILES),
        budget=5000,
        report_timeout=5.0,
        poll_interval=0.05,
        report_ready=0.0,  # the instant profile's reports are due at once
        request_timeout=10.0,
    )
    for key, value in changes.items():
        setattr(config, key, value)
    return config.validate()


def injecting(mock: Served, **changes: object) -> VendorConfig:
    return vendor(mock.url, mo_inject_url=f"{mock.url}/__admin/accounts/J10003/mo", **changes)


def run_one(config: VendorConfig, check_id: str) -> CheckResult:
    config.only = [check_id]
    return Runner(config, EventBus([])).run().results[check_id]


@contextmanager
def defects(mock: Served, *names: str) -> Iterator[None]:
    mock.admin("PUT", "/defects", json={"enabled": list(names)}).raise_for_status()
    try:
        yield
    finally:
        mock.admin("PUT", "/defects", json={"enabled": []}).raise_for_status()


# ---------------------------------------------------------------- the [mo] settings


def test_the_mo_section_names_the_injection_url_and_masks_its_token(tmp_path: Path) -> None:
    path = tmp_path / "vendor.toml"
    path.write_text(
        'target = "http://127.0.0.1:1"\n[credentials]\nuserid = "J10003"\npassword = "p"\n'
        '[mo]\ninject_url = "http://127.0.0.1:1/__admin/accounts/J10003/mo"\n'
        'admin_token = "secret"\nwait = 30\n[timing]\nreport_ready = 0.5\n',
        encoding="utf-8",
    )
    config = load_config(path).validate()
    assert config.mo_inject_url.endswith("/J10003/mo") and config.mo_wait == 30
    assert config.report_ready == 0.5
    assert config.settings_dict()["mo_admin_token"] == "***"
    config.mo_inject_url = "ftp://x"
    with pytest.raises(VendorConfigError, match="inject_url"):
        config.validate()


# ---------------------------------------------------------------- retsize


def test_retsize_limit_is_the_cap_when_absent_or_not_positive() -> None:
    assert [retsize_limit(r, 500) for r in (None, 0, -1, 1, 499, 500, 501, 100000)] == [
        500,
        500,
        500,
        1,
        499,
        500,
        500,
        500,
    ]


def test_retsize_arranges_more_than_three_caps_before_probing() -> None:
    first, second = retsize_volume(500)
    assert first > 3 * 500 + 1 and second >= 1


def test_rpt_retsize_passes_on_the_mock_judging_every_probe(mock: Served) -> None:
    result = run_one(vendor(mock.url), "LIMIT-RPT-RETSIZE")
    assert result.outcome is Outcome.PASSED, result.message
    assert result.judged["probes"] == 6
    seen = result.details["items_per_retsize"]
    assert seen["absent"].startswith("500 of ") and seen["501"].startswith("500 of ")
    assert seen["100000"].startswith("500 of ")


@pytest.mark.parametrize(
    ("defect", "probe"),
    [("retsize-cap-plus-one", "absent"), ("retsize-default-small", "absent")],
)
def test_rpt_retsize_fails_a_carrier_breaking_the_cap_or_the_default(
    mock: Served, defect: str, probe: str
) -> None:
    with defects(mock, defect):
        result = run_one(vendor(mock.url), "LIMIT-RPT-RETSIZE")
    assert result.outcome is Outcome.FAILED, result.message
    assert f"retsize {probe}" in result.message


def test_rpt_retsize_fails_a_cap_of_501_on_the_over_cap_probe(mock: Served) -> None:
    with defects(mock, "retsize-cap-ignored"):
        result = run_one(vendor(mock.url), "LIMIT-RPT-RETSIZE")
    assert result.outcome is Outcome.FAILED and "at most 500" in result.message


def test_rpt_retsize_is_not_run_without_the_budget_to_arrange_its_volume(mock: Served) -> None:
    result = run_one(vendor(mock.url, budget=1000), "LIMIT-RPT-RETSIZE")
    assert not result.outcome.judged
    assert "1505" in result.message and "budget" in result.message


def test_mo_retsize_passes_with_injected_mos(mock: Served) -> None:
    result = run_one(injecting(mock), "LIMIT-MO-RETSIZE")
    assert result.outcome is Outcome.PASSED, result.message
    assert result.judged["probes"] == 6
    assert result.details["items_per_retsize"]["absent"].startswith("200 of ")


def test_mo_retsize_fails_a_carrier_giving_one_over_the_cap(mock: Served) -> None:
    with defects(mock, "retsize-cap-plus-one"):
        result = run_one(injecting(mock), "LIMIT-MO-RETSIZE")
    assert result.outcome is Outcome.FAILED and "at most 200" in result.message


def test_mo_retsize_is_inconclusive_without_a_way_to_make_mos(mock: Served) -> None:
    result = run_one(vendor(mock.url), "LIMIT-MO-RETSIZE")
    assert result.outcome is Outcome.INCONCLUSIVE and "inject_url" in result.message


# ---------------------------------------------------------------- tiny broken carriers


@pytest.mark.parametrize("check_id", ["ROB-XML-BOMB", "ROB-BROKEN-BODIES", "LIMIT-MULTIMT-EMPTY"])
def test_hostile_or_empty_requests_answered_with_acceptance_fail(check_id: str) -> None:
    with tiny_carrier() as url:  # <result>0</result> to everything
        result = run_one(vendor(url), check_id)
    assert result.outcome is Outcome.FAILED and "result 0" in result.message


def test_concurrency_fails_a_carrier_dropping_connections_past_100() -> None:
    with tiny_carrier(max_connections=100) as url:
        result = run_one(vendor(url), "ROB-CONCURRENCY")
    assert result.outcome is Outcome.FAILED, result.message
    assert "110 connections open at once" in result.message


def test_codes_defined_fails_an_undefined_code() -> None:
    body = b'{"result":-123456,"msgid":0,"custid":""}'
    with tiny_carrier(body=body, media="application/json", balance_ok=True) as url:
        result = run_one(vendor(url), "ERR-CODES-DEFINED")
    assert result.outcome is Outcome.FAILED and "-123456" in result.message


def test_http_200_fails_a_failure_answered_with_a_5xx() -> None:
    body = b'{"result":-100001,"msgid":0,"custid":""}'
    with tiny_carrier(body=body, status=500, media="application/json", balance_ok=True) as url:
        result = run_one(vendor(url), "ERR-HTTP-200")
    assert result.outcome is Outcome.FAILED and "HTTP 500" in result.message


def test_concurrency_holds_110_connections_open_at_once(mock: Served) -> None:
    result = run_one(vendor(mock.url), "ROB-CONCURRENCY")
    assert result.outcome is Outcome.PASSED, result.message
    assert result.judged["connections"] == 110
    assert result.details["connections_open_at_once"] == 110


@pytest.mark.parametrize("check_id", ["ROB-XML-BOMB", "ROB-BROKEN-BODIES"])
def test_hostile_bodies_are_refused_by_the_mock(mock: Served, check_id: str) -> None:
    assert run_one(vendor(mock.url), check_id).outcome is Outcome.PASSED


# ---------------------------------------------------------------- exno, charging, results


def test_exno_passes_on_the_mock_judging_the_reports(mock: Served) -> None:
    result = run_one(vendor(mock.url), "LIMIT-EXNO")
    assert result.outcome is Outcome.PASSED, result.message
    assert result.judged["reports"] == 2


def test_exno_fails_a_carrier_reporting_an_exno_over_6_digits(mock: Served) -> None:
    with defects(mock, "exno-not-checked"):
        result = run_one(vendor(mock.url), "LIMIT-EXNO")
    assert result.outcome is Outcome.FAILED and "1234567" in result.message


@pytest.mark.parametrize("userid", ["J10003", "MONEY1"])
def test_charging_passes_on_the_mock_for_counts_and_money(mock: Served, userid: str) -> None:
    password = {"J10003": "111111", "MONEY1": "money-pass"}[userid]
    result = run_one(vendor(mock.url, userid=userid, password=password), "BAL-CHARGED")
    assert result.outcome is Outcome.PASSED, result.message


def test_charging_fails_a_carrier_that_never_lowers_the_balance(mock: Served) -> None:
    with defects(mock, "balance-not-charged"):
        result = run_one(vendor(mock.url), "BAL-CHARGED")
    assert result.outcome is Outcome.FAILED and "lowered by 3" in result.message


def test_an_unreadable_send_result_is_a_failure_never_acceptance(mock: Served) -> None:
    with defects(mock, "result-as-word"):
        result = run_one(vendor(mock.url), "CODEC-SEND-FORMATS")
    assert result.outcome is Outcome.FAILED and "unreadable result 'OK'" in result.message


def test_answer_schema_fails_an_unreadable_result_even_on_its_own_refused_send(
    mock: Served,
) -> None:
    # alone, the check's own traffic is "refused" (result "OK"): it judges that answer all the same
    with defects(mock, "result-as-word"):
        result = run_one(vendor(mock.url), "CODEC-ANSWER-SCHEMA")
    assert result.outcome is Outcome.FAILED, result.message
    assert "result is an integer" in result.message and "'OK'" in result.message


# ---------------------------------------------------------------- business: the rate's sample


def test_the_business_section_sets_the_delivery_rate_sample(tmp_path: Path) -> None:
    path = tmp_path / "vendor.toml"
    path.write_text(
        'target = "http://127.0.0.1:1"\n[credentials]\nuserid = "J10003"\npassword = "p"\n'
        "[business]\nrate_sample = 250\n",
        encoding="utf-8",
    )
    config = load_config(path).validate()
    assert config.delivery_rate_sample == 250
    config.delivery_rate_sample = 0
    with pytest.raises(VendorConfigError, match="rate_sample"):
        config.validate()


def test_delivery_rate_alone_tops_the_run_up_to_its_sample(mock: Served) -> None:
    result = run_one(vendor(mock.url, delivery_rate_sample=40), "BIZ-DELIVERY-RATE")
    assert result.outcome is Outcome.PASSED, result.message
    assert result.judged["segments"] >= 40 and result.details["segments_owed"] >= 40


def test_delivery_rate_is_not_judged_when_the_budget_cannot_buy_its_sample(
    mock: Served,
) -> None:
    # the declared cost (the sample) exceeds the budget: skipped up front, saying so
    result = run_one(vendor(mock.url, budget=20), "BIZ-DELIVERY-RATE")
    assert result.outcome is Outcome.SKIPPED, result.message
    assert "100" in result.message and "budget" in result.message


# ---------------------------------------------------------------- the document's examples


@pytest.mark.parametrize("profile", ["strict", "lenient"])
def test_document_examples_pass_on_the_mock(mock: Served, profile: str) -> None:
    result = run_one(vendor(mock.url, profile=profile), "CODEC-DOC-EXAMPLES")
    assert result.outcome is Outcome.PASSED, result.message
    assert result.judged["examples"] == 17


def test_document_examples_can_fail_under_strict(mock: Served) -> None:
    with defects(mock, "result-as-word"):  # "result":"OK" is neither acceptance nor a code
        result = run_one(vendor(mock.url, profile="strict"), "CODEC-DOC-EXAMPLES")
    assert result.outcome is Outcome.FAILED, result.message


# ---------------------------------------------------------------- MOs


def test_mo_checks_make_their_own_mo_through_the_injection_url(mock: Served) -> None:
    result = run_one(injecting(mock), "MO-FIELDS")
    assert result.outcome is Outcome.PASSED, result.message
    assert result.judged["mos"] >= 1


def test_mo_checks_are_inconclusive_without_an_mo(mock: Served) -> None:
    result = run_one(vendor(mock.url), "MO-FIELDS")
    assert result.outcome is Outcome.INCONCLUSIVE and "mo_wait" in result.message


# ---------------------------------------------------------------- run-wide answer checks alone


@pytest.mark.parametrize(
    "check_id", ["CODEC-ANSWER-SCHEMA", "ERR-FAILURE-SHAPE", "ERR-CODES-DEFINED", "ERR-HTTP-200"]
)
def test_run_wide_answer_checks_judge_answers_of_their_own_alone(
    mock: Served, check_id: str
) -> None:
    result = run_one(vendor(mock.url), check_id)
    assert result.outcome is Outcome.PASSED, result.message
    assert result.judged["answers"] >= 6


@pytest.mark.parametrize(
    ("defect", "check_id"),
    [("failure-shape-broken", "ERR-FAILURE-SHAPE"), ("msgid-as-string", "CODEC-ANSWER-SCHEMA")],
)
def test_run_wide_answer_checks_alone_fail_the_defect_of_their_rule(
    mock: Served, defect: str, check_id: str
) -> None:
    with defects(mock, defect):
        result = run_one(vendor(mock.url), check_id)
    assert result.outcome is Outcome.FAILED, result.message


def test_rpt_retsize_is_not_applicable_when_the_account_pushes_reports(mock: Served) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/push"
    push = {"push_enabled": True, "push_rpt_url": url, "push_timeout": 1.0}
    mock.admin("PATCH", "/accounts/J10003", json=push).raise_for_status()
    try:
        config = vendor(mock.url, callback_listen=f"127.0.0.1:{port}", callback_url=url)
        result = run_one(config, "LIMIT-RPT-RETSIZE")
    finally:
        mock.admin("PATCH", "/accounts/J10003", json={"push_enabled": False})
    assert result.outcome is Outcome.NOT_APPLICABLE, result.message
    assert result.messages_sent == 1  # found out before the 1505 were spent


# ---------------------------------------------------------------- no evidence, no pass


def test_exno_is_inconclusive_when_no_report_comes() -> None:
    with tiny_carrier(body=ACCEPTED_XML) as url:  # accepts every send, never reports
        result = run_one(vendor(url, report_timeout=0.3), "LIMIT-EXNO")
    assert result.outcome is Outcome.INCONCLUSIVE and "report_timeout" in result.message


def test_failure_shape_is_not_passed_by_a_carrier_that_never_fails() -> None:
    with tiny_carrier() as url:  # result 0 to everything: no failure answer to judge
        result = run_one(vendor(url), "ERR-FAILURE-SHAPE")
    assert result.outcome is Outcome.INCONCLUSIVE
