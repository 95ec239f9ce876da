"""codec: the three request formats, answer formats and Content-Types, well-formed XML,
equivalent answers, the document's own example bodies."""

from __future__ import annotations

import contextlib
import re
from typing import Any

import schemas
from smsapi.auth import china_now, digest, format_timestamp
from smsapi.client import Exchange
from smsapi.codec import (
    JSON_MEDIA,
    XML_MEDIA,
    Format,
    encode_request,
    media_type_of,
    parse_request,
    request_format,
    strict_xml_problem,
)
from smsapi.content import decode_mt_content
from smsapi.endpoints import ENDPOINTS, SEND_ENDPOINTS
from smsapi.errors import Result
from smsapi.fields import text_value
from smsapi.mobile import split_mobiles

from ..catalogue import Level, check
from ..config import VendorConfig
from ..context import RunContext, run_wide_cost, send_result
from ..ledger import Outgoing
from ..outcomes import CheckFailed, CheckSkipped, Inconclusive, NotApplicable
from ..shapes import answer_findings, is_int
from .common import arrange_answers, file_pulled, is_acceptance, judge, parse, summary, try_parse

XML_ANSWER_MEDIA = (XML_MEDIA, "text/xml")
# §2.1.5 the document's example account, digest and mobiles (S8)
EXAMPLE_USERID = "J10003"
EXAMPLE_PWD = "26dad7f364507df18f3841cc9c4ff94d"
EXAMPLE_TIMESTAMP = "0803192020"
DEFINED_CODES = {int(r) for r in Result if r != Result.OK}
PLACEHOLDER_RE = re.compile(r"1[38]\dxxxxxxxx")
ROW_RE = re.compile(r"\b([CAFM]\d+)\b")


def balance_in(ctx: RunContext, fmt: Format) -> tuple[dict, Exchange]:
    return ctx.client(fmt).call("get_balance", {})


@check(
    "CODEC-JSON-REQUEST",
    "§2.1.4",
    "codec",
    Level.MUST,
    "a JSON request (application/json) is understood and answered in JSON",
    interpretations=("C3",),
)
def json_request(ctx: RunContext) -> None:
    answer, exchange = balance_in(ctx, Format.JSON)
    ctx.judged("answers")
    expect_answer_media(exchange, (JSON_MEDIA,), "JSON request")
    expect_result_ok(answer, exchange, "get_balance in JSON")


@check(
    "CODEC-FORM-REQUEST",
    "§2.1.4",
    "codec",
    Level.MUST,
    "a form request (x-www-form-urlencoded) is understood and answered in JSON (§2.1.8)",
    interpretations=("C3",),
)
def form_request(ctx: RunContext) -> None:
    answer, exchange = balance_in(ctx, Format.FORM)
    ctx.judged("answers")
    expect_answer_media(exchange, (JSON_MEDIA,), "form request")
    expect_result_ok(answer, exchange, "get_balance in form")


@check(
    "CODEC-XML-REQUEST",
    "§2.1.4",
    "codec",
    Level.MUST,
    "an XML request is understood and answered in XML with the endpoint's root element",
    interpretations=("C3",),
)
def xml_request(ctx: RunContext) -> None:
    for endpoint in ("get_balance", "get_mo"):
        exchange = ctx.client(Format.XML).post(endpoint, xml_request_body(ctx, endpoint), XML_MEDIA)
        ctx.judged("answers")
        expect_answer_media(exchange, XML_ANSWER_MEDIA, f"{endpoint} XML request")
        root = ENDPOINTS[endpoint].answer_root
        body = exchange.answer_body.lstrip()
        if f"<{root}".encode() not in body[:200]:
            raise CheckFailed(f"an XML answer with root <{root}>", repr(body[:120]), exchange)
        answer = parse(exchange)
        file_pulled(ctx, endpoint, answer, exchange)
        expect_result_ok(answer, exchange, f"{endpoint} in XML")


def xml_request_body(ctx: RunContext, endpoint: str) -> bytes:
    return encode_request(endpoint, ctx.auth_fields(), Format.XML)


