"""schemas/: the interface as JSON Schema, XSD and OpenAPI, and its agreement with smsapi."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi

import schemas
from schemas import build
from smsapi import answers
from smsapi.auth import CHINA_TZ, digest, format_timestamp
from smsapi.codec import Format, encode_answer, encode_request
from smsapi.content import encode_mo_content
from smsapi.endpoints import (
    ENDPOINTS,
    MAX_BATCH_MOBILES,
    MAX_MULTI_ITEMS,
    MAX_PUSH_MOS,
    MAX_PUSH_RPTS,
    MO_FIELDS,
    REPORT_FIELDS,
)
from smsapi.errors import RESULT_TEXTS, Result
from smsapi.fields import CUSTOM_MAX, EXNO_RE, custom_field_rule, svrtype_rule
from smsapi.mobile import classify
from smsapi.msgid import INT64_MAX, INT64_MIN, SEGMENT_STRIDE
from smsapi.push import PushKind, encode_push, push_fields

from .conftest import check_answer_schema

EXAMPLES = schemas.document_examples()
INTERPRETATIONS = Path(__file__).resolve().parents[1] / "docs" / "interpretations.md"
TS = "0803192020"
MD5 = {"userid": "J10003", "pwd": digest("J10003", "111111", TS), "timestamp": TS}
GBK = "%b2%e2%ca%d4%b6%cc%d0%c5"  # 测试短信
MO = {
    "msgid": -9223372027854775808,
    "mobile": "13800000000",
    "spno": "1000457890006",
    "exno": "0006",
    "rtime": "2016-08-04 17:38:59",
    "content": "%e6%b5%8b%e8%af%95%e7%9f%ad%e4%bf%a1",
}
RPT = {
    "msgid": -9223372027854775808,
    "custid": "b3d0a2783d31b21b8573",
    "pknum": 1,
    "pktotal": 2,
    "mobile": "13800000000",
    "spno": "1000457890006",
    "exno": "0006",
    "stime": "2016-08-04 17:38:55",
    "rtime": "2016-08-04 17:38:59",
    "status": 0,
    "errcode": "DELIVRD",
    "errdesc": "success",
    "exdata": "exdata0002",
}


def named(problems: list[str], word: str) -> bool:
    return any(word.lower() in p.lower() for p in problems)


# ---------------------------------------------------------------- the files


def test_every_message_of_the_interface_has_a_json_schema():
    expected = {m for ms in schemas.ENDPOINT_MESSAGES.values() for m in (ms.request, ms.answer)}
    expected |= {m for ms in schemas.PUSH_MESSAGES.values() for m in (ms.request, ms.answer)}
    expected |= {"multimt_item", "mo_item", "rpt_item"}
    assert set(schemas.names()) == expected


@pytest.mark.parametrize("name", [*schemas.names(), "common"])
def test_json_schemas_are_valid_draft_2020_12(name: str):
    schema = schemas.json_schema(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_every_xml_root_has_an_xsd():
    xsd_files = {p.stem for p in (Path(schemas.__file__).parent / "xsd").glob("*.xsd")}
    assert schemas.xml_roots() == sorted(xsd_files - {"common"})
    assert set(schemas.xml_roots()) == {
        "mtreq", "mtrsp", "moreq", "morsp", "rptreq", "rptrsp", "feereq", "feersp"
    }  # fmt: skip
    for root in schemas.xml_roots():
        assert schemas.xsd(root).validity == "valid"


def test_unknown_names_are_refused():
    with pytest.raises(KeyError):
        schemas.json_schema("no_such_message")
    with pytest.raises(KeyError):
        schemas.xsd("common")


def test_check_raises_a_value_error_carrying_every_message():
    with pytest.raises(schemas.SchemaViolation) as caught:
        schemas.check("single_send_response", {"result": 0, "msgid": 0, "custid": "", "x": 1})
    assert isinstance(caught.value, ValueError)
    assert named(caught.value.messages, "msgid") and named(caught.value.messages, "'x'")
    schemas.check("single_send_response", {"result": 0, "msgid": 7, "custid": "c"})


def test_dollar_anchors_the_very_end_as_in_ecma_262():
    """Python's `$` also matches before a final newline; JSON Schema's does not."""
    assert named(schemas.errors("get_balance_request", {**MD5, "userid": "J10003\n"}), "userid")


# ---------------------------------------------------------------- the document's examples


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.key for e in EXAMPLES])
def test_document_example_validates_once_corrected(example: schemas.Example):
    assert example.errors() == []


DEFECT_CASES = [(e, d) for e in EXAMPLES for d in e.defects]


@pytest.mark.parametrize(
    "example, defect", DEFECT_CASES, ids=[f"{e.key}-{d}" for e, d in DEFECT_CASES]
)
def test_each_defect_left_uncorrected_is_rejected_naming_it(example: schemas.Example, defect):
    problems = example.errors(example.corrected(keep=defect))
    word = example.expect[defect]
    if word is None:
        # S8 placeholder numbers in answers: a report or MO carries the number as sent.
        assert problems == []
    else:
        assert named(problems, word), problems


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.key for e in EXAMPLES])
def test_every_fix_changes_the_example(example: schemas.Example):
    assert set(example.expect) == set(example.defects)
    for fix in example.fixes:
        assert fix.apply(example.text) != example.text, fix


def test_the_document_verbatim_fails_the_strict_schemas_in_most_examples():
    rejected = [e.key for e in EXAMPLES if e.errors(e.text)]
    clean = {e.key for e in EXAMPLES if not e.fixes}
    assert len(EXAMPLES) == 48 and len(rejected) == 48 - len(clean)


def test_every_defect_has_a_row_in_interpretations():
    text = INTERPRETATIONS.read_text(encoding="utf-8")
    used = {d for e in EXAMPLES for d in e.defects}
    assert used == set(schemas.document_defects())
    for defect in used:
        assert f"| {defect} |" in text, defect


def test_corrected_report_example_follows_the_segment_rule():
    """§3.3 the second segment's id is the first + 2^34 (the document's is not)."""
    example = next(e for e in EXAMPLES if e.key == "get_rpt.success.json")
    first, second = example.value()["rpts"]
    assert second["msgid"] == first["msgid"] + SEGMENT_STRIDE


# ---------------------------------------------------------------- OpenAPI


def test_openapi_document_is_valid_openapi_3_1():
    document = yaml.safe_load(schemas.openapi_path().read_text(encoding="utf-8"))
    assert document["openapi"].startswith("3.1")
    validate_openapi(document)


def test_openapi_document_is_rebuilt_from_the_json_schemas():
    assert schemas.openapi_path().read_text(encoding="utf-8") == build.render(), (
        "run: python -m schemas.build"
    )


def test_openapi_has_six_endpoints_in_every_media_type_and_two_webhooks():
    document = build.openapi_document()
    for name, endpoint in ENDPOINTS.items():
        operation = document["paths"][endpoint.path]["post"]
        assert operation["operationId"] == name
        assert set(operation["requestBody"]["content"]) == {
            "application/json", "application/xml", "text/xml",
            "application/x-www-form-urlencoded",
        }  # fmt: skip
        answer = operation["responses"]["200"]["content"]
        assert set(answer) == {"application/json", "application/xml", "text/xml"}
        assert set(answer["application/json"]["examples"]) == {"success", "failure"}
    assert set(document["webhooks"]) == {"MO_REQ", "RPT_REQ"}


def test_result_codes_are_a_documented_enum():
    branches = build.openapi_document()["components"]["schemas"]["result"]["oneOf"]
    assert [b["const"] for b in branches] == [int(r) for r in Result]
    for branch in branches:
        zh, en = RESULT_TEXTS[Result(branch["const"])]
        assert branch["title"] == Result(branch["const"]).name
        assert zh in branch["description"] and en in branch["description"]


def test_openapi_examples_validate_against_their_components():
    document = build.openapi_document()
    operations = [p["post"] for p in document["paths"].values()]
    operations += [w["post"] for w in document["webhooks"].values()]
    checked = 0
    for operation in operations:
        bodies = [operation["requestBody"], *operation["responses"].values()]
        for media in (m for body in bodies for m in body["content"].values()):
            name = media["schema"]["$ref"].rsplit("/", 1)[-1]
            for example in media.get("examples", {}).values():
                if isinstance(example["value"], dict):
                    assert schemas.errors(name, example["value"]) == []
                else:
                    assert schemas.xml_errors(name, example["value"].encode()) == []
                checked += 1
    xml = sum(e.format == "xml" for e in EXAMPLES)
    assert checked == len(EXAMPLES) + xml  # XML examples: under application/xml and text/xml


# ---------------------------------------------------------------- one rule, one case


def batch(count: int) -> dict[str, Any]:
    mobiles = ",".join(f"138{i:08d}" for i in range(count))
    return {**MD5, "mobile": mobiles, "content": GBK}


def single(**fields: Any) -> dict[str, Any]:
    return {**MD5, "mobile": "13800138000", "content": GBK, **fields}


def multi(count: int) -> dict[str, Any]:
    return {**MD5, "multimt": [{"mobile": "13800138000", "content": GBK}] * count}


def send(result: int, msgid: int, custid: str) -> dict[str, Any]:
    return {"result": result, "msgid": msgid, "custid": custid}


REJECTED = [
    # (message, instance, a word the message names)
    ("batch_send_request", batch(1001), "1 to 1000 mobile numbers"),
    ("single_send_request", single(custid="c" * 65), "65 characters"),
    ("single_send_request", single(custid="order.1"), "custid"),
    ("single_send_request", single(exdata="e" * 65), "exdata"),
    ("single_send_request", single(svrtype="SMS0000001X"), "svrtype"),
    ("single_send_request", single(svrtype="SMS-1"), "svrtype"),
    ("single_send_request", single(exno="1234567"), "exno"),
    ("single_send_request", single(mobile="1380013800"), "mobile"),
    ("single_send_request", single(mobile="13800138000,13800138001"), "mobile"),
    ("single_send_request", single(mobile="+8613800138000"), "mobile"),
    ("single_send_request", single(content="测试短信"), "content"),
    ("single_send_request", single(content="a" * 6001), "content"),
    ("single_send_request", single(content=""), "content"),
    ("single_send_request", {**single(), "content": None}, "content"),
    ("get_balance_request", {"userid": "J10003", "pwd": "p" * 33}, "33 characters"),
    ("get_balance_request", {"userid": "j10003", "pwd": "111111"}, "userid"),
    ("get_balance_request", {"userid": "J100031", "pwd": "111111"}, "userid"),
    ("get_balance_request", {**MD5, "pwd": "111111"}, "pwd"),  # md5 mode wants the digest
    ("get_balance_request", {**MD5, "timestamp": "1303192020"}, "timestamp"),
    ("get_balance_request", {**MD5, "timestamp": "0803192060"}, "timestamp"),
    ("get_balance_request", {**MD5, "timestamp": "803192020"}, "timestamp"),
    ("get_balance_request", {"apikey": "a" * 31}, "apikey"),
    ("get_balance_request", {**MD5, "apikey": "a" * 32}, "apikey alone"),
    ("get_balance_request", {"timestamp": TS}, "userid and pwd"),
    ("get_balance_request", {**MD5, "desc": "x"}, "'desc'"),
    ("get_mo_request", {**MD5, "retsize": "abc"}, "retsize"),
    ("get_mo_request", {**MD5, "retsize": 2**31}, "retsize"),
    ("multi_send_request", multi(101), "101 items"),
    ("multi_send_request", multi(0), "multimt"),
    ("multi_send_request", {**MD5, "multimt": [{"mobile": "13800138000"}]}, "content"),
    ("single_send_response", send(0, 2**63, "c"), "msgid"),
    ("single_send_response", send(0, INT64_MIN - 1, "c"), "msgid"),
    ("single_send_response", send(0, 0, "c"), "msgid is not 0 on success"),
    ("single_send_response", send(0, 5, ""), "custid is given on success"),
    ("single_send_response", send(-100001, 5, ""), "msgid is 0 when result is not 0"),
    ("single_send_response", send(-100001, 0, "c"), 'custid is "" when result is not 0'),
    ("single_send_response", send(-5, 0, ""), "result"),
    ("single_send_response", {**send(0, 5, "c"), "msgid": "5"}, "msgid"),
    ("single_send_response", {**send(-100001, 0, ""), "desc": "auth"}, "'desc'"),
    ("get_mo_response", {"result": 0, "mos": ""}, "mos is an array"),
    ("get_mo_response", {"result": -100999, "mos": []}, 'mos is "" when result is not 0'),
    ("get_mo_response", {"result": 0, "mos": [MO] * 201}, "201 items"),
    ("get_mo_response", {"result": 0, "mos": [{**MO, "content": GBK}]}, "content"),
    ("get_mo_response", {"result": 0, "mos": [{**MO, "msgid": 0}]}, "msgid"),
    ("get_rpt_response", {"result": 0, "rpts": [RPT] * 501}, "501 items"),
    ("get_rpt_response", {"result": -100999, "rpts": [RPT]}, "rpts"),
    ("rpt_item", {k: v for k, v in RPT.items() if k != "pknum"}, "'pknum' is a required"),
    ("rpt_item", {**RPT, "pknum": 0}, "pknum"),
    ("rpt_item", {**RPT, "pktotal": "2"}, "pktotal"),
    ("rpt_item", {**RPT, "msgid": 2**63}, "msgid"),
    ("rpt_item", {**RPT, "stime": "2016-8-4 17:38:55"}, "stime"),
    ("rpt_item", {**RPT, "rtime": "2016-08-04T17:38:59"}, "rtime"),
    ("rpt_item", {**RPT, "status": 1}, "errcode"),  # DELIVRD with a failed status
    ("rpt_item", {**RPT, "errcode": "UNDELIV"}, "errcode"),
    ("rpt_item", {**RPT, "spno": "1" * 21}, "spno"),
    ("mo_item", {k: v for k, v in MO.items() if k != "rtime"}, "'rtime' is a required"),
    ("get_balance_response", {"result": 0, "chargetype": 0, "balance": 1, "money": "0.0"},
     "money"),
    ("get_balance_response", {"result": 0, "chargetype": 0, "balance": 1, "money": 0}, "money"),
    ("get_balance_response", {"result": 0, "chargetype": 0, "balance": 1, "money": "1.000000"},
     "money is 0 when chargetype is 0"),
    ("get_balance_response", {"result": 0, "chargetype": 1, "balance": 1, "money": "1.000000"},
     "balance is 0 when chargetype is 1"),
    ("get_balance_response", {"result": -100999, "chargetype": 1, "balance": 0,
                              "money": "0.000000"}, "chargetype"),
    ("get_balance_response", {"result": 0, "chargetype": 2, "balance": 0, "money": "0.000000"},
     "chargetype"),
    ("push_mo_request", {**MD5, "cmd": "MO_RESP", "seqid": 1, "mos": [MO]}, "cmd"),
    ("push_mo_request", {**MD5, "cmd": "MO_REQ", "seqid": 1, "mos": [MO] * 101}, "101 items"),
    ("push_mo_request", {**MD5, "cmd": "MO_REQ", "seqid": 1, "mos": []}, "mos"),
    ("push_rpt_request", {**MD5, "cmd": "RPT_REQ", "seqid": -1, "rpts": [RPT]}, "seqid"),
    ("push_rpt_request", {**MD5, "cmd": "RPT_REQ", "seqid": 1, "rpts": [RPT] * 501}, "501"),
    ("push_rpt_response", {"cmd": "RPT_RESP", "result": 0}, "'seqid' is a required"),
    ("push_mo_response", {"cmd": "RPT_RESP", "seqid": 1, "result": 0}, "cmd"),
]  # fmt: skip


@pytest.mark.parametrize(
    "message, instance, word", REJECTED, ids=[f"{m}-{i}" for i, (m, _, _) in enumerate(REJECTED)]
)
def test_rule_is_enforced(message: str, instance: dict, word: str):
    assert named(schemas.errors(message, instance), word), schemas.errors(message, instance)


ACCEPTED = [
    ("batch_send_request", batch(1000)),
    ("single_send_request", single(custid="c" * 64, exdata="e" * 64, svrtype="SMS0000001")),
    ("single_send_request", single(svrtype="", exno="", custid="", exdata="")),  # F1
    ("single_send_request", single(mobile="0086" + "13800138000")),
    ("single_send_request", single(mobile="0085256412345")),
    ("single_send_request", single(content="a" * 6000)),
    ("get_balance_request", {"userid": "J10003", "pwd": "p" * 32}),  # plaintext mode
    ("get_balance_request", {"apikey": "abade5589e2798f82f006bbc36d269ce"}),
    ("get_balance_request", {**MD5, "apikey": ""}),
    ("get_mo_request", {**MD5, "retsize": -1}),
    ("multi_send_request", multi(100)),
    ("single_send_response", send(0, INT64_MIN, "c")),
    ("single_send_response", send(0, INT64_MAX, "c")),
    ("get_mo_response", {"result": 0, "mos": []}),
    ("get_mo_response", {"result": 0, "mos": [MO] * 200}),
    ("get_rpt_response", {"result": 0, "rpts": [RPT] * 500}),
    ("rpt_item", {**RPT, "status": 1, "errcode": "UNDELIV", "errdesc": "fail", "custid": ""}),
    ("rpt_item", {**RPT, "mobile": "138xxxxxxxx"}),  # as the client sent it (M5)
    ("get_balance_response", {"result": 0, "chargetype": 1, "balance": 0, "money": "12.500000"}),
]


@pytest.mark.parametrize(
    "message, instance", ACCEPTED, ids=[f"{m}-{i}" for i, (m, _) in enumerate(ACCEPTED)]
)
def test_rule_admits_its_limit(message: str, instance: dict):
    assert schemas.errors(message, instance) == []


XML_REJECTED = [
    ("batch_send", "request", batch(1001), "mobile"),
    ("single_send", "request", single(custid="c" * 65), "custid"),
    ("get_balance", "request", {"userid": "J10003", "pwd": "p" * 33}, "pwd"),
    ("multi_send", "request", multi(101), "mt"),
    ("single_send", "answer", send(0, 2**63, "c"), "msgid"),
    ("single_send", "answer", send(-100001, 7, ""), "msgid is 0 when result is not 0"),
    ("get_rpt", "answer", {"result": 0, "rpts": [{k: v for k, v in RPT.items() if k != "pknum"}]},
     "pknum"),
    ("get_mo", "answer", {"result": -100999, "mos": [MO]}, "mos"),
    ("get_balance", "answer", {"result": 0, "chargetype": 0, "balance": -1, "money": "0.000000"},
     "balance"),
]  # fmt: skip


@pytest.mark.parametrize(
    "endpoint, part, fields, word",
    XML_REJECTED,
    ids=[f"{e}-{p}-{i}" for i, (e, p, _, _) in enumerate(XML_REJECTED)],
)
def test_rule_is_enforced_in_xml_too(endpoint: str, part: str, fields: dict, word: str):
    if part == "request":
        body = encode_request(endpoint, fields, Format.XML)
        problems = schemas.request_errors(endpoint, body, "application/xml")
    else:
        body, content_type = encode_answer(endpoint, fields, Format.XML)
        problems = schemas.answer_errors(endpoint, body, content_type)
    assert named(problems, word), problems


def test_an_answer_is_checked_in_the_format_it_came_in():
    body, content_type = encode_answer("get_mo", answers.mo_answer(0, [MO]), Format.XML)
    assert schemas.answer_errors("get_mo", body, content_type.replace("application", "text")) == []
    assert schemas.answer_errors("get_mo", body, "application/json")[0].startswith("(document)")
    assert named(schemas.answer_errors("get_mo", b"<html/>", "text/html"), "none of JSON")
    with pytest.raises(schemas.SchemaViolation):
        schemas.check_answer("get_mo", b"<morsp><result>0</result></morsp>", "application/xml")


def test_xml_errors_by_root_apply_the_xsd_alone():
    failure_with_msgid = b"<mtrsp><result>-100001</result><msgid>5</msgid><custid/></mtrsp>"
    assert schemas.xml_errors("mtrsp", failure_with_msgid) == []
    assert schemas.xml_errors("single_send_response", failure_with_msgid) != []
    assert named(schemas.xml_errors("mtrsp", b"<mtreq/>"), "<mtrsp> is required")


# ---------------------------------------------------------------- agreement with smsapi


def test_item_fields_and_limits_are_those_of_smsapi():
    assert tuple(schemas.json_schema("rpt_item")["required"]) == REPORT_FIELDS
    assert tuple(schemas.json_schema("mo_item")["required"]) == MO_FIELDS
    multimt = schemas.json_schema("multi_send_request")["properties"]["multimt"]
    assert multimt["maxItems"] == MAX_MULTI_ITEMS
    push_mo = schemas.json_schema("push_mo_request")["properties"]["mos"]
    push_rpt = schemas.json_schema("push_rpt_request")["properties"]["rpts"]
    assert (push_mo["maxItems"], push_rpt["maxItems"]) == (MAX_PUSH_MOS, MAX_PUSH_RPTS)
    for name, endpoint in ENDPOINTS.items():
        if endpoint.list_field:
            then = schemas.json_schema(f"{name}_response")["then"]["properties"]
            assert then[endpoint.list_field]["maxItems"] == endpoint.retsize_cap
    defs = schemas.json_schema("common")["$defs"]
    assert defs["custid"]["maxLength"] == defs["exdata"]["maxLength"] == CUSTOM_MAX
    assert f"{{0,{MAX_BATCH_MOBILES - 1}}}" in defs["mobiles"]["pattern"]


def accepts(defn: str, value: str) -> bool:
    """Whether a single_send request is valid with this value in field defn."""
    return not named(schemas.errors("single_send_request", single(**{defn: value})), defn)


@given(st.text(alphabet="0123456789", max_size=18) | st.from_regex(
    r"\A(1[3-9][0-9]{9}|0086[0-9]{11}|00[0-9]{5,16})\Z"))  # fmt: skip
def test_mobile_rule_agrees_with_smsapi_classify(number: str):
    assert accepts("mobile", number) == classify(number).valid


@given(
    field=st.sampled_from(["mobile", "svrtype", "exno", "custid", "exdata"]),
    value=st.text(alphabet="0123456789Ab_-. 中", max_size=70)
    | st.from_regex(r"\A1[3-9][0-9]{9}\Z"),
)
def test_xsd_and_json_schema_agree_on_field_values(field: str, value: str):
    fields = single(**{field: value})
    by_json = named(schemas.errors("single_send_request", fields), field)
    by_xsd = named(
        schemas.xml_errors("mtreq", encode_request("single_send", fields, Format.XML)), field
    )
    assert by_json == by_xsd


@given(st.text(alphabet="ABCxyz019 -_.中", max_size=12))
def test_svrtype_rule_agrees_with_smsapi_fields(value: str):
    assert accepts("svrtype", value) == (svrtype_rule(value) is None)


@given(st.text(alphabet="Ab9_-. 中", max_size=70))
def test_custid_rule_agrees_with_smsapi_fields(value: str):
    assert accepts("custid", value) == (custom_field_rule(value) is None)


@given(st.text(alphabet="0123456789a ", max_size=8))
def test_exno_rule_agrees_with_smsapi_fields(value: str):
    assert accepts("exno", value) == bool(EXNO_RE.match(value))


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)))
def test_timestamps_smsapi_writes_are_valid(moment: datetime):
    timestamp = format_timestamp(moment.replace(tzinfo=CHINA_TZ))
    assert schemas.errors("get_balance_request", {**MD5, "timestamp": timestamp}) == []


@given(
    result=st.sampled_from(list(Result)),
    msgid=st.integers(INT64_MIN, INT64_MAX).filter(bool),
    custid=st.from_regex(r"\A[A-Za-z0-9_-]{1,64}\Z"),
)
def test_send_answers_smsapi_builds_are_valid(result: Result, msgid: int, custid: str):
    for endpoint in ("single_send", "batch_send", "multi_send"):
        assert (
            schemas.errors(f"{endpoint}_response", answers.send_answer(result, msgid, custid)) == []
        )


@given(
    chargetype=st.sampled_from([0, 1]), count=st.integers(0, 2**40), micros=st.integers(0, 2**50)
)
def test_balance_answers_smsapi_builds_are_valid(chargetype: int, count: int, micros: int):
    answer = answers.balance_answer(0, chargetype, count, micros)
    assert schemas.errors("get_balance_response", answer) == []


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_failure_answer_smsapi_builds_is_valid_in_json_and_xml(endpoint: str):
    for code in (c for c in Result if c != Result.OK):
        answer = answers.failure_answer(endpoint, code)
        assert schemas.errors(f"{endpoint}_response", answer) == []
        body, content_type = encode_answer(endpoint, answer, Format.XML)
        assert schemas.answer_errors(endpoint, body, content_type) == []


def test_pull_and_push_answers_smsapi_builds_are_valid():
    assert schemas.errors("get_mo_response", answers.mo_answer(0, [MO])) == []
    assert schemas.errors("get_rpt_response", answers.rpt_answer(0, [RPT, RPT])) == []
    for kind in PushKind:
        answer = answers.push_answer(kind.answer_cmd, 1003, 0)
        assert schemas.errors(f"push_{kind.value}_response", answer) == []


@pytest.mark.parametrize("kind", list(PushKind))
def test_pushes_smsapi_builds_are_valid(kind: PushKind):
    item = RPT if kind is PushKind.RPT else MO
    fields = push_fields(kind, "J10003", "111111", 1004, [item] * kind.max_items)
    body, content_type = encode_push(fields)
    assert schemas.body_errors(f"push_{kind.value}_request", body, content_type) == []


REQUESTS = {
    "single_send": {"mobile": "13800138000", "content": GBK, "custid": "b3d0", "exdata": ""},
    "batch_send": {"mobile": "13800138000,0085256412345", "content": GBK, "svrtype": "SMS001"},
    "multi_send": {"multimt": [{"mobile": "13800138000", "content": GBK, "exno": "0006"}] * 2},
    "get_mo": {"retsize": 200},
    "get_rpt": {},
    "get_balance": {},
}


@pytest.mark.parametrize("fmt", list(Format))
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_requests_smsapi_encodes_are_valid_in_every_format(endpoint: str, fmt: Format):
    for credentials in (MD5, {"apikey": "abade5589e2798f82f006bbc36d269ce"}):
        body = encode_request(endpoint, {**credentials, **REQUESTS[endpoint]}, fmt)
        assert schemas.request_errors(endpoint, body, fmt.media_type) == []


# ---------------------------------------------------------------- the HTTP tests' check


def answer(url: str, body: bytes, content_type: str) -> requests.Response:
    response = requests.Response()
    response.url, response._content, response.status_code = url, body, 200
    response.headers["Content-Type"] = content_type
    return response


def test_the_http_tests_fail_on_an_answer_that_breaks_its_schema():
    url = "http://127.0.0.1:1/sms/v2/std/single_send"
    good = json.dumps(send(0, 1, "c")).encode()
    check_answer_schema(answer(url, good, "application/json"))
    with pytest.raises(pytest.fail.Exception, match="msgid"):
        check_answer_schema(answer(url, json.dumps(send(0, 0, "c")).encode(), "application/json"))
    check_answer_schema(answer("http://127.0.0.1:1/__admin/health", b"{}", "application/json"))


@given(st.text(max_size=20))
def test_mo_content_rule_accepts_urlencoded_utf_8_only(text: str):
    """§2.4.6 urlencode（UTF-8明文）: what smsapi encodes passes; GBK bytes (the §2.7.5
    push example, C11) do not."""
    assert schemas.errors("mo_item", {**MO, "content": encode_mo_content(text)}) == []
    assert named(schemas.errors("mo_item", {**MO, "content": GBK}), "UTF-8")
