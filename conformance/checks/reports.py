"""reports: what get_rpt and get_mo hand out (§2.4, §2.5): fields, types, echoes."""

from __future__ import annotations

import time

from smsapi.codec import parse_answer
from smsapi.content import decode_mo_content
from smsapi.errors import CodecError

from ..catalogue import Level, check
from ..context import MO, RunContext
from ..outcomes import CheckFailed, CheckSkipped
from ..shapes import answer_findings, mo_findings, report_findings
from . import judge
from .matching import settled_messages


@check(
    "RPT-FIELDS",
    "§2.5.6",
    "reports",
    Level.MUST,
    "every report has the fields of table 5-3, integers as integers, times as "
    "YYYY-MM-DD HH:MM:SS, rtime ≥ stime, status 0 with DELIVRD",
    interpretations=("M4", "M7"),
    final=True,
)
def report_fields(ctx: RunContext) -> None:
    settled_messages(ctx)
    for report in ctx.ledger.reports:
        judge(ctx, report_findings(report.data), "a §2.5.6 report", report.exchange)
    ctx.detail("reports", len(ctx.ledger.reports))


@check(
    "RPT-ECHO",
    "§2.5.6",
    "reports",
    Level.MUST,
    "reports echo the exdata of the request, and spno ends with the exno when one was kept",
    final=True,
)
def report_echo(ctx: RunContext) -> None:
    for m in settled_messages(ctx):
        for report in m.all_reports():
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


@check(
    "RPT-ANSWER-SHAPE",
    "§2.4.6 §2.5.6",
    "reports",
    Level.MUST,
    "every get_rpt / get_mo answer of the run: an array on success (also when empty)",
    interpretations=("C10",),
    final=True,
)
def pull_answer_shapes(ctx: RunContext) -> None:
    ctx.settle()
    seen = 0
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
        if b"<" in exchange.answer_body[:1]:
            continue  # XML: an empty list is an empty element either way
        judge(ctx, answer_findings(endpoint, answer), f"a §2.x.6 {endpoint} answer", exchange)
    ctx.detail("answers", seen)


def collect_mos(ctx: RunContext) -> list[MO]:
    """The MOs of the run so far, after waiting mo_wait seconds for one to arrive."""
    deadline = time.monotonic() + ctx.config.mo_wait
    while True:
        ctx.pull_mos()
        if ctx.mos or time.monotonic() >= deadline:
            break
        time.sleep(ctx.config.poll_interval)
    if not ctx.mos:
        raise CheckSkipped(
            "no MO arrived: reply from a test phone to the channel during the run "
            "([timing] mo_wait), or inject one (mock admin API)"
        )
    return ctx.mos


@check(
    "MO-FIELDS",
    "§2.4.6",
    "reports",
    Level.MUST,
    "every MO has the fields of table 4-3 with an int64 msgid and YYYY-MM-DD HH:MM:SS rtime",
    interpretations=("M1",),
)
def mo_fields(ctx: RunContext) -> None:
    for mo in collect_mos(ctx):
        judge(ctx, mo_findings(mo.data), "a §2.4.6 MO", mo.exchange)
    ctx.detail("mos", len(ctx.mos))


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
    for mo in collect_mos(ctx):
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
