"""The mock carrier over real HTTP: formats, sends, matching, pulls, balance (§2, §3.3)."""

from __future__ import annotations

import json

import pytest
import requests

from smsapi.auth import china_now, digest, format_timestamp
from smsapi.codec import parse_answer
from smsapi.content import decode_mo_content, encode_mt_content
from smsapi.msgid import segment_msgid
from smsapi.segments import segment_count

from .conftest import Served, wait_for_reports

LONG_TEXT = "您的ETC账户已充值成功，本次充值金额100.00元，当前余额200.00元。" * 3  # > 70 chars


@pytest.fixture(autouse=True)
def fresh_demo(server: Served) -> None:
    """Every test starts with J10003 empty: no pending reports or MOs."""
    assert server.admin("POST", "/accounts/J10003/reset").ok


def credentials(userid: str = "J10003", password: str = "111111") -> dict[str, str]:
    timestamp = format_timestamp(china_now())
    return {"userid": userid, "pwd": digest(userid, password, timestamp), "timestamp": timestamp}


def post(server: Served, endpoint: str, body: bytes | str, content_type: str) -> requests.Response:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return requests.post(
        f"{server.url}/sms/v2/std/{endpoint}",
        data=data,
        headers={"Content-Type": content_type},
        timeout=10,
    )


# ---------------------------------------------------------------- formats (§1, §2.1.4)


@pytest.mark.parametrize(
    "fmt, media",
    [("json", "application/json"), ("form", "application/json"), ("xml", "application/xml")],
)
def test_answer_format_follows_request_format(server: Served, fmt: str, media: str) -> None:
    client = server.client(fmt=fmt)
    result = client.single_send("13800138000", "格式测试")
    assert result.result == 0 and result.msgid != 0
    assert result.exchange.answer_headers["Content-Type"].startswith(media)


def test_xml_answer_has_a_quoted_prolog_and_the_document_root(server: Served) -> None:
    body = "<mtreq>" + "".join(f"<{k}>{v}</{k}>" for k, v in credentials().items())
    body += "<mobile>13800138000</mobile><content>%b2%e2%ca%d4</content></mtreq>"
    answer = post(server, "single_send", body, "text/xml; charset=utf-8")
    assert answer.headers["Content-Type"].startswith("text/xml")
    assert answer.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?><mtrsp>')
    assert parse_answer(answer.content, answer.headers["Content-Type"])["result"] == 0


def test_msgid_is_a_json_number(server: Served) -> None:
    fields = {**credentials(), "mobile": "13800138000", "content": "%b2%e2"}
    answer = post(server, "single_send", json.dumps(fields), "application/json")
    assert isinstance(json.loads(answer.text)["msgid"], int)


def test_document_xml_example_with_unquoted_prolog_is_accepted(server: Served) -> None:
    """§2.1.7 verbatim but for a fresh timestamp and a real number."""
    c = credentials()
    body = f"""<?xml version=1.0 encoding=utf-8?>
<mtreq>
\t<userid>J10003</userid>
<pwd>{c["pwd"]} </pwd>
<mobile>13800138000</mobile>
<content>%b2%e2%ca%d4%b6%cc%d0%c5</content>
<timestamp>{c["timestamp"]}</timestamp>
<svrtype>SMS001</svrtype>
<exno>0006</exno>
<custid>b3d0a2783d31b21b8573</custid>
<exdata>exdata000002</exdata>
</mtreq>"""
    answer = parse_answer(post(server, "single_send", body, "application/xml").content, "xml")
    assert answer == {"result": 0, "msgid": answer["msgid"], "custid": "b3d0a2783d31b21b8573"}
    assert answer["msgid"] != 0


def test_document_form_example_is_accepted(server: Served) -> None:
    """§2.1.7 urlencode example: GBK bytes percent-encoded once, line-wrapped."""
    c = credentials()
    body = (
        f"userid=J10003&pwd={c['pwd']}&mobile=13800138000\n&content=%b2%e2%ca%d4%b6%cc"
        f"%d0%c5&timestamp={c['timestamp'][:8]}\n{c['timestamp'][8:]}&svrtype=SMS001"
        "\n&exno=0006&custid=b3d0a2783d31b21b8573&exdata=exdata000002"
    )
    answer = post(server, "single_send", body, "application/x-www-form-urlencoded").json()
    assert answer["result"] == 0 and answer["custid"] == "b3d0a2783d31b21b8573"


def test_document_multi_send_form_example_with_raw_json_is_accepted(server: Served) -> None:
    """§2.3.7 multimt travels as unencoded JSON inside the form body."""
    c = credentials()
    body = (
        f"userid=J10003&pwd={c['pwd']}&timestamp={c['timestamp']}&multimt=["
        '{"mobile":"13800138000","content":"%b2%e2%ca%d4%b6%cc%d0%c5","svrtype":"SMS001",'
        '"exno":"0006","custid":"b3d0a2783d31b21b8573","exdata":"exdata000001"},'
        '{"mobile":"13100000000","content":"%b2%e2%ca%d4%b6%cc%d0%c5","svrtype":"SMS002",'
        '"exno":"0007","custid":"b3d0a2783d31b21b8573","exdata":"exdata000002"}]'
    )
    answer = post(server, "multi_send", body, "application/x-www-form-urlencoded").json()
    assert answer["result"] == 0 and answer["custid"] == "b3d0a2783d31b21b8573"
    sent = server.admin("GET", "/accounts/J10003/messages").json()
    assert sorted(m["text"] for m in sent) == ["【通渝科技】测试短信"] * 2


