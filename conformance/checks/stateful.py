"""A stateful model of the carrier (hypothesis RuleBasedStateMachine): single, batch and
multi sends, short and long, interleaved with report fetches. Every run starts with one
send of each kind (initialize rules: a long single, a short batch, a mixed multi), so
it drives the carrier whatever the example count. Invariants after every step: no id
repeats, no segment pulled twice, no report found by custid only (a matching fault fails
at once); at the end each accepted segment has exactly one report matching by msgid."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import wraps
from typing import Any

from hypothesis import seed
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    get_state_machine_test,
    initialize,
    invariant,
    rule,
)

from smsapi.segments import segments_for_length

from ..catalogue import Level, check
from ..config import VendorConfig
from ..context import LONG_LENGTH, RunContext
from ..ledger import Outgoing, SentMessage, reports_of
from ..outcomes import CheckFailed
from ..strategies import examples_within, hypothesis_settings

MAX_MOBILES = 2  # per batch / multi step: keeps the worst case of a run small
LONG_SEGMENTS = segments_for_length(LONG_LENGTH)
STEP_COST = MAX_MOBILES * LONG_SEGMENTS
# The initialize rules' sends: a long single, a short batch of two, a short + long multi.
START_COST = LONG_SEGMENTS + MAX_MOBILES + 1 + LONG_SEGMENTS
START_RULES = 3


def stateful_cost(cfg: VendorConfig) -> int:
    return max(1, cfg.max_examples // 4) * (cfg.stateful_steps * STEP_COST + START_COST)


def recorded(failures: list[CheckFailed]) -> Callable[[Callable], Callable]:
    """Keep each failure as first raised: hypothesis replays a failing example, and a
    real carrier's state (reports of the first try still arriving) makes the replay
    differ, which hypothesis reports as a flaky test instead of the failure."""

    def wrap(step: Callable) -> Callable:
        @wraps(step)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return step(*args, **kwargs)
            except CheckFailed as failure:
                failures.append(failure)
                raise

        return run

    return wrap


def carrier_model(
    ctx: RunContext, tally: Counter[str], failures: list[CheckFailed]
) -> type[RuleBasedStateMachine]:
    kept = recorded(failures)
    mobiles = ctx.mobiles(MAX_MOBILES, distinct=False)
    lengths = st.sampled_from([None, LONG_LENGTH])  # None: a short text

    class CarrierModel(RuleBasedStateMachine):
        """What was sent and which reports are owed, against what the target does."""

        def __init__(self) -> None:
            super().__init__()
            self.sent: list[SentMessage] = []

        @kept
        def _accepted(self, endpoint: str, items: list[Outgoing]) -> None:
            result = ctx.send(endpoint, items)
            ctx.expect_accepted(result, endpoint)
            tally["steps"] += 1
            tally[endpoint] += 1
            for item in items:
                tally["long" if len(item.text) + ctx.config.signature_length > 70 else "short"] += 1
            self.sent += [m for m in ctx.ledger.messages if m.exchange is result.exchange]

        def _single(self, length: int | None) -> None:
            item = Outgoing(mobiles[0], ctx.text(length), custid=ctx.custid())
            self._accepted("single_send", [item])

        def _batch(self, count: int, length: int | None) -> None:
            text, custid = ctx.text(length), ctx.custid()
            items = [Outgoing(m, text, custid=custid) for m in mobiles[:count]]
            self._accepted("batch_send", items)

        def _multi(self, lengths_: list[int | None]) -> None:
            items = [
                Outgoing(m, ctx.text(n), custid=ctx.custid())
                for m, n in zip(mobiles, lengths_, strict=False)
            ]
            self._accepted("multi_send", items)

        # Every run sends each kind, short and long, before the drawn steps.
        @initialize()
        def start_single_long(self) -> None:
            self._single(LONG_LENGTH)

        @initialize()
        def start_batch_short(self) -> None:
            self._batch(MAX_MOBILES, None)

        @initialize()
        def start_multi_mixed(self) -> None:
            self._multi([None, LONG_LENGTH])

        @rule(length=lengths)
        def single(self, length: int | None) -> None:
            self._single(length)

        @rule(count=st.integers(1, MAX_MOBILES), length=lengths)
        def batch(self, count: int, length: int | None) -> None:
            self._batch(count, length)

        @rule(lengths_=st.lists(lengths, min_size=1, max_size=MAX_MOBILES))
        def multi(self, lengths_: list[int | None]) -> None:
            self._multi(lengths_)

        @rule()
        @kept
        def fetch(self) -> None:
            tally["steps"] += 1
            tally["fetches"] += 1
            ctx.pull_reports()
            ctx.ledger.resolve()

        @invariant()
        @kept
        def ids_distinct_reports_once_matched_by_msgid(self) -> None:
            mine = {id(m) for m in self.sent}
            clashes = [c for c in ctx.ledger.collisions if id(c[1]) in mine or id(c[2]) in mine]
            if clashes:
                sid, first, second = clashes[0]
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
            faults = ctx.ledger.faults(self.sent)
            if faults:
                raise CheckFailed(
                    "every report matching its segment by msgid (§3.3)",
                    f"msgid {faults[0].data.get('msgid')!r} of a report for "
                    f"{faults[0].data.get('mobile')!r} found by custid only",
                    [faults[0].exchange],
                )

        @kept
        def teardown(self) -> None:
            if not self.sent:
                return
            ctx.await_reports(self.sent, stop_on_fault=True)
            ctx.judged("messages", len(self.sent))
            ctx.judged("reports", len(reports_of(self.sent)))
            self.ids_distinct_reports_once_matched_by_msgid()
            for m in self.sent:
                missing = [k for k in range(1, m.pktotal + 1) if len(m.reports.get(k, [])) != 1]
                if missing:
                    raise CheckFailed(
                        f"exactly one report per segment of {m.endpoint} position {m.position} "
                        f"(msgid {m.msgid}, pktotal {m.pktotal}) within "
                        f"{ctx.config.report_timeout:.0f} s",
                        f"segments {missing} without exactly one report",
                        m.exchange,
                    )

    return CarrierModel


@check(
    "MATCH-STATEFUL",
    "§3.3",
    "matching",
    Level.MUST,
    "stateful: interleaved sends (single, batch, multi; short and long) and fetches; each "
    "accepted segment gets exactly one report matching by msgid, no id repeats",
    cost=stateful_cost,
    interpretations=("M2", "M6"),
)
def stateful(ctx: RunContext) -> None:
    per_example = ctx.config.stateful_steps * STEP_COST + START_COST
    examples = min(examples_within(ctx, per_example), max(1, ctx.config.max_examples // 4))
    tally: Counter[str] = Counter()
    failures: list[CheckFailed] = []
    machine = carrier_model(ctx, tally, failures)
    config = hypothesis_settings(ctx, examples)
    # hypothesis counts the initialize rules as steps: the drawn steps come on top
    steps = START_RULES + ctx.config.stateful_steps
    config = type(config)(config, stateful_step_count=steps)
    test = get_state_machine_test(machine, settings=config)
    try:
        seed(ctx.seed)(test)()  # replay: the run's recorded seed
    except Exception as exc:  # noqa: BLE001  (a flaky replay of a real failure)
        if failures:
            raise failures[0] from exc  # the carrier's first fault, as it was seen
        raise
    finally:
        ctx.detail("examples", examples)
        ctx.detail("tally", dict(tally))
