"""Hostile input (issue 8): every endpoint and format, thousands of generated requests.

Rules: never a 5xx, never a hang, always an answer in the document's shape (§2.x.6 /
§2.x.9) with the right code: a request without valid credentials gets -100001, one with
valid credentials never gets -100001 or -100999 (-100999 means the mock broke), a
failure keeps the success shape with empty values, a body over the limit is refused
in the same shape. Most cases run in-process on the Flask app; a smaller set over HTTP.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
import pytest
import requests
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockcarrier import Settings, create_app
from mockcarrier.config import AccountConfig
from smsapi.answers import failure_answer
from smsapi.auth import china_now, digest, format_timestamp
from smsapi.codec import Format, parse_answer, request_format
from smsapi.endpoints import ENDPOINTS, MO_FIELDS, REPORT_FIELDS, SEND_ENDPOINTS
from smsapi.errors import Result
from smsapi.msgid import in_int64

from .conftest import Served, module_server

USER, PASSWORD, APIKEY = "FUZZ01", "fuzz-pass", "0123456789abcdef0123456789abcdef"
NAMES = sorted(ENDPOINTS)
MEDIA = [
    "application/json",
    "application/json; charset=gbk",
    "application/xml",
    "text/xml; charset=utf-8",
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=gbk",
    "text/plain",
    "multipart/form-data; boundary=x",
    "",
]
MEDIA_OF = {
    Format.JSON: "application/json",
    Format.XML: "application/xml",
    Format.FORM: "application/x-www-form-urlencoded",
}
# What a request with valid credentials may be answered (§4 codes of its field rules).
SEND_CODES = {
    Result.OK,
    Result.ARREARS,
    Result.CUSTOM_FIELD_INVALID,
    Result.CONTENT_TOO_LONG,
    Result.MOBILE_INVALID,
    Result.TOO_MANY_MOBILES,
    Result.SVRTYPE_INVALID,
    Result.CUSTOM_PARAM_TOO_LONG,
}
VALID_AUTH_CODES = {name: SEND_CODES for name in SEND_ENDPOINTS} | {
    "get_mo": {Result.OK},
    "get_rpt": {Result.OK},
    "get_balance": {Result.OK},
}
MONEY_RE = re.compile(r"-?\d+\.\d{6}")
FAST = settings(
    max_examples=400,
    deadline=timedelta(seconds=5),  # a hang fails the case instead of the run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ---------------------------------------------------------------- the oracle


def check_answer(endpoint: str, status: int, content_type: str, data: bytes, fmt: Format) -> dict:
    """The answer is in the document's shape for its endpoint and format; returns it."""
    assert status in (200, 413), f"HTTP {status}: {data[:200]!r}"
    xml = fmt is Format.XML
    assert content_type.split(";")[0] in (
        ("application/xml", "text/xml") if xml else ("application/json",)
    )
    answer = parse_answer(data, content_type)
    shape = failure_answer(endpoint, Result.INTERNAL_ERROR)
    assert list(answer) == list(shape), answer
    result = answer["result"]
    assert result in set(Result), answer
    if result != Result.OK:
        assert answer == failure_answer(endpoint, result)
        return answer
    if endpoint in SEND_ENDPOINTS:
        assert isinstance(answer["msgid"], int) and answer["msgid"] != 0
        assert in_int64(answer["msgid"])
        assert isinstance(answer["custid"], str) and answer["custid"]
    elif endpoint == "get_balance":
        assert answer["chargetype"] in (0, 1)
        assert isinstance(answer["balance"], int)
        assert MONEY_RE.fullmatch(answer["money"])
    else:
        items = answer["mos" if endpoint == "get_mo" else "rpts"]
        assert isinstance(items, list)
        for item in items:
            assert list(item) == list(MO_FIELDS if endpoint == "get_mo" else REPORT_FIELDS)
    return answer


# ---------------------------------------------------------------- bodies


