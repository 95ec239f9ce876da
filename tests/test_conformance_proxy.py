"""conformance proxy: between smsapi.Client and a served mock it forwards every request
unchanged and judges the client's requests. Good traffic passes every check; each
typical mistake fails the check of its rule, naming the request that broke it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
import requests

from conformance.catalogue import select
from conformance.config import VendorConfig
from conformance.customer.cadence import Poll, lagging_after_data, too_soon_after_empty
from conformance.customer.commands import proxy_figures
from conformance.customer.proxy import Proxy, mock_flags
from conformance.customer.run import run_checks
from conformance.customer.traffic import ProxyContext, ProxySettings
from conformance.events import EventBus, RunFinished
from conformance.outcomes import Outcome
from smsapi import Client
from smsapi.auth import CHINA_TZ, china_now, digest, format_timestamp
from smsapi.content import encode_mt_content, mt_content_issues, urlencode_text
from smsapi.errors import TransportError

from .conftest import Served, start_server

# The accounts of tests/conftest.py: J10003 (instant delivery) sends and drains; REAL01
# never sends here, so its get_rpt is always empty.
DEMO = ("J10003", "111111")
QUIET = ("REAL01", "real-pass")
POLL_WAIT = 1.0  # the document's 5 s, shortened for the test (--poll-wait)


@pytest.fixture(scope="module")
def carrier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = start_server(tmp_path_factory.mktemp("proxied"))
    yield served
    served.stop()


@pytest.fixture
def proxy(carrier: Served) -> Iterator[Proxy]:
    px = Proxy("127.0.0.1:0", carrier.url).start()
    yield px
    px.stop()


def client(proxy: Proxy, account: tuple[str, str] = DEMO, **kw: Any) -> Client:
    return Client(proxy.url, *account, raise_for_result=False, **kw)


def judge(proxy: Proxy, *only: str, profile: str = "strict", **settings: Any) -> RunFinished:
    settings.setdefault("password", DEMO[1])
    settings.setdefault("userid", DEMO[0])
    cfg = ProxySettings("127.0.0.1:0", proxy.upstream, poll_wait=POLL_WAIT, **settings)
    config = VendorConfig(target=proxy.url, profile=profile, budget=0)
    ctx = ProxyContext(config, cfg.validate(), proxy.recording)
    return run_checks(ctx, select(list(only), side="client"), EventBus())


def raw_json(proxy: Proxy, endpoint: str, fields: dict[str, Any]) -> requests.Response:
    return requests.post(
        f"{proxy.url}/sms/v2/std/{endpoint}",
        data=json.dumps(fields, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )


def signed(timestamp: str, account: tuple[str, str] = DEMO) -> dict[str, str]:
    return {"userid": account[0], "pwd": digest(*account, timestamp), "timestamp": timestamp}


def drain(c: Client, expected: int, timeout: float = 20.0) -> int:
    """Poll as §2.5.1 says: again at once while reports come; after an empty answer wait
    (POLL_WAIT here) before the next poll; stop once every report came."""
    got, deadline = 0, time.monotonic() + timeout
    while got < expected and time.monotonic() < deadline:
        items = c.get_rpt(500).items
        got += len(items)
        if not items and got < expected:
            time.sleep(POLL_WAIT)  # the behaviour under test, not a synchronisation
    return got


# ---------------------------------------------------------------- forwarding


def test_the_proxy_forwards_requests_and_answers_unchanged(proxy):
    c = client(proxy, fmt="xml")
    sent = c.get_balance()
    (rec,) = proxy.recording.snapshot()
    assert rec.request_body == sent.exchange.request_body
    assert rec.answer_body == sent.exchange.answer_body
    assert rec.status == 200 and rec.endpoint == "get_balance"
    assert sent.result == 0 and sent.exchange.answer_headers["Content-Type"].startswith(
        "application/xml"
    )
    assert rec.exchange().curl().startswith(f"curl -sS -X POST {proxy.upstream}/sms/v2/std/")


def test_an_unreachable_carrier_answers_502_and_is_not_the_clients_fault(carrier):
    px = Proxy("127.0.0.1:0", "http://127.0.0.1:9").start()
    try:
        with pytest.raises(TransportError, match="HTTP 502"):
            client(px).get_balance()
        (rec,) = px.recording.snapshot()
        assert rec.status == 502 and rec.upstream_error
        assert judge(px, "CLIENT-POLL-WAIT").results["CLIENT-POLL-WAIT"].outcome is (
            Outcome.SKIPPED
        )
    finally:
        px.stop()


# ---------------------------------------------------------------- good traffic


def test_a_client_that_follows_the_document_passes_every_check(proxy, carrier):
    for fmt in ("json", "xml", "form"):
        c = client(proxy, fmt=fmt)
        assert c.single_send("13800138000", "您的ETC已充值100元", custid=f"ok-{fmt}").result == 0
        assert c.batch_send(["13800138000", "13100000000"], "测试短信").result == 0
        multi = [{"mobile": "18900000000", "content": "通行费", "custid": "m1"}]
        assert c.multi_send(multi).result == 0
        assert c.get_balance().result == 0
    client(proxy, apikey="abade5589e2798f82f006bbc36d269ce", auth="apikey").get_mo()
    assert drain(client(proxy), 12) >= 12
    finished = judge(proxy)
    outcomes = {i: r.outcome for i, r in finished.results.items()}
    assert set(outcomes) == {c.id for c in select(side="client")}
    assert set(outcomes.values()) == {Outcome.PASSED}, {
        i: r.message for i, r in finished.results.items() if r.outcome is not Outcome.PASSED
    }
    assert finished.metrics["proxy"]["by_endpoint"]["get_rpt"] >= 1


# ---------------------------------------------------------------- bad traffic


def test_a_wrong_digest_fails_the_digest_rule(proxy):
    client(proxy, ("J10003", "not-the-password")).get_balance()
    result = judge(proxy, "CLIENT-DIGEST").results["CLIENT-DIGEST"]
    assert result.outcome is Outcome.FAILED
    assert "is not the digest of userid 'J10003'" in result.message
    assert result.details["offenders"][0]["endpoint"] == "get_balance"


def test_without_the_password_the_digest_is_not_judged(proxy):
    client(proxy).get_balance()
    finished = judge(proxy, "CLIENT-DIGEST", password="", userid="")
    assert finished.results["CLIENT-DIGEST"].outcome is Outcome.NOT_APPLICABLE


def test_an_upper_case_digest_fails_strict_and_warns_lenient(proxy):
    ts = format_timestamp(china_now())
    raw_json(proxy, "get_balance", {**signed(ts), "pwd": digest(*DEMO, ts).upper()})
    strict = judge(proxy, "CLIENT-DIGEST").results["CLIENT-DIGEST"]
    assert strict.outcome is Outcome.FAILED and "upper-case" in strict.message
    lenient = judge(proxy, "CLIENT-DIGEST", profile="lenient").results["CLIENT-DIGEST"]
    assert lenient.outcome is Outcome.WARNED


def test_an_old_timestamp_is_not_fresh(proxy):
    client(proxy, clock=lambda: china_now(-3600)).get_balance()
    finished = judge(proxy, "CLIENT-TIMESTAMP-FRESH", "CLIENT-TIMESTAMP-FORMAT", "CLIENT-DIGEST")
    result = finished.results["CLIENT-TIMESTAMP-FRESH"]
    assert result.outcome is Outcome.FAILED
    assert re.search(r"timestamp \d{10} is -360\d s off China time", result.message)
    assert finished.results["CLIENT-TIMESTAMP-FORMAT"].outcome is Outcome.PASSED
    assert finished.results["CLIENT-DIGEST"].outcome is Outcome.PASSED  # right, for that time


def test_a_timestamp_in_utc_fails_strict_and_warns_lenient(proxy):
    utc_wall_clock = datetime.now(timezone.utc).replace(tzinfo=CHINA_TZ)
    client(proxy, clock=lambda: utc_wall_clock).get_balance()
    strict = judge(proxy, "CLIENT-TIMESTAMP-FRESH").results["CLIENT-TIMESTAMP-FRESH"]
    assert strict.outcome is Outcome.FAILED and "UTC" in strict.message
    lenient = judge(proxy, "CLIENT-TIMESTAMP-FRESH", profile="lenient")
    assert lenient.results["CLIENT-TIMESTAMP-FRESH"].outcome is Outcome.WARNED


def test_unix_seconds_as_timestamp_break_the_format(proxy):
    raw_json(proxy, "get_balance", signed(str(int(time.time()))))
    finished = judge(proxy, "CLIENT-TIMESTAMP-FORMAT", "CLIENT-SCHEMA")
    result = finished.results["CLIENT-TIMESTAMP-FORMAT"]
    assert result.outcome is Outcome.FAILED
    assert "is not MMDDHHMMSS (Unix seconds, A2)" in result.message
    assert finished.results["CLIENT-SCHEMA"].outcome is Outcome.FAILED  # the pattern, too


@pytest.mark.parametrize(
    "content, says",
    [
        (urlencode_text("测试短信", "utf-8"), "UTF-8, not GBK"),
        ("测试短信", "not urlencoded"),
    ],
)
def test_content_that_is_not_gbk_urlencoded_fails(proxy, content, says):
    ts = format_timestamp(china_now())
    fields = {**signed(ts), "mobile": "13800138000", "content": content}
    raw_json(proxy, "single_send", fields)
    good = {**fields, "content": encode_mt_content("测试短信")}
    raw_json(proxy, "single_send", good)
    result = judge(proxy, "CLIENT-CONTENT-GBK").results["CLIENT-CONTENT-GBK"]
    assert result.outcome is Outcome.FAILED
    assert says in result.message and "1 of 2 request(s)" in result.message
    assert result.details["offenders"][0]["request"] == 1


def test_polling_again_at_once_after_an_empty_answer_is_too_fast(proxy):
    c = client(proxy, QUIET)
    assert c.get_rpt().items == [] and c.get_rpt().items == []
    result = judge(proxy, "CLIENT-POLL-WAIT").results["CLIENT-POLL-WAIT"]
    assert result.outcome is Outcome.FAILED
    assert "after an empty get_rpt" in result.message
    assert len(result.reproducers) == 2


def test_waiting_after_data_instead_of_polling_on_lags(proxy, carrier):
    direct = carrier.client()
    assert direct.single_send("13800000009", "测试", custid="lag-1").result == 0  # at once
    c = client(proxy)
    assert drain(c, 1) >= 1
    time.sleep(0.5)  # the client under test waits after data: what the check catches
    c.get_rpt()
    finished = judge(proxy, "CLIENT-POLL-DRAIN", poll_follow=0.2)
    result = finished.results["CLIENT-POLL-DRAIN"]
    assert result.outcome is Outcome.FAILED
    assert "item(s) of get_rpt" in result.message


def test_plaintext_mode_is_a_security_finding(proxy):
    client(proxy, auth="plain").get_balance()
    result = judge(proxy, "CLIENT-PLAINTEXT").results["CLIENT-PLAINTEXT"]
    assert result.outcome is Outcome.FAILED
    assert result.details["finding"] == "security"


def test_field_rules_name_the_broken_field(proxy):
    c = client(proxy)
    c.single_send("13800138000", "测试", custid="has space")
    c.batch_send(["13800138000", "12345"], "测试")
    c.single_send("13800138000", "测" * 995)
    result = judge(proxy, "CLIENT-FIELDS").results["CLIENT-FIELDS"]
    assert result.outcome is Outcome.FAILED
    whys = [o["why"] for o in result.details["offenders"]]
    assert "custid 'has space' (-100004)" in whys
    assert any("over 990" in w for w in whys)
    assert any("'12345' is not a §3.2 number" in w for w in whys)


def test_retsize_over_the_cap_fails_strict(proxy):
    client(proxy, QUIET).get_rpt(1000)
    result = judge(proxy, "CLIENT-RETSIZE").results["CLIENT-RETSIZE"]
    assert result.outcome is Outcome.FAILED and "over the cap 500" in result.message


def test_a_wrong_method_path_or_content_type_is_named(proxy):
    requests.get(f"{proxy.url}/sms/v2/std/get_balance", timeout=10)
    requests.post(f"{proxy.url}/sms/v2/std/get_balance", data=b"{}", timeout=10)  # no type
    finished = judge(proxy, "CLIENT-ENDPOINT", "CLIENT-CONTENT-TYPE")
    assert finished.results["CLIENT-ENDPOINT"].outcome is Outcome.FAILED
    assert "GET /sms/v2/std/get_balance" in finished.results["CLIENT-ENDPOINT"].message
    assert finished.results["CLIENT-CONTENT-TYPE"].outcome is Outcome.FAILED


def test_nothing_recorded_skips_every_check(proxy):
    finished = judge(proxy)
    assert {r.outcome for r in finished.results.values()} == {Outcome.SKIPPED}


# ---------------------------------------------------------------- the cadence rule


def polls(*spec: tuple[float, float, int | None]) -> list[Poll]:
    return [Poll("s", start, end, items) for start, end, items in spec]


def test_cadence_judges_the_gap_from_an_answer_to_the_next_request():
    seq = polls((0, 0.1, 500), (0.2, 0.3, 20), (0.4, 0.5, 0), (5.5, 5.6, 0), (6.0, 6.1, 3))
    early = too_soon_after_empty(seq, wait=5.0, slack=0.2)
    assert [(g.before.started, g.after.started) for g in early] == [(5.5, 6.0)]
    assert lagging_after_data(seq, follow=1.0) == []
    late = lagging_after_data(polls((0, 0.1, 5), (3.0, 3.1, 0)), follow=1.0)
    assert [round(g.seconds, 1) for g in late] == [2.9]


def test_cadence_keeps_streams_apart_and_ignores_failed_answers():
    a = [Poll("a", 0, 0.1, 0), Poll("b", 0.5, 0.6, 0), Poll("a", 5.2, 5.3, 0)]
    assert too_soon_after_empty(a, wait=5.0, slack=0.2) == []
    failed = polls((0, 0.1, None), (0.2, 0.3, 0))
    assert too_soon_after_empty(failed, 5.0, 0.2) == lagging_after_data(failed, 1.0) == []


def test_mt_content_issues_tell_utf8_and_raw_text_from_gbk():
    assert mt_content_issues(encode_mt_content("【通渝科技】您的ETC已充值100元")) == []
    assert any("UTF-8" in i for i in mt_content_issues(urlencode_text("您好", "utf-8")))
    assert mt_content_issues("您好") == ["content not urlencoded (raw non-ASCII text)"]


# ---------------------------------------------------------------- the command line


def test_the_proxy_command_records_judges_and_writes_the_reports(carrier, tmp_path):
    cmd = [sys.executable, "-m", "conformance", "proxy", "--listen", "127.0.0.1:0"]
    cmd += ["--upstream", carrier.url, "--password", "111111", "--requests", "2"]
    cmd += ["--report-dir", str(tmp_path)]
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = process.stderr.readline()
        url = banner.split("conformance proxy: ", 1)[1].split(" ", 1)[0]
        c = Client(url, *DEMO, raise_for_result=False)
        c.get_balance()
        c.single_send("13800138000", "测试", custid="has space")
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 1, err
    assert "CLIENT-FIELDS" in out and "FAIL" in out
    assert "requests: 2 (get_balance ×1, single_send ×1)" in out
    assert re.search(r"^carrier results: .*0 \(success\) ×1", out, re.M)
    assert "{'" not in out  # no Python dict
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    outcomes = {c["id"]: c["outcome"] for c in report["checks"]}
    assert outcomes["CLIENT-FIELDS"] == "failed" and outcomes["CLIENT-DIGEST"] == "passed"
    assert report["metrics"]["proxy"]["requests"] == 2
    assert (tmp_path / "junit.xml").exists() and (tmp_path / "report.html").exists()
    lines = (tmp_path / "traffic.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["path"] for line in lines] == [
        "/sms/v2/std/get_balance",
        "/sms/v2/std/single_send",
    ]


def test_the_proxy_summary_is_readable_lines_not_a_python_dict():
    metrics = {
        "proxy": {
            "requests": 5,
            "by_endpoint": {"single_send": 1, "get_rpt": 4},
            "answer_results": {"0": 4, "-100001": 1},
            "upstream_errors": 0,
        }
    }
    assert proxy_figures(metrics).splitlines() == [
        "requests: 5 (get_rpt ×4, single_send ×1)",
        "carrier results: 0 (success) ×4, -100001 (authentication failed) ×1",
        "upstream errors: 0",
    ]
    assert "carrier results: none" in proxy_figures({"proxy": {"requests": 0}})


def test_proxy_usage_errors_are_one_line(carrier):
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "proxy", "--listen", "nowhere"]
        + ["--upstream", carrier.url],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "conformance: --listen 'nowhere' is not HOST:PORT"


# ---------------------------------------------------------------- clients in the wild (W1-W4)


def test_a_json_body_in_gbk_fails_strict_warns_lenient_and_the_mock_flag_is_forwarded(proxy):
    fields = {**signed(format_timestamp(china_now())), "mobile": "13800138000", "content": "测试"}
    answer = requests.post(
        f"{proxy.url}/sms/v2/std/single_send",
        data=json.dumps(fields, ensure_ascii=False).encode("gbk"),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.json()["result"] == 0
    (rec,) = proxy.recording.snapshot()
    assert "not UTF-8" in mock_flags(rec)[0]
    assert '"content": "测试"' in rec.to_dict()["request"]  # traffic.jsonl keeps the text
    strict = judge(proxy, "CLIENT-BODY-READABLE").results["CLIENT-BODY-READABLE"]
    assert strict.outcome is Outcome.FAILED and "GB18030" in strict.message
    lenient = judge(proxy, "CLIENT-BODY-READABLE", profile="lenient")
    assert lenient.results["CLIENT-BODY-READABLE"].outcome is Outcome.WARNED


def test_an_unreadable_body_fails_and_the_mock_says_why(proxy):
    answer = requests.post(
        f"{proxy.url}/sms/v2/std/get_balance",
        data=b'{"userid": broken',
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.json()["result"] == -100001
    (rec,) = proxy.recording.snapshot()
    assert mock_flags(rec)[0].startswith("UNREADABLE BODY")
    result = judge(proxy, "CLIENT-BODY-READABLE").results["CLIENT-BODY-READABLE"]
    assert result.outcome is Outcome.FAILED and "unreadable" in result.message


def test_question_marks_for_text_fail_the_content_check(proxy):
    fields = {**signed(format_timestamp(china_now())), "mobile": "13800138000"}
    raw_json(proxy, "single_send", {**fields, "content": "%3F%3F%3F%3F"})
    result = judge(proxy, "CLIENT-CONTENT-GBK").results["CLIENT-CONTENT-GBK"]
    assert result.outcome is Outcome.FAILED and "ISO-8859-1" in result.message


def test_a_digest_reused_minutes_after_its_timestamp_fails_freshness(proxy):
    raw_json(proxy, "get_balance", signed(format_timestamp(china_now(-240))))
    result = judge(proxy, "CLIENT-TIMESTAMP-FRESH").results["CLIENT-TIMESTAMP-FRESH"]
    assert result.outcome is Outcome.FAILED and "reused past its timestamp" in result.message


def test_the_proxy_command_prints_what_the_mock_could_not_read_as_it_happens(carrier):
    cmd = [sys.executable, "-m", "conformance", "proxy", "--listen", "127.0.0.1:0"]
    cmd += ["--upstream", carrier.url, "--requests", "1", "--only", "CLIENT-ENDPOINT"]
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = process.stderr.readline()
        url = banner.split("conformance proxy: ", 1)[1].split(" ", 1)[0]
        requests.post(
            f"{url}/sms/v2/std/get_balance",
            data=b'{"userid": broken',
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert "the mock says: UNREADABLE BODY (not a password problem" in err  # without -v
