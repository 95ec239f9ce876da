"""balance: §2.6 the balance answer and what a send costs."""

from __future__ import annotations

from decimal import Decimal

from smsapi.codec import Format

from ..catalogue import Level, check
from ..context import RunContext
from ..outcomes import CheckFailed
from ..shapes import answer_findings
from . import judge


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
    Level.SHOULD,
    "a send lowers the balance (by one message, or its price) and never raises it",
    cost=1,
    interpretations=("F16",),
)
def balance_charged(ctx: RunContext) -> None:
    before = ctx.client().get_balance()
    sent = ctx.send_single(ctx.mobiles(1)[0], ctx.text(), custid=ctx.custid())
    ctx.expect_accepted(sent, "single_send")
    after = ctx.client().get_balance()
    if before.result or after.result:
        raise CheckFailed("get_balance result 0", f"{before.result} / {after.result}")
    if before.chargetype == 1:
        spent = Decimal(before.money) - Decimal(after.money)
        ctx.detail("money_spent", str(spent))
        ok = spent > 0
    else:
        spent = before.balance - after.balance
        ctx.detail("messages_spent", spent)
        ok = spent >= 1
    if not ok:
        ctx.warn(f"balance did not drop after an accepted send: {before.answer} → {after.answer}")
    if (before.chargetype == 0 and spent < 0) or (before.chargetype == 1 and spent < 0):
        raise CheckFailed(
            "a balance that does not grow after a send", f"{before.answer} → {after.answer}"
        )