def credentials(mode: str = "md5") -> dict[str, str]:
    if mode == "apikey":
        return {"apikey": APIKEY}
    if mode == "plain":
        return {"userid": USER, "pwd": PASSWORD}
    timestamp = format_timestamp(china_now())
    return {"userid": USER, "pwd": digest(USER, PASSWORD, timestamp), "timestamp": timestamp}


def xml_value(value: Any) -> str:
    if isinstance(value, list):
        return "".join(f"<mt>{xml_value(v)}</mt>" for v in value)
    if isinstance(value, dict):
        return "".join(f"<{k}>{xml_value(v)}</{k}>" for k, v in value.items())
    return escape("" if value is None else str(value))


def encode(endpoint: str, fields: list[tuple[str, Any]], fmt: Format) -> bytes:
    """A body carrying the fields in order (repeated names stay repeated)."""
    if fmt is Format.JSON:
        pairs = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in fields)
        return ("{" + pairs + "}").encode("utf-8")
    if fmt is Format.XML:
        root = ENDPOINTS[endpoint].request_root
        inner = "".join(f"<{k}>{xml_value(v)}</{k}>" for k, v in fields)
        xml = f'<?xml version="1.0" encoding="UTF-8"?><{root}>{inner}</{root}>'
        return xml.encode("utf-8", "surrogatepass")
    parts = []
    for name, value in fields:
        if isinstance(value, (list, dict)):
            value = json.dumps(value, ensure_ascii=False)
        text = "" if value is None else str(value)
        # content goes in as given (already urlencoded, or hostile); the rest encoded
        parts.append(
            f"{name}={text if name == 'content' else quote(text, safe='', errors='surrogatepass')}"
        )
    return "&".join(parts).encode("utf-8", "surrogatepass")


def unreadable(fmt: Format, body: bytes, fields: list[tuple[str, Any]]) -> set[Result]:
    """{-100001} when the hostile values broke the body itself: XML that is not
    well-formed (control characters, odd tag names), or a raw form content carrying '&'
    that starts other fields; else nothing."""
    if fmt is Format.XML:
        try:
            SafeET.fromstring(body)
        except SafeET.ParseError:
            return {Result.AUTH_FAILED}
    if fmt is Format.FORM and any(k == "content" and "&" in str(v) for k, v in fields):
        return {Result.AUTH_FAILED}
    return set()


# ---------------------------------------------------------------- strategies

# Any code point, lone surrogates and control characters included.
NASTY = ["\ud800", "1\udfff3", "\x00", "\x01\x1f", "\ufffe", "\u2028", "<&>", "]]>", "\\u0000"]
texts = st.one_of(
    st.text(st.characters(exclude_categories=[]), max_size=40),
    st.lists(st.sampled_from(NASTY), min_size=1, max_size=3).map("".join),
)
scalars = st.one_of(
    texts,
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)
hostile = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
percent_junk = st.lists(
    st.sampled_from(
        [
            "%",
            "%z",
            "%zz",
            "%e4",
            "%e4%b8",
            "%ff%fe",
            "%80",
            "%c0%af",
            "%00",
            "+",
            "%b2%e2",
            "%25",
            "a",
            "中",
            "%%",
            "%G1",
            "%d1%e9",
        ]
    ),
    max_size=12,
).map("".join)
contents = st.one_of(
    percent_junk,
    st.binary(max_size=30).map(lambda b: quote(b, safe="")),  # bytes that may not be GBK
    st.text(max_size=30),  # raw, not urlencoded
    st.integers(),
    st.lists(texts, max_size=2),
)
mobiles = st.one_of(
    st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    st.lists(st.from_regex(r"(00)?[0-9+]{0,14}", fullmatch=True), max_size=8).map(",".join),
    st.integers(min_value=-(2**70), max_value=2**70),
    texts,
    st.lists(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), max_size=5),
)
retsizes = st.one_of(
    st.integers(min_value=-(2**100), max_value=2**100),
    st.integers(min_value=-5, max_value=600).map(str),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
    st.sampled_from(["", " 10 ", "1e3", "0x10", "٣", "１０", "-0", "+5"]),
)
option_values = st.one_of(texts, st.from_regex(r"[A-Za-z0-9_-]{0,70}", fullmatch=True), hostile)
multimts = st.one_of(
    st.lists(
        st.fixed_dictionaries(
            {"mobile": mobiles, "content": contents},
            optional={"custid": option_values, "svrtype": option_values, "exdata": option_values},
        ),
        max_size=4,
    ),
    hostile,
)


