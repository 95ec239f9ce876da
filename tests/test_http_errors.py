"""Every §4 code with a natural trigger, over real HTTP, in the document's shapes."""

from __future__ import annotations

import json
import socket
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests

from smsapi import Client
from smsapi.auth import china_now, digest, format_timestamp
from smsapi.codec import parse_answer
from smsapi.errors import Result

from .conftest import FAILURE_SHAPES, Served


def post(server: Served, endpoint: str, body: bytes | str, content_type: str) -> requests.Response:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return requests.post(
        f"{server.url}/sms/v2/std/{endpoint}",
        data=data,
        headers={"Content-Type": content_type},
        timeout=30,
    )


# ---------------------------------------------------------------- §3.1 authentication


@pytest.mark.parametrize("endpoint", sorted(FAILURE_SHAPES))
@pytest.mark.parametrize("fmt", ["json", "xml", "form"])
def test_auth_failure_keeps_the_answer_shape(server: Served, endpoint: str, fmt: str) -> None:
    # an unknown userid per case, so that no case reaches the lockout of another
    userid = f"{endpoint[:3]}{fmt[:2]}".upper()
    client = Client(server.url, userid, "wrong-password", fmt=fmt, raise_for_result=False)
    answer, exchange = client.call(endpoint, {"mobile": "13800138000", "content": "%b2%e2"})
    assert exchange.status == 200
    assert answer == {"result": Result.AUTH_FAILED, **FAILURE_SHAPES[endpoint]}


def test_apikey_authenticates_without_userid_and_pwd(server: Served) -> None:
    client = Client(
        server.url, apikey="abade5589e2798f82f006bbc36d269ce", auth="apikey", raise_for_result=False
    )
    assert client.get_balance().result == 0


def test_apikey_wins_over_a_wrong_pwd(server: Served) -> None:
    body = {"userid": "J10003", "pwd": "0" * 32, "apikey": "abade5589e2798f82f006bbc36d269ce"}
    assert post(server, "get_balance", json.dumps(body), "application/json").json()["result"] == 0


def test_wrong_apikey_fails(server: Served) -> None:
    body = {"apikey": "0" * 32}
    assert (
        post(server, "get_balance", json.dumps(body), "application/json").json()["result"]
        == Result.AUTH_FAILED
    )


def test_plaintext_mode_works_where_enabled_only(server: Served) -> None:
    assert server.client(auth="plain").get_balance().result == 0
    refused = server.client("REAL01", "real-pass", auth="plain").get_balance()
    assert refused.result == Result.AUTH_FAILED


def test_stale_timestamp_is_refused(server: Served) -> None:
    stale = Client(
        server.url,
        "REAL01",
        "real-pass",
        raise_for_result=False,
        clock=lambda: china_now() - timedelta(hours=2),
    )
    assert stale.get_balance().result == Result.AUTH_FAILED
    assert "timestamp" in stale.last_exchange.answer_headers["X-Mock-Reason"]


def test_missing_timestamp_is_refused_in_md5_mode(server: Served) -> None:
    timestamp = format_timestamp(china_now())
    body = {"userid": "REAL01", "pwd": digest("REAL01", "real-pass", timestamp)}
    assert (
        post(server, "get_balance", json.dumps(body), "application/json").json()["result"]
        == Result.AUTH_FAILED
    )


def test_unix_seconds_as_timestamp_are_accepted_by_default_and_flagged(server: Served) -> None:
    now = china_now()
    unix = str(int(now.timestamp()))
    body = {"userid": "REAL01", "pwd": digest("REAL01", "real-pass", unix), "timestamp": unix}
    answer = post(server, "get_balance", json.dumps(body), "application/json")
    assert answer.json()["result"] == 0  # A2: real carriers take them
    assert "Unix seconds" in answer.headers["X-Mock-Warning"]


def test_lower_case_userid_is_tolerated(server: Served) -> None:
    timestamp = format_timestamp(china_now())
    body = {
        "userid": "real01",
        "pwd": digest("REAL01", "real-pass", timestamp),
        "timestamp": timestamp,
    }
    assert post(server, "get_balance", json.dumps(body), "application/json").json()["result"] == 0


def test_repeated_failures_lock_the_account(server: Served) -> None:
    """-100002 after lockout_failures (20 in the test config) failures, even for a
    correct password, while the window lasts."""
    wrong = server.client("LOCK01", "nope")
    results = [wrong.get_balance().result for _ in range(21)]
    assert results == [Result.AUTH_FAILED] * 20 + [Result.AUTH_LOCKED]
    assert server.client("LOCK01", "lock-pass").get_balance().result == Result.AUTH_LOCKED


def test_address_outside_allow_list_is_refused(server: Served) -> None:
    assert server.client("IPONLY", "ip-pass").get_balance().result == Result.IP_NOT_ALLOWED


