"""mockcarrier.views: a broken store is an answer, not a crash (§4 -100999)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from mockcarrier import Settings, create_app
from mockcarrier.views import header_text
from smsapi.auth import china_now, digest, format_timestamp


def signed(**fields: str) -> str:
    timestamp = format_timestamp(china_now())
    return json.dumps(
        {
            "userid": "J10003",
            "pwd": digest("J10003", "111111", timestamp),
            "timestamp": timestamp,
            **fields,
        }
    )


def test_store_failure_answers_minus_100999_in_shape(tmp_path: Path) -> None:
    db = tmp_path / "broken.db"
    app = create_app(Settings(db=str(db)))
    with sqlite3.connect(db) as conn:  # a real fault in the real store: a table is gone
        conn.execute("DROP TABLE messages")
    client = app.test_client()
    sent = client.post(
        "/sms/v2/std/single_send",
        data=signed(mobile="13800138000", content="%b2%e2"),
        content_type="application/json",
    )
    assert sent.status_code == 200
    assert sent.get_json() == {"result": -100999, "msgid": 0, "custid": ""}
    assert "store failure" in sent.headers["X-Mock-Reason"]


def test_store_failure_on_pull_keeps_the_pull_shape(tmp_path: Path) -> None:
    db = tmp_path / "broken.db"
    app = create_app(Settings(db=str(db)))
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE mos")
    answer = app.test_client().post(
        "/sms/v2/std/get_mo", data=signed(), content_type="application/json"
    )
    assert answer.get_json() == {"result": -100999, "mos": ""}


def test_the_reason_header_is_one_printable_ascii_line() -> None:
    """A reason may quote the request's bytes (newlines, CJK): the header must stay valid."""
    assert header_text("bad custid 'a\r\nb\x7f' 测试") == "bad custid 'a??b?' ??"


def test_a_get_on_an_endpoint_is_answered_in_the_interfaces_terms(tmp_path: Path) -> None:
    """Issue 18: JSON with a §4 code and the reason, not Flask's HTML 405 / 404."""
    client = create_app(Settings(db=str(tmp_path / "v.db"))).test_client()
    got = client.get("/sms/v2/std/single_send")
    assert got.status_code == 405 and "POST" in got.headers["Allow"]
    assert got.get_json()["result"] == -100999 and "POST" in got.get_json()["reason"]
    for path in ("/sms/v2/std/", "/sms/v2/std", "/sms/v2/std/no_such", "/sms/v2/std/a/b"):
        answer = client.post(path, json={})
        assert answer.status_code == 404, path
        assert answer.get_json()["result"] == -100999, path
        assert "POST /sms/v2/std/single_send" in answer.get_json()["endpoints"]