@st.composite
def authenticated_fields(draw: st.DrawFn, endpoint: str) -> list[tuple[str, Any]]:
    """Valid credentials, then hostile values for the endpoint's own fields."""
    fields = list(credentials(draw(st.sampled_from(["md5", "plain", "apikey"]))).items())
    if endpoint in ("single_send", "batch_send"):
        fields += [("mobile", draw(mobiles)), ("content", draw(contents))]
    elif endpoint == "multi_send":
        fields.append(("multimt", draw(multimts)))
    elif endpoint in ("get_mo", "get_rpt"):
        fields.append(("retsize", draw(retsizes)))
    if endpoint in SEND_ENDPOINTS:
        for name in draw(st.lists(st.sampled_from(["custid", "exdata", "svrtype", "exno"]))):
            fields.append((name, draw(option_values)))
    return fields


# ---------------------------------------------------------------- in-process


@pytest.fixture(scope="module")
def app_client(
    tmp_path_factory: pytest.TempPathFactory, module_store_url: str
) -> Iterator[FlaskClient]:
    db = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    account = AccountConfig(
        userid=USER,
        password=PASSWORD,
        apikey=APIKEY,
        auth_modes=["md5", "plain", "apikey"],
        delivery_profile="instant",
    )
    # A lockout would turn the cases that repeat a wrong key into -100002.
    settings = Settings(
        db=str(db), store=module_store_url, accounts=[account], lockout_failures=10**9
    )
    app = create_app(settings)
    yield app.test_client()


def post(client: FlaskClient, endpoint: str, body: bytes, content_type: str) -> dict:
    headers = {"Content-Type": content_type} if content_type else {}
    answer = client.post(f"/sms/v2/std/{endpoint}", data=body, headers=headers)
    fmt = request_format(content_type, body)
    return check_answer(endpoint, answer.status_code, answer.content_type, answer.data, fmt)


@FAST
@given(endpoint=st.sampled_from(NAMES), body=st.binary(max_size=600), media=st.sampled_from(MEDIA))
def test_random_bytes_fail_authentication_in_shape(
    app_client: FlaskClient, endpoint: str, body: bytes, media: str
) -> None:
    assert post(app_client, endpoint, body, media)["result"] == Result.AUTH_FAILED


@settings(FAST, max_examples=1200)
@given(endpoint=st.sampled_from(NAMES), fmt=st.sampled_from(list(Format)), data=st.data())
def test_hostile_values_with_valid_credentials_get_a_field_code(
    app_client: FlaskClient, endpoint: str, fmt: Format, data: st.DataObject
) -> None:
    fields = data.draw(authenticated_fields(endpoint))
    body = encode(endpoint, fields, fmt)
    answer = post(app_client, endpoint, body, MEDIA_OF[fmt])
    assert answer["result"] in VALID_AUTH_CODES[endpoint] | unreadable(fmt, body, fields)


@FAST
@given(
    endpoint=st.sampled_from(NAMES),
    fmt=st.sampled_from(list(Format)),
    cut=st.integers(min_value=0),
    insert=st.binary(min_size=1, max_size=8),
    mode=st.sampled_from(["truncate", "insert", "flip"]),
)
def test_damaged_valid_bodies_answer_in_shape(
    app_client: FlaskClient, endpoint: str, fmt: Format, cut: int, insert: bytes, mode: str
) -> None:
    fields = list(credentials().items()) + [("mobile", "13912000001"), ("content", "%b2%e2")]
    body = encode(endpoint, fields, fmt)
    at = cut % (len(body) + 1)
    if mode == "truncate":
        body = body[:at]
    elif mode == "insert":
        body = body[:at] + insert + body[at:]
    else:
        body = body[:at] + bytes([insert[0]]) + body[at + 1 :]
    post(app_client, endpoint, body, MEDIA_OF[fmt])


