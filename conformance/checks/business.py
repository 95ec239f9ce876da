"""business: the tender's own requirements measured over the run (§2.1.2, §2.1.3)."""

from __future__ import annotations

from smsapi.mobile import Operator

from .. import metrics
from ..catalogue import Level, check
from ..context import RunContext
from ..outcomes import CheckFailed, CheckSkipped
from .matching import settled_messages

NETWORKS = (Operator.CHINA_MOBILE, Operator.CHINA_UNICOM, Operator.CHINA_TELECOM)


@check(
    "BIZ-CHANNEL-12122",
    "tender §2.1.2",
    "business",
    Level.MUST,
    "one channel number for China Mobile, Unicom and Telecom, ending in 12122",
    cost=len(NETWORKS),
    interpretations=("B1",),
)
def channel(ctx: RunContext) -> None:
    covered = {m.mobile for m in ctx.ledger.messages if m.reports}
    for operator in NETWORKS:
        numbers = ctx.mobiles_of(operator)
        if numbers and not covered.intersection(numbers):
            sent = ctx.send_single(numbers[0], ctx.text(), custid=ctx.custid())
            ctx.expect_accepted(sent, f"a message to {operator.label_zh}")
    ctx.await_reports(ctx.sent_messages())
    found = metrics.channels(ctx.ledger, [mo.data for mo in ctx.mos])
    ctx.detail("channels", found)
    if not found:
        raise CheckSkipped("no report or MO with a spno arrived")
    numbers = {c for values in found.values() for c in values}
    suffix = ctx.config.channel_suffix
    wrong = sorted(c for c in numbers if not c.endswith(suffix))
    if wrong:
        raise CheckFailed(f"a channel number ending in {suffix}", f"{wrong}")
    if len(numbers) > 1:
        raise CheckFailed("one channel number for every network", str(found))
    missing = [op.label_zh for op in NETWORKS if op.value not in found]
    if missing:
        ctx.warn(f"not covered (no test mobile or no report): {', '.join(missing)}", ("B1",))


@check(
    "BIZ-DELIVERY-5S",
    "tender §2.1.3",
    "business",
    Level.MUST,
    "delivery time (report rtime - stime) within 5 s for at least 99 % of delivered segments",
    interpretations=("B2", "M7", "L1"),
    final=True,
)
def delivery_time(ctx: RunContext) -> None:
    settled_messages(ctx)
    figures = metrics.delivery(ctx.ledger)
    ctx.detail("latency_s", figures["latency_s"])
    ctx.detail("arrival_s", figures["arrival_s"])
    ctx.detail("within_limit", figures["within_limit"])
    if figures["within_limit"] is None:
        raise CheckSkipped("no delivered report with readable stime and rtime")
    if figures["within_limit"] < metrics.DELIVERY_RATE_MIN:
        raise CheckFailed(
            f"≥ {metrics.DELIVERY_RATE_MIN:.0%} of delivered segments within "
            f"{metrics.DELIVERY_LIMIT_S:.0f} s",
            f"{figures['within_limit']:.2%} (p99 {figures['latency_s']['p99']} s, max "
            f"{figures['latency_s']['max']} s)",
        )


@check(
    "BIZ-DELIVERY-RATE",
    "tender §2.1.3",
    "business",
    Level.MUST,
    "at least 99 % of segments sent to valid numbers reported delivered (status 0)",
    interpretations=("B3", "L2"),
    final=True,
)
def delivery_rate(ctx: RunContext) -> None:
    settled_messages(ctx)
    figures = metrics.delivery(ctx.ledger)
    for key in ("segments_owed", "delivered", "unreported", "rate", "by_operator"):
        ctx.detail(key, figures[key])
    if not figures["segments_owed"]:
        raise CheckSkipped("no segment sent to a valid number")
    if figures["rate"] < metrics.DELIVERY_RATE_MIN:
        raise CheckFailed(
            f"a delivery rate ≥ {metrics.DELIVERY_RATE_MIN:.0%}",
            f"{figures['rate']:.2%} ({figures['delivered']} of {figures['segments_owed']}, "
            f"{figures['unreported']} unreported)",
        )
