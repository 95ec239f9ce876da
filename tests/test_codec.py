"""smsapi.codec: the three request formats of §1 and the answers (§2.x.8)."""

from __future__ import annotations

import json
import string
import xml.etree.ElementTree as ET
from urllib.parse import quote

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from smsapi.codec import (
    Format,
    answer_format,
    charset_of,
    encode_answer,
    encode_request,
    json_body,
    media_type_of,
    parse_answer,
    parse_request,
    request_format,
)
from smsapi.content import decode_mt_content, encode_mt_content
from smsapi.errors import CodecError

PWD = "26dad7f364507df18f3841cc9c4ff94d"
TEST_SMS_GBK = "%b2%e2%ca%d4%b6%cc%d0%c5"  # 测试短信

# ---------------------------------------------------------------- the document's bodies
# Copied verbatim from attachment 6, line breaks included.

# §2.1.7 single_send, JSON (wrapped after "mobile": and inside the custid value)
SINGLE_JSON = (
    b'{"userid":"J10003","pwd":"26dad7f364507df18f3841cc9c4ff94d","mobile":\n'
    b'"138xxxxxxxx","content":"%b2%e2%ca%d4%b6%cc%d0%c5","timestamp":"0803192020",'
    b'"svrtype":" SMS001","exno":"0006","custid":"b3d0a2783d31b21b85\n'
    b'73","exdata":"exdata000002"}'
)

# §2.1.7 single_send, XML (unquoted prolog, trailing space in <pwd>)
SINGLE_XML = (
    b"<?xml version=1.0 encoding=utf-8?>\n"
    b"<mtreq>\n"
    b"\t<userid>J10003</userid>\n"
    b"<pwd>26dad7f364507df18f3841cc9c4ff94d </pwd>\n"
    b"<mobile>138xxxxxxxx</mobile>\n"
    b"<content>%b2%e2%ca%d4%b6%cc%d0%c5</content>\n"
    b"<timestamp>0803192020</timestamp>\n"
    b"<svrtype>SMS001</svrtype>\n"
    b"<exno>0006</exno>\n"
    b"<custid>b3d0a2783d31b21b8573</custid>\n"
    b"<exdata>exdata000002</exdata>\n"
    b"</mtreq>"
)

# §2.1.7 single_send, urlencode (wrapped before each &)
SINGLE_FORM = (
    b"userid=J10003&pwd=26dad7f364507df18f3841cc9c4ff94d&mobile=138xxxxxxxx\n"
    b"&content=%b2%e2%ca%d4%b6%cc%d0%c5&timestamp=0803192020&svrtype=SMS001\n"
    b"&exno=0006&custid=b3d0a2783d31b21b8573&exdata=exdata000002"
)

# §2.4.7 get_mo, urlencode (timestamp=08031920⏎20)
GET_MO_FORM = (
    b"userid=J10003&pwd=26dad7f364507df18f3841cc9c4ff94d&timestamp=08031920\n20&retsize=200"
)

# §2.3.7 multi_send, urlencode: multimt as raw JSON, wrapped inside %-escapes
MULTI_FORM = (
    b"userid=J10003&pwd=26dad7f364507df18f3841cc9c4ff94d&timestamp=08031920\n"
    b'20&multimt=[{"mobile":"138xxxxxxxx","content":"%b2%e2%ca%d4%b6%cc%d0\n'
    b'%c5","svrtype":"SMS001","exno":"0006","custid":"b3d0a2783d31b21b8573",'
    b'"exdata":"exdata000001"},{"mobile":"131xxxxxxxx","content":"%b2%e\n'
    b'2%ca%d4%b6%cc%d0%c5","svrtype":"SMS002","exno":"0007",'
    b'"custid":"b3d0a2783d31b21b8573","exdata":"exdata000002"}]'
)

# §2.3.7 multi_send, JSON (wrapped inside the key "timestamp")
MULTI_JSON = (
    b'{"userid":"J10003","pwd":"26dad7f364507df18f3841cc9c4ff94d","timestam\n'
    b'p":"0803192020","multimt":[{"mobile":"138xxxxxxxx","content":"%b2%e2%ca%d4%b6%cc%d0%c5",'
    b'"svrtype":"SMS001","exno":"0006","custid":"b3d0a2783d31b21b8573","exdata":"exdata000001"},'
    b'{"mobile":"131xxxxxxxx","content":"%b2%e2%ca%d4%b6%cc%d0%c5","svrtype":"SMS002",'
    b'"exno":"0007","custid":"b3d0a2783d31b21b8573","exdata":"exdata000002"}]}'
)