def test_form_content_encoded_twice_is_read_once(server: Served) -> None:
    c = credentials()
    body = (
        f"userid=J10003&pwd={c['pwd']}&timestamp={c['timestamp']}&mobile=13800138000"
        "&content=%25b2%25e2%25ca%25d4"
    )
    assert (
        post(server, "single_send", body, "application/x-www-form-urlencoded").json()["result"] == 0
    )
    assert server.admin("GET", "/accounts/J10003/messages").json()[0]["text"].endswith("测试")


def test_content_type_with_charset_and_none_at_all(server: Served) -> None:
    fields = {**credentials(), "mobile": "13800138000", "content": "%b2%e2"}
    with_charset = post(server, "single_send", json.dumps(fields), "application/json;charset=UTF-8")
    assert with_charset.json()["result"] == 0
    sniffed = requests.post(
        f"{server.url}/sms/v2/std/single_send",
        data=json.dumps({**fields, **credentials()}),
        timeout=10,
    )
    assert sniffed.json()["result"] == 0


# ---------------------------------------------------------------- sending and §3.3 matching


def test_single_send_report_matches_by_msgid_and_custid(server: Served, demo) -> None:
    sent = demo.single_send("13800138000", "您的验证码是6666", custid="order-1", exdata="x1")
    reports = wait_for_reports(demo, 1)
    assert [(r["msgid"], r["custid"], r["mobile"], r["pknum"], r["pktotal"]) for r in reports] == [
        (sent.msgid, "order-1", "13800138000", 1, 1)
    ]
    assert reports[0]["exdata"] == "x1" and reports[0]["errcode"] == "DELIVRD"


def test_batch_long_message_reports_follow_section_3_3(server: Served, demo) -> None:
    mobiles = ["13800138000", "13100000000", "18900000000"]
    sent = demo.batch_send(mobiles, LONG_TEXT, custid="batch-7")
    pktotal = segment_count("【通渝科技】" + LONG_TEXT)
    assert pktotal > 1
    reports = wait_for_reports(demo, 3 * pktotal)
    by_id = {r["msgid"]: r for r in reports}
    assert len(by_id) == len(reports) == 3 * pktotal  # no id repeats
    for position, mobile in enumerate(mobiles, start=1):
        for k in range(1, pktotal + 1):
            report = by_id[segment_msgid(sent.msgid, position, k)]  # §3.3
            assert (report["mobile"], report["pknum"], report["pktotal"], report["custid"]) == (
                mobile,
                k,
                pktotal,
                "batch-7",
            )


def test_multi_send_answers_first_custid_and_reports_each_items_own(server: Served, demo) -> None:
    sent = demo.multi_send(
        [
            {"mobile": "13800138000", "content": "第一条", "custid": "first", "exno": "01"},
            {"mobile": "13300000000", "content": "第二条", "custid": "second"},
            {"mobile": "13100000000", "content": "第三条"},
        ]
    )
    assert sent.custid == "first"
    reports = {r["msgid"]: r for r in wait_for_reports(demo, 3)}
    assert reports[sent.segment_id(1)]["custid"] == "first"
    assert reports[sent.segment_id(1)]["spno"] == "1069001212201"
    assert reports[sent.segment_id(2)]["custid"] == "second"
    # an item without custid belongs to the batch: it reports the batch's custid
    assert reports[sent.segment_id(3)]["custid"] == "first"


def test_custid_generated_when_absent_is_unique(server: Served, demo) -> None:
    first = demo.single_send("13800138000", "a")
    second = demo.single_send("13800138000", "b")
    assert first.custid and second.custid and first.custid != second.custid


def test_invalid_number_in_batch_becomes_failed_report(server: Served, demo) -> None:
    sent = demo.batch_send(["13800138000", "12345"], "混合号码")
    reports = {r["msgid"]: r for r in wait_for_reports(demo, 2)}
    assert reports[sent.segment_id(1)]["status"] == 0
    bad = reports[sent.segment_id(2)]
    assert bad["status"] != 0 and bad["mobile"] == "12345" and bad["errcode"] != "DELIVRD"


def test_international_and_0086_numbers_are_accepted(server: Served, demo) -> None:
    sent = demo.batch_send(["0086138001380000"[:15], "0085256412345"], "国际号码")
    assert sent.result == 0
    reports = wait_for_reports(demo, 2)
    assert all(r["status"] == 0 for r in reports)


