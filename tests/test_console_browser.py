"""The console in a real browser (Debian's headless chromium, driven by Playwright) against
a served mock: what a person integrating with the carrier sees and does."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright

from smsapi import Client
from smsapi.client import SendResult

from .conftest import Served, start_server
from .receiver import Receiver

CHROMIUM = "/usr/bin/chromium"
ROOT_TOKEN = "root-token-for-tests"
OWN_TOKEN = "cons01-own-token"
SIGNATURE = "【通渝科技】"
LONG = (
    "您的ETC已充值100元，余额为200.00元。通行费将从余额中扣除，请保持余额充足。"
    "如有疑问请致电客服热线023-96096，或关注通渝科技公众号。感谢您的支持，祝您出行平安！"
)  # 89 characters, 95 with the signature: 2 parts (67 + 28)
PHONES = {
    "13800138000": "china_mobile",
    "13100000000": "china_unicom",
    "18900000000": "china_telecom",
}
LIVE_PHONES = {  # the live test's own phones: each card holds that one batch
    "13800138001": "china_mobile",
    "13100000011": "china_unicom",
    "18900000011": "china_telecom",
}
ARTEFACTS = Path(
    os.environ.get("CONSOLE_ARTEFACTS", Path(__file__).parents[1] / "build" / "test-artefacts")
)

expect.set_options(timeout=10_000)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    # Real time (scale 1) so a message to 13800000006 stays pending 6 s: time to click.
    served = start_server(
        tmp_path_factory.mktemp("console"), "--admin-token", ROOT_TOKEN, "--time-scale", "1"
    )
    created = served.admin(
        "POST",
        "/accounts",
        json={"userid": "CONS01", "password": "cons-pass", "admin_token": OWN_TOKEN},
        headers={"X-Admin-Token": ROOT_TOKEN},
    )
    assert created.status_code == 201
    yield served
    served.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[BrowserContext]:
    """One headless chromium for the module, with a fresh profile."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} missing: apt-get install -y chromium (.ci/run does)")
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
            viewport={"width": 1400, "height": 1000},
            locale="zh-CN",
        )
        yield context
        context.close()


@pytest.fixture(scope="module")
def page(browser: BrowserContext) -> Page:
    page = browser.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the reset confirmation
    return page


def sign_in(page: Page, served: Served, token: str = ROOT_TOKEN, account: str = "J10003") -> None:
    """The page at account's view, signed in with token, whatever an earlier test left (each
    test runs alone as well as in the module: nothing carries over but the browser)."""
    page.goto(f"{served.url}/?account={account}")
    if page.locator("#token").count() == 0:  # signed in: with this token?
        select = page.locator("#account-select")
        if token == ROOT_TOKEN and select.locator("option").count() > 1:
            return
        page.click("text=Sign out")
    page.fill("#token", token)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Mock carrier console")
    if token == ROOT_TOKEN:
        page.goto(f"{served.url}/?account={account}")


@pytest.fixture
def console(page: Page, served: Served) -> Page:
    """The page at J10003's view, signed in with the root token."""
    sign_in(page, served)
    return page


@pytest.fixture(scope="module")
def sent(client: Client) -> SendResult:
    """A batch of LONG to the three PHONES, for the tests that look at a message."""
    result = client.batch_send(list(PHONES), LONG, custid="console-e2e")
    assert result.result == 0
    return result


@pytest.fixture(scope="module")
def client(served: Served) -> Client:
    return served.client()


@pytest.fixture(scope="module")
def receiver() -> Iterator[str]:
    """A customer's push receiver that answers its first push with HTTP 500."""
    rx = Receiver(password="push-pass", mode="http500-once").start()
    yield f"{rx.url}/rpt"
    rx.stop()


def screenshot(page: Page, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"console-{name}.png"), full_page=True)


def card(page: Page, mobile: str) -> Any:
    return page.locator(f'article.phone[data-mobile="{mobile}"]')


def test_the_console_asks_for_the_admin_token(page: Page, served: Served) -> None:
    page.goto(served.url + "/")
    if page.locator("#token").count() == 0:  # signed in by an earlier test
        page.click("text=Sign out")
    page.fill("#token", "not-the-token")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("wrong token")
    page.fill("#token", ROOT_TOKEN)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Mock carrier console")


def test_a_batch_appears_live_under_each_phone(console: Page, client: Client) -> None:
    page = console
    page.evaluate("window.notReloaded = true")
    due = int(page.locator("#due-count").inner_text())
    sent = client.batch_send(list(LIVE_PHONES), LONG, custid="console-live")
    assert sent.result == 0
    for position, (mobile, operator) in enumerate(LIVE_PHONES.items(), start=1):
        phone = page.locator(f'section[data-operator="{operator}"] article[data-mobile="{mobile}"]')
        expect(phone).to_be_visible()
        expect(phone.locator(".mt .bubble")).to_have_text(SIGNATURE + LONG)
        segments = phone.locator(".segments > li")
        expect(segments).to_have_count(2)
        ids = [segments.nth(k).get_attribute("data-segment-msgid") for k in range(2)]
        assert ids == [str(sent.segment_id(position, k)) for k in (1, 2)]
        expect(phone.locator(".mt .state")).to_have_text("DELIVRD")  # instant profile
    expect(page.locator("#due-count")).to_have_text(str(due + 6))  # 3 phones x 2 parts
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "batch")


def test_details_show_every_field_of_the_message(console: Page, sent: SendResult) -> None:
    page = console
    phone = card(page, "13100000000")
    phone.locator("details summary").click()
    details = phone.locator("details dl")
    expect(details).to_contain_text("console-e2e")
    expect(details).to_contain_text(str(sent.msgid))
    expect(details).to_contain_text("json / md5")
    expect(details).to_contain_text("batch_send")


