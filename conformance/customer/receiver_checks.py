"""receiver: §2.7 / §2.8 checks of a customer's push receiver (`conformance client`).

The suite pushes as a carrier would; a push counts as received only when the answer is
HTTP 200 and JSON with the answer cmd, the same seqid and result 0 (smsapi.push).
"""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import requests

import schemas
from smsapi.auth import china_now
from smsapi.msgid import INT64_MAX, INT64_MIN
from smsapi.push import PushKind

from ..catalogue import Level, check
from ..outcomes import CheckFailed, CheckSkipped, NotApplicable
from .items import DOCUMENT_MO_TEXT
from .pushing import PushExchange, ReceiverContext

RPT, MO = PushKind.RPT, PushKind.MO


def expect_acknowledged(pushes: list[PushExchange], what: str) -> None:
    """Fail unless every push was acknowledged (§2.7.4 / §2.8.4)."""
    bad = [p for p in pushes if not p.acknowledged]
    if not bad:
        return
    first = bad[0]
    raise CheckFailed(
        f"{what} acknowledged: HTTP 200 and JSON "
        f'{{"cmd":"{first.kind.answer_cmd}","seqid":{first.seqid},"result":0}}',
        f"{len(bad)} of {len(pushes)} push(es) not: {first.reason} "
        f"({first.kind.cmd} of {len(first.items)} item(s))",
        [p.exchange for p in bad[:3]],
        details={"not_acknowledged": [p.summary() for p in bad[:20]]},
    )


# ---------------------------------------------------------------- what a carrier pushes


@check(
    "RECV-RPT-SIZES",
    "§2.8.1",
    "receiver",
    Level.MUST,
    "report pushes of 1, 2, 100 and 500 reports (delivered and failed) are acknowledged",
)
def rpt_sizes(ctx: ReceiverContext) -> None:
    done = [
        ctx.push(RPT, ctx.items.reports(n, failed_every=7), purpose=f"{n} reports")
        for n in (1, 2, 100, RPT.max_items)
    ]
    expect_acknowledged(done, "every report push")


@check(
    "RECV-RPT-LONG",
    "§2.8.3 §3.3",
    "receiver",
    Level.MUST,
    "reports of long messages (pknum/pktotal, ids + (k-1)·2^34) and batches are acknowledged",
)
def rpt_long(ctx: ReceiverContext) -> None:
    done = [
        ctx.push(RPT, ctx.items.reports(1, pktotal=3), purpose="long message"),
        ctx.push(RPT, ctx.items.reports(4, pktotal=2, failed_every=3), purpose="long batch"),
        ctx.push(RPT, ctx.items.reports(1, pktotal=15, exno="01"), purpose="1000 characters"),
    ]
    expect_acknowledged(done, "every push of long-message reports")


@check(
    "RECV-RPT-MSGID-RANGE",
    "§2.8.3",
    "receiver",
    Level.MUST,
    "negative msgids, ids past 2^53 and ids wrapping at ±2^63 (signed 64-bit) are acknowledged",
)
def rpt_msgid_range(ctx: ReceiverContext) -> None:
    bases = (INT64_MIN + 7, INT64_MAX - 1, 2**53 + 1, -(2**53) - 3, -1000)
    items = [item for base in bases for item in ctx.items.reports(3, base=base)]
    ctx.detail("msgids", [i["msgid"] for i in items])
    expect_acknowledged([ctx.push(RPT, items, purpose="msgid range")], "the push")


@check(
    "RECV-MO-SIZES",
    "§2.7.1",
    "receiver",
    Level.MUST,
    "MO pushes of 1, 2 and 100 MOs, and an MO of 1000 characters, are acknowledged",
)
def mo_sizes(ctx: ReceiverContext) -> None:
    done = [ctx.push(MO, ctx.items.mos(n), purpose=f"{n} MOs") for n in (1, 2, MO.max_items)]
    long_text = ("通渝短信接口验收测试" * 100)[:1000]
    done.append(ctx.push(MO, ctx.items.mos(1, long_text), purpose="1000 characters"))
    expect_acknowledged(done, "every MO push")


@check(
    "RECV-MO-UTF8",
    "§2.7.3",
    "receiver",
    Level.MUST,
    "MO content urlencoded UTF-8 (Chinese, reserved characters &=+%, emoji) is acknowledged",
)
def mo_utf8(ctx: ReceiverContext) -> None:
    texts = (DOCUMENT_MO_TEXT, "TD 退订", "a&b=c+d%e/f?g#h", "好的👍", "   ")
    items = [item for text in texts for item in ctx.items.mos(1, text)]
    expect_acknowledged([ctx.push(MO, items, purpose="UTF-8 content")], "the push")


