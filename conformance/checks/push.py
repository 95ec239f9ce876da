"""push: §2.7 / §2.8 pushes to the suite's own receiver (--callback-listen/--callback-url;
the vendor points the account's push address there)."""

from __future__ import annotations

from collections import defaultdict

from smsapi.endpoints import MAX_PUSH_RPTS
from smsapi.matching import report_msgid
from smsapi.push import PushKind

from ..catalogue import Level, check
from ..context import RunContext, run_wide_cost
from ..outcomes import CheckFailed, NotApplicable
from ..receiver import ACK, REFUSE, SILENT, ReceivedPush, Receiver


def receiver(ctx: RunContext) -> Receiver:
    if ctx.receiver is None:
        raise NotApplicable("no --callback-listen / --callback-url: push not checked")
    return ctx.receiver


def pushes(ctx: RunContext) -> list[ReceivedPush]:
    """Every push of the run, its reports settled; alone (`--only`), the check first
    arranges a little traffic of its own, so it judges as in the full run."""
    rx = receiver(ctx)
    ctx.run_messages()
    got = rx.snapshot()
    ctx.require_evidence(
        "pushes",
        len(got),
        "no push arrived during the run: is push enabled for the account and pointed at "
        "--callback-url?",
    )
    return got


def push_failure(ctx: RunContext, push: ReceivedPush, expected: str, got: str) -> CheckFailed:
    """A failure this push shows: its request as evidence, the whole push in the details."""
    return CheckFailed(
        expected, got, push.evidence(ctx.config.callback_url), details={"push": push.to_dict()}
    )


@check(
    "PUSH-DELIVERED",
    "§2.8",
    "push",
    Level.MUST,
    "reports of a send arrive by push to the receiver, acknowledged with RPT_RESP",
    cost=1,
)
def delivered(ctx: RunContext) -> None:
    receiver(ctx)
    sent = ctx.send_single(ctx.mobiles(1)[0], ctx.text(), custid=ctx.custid())
    ctx.expect_accepted(sent, "single_send")
    messages = ctx.sent_messages()
    ctx.await_reports(messages)
    reports = [r for m in messages for r in m.all_reports()]
    if not reports:
        raise CheckFailed(
            f"a pushed report within {ctx.config.report_timeout:.0f} s", "none", sent.exchange
        )
    ctx.judged("reports", len(reports))
    pulled = [r for r in reports if r.source != "push"]
    if pulled:
        raise CheckFailed("the report pushed", "it was pulled by get_rpt instead", sent.exchange)


def retry_check(ctx: RunContext, mode: str, what: str) -> None:
    rx = receiver(ctx)
    before = len(rx.snapshot())
    rx.answer_next(mode)
    sent = ctx.send_single(ctx.mobiles(1)[0], ctx.text(), custid=ctx.custid())
    ctx.expect_accepted(sent, "single_send")
    messages = ctx.sent_messages()
    ctx.await_reports(messages)
    log = rx.snapshot()[before:]
    unanswered = [p for p in log if p.answered == mode]
    ctx.require_evidence(
        "pushes", len(unanswered), f"no push came to be {what}: is push enabled for the account?"
    )
    acked = {
        report_msgid(item)
        for p in log
        if p.answered == ACK and p.request
        for item in p.request.items
    }
    lost = [
        report_msgid(item)
        for p in unanswered
        for item in (p.request.items if p.request else [])
        if report_msgid(item) not in acked
    ]
    ctx.detail("pushes", [p.to_dict() for p in log][:10])
    if lost:
        raise push_failure(
            ctx,
            unanswered[0],
            f"the items of a push {what} pushed again until acknowledged",
            f"{len(lost)} never came again, e.g. msgid {lost[0]}",
        )


@check(
    "PUSH-RETRY-REFUSED",
    "§2.8.4",
    "push",
    Level.MUST,
    "after the receiver answers result ≠ 0 the target pushes the same items again",
    cost=1,
    interpretations=("B5",),
)
def retry_refused(ctx: RunContext) -> None:
    retry_check(ctx, REFUSE, "answered result -100999")