def test_concurrent_requests_past_the_limit_are_refused(server: Served) -> None:
    """SLOW01 allows 1 request in flight and holds each answer 800 ms (§5.1 -100056)."""
    with server.slow_account() as client, ThreadPoolExecutor(4) as pool:
        results = list(
            pool.map(
                lambda _: (
                    Client(client.base_url, "SLOW01", "slow-pass", raise_for_result=False)
                    .get_balance()
                    .result
                ),
                range(4),
            )
        )
    assert Result.OK in results and Result.TOO_MANY_CONNECTIONS in results


# ---------------------------------------------------------------- field rules


@pytest.mark.parametrize(
    "options, code",
    [
        ({"svrtype": "SMS0000001X"}, Result.SVRTYPE_INVALID),  # 11 characters
        ({"svrtype": "SMS-1"}, Result.SVRTYPE_INVALID),
        ({"custid": "order.1"}, Result.CUSTOM_FIELD_INVALID),
        ({"exdata": "数据"}, Result.CUSTOM_FIELD_INVALID),
        ({"custid": "c" * 65}, Result.CUSTOM_PARAM_TOO_LONG),
        ({"exdata": "e" * 65}, Result.CUSTOM_PARAM_TOO_LONG),
    ],
)
def test_option_rules(server: Served, options: dict, code: Result) -> None:
    result = server.client().single_send("13800138000", "字段规则", **options)
    assert (result.result, result.msgid, result.custid) == (code, 0, "")


def test_custid_of_64_characters_is_accepted(server: Served) -> None:
    result = server.client().single_send("13800138000", "64", custid="c" * 64)
    assert result.result == 0 and result.custid == "c" * 64


def test_empty_options_mean_absent(server: Served) -> None:
    """Real clients send every optional field, empty."""
    result = server.client().single_send(
        "13800138000", "空字段", svrtype="", exno="", custid="", exdata=""
    )
    assert result.result == 0 and result.custid


@pytest.mark.parametrize(
    "mobile",
    ["12345678901", "1380013800", "+8613800138000", "13800138000,13800138001", "", "138xxxxxxxx"],
)
def test_single_send_refuses_an_invalid_mobile(server: Served, mobile: str) -> None:
    assert server.client().single_send(mobile, "号码").result == Result.MOBILE_INVALID


def test_content_over_1000_characters_with_signature_is_refused(server: Served) -> None:
    client = server.client()
    assert client.single_send("13800138000", "字" * 994).result == 0  # + 6-char signature
    assert client.single_send("13800138000", "字" * 995).result == Result.CONTENT_TOO_LONG


def test_content_missing_is_refused(server: Served) -> None:
    answer, _ = server.client().call("single_send", {"mobile": "13800138000"})
    assert answer["result"] == Result.CONTENT_TOO_LONG


def test_batch_of_1001_mobiles_is_refused(server: Served) -> None:
    client = server.client()
    mobiles = [f"138{i:08d}" for i in range(1001)]
    assert client.batch_send(mobiles, "超量").result == Result.TOO_MANY_MOBILES
    assert client.batch_send(mobiles[:1000], "满额").result == 0


def test_multi_of_101_items_is_refused(server: Served) -> None:
    items = [{"mobile": f"138{i:08d}", "content": "个性化"} for i in range(101)]
    client = server.client()
    assert client.multi_send(items).result == Result.TOO_MANY_MOBILES
    assert client.multi_send(items[:100]).result == 0


@pytest.mark.parametrize("fmt", ["json", "xml", "form"])
@pytest.mark.parametrize("mobile", [None, "", "   "], ids=["absent", "empty", "spaces"])
def test_a_multimt_item_without_a_mobile_refuses_the_send(
    server: Served, fmt: str, mobile: object
) -> None:
    """interpretations F6b: -100012 for the whole request, nothing billed or reported."""
    client = server.client(fmt=fmt)
    second = {"content": "%b2%e2"} | ({} if mobile is None else {"mobile": mobile})
    multimt = [{"mobile": "13800138000", "content": "%b2%e2"}, second]
    balance = client.get_balance().balance
    answer, exchange = client.call("multi_send", {"multimt": multimt})
    assert (answer["result"], answer["msgid"]) == (Result.MOBILE_INVALID, 0)
    reason = {k.lower(): v for k, v in exchange.answer_headers.items()}["x-mock-reason"]
    assert "item 2 has no mobile" in reason
    assert client.get_balance().balance == balance


def test_arrears_refuse_the_whole_send_and_bill_nothing(server: Served) -> None:
    """POOR01 has 3 messages: a 4-mobile batch is refused whole (-100003)."""
    server.admin("POST", "/accounts/POOR01/reset")
    client = server.client("POOR01", "poor-pass")
    result = client.batch_send(["13800138000"] * 4, "欠费")
    assert (result.result, result.msgid) == (Result.ARREARS, 0)
    assert client.get_balance().balance == 3
    assert client.batch_send(["13800138000"] * 3, "刚好").result == 0
    assert client.get_balance().balance == 0