@check(
    "CODEC-XML-WELL-FORMED",
    "§2.1.8",
    "codec",
    Level.MUST,
    "XML answers are well-formed XML as sent (a quoted <?xml?> prolog, unlike the examples)",
    interpretations=("C1",),
)
def xml_well_formed(ctx: RunContext) -> None:
    client = ctx.client(Format.XML)
    wrong = ctx.client(Format.XML, auth="md5", userid="QZ" + ctx.tag[:4].upper(), password="x")
    exchanges = [
        client.post("get_balance", xml_request_body(ctx, "get_balance"), XML_MEDIA),
        wrong.call("get_balance", {})[1],  # a failure answer, too
    ]
    refused = try_parse(exchanges[1])
    # the failure answer's half needs a failure: an unknown userid accepted leaves it unjudged
    ctx.require_evidence(
        "failure answers",
        int(refused is not None and refused.get("result") not in (0, "0")),
        "an unknown userid was not refused: no XML failure answer to judge",
    )
    for exchange in exchanges:
        ctx.judged("answers")
        if media_type_of(exchange.answer_headers.get("Content-Type")) not in XML_ANSWER_MEDIA:
            raise CheckFailed(
                "an XML answer", exchange.answer_headers.get("Content-Type", ""), exchange
            )
        problem = strict_xml_problem(exchange.answer_body)
        if problem is None:
            continue
        try:
            parse(exchange)
        except CheckFailed:
            raise CheckFailed("well-formed XML", problem, exchange) from None
        ctx.deviation(
            "C1", "a well-formed XML prolog", f"{problem} (readable once mended)", exchange
        )


@check(
    "CODEC-CONTENT-TYPE",
    "§2.1.8",
    "codec",
    Level.MUST,
    "answers carry the Content-Type of their format: JSON for JSON and form, XML for XML",
    interpretations=("C2", "C3"),
)
def content_types(ctx: RunContext) -> None:
    expected = {
        Format.JSON: (JSON_MEDIA,),
        Format.FORM: (JSON_MEDIA,),
        Format.XML: XML_ANSWER_MEDIA,
    }
    for fmt, media in expected.items():
        for endpoint in ("get_balance", "get_rpt"):
            if endpoint == "get_rpt":
                exchange = ctx.pull_reports(fmt=fmt).exchange
            else:
                exchange = ctx.client(fmt).call(endpoint, {})[1]
            ctx.judged("answers")
            expect_answer_media(exchange, media, f"{endpoint} in {fmt.value}")


@check(
    "CODEC-EQUIVALENT-FORMATS",
    "§1",
    "codec",
    Level.MUST,
    "the same request in JSON, XML and form gives equivalent answers",
)
def equivalent_formats(ctx: RunContext) -> None:
    answers = {fmt.value: balance_in(ctx, fmt)[0] for fmt in Format}
    reference = answers["json"]
    if answer_findings("get_balance", reference):  # equal shells prove nothing
        raise Inconclusive(
            "the JSON get_balance answer is not a §2.6.6 answer (CODEC-ANSWER-SCHEMA judges "
            "it): nothing to compare the formats by"
        )
    ctx.judged("answers", len(answers))
    for name, answer in answers.items():
        if answer != reference:
            raise CheckFailed(
                f"the {name} answer equal to the JSON one {reference}",
                str(answer),
                ctx.current.exchanges[-3:],
            )
    ctx.detail("answer", reference)


@check(
    "CODEC-SEND-FORMATS",
    "§2.1.4",
    "codec",
    Level.MUST,
    "single_send is accepted in each of the three formats, with equivalent answers",
    cost=3,
)
def send_formats(ctx: RunContext) -> None:
    mobile = ctx.mobiles(1)[0]
    shapes = {}
    for fmt in Format:
        custid = ctx.custid()
        sent = ctx.send_single(mobile, ctx.text(), fmt=fmt, custid=custid)
        ctx.expect_accepted(sent, f"single_send in {fmt.value}")
        judge(ctx, answer_findings("single_send", sent.answer), "a §2.1.6 answer", sent.exchange)
        if sent.custid != custid:
            raise CheckFailed(f"custid {custid} echoed", repr(sent.custid), sent.exchange)
        shapes[fmt.value] = sorted(sent.answer)
    if len({tuple(s) for s in shapes.values()}) != 1:
        raise CheckFailed("the same answer fields in every format", str(shapes))


