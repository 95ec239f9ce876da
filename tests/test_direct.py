"""mockcarrier.direct: the six endpoints' plain requests skip Flask's machinery, and
answer exactly as the Flask view does; everything else still goes through Flask."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request, request_started
from werkzeug.test import EnvironBuilder, run_wsgi_app

from mockcarrier import Settings, create_app, views
from smsapi.auth import china_now, digest, format_timestamp
from smsapi.codec import Format, encode_request, parse_answer
from smsapi.errors import Result

USERID, PASSWORD = "J10003", "111111"  # the document's demo account (Settings' default)


def body(
    endpoint: str, fmt: Format = Format.JSON, password: str = PASSWORD, **fields: Any
) -> bytes:
    timestamp = format_timestamp(china_now())
    auth = {"userid": USERID, "pwd": digest(USERID, password, timestamp), "timestamp": timestamp}
    return encode_request(endpoint, {**auth, **fields}, fmt)


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return create_app(Settings(db=str(tmp_path / "direct.db"), seed=7))


@contextmanager
def through_flask(app: Flask) -> Iterator[list[str]]:
    """The paths of the requests that entered Flask's request handling meanwhile."""
    entered: list[str] = []

    def note(sender: Flask, **extra: Any) -> None:
        entered.append(request.path)

    with request_started.connected_to(note, app):
        yield entered


def test_a_plain_request_to_an_endpoint_skips_flask(app: Flask) -> None:
    client = app.test_client()
    with through_flask(app) as entered:
        sent = client.post(
            "/sms/v2/std/single_send",
            data=body("single_send", mobile="13800138000", content="%b2%e2"),
            content_type="application/json",
        )
    assert sent.get_json()["result"] == Result.OK
    assert entered == []


def test_other_paths_and_methods_still_go_through_flask(app: Flask) -> None:
    client = app.test_client()
    with through_flask(app) as entered:
        assert client.get("/sms/v2/std/get_balance").status_code == 405
        assert client.post("/sms/v2/std/no_such", data=b"{}").status_code == 404
        assert client.get("/__admin/health").status_code == 200
    assert entered == ["/sms/v2/std/get_balance", "/sms/v2/std/no_such", "/__admin/health"]


def answered(app: Flask, data: bytes, content_type: str, wsgi: Any = None, **environ: Any) -> tuple:
    """Status, headers and body of a get_balance, and whether it skipped Flask: as the
    app serves it, or through the WSGI app given."""
    builder = EnvironBuilder(
        path="/sms/v2/std/get_balance", method="POST", data=data, content_type=content_type
    )
    env = {**builder.get_environ(), **environ}
    with through_flask(app) as entered:
        body, status, headers = run_wsgi_app(wsgi or app.wsgi_app, env, buffered=True)
    return status, sorted(headers.items()), b"".join(body), entered == []


@pytest.mark.parametrize(
    "case",
    [
        "json",
        "xml",
        "form",
        "wrong password",
        "unreadable",
        "truncated by a fault rule",
        "latin-1 charset",
    ],
)
def test_the_direct_answer_is_the_flask_views_answer(app: Flask, case: str) -> None:
    """Status, every header and the body, byte for byte, whichever way it went."""
    fmt = {"xml": Format.XML, "form": Format.FORM}.get(case, Format.JSON)
    data = body("get_balance", fmt, password="wrong" if case == "wrong password" else PASSWORD)
    content_type = fmt.media_type
    if case == "unreadable":
        data = b"{not json"
    if case.startswith("truncated"):  # one firing for each way (mockcarrier.faults)
        rule = {"action": "truncate", "endpoint": "get_balance", "count": 2}
        assert app.test_client().post("/__admin/faults", json=rule).status_code == 201
    if case == "latin-1 charset":
        content_type += "; charset=latin-1"
    *direct, skipped = answered(app, data, content_type)
    *view, _ = answered(app, data, content_type, wsgi=app.wsgi_app.flask_wsgi)  # type: ignore[attr-defined]
    assert skipped
    assert direct == view
    if case in ("json", "xml", "form", "latin-1 charset"):
        assert parse_answer(direct[2], dict(direct[1])["Content-Type"])["result"] == Result.OK
    if case == "latin-1 charset":
        assert "W1" in dict(direct[1])["X-Mock-Warning"]
    if case.startswith("truncated"):
        assert direct[2].startswith(b'{"result":0') and not direct[2].endswith(b"}")


def test_a_body_the_server_could_not_read_is_flasks_400(app: Flask) -> None:
    """mockcarrier.worker empties a body it could not read and says why (BODY_ERROR)."""
    status, headers, data, skipped = answered(
        app, b"", "application/json", **{views.BODY_ERROR: "body not received"}
    )
    assert not skipped
    assert status.startswith("400")
    assert "body not received" in dict(headers)["X-Mock-Reason"]
    assert parse_answer(data, "application/json")["result"] == Result.AUTH_FAILED


def test_a_body_longer_than_its_content_length_is_cut_there_as_flask_cuts_it(app: Flask) -> None:
    data = body("get_balance")
    _, _, answer, skipped = answered(app, data + b" ", "application/json", CONTENT_LENGTH="12")
    assert not skipped
    assert parse_answer(answer, "application/json")["result"] == Result.AUTH_FAILED


def test_a_body_over_the_limit_is_flasks_413(tmp_path: Path) -> None:
    app = create_app(Settings(db=str(tmp_path / "small.db"), max_body_bytes=1024))
    data = body("get_balance") + b" " * 1024
    status, _, data, skipped = answered(app, data, "application/json")
    assert not skipped
    assert status.startswith("413")
    assert parse_answer(data, "application/json")["result"] == Result.INTERNAL_ERROR


def test_a_host_the_mock_does_not_serve_is_flasks_421(app: Flask) -> None:
    status, _, _, skipped = answered(
        app, body("get_balance"), "application/json", HTTP_HOST="evil.example"
    )
    assert not skipped
    assert status.startswith("421")


def test_an_exception_is_flasks_to_handle(
    app: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Logged and answered 500 when serving; raised to the caller when testing."""

    def broken(*args: Any) -> None:
        raise RuntimeError("a bug in the view")

    monkeypatch.setattr(views, "answer_post", broken)
    data = body("get_balance")
    app.testing = True
    with pytest.raises(RuntimeError, match="a bug in the view"):
        app.test_client().post("/sms/v2/std/get_balance", data=data)
    app.testing = False
    with caplog.at_level(logging.ERROR):
        answer = app.test_client().post("/sms/v2/std/get_balance", data=data)
    assert answer.status_code == 500
    assert "a bug in the view" in caplog.text