@check(
    "RECV-MO-GBK",
    "§2.7.5",
    "receiver",
    Level.SHOULD,
    "MO content urlencoded GBK, as the document's own push example carries it, is acknowledged",
    interpretations=("C11", "P9"),
)
def mo_gbk(ctx: ReceiverContext) -> None:
    items = ctx.items.mos(1, "测试短信", "gbk") + ctx.items.mos(1, DOCUMENT_MO_TEXT, "gbk")
    ctx.detail("content", [i["content"] for i in items])
    expect_acknowledged([ctx.push(MO, items, purpose="GBK content")], "the push")


@check(
    "RECV-RAW-ARRAY",
    "§2.7.5 §2.8.5",
    "receiver",
    Level.SHOULD,
    "a push written as the document's examples (the JSON array raw, not urlencoded) is "
    "acknowledged",
    interpretations=("P2", "S9"),
)
def raw_array(ctx: ReceiverContext) -> None:
    done = [
        ctx.push(RPT, ctx.items.reports(2), purpose="raw array", as_example=True),
        ctx.push(MO, ctx.items.mos(2), purpose="raw array", as_example=True),
    ]
    expect_acknowledged(done, "both pushes")


# ---------------------------------------------------------------- at-least-once


@check(
    "RECV-DUPLICATE",
    "§2.7.4 §2.8.4",
    "receiver",
    Level.MUST,
    "the same reports or MOs pushed again under a new seqid are acknowledged again",
    interpretations=("P6", "U3"),
)
def duplicate(ctx: ReceiverContext) -> None:
    done = []
    for kind, items in ((RPT, ctx.items.reports(2)), (MO, ctx.items.mos(2))):
        done.append(ctx.push(kind, items, purpose="original"))
        again = ctx.push(kind, items, purpose="duplicate")
        ctx.duplicates.append(again)
        done.append(again)
    expect_acknowledged(done, "the pushes and their repetitions")


@check(
    "RECV-STORED-ONCE",
    "§2.7.4 §2.8.4",
    "receiver",
    Level.SHOULD,
    "a report or MO pushed twice is stored once (seen through --stored-url)",
    interpretations=("P6", "U3"),
)
def stored_once(ctx: ReceiverContext) -> None:
    if not ctx.settings.stored_url:
        raise NotApplicable("no --stored-url: what the receiver stored is not visible")
    if not ctx.duplicates:
        duplicate(ctx)
    ids = {item["msgid"] for p in ctx.duplicates if p.acknowledged for item in p.items}
    if not ids:
        raise CheckSkipped("no repeated push was acknowledged (RECV-DUPLICATE)")
    deadline = time.monotonic() + ctx.settings.store_wait
    while True:  # the receiver may store after answering (U1): watch for store_wait
        try:
            counts, exchange = ctx.stored()
        except (requests.RequestException, ValueError) as exc:
            raise CheckFailed(
                "--stored-url to answer JSON", f"{type(exc).__name__}: {exc}"
            ) from None
        ctx.keep(exchange)
        twice = sorted(i for i in ids if counts.get(i, 0) > 1)
        if twice:
            raise CheckFailed(
                "each pushed item stored once",
                f"{len(twice)} stored more than once, e.g. msgid {twice[0]} "
                f"{counts[twice[0]]} times",
                exchange,
                details={"stored_twice": twice[:20]},
            )
        if time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    missing = sorted(i for i in ids if i not in counts)
    if missing:
        raise CheckFailed(
            f"each acknowledged item among the stored within {ctx.settings.store_wait:g} s",
            f"{len(missing)} missing, e.g. msgid {missing[0]}",
            exchange,
            details={"missing": missing[:20]},
        )


# ---------------------------------------------------------------- speed


@check(
    "RECV-BURST",
    "§2.8.1",
    "receiver",
    Level.SHOULD,
    "pushes made in parallel are all acknowledged, each within the answer limit",
    interpretations=("U1",),
)
def burst(ctx: ReceiverContext) -> None:
    cfg = ctx.settings
    batches = [ctx.items.reports(cfg.burst_items) for _ in range(cfg.burst)]

    def one(items: list[dict]) -> PushExchange:
        with requests.Session() as session:  # a connection each, as parallel pushes have
            return ctx.push(RPT, items, purpose="burst", session=session)

    with ThreadPoolExecutor(cfg.burst) as pool:
        done = list(pool.map(one, batches))
    times = [p.elapsed for p in done]
    ctx.detail(
        "answer_s", {"max": round(max(times), 3), "median": round(statistics.median(times), 3)}
    )
    expect_acknowledged(done, f"all {cfg.burst} parallel pushes")
    slow = [p for p in done if p.elapsed > cfg.answer_limit]
    if slow:
        raise CheckFailed(
            f"each of {cfg.burst} parallel pushes answered within {cfg.answer_limit:g} s",
            f"{len(slow)} slower, the slowest {max(times):.2f} s",
            [max(slow, key=lambda p: p.elapsed).exchange],
        )


