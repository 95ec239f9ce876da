"""loadtests.receiver: the §2.8 push receiver, read and answered through smsapi.push."""

from __future__ import annotations

import json
from datetime import timedelta

from werkzeug.test import Client as WsgiClient

from loadtests.receiver import parse_listen, push_app
from loadtests.recorder import Recorder
from smsapi.auth import china_now
from smsapi.push import PushKind, encode_push, push_fields

RPT = {"msgid": 42, "custid": "c1", "pknum": 1, "pktotal": 1, "mobile": "13800138000"}


def receiver() -> tuple[WsgiClient, Recorder]:
    recorder = Recorder("local")
    return WsgiClient(push_app(recorder, "J10003", "111111")), recorder


def post(client: WsgiClient, fields: dict) -> dict:
    body, media = encode_push(fields)
    answer = client.post("/rpt", data=body, content_type=media)
    assert answer.status_code == 200
    return json.loads(answer.data)


def test_a_report_push_is_noted_and_answered_with_the_same_seqid() -> None:
    client, recorder = receiver()
    answer = post(client, push_fields(PushKind.RPT, "J10003", "111111", 1004, [RPT, RPT]))
    assert answer == {"cmd": "RPT_RESP", "seqid": 1004, "result": 0}
    records = recorder.take()
    assert [r[0] for r in records] == ["rpt", "rpt", "push"]
    assert records[0][2] == "push" and records[0][4] == RPT
    assert records[-1] == ["push", "local", "ok"]


def test_a_wrong_digest_is_refused_and_its_reports_ignored() -> None:
    client, recorder = receiver()
    answer = post(client, push_fields(PushKind.RPT, "J10003", "wrong", 7, [RPT]))
    assert answer == {"cmd": "RPT_RESP", "seqid": 7, "result": -100001}
    assert recorder.take() == [["push", "local", "auth_failed"]]


def test_a_stale_timestamp_is_refused() -> None:
    client, recorder = receiver()
    old = china_now() - timedelta(hours=2)
    answer = post(client, push_fields(PushKind.RPT, "J10003", "111111", 8, [RPT], now=old))
    assert answer["result"] == -100001


def test_an_mo_push_is_answered_mo_resp() -> None:
    client, recorder = receiver()
    answer = post(client, push_fields(PushKind.MO, "J10003", "111111", 3, [{"mobile": "1"}]))
    assert answer == {"cmd": "MO_RESP", "seqid": 3, "result": 0}
    assert recorder.take() == [["push", "local", "mo"]]


def test_unreadable_bodies_and_other_methods_are_refused() -> None:
    client, recorder = receiver()
    assert (
        client.post("/rpt", data=b"{not json", content_type="application/json").status_code == 400
    )
    assert client.get("/rpt").status_code == 405
    assert recorder.take() == [["push", "local", "unreadable"]]


def test_listen_addresses() -> None:
    assert parse_listen("127.0.0.1:8090") == ("127.0.0.1", 8090)
    assert parse_listen(":8090") == ("0.0.0.0", 8090)
    assert parse_listen("8090") == ("0.0.0.0", 8090)