# §2.3.7 multi_send, XML
MULTI_XML = (
    b"<?xml version=1.0 encoding=utf-8?>\n"
    b"<mtreq>\n"
    b"\t<userid>J10003</userid>\n"
    b"<pwd>26dad7f364507df18f3841cc9c4ff94d </pwd>\n"
    b"<timestamp>0803192020</timestamp>\n"
    b"<multimt>\n"
    b"  <mt>\n"
    b" <mobile>138xxxxxxxx</mobile>\n"
    b" <content>%b2%e2%ca%d4%b6%cc%d0%c5</content>\n"
    b"<svrtype>SMS001</svrtype>\n"
    b" <exno>0006</exno>\n"
    b" <custid>b3d0a2783d31b21b8573</custid>\n"
    b" <exdata>exdata000002</exdata>\n"
    b"</mt>\n"
    b"<mt>\n"
    b" <mobile>131xxxxxxxx</mobile>\n"
    b" <content>%b2%e2%ca%d4%b6%cc%d0%c5</content>\n"
    b"<svrtype>SMS002</svrtype>\n"
    b" <exno>0007</exno>\n"
    b" <custid>b3d0a2783d31b21b8573</custid>\n"
    b" <exdata>exdata000002</exdata>\n"
    b"</mt>\n"
    b"</multimt>\n"
    b"</mtreq>"
)

# §2.5.9 get_rpt failure, XML
RPT_FAILURE_XML = (
    b"<?xml version=1.0 encoding=utf-8?>\n<rptrsp>\n<result>-100999</result>\n"
    b"<rpts></rpts>\n</rptrsp>"
)

MULTI_ITEMS = [
    {
        "mobile": "138xxxxxxxx",
        "content": TEST_SMS_GBK,
        "svrtype": "SMS001",
        "exno": "0006",
        "custid": "b3d0a2783d31b21b8573",
        "exdata": "exdata000001",
    },
    {
        "mobile": "131xxxxxxxx",
        "content": TEST_SMS_GBK,
        "svrtype": "SMS002",
        "exno": "0007",
        "custid": "b3d0a2783d31b21b8573",
        "exdata": "exdata000002",
    },
]


# ---------------------------------------------------------------- request_format (§2.1.4)


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json", Format.JSON),
        ("application/json; charset=utf-8", Format.JSON),
        ("Application/JSON;charset=UTF-8", Format.JSON),
        ("application/xml", Format.XML),
        ("application/xml; charset=GBK", Format.XML),
        ("text/xml", Format.XML),
        ("text/xml;charset=utf-8", Format.XML),
        ("application/x-www-form-urlencoded", Format.FORM),
        ("application/x-www-form-urlencoded; charset=GBK", Format.FORM),
    ],
)
def test_request_format_follows_content_type(content_type: str, expected: Format):
    """§2.1.4 用Content-type识别请求包报文的格式; parameters do not matter (C2)."""
    assert request_format(content_type, b"") is expected


def test_content_type_wins_over_the_body():
    assert request_format("application/x-www-form-urlencoded", b"{}") is Format.FORM
    assert request_format("application/json", b"<mtreq/>") is Format.JSON


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"userid":"J10003"}', Format.JSON),
        (b"[]", Format.JSON),
        (b"\xef\xbb\xbf {}", Format.JSON),
        (b"\r\n  <mtreq/>", Format.XML),
        (b"<?xml version=1.0 encoding=utf-8?><mtreq/>", Format.XML),
        (b"userid=J10003&pwd=x", Format.FORM),
        (b"", Format.FORM),
    ],
)
@pytest.mark.parametrize("content_type", [None, "", "text/plain", "application/octet-stream"])
def test_unknown_content_type_is_sniffed_from_the_body(
    content_type: str | None, body: bytes, expected: Format
):
    """C2: a missing or foreign Content-Type: { or [ is JSON, < is XML, else form."""
    assert request_format(content_type, body) is expected


def test_media_type_drops_parameters_and_case():
    assert media_type_of(" Application/XML ; charset=utf-8") == "application/xml"
    assert media_type_of(None) == ""


