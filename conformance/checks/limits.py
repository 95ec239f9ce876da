"""limits: mobiles per request, content length, field lengths and character classes,
retsize caps (§2.x.5, §2.4.5, §2.5.5)."""

from __future__ import annotations

import time

from smsapi.endpoints import ENDPOINTS, MAX_BATCH_MOBILES, MAX_MULTI_ITEMS
from smsapi.errors import Result
from smsapi.fields import CUSTOM_MAX
from smsapi.segments import MAX_CONTENT_CHARS, segments_for_length

from ..catalogue import Level, check
from ..config import VendorConfig
from ..context import RunContext
from ..ledger import Outgoing
from ..outcomes import CheckFailed, Inconclusive, NotApplicable
from ..shapes import is_int
from .common import expect_refusal, inject_mos, send_numbered


@check(
    "LIMIT-BATCH-OVER-1000",
    "§2.2.1 §4",
    "limits",
    Level.MUST,
    "batch_send with 1001 mobiles is refused with -100014",
    cost=MAX_BATCH_MOBILES + 1,
)
def batch_over_1000(ctx: RunContext) -> None:
    mobiles = ctx.mobiles(MAX_BATCH_MOBILES + 1, distinct=False)
    sent = ctx.send_batch(mobiles, ctx.text())
    expect_refusal(ctx, sent, "1001 mobiles", Result.TOO_MANY_MOBILES)


@check(
    "LIMIT-BATCH-1000",
    "§2.2.1",
    "limits",
    Level.MUST,
    "batch_send with exactly 1000 mobiles is accepted, and each message reported",
    cost=MAX_BATCH_MOBILES,
)
def batch_1000(ctx: RunContext) -> None:
    mobiles = ctx.mobiles(MAX_BATCH_MOBILES, distinct=False)
    sent = ctx.send_batch(mobiles, ctx.text(), custid=ctx.custid())
    ctx.expect_accepted(sent, "1000 mobiles")
    ctx.expect_reported("1000 mobiles")


@check(
    "LIMIT-MULTI-OVER-100",
    "§2.3.1",
    "limits",
    Level.MUST,
    "multi_send with 101 items is refused (any code)",
    cost=MAX_MULTI_ITEMS + 1,
    interpretations=("F5",),
)
def multi_over_100(ctx: RunContext) -> None:
    mobiles = ctx.mobiles(MAX_MULTI_ITEMS + 1, distinct=False)
    sent = ctx.send_multi([Outgoing(m, ctx.text()) for m in mobiles])
    expect_refusal(ctx, sent, "101 multimt items")


@check(
    "LIMIT-MULTI-100",
    "§2.3.1",
    "limits",
    Level.MUST,
    "multi_send with exactly 100 items is accepted, and each item reported",
    cost=MAX_MULTI_ITEMS,
)
def multi_100(ctx: RunContext) -> None:
    mobiles = ctx.mobiles(MAX_MULTI_ITEMS, distinct=False)
    custid = ctx.custid()
    sent = ctx.send_multi([Outgoing(m, ctx.text(), custid=custid) for m in mobiles])
    ctx.expect_accepted(sent, "100 multimt items")
    ctx.expect_reported("100 multimt items")


def content_cost(cfg: VendorConfig) -> int:
    return segments_for_length(MAX_CONTENT_CHARS) + segments_for_length(MAX_CONTENT_CHARS + 1)


@check(
    "LIMIT-CONTENT-1000",
    "§2.1.5 §4",
    "limits",
    Level.MUST,
    "content of 1000 characters (signature included) is accepted, 1001 refused with -100011",
    cost=content_cost,
    interpretations=("F8",),
)
def content_1000(ctx: RunContext) -> None:
    mobile = ctx.mobiles(1)[0]
    sent = ctx.send_single(mobile, ctx.text(MAX_CONTENT_CHARS), custid=ctx.custid())
    ctx.expect_accepted(sent, "1000 characters with the signature")
    over = ctx.send_single(mobile, ctx.text(MAX_CONTENT_CHARS + 1))
    expect_refusal(ctx, over, "1001 characters with the signature", Result.CONTENT_TOO_LONG)


@check(
    "LIMIT-CONTENT-EMPTY",
    "§2.1.5",
    "limits",
    Level.MUST,
    "an empty content is refused",
    cost=1,
    interpretations=("F7",),
)
def content_empty(ctx: RunContext) -> None:
    sent = ctx.send("single_send", [Outgoing(ctx.mobiles(1)[0], "")])
    expect_refusal(ctx, sent, "an empty content")