@FAST
@given(
    endpoint=st.sampled_from(NAMES),
    fmt=st.sampled_from(list(Format)),
    userid=st.text(min_size=1, max_size=12).filter(lambda u: u.strip().upper() != USER),
)
def test_unknown_and_non_ascii_userids_fail_authentication(
    app_client: FlaskClient, endpoint: str, fmt: Format, userid: str
) -> None:
    timestamp = format_timestamp(china_now())
    fields = [("userid", userid), ("pwd", digest(USER, PASSWORD, timestamp))]
    body = encode(endpoint, [*fields, ("timestamp", timestamp)], fmt)
    assert post(app_client, endpoint, body, MEDIA_OF[fmt])["result"] == Result.AUTH_FAILED


@FAST
@given(
    endpoint=st.sampled_from(NAMES),
    junk=st.lists(
        st.tuples(st.sampled_from(["userid", "pwd", "timestamp", "retsize", "mobile"]), hostile),
        max_size=4,
    ),
)
def test_duplicate_keys_the_last_one_wins(
    app_client: FlaskClient, endpoint: str, junk: list[tuple[str, Any]]
) -> None:
    # C13: garbage first, the real values after them: the request authenticates.
    fields = junk + list(credentials().items())
    if endpoint in SEND_ENDPOINTS:
        fields += [("mobile", "13912000001"), ("content", "%b2%e2")]
    if endpoint == "multi_send":
        fields.append(("multimt", [{"mobile": "13912000001", "content": "%b2%e2"}]))
    for fmt in (Format.JSON, Format.FORM):
        answer = post(app_client, endpoint, encode(endpoint, fields, fmt), MEDIA_OF[fmt])
        assert answer["result"] == Result.OK


@FAST
@given(
    endpoint=st.sampled_from(["get_rpt", "get_mo"]),
    retsize=retsizes,
    fmt=st.sampled_from(list(Format)),
)
def test_any_retsize_is_read_within_the_cap(
    app_client: FlaskClient, endpoint: str, retsize: Any, fmt: Format
) -> None:
    body = encode(endpoint, [*credentials().items(), ("retsize", retsize)], fmt)
    answer = post(app_client, endpoint, body, MEDIA_OF[fmt])
    if answer["result"] == Result.OK:
        assert (
            len(answer["mos" if endpoint == "get_mo" else "rpts"])
            <= ENDPOINTS[endpoint].retsize_cap
        )
    else:  # only an XML body that cannot carry the value (control characters)
        assert fmt is Format.XML and answer["result"] == Result.AUTH_FAILED


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b"]><mtreq><userid>&lol9;</userid></mtreq>"
)
XML_ATTACKS = [
    BILLION_LAUGHS,
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b"<mtreq><userid>&x;</userid></mtreq>",
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:1/x.dtd"> %p;]>'
    b"<mtreq/>",
    b'<?xml version="1.0"?><!DOCTYPE mtreq SYSTEM "http://127.0.0.1:1/x.dtd"><mtreq/>',
    b'<mtreq xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="/etc/passwd"/></mtreq>',
    b"<mtreq>" + b"<a>" * 50_000 + b"</a>" * 50_000 + b"</mtreq>",
    b"<mtreq><![CDATA[" + b"x" * 100_000 + b"]]></mtreq>",
    b'<?xml version="1.0" encoding="gbk"?><mtreq><userid>\xff\xff</userid></mtreq>',
    b'<?xml version="1.0" encoding="utf-16"?><mtreq/>',
    b"<?xml version=1.0 encoding=no-such?><mtreq/>",
    b'{"userid": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    b"[" * 100_000,
    b'{"multimt": "' + b"[" * 50_000 + b'"}',
    b"userid=%ff%fe%fd&pwd=%&timestamp=%%%&multimt=" + b"%5b" * 50_000,
    b"\xef\xbb\xbf\xef\xbb\xbf{}",
    b"\x00" * 1000,
]


