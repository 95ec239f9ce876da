"""limits: mobiles per request, content length, field lengths and character classes,
retsize caps (§2.x.5, §2.4.5, §2.5.5)."""

from __future__ import annotations

from smsapi.client import SendResult
from smsapi.endpoints import ENDPOINTS, MAX_BATCH_MOBILES, MAX_MULTI_ITEMS
from smsapi.errors import Result, result_text
from smsapi.fields import CUSTOM_MAX
from smsapi.segments import MAX_CONTENT_CHARS, segments_for_length

from ..catalogue import Level, check
from ..config import VendorConfig
from ..context import RunContext
from ..ledger import Item
from ..outcomes import CheckFailed
from ..shapes import answer_findings
from . import judge


def expect_refusal(
    ctx: RunContext,
    sent: SendResult,
    what: str,
    code: Result | None = None,
    strict_code: bool = True,
) -> None:
    """Refused (result ≠ 0) in the failure shape; with code, that §4 code (in the strict
    profile only when strict_code is False)."""
    if sent.result == 0:
        raise CheckFailed(f"{what} refused", f"accepted, msgid {sent.msgid}", sent.exchange)
    # the three send endpoints share one answer shape (§2.1.9, §2.2.9, §2.3.9)
    judge(ctx, answer_findings("single_send", sent.answer), "the failure shape", sent.exchange)
    ctx.detail("result", sent.result)
    if code is not None and sent.result != code:
        expected = f"{what}: result {int(code)} ({result_text(code, 'en')})"
        got = f"result {sent.result} ({result_text(sent.result, 'en')})"
        if strict_code:
            raise CheckFailed(expected, got, sent.exchange)
        ctx.warn(f"expected {expected}; got {got}")


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
    "batch_send with exactly 1000 mobiles is accepted",
    cost=MAX_BATCH_MOBILES,
)
def batch_1000(ctx: RunContext) -> None:
    mobiles = ctx.mobiles(MAX_BATCH_MOBILES, distinct=False)
    sent = ctx.send_batch(mobiles, ctx.text(), custid=ctx.custid())
    ctx.expect_accepted(sent, "1000 mobiles")


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
    sent = ctx.send_multi([Item(m, ctx.text()) for m in mobiles])
    expect_refusal(ctx, sent, "101 multimt items")


@check(
    "LIMIT-MULTI-100",
    "§2.3.1",
    "limits",
    Level.MUST,
    "multi_send with exactly 100 items is accepted",
    cost=MAX_MULTI_ITEMS,
)
def multi_100(ctx: RunContext) -> None:
    mobiles = ctx.mobiles(MAX_MULTI_ITEMS, distinct=False)
    custid = ctx.custid()
    sent = ctx.send_multi([Item(m, ctx.text(), custid=custid) for m in mobiles])
    ctx.expect_accepted(sent, "100 multimt items")


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
    sent = ctx.send("single_send", [Item(ctx.mobiles(1)[0], "")])
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
    ok = ctx.send("single_send", [Item(mobile, ctx.text())], extra={"svrtype": "SMS0012345"})
    ctx.expect_accepted(ok, "svrtype SMS0012345")
    for bad in ("SMS00123456", "SMS-01"):
        sent = ctx.send("single_send", [Item(mobile, ctx.text())], extra={"svrtype": bad})
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
    ok = ctx.send("single_send", [Item(mobile, ctx.text(), **{name: longest})])
    ctx.expect_accepted(ok, f"a {name} of 64 characters")
    if name == "custid" and ok.custid != longest:
        raise CheckFailed(f"custid {longest} echoed (§2.1.6)", repr(ok.custid), ok.exchange)
    codes = {}
    for bad in (longest + "y", ctx.custid() + "!#"):
        sent = ctx.send("single_send", [Item(mobile, ctx.text(), **{name: bad})])
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
    sent = ctx.send("single_send", [Item(ctx.mobiles(1)[0], ctx.text())], extra=extra)
    ctx.expect_accepted(sent, "empty optional fields")
    if not sent.custid:
        raise CheckFailed(
            "a carrier-generated custid when none is given (§2.1.6)", "custid empty", sent.exchange
        )


@check(
    "LIMIT-EXNO",
    "§2.1.5",
    "limits",
    Level.SHOULD,
    "an exno over 6 digits is ignored or refused (informative)",
    cost=1,
    interpretations=("F10",),
)
def exno_over(ctx: RunContext) -> None:
    sent = ctx.send("single_send", [Item(ctx.mobiles(1)[0], ctx.text(), exno="1234567")])
    ctx.detail("exno_1234567", "accepted" if sent.result == 0 else f"refused {sent.result}")


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
    sent = ctx.send("single_send", [Item(",".join(mobiles), ctx.text())])
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
    if answer.get("result") == 0:
        raise CheckFailed("an empty multimt refused", "accepted", exchange)


def retsize_checks(ctx: RunContext, endpoint: str) -> None:
    cap = ENDPOINTS[endpoint].retsize_cap
    assert cap
    pull = ctx.pull_reports if endpoint == "get_rpt" else ctx.pull_mos
    seen = {}
    for retsize in (1, 0, -1, None, cap + 1, 100000):
        pulled = pull(retsize)
        if pulled.result != 0:
            raise CheckFailed(
                f"retsize {retsize}: result 0", f"result {pulled.result}", pulled.exchange
            )
        limit = retsize if retsize and 0 < retsize <= cap else cap
        seen[str(retsize)] = len(pulled.items)
        if len(pulled.items) > limit:
            raise CheckFailed(
                f"retsize {retsize}: at most {limit} items ({ENDPOINTS[endpoint].name} cap {cap})",
                f"{len(pulled.items)} items",
                pulled.exchange,
            )
    ctx.detail("items_per_retsize", seen)


@check(
    "LIMIT-RPT-RETSIZE",
    "§2.5.5",
    "limits",
    Level.MUST,
    "get_rpt gives at most retsize reports, at most 500; ≤ 0 or absent means 500",
    interpretations=("F14",),
)
def rpt_retsize(ctx: RunContext) -> None:
    retsize_checks(ctx, "get_rpt")


@check(
    "LIMIT-MO-RETSIZE",
    "§2.4.5",
    "limits",
    Level.MUST,
    "get_mo gives at most retsize MOs, at most 200; ≤ 0 or absent means 200",
    interpretations=("F14",),
)
def mo_retsize(ctx: RunContext) -> None:
    retsize_checks(ctx, "get_mo")