def test_format_media_types():
    assert Format.JSON.media_type == "application/json"
    assert Format.XML.media_type == "application/xml"
    assert Format.FORM.media_type == "application/x-www-form-urlencoded"


def test_json_and_form_requests_are_answered_in_json():
    """§2.1.8 urlencode与JSON请求都以JSON返回数据."""
    assert answer_format(Format.JSON) is Format.JSON
    assert answer_format(Format.FORM) is Format.JSON


def test_xml_requests_are_answered_in_xml():
    """C3: XML answers for XML requests."""
    assert answer_format(Format.XML) is Format.XML


# ---------------------------------------------------------------- the document's examples


def test_single_send_json_example_verbatim():
    """§2.1.7 JSON example, as printed: wrapped inside the custid value."""
    fields = parse_request(SINGLE_JSON, Format.JSON)
    assert fields["custid"] == "b3d0a2783d31b21b8573"


def test_multi_send_json_example_verbatim():
    """§2.3.7 JSON example, as printed: wrapped inside the key "timestamp"."""
    fields = parse_request(MULTI_JSON, Format.JSON)
    assert fields["timestamp"] == "0803192020"


def test_single_send_json_example_with_wraps_joined():
    """§2.1.7 JSON example; the wrap between tokens is plain JSON whitespace."""
    body = SINGLE_JSON.replace(b"85\n73", b"8573")
    fields = parse_request(body, Format.JSON)
    assert fields == {
        "userid": "J10003",
        "pwd": PWD,
        "mobile": "138xxxxxxxx",
        "content": TEST_SMS_GBK,
        "timestamp": "0803192020",
        "svrtype": " SMS001",  # the document's leading space, kept for the field rules
        "exno": "0006",
        "custid": "b3d0a2783d31b21b8573",
        "exdata": "exdata000002",
    }


def test_multi_send_json_example_with_wraps_joined():
    fields = parse_request(MULTI_JSON.replace(b"timestam\np", b"timestamp"), Format.JSON)
    assert fields["timestamp"] == "0803192020"
    assert fields["multimt"] == MULTI_ITEMS


def test_single_send_xml_example_verbatim():
    """§2.1.7 XML example: unquoted prolog (C1) and <pwd>…94d </pwd> (C8)."""
    fields = parse_request(SINGLE_XML, Format.XML)
    assert fields == {
        "userid": "J10003",
        "pwd": PWD + " ",
        "mobile": "138xxxxxxxx",
        "content": TEST_SMS_GBK,
        "timestamp": "0803192020",
        "svrtype": "SMS001",
        "exno": "0006",
        "custid": "b3d0a2783d31b21b8573",
        "exdata": "exdata000002",
    }


def test_single_send_form_example_verbatim():
    """§2.1.7 urlencode example, wrapped before &."""
    fields = parse_request(SINGLE_FORM, Format.FORM)
    content = fields.pop("content")
    assert fields == {
        "userid": "J10003",
        "pwd": PWD,
        "mobile": "138xxxxxxxx",
        "timestamp": "0803192020",
        "svrtype": "SMS001",
        "exno": "0006",
        "custid": "b3d0a2783d31b21b8573",
        "exdata": "exdata000002",
    }
    assert content.lower() == TEST_SMS_GBK
    assert decode_mt_content(content).text == "测试短信"


def test_form_line_break_inside_a_value_is_dropped():
    """§2.4.7 timestamp=08031920⏎20 (C4)."""
    fields = parse_request(GET_MO_FORM, Format.FORM)
    assert fields == {"userid": "J10003", "pwd": PWD, "timestamp": "0803192020", "retsize": "200"}


def test_multi_send_form_example_verbatim():
    """§2.3.7: multimt is raw JSON, not urlencoded, with %b2 GBK escapes inside (C5)."""
    fields = parse_request(MULTI_FORM, Format.FORM)
    assert fields["userid"] == "J10003"
    assert fields["timestamp"] == "0803192020"
    assert fields["multimt"] == MULTI_ITEMS
    assert decode_mt_content(fields["multimt"][1]["content"]).text == "测试短信"