@check(
    "CODEC-MULTIMT-FORM",
    "§2.3.5",
    "codec",
    Level.MUST,
    "multi_send in a form request, multimt a percent-encoded JSON array: accepted, reported",
    cost=2,
    interpretations=("C5",),
)
def multimt_form(ctx: RunContext) -> None:
    mobiles = ctx.mobiles(2, distinct=False)
    custid = ctx.custid()
    items = [Outgoing(m, ctx.text(), custid=custid) for m in mobiles]
    sent = ctx.send_multi(items, fmt=Format.FORM)
    ctx.expect_accepted(sent, "multi_send with an encoded multimt")
    ctx.expect_reported("multi_send with an encoded multimt")


def request_examples() -> list[schemas.Example]:
    """The document's request examples a carrier can be sent: all but those Word
    bookmarks broke beyond the wire (S7) and the pushes (the carrier's own requests)."""
    return [
        e
        for e in schemas.document_examples()
        if ".request." in e.key and not e.key.startswith("push_") and "S7" not in e.defects
    ]


def example_rows(example: schemas.Example) -> tuple[str, ...]:
    """The interpretation rows (C1, C8...) behind an example's defects (S1...)."""
    texts = schemas.document_defects()
    return tuple(dict.fromkeys(r for d in example.defects for r in ROW_RE.findall(texts[d])))


def examples_cost(cfg: VendorConfig) -> int:
    """One short message per mobile placeholder of the send examples."""
    return sum(len(PLACEHOLDER_RE.findall(e.text)) for e in request_examples())


@check(
    "CODEC-DOC-EXAMPLES",
    "§2.1.7",
    "codec",
    Level.MUST,
    "the document's own example requests: accepted (lenient) or flagged as defective (strict)",
    cost=examples_cost,
    interpretations=("C1", "C4", "C5", "C8"),
    needs=("md5",),
)
def document_examples(ctx: RunContext) -> None:
    if "md5" not in ctx.config.auth_modes:
        raise NotApplicable("the examples use the md5 digest, which the vendor did not enable")
    verdicts = {}
    for example in request_examples():
        endpoint = example.key.split(".", 1)[0]
        body = fill_example(ctx, example)
        media = example.media_type
        if endpoint in SEND_ENDPOINTS:
            items = example_items(endpoint, body, media)
            answer, exchange = ctx.send_raw(endpoint, body, media, items)
        else:
            exchange = ctx.raw(endpoint, body, media)
            answer = try_parse(exchange)
            file_pulled(ctx, endpoint, answer, exchange)
        accepted = exchange.status == 200 and is_acceptance(answer)
        if accepted and endpoint in SEND_ENDPOINTS:  # an acceptance names its msgid
            ctx.expect_accepted(send_result(answer or {}, exchange), f"example {example.key}")
        verdicts[example.key] = "accepted" if accepted else f"refused: {summary(exchange)}"
        judge_example(ctx, example, answer, exchange, accepted)
    ctx.detail("examples", verdicts)
    if ctx.sent_messages():
        ctx.expect_reported("the document's accepted send examples")


def judge_example(
    ctx: RunContext,
    example: schemas.Example,
    answer: dict | None,
    exchange: Exchange,
    accepted: bool,
) -> None:
    """C8: lenient, every example is accepted. Strict: an example without a defect of its
    own is accepted; a defective one may be refused, but with HTTP 200 and a §4 code in a
    readable answer (a 5xx, garbage or "result":"OK" is no refusal)."""
    ctx.judged("examples")
    rows = example_rows(example)
    expected = f"the document's example {example.key} (§{example.section}) accepted"
    details = {"interpretations": list(rows)}
    if accepted:
        return
    if not rows or not ctx.strict:
        raise CheckFailed(expected, summary(exchange), exchange, details=details)
    code = answer.get("result") if answer else None
    if exchange.status != 200 or not is_int(code) or code not in DEFINED_CODES:
        raise CheckFailed(
            f"the defective example {example.key} accepted, or refused with HTTP 200 and a §4 "
            f"code ({', '.join(rows)})",
            summary(exchange),
            exchange,
            details=details,
        )


