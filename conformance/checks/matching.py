"""matching: §3.3 every report finds exactly one sent segment, by msgid
(base + position - 1 + (pknum - 1)·2^34, signed wrap) and by custid + mobile (+ pknum)."""

from __future__ import annotations

from smsapi.endpoints import SEND_ENDPOINTS
from smsapi.mobile import classify
from smsapi.segments import segments_for_length

from ..catalogue import Level, check
from ..config import VendorConfig
from ..context import LONG_LENGTH, NO_REPORT, RunContext, run_wide_cost
from ..ledger import Outgoing, Report, SentMessage, reports_of
from ..outcomes import CheckFailed
from ..shapes import is_int, msgid_findings
from .common import judge, try_parse


def long_cost(cfg: VendorConfig, mobiles: int = 1) -> int:
    return mobiles * segments_for_length(LONG_LENGTH)


def verify(ctx: RunContext, messages: list[SentMessage], rule: str) -> None:
    """Wait for the reports of these messages, then hold each to §3.3. A report found
    by custid + mobile only (its msgid wrong) fails at once: no waiting out the timeout."""
    if not messages:
        raise CheckFailed("an accepted send recorded", "nothing accepted")
    complete = ctx.await_reports(messages, stop_on_fault=True)
    ctx.judged("messages", len(messages))
    ctx.judged("reports", sum(len(m.all_reports()) for m in messages))
    if ctx.ledger.faults(messages):
        ctx.ledger.resolve(age=0)  # this check's sends are recorded: custid + mobile now
        raise matching_fault(rule, ctx.ledger.faults(messages)[0])
    for m in messages:
        for report in m.all_reports():
            named = classify(str(report.data.get("mobile", ""))).national
            if named != classify(m.mobile).national:
                raise CheckFailed(
                    f"{rule}: msgid {report.data.get('msgid')} is position {m.position}'s "
                    f"({m.mobile}, send msgid {m.base_msgid})",
                    f"its report names mobile {report.data.get('mobile')!r}",
                    [m.exchange, report.exchange],
                )
        if not m.reports:
            stray = [
                r.data
                for r in ctx.ledger.unmatched
                if classify(str(r.data.get("mobile", ""))).national == classify(m.mobile).national
            ]
            raise CheckFailed(
                f"{rule}: a report with msgid {m.msgid} for position {m.position} ({m.mobile})"
                f" within {ctx.config.report_timeout:.0f} s",
                f"none matched; reports for that mobile that matched nothing: {stray[:3]}"
                if stray
                else "no report",
                m.exchange,
            )
        missing = m.unreported()
        if missing:
            raise CheckFailed(
                f"reports for every segment 1..{m.pktotal} of position {m.position}",
                f"segments {missing} unreported" + ("" if complete else " (timeout)"),
                m.exchange,
            )
    ctx.detail(
        "messages",
        [{"position": m.position, "msgid": m.msgid, "pktotal": m.pktotal} for m in messages],
    )


def matching_fault(rule: str, report: Report) -> CheckFailed:
    """§3.3 broken by one report: found by custid + mobile, its msgid not its segment's."""
    got = f"msgid {report.data.get('msgid')!r}"
    if report.msgid_names is not None:
        other = report.msgid_names
        got += f", the id of position {other.position} ({other.mobile})"
    m = report.message
    if m is None:  # its msgid names one of ours for another mobile; custid found nothing
        return CheckFailed(
            f"{rule}: the report for {report.data.get('mobile')!r} carrying its own message's "
            "msgid",
            got,
            [report.msgid_names.exchange if report.msgid_names else None, report.exchange],
        )
    return CheckFailed(
        f"{rule}: the report of position {m.position} ({m.mobile}) pknum {report.pknum} "
        f"carries msgid {m.segment_id(report.pknum)}",
        f"{got} (found by custid {m.custid} + mobile)",
        [m.exchange, report.exchange],
        details={"send_msgid": m.base_msgid, "position": m.position},
    )


@check(
    "MATCH-SINGLE-MSGID",
    "§3.3.1",
    "matching",
    Level.MUST,
    "single_send, short: the report carries the answer's msgid, pknum = pktotal = 1",
    cost=1,
)
def single_short(ctx: RunContext) -> None:
    sent = ctx.send_single(ctx.mobiles(1)[0], ctx.text(), custid=ctx.custid(), exdata="cfEcho")
    ctx.expect_accepted(sent, "single_send")
    verify(ctx, ctx.sent_messages(), "§3.3.1 single_send msgid")