def test_spno_is_channel_plus_exno_and_ends_in_12122(server: Served, demo) -> None:
    demo.single_send("13800138000", "通道号", exno="0006")
    report = wait_for_reports(demo, 1)[0]
    assert report["spno"] == "106900121220006" and report["exno"] == "0006"
    assert report["spno"].removesuffix("0006").endswith("12122")


def test_exno_ignored_when_channel_plus_exno_exceeds_20_digits(server: Served) -> None:
    client = server.client("LONGCH", "long-pass")
    client.single_send("13800138000", "长通道", exno="123456")  # 16 + 6 > 20
    report = wait_for_reports(client, 1)[0]
    assert report["exno"] == "" and report["spno"] == "1069001212212122"


def test_time_fields_use_the_document_format(server: Served, demo) -> None:
    demo.single_send("13800138000", "时间格式")
    report = wait_for_reports(demo, 1)[0]
    for name in ("stime", "rtime"):
        assert len(report[name]) == 19 and report[name][4] == "-" and report[name][13] == ":"
    assert report["rtime"] >= report["stime"]


def test_reports_are_handed_out_once(server: Served, demo) -> None:
    demo.batch_send(["13800138000", "13800138001"], "一次")
    reports = wait_for_reports(demo, 2)
    assert len({r["msgid"] for r in reports}) == 2
    assert demo.get_rpt().items == []


def test_retsize_limits_and_defaults(server: Served, demo) -> None:
    demo.batch_send([f"1380013{i:04d}" for i in range(7)], "retsize")
    wait_for_reports(demo, 0)
    first = demo.get_rpt(retsize=3)
    assert len(first.items) == 3
    rest = demo.get_rpt(retsize=0)  # §2.5.5 ≤ 0 → the default (500)
    assert len(rest.items) == 4


def test_realistic_profile_reports_arrive_later_than_the_send(server: Served) -> None:
    client = server.client("REAL01", "real-pass")
    sent = client.single_send("13800138000", "真实延迟")
    assert client.get_rpt().items == []  # due after a simulated latency, not at once
    report = wait_for_reports(client, 1)[0]
    assert report["msgid"] == sent.msgid and report["rtime"] >= report["stime"]


# ---------------------------------------------------------------- get_mo (§2.4)


def test_injected_mo_is_returned_once_as_utf8(server: Served, demo) -> None:
    injected = server.admin(
        "POST",
        "/accounts/J10003/mo",
        json={"mobile": "13800138000", "content": "退订 TD", "exno": "0006"},
    )
    assert injected.status_code == 201
    mos = demo.get_mo().items
    assert len(mos) == 1
    mo = mos[0]
    assert mo["msgid"] == injected.json()["msgid"] and mo["spno"] == "106900121220006"
    assert decode_mo_content(mo["content"]).text == "退订 TD"
    assert "%e9%80%80" in mo["content"]  # 退 in UTF-8, lower-case hex like §2.4.8
    assert demo.get_mo().items == []


def test_get_mo_retsize_cap_is_200(server: Served, demo) -> None:
    for i in range(205):
        server.admin(
            "POST", "/accounts/J10003/mo", json={"mobile": "13800138000", "content": f"回复{i}"}
        )
    assert len(demo.get_mo(retsize=1000).items) == 200  # §2.4.5 最大200
    assert len(demo.get_mo().items) == 5


# ---------------------------------------------------------------- balance and billing (§2.6)


def test_count_balance_drops_by_segments(server: Served, demo) -> None:
    before = demo.get_balance()
    demo.batch_send(["13800138000", "13800138001"], LONG_TEXT)
    after = demo.get_balance()
    segments = segment_count("【通渝科技】" + LONG_TEXT)
    assert (before.chargetype, after.money) == (0, "0.000000")
    assert before.balance - after.balance == 2 * segments


def test_money_balance_is_a_six_decimal_string(server: Served) -> None:
    client = server.client("MONEY1", "money-pass")
    server.admin("POST", "/accounts/MONEY1/reset")
    client.single_send("13800138000", "按金额计费")
    balance = client.get_balance()
    assert (balance.chargetype, balance.balance, balance.money) == (1, 0, "0.971000")


def test_topup_through_admin(server: Served, demo) -> None:
    before = demo.get_balance().balance
    assert server.admin("POST", "/accounts/J10003/topup", json={"count": 500}).ok
    assert demo.get_balance().balance == before + 500


def test_segments_use_the_content_as_sent(server: Served, demo) -> None:
    """The signature is part of the 1000 characters and of the segments (§2.1.5)."""
    client = server.client("NOSIG1", "nosig-pass")
    for length, pktotal in ((70, 1), (71, 2), (134, 2), (135, 3)):
        server.admin("POST", "/accounts/NOSIG1/reset")
        assert client.single_send("13800138000", "字" * length).result == 0
        reports = wait_for_reports(client, pktotal)
        assert {r["pktotal"] for r in reports} == {pktotal}


def test_raw_content_encoding(server: Served) -> None:
    assert encode_mt_content("测试短信") == "%b2%e2%ca%d4%b6%cc%d0%c5"