@check(
    "LIMIT-SVRTYPE",
    "§2.1.5 §4",
    "limits",
    Level.MUST,
    "svrtype: 10 letters/digits accepted; 11 characters or a non-alphanumeric one → -100252",
    cost=3,
    interpretations=("F12",),
)
def svrtype(ctx: RunContext) -> None:
    mobile = ctx.mobiles(1)[0]
    ok = ctx.send("single_send", [Outgoing(mobile, ctx.text())], extra={"svrtype": "SMS0012345"})
    ctx.expect_accepted(ok, "svrtype SMS0012345")
    for bad in ("SMS00123456", "SMS-01"):
        sent = ctx.send("single_send", [Outgoing(mobile, ctx.text())], extra={"svrtype": bad})
        expect_refusal(ctx, sent, f"svrtype {bad!r}", Result.SVRTYPE_INVALID)


@check(
    "LIMIT-CUSTID",
    "§2.1.5 §4",
    "limits",
    Level.MUST,
    "custid: 64 of [A-Za-z0-9_-] accepted; 65 characters or another character refused",
    cost=3,
    interpretations=("F11",),
)
def custid_rules(ctx: RunContext) -> None:
    custom_field_rules(ctx, "custid")


@check(
    "LIMIT-EXDATA",
    "§2.1.5 §4",
    "limits",
    Level.MUST,
    "exdata: 64 of [A-Za-z0-9_-] accepted; 65 characters or another character refused",
    cost=3,
    interpretations=("F11",),
)
def exdata_rules(ctx: RunContext) -> None:
    custom_field_rules(ctx, "exdata")


def custom_field_rules(ctx: RunContext, name: str) -> None:
    mobile = ctx.mobiles(1)[0]
    longest = (ctx.custid() + "_-" + "x" * CUSTOM_MAX)[:CUSTOM_MAX]
    ok = ctx.send("single_send", [Outgoing(mobile, ctx.text(), **{name: longest})])
    ctx.expect_accepted(ok, f"a {name} of 64 characters")
    if name == "custid" and ok.custid != longest:
        raise CheckFailed(f"custid {longest} echoed (§2.1.6)", repr(ok.custid), ok.exchange)
    codes = {}
    for bad in (longest + "y", ctx.custid() + "!#"):
        sent = ctx.send("single_send", [Outgoing(mobile, ctx.text(), **{name: bad})])
        expect_refusal(ctx, sent, f"{name} {bad!r}")
        codes[bad] = sent.result
    ctx.detail("codes", codes)  # F11: the code is reported, not judged


@check(
    "LIMIT-EMPTY-OPTIONAL",
    "§2.1.5",
    "limits",
    Level.MUST,
    "optional fields sent empty (svrtype, exno, custid, exdata) mean absent",
    cost=1,
    interpretations=("F1",),
)
def empty_optional(ctx: RunContext) -> None:
    extra = {"svrtype": "", "exno": "", "custid": "", "exdata": ""}
    sent = ctx.send("single_send", [Outgoing(ctx.mobiles(1)[0], ctx.text())], extra=extra)
    ctx.expect_accepted(sent, "empty optional fields")
    if not sent.custid:
        raise CheckFailed(
            "a carrier-generated custid when none is given (§2.1.6)", "custid empty", sent.exchange
        )


VALID_EXNO = "12"  # short enough for any channel of ≤ 18 digits
OVER_EXNO = "1234567"  # seven digits: §2.1.5 长度不能超过6位 … 若超出则exno无效


@check(
    "LIMIT-EXNO",
    "§2.1.5 §2.5.6",
    "limits",
    Level.MUST,
    "a valid exno reaches the report (exno, end of spno); one over 6 digits is refused or "
    "ignored, never reported",
    cost=2,
    interpretations=("F10",),
)
def exno_over(ctx: RunContext) -> None:
    mobile = ctx.mobiles(1)[0]
    valid = ctx.send_single(mobile, ctx.text(), custid=ctx.custid(), exno=VALID_EXNO)
    ctx.expect_accepted(valid, f"exno {VALID_EXNO}")
    over = ctx.send_single(mobile, ctx.text(), custid=ctx.custid(), exno=OVER_EXNO)
    ctx.judged("sends")
    ctx.detail("exno_1234567", "accepted" if over.result == 0 else f"refused {over.result}")
    if over.result is None:
        raise CheckFailed("an integer result", repr(over.answer.get("result")), over.exchange)
    messages = ctx.sent_messages()
    if not ctx.await_reports(messages):
        raise Inconclusive(
            f"no report came within [timing] report_timeout {ctx.config.report_timeout:g} s "
            "for the exno sends: raise it"
        )
    for message in messages:
        expected = VALID_EXNO if message.exno == VALID_EXNO else ""
        for report in message.all_reports():
            ctx.judged("reports")
            exno, spno = str(report.data.get("exno", "")), str(report.data.get("spno", ""))
            if exno != expected or (expected and not spno.endswith(expected)):
                raise CheckFailed(
                    f"exno {message.exno} sent: the report's exno {expected!r}"
                    + (f" and spno ending in {expected}" if expected else " (ignored)"),
                    f"exno {exno!r}, spno {spno!r}",
                    [e for e in (message.exchange, report.exchange) if e],
                )
            if not expected and spno.endswith(OVER_EXNO):
                raise CheckFailed(
                    f"exno {OVER_EXNO} ignored (§2.1.5 exno无效)",
                    f"spno {spno!r}",
                    [e for e in (message.exchange, report.exchange) if e],
                )