@check(
    "PUSH-RETRY-SILENT",
    "§2.8.4",
    "push",
    Level.MUST,
    "after the receiver stays silent (no answer in time) the target pushes again, losing nothing",
    cost=1,
)
def retry_silent(ctx: RunContext) -> None:
    retry_check(ctx, SILENT, "left unanswered")


@check(
    "PUSH-FORM",
    "§2.7.2 §2.8.3",
    "push",
    Level.MUST,
    "each push is a form-urlencoded POST with userid, pwd, timestamp, cmd, seqid and a JSON "
    "array of items",
    final=True,
    cost=run_wide_cost,
)
def push_form(ctx: RunContext) -> None:
    for push in pushes(ctx):
        problems = push.request.problems if push.request else [push.error]
        if problems:
            raise push_failure(ctx, push, "a §2.8.3 form push", "; ".join(problems))


@check(
    "PUSH-DIGEST",
    "§3.1 §2.8.3",
    "push",
    Level.MUST,
    "each push carries the account's userid and the §3.1 md5 pwd over a fresh timestamp",
    final=True,
    cost=run_wide_cost,
)
def push_digest(ctx: RunContext) -> None:
    for push in pushes(ctx):
        if push.request is None:
            continue
        if push.request.userid != ctx.config.userid:
            raise push_failure(ctx, push, f"userid {ctx.config.userid}", repr(push.request.userid))
        if push.auth_problem:
            raise push_failure(
                ctx,
                push,
                "pwd = md5(userid + 00000000 + password + timestamp), lower case",
                push.auth_problem,
            )


@check(
    "PUSH-SEQID",
    "§2.7.3 §2.8.3",
    "push",
    Level.MUST,
    "seqid grows by one with every push request (retries included), per kind",
    interpretations=("B4",),
    final=True,
    cost=run_wide_cost,
)
def push_seqid(ctx: RunContext) -> None:
    by_kind: dict[PushKind, list[ReceivedPush]] = defaultdict(list)
    for push in pushes(ctx):
        if push.request and push.kind and push.request.seqid is not None:
            by_kind[push.kind].append(push)
    for kind, log in by_kind.items():
        seqids = sorted(s for p in log if p.request and (s := p.request.seqid) is not None)
        repeated = sorted({s for s in seqids if seqids.count(s) > 1})
        if repeated:
            push = next(p for p in log if p.request and p.request.seqid == repeated[0])
            raise push_failure(
                ctx,
                push,
                f"a new seqid for every {kind.cmd} request",
                f"seqid {repeated[0]} used {seqids.count(repeated[0])} times",
            )
        gaps = [b - a for a, b in zip(seqids, seqids[1:], strict=False) if b - a != 1]
        if gaps:
            ctx.deviation(
                "B4",
                f"{kind.cmd} seqids one apart",
                f"steps of {sorted(set(gaps))} in {seqids[:20]}",
            )
        ctx.detail(f"{kind.value}_seqids", [seqids[0], seqids[-1], len(seqids)])


@check(
    "PUSH-BATCH-SIZE",
    "§2.8.1 §2.7.1",
    "push",
    Level.MUST,
    "at most 500 reports and 100 MOs per push, also when 501 reports are due at once",
    cost=MAX_PUSH_RPTS + 1,
)
def push_batch_size(ctx: RunContext) -> None:
    receiver(ctx)
    burst = ctx.send_batch(ctx.mobiles(MAX_PUSH_RPTS + 1, distinct=False), ctx.text())
    ctx.expect_accepted(burst, f"a batch of {MAX_PUSH_RPTS + 1}")
    ctx.await_reports(ctx.sent_messages())
    largest: dict[str, int] = {}
    judged = [(p, p.request, p.kind) for p in receiver(ctx).snapshot() if p.request and p.kind]
    ctx.require_evidence("pushes", len(judged), "no push arrived for the 501-report burst")
    for push, request, kind in judged:
        count = len(request.items)
        largest[kind.value] = max(largest.get(kind.value, 0), count)
        if count > kind.max_items:
            raise push_failure(
                ctx,
                push,
                f"at most {kind.max_items} items in a {kind.cmd}",
                f"{count} items",
            )
    ctx.detail("largest_push", largest)