@check(
    "MATCH-SINGLE-LONG",
    "§3.3.1",
    "matching",
    Level.MUST,
    "single_send, long: segment k's report carries msgid + (k-1)·2^34",
    cost=long_cost,
)
def single_long(ctx: RunContext) -> None:
    sent = ctx.send_single(ctx.mobiles(1)[0], ctx.text(LONG_LENGTH), custid=ctx.custid())
    ctx.expect_accepted(sent, "a long single_send")
    verify(ctx, ctx.sent_messages(), "§3.3.1 msgid + (pknum-1)·17179869184")
    expect_long(ctx.sent_messages())


@check(
    "MATCH-BATCH-MSGID",
    "§3.3.2",
    "matching",
    Level.MUST,
    "batch_send, short: the report of position p carries msgid + p - 1",
    cost=3,
)
def batch_short(ctx: RunContext) -> None:
    sent = ctx.send_batch(ctx.mobiles(3, distinct=False), ctx.text(), custid=ctx.custid())
    ctx.expect_accepted(sent, "batch_send")
    verify(ctx, ctx.sent_messages(), "§3.3.2 batch msgid + position - 1")


@check(
    "MATCH-BATCH-LONG",
    "§3.3.2",
    "matching",
    Level.MUST,
    "batch_send, long: segment k of position p carries msgid + p - 1 + (k-1)·2^34",
    cost=lambda cfg: long_cost(cfg, 2),
)
def batch_long(ctx: RunContext) -> None:
    mobiles = ctx.mobiles(2, distinct=False)
    sent = ctx.send_batch(mobiles, ctx.text(LONG_LENGTH), custid=ctx.custid())
    ctx.expect_accepted(sent, "a long batch_send")
    verify(ctx, ctx.sent_messages(), "§3.3.2 (msgid + position - 1) + (pknum-1)·17179869184")
    expect_long(ctx.sent_messages())


@check(
    "MATCH-MULTI-MSGID",
    "§3.3.3",
    "matching",
    Level.MUST,
    "multi_send, short: item p's report carries msgid + p - 1 and the item's own custid",
    cost=3,
)
def multi_short(ctx: RunContext) -> None:
    items = [
        Outgoing(m, ctx.text(), custid=ctx.custid(), exdata=f"cfEcho{n}")  # RPT-ECHO's evidence
        for n, m in enumerate(ctx.mobiles(3, distinct=False), start=1)
    ]
    sent = ctx.send_multi(items)
    ctx.expect_accepted(sent, "multi_send")
    if sent.custid != items[0].custid:
        raise CheckFailed(
            f"the answer's custid = the first item's, {items[0].custid} (§2.3.6)",
            repr(sent.custid),
            sent.exchange,
        )
    verify(ctx, ctx.sent_messages(), "§3.3.3 multi msgid + position - 1")


@check(
    "MATCH-MULTI-LONG",
    "§3.3.3",
    "matching",
    Level.MUST,
    "multi_send mixing short and long items: every segment id per §3.3.3",
    cost=lambda cfg: 2 + long_cost(cfg),
)
def multi_mixed(ctx: RunContext) -> None:
    mobiles = ctx.mobiles(3, distinct=False)
    custid = ctx.custid()
    texts = [ctx.text(), ctx.text(LONG_LENGTH), ctx.text()]
    pairs = zip(mobiles, texts, strict=True)
    sent = ctx.send_multi([Outgoing(m, t, custid=custid) for m, t in pairs])
    ctx.expect_accepted(sent, "a mixed multi_send")
    verify(ctx, ctx.sent_messages(), "§3.3.3 (msgid + position - 1) + (pknum-1)·17179869184")
    expect_long([m for m in ctx.sent_messages() if m.position == 2])


def expect_long(messages: list[SentMessage]) -> None:
    for m in messages:
        if m.pktotal < 2:
            raise CheckFailed(
                f"a {LONG_LENGTH}-character message in several segments (pktotal ≥ 2)",
                f"pktotal {m.pktotal}",
                m.exchange,
            )


# ---------------------------------------------------------------- over the whole run


