"""Fault injection (mockcarrier.faults) on a served mock: forced codes, delays, dropped
connections, HTTP errors, broken bodies, and push delays, duplicates and reordering."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import requests

from smsapi import Client
from smsapi.errors import CodecError, Result, TransportError
from tests.conftest import FAILURE_SHAPES, Served, module_server, start_server
from tests.receiver import Receiver, disable_push, enable_push

served = module_server("faults")


@pytest.fixture(autouse=True)
def no_faults_left(served: Served) -> Iterator[None]:
    yield
    assert served.admin("DELETE", "/faults").ok


def add_fault(served: Served, **rule) -> dict:
    response = served.admin("POST", "/faults", json=rule)
    assert response.status_code == 201, response.text
    return response.json()


def call(client: Client, endpoint: str) -> dict:
    """One call of an endpoint; the answer as read."""
    if endpoint == "single_send":
        return client.single_send("13800138000", "fault?").answer
    if endpoint == "batch_send":
        return client.batch_send(["13800138000", "13100000000"], "fault?").answer
    if endpoint == "multi_send":
        return client.multi_send([{"mobile": "13800138000", "content": "fault?"}]).answer
    if endpoint == "get_mo":
        return client.get_mo().answer
    if endpoint == "get_rpt":
        return client.get_rpt().answer
    return client.get_balance().answer


def unchecked(served: Served, **kw) -> Client:
    """A client whose answers are not schema-checked: these ones are broken on purpose."""
    return served.client(session=requests.Session(), **kw)


def sent_count(served: Served) -> int:
    return len(served.admin("GET", "/accounts/J10003/messages?limit=1000").json())


def test_every_code_in_the_table_can_be_forced_on_any_endpoint_for_the_next_call(served):
    client = served.client()
    codes = [code for code in Result if code != Result.OK]
    endpoints = list(FAILURE_SHAPES)
    for index, code in enumerate(codes):  # -100029, -100126, -100999 included
        endpoint = endpoints[index % len(endpoints)]
        add_fault(served, action="result", endpoint=endpoint, result=int(code), count=1)
        answer = call(client, endpoint)
        assert answer.pop("result") == int(code), endpoint
        assert answer == FAILURE_SHAPES[endpoint], endpoint  # the rest of the shape
        assert call(client, endpoint)["result"] == 0  # spent after one call


def test_a_forced_code_sends_nothing_and_count_spends_the_rule(served):
    client = served.client()
    before = sent_count(served)
    rule = add_fault(served, action="result", endpoint="*", result=-100999, count=3)
    assert rule["remaining"] == 3 and rule["hits"] == 0
    results = [client.single_send("13800138000", "x").result for _ in range(4)]
    assert results == [-100999, -100999, -100999, 0]
    assert sent_count(served) == before + 1
    (listed,) = served.admin("GET", "/faults").json()
    assert (listed["id"], listed["remaining"], listed["hits"]) == (rule["id"], 0, 3)


def test_a_rate_forces_about_that_share_of_calls(served):
    client = served.client()
    add_fault(served, action="result", endpoint="get_balance", result=-100999, rate=0.5)
    forced = sum(client.get_balance().result == -100999 for _ in range(60))
    assert 10 <= forced <= 50  # binomial(60, 0.5): outside this once in 10^7 runs


def test_a_rule_for_one_account_spares_the_others_and_finds_apikey_callers(served):
    add_fault(served, action="result", userid="J10003", result=-100057)
    assert served.client("REAL01", "real-pass").get_balance().result == 0
    assert served.client().get_balance().result == -100057
    by_key = served.client(apikey="abade5589e2798f82f006bbc36d269ce", auth="apikey")
    assert by_key.get_balance().result == -100057


def test_a_delay_holds_the_answer_then_answers_normally(served):
    add_fault(served, action="delay", endpoint="get_balance", delay_ms=400, count=1)
    started = time.monotonic()
    assert served.client().get_balance().result == 0
    assert time.monotonic() - started >= 0.4


def test_a_dropped_connection_gets_no_http_answer_and_nothing_is_sent(served):
    before = sent_count(served)
    add_fault(served, action="drop", endpoint="single_send", count=1)
    with pytest.raises(TransportError):
        served.client().single_send("13800138000", "dropped")
    assert sent_count(served) == before
    assert served.client().single_send("13800138000", "after").result == 0


def test_an_http_error_is_answered_with_its_status_and_nothing_is_sent(served):
    before = sent_count(served)
    add_fault(served, action="http_error", endpoint="single_send", status=503, count=1)
    client = unchecked(served)
    with pytest.raises(TransportError, match="503"):
        client.single_send("13800138000", "refused")
    assert client.last_exchange is not None and client.last_exchange.status == 503
    assert sent_count(served) == before


@pytest.mark.parametrize("action", ["truncate", "malformed"])
@pytest.mark.parametrize("content_type", ["application/json", "application/xml"])
def test_truncated_and_malformed_bodies_do_not_parse_but_the_request_was_done(
    served, action, content_type
):
    client = unchecked(served, fmt="xml" if "xml" in content_type else "json")
    intact = client.call("single_send", {"mobile": "13800138000", "content": "%b2%e2"})[1]
    before = sent_count(served)
    add_fault(served, action=action, endpoint="single_send", count=1)
    with pytest.raises(CodecError):
        client.single_send("13800138000", "broken answer")
    assert client.last_exchange is not None
    body = client.last_exchange.answer_body
    if action == "truncate":
        assert len(body) == len(intact.answer_body) // 2
    assert sent_count(served) == before + 1  # processed: only the answer is broken


def test_malformed_rules_are_refused(served):
    for rule in (
        {"action": "explode"},
        {"action": "result"},  # no code
        {"action": "result", "result": 0, "endpoint": "send_all"},
        {"action": "push_delay", "endpoint": "single_send", "delay_ms": 5},
        {"action": "delay", "delay_ms": 0},
        {"action": "result", "result": -100999, "rate": 0},
        {"action": "result", "result": -100999, "count": 0},
        {"action": "result", "result": -100999, "colour": "red"},
        {"action": "result", "result": -1},  # not a §4 code
        {"action": "result", "result": 0},  # success is no fault
    ):
        response = served.admin("POST", "/faults", json=rule)
        assert response.status_code == 400, rule
        assert response.json()["error"]
    assert served.admin("DELETE", "/faults/999999").status_code == 404


# ---------------------------------------------------------------- push faults


@pytest.fixture
def pushing(served: Served) -> Iterator[Receiver]:
    rx = Receiver().start()
    enable_push(served, rx, push_rpt_batch=1)
    yield rx
    disable_push(served)
    served.admin("PATCH", "/accounts/J10003", json={"push_rpt_batch": 500})
    rx.stop()


def test_push_duplicate_sends_an_acknowledged_batch_again_with_a_new_seqid(served, pushing):
    add_fault(served, action="push_duplicate", endpoint="push_rpt", count=1)
    sent = served.client().single_send("13800138000", "twice")
    pushing.wait_until(lambda: len(pushing.received()) >= 2)
    first, second = pushing.received()[:2]
    assert first.request.items == second.request.items
    assert first.request.items[0]["msgid"] == sent.msgid
    assert second.request.seqid == first.request.seqid + 1

    def notes() -> list[str]:
        return [a["note"] for a in served.admin("GET", "/accounts/J10003/pushes").json()]

    pushing.wait_until(lambda: "duplicate" in notes())  # logged after its answer


def test_push_reorder_pushes_the_later_batch_first(served, pushing):
    add_fault(served, action="push_reorder", endpoint="push", count=1)
    sent = served.client().batch_send(["13800138000", "13100000000"], "reordered")
    items = pushing.wait_for_items(2)
    assert [i["msgid"] for i in items] == [sent.msgid + 1, sent.msgid]


def test_push_delay_waits_before_each_push(served, pushing):
    add_fault(served, action="push_delay", endpoint="push_rpt", delay_ms=500, count=1)
    started = time.time()
    served.client().single_send("13800138000", "late")
    pushing.wait_for_items(1)
    assert pushing.received()[0].at - started >= 0.5


def test_a_fault_given_at_start_applies_from_the_first_call(tmp_path):
    rule = {"action": "result", "endpoint": "get_balance", "result": -100126, "count": 1}
    mock = start_server(tmp_path, "--fault", json.dumps(rule))
    try:
        assert mock.client().get_balance().result == -100126
        assert mock.client().get_balance().result == 0
    finally:
        mock.stop()
