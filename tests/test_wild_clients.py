"""Clients in the wild (issue 16): the requests real SDKs send, byte for byte, read as real
carriers read them, with the text intact, and flagged (X-Mock-Warning, the message's
issues, the console). docs/interpretations.md A2, C14, W1-W4."""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import quote

import requests

from smsapi.auth import china_now, digest, format_timestamp
from smsapi.content import encode_mt_content

from .conftest import Served

USERID, PASSWORD = "J10003", "111111"
TEXT = "测试短信"


def post(server: Served, endpoint: str, body: bytes, content_type: str) -> requests.Response:
    return requests.post(
        f"{server.url}/sms/v2/std/{endpoint}",
        data=body,
        headers={"Content-Type": content_type},
        timeout=10,
    )


def credentials(timestamp: str = "") -> dict[str, str]:
    timestamp = timestamp or format_timestamp(china_now())
    return {"userid": USERID, "pwd": digest(USERID, PASSWORD, timestamp), "timestamp": timestamp}


def sent(server: Served, custid: str) -> list[dict]:
    return server.admin("GET", f"/accounts/{USERID}/messages?custid={custid}").json()


def custid() -> str:
    return "w" + uuid.uuid4().hex[:16]


# ---------------------------------------------------------------- A2 Unix seconds


def test_unix_seconds_timestamp_is_accepted_and_flagged(server: Served):
    """Two PHP clients: timestamp=time() with the digest over it, in a form."""
    cid = custid()
    fields = credentials(str(int(time.time())))
    body = (
        f"userid={fields['userid']}&pwd={fields['pwd']}&timestamp={fields['timestamp']}"
        f"&mobile=13800138000&content={encode_mt_content(TEXT)}&custid={cid}"
    ).encode("ascii")
    answer = post(server, "single_send", body, "application/x-www-form-urlencoded")
    assert answer.json()["result"] == 0, answer.headers.get("X-Mock-Reason")
    assert "Unix seconds" in answer.headers["X-Mock-Warning"]
    (message,) = sent(server, cid)
    assert message["text"].endswith(TEXT)
    assert any("Unix seconds" in issue for issue in message["issues"])


# ---------------------------------------------------------------- W1 JSON in GBK


def gbk_json_body(cid: str) -> bytes:
    """Java, fastjson + HttpClient: raw text in content, the whole body in GBK."""
    fields = {**credentials(), "mobile": "13800138000", "content": TEXT, "custid": cid}
    return json.dumps(fields, ensure_ascii=False).encode("gbk")


def test_json_body_in_gbk_without_charset_is_read_as_gb18030_and_flagged(server: Served):
    cid = custid()
    answer = post(server, "single_send", gbk_json_body(cid), "application/json")
    assert answer.json()["result"] == 0, answer.headers.get("X-Mock-Reason")
    assert "not UTF-8" in answer.headers["X-Mock-Warning"]
    (message,) = sent(server, cid)
    assert message["text"].endswith(TEXT)
    assert any("JSON body not UTF-8" in issue for issue in message["issues"])


def test_json_body_charset_parameter_is_honoured(server: Served):
    cid = custid()
    answer = post(server, "single_send", gbk_json_body(cid), "application/json; charset=GBK")
    assert answer.json()["result"] == 0, answer.headers.get("X-Mock-Reason")
    assert "charset gbk" in answer.headers["X-Mock-Warning"]
    assert sent(server, cid)[0]["text"].endswith(TEXT)


def test_a_plain_utf8_json_request_carries_no_warning(server: Served):
    fields = {**credentials(), "mobile": "13800138000", "content": encode_mt_content(TEXT)}
    answer = post(server, "single_send", json.dumps(fields).encode(), "application/json")
    assert answer.json()["result"] == 0
    assert "X-Mock-Warning" not in answer.headers


# ---------------------------------------------------------------- W2 raw GBK in a form multimt