@check(
    "MATCH-ALL-REPORTED",
    "§3.3 §2.5",
    "matching",
    Level.MUST,
    "every accepted segment gets a report within the report timeout",
    cost=run_wide_cost,
    interpretations=("M2", "F2"),
    final=True,
)
def all_reported(ctx: RunContext) -> None:
    messages = ctx.run_messages()
    missing = [(m, k) for m in messages for k in m.unreported()]
    segments = sum(m.pktotal for m in messages)
    ctx.judged("segments", segments)  # a report owed and never come is a failure
    ctx.detail("segments", segments)
    ctx.detail("unreported", len(missing))
    ctx.detail("unmatched_reports", len(ctx.ledger.unmatched))
    if missing:
        listed = [f"{m.mobile} msgid {m.segment_id(k)} ({m.check_id})" for m, k in missing[:5]]
        raise CheckFailed(
            f"a report for each of {segments} segments within {ctx.config.report_timeout:.0f} s",
            f"{len(missing)} unreported, e.g. {listed}",
            missing[0][0].exchange,
        )


@check(
    "MATCH-NO-PHANTOM-REPORT",
    "§3.3",
    "matching",
    Level.MUST,
    "every report of the run matches a sent segment, by msgid or by custid + mobile (+ pknum)",
    cost=run_wide_cost,
    interpretations=("M2", "M11"),
    final=True,
)
def no_phantoms(ctx: RunContext) -> None:
    ctx.run_messages()
    ctx.ledger.resolve(age=0)
    arrived = [r for r in ctx.ledger.reports]
    ctx.require_evidence("reports", len(arrived), NO_REPORT.format(n=len(ctx.ledger.messages)))
    phantoms: list[Report] = []
    earlier: list[Report] = []
    for report in ctx.ledger.unmatched:
        (earlier if ctx.before_run(report.data) else phantoms).append(report)
    ctx.detail("reports", len(arrived))
    ctx.detail("before_run", len(earlier))
    if earlier:
        ctx.warn(
            f"{len(earlier)} report(s) of messages sent before this run (stime earlier, or "
            "another suite run's custid): not judged"
        )
    if phantoms:
        first = phantoms[0]
        raise CheckFailed(
            "every report matching a segment this run sent (msgid, or custid + mobile)",
            f"{len(phantoms)} report(s) matching nothing, e.g. "
            f"{ {k: first.data.get(k) for k in ('msgid', 'custid', 'mobile', 'stime')} }",
            [first.exchange] if first.exchange else None,
        )


@check(
    "MATCH-NO-DUPLICATE-REPORT",
    "§2.5.1",
    "matching",
    Level.MUST,
    "no segment is reported twice (each report handed out once)",
    cost=run_wide_cost,
    interpretations=("M6", "B5"),
    final=True,
)
def no_duplicates(ctx: RunContext) -> None:
    messages = ctx.run_messages()
    reports = reports_of(messages)
    ctx.require_evidence("reports", len(reports), NO_REPORT.format(n=len(messages)))
    for m in messages:
        for k, filed in m.reports.items():
            pulled = [r for r in filed if r.source == "pull"]
            if len(pulled) > 1:
                raise CheckFailed(
                    f"one report for segment {k} of {m.mobile} (msgid {m.segment_id(k)})",
                    f"{len(pulled)} reports",
                    [pulled[0].exchange, pulled[1].exchange],
                )
            if len(filed) > 1:
                ctx.warn(
                    f"segment msgid {m.segment_id(k)} pushed {len(filed)} times "
                    "(at-least-once redelivery)"
                )


@check(
    "MATCH-UNIQUE-MSGID",
    "§2.1.6 §3.3",
    "matching",
    Level.MUST,
    "msgids are non-zero and never repeat: no two sent segments share an id",
    cost=run_wide_cost,
    interpretations=("M2",),
    final=True,
)
def unique_msgids(ctx: RunContext) -> None:
    messages = ctx.run_messages()
    ctx.judged("sends", len({id(m.exchange) for m in messages}))
    # The segment ids (pknum > 1) show only in reports: without one, half the rule is unseen.
    ctx.require_evidence("reports", len(reports_of(messages)), NO_REPORT.format(n=len(messages)))
    zero = [m for m in messages if m.base_msgid == 0]
    if zero:
        raise CheckFailed("a non-zero msgid on success (§2.1.6)", "msgid 0", zero[0].exchange)
    if ctx.ledger.collisions:
        sid, first, second = ctx.ledger.collisions[0]
        raise CheckFailed(
            "distinct ids for distinct segments (§3.3)",
            f"id {sid} is a segment of {first.mobile} ({first.check_id}) and of "
            f"{second.mobile} ({second.check_id})",
            [first.exchange, second.exchange],
        )
    ids = {r.msgid for r in ctx.ledger.reports if r.msgid is not None}
    ctx.detail("distinct_report_ids", len(ids))


