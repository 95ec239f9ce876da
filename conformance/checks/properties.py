"""Property-based checks: hypothesis draws mobiles, contents, custids and exdata, each run
bounded by the budget; the seed and example database are recorded for replay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import example, given, seed, settings
from hypothesis import strategies as st

from smsapi.errors import Result
from smsapi.fields import custom_field_rule
from smsapi.segments import MAX_CONTENT_CHARS, segments_for_length

from .. import strategies
from ..catalogue import Level, check
from ..config import VendorConfig
from ..context import RunContext
from ..ledger import Outgoing
from ..outcomes import CheckFailed
from ..strategies import examples_within, hypothesis_settings
from .common import expect_refusal

GENERATED_MAX_LENGTH = 201  # generated lengths stay within three segments (budget)
EDGES_COST = sum(segments_for_length(n) for n in strategies.CONTENT_EDGES)


def run(ctx: RunContext, test: Callable[..., Any], max_examples: int) -> None:
    seed(ctx.seed)(settings(hypothesis_settings(ctx, max_examples))(test))()


@check(
    "PROP-INVALID-MOBILES",
    "§3.2 §4",
    "limits",
    Level.MUST,
    "property: single_send to any number §3.2 rejects is refused (strict: -100012)",
    cost=lambda cfg: cfg.max_examples,
    interpretations=("F2", "F2b"),
)
def invalid_mobiles(ctx: RunContext) -> None:
    base = ctx.mobiles(1)[0]
    tried: list[str] = []

    @given(mobile=strategies.invalid_mobiles(base))
    def test(mobile: str) -> None:
        tried.append(mobile)
        sent = ctx.send_single(mobile, ctx.text())
        expect_refusal(ctx, sent, f"invalid mobile {mobile!r}", Result.MOBILE_INVALID, ctx.strict)

    run(ctx, test, examples_within(ctx, 1))
    ctx.detail("mobiles", tried[:20])


def content_cost(cfg: VendorConfig) -> int:
    return EDGES_COST + cfg.max_examples * segments_for_length(GENERATED_MAX_LENGTH)


@check(
    "PROP-CONTENT-LENGTHS",
    "§2.1.5 §4",
    "limits",
    Level.MUST,
    "property: GBK content of 70/71/134/135/1000 characters (signature in) is accepted, "
    "1001 refused with -100011",
    cost=content_cost,
    interpretations=("F8", "F9"),
)
def content_lengths(ctx: RunContext) -> None:
    mobile = ctx.mobiles(1)[0]
    lengths: list[int] = []
    signature = ctx.config.signature_length
    per_example = segments_for_length(GENERATED_MAX_LENGTH)

    @st.composite
    def texts(draw: st.DrawFn) -> str:
        length = draw(st.integers(max(1, signature + 1), GENERATED_MAX_LENGTH))
        return draw(strategies.gbk_text(length - signature))

    def test(text: str) -> None:
        total = len(text) + signature
        lengths.append(total)
        sent = ctx.send("single_send", [Outgoing(mobile, text, custid=ctx.custid())])
        if total <= MAX_CONTENT_CHARS:
            ctx.expect_accepted(sent, f"a content of {total} characters with the signature")
            ctx.judged("sends")  # (expect_refusal counts the refused ones)
        else:
            expect_refusal(ctx, sent, f"{total} characters", Result.CONTENT_TOO_LONG)

    test = given(text=texts())(test)
    for edge in strategies.CONTENT_EDGES:  # each edge once, before generated lengths
        test = example(text=edge_text(edge - signature))(test)
    run(ctx, test, examples_within(ctx, per_example, EDGES_COST))
    ctx.detail("lengths", lengths)


def edge_text(length: int) -> str:
    """A fixed text of this many characters, Chinese and ASCII mixed."""
    return ("通渝ETC充值成功，余额100元。" * (length // 16 + 1))[:length]


@check(
    "PROP-CUSTOM-FIELDS",
    "§2.1.5 §2.1.6",
    "limits",
    Level.MUST,
    "property: any custid / exdata of [A-Za-z0-9_-]{1,64} is accepted and custid echoed; "
    "others refused",
    cost=lambda cfg: cfg.max_examples,
    interpretations=("F11",),
)
def custom_fields(ctx: RunContext) -> None:
    mobile = ctx.mobiles(1)[0]

    @given(
        custid=st.one_of(strategies.CUSTOM_VALID, strategies.custom_invalid()),
        exdata=st.one_of(strategies.CUSTOM_VALID, strategies.custom_invalid()),
    )
    def test(custid: str, exdata: str) -> None:
        sent = ctx.send("single_send", [Outgoing(mobile, ctx.text(), custid=custid, exdata=exdata)])
        if custom_field_rule(custid) is None and custom_field_rule(exdata) is None:
            ctx.judged("sends")  # (expect_refusal counts the refused ones)
            ctx.expect_accepted(sent, f"custid {custid!r}, exdata {exdata!r}")
            if sent.custid != custid:
                raise CheckFailed(f"custid {custid!r} echoed", repr(sent.custid), sent.exchange)
        else:
            expect_refusal(ctx, sent, f"custid {custid!r} / exdata {exdata!r}")

    run(ctx, test, examples_within(ctx, 1))
