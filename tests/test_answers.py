"""smsapi.answers: every answer keeps the document's shape, failures included."""

from __future__ import annotations

import pytest

from mockcarrier.config import to_micros
from smsapi.answers import (
    balance_answer,
    failure_answer,
    format_money,
    mo_answer,
    push_answer,
    rpt_answer,
    send_answer,
)
from smsapi.endpoints import ENDPOINTS, SEND_ENDPOINTS
from smsapi.errors import Result


@pytest.mark.parametrize("endpoint", SEND_ENDPOINTS)
def test_send_failure_has_msgid_0_and_empty_custid(endpoint: str):
    """§2.1.9 result非0时，msgid为0 … custid为空."""
    assert failure_answer(endpoint, Result.AUTH_FAILED) == {
        "result": -100001,
        "msgid": 0,
        "custid": "",
    }


def test_get_mo_failure_has_empty_string_mos():
    """§2.4.9 "mos":""."""
    assert failure_answer("get_mo", Result.INTERNAL_ERROR) == {"result": -100999, "mos": ""}


def test_get_rpt_failure_has_empty_string_rpts():
    """§2.5.9 "rpts":""."""
    assert failure_answer("get_rpt", Result.AUTH_LOCKED) == {"result": -100002, "rpts": ""}


def test_get_balance_failure_has_zero_balance_and_money():
    """§2.6.9 chargetype 0, balance 0, money "0.000000"."""
    assert failure_answer("get_balance", Result.IP_NOT_ALLOWED) == {
        "result": -100057,
        "chargetype": 0,
        "balance": 0,
        "money": "0.000000",
    }


def test_every_endpoint_has_a_failure_shape():
    for name in ENDPOINTS:
        answer = failure_answer(name, Result.INTERNAL_ERROR)
        assert answer["result"] == -100999
        assert type(answer["result"]) is int


def test_send_failure_drops_msgid_and_custid_given():
    assert send_answer(Result.ARREARS, 12345, "mine") == {
        "result": -100003,
        "msgid": 0,
        "custid": "",
    }


def test_failure_result_is_a_plain_int():
    answer = send_answer(Result.CONTENT_TOO_LONG)
    assert type(answer["result"]) is int
    assert answer["result"] == -100011


def test_send_success_echoes_msgid_and_custid():
    """§2.1.6."""
    assert send_answer(Result.OK, -42, "b3d0a2783d31b21b8573") == {
        "result": 0,
        "msgid": -42,
        "custid": "b3d0a2783d31b21b8573",
    }


def test_pull_success_with_nothing_is_an_empty_list():
    """C10: an empty success is [] (the failure is "")."""
    assert mo_answer(Result.OK) == {"result": 0, "mos": []}
    assert rpt_answer(Result.OK) == {"result": 0, "rpts": []}


def test_pull_success_carries_the_items():
    items = [{"msgid": 1}, {"msgid": 2}]
    assert rpt_answer(Result.OK, items)["rpts"] == items
    assert mo_answer(Result.OK, items)["mos"] == items


def test_balance_by_count_has_zero_money():
    """§2.6.6 chargetype 0 counts messages."""
    assert balance_answer(Result.OK, 0, 1234, 999) == {
        "result": 0,
        "chargetype": 0,
        "balance": 1234,
        "money": "0.000000",
    }


def test_balance_by_money_has_zero_balance():
    """§2.6.6 chargetype 1 counts money."""
    assert balance_answer(Result.OK, 1, 1234, 29000) == {
        "result": 0,
        "chargetype": 1,
        "balance": 0,
        "money": "0.029000",
    }


@pytest.mark.parametrize(
    ("micros", "text"),
    [
        (0, "0.000000"),
        (1, "0.000001"),
        (29000, "0.029000"),
        (1_000_000, "1.000000"),
        (100_000_000_000, "100000.000000"),
        (-1, "-0.000001"),
        (-1_500_000, "-1.500000"),
        (-29000, "-0.029000"),
    ],
)
def test_money_has_six_decimals(micros: int, text: str):
    """§2.6.8 "money":"0.000000"."""
    assert format_money(micros) == text


def test_price_cap_in_micros_formats_back():
    """Tender §3: 0.029 yuan per message = 29000 micro-yuan."""
    assert to_micros("0.029") == 29000
    assert format_money(to_micros("0.029")) == "0.029000"


def test_push_answers_echo_cmd_and_seqid():
    """§2.7.4 / §2.8.4."""
    assert push_answer("MO_RESP", 1003) == {"cmd": "MO_RESP", "seqid": 1003, "result": 0}
    assert push_answer("RPT_RESP", 7, Result.INTERNAL_ERROR) == {
        "cmd": "RPT_RESP",
        "seqid": 7,
        "result": -100999,
    }
