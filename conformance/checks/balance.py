"""balance: §2.6 the balance answer and what a send costs."""

from __future__ import annotations

from decimal import Decimal

from smsapi.codec import Format
from smsapi.segments import SINGLE_SEGMENT_CHARS

from ..catalogue import Level, check
from ..context import RunContext
from ..outcomes import CheckFailed
from ..shapes import answer_findings
from .common import judge


@check(
    "BAL-SHAPE",
    "§2.6.6",
    "balance",
    Level.MUST,
    "get_balance: chargetype 0|1, balance an integer, money a six-decimal string, the unused "
    "one zero",
    interpretations=("M9",),
)
def balance_shape(ctx: RunContext) -> None:
    for fmt in (Format.JSON, Format.XML):
        balance = ctx.client(fmt).get_balance()
        ctx.judged("answers")
        if balance.result != 0:
            raise CheckFailed("get_balance result 0", f"result {balance.result}", balance.exchange)
        if fmt is Format.JSON:
            findings = answer_findings("get_balance", balance.answer)
            judge(ctx, findings, "a §2.6.6 balance answer", balance.exchange)
    ctx.detail("balance", balance.answer)


@check(
    "BAL-CHARGED",
    "§2.6.6",
    "balance",
    Level.MUST,
    "a billed send lowers the balance: under chargetype 0 by its segments (a short and a "
    "two-segment message: 3), under chargetype 1 by some money; never unchanged or higher, "
    "nor (strict) by more than the segments",
    cost=3,
    interpretations=("F16",),
)
def balance_charged(ctx: RunContext) -> None:
    before = ctx.client().get_balance()
    if before.result != 0:
        raise CheckFailed("get_balance result 0", f"result {before.result}", before.exchange)
    mobile = ctx.mobiles(1)[0]
    texts = (ctx.text(), ctx.text(SINGLE_SEGMENT_CHARS + 1))
    for text in texts:
        sent = ctx.send_single(mobile, text, custid=ctx.custid())
        ctx.expect_accepted(sent, f"single_send of {ctx.segments(text)} segment(s)")
    segments = sum(ctx.segments(t) for t in texts)
    # a carrier may bill on delivery: read the balance once the reports came
    ctx.await_reports(ctx.sent_messages())
    after = ctx.client().get_balance()
    if after.result != 0:
        raise CheckFailed("get_balance result 0", f"result {after.result}", after.exchange)
    change = f"{before.answer} → {after.answer}"
    if before.chargetype == 1:
        money = Decimal(before.money) - Decimal(after.money)
        ctx.detail("money_spent", str(money))
        if money <= 0:
            raise CheckFailed(
                "money lowered by two accepted sends (chargetype 1)", change, after.exchange
            )
        return
    spent = before.balance - after.balance
    ctx.detail("messages_spent", spent)
    if spent <= 0:
        raise CheckFailed(
            f"the balance lowered by {segments} after 3 billed segments (chargetype 0)",
            change,
            after.exchange,
        )
    if spent == len(texts):  # billed per message, not per segment
        ctx.deviation(
            "F16", f"the balance lowered by its {segments} segments", change, after.exchange
        )
    elif spent > segments:  # over-charged; lenient allows other traffic or late billing
        ctx.deviation(
            "F16",
            f"the balance lowered by {segments} (the segments sent, chargetype 0)",
            f"lowered by {spent}, more than the segments sent: {change}",
            after.exchange,
        )
    elif spent != segments:
        raise CheckFailed(
            f"the balance lowered by {segments} (the segments sent, chargetype 0)",
            change,
            after.exchange,
        )