@check(
    "MATCH-CUSTID",
    "§3.3",
    "matching",
    Level.MUST,
    "every report carries its message's custid and mobile, so custid + mobile (+ pknum) finds it",
    cost=run_wide_cost,
    interpretations=("M5", "F13"),
    final=True,
)
def custid_matching(ctx: RunContext) -> None:
    messages = ctx.run_messages()
    ctx.ledger.resolve(age=0)  # every send is recorded by now: custid + mobile decides
    astray = ctx.ledger.misnamed(messages)
    ctx.require_evidence(
        "reports", len(reports_of(messages)) + len(astray), NO_REPORT.format(n=len(messages))
    )
    if astray:
        report = astray[0]
        m = report.msgid_names
        assert m is not None  # misnamed(): reports whose msgid names a message
        raise CheckFailed(
            f"the report with msgid {report.data.get('msgid')} (position {m.position}'s, "
            f"pknum {report.data.get('pknum')}) carrying its message's custid {m.custid!r} and "
            f"mobile {m.mobile}",
            f"custid {report.data.get('custid')!r}, mobile {report.data.get('mobile')!r}: "
            f"custid + mobile find no message of the run ({len(astray)} such report(s))",
            [m.exchange, report.exchange],
        )
    for m in messages:
        for report in m.all_reports():
            custid = report.data.get("custid")
            if custid != m.custid:
                raise CheckFailed(
                    f"the report of {m.mobile} msgid {report.data.get('msgid')} with custid "
                    f"{m.custid!r}",
                    f"custid {custid!r}",
                    [m.exchange, report.exchange],
                )
            mobile = str(report.data.get("mobile", ""))
            if mobile != m.mobile:
                if classify(mobile).national == classify(m.mobile).national:
                    ctx.deviation("M5", f"mobile {m.mobile} as sent", repr(mobile), report.exchange)
                else:
                    raise CheckFailed(
                        f"the report's mobile {m.mobile}", repr(mobile), report.exchange
                    )


@check(
    "MATCH-PKNUM-PKTOTAL",
    "§2.5.1",
    "matching",
    Level.MUST,
    "pknum and pktotal are integers, 1 ≤ pknum ≤ pktotal, 1/1 for a short message, the same "
    "pktotal for every segment",
    cost=run_wide_cost,
    interpretations=("F9",),
    final=True,
)
def pknum_pktotal(ctx: RunContext) -> None:
    messages = ctx.run_messages()
    ctx.require_evidence("reports", len(reports_of(messages)), NO_REPORT.format(n=len(messages)))
    for m in messages:
        totals: set[int] = set()
        for report in m.all_reports():
            pknum, pktotal = report.data.get("pknum"), report.data.get("pktotal")
            if not (is_int(pknum) and is_int(pktotal) and 1 <= pknum <= pktotal):
                raise CheckFailed(
                    "integers 1 ≤ pknum ≤ pktotal (§2.5.1: 1 and 1 for a short message)",
                    f"pknum {pknum!r}, pktotal {pktotal!r} for {m.mobile}",
                    report.exchange,
                )
            totals.add(pktotal)
        if len(totals) > 1:
            raise CheckFailed(
                f"one pktotal for every segment of msgid {m.msgid}", str(sorted(totals)), m.exchange
            )
        if m.expected_pktotal == 1 and totals and totals != {1}:
            raise CheckFailed(
                f"pktotal 1 for a short message ({len(m.text)} characters)",
                str(sorted(totals)),
                m.exchange,
            )


@check(
    "MATCH-MSGID-TYPE",
    "§2.1.6",
    "matching",
    Level.MUST,
    "msgid is a 64-bit integer (a JSON number, not a string) in answers and reports",
    cost=run_wide_cost,
    interpretations=("M1",),
    final=True,
)
def msgid_type(ctx: RunContext) -> None:
    ctx.run_messages()
    answers = 0
    for _, endpoint, exchange in list(ctx.exchanges):
        if endpoint not in SEND_ENDPOINTS or exchange.status != 200:
            continue
        answer = try_parse(exchange)
        if answer and answer.get("result") == 0:
            answers += 1
            judge(ctx, msgid_findings(answer.get("msgid"), "answer"), "an int64 msgid", exchange)
    ctx.require_evidence("answers", answers, "no send of the run was accepted")
    ctx.require_evidence("reports", len(ctx.ledger.reports), "no report came during the run")
    for report in ctx.ledger.reports:
        findings = msgid_findings(report.data.get("msgid"), "report")
        judge(ctx, findings, "an int64 msgid", report.exchange)
