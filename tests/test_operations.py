"""mockcarrier.operations: the admin calls the API views and the console share."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mockcarrier import operations as ops
from mockcarrier.config import AccountConfig, Settings
from mockcarrier.operations import AdminError
from mockcarrier.service import Carrier
from mockcarrier.stores.sqlite import SqliteStore
from smsapi.auth import china_now, digest, format_timestamp
from smsapi.codec import Format, encode_request
from smsapi.content import encode_mt_content
from smsapi.msgid import segment_msgid

LONG = "您的ETC已充值100元，余额为200.00元。如有疑问请致电客服热线。" * 3  # 3 parts


@pytest.fixture
def carrier(tmp_path: Path) -> Carrier:
    accounts = [
        AccountConfig(userid="J10003", password="111111", delivery_profile="instant"),
        AccountConfig(userid="SLOW", password="slow", delivery_profile="slow"),
    ]
    return Carrier(
        Settings(db=str(tmp_path / "ops.db"), seed=7, accounts=accounts),
        SqliteStore(str(tmp_path / "ops.db")),
    )


def send(
    carrier: Carrier, endpoint: str, userid: str = "J10003", password: str = "111111", **fields: str
) -> dict:
    timestamp = format_timestamp(china_now())
    body = encode_request(
        endpoint,
        {
            "userid": userid,
            "pwd": digest(userid, password, timestamp),
            "timestamp": timestamp,
            **fields,
        },
        Format.JSON,
    )
    answer = carrier.handle(endpoint, body, Format.JSON, "127.0.0.1").answer
    assert answer["result"] == 0, answer
    return answer


def batch(carrier: Carrier, userid: str = "J10003", password: str = "111111") -> dict:
    return send(
        carrier,
        "batch_send",
        userid,
        password,
        mobile="13800138000,13100000000",
        content=encode_mt_content(LONG),
        custid="order-9",
    )


def test_top_up_adds_messages_and_rejects_what_is_no_number(carrier: Carrier) -> None:
    record = ops.account(carrier, "j10003")
    before = record.balance
    assert ops.top_up(carrier, record, {"count": "500"})["balance"] == before + 500
    with pytest.raises(AdminError) as refused:
        ops.top_up(carrier, record, {"count": "lots"})
    assert refused.value.status == 400


def test_an_unknown_account_is_404(carrier: Carrier) -> None:
    with pytest.raises(AdminError) as refused:
        ops.account(carrier, "NOPE")
    assert refused.value.status == 404


def test_a_reply_needs_a_mobile_and_text_and_keeps_chinese(carrier: Carrier) -> None:
    record = ops.account(carrier, "J10003")
    mo = ops.inject_mo(carrier, record, {"mobile": "13800138000", "content": "收到，谢谢"})
    assert [m["text"] for m in ops.list_mos(carrier, record, mobile="13800138000")] == [
        "收到，谢谢"
    ]
    assert mo["spno"] == "10690012122"
    with pytest.raises(AdminError):
        ops.inject_mo(carrier, record, {"mobile": "", "content": "x"})
    with pytest.raises(AdminError):
        ops.inject_mo(carrier, record, {"mobile": "13800138000", "content": ""})


def test_a_count_injects_that_many_replies_at_once(carrier: Carrier) -> None:
    record = ops.account(carrier, "J10003")
    made = ops.inject_mo(carrier, record, {"mobile": "13800138000", "content": "好", "count": 3})
    assert made["injected"] == 3 and len({m["msgid"] for m in made["mos"]}) == 3
    assert len(ops.list_mos(carrier, record, mobile="13800138000")) == 3
    for count in (0, -1, "3", True, ops.MO_INJECT_MAX + 1):
        with pytest.raises(AdminError):
            ops.inject_mo(carrier, record, {"mobile": "138", "content": "x", "count": count})


def test_any_section_3_3_id_names_its_message(carrier: Carrier) -> None:
    answer = batch(carrier)
    record = ops.account(carrier, "J10003")
    for pknum in (1, 2, 3):
        found = ops.find_messages(
            carrier, record, msgid=str(segment_msgid(answer["msgid"], 2, pknum))
        )
        assert [m["mobile"] for m in found] == ["13100000000"]
    assert ops.find_messages(carrier, record, msgid="0") == []
    assert ops.find_messages(carrier, record, msgid=str(2**70)) == []
    with pytest.raises(AdminError):
        ops.find_messages(carrier, record, msgid="12ab")


def test_search_reads_the_box_as_mobile_custid_or_msgid(carrier: Carrier) -> None:
    answer = batch(carrier)
    record = ops.account(carrier, "J10003")
    ops.inject_mo(carrier, record, {"mobile": "13100000000", "content": "好"})
    assert len(ops.search(carrier, record, "order-9")[0]) == 2
    by_mobile, mos = ops.search(carrier, record, "13100000000")
    assert [m["mobile"] for m in by_mobile] == ["13100000000"] and len(mos) == 1
    by_segment, _ = ops.search(carrier, record, str(segment_msgid(answer["msgid"], 1, 3)))
    assert [m["mobile"] for m in by_segment] == ["13800138000"]
    assert ops.search(carrier, record, "nothing-like-it") == ([], [])
    everything, everything_mo = ops.search(carrier, record, "")
    assert len(everything) == 2 and len(everything_mo) == 1


def test_mark_failed_rewrites_the_reports_not_handed_out(carrier: Carrier) -> None:
    answer = send(carrier, "single_send", "SLOW", "slow", mobile="13800138000", content="%b2%e2")
    record = ops.account(carrier, "SLOW")
    row = ops.mark_message(
        carrier, record, answer["msgid"], {"fate": "failed", "errcode": "MK:0005"}
    )
    assert [(s["status"], s["errcode"]) for s in row["segments"]] == [(1, "MK:0005")]
    assert row["segments"][0]["due_at"] <= time.time()


def test_mark_delayed_moves_the_due_time(carrier: Carrier) -> None:
    answer = send(carrier, "single_send", "SLOW", "slow", mobile="13800138000", content="%b2%e2")
    record = ops.account(carrier, "SLOW")
    row = ops.mark_message(carrier, record, answer["msgid"], {"fate": "delayed", "seconds": "600"})
    assert row["segments"][0]["due_at"] > time.time() + 500
    assert row["segments"][0]["errcode"] == "DELIVRD"


def test_mark_refuses_bad_fates_and_messages_fully_reported(carrier: Carrier) -> None:
    answer = send(carrier, "single_send", mobile="13800138000", content="%b2%e2")
    record = ops.account(carrier, "J10003")
    for data in (
        {"fate": "lost"},
        {"fate": "delayed", "seconds": "-1"},
        {"fate": "failed", "errcode": "x" * 21},
    ):
        with pytest.raises(AdminError) as refused:
            ops.mark_message(carrier, record, answer["msgid"], data)
        assert refused.value.status == 400
    carrier.store.take_reports("J10003", time.time() + 1, 500)
    with pytest.raises(AdminError) as refused:
        ops.mark_message(carrier, record, answer["msgid"], {"fate": "failed"})
    assert refused.value.status == 409
    with pytest.raises(AdminError) as refused:
        ops.mark_message(carrier, record, 12345, {"fate": "failed"})
    assert refused.value.status == 404


def test_reset_forgets_and_restores_the_balance(carrier: Carrier) -> None:
    batch(carrier)
    record = ops.account(carrier, "J10003")
    view = ops.reset(carrier, record)
    assert view["balance"] == record.config.balance
    assert ops.search(carrier, record, "") == ([], [])


# ---------------------------------------------------------------- balance range (issue 19)

OUT_OF_RANGE = [
    {"count": 10**30},
    {"count": -(10**30)},
    {"count": 1e999},  # a JSON 1e999 reads as inf
    {"count": "1" * 5000},
    {"money": "1e30"},
    {"money": "1e999999999"},  # past Decimal's own exponent range
    {"money": 10**5000},
    {"money": 1e300},
]


@pytest.mark.parametrize("data", OUT_OF_RANGE, ids=range(len(OUT_OF_RANGE)))
def test_a_balance_change_out_of_range_is_a_400_not_an_overflow(
    carrier: Carrier, data: dict
) -> None:
    record = ops.account(carrier, "J10003")
    for amounts in (
        lambda: ops.top_up(carrier, record, data),
        lambda: ops.balance_amounts(data.get("count"), data.get("money")),
    ):
        with pytest.raises(AdminError) as refused:
            amounts()
        assert refused.value.status == 400
        assert "range" in refused.value.message or "integer" in refused.value.message
    assert ops.account(carrier, "J10003").balance == record.balance  # nothing stored


def test_top_ups_cannot_add_up_past_the_range(carrier: Carrier) -> None:
    record = ops.account(carrier, "J10003")
    ops.top_up(carrier, record, {"count": ops.MAX_BALANCE - record.balance})
    with pytest.raises(AdminError, match="would reach .*out of range"):
        ops.top_up(carrier, ops.account(carrier, "J10003"), {"count": 1})
    assert ops.account(carrier, "J10003").balance == ops.MAX_BALANCE


def test_the_admin_api_answers_400_for_every_out_of_range_balance(tmp_path: Path) -> None:
    from mockcarrier import create_app

    app = create_app(Settings(db=str(tmp_path / "api.db")))
    client = app.test_client()
    for path, method, body in [
        ("/__admin/accounts/J10003/topup", "POST", '{"count": 1000000000000000000000000000000}'),
        ("/__admin/accounts/J10003/topup", "POST", '{"count": 1e999}'),
        ("/__admin/accounts/J10003/topup", "POST", '{"money": "1e30"}'),
        ("/__admin/accounts/J10003/balance", "PUT", '{"balance": 1e23}'),
        ("/__admin/accounts/J10003/balance", "PUT", '{"balance": -1e999}'),
        ("/__admin/accounts/J10003/balance", "PUT", '{"money": "-1e30"}'),
    ]:
        answer = client.open(
            path, method=method, data=body, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 400, (path, body, answer.status_code)
        assert "range" in answer.get_json()["error"] or "integer" in answer.get_json()["error"]
    answer = client.put("/__admin/accounts/J10003/balance", json={"balance": ops.MAX_BALANCE})
    assert answer.status_code == 200 and answer.get_json()["balance"] == ops.MAX_BALANCE