def test_multi_send_xml_example_verbatim():
    """§2.3.7 XML: multimt/mt children become a list of dicts."""
    fields = parse_request(MULTI_XML, Format.XML)
    assert fields["pwd"] == PWD + " "
    assert fields["timestamp"] == "0803192020"
    items = fields["multimt"]
    assert [item["mobile"] for item in items] == ["138xxxxxxxx", "131xxxxxxxx"]
    assert [item["svrtype"] for item in items] == ["SMS001", "SMS002"]
    assert all(item["content"] == TEST_SMS_GBK for item in items)
    assert set(items[0]) == {"mobile", "content", "svrtype", "exno", "custid", "exdata"}


# ---------------------------------------------------------------- reading, other rules


def test_form_content_encoded_twice_is_read_as_once():
    """C6: content=%25b2%25e2… (double encoding) gives the same urlencoded text."""
    body = b"userid=J10003&content=" + TEST_SMS_GBK.replace("%", "%25").encode()
    assert parse_request(body, Format.FORM)["content"] == TEST_SMS_GBK


def test_form_plus_is_a_space_outside_content():
    assert parse_request(b"svrtype=a+b&exdata=c%2Bd", Format.FORM) == {
        "svrtype": "a b",
        "exdata": "c+d",
    }


def test_form_multimt_urlencoded_is_read():
    encoded = json.dumps(MULTI_ITEMS, separators=(",", ":"))
    body = f"userid=J10003&multimt={quote(encoded, safe='')}".encode()
    assert parse_request(body, Format.FORM)["multimt"] == MULTI_ITEMS


def test_json_numbers_stay_numbers():
    fields = parse_request(b'{"mobile":13800138000,"retsize":200}', Format.JSON)
    assert fields == {"mobile": 13800138000, "retsize": 200}


def test_json_multimt_as_a_string_is_read_as_a_list():
    body = json.dumps({"multimt": json.dumps(MULTI_ITEMS)}).encode()
    assert parse_request(body, Format.JSON)["multimt"] == MULTI_ITEMS


def test_json_with_bom_is_read():
    assert parse_request(b'\xef\xbb\xbf{"userid":"J10003"}', Format.JSON) == {"userid": "J10003"}


@pytest.mark.parametrize("body", [b"{", b"[1, 2]", b'"text"', b"\xff\xfe{}", b""])
def test_unreadable_or_non_object_json_raises_codec_error(body: bytes):
    with pytest.raises(CodecError):
        parse_request(body, Format.JSON)


@pytest.mark.parametrize("body", [b"<mtreq>", b"not xml", b"", b"<a></b>"])
def test_unreadable_xml_raises_codec_error(body: bytes):
    with pytest.raises(CodecError):
        parse_request(body, Format.XML)


def test_xml_declared_gbk_is_read():
    body = (
        '<?xml version="1.0" encoding="GBK"?><mtreq><userid>J10003</userid>'
        "<svrtype>测试</svrtype></mtreq>"
    ).encode("gbk")
    assert parse_request(body, Format.XML) == {"userid": "J10003", "svrtype": "测试"}


def test_xml_declared_gbk_with_unquoted_prolog_is_read():
    body = "<?xml version=1.0 encoding=gbk?><mtreq><exdata>短信</exdata></mtreq>".encode("gbk")
    assert parse_request(body, Format.XML) == {"exdata": "短信"}


def test_xml_with_an_unknown_declared_encoding_raises_codec_error():
    body = b'<?xml version="1.0" encoding="no-such-charset"?><mtreq/>'
    with pytest.raises(CodecError):
        parse_request(body, Format.XML)