def test_search_by_a_segment_id_finds_the_message(console: Page, sent: SendResult) -> None:
    page = console
    segment_id = sent.segment_id(3, 2)
    page.fill("#search", str(segment_id))
    page.press("#search", "Enter")
    expect(page.locator("article.phone")).to_have_count(1)
    expect(card(page, "18900000000")).to_be_visible()
    expect(page.locator(f'[data-segment-msgid="{segment_id}"]')).to_be_visible()


def test_a_reply_from_a_phone_is_fetched_by_get_mo(
    console: Page, client: Client, sent: SendResult
) -> None:
    """A phone the account sent to (sent's batch) can reply."""
    page = console
    client.get_mo()  # §2.4 hands each MO out once: none of an earlier test's left
    phone = card(page, "13800138000")
    phone.locator(".reply input[name=content]").fill("收到，谢谢！")
    phone.locator(".reply button").click()
    expect(phone.locator(".mo .bubble")).to_have_text("收到，谢谢！")
    mos = client.get_mo().items
    assert [(m["mobile"], m["text"]) for m in mos] == [("13800138000", "收到，谢谢！")]


def test_a_top_up_changes_get_balance(console: Page, client: Client) -> None:
    page = console
    before = client.get_balance().balance
    expect(page.locator("#balance")).to_contain_text(str(before))
    page.fill("#topup-form input[name=count]", "500")
    page.click("#topup-form button")
    expect(page.locator("#balance")).to_contain_text(str(before + 500))
    assert client.get_balance().balance == before + 500


def test_mark_a_pending_message_failed(console: Page, client: Client) -> None:
    page = console
    sent = client.single_send("13800000006", "请于今日18:00前完成缴费。")  # magic: 6 s
    phone = card(page, "13800000006")
    expect(phone.locator(".mt .state")).to_contain_text("pending")
    phone.locator("details summary").click()
    phone.locator("details input[name=errcode]").fill("REJECTD")
    phone.get_by_role("button", name="Mark failed").click()
    expect(phone.locator(".mt .state")).to_have_text("REJECTD")
    deadline = time.monotonic() + 10
    mine: list[dict] = []
    while not mine and time.monotonic() < deadline:  # poll get_rpt, as §2.5 recommends
        mine = [r for r in client.get_rpt().items if r["msgid"] == sent.msgid]
    assert [(r["status"], r["errcode"]) for r in mine] == [(1, "REJECTD")]


def test_a_forced_error_answers_the_next_call(console: Page, client: Client) -> None:
    page = console
    form = page.locator("#fault-form")
    form.locator("select[name=action]").select_option("result")
    form.locator("select[name=endpoint]").select_option("single_send")
    form.locator("select[name=result]").select_option("-100029")
    form.locator("input[name=count]").fill("1")
    form.locator("button").click()
    rule = page.locator(".faults li").first
    expect(rule).to_contain_text("-100029")
    assert client.single_send("13800138000", "故障测试").result == -100029
    assert client.single_send("13800138000", "故障测试").result == 0  # count 1: spent
    expect(rule).to_contain_text("hits 1")


def test_a_defect_mode_switched_on_changes_the_next_answer(console: Page, served: Served) -> None:
    page = console
    client = served.client(session=requests.Session())  # no schema check: the defect breaks it
    page.locator("details.defect-list summary").click()
    toggle = page.locator('[data-defect="custid-not-echoed"] button')
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")  # the list stays open
    expect(page.locator("#defects-on")).to_contain_text("custid-not-echoed")
    assert client.single_send("13800138000", "缺陷测试", custid="echo-me").custid == ""
    screenshot(page, "defect-on")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    assert client.single_send("13800138000", "缺陷测试", custid="echo-me").custid == "echo-me"


def test_push_attempts_show_and_a_failed_one_stands_out(
    page: Page, served: Served, receiver: str
) -> None:
    root = {"X-Admin-Token": ROOT_TOKEN}
    account = {"userid": "PUSH01", "password": "push-pass", "delivery_profile": "instant"}
    push = {"push_enabled": True, "push_rpt_url": receiver, "push_backoff_initial": 0.3}
    assert served.admin("POST", "/accounts", json={**account, **push}, headers=root).ok
    sign_in(page, served, account="PUSH01")
    sent = served.client("PUSH01", "push-pass").single_send("13800138000", "推送测试")
    assert sent.result == 0
    attempts = page.locator("table.attempts tbody tr")
    expect(attempts).to_have_count(2)  # refused once, then acknowledged
    expect(attempts.nth(1)).to_have_class("failed")
    expect(attempts.nth(1)).to_contain_text("HTTP 500")
    expect(attempts.nth(0)).to_have_class("delivered")
    seqids = [int(attempts.nth(k).locator("td").first.inner_text()) for k in (1, 0)]
    assert seqids[1] == seqids[0] + 1  # a retry is a new request: a new seqid
    expect(card(page, "13800138000").locator(".segments .queue")).to_have_text("已推送 pushed")
    screenshot(page, "push")


def test_an_account_token_sees_its_own_account_only(page: Page, served: Served) -> None:
    sign_in(page, served, OWN_TOKEN)
    expect(page.locator("#account-select option")).to_have_count(1)
    expect(page.locator("#account-select")).to_have_value("CONS01")
    page.goto(served.url + "/?account=J10003&q=13800138000")
    expect(page.locator("#account-select")).to_have_value("CONS01")
    expect(page.locator("article.phone")).to_have_count(0)
    screenshot(page, "own-token")
