"""smsapi.push: §2.7 / §2.8 push requests and answers, both sides."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from smsapi.auth import CHINA_TZ, digest
from smsapi.errors import CodecError
from smsapi.push import (
    PushKind,
    encode_push,
    judge_push_answer,
    parse_push_request,
    push_answer_body,
    push_fields,
    verify_push_auth,
)

REPORT = {
    "msgid": -9223372036854775807,
    "custid": "b3d0a2783d31b21b8573",
    "pknum": 1,
    "pktotal": 2,
    "mobile": "13800138000",
    "spno": "1000457890006",
    "exno": "0006",
    "stime": "2016-08-04 17:38:55",
    "rtime": "2016-08-04 17:38:59",
    "status": 0,
    "errcode": "DELIVRD",
    "errdesc": "success",
    "exdata": "exdata0002",
}
MO = {
    "msgid": 9223372036854775807,
    "mobile": "13800138000",
    "spno": "1000457890006",
    "exno": "0006",
    "rtime": "2016-08-04 17:38:59",
    "content": "%b2%e2%ca%d4%b6%cc%d0%c5",  # 测试短信 in GBK (§2.7.5)
}
# §2.7.5 as printed (the wrapped timestamp joined): the JSON array is not urlencoded.
DOCUMENT_MO_PUSH = (
    b"userid=J10003&pwd=26dad7f364507df18f3841cc9c4ff94d&timestamp=0803192020&cmd=MO_REQ"
    b'&seqid=1003&mos=[{"msgid":9223372045854775808,"mobile":"138xxxxxxxx","spno":'
    b'"1000457890006","exno":"0006","rtime":"2016-08-04 17:38:59","content":'
    b'"%b2%e2%ca%d4%b6%cc%d0%c5"}]'
)
AUGUST = datetime(2020, 8, 3, 19, 20, 20, tzinfo=CHINA_TZ)


def test_the_cmds_batch_caps_and_list_fields_are_the_documents():
    assert (PushKind.RPT.cmd, PushKind.RPT.answer_cmd) == ("RPT_REQ", "RPT_RESP")
    assert (PushKind.MO.cmd, PushKind.MO.answer_cmd) == ("MO_REQ", "MO_RESP")
    assert (PushKind.RPT.max_items, PushKind.MO.max_items) == (500, 100)
    assert (PushKind.RPT.list_field, PushKind.MO.list_field) == ("rpts", "mos")


def test_push_fields_carry_the_md5_digest_of_the_timestamp_they_carry():
    fields = push_fields(PushKind.RPT, "J10003", "111111", 1004, [REPORT], AUGUST)
    assert fields["timestamp"] == "0803192020"
    assert fields["pwd"] == "26dad7f364507df18f3841cc9c4ff94d"  # §3.1 golden vector
    assert (fields["cmd"], fields["seqid"], fields["rpts"]) == ("RPT_REQ", 1004, [REPORT])


def test_a_push_is_a_form_post_and_reads_back_exactly():
    fields = push_fields(PushKind.MO, "J10003", "111111", 7, [MO], AUGUST)
    body, content_type = encode_push(fields)
    assert content_type == "application/x-www-form-urlencoded"
    assert body.startswith(b"userid=J10003&pwd=") and b"[" not in body  # array encoded
    request = parse_push_request(body, content_type)
    assert (request.kind, request.cmd, request.seqid) == (PushKind.MO, "MO_REQ", 7)
    assert request.items == [MO]  # the urlencoded GBK content survives, 64-bit ids too
    assert request.problems == []


def test_the_documents_raw_example_is_read_without_decoding_the_content_twice():
    request = parse_push_request(DOCUMENT_MO_PUSH, "application/x-www-form-urlencoded")
    assert request.seqid == 1003
    assert request.items[0]["content"] == "%b2%e2%ca%d4%b6%cc%d0%c5"
    assert request.items[0]["msgid"] == 9223372045854775808


def test_a_json_push_body_is_read_but_named_as_a_problem():
    fields = push_fields(PushKind.RPT, "J10003", "111111", 3, [REPORT], AUGUST)
    request = parse_push_request(json.dumps(fields).encode(), "application/json")
    assert request.items == [REPORT] and request.fmt == "json"
    assert any("not form-urlencoded" in p for p in request.problems)


def test_too_many_items_and_a_bad_cmd_are_problems():
    fields = push_fields(PushKind.MO, "J10003", "111111", 3, [MO] * 101, AUGUST)
    assert any("over the 100" in p for p in parse_push_request(encode_push(fields)[0]).problems)
    fields["cmd"] = "MO_RESP"
    assert any("cmd" in p for p in parse_push_request(encode_push(fields)[0]).problems)


def test_an_unreadable_json_push_raises_codec_error():
    with pytest.raises(CodecError):
        parse_push_request(b"{not json", "application/json")


@pytest.mark.parametrize(
    "status, body, ok",
    [
        (200, b'{"cmd":"RPT_RESP","seqid":41,"result":0}', True),
        (200, b'{"cmd":"RPT_RESP","seqid":"41","result":"0"}', True),  # quoted numbers
        (200, b'{"cmd":"RPT_RESP","seqid":40,"result":0}', False),  # wrong seqid
        (200, b'{"cmd":"MO_RESP","seqid":41,"result":0}', False),  # wrong cmd
        (200, b'{"cmd":"RPT_RESP","seqid":41,"result":-100999}', False),  # §2.8.7
        (200, b'{"cmd":"RPT_RESP","seqid":41}', False),  # no result
        (200, b"OK", False),  # not JSON
        (200, b"[0]", False),  # not an object
        (500, b'{"cmd":"RPT_RESP","seqid":41,"result":0}', False),  # HTTP error
    ],
)
def test_only_a_200_json_answer_with_the_cmd_the_seqid_and_result_0_counts(status, body, ok):
    verdict = judge_push_answer(PushKind.RPT, 41, status, body)
    assert verdict.ok is ok
    assert verdict.reason == "" if ok else verdict.reason


def test_the_receivers_answer_is_the_documents_json():
    assert json.loads(push_answer_body(PushKind.MO, 1003)) == {
        "cmd": "MO_RESP",
        "seqid": 1003,
        "result": 0,
    }
    answer = push_answer_body(PushKind.RPT, 5, -100999)
    assert judge_push_answer(PushKind.RPT, 5, 200, answer).ok is False


def test_verify_push_auth_accepts_a_fresh_lower_case_digest_only():
    fields = push_fields(PushKind.RPT, "J10003", "111111", 1, [REPORT], AUGUST)
    request = parse_push_request(encode_push(fields)[0])
    assert verify_push_auth(request, "111111", AUGUST) == ""
    assert "md5" in verify_push_auth(request, "222222", AUGUST)
    assert "from now" in verify_push_auth(request, "111111", AUGUST + timedelta(hours=1))
    assert verify_push_auth(request, "111111", AUGUST + timedelta(hours=1), tolerance=0) == ""
    request.pwd = digest("J10003", "111111", "0803192020").upper()
    assert "upper case" in verify_push_auth(request, "111111", AUGUST)
    request.timestamp = ""
    assert "missing" in verify_push_auth(request, "111111", AUGUST)