@check(
    "RECV-ASYNC",
    "§2.7.1 §2.8.1",
    "receiver",
    Level.SHOULD,
    "answered before processing: a 500-report push is answered about as fast as a 1-report one",
    interpretations=("U1",),
)
def answers_first(ctx: ReceiverContext) -> None:
    small: list[PushExchange] = []
    large: list[PushExchange] = []
    for _ in range(3):
        small.append(ctx.push(RPT, ctx.items.reports(1), purpose="async: 1 report"))
        large.append(ctx.push(RPT, ctx.items.reports(RPT.max_items), purpose="async: 500"))
    one = statistics.median(p.elapsed for p in small)
    many = statistics.median(p.elapsed for p in large)
    ctx.detail("median_answer_s", {"1 report": round(one, 3), "500 reports": round(many, 3)})
    if many - one > ctx.settings.async_margin:
        raise CheckFailed(
            f"a 500-report push answered within {ctx.settings.async_margin:g} s of a "
            "1-report push (接收到数据后立即回应，用另外线程异步处理)",
            f"{many:.2f} s against {one:.2f} s: the answer waits for the processing",
            [large[-1].exchange, small[-1].exchange],
        )


# ---------------------------------------------------------------- security


def control_push(ctx: ReceiverContext, what: str) -> None:
    """A valid push first: a receiver that acknowledges nothing proves no refusal."""
    control = ctx.push(RPT, ctx.items.reports(1), purpose="control")
    if not control.acknowledged:
        raise CheckSkipped(f"a valid push is not acknowledged ({control.reason}): {what} untold")


def expect_refused(probe: PushExchange, expected: str, risk: str) -> None:
    if probe.acknowledged:
        raise CheckFailed(
            expected,
            f"acknowledged (result 0): {risk}",
            probe.exchange,
            details={"finding": "security"},
        )


@check(
    "RECV-AUTH-DIGEST",
    "§3.1 §2.8.3",
    "receiver",
    Level.SHOULD,
    "security: a push whose pwd is not the §3.1 digest of the account is refused",
    interpretations=("U2",),
)
def refuses_wrong_digest(ctx: ReceiverContext) -> None:
    control_push(ctx, "refusal of a wrong digest")
    wrong = "x" + ctx.settings.password
    probe = ctx.push(RPT, ctx.items.reports(1), purpose="wrong digest", valid=False, password=wrong)
    expect_refused(
        probe,
        "the push refused (any answer but the acknowledgement)",
        "anyone who knows the URL can inject status reports",
    )


@check(
    "RECV-AUTH-STALE",
    "§3.1 §2.8.3",
    "receiver",
    Level.SHOULD,
    "security: a push whose timestamp is an hour old (digest right for it) is refused",
    interpretations=("U2",),
)
def refuses_stale_timestamp(ctx: ReceiverContext) -> None:
    control_push(ctx, "refusal of a stale timestamp")
    old = china_now() - timedelta(seconds=ctx.settings.stale_probe)
    probe = ctx.push(RPT, ctx.items.reports(1), purpose="stale timestamp", valid=False, moment=old)
    expect_refused(
        probe,
        f"the push with a timestamp {ctx.settings.stale_probe} s old refused",
        "a recorded push can be replayed",
    )


# ---------------------------------------------------------------- every answer of the run


def answered_pushes(ctx: ReceiverContext, *, burst: bool = True) -> list[PushExchange]:
    """The valid pushes of the run; one report and one MO push first if there are none
    (the check runs alone)."""
    for kind in PushKind:
        if not ctx.pushes(kind=kind):
            items = ctx.items.reports(1) if kind is RPT else ctx.items.mos(1)
            ctx.push(kind, items, purpose="baseline")
    pushes = [p for p in ctx.pushes() if burst or p.purpose != "burst"]
    ctx.judged("pushes", len(pushes))  # the run-wide answer checks judge these (issue 15)
    return pushes


