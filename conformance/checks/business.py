"""business: the tender's own requirements measured over the run (§2.1.2, §2.1.3).
Delivery time is the suite's own clock (smsapi.timing): send request → report arrival,
the carrier's rtime - stime reported beside it."""

from __future__ import annotations

from smsapi.mobile import Operator
from smsapi.tender import CHANNEL_SUFFIX, DELIVERY_LIMIT_S, DELIVERY_RATE_MIN

from .. import metrics
from ..catalogue import Level, check
from ..config import VendorConfig
from ..context import NO_REPORT, RunContext, run_wide_cost
from ..ledger import reports_of
from ..outcomes import CheckFailed, CheckSkipped, Inconclusive
from .common import send_numbered

NETWORKS = (Operator.CHINA_MOBILE, Operator.CHINA_UNICOM, Operator.CHINA_TELECOM)


@check(
    "BIZ-CHANNEL-12122",
    "tender §2.1.2",
    "business",
    Level.MUST,
    f"one channel number for China Mobile, Unicom and Telecom, ending in {CHANNEL_SUFFIX}",
    cost=len(NETWORKS),
    interpretations=("B1",),
)
def channel(ctx: RunContext) -> None:
    for operator in NETWORKS:
        numbers = ctx.mobiles_of(operator)
        if numbers:
            sent = ctx.send_single(numbers[0], ctx.text(), custid=ctx.custid())
            ctx.expect_accepted(sent, f"a message to {operator.label_zh}")
    messages = ctx.sent_messages()
    if not messages:
        raise Inconclusive(
            "no test mobile of China Mobile, Unicom or Telecom configured ([test_mobiles])"
        )
    ctx.await_reports(messages)
    ctx.require_evidence("reports", len(reports_of(messages)), NO_REPORT.format(n=len(messages)))
    found = metrics.channels_of(messages, [])
    ctx.detail("channels", found)
    if not found:
        raise CheckFailed("reports carrying spno (§2.5.6)", "no report with a spno")
    channels = {c for values in found.values() for c in values}
    suffix = ctx.config.channel_suffix
    wrong = sorted(c for c in channels if not c.endswith(suffix))
    if wrong:
        raise CheckFailed(f"a channel number ending in {suffix}", f"{wrong}")
    if len(channels) > 1:
        raise CheckFailed("one channel number for every network", str(found))
    missing = [op.label_zh for op in NETWORKS if op.value not in found]
    if missing:
        ctx.warn(f"not covered (no test mobile or no report): {', '.join(missing)}", ("B1",))


@check(
    "BIZ-DELIVERY-5S",
    "tender §2.1.3",
    "business",
    Level.MUST,
    f"delivery time by the suite's clock (send → report arrival) within {DELIVERY_LIMIT_S:g} s "
    f"for at least {DELIVERY_RATE_MIN:.0%} of delivered segments",
    cost=run_wide_cost,
    interpretations=("B2", "M7", "L1", "M12"),
    final=True,
)
def delivery_time(ctx: RunContext) -> None:
    messages = ctx.run_messages()
    figures = metrics.delivery(ctx.ledger)
    for key in ("latency_s", "bound_s", "within_limit", "carrier_s", "untimed"):
        ctx.detail(key, figures[key])
    ctx.require_evidence(
        "reports",
        figures["timed"],
        f"no delivered report of the run's {len(messages)} message(s) was timed closely "
        f"enough to tell within {DELIVERY_LIMIT_S:g} s from late",
    )
    if figures["within_limit"] < DELIVERY_RATE_MIN:
        late = [
            s for s in metrics.samples(ctx.ledger) if s.delivered and s.decided and not s.within
        ]
        raise CheckFailed(
            f"≥ {DELIVERY_RATE_MIN:.0%} of delivered segments within "
            f"{DELIVERY_LIMIT_S:.0f} s of the send by the suite's clock",
            f"{figures['within_limit']:.2%} (p99 {figures['latency_s']['p99']} s, max "
            f"{figures['latency_s']['max']} s, arrival bound ≤ {figures['bound_s']} s; "
            f"the carrier's rtime - stime says max {figures['carrier_s']['max']} s); "
            f"e.g. {late[0].latency_s} s to {late[0].operator}",
        )


def delivery_rate_cost(cfg: VendorConfig) -> int:
    """What BIZ-DELIVERY-RATE may send of its own: the sample ([business] rate_sample)
    when the run's other checks could not send that many segments themselves."""
    from ..catalogue import select  # the catalogue imports the checks

    try:
        chosen = select(cfg.only or None)
    except ValueError:
        chosen = []
    others = sum(c.worst_cost(cfg) for c in chosen if not c.final)
    return 0 if others >= cfg.delivery_rate_sample else cfg.delivery_rate_sample


def top_up_segments(ctx: RunContext, count: int) -> None:
    """count more short messages for the rate sample, owed their reports."""
    send_numbered(ctx, count, "rate sample")
    ctx.settled = False  # the new messages are owed their reports


@check(
    "BIZ-DELIVERY-RATE",
    "tender §2.1.3",
    "business",
    Level.MUST,
    f"at least {DELIVERY_RATE_MIN:.0%} of segments sent to valid numbers reported delivered "
    "(status 0), judged "
    "on a sample of at least [business] rate_sample segments (the check tops the run up)",
    cost=delivery_rate_cost,
    interpretations=("B3", "L2"),
    final=True,
)
def delivery_rate(ctx: RunContext) -> None:
    ctx.run_messages()
    # a 99 % rate cannot be told on a few segments: send the rest of the sample first
    sample = ctx.config.delivery_rate_sample
    owed = metrics.delivery(ctx.ledger)["segments_owed"]
    if owed < sample:
        try:
            top_up_segments(ctx, sample - owed)
        except CheckSkipped as exc:
            raise Inconclusive(
                f"a {DELIVERY_RATE_MIN:.0%} rate needs at least {sample} segments to valid "
                f"numbers; the run had {owed} and could not send the rest ({exc}): run the "
                "whole catalogue, raise --budget, or lower [business] rate_sample"
            ) from None
        ctx.run_messages()
    figures = metrics.delivery(ctx.ledger)
    for key in ("segments_owed", "delivered", "unreported", "rate", "by_operator"):
        ctx.detail(key, figures[key])
    # Owed segments are the evidence: one never reported counts against the rate.
    ctx.require_evidence("segments", figures["segments_owed"], "no segment sent to a valid number")
    if figures["segments_owed"] < sample:
        raise Inconclusive(
            f"a {DELIVERY_RATE_MIN:.0%} rate needs at least {sample} segments to valid "
            f"numbers; the run had {figures['segments_owed']} (run the whole catalogue or "
            "raise --budget)"
        )
    if figures["rate"] < DELIVERY_RATE_MIN:
        raise CheckFailed(
            f"a delivery rate ≥ {DELIVERY_RATE_MIN:.0%}",
            f"{figures['rate']:.2%} ({figures['delivered']} of {figures['segments_owed']}, "
            f"{figures['unreported']} unreported)",
        )
