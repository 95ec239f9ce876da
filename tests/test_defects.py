"""Defect modes (mockcarrier.defects): each is listed with the rule it breaks, and each,
turned on, makes the served mock break exactly that rule."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
import requests

from mockcarrier import defects, ids
from mockcarrier.defects import DEFECTS
from mockcarrier.stores import Acceptance, Report
from smsapi import Client
from smsapi.msgid import SEGMENT_STRIDE, segment_msgid
from smsapi.push import encode_push
from tests.conftest import Served, module_server, start_server, wait_for_reports
from tests.receiver import Receiver, disable_push, enable_push

LONG_TEXT = "长" * 100  # two segments with the signature


served = module_server("defects")


@pytest.fixture(autouse=True)
def clean(served: Served) -> Iterator[None]:
    served.admin("POST", "/accounts/J10003/reset")
    yield
    assert served.admin("PUT", "/defects", json={"enabled": []}).ok


def turn_on(served: Served, name: str) -> None:
    response = served.admin("POST", f"/defects/{name}")
    assert response.ok, response.text
    assert {d["name"] for d in response.json() if d["enabled"]} == {name}


def client(served: Served, *args, **kw) -> Client:
    """Answers are off the document on purpose: no schema check on this session."""
    return served.client(*args, session=requests.Session(), **kw)


def raw_json(c: Client) -> dict:
    assert c.last_exchange is not None
    return json.loads(c.last_exchange.answer_body)


@pytest.fixture
def receiver(served: Served) -> Iterator[Receiver]:
    rx = Receiver().start()
    enable_push(served, rx)
    yield rx
    disable_push(served)
    rx.stop()


# ---------------------------------------------------------------- the list


def test_at_least_twelve_defects_are_listed_with_the_rule_each_breaks(served):
    listed = served.admin("GET", "/defects").json()
    assert len(listed) >= 12 and {d["name"] for d in listed} == set(DEFECTS)
    assert all(d["rule"].startswith("§") and d["description"] for d in listed)
    areas = {d["area"] for d in listed}
    assert {"codec", "auth", "limits", "msgid", "reports", "push"} <= areas
    cli = subprocess.run(
        [sys.executable, "-m", "mockcarrier", "defects", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert [d["name"] for d in json.loads(cli.stdout)] == list(DEFECTS)


def test_unknown_defect_names_are_refused(served):
    assert served.admin("POST", "/defects/no-such-thing").status_code == 404
    assert served.admin("PUT", "/defects", json={"enabled": ["no-such"]}).status_code == 400


def test_defects_named_at_start_are_on(tmp_path):
    mock = start_server(tmp_path, "--defect", "money-as-number", "--defect", "push-as-json")
    try:
        on = {d["name"] for d in mock.admin("GET", "/defects").json() if d["enabled"]}
        assert on == {"money-as-number", "push-as-json"}
    finally:
        mock.stop()


# ---------------------------------------------------------------- msgid


def test_batch_msgid_off_by_one(served):
    turn_on(served, "batch-msgid-off-by-one")
    c = client(served)
    sent = c.batch_send(["13800138000", "13100000000"], "x")
    reports = wait_for_reports(c, 2)
    assert {r["msgid"] for r in reports} == {sent.msgid - 1, sent.msgid}  # not msgid + p - 1
    single = c.single_send("13800138000", "x")
    assert wait_for_reports(c, 1)[0]["msgid"] == single.msgid  # single_send unaffected


def test_wrong_segment_stride(served):
    turn_on(served, "wrong-segment-stride")
    c = client(served)
    sent = c.single_send("13800138000", LONG_TEXT)
    by_pknum = {r["pknum"]: r["msgid"] for r in wait_for_reports(c, 2)}
    assert by_pknum[2] == sent.msgid + 2**32 != sent.msgid + SEGMENT_STRIDE


# ---------------------------------------------------------------- codecs


def test_xml_answered_in_json(served):
    turn_on(served, "xml-answered-in-json")
    c = client(served, fmt="xml")
    c.get_balance()
    assert c.last_exchange is not None
    assert c.last_exchange.answer_headers["Content-Type"].startswith("application/json")


def test_msgid_as_string(served):
    turn_on(served, "msgid-as-string")
    c = client(served)
    c.single_send("13800138000", "x")
    assert isinstance(raw_json(c)["msgid"], str)
    wait_for_reports(c, 1)
    assert isinstance(raw_json(c)["rpts"][0]["msgid"], str)


def test_money_as_number(served):
    turn_on(served, "money-as-number")
    c = client(served, "MONEY1", "money-pass")
    c.get_balance()
    assert isinstance(raw_json(c)["money"], float)


def test_failure_shape_broken(served):
    turn_on(served, "failure-shape-broken")
    c = client(served, password="wrong")
    c.single_send("13800138000", "x")
    assert raw_json(c) == {"result": -100001}


# ---------------------------------------------------------------- auth


def test_auth_not_checked(served):
    turn_on(served, "auth-not-checked")
    assert client(served, password="not-the-password").get_balance().result == 0
    garbage = {"pwd": "0" * 32, "timestamp": "9999999999"}
    assert client(served).call("get_balance", garbage)[0]["result"] == 0
    assert client(served, "NOBODY", "x").get_balance().result == -100001  # unknown userid


def test_push_digest_upper_case(served, receiver):
    turn_on(served, "push-digest-upper-case")
    client(served).single_send("13800138000", "x")
    receiver.wait_for_items(1)
    assert "upper case" in receiver.pushes[0].auth_problem


# ---------------------------------------------------------------- limits


def test_retsize_cap_ignored(served):
    turn_on(served, "retsize-cap-ignored")
    c = client(served)
    c.batch_send([f"1391{n:07d}" for n in range(600)], "x")
    got = []
    for _ in range(100):  # reports due at once (instant profile)
        got = c.get_rpt(600).items
        if got:
            break
    assert len(got) == 600  # not capped at 500


def test_batch_limit_ignored(served):
    turn_on(served, "batch-limit-ignored")
    sent = client(served).batch_send([f"1392{n:07d}" for n in range(1001)], "x")
    assert sent.result == 0  # not -100014


# ---------------------------------------------------------------- reports


def test_custid_not_echoed(served):
    turn_on(served, "custid-not-echoed")
    assert client(served).single_send("13800138000", "x", custid="order-1").custid == ""


def test_report_custid_missing(served):
    turn_on(served, "report-custid-missing")
    c = client(served)
    c.single_send("13800138000", "x", custid="order-1")
    assert wait_for_reports(c, 1)[0]["custid"] == ""


def test_pknum_zero_for_short(served):
    turn_on(served, "pknum-zero-for-short")
    c = client(served)
    c.single_send("13800138000", "short")
    (report,) = wait_for_reports(c, 1)
    assert (report["pknum"], report["pktotal"]) == (0, 0)


def test_time_iso_format(served):
    turn_on(served, "time-iso-format")
    c = client(served)
    c.single_send("13800138000", "x")
    (report,) = wait_for_reports(c, 1)
    assert "T" in report["stime"] and "T" in report["rtime"]


def test_reports_handed_twice(served):
    turn_on(served, "reports-handed-twice")
    c = client(served)
    sent = c.single_send("13800138000", "x")
    first = wait_for_reports(c, 1)
    second = c.get_rpt().items
    assert [r["msgid"] for r in first] == [r["msgid"] for r in second] == [sent.msgid]
    assert c.get_rpt().items == []  # twice, not forever


def test_exdata_not_echoed(served):
    turn_on(served, "exdata-not-echoed")
    c = client(served)
    c.single_send("13800138000", "x", exdata="order-1")
    assert wait_for_reports(c, 1)[0]["exdata"] == ""


def test_phantom_report(served):
    turn_on(served, "phantom-report")
    c = client(served)
    sent = c.single_send("13800138000", "x", custid="order-1")
    real, phantom = wait_for_reports(c, 2)
    assert real["msgid"] == sent.msgid and real["custid"] == "order-1"
    assert phantom["msgid"] != sent.msgid and phantom["custid"] not in ("", "order-1")


def test_failed_report_delivrd(served):
    turn_on(served, "failed-report-delivrd")
    c = client(served)
    c.batch_send(["13800138000", "1380013800"], "x")  # the second is invalid (F2)
    reports = {r["mobile"]: r for r in wait_for_reports(c, 2)}
    assert reports["1380013800"]["status"] != 0 and reports["1380013800"]["errcode"] == "DELIVRD"
    assert reports["13800138000"]["status"] == 0


def test_late_reports_rtime_stime(served):
    turn_on(served, "late-reports-rtime-stime")
    c = client(served)
    started = time.monotonic()
    c.single_send("13800138000", "x")
    (report,) = wait_for_reports(c, 1, timeout=15)
    assert time.monotonic() - started >= 5.5 and report["rtime"] == report["stime"]


def test_report_times_utc(served):
    turn_on(served, "report-times-utc")
    c = client(served)
    before = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    c.single_send("13800138000", "x")
    (report,) = wait_for_reports(c, 1)
    stime = datetime.strptime(report["stime"], "%Y-%m-%d %H:%M:%S")
    assert abs((stime - before).total_seconds()) < 5  # UTC, not China time (+8 h)


# ---------------------------------------------------------------- push


def test_seqid_not_increasing(served, receiver):
    turn_on(served, "seqid-not-increasing")
    served.admin("PATCH", "/accounts/J10003", json={"push_rpt_batch": 1})
    try:
        client(served).batch_send(["13800138000", "13100000000", "18900000000"], "x")
        receiver.wait_for_items(3)
        assert len({p.request.seqid for p in receiver.received()}) == 1
    finally:
        served.admin("PATCH", "/accounts/J10003", json={"push_rpt_batch": 500})


def test_push_over_limit(served, receiver):
    turn_on(served, "push-over-limit")
    client(served).batch_send([f"1393{n:07d}" for n in range(600)], "x")
    receiver.wait_for_items(600)
    biggest = max(receiver.received(), key=lambda p: len(p.request.items))
    assert len(biggest.request.items) > 500
    assert any("over the 500" in p for p in biggest.request.problems)


def test_push_as_json(served, receiver):
    turn_on(served, "push-as-json")
    client(served).single_send("13800138000", "x")
    receiver.wait_for_items(1)
    assert receiver.pushes[0].content_type == "application/json"
    assert receiver.pushes[0].request.fmt == "json"


def test_push_no_retry(served, receiver):
    turn_on(served, "push-no-retry")
    receiver.mode = "error"
    client(served).single_send("13800138000", "lost")
    receiver.wait_until(lambda: len(served.admin("GET", "/accounts/J10003/pushes").json()) == 1)
    (attempt,) = served.admin("GET", "/accounts/J10003/pushes").json()
    assert attempt["ok"] is False and attempt["retry_in"] is None
    state = served.admin("GET", "/accounts/J10003/push").json()["rpt"]
    assert state["pending"] == 0  # given up as if acknowledged: the report is lost
    assert len(receiver.pushes) == 1


def test_wrong_segment_stride_pushed_leaves_the_outbox_by_the_real_ids(served, receiver):
    turn_on(served, "wrong-segment-stride")
    sent = client(served).single_send("13800138000", LONG_TEXT)
    by_pknum = {i["pknum"]: i["msgid"] for i in receiver.wait_for_items(2)}
    assert by_pknum == {1: sent.msgid, 2: sent.msgid + 2**32}  # the wire: distorted
    # acknowledged by the store's own ids: nothing stays pending, nothing pushed again
    receiver.wait_until(
        lambda: served.admin("GET", "/accounts/J10003/push").json()["rpt"]["pending"] == 0
    )
    assert len(receiver.items()) == 2


# ---------------------------------------------------------------- the seams (no server)


def acceptance_of(cost: int) -> Acceptance:
    return Acceptance(
        userid="J10003",
        endpoint="single_send",
        fmt="json",
        auth_mode="md5",
        chargetype=0,
        cost_count=cost,
        cost_micros=cost * 29_000,
        text=None,
        custid="",
        seed=1,
        prefix=0,
        stime=datetime(2026, 12, 1, 10, 0, 0),
        accepted_at=0.0,
        time_scale=1.0,
    )


def report_of(msgid: int, pknum: int = 1) -> Report:
    return Report(msgid, "c", pknum, 2, "13800138000", "106", "", "t", "t", 0, "DELIVRD", "", "")


def test_with_no_defect_every_seam_hands_back_what_it_got() -> None:
    none: frozenset[str] = frozenset()
    accepted = acceptance_of(3)
    items = [report_of(5).fields()]
    answer = {"result": 0, "rpts": items}
    assert defects.acceptance(none, accepted) is accepted
    assert defects.distort_answer(none, "get_rpt", answer) is answer
    assert defects.distort_items(none, "rpts", items) is items
    assert defects.pull_limit(none, 900, 500) == 500
    assert defects.batch_limit(none) == 1000 and defects.push_limit(none, "rpt", 7) == 7
    assert defects.checks_auth(none) and not defects.push_acknowledged(none, False)
    fields = {"userid": "J10003", "pwd": "ab" * 16, "cmd": "RPT_REQ", "seqid": 1, "rpts": []}
    assert defects.push_body(none, fields) == encode_push(fields)
    handouts = defects.HandOuts()
    taken = [report_of(5)]
    assert handouts.take_reports(none, "J10003", 10, lambda n: taken) is taken
    assert handouts.push_seqid(none, "J10003", "rpt", 9) == 9


def test_the_acceptance_seam_bills_nothing_or_delays_every_report() -> None:
    free = defects.acceptance({"balance-not-charged"}, acceptance_of(3))
    late = defects.acceptance({"late-reports-rtime-stime"}, acceptance_of(3))
    assert (free.cost_count, free.cost_micros, free.delay) == (0, 0, 0.0)
    assert (late.cost_count, late.delay) == (3, defects.LATE_REPORT_S)


def test_wrong_stride_rewrites_a_segment_id_from_its_real_one() -> None:
    first = ids.compose(5, 1234)
    assert defects.wrong_stride(first) == first
    assert defects.wrong_stride(segment_msgid(first, 1, 3)) == first + 2 * 2**32


def test_reports_handed_twice_come_once_more_and_then_never() -> None:
    handouts = defects.HandOuts()
    store = [report_of(n) for n in (1, 2, 3)]

    def take(n: int) -> list[Report]:
        taken, store[:] = store[:n], store[n:]
        return taken

    twice = {"reports-handed-twice"}
    got = [[r.msgid for r in handouts.take_reports(twice, "U", 2, take)] for _ in range(4)]
    assert got == [[1, 2], [1, 2], [3], [3]]
    assert handouts.take_reports(twice, "U", 2, take) == []


def test_seqid_not_increasing_repeats_the_first_seqid_of_each_lane() -> None:
    handouts = defects.HandOuts()
    same = {"seqid-not-increasing"}
    assert [handouts.push_seqid(same, "U", "rpt", s) for s in (4, 5, 6)] == [4, 4, 4]
    assert handouts.push_seqid(same, "U", "mo", 8) == 8
    assert handouts.push_seqid(frozenset(), "U", "rpt", 7) == 7  # off: forgotten
    assert handouts.push_seqid(same, "U", "rpt", 9) == 9