@check(
    "LIMIT-MOBILE-SINGLE-INVALID",
    "§3.2 §4",
    "limits",
    Level.MUST,
    "single_send to an invalid number is refused: -100012 (strict) or any code (lenient)",
    cost=1,
    interpretations=("F2", "F2b"),
)
def single_invalid(ctx: RunContext) -> None:
    bad = ctx.mobiles(1)[0][:-1]  # ten digits: no phone has it
    sent = ctx.send_single(bad, ctx.text())
    expect_refusal(
        ctx, sent, f"invalid mobile {bad}", Result.MOBILE_INVALID, strict_code=ctx.strict
    )


@check(
    "LIMIT-MOBILE-SINGLE-TWO",
    "§2.1.1",
    "limits",
    Level.MUST,
    "single_send with two numbers is refused (any code)",
    cost=2,
    interpretations=("F3",),
)
def single_two(ctx: RunContext) -> None:
    mobiles = ctx.mobiles(2, distinct=False)
    sent = ctx.send("single_send", [Outgoing(",".join(mobiles), ctx.text())])
    expect_refusal(ctx, sent, "two numbers in single_send")


@check(
    "LIMIT-MULTIMT-EMPTY",
    "§2.3.5",
    "limits",
    Level.MUST,
    "multi_send with an empty multimt is refused",
    interpretations=("F6",),
)
def multimt_empty(ctx: RunContext) -> None:
    answer, exchange = ctx.client().call("multi_send", {"multimt": []})
    ctx.judged("sends")
    if not is_int(answer.get("result")) or answer.get("result") == 0:
        raise CheckFailed(
            "an empty multimt refused (an integer §4 code)",
            f"result {answer.get('result', '(missing)')!r}",
            exchange,
        )


# §2.4.5 / §2.5.5 the retsize probes, in order: (retsize, stage). Stage 1 arranges enough
# that each of the first four sees more than it may take (the three cap probes take a
# full cap each); 0 and -1 then each take what is left of their own small stage.
RETSIZE_PROBES = ((1, 1), (None, 1), ("cap+1", 1), (100000, 1), (0, 1), (-1, 2))
RETSIZE_TAIL = 2  # items left for the 0 probe, and arranged again for the -1 probe


def retsize_limit(retsize: int | None, cap: int) -> int:
    """§2.4.5 / §2.5.5 the most one pull may give: retsize up to the cap; ≤ 0 or absent
    means the cap (默认200条 / 默认500条), over the cap the cap (超过...按...返回)."""
    return min(retsize, cap) if retsize is not None and retsize > 0 else cap


def retsize_volume(cap: int) -> tuple[int, int]:
    """Items to arrange in stage 1 and stage 2."""
    return 1 + 3 * cap + RETSIZE_TAIL, RETSIZE_TAIL


def rpt_retsize_cost(cfg: VendorConfig) -> int:
    probe = 1 if cfg.callback_url else 0  # reports_pushed
    return sum(retsize_volume(ENDPOINTS["get_rpt"].retsize_cap or 0)) + probe


def arrange_reports(ctx: RunContext, count: int) -> None:
    """count short messages to the test mobiles, reports owed, then time to be due."""
    send_numbered(ctx, count, "arranging reports")
    time.sleep(ctx.config.report_ready)  # a real carrier's reports take a while to be due


def arrange_retsize(ctx: RunContext, endpoint: str, count: int) -> None:
    if endpoint == "get_rpt":
        arrange_reports(ctx, count)
    elif inject_mos(ctx, count) < count:
        raise Inconclusive(
            f"get_mo's retsize needs {count} MOs at once: set [mo] inject_url (a carrier that "
            "can inject MOs, e.g. the mock's /__admin/accounts/<userid>/mo)"
        )


