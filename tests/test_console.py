"""mockcarrier.console without a browser: pages, live regions, actions, tokens."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockcarrier import Settings, create_app
from mockcarrier.config import AccountConfig
from mockcarrier.console import COOKIE, fault_rule
from smsapi.auth import china_now, digest, format_timestamp

HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}
FETCH = {"X-Console": "fetch", "Accept": "application/json"}


def make_app(tmp_path: Path, admin_token: str = "") -> Flask:
    accounts = [
        AccountConfig(userid="J10003", password="111111", delivery_profile="instant"),
        AccountConfig(userid="OWNA", password="a", admin_token="token-a"),
        AccountConfig(userid="OWNB", password="b", admin_token="token-b"),
    ]
    settings = Settings(db=str(tmp_path / "console.db"), admin_token=admin_token, accounts=accounts)
    return create_app(settings)


def send(client: FlaskClient, userid: str, password: str, mobile: str, content: str) -> dict:
    timestamp = format_timestamp(china_now())
    answer = client.post(
        "/sms/v2/std/single_send",
        json={
            "userid": userid,
            "pwd": digest(userid, password, timestamp),
            "timestamp": timestamp,
            "mobile": mobile,
            "content": content,
        },
    ).get_json()
    assert answer["result"] == 0
    return answer


@pytest.fixture
def open_app(tmp_path: Path) -> Flask:
    return make_app(tmp_path)


@pytest.fixture
def locked_app(tmp_path: Path) -> Flask:
    return make_app(tmp_path, admin_token="root")


def test_a_browser_gets_the_console_and_a_program_gets_json(open_app: Flask) -> None:
    client = open_app.test_client()
    page = client.get("/", headers=HTML)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "短信模拟网关" in page.text and "Mock carrier console" in page.text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert client.get("/").get_json()["endpoints"]["single_send"] == "/sms/v2/std/single_send"


def test_assets_are_served_by_the_mock(open_app: Flask) -> None:
    client = open_app.test_client()
    page = client.get("/", headers=HTML).text
    assert "http://" not in page.split("<body")[0] and "https://" not in page
    assert client.get("/console/static/console.js").status_code == 200
    assert client.get("/console/static/console.css").status_code == 200


def test_a_message_shows_decoded_with_signature_and_escaped(open_app: Flask) -> None:
    client = open_app.test_client()
    send(client, "J10003", "111111", "13800138000", "%b2%e2%ca%d4%3cb%3e")  # 测试<b>
    page = client.get("/", headers=HTML).text
    assert "【通渝科技】测试&lt;b&gt;" in page
    assert 'data-mobile="13800138000"' in page and "中国移动" in page


def test_live_answers_204_while_nothing_changed(open_app: Flask) -> None:
    client = open_app.test_client()
    first = client.get("/console/live?account=J10003").get_json()
    assert set(first["regions"]) == {"account", "phones", "reports", "pushes", "faults"}
    assert client.get(f"/console/live?account=J10003&v={first['version']}").status_code == 204
    send(client, "J10003", "111111", "13100000000", "%b2%e2")
    changed = client.get(f"/console/live?account=J10003&v={first['version']}").get_json()
    assert changed["hashes"]["phones"] != first["hashes"]["phones"]
    assert 'data-mobile="13100000000"' in changed["regions"]["phones"]


def test_actions_answer_json_to_the_script_and_redirect_a_plain_form(open_app: Flask) -> None:
    client = open_app.test_client()
    done = client.post("/console/J10003/topup", data={"count": "7"}, headers=FETCH)
    assert done.status_code == 200 and done.get_json()["ok"]
    assert client.get("/__admin/accounts/J10003").get_json()["balance"] == 100_000_007
    plain = client.post("/console/J10003/topup", data={"count": "x"})
    assert plain.status_code == 303 and "error=" in plain.headers["Location"]


def test_a_reply_from_a_phone_is_an_mo(open_app: Flask) -> None:
    client = open_app.test_client()
    client.post(
        "/console/J10003/reply", data={"mobile": "13800138000", "content": "好的"}, headers=FETCH
    )
    timestamp = format_timestamp(china_now())
    mos = client.post(
        "/sms/v2/std/get_mo",
        json={
            "userid": "J10003",
            "pwd": digest("J10003", "111111", timestamp),
            "timestamp": timestamp,
        },
    ).get_json()["mos"]
    assert [m["mobile"] for m in mos] == ["13800138000"]
    assert mos[0]["content"] == "%e5%a5%bd%e7%9a%84"  # §2.4.6 urlencoded UTF-8


def test_mark_failed_from_the_console(open_app: Flask) -> None:
    client = open_app.test_client()
    client.patch("/__admin/accounts/J10003", json={"delivery_profile": "slow"})
    answer = send(client, "J10003", "111111", "13800138000", "%b2%e2")
    done = client.post(
        f"/console/J10003/messages/{answer['msgid']}/fate",
        data={"fate": "failed", "errcode": "REJECTD"},
        headers=FETCH,
    )
    assert done.get_json()["ok"], done.get_json()
    row = client.get(f"/__admin/accounts/J10003/messages?msgid={answer['msgid']}").get_json()[0]
    assert row["segments"][0]["errcode"] == "REJECTD"


def test_hostile_input_never_gets_a_5xx(open_app: Flask) -> None:
    client = open_app.test_client()
    for path, data in [
        ("/console/J10003/messages/99999999999999999999999/fate", {"fate": "failed"}),
        ("/console/J10003/messages/-5/fate", {"fate": "\x00"}),
        ("/console/NOPE/topup", {"count": "1"}),
        ("/console/J10003/reply", {"mobile": "1" * 5000, "content": "\u0000"}),
        ("/console/J10003/topup", {"money": "NaN"}),
        ("/console/J10003/reply", b"mobile=13800138000&content=%ed%a0%80%ff"),
    ]:
        kind = "application/x-www-form-urlencoded"
        answer = client.post(path, data=data, headers=FETCH, content_type=kind)
        assert answer.status_code < 500, path
    assert client.get("/?q=%00%ff&account=%e4", headers=HTML).status_code == 200
    assert client.get("/console/live?q=-99999999999999999999999").status_code == 200


def test_with_a_server_token_the_console_asks_for_it(locked_app: Flask) -> None:
    client = locked_app.test_client()
    login = client.get("/", headers=HTML)
    assert login.status_code == 401 and 'name="token"' in login.text
    assert client.get("/console/live").status_code == 401
    assert (
        client.post("/console/J10003/topup", data={"count": "1"}, headers=FETCH).status_code == 404
    )
    assert client.post("/console/login", data={"token": "wrong"}).status_code == 401
    signed_in = client.post("/console/login", data={"token": "root"})
    assert signed_in.status_code == 303
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
    assert client.get("/", headers=HTML).status_code == 200
    client.post("/console/logout")
    assert client.get("/", headers=HTML).status_code == 401


def test_an_account_token_shows_that_account_only(locked_app: Flask) -> None:
    client = locked_app.test_client()
    send(client, "J10003", "111111", "13800138000", "%b2%e2")
    client.post("/console/login", data={"token": "token-a"})
    page = client.get("/?account=J10003", headers=HTML).text
    assert '<option value="OWNA"' in page and '<option value="J10003"' not in page
    assert "13800138000" not in page
    live = client.get("/console/live?account=J10003").get_json()
    assert "13800138000" not in live["regions"]["phones"]
    refused = client.post("/console/J10003/reset", headers=FETCH)
    assert refused.status_code == 404
    assert client.post("/console/OWNA/topup", data={"count": "1"}, headers=FETCH).get_json()["ok"]


def test_admin_api_applies_the_same_account_token_rule(locked_app: Flask) -> None:
    client = locked_app.test_client()
    mine = {"X-Admin-Token": "token-a"}
    assert [a["userid"] for a in client.get("/__admin/accounts", headers=mine).get_json()] == [
        "OWNA"
    ]
    assert client.get("/__admin/accounts/OWNA/messages", headers=mine).status_code == 200
    assert client.get("/__admin/accounts/OWNB/messages", headers=mine).status_code == 404
    assert client.get("/__admin/accounts/J10003", headers=mine).status_code == 404
    assert client.get("/__admin/settings", headers=mine).status_code == 403
    assert client.post("/__admin/accounts", json={"userid": "X1"}, headers=mine).status_code == 403
    assert client.get("/__admin/accounts", headers={"X-Admin-Token": "nope"}).status_code == 401
    root = {"Authorization": "Bearer root"}
    assert len(client.get("/__admin/accounts", headers=root).get_json()) == 3


def test_without_server_token_own_token_accounts_stay_hidden(open_app: Flask) -> None:
    client = open_app.test_client()
    page = client.get("/", headers=HTML).text
    assert '<option value="J10003"' in page and '<option value="OWNA"' not in page
    assert 'id="sign-in"' in page
    assert client.get("/__admin/accounts/OWNA").status_code == 404
    settings = client.get("/__admin/settings").get_json()
    assert {a["userid"]: a["admin_token"] for a in settings["accounts"]}["OWNA"] == "***"


def test_the_fault_form_maps_onto_the_admin_rule() -> None:
    form = {
        "action": "result",
        "endpoint": "get_rpt",
        "result": "-100999",
        "count": "2",
        "delay_ms": "",
        "only_this_account": "1",
    }
    assert fault_rule(form, "J10003") == {
        "action": "result",
        "endpoint": "get_rpt",
        "result": "-100999",
        "count": "2",
        "userid": "J10003",
    }
    assert fault_rule({}, "J10003") == {"action": "result", "endpoint": "*"}


def test_a_forced_error_from_the_console_is_an_admin_fault_rule(open_app: Flask) -> None:
    client = open_app.test_client()
    form = {
        "action": "result",
        "endpoint": "single_send",
        "result": "-100029",
        "count": "1",
        "only_this_account": "1",
        "account": "J10003",
    }
    assert client.post("/console/faults", data=form, headers=FETCH).get_json()["ok"]
    (rule,) = client.get("/__admin/faults").get_json()
    assert (rule["result"], rule["userid"], rule["remaining"]) == (-100029, "J10003", 1)
    bad = client.post("/console/faults", data={"action": "result"}, headers=FETCH)
    assert bad.status_code == 400 and "result" in bad.get_json()["error"]
    gone = client.post(f"/console/faults/{rule['id']}/delete", headers=FETCH)
    assert gone.get_json()["ok"] and client.get("/__admin/faults").get_json() == []
    missing = client.post(f"/console/faults/{rule['id']}/delete", headers=FETCH)
    assert missing.status_code == 404


def test_a_defect_mode_switch_is_the_admin_switch(open_app: Flask) -> None:
    client = open_app.test_client()
    on = client.post("/console/defects/custid-not-echoed", data={"on": "1"}, headers=FETCH)
    assert on.get_json()["ok"]
    enabled = [d["name"] for d in client.get("/__admin/defects").get_json() if d["enabled"]]
    assert enabled == ["custid-not-echoed"]
    client.post("/console/defects/custid-not-echoed", data={"on": "0"}, headers=FETCH)
    assert not any(d["enabled"] for d in client.get("/__admin/defects").get_json())
    unknown = client.post("/console/defects/no-such-mode", data={"on": "1"}, headers=FETCH)
    assert unknown.status_code == 404 and "no defect mode" in unknown.get_json()["error"]


def test_server_wide_switches_need_the_server_token(locked_app: Flask) -> None:
    client = locked_app.test_client()
    client.post("/console/login", data={"token": "token-a"})
    assert 'id="fault-form"' not in client.get("/", headers=HTML).text
    refused = client.post("/console/defects/custid-not-echoed", data={"on": "1"}, headers=FETCH)
    assert refused.status_code == 403
    form = {"action": "result", "result": "-100029"}
    assert client.post("/console/faults", data=form, headers=FETCH).status_code == 403
    assert client.post("/console/OWNA/push/retry", headers=FETCH).get_json()["ok"]


# ---------------------------------------------------------------- open doors (issue 19)

EVIL = {"Origin": "http://evil.example"}


def balance_of(app: Flask, userid: str = "J10003") -> int:
    return app.test_client().get(f"/__admin/accounts/{userid}").get_json()["balance"]


def test_a_cross_site_console_post_is_refused_and_changes_nothing(open_app: Flask) -> None:
    client = open_app.test_client()
    before = balance_of(open_app)
    refused = client.post("/console/J10003/topup", data={"count": "5"}, headers=EVIL)
    assert refused.status_code == 403
    switched = client.post("/console/defects/auth-not-checked", data={"on": "1"}, headers=EVIL)
    assert switched.status_code == 403
    assert balance_of(open_app) == before
    assert "auth-not-checked" not in client.get("/__admin/settings").get_json()["defects"]
    # the console's own page posting is fine
    own = client.post(
        "/console/J10003/topup",
        data={"count": "5"},
        headers={**FETCH, "Origin": "http://localhost"},
    )
    assert own.status_code == 200 and balance_of(open_app) == before + 5


def test_a_cross_site_admin_call_is_refused(open_app: Flask) -> None:
    client = open_app.test_client()
    patched = client.patch(
        "/__admin/accounts/J10003", json={"push_rpt_url": "http://169.254.169.254/"}, headers=EVIL
    )
    assert patched.status_code == 403
    referred = client.post(
        "/__admin/accounts/J10003/topup",
        json={"count": 1},
        headers={"Referer": "http://evil.example/x"},
    )
    assert referred.status_code == 403


def test_a_foreign_host_header_is_refused_everywhere(open_app: Flask) -> None:
    """DNS rebinding: a page of evil.example whose name now points at 127.0.0.1."""
    client = open_app.test_client()
    for path in ("/", "/__admin/accounts", "/console/live"):
        answer = client.get(path, headers={**HTML, "Host": "evil.example:8080"})
        assert answer.status_code == 421, path
    sent = client.post("/sms/v2/std/get_balance", json={}, headers={"Host": "evil.example"})
    assert sent.status_code == 421
    assert client.get("/__admin/health", headers={"Host": "127.0.0.1:8080"}).status_code == 200


def test_without_a_token_another_machine_gets_nothing(open_app: Flask) -> None:
    remote = open_app.test_client()
    remote.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert remote.get("/__admin/accounts").status_code == 401
    assert remote.post("/__admin/accounts/J10003/topup", json={"count": 9}).status_code == 401
    assert remote.get("/", headers=HTML).status_code == 401  # the login page
    refused = remote.post("/console/J10003/topup", data={"count": "9"}, headers=FETCH)
    assert refused.status_code == 404


def test_with_the_server_token_another_machine_gets_in(locked_app: Flask) -> None:
    remote = locked_app.test_client()
    remote.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    shown = remote.get("/__admin/accounts", headers={"X-Admin-Token": "root"})
    assert shown.status_code == 200


def test_the_admin_api_masks_secrets_unless_revealed(open_app: Flask) -> None:
    client = open_app.test_client()
    demo = client.get("/__admin/accounts/J10003").get_json()
    assert demo["password"] == "***"
    listed = client.get("/__admin/accounts").get_json()
    assert all(a["password"] in ("***", "") for a in listed)
    assert all(a["admin_token"] in ("***", "") for a in listed)
    settings = client.get("/__admin/settings").get_json()
    assert all(a["password"] == "***" for a in settings["accounts"])
    assert client.get("/__admin/accounts/J10003?reveal=1").get_json()["password"] == "111111"


def test_a_negative_top_up_is_refused_with_no_green_banner(open_app: Flask) -> None:
    client = open_app.test_client()
    before = balance_of(open_app)
    refused = client.post("/console/J10003/topup", data={"count": "-5"}, headers=FETCH)
    assert refused.status_code == 400
    assert refused.get_json()["ok"] is False and not refused.get_json()["notice"]
    assert client.post("/__admin/accounts/J10003/topup", json={"count": -99999}).status_code == 400
    assert client.post("/__admin/accounts/J10003/topup", json={"money": "-1"}).status_code == 400
    assert balance_of(open_app) == before


def test_an_unknown_delivery_profile_is_refused_by_the_admin_api(open_app: Flask) -> None:
    client = open_app.test_client()
    patched = client.patch("/__admin/accounts/J10003", json={"delivery_profile": "fast"})
    assert patched.status_code == 400 and "delivery_profile" in patched.get_json()["error"]
    created = client.post(
        "/__admin/accounts", json={"userid": "NEW01", "password": "p", "delivery_profile": "x"}
    )
    assert created.status_code == 400


def test_the_admin_api_answers_readable_utf_8(open_app: Flask) -> None:
    answer = open_app.test_client().get("/__admin/accounts/J10003")
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "【通渝科技】".encode() in answer.data