def multimt_gbk(cid: str) -> str:
    """PHP + Guzzle: json_encode of urlencoded GBK content, url-decoded by the client:
    the JSON holds the raw GBK bytes (here as latin-1 characters, one per byte)."""
    items = [
        {"mobile": "13800138000", "content": encode_mt_content(TEXT), "custid": cid},
        {"mobile": "13900139000", "content": encode_mt_content("验证码"), "custid": cid},
    ]
    raw = json.dumps(items, separators=(",", ":"))
    return raw.replace(items[0]["content"], TEXT.encode("gbk").decode("latin-1")).replace(
        items[1]["content"], "验证码".encode("gbk").decode("latin-1")
    )


def form_head() -> str:
    return "&".join(f"{k}={v}" for k, v in credentials().items())


def assert_both_texts_intact(server: Served, cid: str) -> None:
    texts = sorted(m["text"] for m in sent(server, cid))
    assert len(texts) == 2
    assert texts[0].endswith(TEXT) and texts[1].endswith("验证码"), texts


def test_raw_gbk_in_a_percent_encoded_form_multimt_keeps_its_text(server: Served):
    cid = custid()
    value = quote(multimt_gbk(cid).encode("latin-1"), safe="")  # Guzzle's form_params
    body = f"{form_head()}&multimt={value}".encode("ascii")
    answer = post(server, "multi_send", body, "application/x-www-form-urlencoded")
    assert answer.json()["result"] == 0, answer.headers.get("X-Mock-Reason")
    assert_both_texts_intact(server, cid)


def test_raw_gbk_in_an_unencoded_form_multimt_keeps_its_text(server: Served):
    cid = custid()
    body = f"{form_head()}&multimt=".encode("ascii") + multimt_gbk(cid).encode("latin-1")
    answer = post(server, "multi_send", body, "application/x-www-form-urlencoded")
    assert answer.json()["result"] == 0, answer.headers.get("X-Mock-Reason")
    assert_both_texts_intact(server, cid)


# ---------------------------------------------------------------- C14 unreadable body


def test_an_unreadable_body_says_it_is_not_a_password_problem(server: Served):
    body = gbk_json_body(custid())
    answer = post(server, "single_send", body, "application/json; charset=utf-8")
    assert answer.json()["result"] == -100001
    reason = answer.headers["X-Mock-Reason"]
    assert reason.startswith("UNREADABLE BODY (not a password problem") and "utf-8" in reason


def test_the_console_lists_unreadable_and_flagged_requests(server: Served):
    post(server, "get_balance", b'{"userid": "J10003", broken', "application/json")
    fields = {**credentials(str(int(time.time())))}
    post(server, "get_balance", json.dumps(fields).encode(), "application/json")
    page = requests.get(
        f"{server.url}/?account={USERID}", headers={"Accept": "text/html"}, timeout=10
    ).text
    assert "Flagged requests" in page
    assert "UNREADABLE BODY" in page and "Unix seconds" in page


# ---------------------------------------------------------------- W3 / W4 flags


def test_runs_of_question_marks_are_flagged_as_lost_text(server: Served):
    cid = custid()
    fields = {**credentials(), "mobile": "13800138000", "content": "%3F%3F%3F%3F", "custid": cid}
    answer = post(server, "single_send", json.dumps(fields).encode(), "application/json")
    assert answer.json()["result"] == 0
    assert "ISO-8859-1" in answer.headers["X-Mock-Warning"]
    assert any("ISO-8859-1" in issue for issue in sent(server, cid)[0]["issues"])


def test_a_timestamp_minutes_old_is_flagged_as_a_reused_digest(server: Served):
    old = format_timestamp(china_now(-300))  # within the 600 s tolerance
    answer = post(server, "get_balance", json.dumps(credentials(old)).encode(), "application/json")
    assert answer.json()["result"] == 0, answer.headers.get("X-Mock-Reason")
    assert "reused past its timestamp" in answer.headers["X-Mock-Warning"]