# ---------------------------------------------------------------- hostile input


BOMB = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<mtreq><userid>&lol3;</userid></mtreq>"""
EXTERNAL = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<mtreq><userid>&x;</userid></mtreq>"""


@pytest.mark.parametrize(
    "body, content_type",
    [
        (BOMB, "application/xml"),
        (EXTERNAL, "application/xml"),
        (b"<mtreq><userid>J10003", "application/xml"),
        (b'{"userid": "J10003", ', "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
        (b"userid=%zz&pwd=%ff%fe", "application/x-www-form-urlencoded"),
        (b'<?xml version="1.0" encoding="no-such-charset"?><mtreq/>', "application/xml"),
    ],
)
def test_unreadable_bodies_get_a_shaped_refusal(
    server: Served, body: bytes, content_type: str
) -> None:
    answer = post(server, "single_send", body, content_type)
    assert answer.status_code == 200
    assert parse_answer(answer.content, answer.headers["Content-Type"]) == {
        "result": Result.AUTH_FAILED,
        "msgid": 0,
        "custid": "",
    }


def test_body_over_the_limit_is_refused_unread(server: Served) -> None:
    answer = post(
        server,
        "batch_send",
        b"mobile=" + b"1" * (3 * 1024 * 1024),
        "application/x-www-form-urlencoded",
    )
    assert answer.status_code == 413
    assert answer.json() == {"result": Result.CONTENT_TOO_LONG, "msgid": 0, "custid": ""}


def test_unknown_endpoint_is_404_and_get_is_405(server: Served) -> None:
    assert post(server, "no_such", b"{}", "application/json").status_code == 404
    assert requests.get(f"{server.url}/sms/v2/std/single_send", timeout=5).status_code == 405


def test_batch_mobiles_as_a_json_array_are_tolerated(server: Served) -> None:
    timestamp = format_timestamp(china_now())
    body = {
        "userid": "J10003",
        "pwd": digest("J10003", "111111", timestamp),
        "timestamp": timestamp,
        "mobile": ["13800138000", 13100000000],
        "content": "%b2%e2",
    }
    assert post(server, "batch_send", json.dumps(body), "application/json").json()["result"] == 0


def test_wrong_types_do_not_break_the_answer(server: Served) -> None:
    timestamp = format_timestamp(china_now())
    body = {
        "userid": "J10003",
        "pwd": digest("J10003", "111111", timestamp),
        "timestamp": timestamp,
        "mobile": 13800138000,
        "content": ["x"],
        "retsize": "abc",
    }
    assert (
        post(server, "single_send", json.dumps(body), "application/json").json()["result"]
        == Result.CONTENT_TOO_LONG
    )
    assert post(server, "get_rpt", json.dumps(body), "application/json").json()["result"] == 0


# ---------------------------------------------------------------- broken HTTP framing

BROKEN_CHUNKS = {
    "negative size": b"-5\r\nabc\r\n0\r\n\r\n",
    "size not hex": b"zz\r\nabc\r\n0\r\n\r\n",
    "chunk without its CRLF": b"3\r\nabcXY0\r\n\r\n",
    "bad chunk extension": b"3;\x01bad\r\nabc\r\n0\r\n\r\n",
    "bad trailer": b"3\r\nabc\r\n0\r\nBad Trailer\r\n\r\n",
}


def raw_exchange(server: Served, data: bytes, timeout: float = 10.0) -> bytes:
    """Send bytes on a fresh connection, return all the server writes until it closes."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


@pytest.mark.parametrize("endpoint", ["get_balance", "single_send"])
@pytest.mark.parametrize("case", sorted(BROKEN_CHUNKS))
def test_broken_chunked_framing_gets_400_in_the_document_shape_and_a_closed_connection(
    server: Served, endpoint: str, case: str
) -> None:
    head = (
        f"POST /sms/v2/std/{endpoint} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    # recv returning b"" (the server closed) ends raw_exchange: no second answer follows
    received = raw_exchange(server, head + BROKEN_CHUNKS[case])
    status_line, _, rest = received.partition(b"\r\n")
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert status_line.split()[1] == b"400", received[:300]
    assert received.count(b"HTTP/1.1 ") == 1  # one answer, then the connection closes
    assert b"X-Mock-Reason: malformed body framing" in headers
    assert b"connection: close" in headers.lower()
    answer = parse_answer(body, "application/json")
    assert answer == {"result": Result.AUTH_FAILED, **FAILURE_SHAPES[endpoint]}


def test_broken_chunked_framing_on_the_admin_api_is_a_400_too(server: Served) -> None:
    head = (
        b"POST /__admin/accounts/J10003/topup HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    received = raw_exchange(server, head + BROKEN_CHUNKS["size not hex"])
    assert received.split()[1] == b"400", received[:300]
    assert server.client().get_balance().result == Result.OK  # still serving