def drain_pull(ctx: RunContext, endpoint: str) -> int:
    """Take what the target holds before arranging, so that what comes is ours."""
    pull = ctx.pull_reports if endpoint == "get_rpt" else ctx.pull_mos
    taken = 0
    for _ in range(100):
        pulled = pull(None)
        taken += len(pulled.items)
        if not pulled.items:
            break
    return taken


def retsize_checks(ctx: RunContext, endpoint: str) -> None:
    """Each probe gives at most its limit, and, when more of ours are owed, not fewer:
    min(owed, limit) (§2.4.5 / §2.5.5, F14). Owed counts what was arranged and not yet
    taken since the drain: a lower bound, never more than the carrier holds."""
    cap = ENDPOINTS[endpoint].retsize_cap
    assert cap
    pull = ctx.pull_reports if endpoint == "get_rpt" else ctx.pull_mos
    if endpoint == "get_rpt" and ctx.config.callback_url:
        reports_pushed(ctx)
    drain_pull(ctx, endpoint)
    first, second = retsize_volume(cap)
    arrange_retsize(ctx, endpoint, first)
    owed, seen, stage = first, {}, 1
    for retsize, probe_stage in RETSIZE_PROBES:
        if probe_stage != stage:
            arrange_retsize(ctx, endpoint, second)
            owed, stage = owed + second, probe_stage
        value = cap + 1 if retsize == "cap+1" else retsize
        assert value is None or isinstance(value, int)
        pulled = pull(value)
        label = "absent" if value is None else str(value)
        if pulled.result != 0:
            raise CheckFailed(
                f"retsize {label}: result 0", f"result {pulled.result}", pulled.exchange
            )
        limit, got = retsize_limit(value, cap), len(pulled.items)
        floor = min(limit, owed)
        seen[label] = f"{got} of {owed} owed"
        if got > limit:
            raise CheckFailed(
                f"retsize {label}: at most {limit} {ENDPOINTS[endpoint].list_field} "
                f"({endpoint} cap {cap}; {owed} owed)",
                f"{got} items",
                pulled.exchange,
                details={"items_per_retsize": seen},
            )
        if got < floor:
            pushed_instead(ctx, endpoint)
            raise CheckFailed(
                f"retsize {label}: {floor} {ENDPOINTS[endpoint].list_field} ({owed} owed, "
                f"{'default ' if limit == cap and (value or 0) <= 0 else ''}limit {limit}; "
                f"after [timing] report_ready {ctx.config.report_ready:g} s)",
                f"{got} items",
                pulled.exchange,
                details={"items_per_retsize": seen},
            )
        ctx.judged("probes")
        owed = max(0, owed - got)
    ctx.detail("items_per_retsize", seen)


def reports_pushed(ctx: RunContext) -> None:
    """With the suite's receiver up, one message first: if its report comes by push, the
    account pushes reports and get_rpt hands none (P1), before 1505 are spent on it."""
    sent = ctx.send_single(ctx.mobiles(1)[0], ctx.text(), custid=ctx.custid())
    ctx.expect_accepted(sent, "single_send (does the account push its reports?)")
    ctx.await_reports(ctx.sent_messages())
    pushed_instead(ctx, "get_rpt")


def pushed_instead(ctx: RunContext, endpoint: str) -> None:
    """P1: while a kind is pushed, get_rpt / get_mo hand none of it: nothing to judge."""
    if endpoint == "get_rpt":
        pushed = any(r.source == "push" for m in ctx.sent_messages() for r in m.all_reports())
    else:
        pushed = any(mo.source == "push" for mo in ctx.mos)
    if pushed:
        raise NotApplicable(
            f"the account pushes what {endpoint} would hand out (P1): its retsize is judged on "
            "an account that pulls"
        )


@check(
    "LIMIT-RPT-RETSIZE",
    "§2.5.5",
    "limits",
    Level.MUST,
    "get_rpt gives at most retsize reports, at most 500; ≤ 0 or absent means 500: with more "
    "owed, each probe gives exactly min(owed, its limit)",
    cost=rpt_retsize_cost,
    interpretations=("F14",),
)
def rpt_retsize(ctx: RunContext) -> None:
    retsize_checks(ctx, "get_rpt")


@check(
    "LIMIT-MO-RETSIZE",
    "§2.4.5",
    "limits",
    Level.MUST,
    "get_mo gives at most retsize MOs, at most 200; ≤ 0 or absent means 200: with more "
    "owed (MOs injected), each probe gives exactly min(owed, its limit)",
    interpretations=("F14",),
)
def mo_retsize(ctx: RunContext) -> None:
    retsize_checks(ctx, "get_mo")
