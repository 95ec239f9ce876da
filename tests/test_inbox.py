"""mockcarrier.inbox: what the console shows for each phone, without a browser."""

from __future__ import annotations

from typing import Any

from mockcarrier import ids
from mockcarrier.inbox import (
    PENDING,
    UNREPORTED,
    inbox,
    message_view,
    report_delivery,
    report_queue,
)
from smsapi.mobile import Operator
from smsapi.msgid import mobile_msgid, segment_msgid

NOW = 1_000_000.0
BASE = ids.compose(0x1A2B3C, 100)
LONG = "【通渝科技】" + "您的ETC已充值100元，余额为200.00元。" * 6  # 138 characters: 3 parts


def report(
    msgid: int,
    pknum: int,
    *,
    due: float = NOW - 1,
    status: int = 0,
    errcode: str = "DELIVRD",
    state: str = "pending",
) -> dict[str, Any]:
    return {
        "msgid": segment_msgid(msgid, 1, pknum),
        "pknum": pknum,
        "status": status,
        "errcode": errcode,
        "rtime": "2020-04-13 10:00:02",
        "due_at": due,
        "state": state,
    }


def message(
    position: int,
    mobile: str,
    text: str = "【通渝科技】测试短信",
    reports: list | None = None,
    pktotal: int = 1,
) -> dict[str, Any]:
    msgid = mobile_msgid(BASE, position)
    return {
        "msgid": msgid,
        "mobile": mobile,
        "text": text,
        "pktotal": pktotal,
        "custid": "c-1",
        "exno": "",
        "spno": "10690012122",
        "svrtype": "",
        "exdata": "",
        "endpoint": "batch_send",
        "fmt": "json",
        "auth_mode": "md5",
        "position": position,
        "request_msgid": BASE,
        "stime": "2020-04-13 10:00:00",
        "issues": [],
        "segments": [report(msgid, 1)] if reports is None else reports,
    }


def mo(counter: int, mobile: str, text: str = "收到") -> dict[str, Any]:
    return {
        "msgid": ids.compose(0x1A2B3C, counter),
        "mobile": mobile,
        "spno": "10690012122",
        "exno": "",
        "rtime": "2020-04-13 10:01:00",
        "text": text,
        "state": "pending",
    }


def test_phones_are_grouped_by_operator_in_a_fixed_order() -> None:
    rows = [
        message(1, "18900000000"),
        message(2, "13800138000"),
        message(3, "13100000000"),
        message(4, "0012025550123"),
        message(5, "12345"),
    ]
    groups = inbox(rows, [], NOW)
    assert [g.operator for g in groups] == [
        Operator.CHINA_MOBILE,
        Operator.CHINA_UNICOM,
        Operator.CHINA_TELECOM,
        Operator.INTERNATIONAL,
        Operator.INVALID,
    ]
    assert (groups[0].label_zh, groups[0].label_en) == ("中国移动", "China Mobile")


def test_a_number_with_0086_and_without_is_one_phone() -> None:
    groups = inbox([message(1, "008613800138000"), message(2, "13800138000")], [], NOW)
    assert len(groups) == 1 and len(groups[0].phones) == 1
    phone = groups[0].phones[0]
    assert phone.number == "13800138000"
    assert [e.mobile for e in phone.entries] == ["13800138000", "008613800138000"]


def test_replies_sit_with_the_messages_of_their_phone_newest_first() -> None:
    rows = [message(1, "13800138000")]
    replies = [mo(200, "13800138000", "好的"), mo(50, "13800138000", "早前")]
    phone = inbox(rows, replies, NOW)[0].phones[0]
    assert [e.kind for e in phone.entries] == ["mo", "mt", "mo"]
    assert phone.entries[0].text == "好的"


def test_long_message_shows_each_part_with_its_section_3_3_id() -> None:
    msgid = mobile_msgid(BASE, 2)
    row = message(2, "13800138000", LONG, [report(msgid, k) for k in (1, 2, 3)], pktotal=3)
    view = message_view(row, NOW)
    assert [s.msgid for s in view.segments] == [segment_msgid(BASE, 2, k) for k in (1, 2, 3)]
    assert "".join(s.text for s in view.segments) == LONG
    assert [len(s.text) for s in view.segments] == [67, 67, len(LONG) - 134]
    assert view.text.startswith("【通渝科技】")


def test_under_wrong_segment_stride_a_part_shows_the_id_it_is_reported_with() -> None:
    msgid = mobile_msgid(BASE, 2)
    row = message(2, "13800138000", LONG, [report(msgid, k) for k in (1, 2, 3)], pktotal=3)
    view = message_view(row, NOW, {"wrong-segment-stride"})
    assert [s.msgid for s in view.segments] == [msgid + k * 2**32 for k in (0, 1, 2)]
    assert [s.expected for s in view.segments] == [segment_msgid(msgid, 1, k) for k in (1, 2, 3)]


def test_a_message_is_pending_until_every_part_is_due() -> None:
    msgid = mobile_msgid(BASE, 1)
    reports = [report(msgid, 1), report(msgid, 2, due=NOW + 5)]
    view = message_view(message(1, "13800138000", LONG[:120], reports, pktotal=2), NOW)
    assert view.delivery is PENDING
    assert view.segments[0].delivery.label == "DELIVRD" and view.segments[1].rtime == ""
    assert message_view(
        message(1, "13800138000", LONG[:120], reports, 2), NOW + 6
    ).delivery.kind == ("delivered")


def test_one_failed_part_fails_the_message_with_its_code() -> None:
    msgid = mobile_msgid(BASE, 1)
    reports = [report(msgid, 1), report(msgid, 2, status=1, errcode="UNDELIV")]
    view = message_view(message(1, "13800138000", LONG[:120], reports, pktotal=2), NOW)
    assert (view.delivery.kind, view.delivery.label) == ("failed", "UNDELIV")


def test_a_message_never_reported_says_so() -> None:
    view = message_view(message(1, "13800000003", reports=[]), NOW)
    assert view.delivery is UNREPORTED
    assert view.segments[0].msgid == mobile_msgid(BASE, 1)


def test_a_report_already_handed_out_is_never_pending() -> None:
    taken = report(mobile_msgid(BASE, 1), 1, due=NOW + 10, state="taken")
    assert report_delivery(taken, NOW).kind == "delivered"


def test_report_queue_counts_due_and_scheduled() -> None:
    msgid = mobile_msgid(BASE, 1)
    pending = [
        report(msgid, 1),
        report(msgid, 2, due=NOW + 3),
        report(msgid, 3, status=1, errcode="EXPIRED"),
    ]
    queue = report_queue(pending, NOW)
    assert (queue.due, queue.scheduled) == (2, 1)
    assert [r["delivery"].kind for r in queue.rows] == ["delivered", "pending", "failed"]
    assert len(report_queue(pending * 40, NOW, shown=50).rows) == 50