@pytest.mark.parametrize("endpoint", NAMES)
@pytest.mark.parametrize("body", XML_ATTACKS, ids=range(len(XML_ATTACKS)))
def test_entity_expansion_external_entities_and_deep_nesting_are_refused(
    app_client: FlaskClient, endpoint: str, body: bytes
) -> None:
    for media in ("application/xml", "application/json", "application/x-www-form-urlencoded"):
        assert post(app_client, endpoint, body, media)["result"] == Result.AUTH_FAILED


@pytest.mark.parametrize("endpoint", NAMES)
def test_a_10_mb_body_is_refused_in_shape(app_client: FlaskClient, endpoint: str) -> None:
    body = b"mobile=" + b"1" * (10 * 1024 * 1024)
    for media in ("application/json", "application/xml", "application/x-www-form-urlencoded"):
        headers = {"Content-Type": media}
        answer = app_client.post(f"/sms/v2/std/{endpoint}", data=body, headers=headers)
        assert answer.status_code == 413
        fmt = request_format(media)
        code = check_answer(endpoint, 413, answer.content_type, answer.data, fmt)["result"]
        assert code == (
            Result.CONTENT_TOO_LONG if endpoint in SEND_ENDPOINTS else Result.INTERNAL_ERROR
        )


# ---------------------------------------------------------------- over HTTP


hostile_server = module_server("fuzz-http")


def http_post(served: Served, endpoint: str, body: Any, media: str, **kw: Any) -> dict:
    headers = {"Content-Type": media} if media else {}
    answer = requests.post(
        f"{served.url}/sms/v2/std/{endpoint}", data=body, headers=headers, timeout=30, **kw
    )
    fmt = request_format(media, body if isinstance(body, bytes) else b"")
    return check_answer(
        endpoint, answer.status_code, answer.headers["Content-Type"], answer.content, fmt
    )


@settings(FAST, max_examples=150)
@given(endpoint=st.sampled_from(NAMES), body=st.binary(max_size=400), media=st.sampled_from(MEDIA))
def test_over_http_random_bytes_fail_authentication_in_shape(
    hostile_server: Served, endpoint: str, body: bytes, media: str
) -> None:
    assert http_post(hostile_server, endpoint, body, media)["result"] == Result.AUTH_FAILED


@settings(FAST, max_examples=150)
@given(endpoint=st.sampled_from(NAMES), fmt=st.sampled_from(list(Format)), data=st.data())
def test_over_http_hostile_values_get_a_field_code(
    hostile_server: Served, endpoint: str, fmt: Format, data: st.DataObject
) -> None:
    fields = [
        (k, v) if k != "apikey" else ("apikey", "abade5589e2798f82f006bbc36d269ce")
        for k, v in data.draw(authenticated_fields(endpoint))
        if k not in ("userid", "pwd", "timestamp")
    ]
    if not any(k == "apikey" for k, _ in fields):
        fields.insert(0, ("apikey", "abade5589e2798f82f006bbc36d269ce"))  # J10003's
    body = encode(endpoint, fields, fmt)
    answer = http_post(hostile_server, endpoint, body, MEDIA_OF[fmt])
    assert answer["result"] in VALID_AUTH_CODES[endpoint] | unreadable(fmt, body, fields)