def expect_no_problem(ctx: ReceiverContext, aspect: str, expected: str) -> None:
    pushes = [p for p in answered_pushes(ctx) if p.answered]
    if not pushes:
        raise CheckSkipped("no push was answered at all (see RECV-ACK-TIME)")
    bad = [p for p in pushes if aspect in p.problems]
    ctx.detail("answers_judged", len(pushes))
    if bad:
        raise CheckFailed(
            expected,
            f"{len(bad)} of {len(pushes)} answers: {bad[0].problems[aspect]}",
            [p.exchange for p in bad[:3]],
            details={"bad_answers": [p.summary() for p in bad[:20]]},
        )


@check(
    "RECV-ACK-JSON",
    "§2.7.4 §2.8.4",
    "receiver",
    Level.MUST,
    "every push is answered HTTP 200 with a JSON object",
    final=True,
    interpretations=("P4",),
)
def ack_json(ctx: ReceiverContext) -> None:
    pushes = [p for p in answered_pushes(ctx) if p.answered]
    bad = [p for p in pushes if "http" in p.problems or "json" in p.problems]
    if bad:
        why = bad[0].problems.get("http") or bad[0].problems.get("json")
        raise CheckFailed(
            "HTTP 200 and a JSON object (§2.7.6 / §2.8.6)",
            f"{len(bad)} of {len(pushes)} answers: {why}",
            [p.exchange for p in bad[:3]],
            details={"bad_answers": [p.summary() for p in bad[:20]]},
        )


@check(
    "RECV-ACK-CMD",
    "§2.7.4 §2.8.4",
    "receiver",
    Level.MUST,
    "every answer has cmd RPT_RESP (report push) or MO_RESP (MO push)",
    final=True,
    interpretations=("P4",),
)
def ack_cmd(ctx: ReceiverContext) -> None:
    expect_no_problem(ctx, "cmd", "cmd RPT_RESP for RPT_REQ, MO_RESP for MO_REQ")


@check(
    "RECV-ACK-SEQID",
    "§2.7.4 §2.8.4",
    "receiver",
    Level.MUST,
    "every answer carries the seqid of its push (与请求中的seqid保持一致)",
    final=True,
    interpretations=("P4",),
)
def ack_seqid(ctx: ReceiverContext) -> None:
    expect_no_problem(ctx, "seqid", "the push's seqid echoed")


@check(
    "RECV-ACK-RESULT",
    "§2.7.4 §2.8.4",
    "receiver",
    Level.MUST,
    "every valid push is answered result 0",
    final=True,
    interpretations=("P4",),
)
def ack_result(ctx: ReceiverContext) -> None:
    expect_no_problem(ctx, "result", "result 0 for a valid push")


@check(
    "RECV-ACK-SCHEMA",
    "§2.7.4 §2.8.4",
    "receiver",
    Level.MUST,
    "every acknowledgement has exactly cmd, seqid and result, the numbers as JSON integers",
    final=True,
    interpretations=("U4",),
)
def ack_schema(ctx: ReceiverContext) -> None:
    # answers the other RECV-ACK checks found wrong are theirs; the rest may still have
    # quoted numbers or extra fields that smsapi tolerates (U4)
    pushes = [p for p in answered_pushes(ctx) if p.acknowledged]
    if not pushes:
        raise CheckSkipped("no push was acknowledged (see RECV-ACK-JSON ... RECV-ACK-RESULT)")
    for p in pushes:
        found = schemas.errors(schemas.PUSH_MESSAGES[p.kind.cmd].answer, p.answer)
        if found:
            ctx.deviation(
                "U4", "the answer of §2.7.6 / §2.8.6 (schemas/)", "; ".join(found), p.exchange
            )
            return


@check(
    "RECV-ACK-TIME",
    "§2.7.1 §2.8.1",
    "receiver",
    Level.SHOULD,
    "every push is answered within the answer limit (接收到数据后立即回应)",
    final=True,
    interpretations=("U1",),
)
def ack_time(ctx: ReceiverContext) -> None:
    limit = ctx.settings.answer_limit
    pushes = answered_pushes(ctx, burst=False)
    slow = [p for p in pushes if not p.answered or p.elapsed > limit]
    times = [p.elapsed for p in pushes if p.answered]
    if times:
        ctx.detail(
            "answer_s", {"median": round(statistics.median(times), 3), "max": round(max(times), 3)}
        )
    if slow:
        worst = max(slow, key=lambda p: p.elapsed)
        got = worst.error or f"{worst.elapsed:.2f} s"
        raise CheckFailed(
            f"an answer within {limit:g} s",
            f"{len(slow)} of {len(pushes)} pushes slower, the slowest: {got} "
            f"({worst.kind.cmd} of {len(worst.items)} item(s))",
            [worst.exchange],
            details={"slow": [p.summary() for p in slow[:20]]},
        )