def test_xml_with_bytes_invalid_in_the_declared_encoding_raises_codec_error():
    body = b'<?xml version="1.0" encoding="UTF-8"?><mtreq><userid>\xff</userid></mtreq>'
    with pytest.raises(CodecError):
        parse_request(body, Format.XML)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<mtreq><userid>&lol9;</userid></mtreq>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE mtreq [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<mtreq><userid>&xxe;</userid></mtreq>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE mtreq [<!ENTITY % ext SYSTEM "http://127.0.0.1:9/evil.dtd"> %ext;]>
<mtreq><userid>J10003</userid></mtreq>"""


@pytest.mark.parametrize(
    "body",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, PARAMETER_ENTITY],
    ids=["billion-laughs", "external-entity", "parameter-entity"],
)
def test_xml_entities_are_refused_not_expanded(body: bytes):
    """C14: DTD entities are refused outright (defusedxml)."""
    with pytest.raises(CodecError):
        parse_request(body, Format.XML)


def test_billion_laughs_with_the_documents_prolog_is_refused():
    body = BILLION_LAUGHS.replace(b'<?xml version="1.0"?>', b"<?xml version=1.0 encoding=utf-8?>")
    with pytest.raises(CodecError):
        parse_request(body, Format.XML)


# ---------------------------------------------------------------- round trips

ASCII = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
SCALAR_NAMES = [
    "userid",
    "pwd",
    "apikey",
    "mobile",
    "timestamp",
    "svrtype",
    "exno",
    "custid",
    "exdata",
    "retsize",
]
ITEM_NAMES = ["mobile", "content", "svrtype", "exno", "custid", "exdata"]
ITEM = st.dictionaries(
    st.sampled_from(ITEM_NAMES),
    st.text(alphabet=string.ascii_letters + string.digits + "%_-", max_size=30),
)


@given(fields=st.dictionaries(st.sampled_from(SCALAR_NAMES), ASCII))
@pytest.mark.parametrize("fmt", list(Format))
def test_scalar_fields_round_trip(fmt: Format, fields: dict[str, str]):
    body = encode_request("single_send", fields, fmt)
    assert parse_request(body, fmt) == fields


@given(
    fields=st.dictionaries(st.sampled_from(SCALAR_NAMES), ASCII),
    multimt=st.lists(ITEM, min_size=1, max_size=5),
)
@pytest.mark.parametrize("fmt", list(Format))
def test_multimt_round_trips(fmt: Format, fields: dict[str, str], multimt: list[dict]):
    sent = {**fields, "multimt": multimt}
    body = encode_request("multi_send", sent, fmt)
    assert parse_request(body, fmt) == sent


@given(st.sampled_from(["单", "测试短信", "验证码：6666，打死都不要告诉别人哦！", "abc 123"]))
def test_form_content_round_trips_through_gbk(text: str):
    body = encode_request("single_send", {"content": encode_mt_content(text)}, Format.FORM)
    assert decode_mt_content(parse_request(body, Format.FORM)["content"]).text == text


def test_xml_request_root_is_the_endpoints():
    assert ET.fromstring(encode_request("get_rpt", {"retsize": 5}, Format.XML)).tag == "rptreq"
    assert ET.fromstring(encode_request("get_mo", {}, Format.XML)).tag == "moreq"
    assert ET.fromstring(encode_request("get_balance", {}, Format.XML)).tag == "feereq"
    root = ET.fromstring(encode_request("multi_send", {"multimt": MULTI_ITEMS}, Format.XML))
    assert root.tag == "mtreq"
    assert [child.tag for child in root.find("multimt")] == ["mt", "mt"]


def test_form_request_carries_content_as_is():
    """§2.1.7: content is already urlencoded GBK and is not encoded again."""
    body = encode_request("single_send", {"content": TEST_SMS_GBK, "mobile": "1"}, Format.FORM)
    assert body == f"content={TEST_SMS_GBK}&mobile=1".encode()


# ---------------------------------------------------------------- answers


def test_xml_answer_is_well_formed_with_a_quoted_prolog():
    body, content_type = encode_answer(
        "single_send", {"result": 0, "msgid": -5, "custid": "a&b<c"}, Format.XML
    )
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(body)
    assert root.tag == "mtrsp"
    assert [(c.tag, c.text) for c in root] == [
        ("result", "0"),
        ("msgid", "-5"),
        ("custid", "a&b<c"),
    ]
    assert media_type_of(content_type) == "application/xml"


def test_xml_answer_mirrors_text_xml_when_asked():
    _, content_type = encode_answer("get_balance", {"result": 0}, Format.XML, "text/xml")
    assert media_type_of(content_type) == "text/xml"


def test_xml_answer_lists_become_item_elements():
    body, _ = encode_answer(
        "get_rpt", {"result": 0, "rpts": [{"msgid": 1, "pknum": 1}, {"msgid": 2}]}, Format.XML
    )
    root = ET.fromstring(body)
    assert root.tag == "rptrsp"
    assert [item.tag for item in root.find("rpts")] == ["rpt", "rpt"]
    mo_body, _ = encode_answer("get_mo", {"result": 0, "mos": [{"msgid": 1}]}, Format.XML)
    assert [item.tag for item in ET.fromstring(mo_body).find("mos")] == ["mo"]


def test_xml_answer_empty_list_is_an_empty_element():
    body, _ = encode_answer("get_rpt", {"result": 0, "rpts": []}, Format.XML)
    rpts = ET.fromstring(body).find("rpts")
    assert rpts is not None
    assert len(rpts) == 0
    assert not rpts.text


def test_json_answer_has_msgid_as_a_json_number():
    """§2.1.6 msgid is a long, not a string (M1)."""
    msgid = -(2**63)
    body, content_type = encode_answer(
        "single_send", {"result": 0, "msgid": msgid, "custid": "x"}, Format.JSON
    )
    assert media_type_of(content_type) == "application/json"
    assert f'"msgid":{msgid}'.encode() in body
    value = json.loads(body)
    assert value["msgid"] == msgid
    assert isinstance(value["msgid"], int)


@pytest.mark.parametrize("fmt", [Format.JSON, Format.FORM])
def test_non_xml_format_answers_in_json(fmt: Format):
    body, content_type = encode_answer(
        "get_balance", {"result": 0, "money": "0.000000"}, answer_format(fmt)
    )
    assert media_type_of(content_type) == "application/json"
    assert json.loads(body) == {"result": 0, "money": "0.000000"}


def test_json_answer_keeps_chinese_readable():
    body, _ = encode_answer("single_send", {"desc": "成功"}, Format.JSON)
    assert "成功".encode() in body


def test_parse_answer_types_integers_from_xml():
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?><mtrsp><result>0</result>'
        b"<msgid>-9223372036854775808</msgid><custid>007</custid></mtrsp>"
    )
    assert parse_answer(body, "application/xml") == {
        "result": 0,
        "msgid": -(2**63),
        "custid": "007",
    }


def test_parse_answer_types_integers_inside_report_items():
    body, content_type = encode_answer(
        "get_rpt",
        {
            "result": 0,
            "rpts": [
                {
                    "msgid": 9,
                    "pknum": 1,
                    "pktotal": 2,
                    "status": 0,
                    "mobile": "13800138000",
                    "errcode": "DELIVRD",
                }
            ],
        },
        Format.XML,
    )
    answer = parse_answer(body, content_type)
    assert answer["rpts"] == [
        {
            "msgid": 9,
            "pknum": 1,
            "pktotal": 2,
            "status": 0,
            "mobile": "13800138000",
            "errcode": "DELIVRD",
        }
    ]


def test_parse_answer_reads_the_documents_xml_answer():
    """§2.1.8 XML example, unquoted prolog and all."""
    body = (
        b"<?xml version=1.0 encoding=utf-8?>\n<mtrsp>\n    <result>0</result>\n"
        b"<msgid>9223372036854775808</msgid>\n<custid>b3d0a2783d31b21b8573</custid>\n</mtrsp>"
    )
    assert parse_answer(body, "application/xml") == {
        "result": 0,
        "msgid": 9223372036854775808,
        "custid": "b3d0a2783d31b21b8573",
    }


def test_empty_rpts_of_a_success_is_an_empty_list():
    body = b'<?xml version="1.0" encoding="UTF-8"?><rptrsp><result>0</result><rpts></rpts></rptrsp>'
    assert parse_answer(body, "text/xml") == {"result": 0, "rpts": []}


def test_empty_mos_of_a_success_is_an_empty_list():
    body = b"<morsp><result>0</result><mos/></morsp>"
    assert parse_answer(body, "application/xml") == {"result": 0, "mos": []}


def test_empty_rpts_of_a_failure_stays_an_empty_string():
    """§2.5.9 failure: rpts is ""."""
    assert parse_answer(RPT_FAILURE_XML, "application/xml") == {"result": -100999, "rpts": ""}


def test_parse_answer_reads_json():
    body = b'{"result":-100001,"msgid":0,"custid":""}'
    assert parse_answer(body, "application/json") == {"result": -100001, "msgid": 0, "custid": ""}


def test_parse_answer_sniffs_without_content_type():
    assert parse_answer(b'{"result":0}', None) == {"result": 0}
    assert parse_answer(b"<feersp><result>0</result></feersp>", None) == {"result": 0}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"result":0,"custid":b3d0a2783d31b21b8573}', "application/json"),  # §2.3.8 (C9)
        (b"result=0", "application/x-www-form-urlencoded"),
        (b"[0]", "application/json"),
        (b"<mtrsp>", "application/xml"),
    ],
)
def test_unreadable_answers_raise_codec_error(body: bytes, content_type: str):
    with pytest.raises(CodecError):
        parse_answer(body, content_type)


@given(
    integers=st.dictionaries(
        st.sampled_from(["result", "msgid", "balance", "chargetype"]),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
    ),
    texts=st.dictionaries(st.sampled_from(["custid", "money"]), ASCII),
)
@pytest.mark.parametrize("fmt", [Format.JSON, Format.XML])
def test_answers_round_trip_in_both_formats(fmt: Format, integers: dict, texts: dict):
    """encode_answer then parse_answer gives the answer back, integers as integers
    (XML text is typed back for the integer fields of the tables)."""
    answer = {**integers, **texts}
    body, content_type = encode_answer("single_send", answer, fmt)
    assert parse_answer(body, content_type) == answer


def test_strict_xml_problem_flags_the_documents_unquoted_prolog_only() -> None:
    from smsapi.codec import strict_xml_problem

    assert strict_xml_problem(b"<?xml version=1.0 encoding=utf-8?><mtrsp/>")
    assert strict_xml_problem(b'<?xml version="1.0" encoding="UTF-8"?><mtrsp/>') is None
    assert strict_xml_problem(b"<mtrsp>") is not None


# ---------------------------------------------------------------- W1 / W2 clients in the wild

GBK_JSON = '{"userid":"J10003","content":"测试短信"}'.encode("gbk")


def test_json_body_without_charset_falls_back_to_gb18030_and_notes_it():
    notes: list[str] = []
    assert parse_request(GBK_JSON, Format.JSON, "", notes)["content"] == "测试短信"
    assert notes and "not UTF-8" in notes[0]


def test_json_body_charset_parameter_is_honoured():
    notes: list[str] = []
    assert parse_request(GBK_JSON, Format.JSON, "gbk", notes)["content"] == "测试短信"
    assert "charset gbk" in notes[0]


def test_utf8_json_body_has_no_note():
    notes: list[str] = []
    parse_request('{"content":"测试"}'.encode(), Format.JSON, "", notes)
    assert notes == []


def test_json_body_not_in_its_declared_charset_is_unreadable():
    with pytest.raises(CodecError):
        parse_request(GBK_JSON, Format.JSON, "utf-8")


@pytest.mark.parametrize("charset", ["no-such-charset", "punycode", "rot13", "zlib"])
def test_an_unknown_or_non_text_charset_is_ignored_with_a_note(charset):
    notes: list[str] = []
    assert parse_request(GBK_JSON, Format.JSON, charset, notes)["content"] == "测试短信"
    assert "unknown" in notes[0]


def test_charset_of_reads_the_parameter():
    assert charset_of('application/json; charset="GBK"') == "gbk"
    assert charset_of("application/json") == ""


def test_raw_gbk_content_in_a_form_multimt_takes_the_byte_exact_path():
    raw = b'multimt=[{"mobile":"13800138000","content":"' + "测试".encode("gbk") + b'"}]'
    (item,) = parse_request(raw, Format.FORM)["multimt"]
    assert decode_mt_content(item["content"]).text == "测试"
    encoded = b"multimt=" + quote(raw[len(b"multimt=") :], safe="").encode()
    (item,) = parse_request(encoded, Format.FORM)["multimt"]
    assert decode_mt_content(item["content"]).text == "测试"


def test_escaped_text_in_a_form_multimt_stays_text():
    body = b'multimt=[{"mobile":"13800138000","content":"\\u6d4b\\u8bd5"}]'
    assert parse_request(body, Format.FORM)["multimt"][0]["content"] == "测试"


_ANSWER_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(_ANSWER_VALUES)
@example({"msgid": 2**64, "n": -(2**63) - 1})  # beyond what orjson writes
@example({1: "a key that is not a string"})
@example('\x00\x1f\x7f\u2028 / \\ "')
def test_json_body_writes_what_the_json_module_writes(value):
    """orjson's fast path changes no byte of an answer (strings, integers of any size,
    lists, objects); what neither can encode (a lone surrogate) fails in both."""
    try:
        expected = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            json_body(value)
        return
    assert json_body(value) == expected