@pytest.mark.parametrize("endpoint", NAMES)
def test_over_http_10_mb_bodies_are_refused_in_shape(hostile_server: Served, endpoint: str) -> None:
    body = b"{" + b" " * (10 * 1024 * 1024) + b"}"
    assert http_post(hostile_server, endpoint, body, "application/json")["result"] in (
        Result.CONTENT_TOO_LONG,
        Result.INTERNAL_ERROR,
    )

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit applies while reading
        for _ in range(10):
            yield b" " * (1024 * 1024)

    assert http_post(hostile_server, endpoint, chunks(), "application/json")["result"] in (
        Result.CONTENT_TOO_LONG,
        Result.INTERNAL_ERROR,
    )


def test_over_http_xml_attacks_are_refused(hostile_server: Served) -> None:
    for body in XML_ATTACKS:
        answer = http_post(hostile_server, "single_send", body, "application/xml")
        assert answer["result"] == Result.AUTH_FAILED


# ---------------------------------------------------------------- numbers past Python's limits

HUGE = "1" * 5000  # over int's 4 300-digit string conversion limit (a ValueError, not JSON's)


@pytest.mark.parametrize("endpoint", NAMES)
@pytest.mark.parametrize(
    "body",
    ['{"x":' + HUGE + "}", '{"userid":"FUZZ01","pwd":' + HUGE + "}", "[" + HUGE + "]"],
    ids=["field", "pwd", "array"],
)
def test_an_integer_over_the_digit_limit_makes_the_body_unreadable_not_a_500(
    app_client: FlaskClient, endpoint: str, body: str
) -> None:
    answer = app_client.post(
        f"/sms/v2/std/{endpoint}", data=body, headers={"Content-Type": "application/json"}
    )
    fmt = Format.JSON
    code = check_answer(endpoint, answer.status_code, answer.content_type, answer.data, fmt)
    assert code["result"] == Result.AUTH_FAILED
    assert "not JSON" in answer.headers["X-Mock-Reason"]
    assert "digits" in answer.headers["X-Mock-Reason"]


@pytest.mark.parametrize("fmt", list(Format))
@pytest.mark.parametrize("raw", [True, False], ids=["raw", "encoded"])
def test_a_huge_integer_inside_multimt_is_an_unreadable_multimt(
    app_client: FlaskClient, fmt: Format, raw: bool
) -> None:
    multimt = '[{"mobile":' + HUGE + ',"content":"%B2%E2"}]'
    creds = credentials()
    if fmt is Format.JSON:  # multimt as a JSON string (the form convention inside JSON)
        body = json.dumps(creds | {"multimt": multimt}).encode()
    elif fmt is Format.FORM:
        value = multimt if raw else quote(multimt, safe="")
        body = encode("multi_send", list(creds.items()), fmt).decode() + "&multimt=" + value
        body = body.encode()
    else:
        body = encode("multi_send", [*creds.items(), ("multimt", multimt)], fmt)
    answer = post(app_client, "multi_send", body, MEDIA_OF[fmt])
    assert answer["result"] in SEND_CODES - {Result.OK}


@pytest.mark.parametrize("fmt", list(Format))
@pytest.mark.parametrize("retsize", ["1e999", "-1e999", HUGE, "-" + HUGE, "1" + "0" * 5000])
def test_a_retsize_past_any_number_is_read_within_the_cap(
    app_client: FlaskClient, fmt: Format, retsize: str
) -> None:
    creds = list(credentials().items())
    if fmt is Format.JSON:  # the JSON number itself, not a string
        body = encode("get_rpt", creds, fmt)[:-1] + f', "retsize": {retsize}}}'.encode()
    else:
        body = encode("get_rpt", [*creds, ("retsize", retsize)], fmt)
    answer = post(app_client, "get_rpt", body, MEDIA_OF[fmt])
    if fmt is Format.JSON and "e" not in retsize:  # an int literal over the limit
        assert answer["result"] == Result.AUTH_FAILED  # unreadable body, in shape
    else:
        assert answer["result"] == Result.OK
        assert len(answer["rpts"]) <= ENDPOINTS["get_rpt"].retsize_cap
