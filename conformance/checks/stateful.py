"""A stateful model of the carrier (hypothesis RuleBasedStateMachine): single, batch and
multi sends, short and long, interleaved with report fetches. Invariant: no id repeats
and no segment is reported twice; at the end each accepted segment has exactly one
matching report."""

from __future__ import annotations

from hypothesis import seed
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, get_state_machine_test, invariant, rule

from smsapi.segments import segments_for_length

from ..catalogue import Level, check
from ..config import VendorConfig
from ..context import RunContext
from ..ledger import Item, SentMessage
from ..outcomes import CheckFailed
from .matching import LONG_LENGTH
from .properties import examples_within, hypothesis_settings

MAX_MOBILES = 2  # per batch / multi step: keeps the worst case of a run small
STEP_COST = MAX_MOBILES * segments_for_length(LONG_LENGTH)


def stateful_cost(cfg: VendorConfig) -> int:
    return max(1, cfg.max_examples // 4) * cfg.stateful_steps * STEP_COST


def carrier_model(ctx: RunContext) -> type[RuleBasedStateMachine]:
    mobiles = ctx.mobiles(MAX_MOBILES, distinct=False)
    lengths = st.sampled_from([None, LONG_LENGTH])  # None: a short text

    class CarrierModel(RuleBasedStateMachine):
        """What was sent and which reports are owed, against what the target does."""

        def __init__(self) -> None:
            super().__init__()
            self.sent: list[SentMessage] = []

        def _accepted(self, endpoint: str, items: list[Item]) -> None:
            result = ctx.send(endpoint, items)
            ctx.expect_accepted(result, endpoint)
            self.sent += [m for m in ctx.ledger.messages if m.exchange is result.exchange]

        @rule(mobile=st.sampled_from(mobiles), length=lengths)
        def single(self, mobile: str, length: int | None) -> None:
            self._accepted("single_send", [Item(mobile, ctx.text(length), custid=ctx.custid())])

        @rule(count=st.integers(1, MAX_MOBILES), length=lengths)
        def batch(self, count: int, length: int | None) -> None:
            text, custid = ctx.text(length), ctx.custid()
            self._accepted("batch_send", [Item(m, text, custid=custid) for m in mobiles[:count]])

        @rule(lengths_=st.lists(lengths, min_size=1, max_size=MAX_MOBILES))
        def multi(self, lengths_: list[int | None]) -> None:
            items = [
                Item(m, ctx.text(n), custid=ctx.custid())
                for m, n in zip(mobiles, lengths_, strict=False)
            ]
            self._accepted("multi_send", items)

        @rule()
        def fetch(self) -> None:
            ctx.pull_reports()

        @invariant()
        def no_id_repeats(self) -> None:
            if ctx.ledger.collisions:
                sid, first, second = ctx.ledger.collisions[0]
                raise CheckFailed(
                    "distinct ids for distinct segments",
                    f"id {sid} given twice",
                    [first.exchange, second.exchange],
                )
            for m in self.sent:
                for k, reports in m.reports.items():
                    if len([r for r in reports if r.source == "pull"]) > 1:
                        raise CheckFailed(
                            f"one report for msgid {m.segment_id(k)}",
                            f"{len(reports)} reports",
                            m.exchange,
                        )

        def teardown(self) -> None:
            if not self.sent:
                return
            ctx.await_reports(self.sent)
            for m in self.sent:
                missing = [k for k in range(1, m.pktotal + 1) if len(m.reports.get(k, [])) != 1]
                wrong = [r for r in m.all_reports() if r.matched_by != "msgid"]
                if missing or wrong:
                    raise CheckFailed(
                        f"exactly one report per segment of {m.endpoint} position {m.position} "
                        f"(msgid {m.msgid}, pktotal {m.pktotal}) matching by msgid",
                        f"segments {missing} without exactly one report"
                        if missing
                        else f"msgid {wrong[0].data.get('msgid')} found by custid only",
                        m.exchange,
                    )

    return CarrierModel


@check(
    "MATCH-STATEFUL",
    "§3.3",
    "matching",
    Level.MUST,
    "stateful: interleaved sends and fetches; each accepted segment gets exactly one "
    "matching report, no id repeats",
    cost=stateful_cost,
    interpretations=("M2", "M6"),
)
def stateful(ctx: RunContext) -> None:
    examples = examples_within(ctx, ctx.config.stateful_steps * STEP_COST)
    examples = min(examples, max(1, ctx.config.max_examples // 4))
    machine = carrier_model(ctx)
    config = hypothesis_settings(ctx, examples)
    config = type(config)(config, stateful_step_count=ctx.config.stateful_steps)
    test = get_state_machine_test(machine, settings=config)
    seed(ctx.seed)(test)()  # replay: the run's recorded seed
