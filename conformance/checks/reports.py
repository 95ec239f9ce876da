"""reports: what get_rpt and get_mo hand out (§2.4, §2.5): fields, types, echoes, the
failure report of an invalid number (F2), and stime / rtime against the suite's clock."""

from __future__ import annotations

from datetime import datetime

from smsapi.auth import CHINA_TZ
from smsapi.codec import parse_answer
from smsapi.content import decode_mo_content
from smsapi.endpoints import ENDPOINTS
from smsapi.errors import CodecError
from smsapi.fields import TIME_FORMAT
from smsapi.matching import report_delivered
from smsapi.mobile import classify
from smsapi.timing import clock_findings

from ..catalogue import Level, check
from ..context import NO_REPORT, RunContext, run_wide_cost
from ..ledger import Outgoing, Report, reports_of
from ..outcomes import CheckFailed, Inconclusive
from ..shapes import answer_findings, mo_findings, report_findings
from .common import arrange_mos, judge


@check(
    "RPT-FIELDS",
    "§2.5.6",
    "reports",
    Level.MUST,
    "every report has the fields of table 5-3, integers as integers, times as "
    "YYYY-MM-DD HH:MM:SS, rtime ≥ stime, status 0 with DELIVRD",
    cost=run_wide_cost,
    interpretations=("M4", "M7"),
    final=True,
)
def report_fields(ctx: RunContext) -> None:
    messages = ctx.run_messages()
    reports = list(ctx.ledger.reports)
    ctx.require_evidence("reports", len(reports), NO_REPORT.format(n=len(messages)))
    for report in reports:
        judge(ctx, report_findings(report.data), "a §2.5.6 report", report.exchange)
    ctx.detail("reports", len(reports))


@check(
    "RPT-ECHO",
    "§2.5.6",
    "reports",
    Level.MUST,
    "reports echo the exdata of the request, and spno ends with the exno when one was kept",
    cost=lambda cfg: run_wide_cost(cfg) or 1,  # its own exdata send when the run has none
    final=True,
)
def report_echo(ctx: RunContext) -> None:
    reports = reports_of(ctx.run_messages())
    if not any(r.message and r.message.exdata for r in reports):
        reports += arrange_echo(ctx)  # no exdata in the run: an echo of its own (item 11)
    echoes = sum(1 for r in reports if r.message and r.message.exdata)
    ctx.require_evidence("reports", echoes, "no report came for a message with exdata")
    for report in reports:
        m = report.message
        assert m is not None
        if str(report.data.get("exdata", "") or "") != m.exdata:
            raise CheckFailed(
                f"exdata {m.exdata!r} of the request in the report of {m.mobile}",
                repr(report.data.get("exdata")),
                [m.exchange, report.exchange],
            )
        exno = str(report.data.get("exno", "") or "")
        if exno and not str(report.data.get("spno", "")).endswith(exno):
            raise CheckFailed(
                "spno = channel + exno (§2.4.6 完整的通道号)",
                f"spno {report.data.get('spno')!r} with exno {exno!r}",
                report.exchange,
            )
    ctx.detail("with_exdata", echoes)


def arrange_echo(ctx: RunContext) -> list[Report]:
    """A single_send with custid and exdata, its reports awaited: RPT-ECHO's own evidence."""
    sent = ctx.send_single(ctx.mobiles(1)[0], ctx.text(), custid=ctx.custid(), exdata="cfEcho")
    if sent.result != 0:
        raise Inconclusive(
            f"no message of the run carried exdata, and the single_send with exdata this check "
            f"arranged was refused (result {sent.result}): no echo to judge"
        )
    messages = ctx.sent_messages()
    ctx.await_reports(messages)
    ctx.ledger.resolve(age=0)
    return reports_of(messages)


@check(
    "RPT-TIMES-CLOCK",
    "§2.5.6 tender §2.1.3",
    "reports",
    Level.MUST,
    "every report's stime and rtime lie between the send and the report's arrival by the "
    "suite's clock (within [timing] clock_skew)",
    cost=run_wide_cost,
    interpretations=("M7", "M12"),
    final=True,
)
def report_times(ctx: RunContext) -> None:
    messages = ctx.run_messages()
    reports = reports_of(messages)
    ctx.require_evidence("reports", len(reports), NO_REPORT.format(n=len(messages)))
    skew = ctx.config.clock_skew
    ctx.detail("clock_skew_s", skew)
    for report in reports:
        m = report.message
        assert m is not None
        found = clock_findings(report.data, m.sent_at, report.seen_at, skew)
        if found:
            raise CheckFailed(
                f"stime and rtime between the send ({suite_time(m.sent_at)}) and the "
                f"report's arrival ({suite_time(report.seen_at)}), ± {skew:g} s",
                f"{found[0]} (msgid {report.data.get('msgid')}, {m.mobile})",
                [m.exchange, report.exchange],
            )


def suite_time(at: float) -> str:
    """A suite-clock moment as the carrier writes times (China time, §2.5.6)."""
    return datetime.fromtimestamp(at, CHINA_TZ).strftime(TIME_FORMAT)