def fill_example(ctx: RunContext, example: schemas.Example) -> bytes:
    """The example verbatim but for fresh credentials and test mobiles for 138xxxxxxxx."""
    cfg = ctx.config
    timestamp = format_timestamp(china_now())
    text = example.text
    for old, new in (
        (EXAMPLE_PWD, digest(cfg.userid, cfg.password, timestamp)),
        (EXAMPLE_TIMESTAMP, timestamp),
    ):
        text = wrapped(old).sub(new, text)
    text = text.replace(EXAMPLE_USERID, cfg.userid)
    placeholders = list(dict.fromkeys(PLACEHOLDER_RE.findall(text)))
    if placeholders:
        for placeholder, mobile in zip(
            placeholders, ctx.mobiles(len(placeholders), distinct=False), strict=True
        ):
            text = text.replace(placeholder, mobile)
    return text.encode("utf-8")


def wrapped(literal: str) -> re.Pattern[str]:
    """The literal, allowing the line breaks the document wraps values with (C4)."""
    return re.compile("\\n?".join(re.escape(ch) for ch in literal))


def example_items(endpoint: str, body: bytes, media: str) -> list[Outgoing]:
    """The messages a filled example sends, read back with smsapi's tolerant reader."""
    fields = parse_request(body, request_format(media, body))
    entries: list[Any]
    if endpoint == "multi_send":
        multimt = fields.get("multimt")
        entries = multimt if isinstance(multimt, list) else []
    else:
        mobiles = split_mobiles(text_value(fields.get("mobile")))
        entries = [{**fields, "mobile": m} for m in mobiles]
    return [
        Outgoing(
            text_value(e.get("mobile")),
            decode_mt_content(text_value(e.get("content"))).text,
            custid=text_value(e.get("custid")),
            exdata=text_value(e.get("exdata")),
            exno=text_value(e.get("exno")),
        )
        for e in entries
        if isinstance(e, dict)
    ]


@check(
    "CODEC-ANSWER-SCHEMA",
    "§2.x.6",
    "codec",
    Level.MUST,
    "every answer of the run is valid under the interface's JSON Schema / XSD as it came "
    "(strict; lenient warns)",
    cost=run_wide_cost,
    interpretations=("C1", "C9", "C10", "C18", "M1", "M9"),
    final=True,
)
def answer_schema(ctx: RunContext) -> None:
    # sends of its own when the run sent nothing (--only); without test mobiles, the
    # answers that need no send are judged all the same
    # (a send it arranged and could not read, e.g. result "OK", is judged below all the same)
    with contextlib.suppress(CheckSkipped, Inconclusive):
        ctx.run_messages()
    arrange_answers(ctx)
    checked = 0
    for check_id, endpoint, exchange in list(ctx.exchanges):
        if endpoint not in ENDPOINTS or exchange.status != 200 or check_id.startswith("ROB-"):
            continue
        checked += 1
        expect_readable_result(endpoint, exchange)
        problems = schemas.answer_errors(
            endpoint, exchange.answer_body, exchange.answer_headers.get("Content-Type")
        )
        if problems:
            ctx.deviation(
                ("schemas",),
                f"a {endpoint} answer valid under schemas/",
                "; ".join(problems[:3]),
                exchange,
            )
    ctx.require_evidence("answers", checked, "no answer of the six endpoints came")
    ctx.detail("answers", checked)


# ---------------------------------------------------------------- helpers


def expect_readable_result(endpoint: str, exchange: Exchange) -> None:
    """§2.x.6 result is an integer (C18): one no reader can take for a §4 code (`"OK"`,
    missing) fails in both profiles; `"0"` (a string of one) is the schema's deviation."""
    answer = try_parse(exchange)
    if answer is None:
        return  # not a JSON/XML object: the schema check below says why
    result = answer.get("result")
    if is_int(result) or (isinstance(result, str) and re.fullmatch(r"-?\d+", result)):
        return
    raise CheckFailed(
        f"a {endpoint} answer whose result is an integer (§2.x.6, C18)",
        f"result {result!r}" if "result" in answer else "no result",
        exchange,
        details={"interpretations": ["C18"]},
    )


def expect_answer_media(exchange: Exchange, media: tuple[str, ...], what: str) -> None:
    got = media_type_of(exchange.answer_headers.get("Content-Type"))
    if got not in media:
        raise CheckFailed(
            f"the answer to a {what} in {' or '.join(media)}",
            f"Content-Type {exchange.answer_headers.get('Content-Type', '(none)')}",
            exchange,
        )


def expect_result_ok(answer: dict, exchange: Exchange, what: str) -> None:
    if answer.get("result") != 0:
        raise CheckFailed(f"{what}: result 0", f"result {answer.get('result')!r}", exchange)