@check(
    "RPT-FAILED-REPORT",
    "§3.2 §2.5.6",
    "reports",
    Level.MUST,
    "an invalid number inside a batch_send or a multi_send gets its own failed report "
    "(status ≠ 0, errcode ≠ DELIVRD) beside the valid one's; status and errcode agree",
    cost=4,
    interpretations=("F2", "M4"),
)
def failed_report(ctx: RunContext) -> None:
    valid = ctx.mobiles(1)[0]
    invalid = classify(valid).national[:-1]  # ten digits: §3.2 rejects it, no phone has it
    text, custid = ctx.text(), ctx.custid()
    pair = [Outgoing(valid, text, custid=custid), Outgoing(invalid, text, custid=custid)]
    for endpoint in ("batch_send", "multi_send"):
        sent = ctx.send(endpoint, pair)
        if sent.result != 0:
            ctx.judged("sends")
            ctx.deviation(
                "F2",
                f"the {endpoint} to [{valid}, {invalid}] accepted, the invalid number reported "
                "failed",
                f"result {sent.result} for the whole request",
                sent.exchange,
            )
    messages = ctx.sent_messages()
    ctx.await_reports(messages, stop_on_fault=True)
    ctx.judged("messages", len(messages))
    reports = reports_of(messages)
    ctx.require_evidence(
        "reports", len(reports), f"no report came within {ctx.config.report_timeout:.0f} s"
    )
    for bad in (m for m in messages if m.position == 2):
        if not bad.reports:
            ctx.deviation(
                "F2",
                f"a failed report for the invalid number {invalid!r} ({bad.endpoint} position 2)",
                "no report for it",
                bad.exchange,
            )
        for report in bad.all_reports():
            if report_delivered(report.data) or report.data.get("errcode") == "DELIVRD":
                raise CheckFailed(
                    f"a failed report for the invalid number {invalid!r} ({bad.endpoint}): "
                    "status ≠ 0, errcode not DELIVRD",
                    f"status {report.data.get('status')!r}, errcode {report.data.get('errcode')!r}",
                    [bad.exchange, report.exchange],
                )
    for report in reports:  # M4, the valid numbers' reports too
        agree = [f for f in report_findings(report.data) if "M4" in f.rows]
        judge(ctx, agree, "status 0 ⇔ errcode DELIVRD", report.exchange)
    ctx.detail(
        "reports", [{k: r.data.get(k) for k in ("mobile", "status", "errcode")} for r in reports]
    )


@check(
    "RPT-ANSWER-SHAPE",
    "§2.4.6 §2.5.6",
    "reports",
    Level.MUST,
    "every get_rpt / get_mo answer of the run: an array on success (also when empty)",
    cost=run_wide_cost,
    interpretations=("C10",),
    final=True,
)
def pull_answer_shapes(ctx: RunContext) -> None:
    ctx.run_messages()
    seen = listed = 0
    for _, endpoint, exchange in list(ctx.exchanges):
        if endpoint not in ("get_rpt", "get_mo") or exchange.status != 200:
            continue
        try:
            answer = parse_answer(exchange.answer_body, exchange.answer_headers.get("Content-Type"))
        except CodecError as exc:
            raise CheckFailed(f"a readable {endpoint} answer", str(exc), exchange) from None
        if answer.get("result") != 0:
            continue
        seen += 1
        listed += bool(answer.get(ENDPOINTS[endpoint].list_field or ""))
        if b"<" in exchange.answer_body[:1]:
            continue  # XML: an empty list is an empty element either way
        judge(ctx, answer_findings(endpoint, answer), f"a §2.x.6 {endpoint} answer", exchange)
    ctx.require_evidence("answers", seen, "no get_rpt or get_mo of the run succeeded")
    # both directions: an answer with items as well as an empty one
    ctx.require_evidence("answers with items", listed, "no get_rpt or get_mo answer had items")
    ctx.detail("answers", seen)


@check(
    "MO-FIELDS",
    "§2.4.6",
    "reports",
    Level.MUST,
    "every MO has the fields of table 4-3 with an int64 msgid and YYYY-MM-DD HH:MM:SS rtime",
    interpretations=("M1",),
)
def mo_fields(ctx: RunContext) -> None:
    mos = arrange_mos(ctx)
    ctx.judged("mos", len(mos))
    for mo in mos:
        judge(ctx, mo_findings(mo.data), "a §2.4.6 MO", mo.exchange)
    ctx.detail("mos", len(mos))


@check(
    "MO-CONTENT-UTF8",
    "§2.4.6",
    "reports",
    Level.MUST,
    "MO content is urlencoded UTF-8 (strict); lenient also takes GBK as in §2.7.5",
    interpretations=("C11",),
)
def mo_content(ctx: RunContext) -> None:
    texts = []
    mos = arrange_mos(ctx)
    ctx.judged("mos", len(mos))
    for mo in mos:
        content = str(mo.data.get("content", ""))
        utf8 = decode_mo_content(content, "utf-8")
        if not utf8.issues:
            texts.append(utf8.text)
            continue
        gbk = decode_mo_content(content, "gbk")
        if gbk.issues:
            raise CheckFailed(
                "MO content urlencoded in UTF-8 (or GBK)",
                f"{content[:80]!r}: {utf8.issues}",
                mo.exchange,
            )
        ctx.deviation("C11", "MO content in UTF-8 (§2.4.6)", f"GBK: {gbk.text[:20]!r}", mo.exchange)
        texts.append(gbk.text)
    ctx.detail("texts", texts[:5])
