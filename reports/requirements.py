"""The requirements matrix: one row per tender requirement, its evidence and its verdict.

Each requirement is judged by one function here, against the tender's own figures
(reports/tender.py), from what the suite and the load tests measured. docs/reports.md
and docs/interpretations.md (rows R1-R7) say why each reads the tender as it does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

from smsapi.mobile import Operator

from . import tender
from .inputs import Bid, CheckRecord, ConformanceRun, LoadRun


class RequirementVerdict(str, Enum):
    PASS = "pass"
    REMARKS = "remarks"  # met; with findings that are not substantive (R2)
    FAIL = "fail"
    INCOMPLETE = "incomplete"  # the evidence shows it neither way

    @property
    def met(self) -> bool:
        return self in (RequirementVerdict.PASS, RequirementVerdict.REMARKS)

    @property
    def label(self) -> str:
        return {
            "pass": "PASS",
            "remarks": "PASS, with remarks",
            "fail": "FAIL",
            "incomplete": "NOT SHOWN",
        }[self.value]


# Checks of the suite that measure a tender clause of their own (category "business");
# every other check is evidence for §2.1.1, the interface of attachment 6.
CLAUSE_CHECKS = {
    "2.1.2": "BIZ-CHANNEL-12122",
    "2.1.3-time": "BIZ-DELIVERY-5S",
    "2.1.3-rate": "BIZ-DELIVERY-RATE",
}


@dataclass
class CategoryLine:
    """§2.1.1 evidence per category of the suite."""

    name: str
    description: str
    counts: dict[str, int]
    score: float | None
    failed: list[str]  # ids of failed or errored checks

    @property
    def judged(self) -> int:
        return sum(self.counts.get(o, 0) for o in ("passed", "warned", "failed", "error"))


@dataclass
class RequirementRow:
    key: str  # stable: 2.1.1, 2.1.2, 2.1.3-time, 2.1.3-rate, volume, price
    clause: str  # as the tender numbers it
    title: str
    quote: str  # the tender's words
    verdict: RequirementVerdict
    headline: str = ""  # the key figure, one short line (comparison cells, terminal)
    evidence: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)  # why not met, or the remarks
    checks: list[str] = field(default_factory=list)  # failed check ids behind the verdict
    categories: list[CategoryLine] = field(default_factory=list)
    substantive: bool = True


def interface_checks(run: ConformanceRun) -> list[CheckRecord]:
    """The checks that are evidence for §2.1.1 (all but the tender-clause checks)."""
    own = set(CLAUSE_CHECKS.values())
    return [c for c in run.checks if c.id not in own]


def judge_interface(run: ConformanceRun) -> RequirementRow:
    """§2.1.1 the interface of attachment 6: every must-check of the suite holds (R2)."""
    checks = interface_checks(run)
    must_failed = [c for c in checks if c.level == "must" and c.failed]
    should_failed = [c for c in checks if c.level == "should" and c.failed]
    unjudged = [c for c in checks if c.level == "must" and c.not_judged]
    warned = [c for c in checks if c.outcome == "warned"]
    judged = [c for c in checks if c.outcome in ("passed", "warned", "failed")]
    passed = [c for c in judged if not c.failed]
    lines = []
    for cat in run.categories:
        members = [c for c in checks if c.category == cat.name]
        if not members:
            continue
        counts = {o: sum(1 for c in members if c.outcome == o) for o in cat.counts}
        lines.append(
            CategoryLine(
                cat.name,
                cat.description,
                counts,
                cat.score,
                [c.id for c in members if c.failed],
            )
        )
    row = RequirementRow(
        "2.1.1",
        "§2.1.1",
        "Interface of attachment 6 (conformance suite)",
        tender.QUOTES["2.1.1"],
        RequirementVerdict.PASS,
        categories=lines,
        checks=[c.id for c in must_failed + should_failed],
    )
    row.headline = f"{len(passed)} of {len(judged)} judged checks passed"
    row.evidence.append(
        f"{run.coverage}; {len(passed)} of {len(judged)} judged checks passed ({run.suite}, "
        f"{run.profile or 'default'} profile); "
        f"{sum(1 for c in checks if c.outcome == 'not_applicable')} not applicable"
    )
    if must_failed:
        row.verdict = RequirementVerdict.FAIL
        row.misses.append(f"{len(must_failed)} must-check(s) failed ({_per_category(must_failed)})")
    elif not passed:
        row.verdict = RequirementVerdict.INCOMPLETE
        row.misses.append("no check of the interface was judged")
    elif run.only:
        row.verdict = RequirementVerdict.INCOMPLETE
        row.misses.append(f"the suite ran only {', '.join(run.only)}: not the whole interface")
    if unjudged:
        # No green without evidence (issue 15): a must-check not judged leaves the
        # requirement not shown, never met with remarks.
        if row.verdict is not RequirementVerdict.FAIL:
            row.verdict = RequirementVerdict.INCOMPLETE
        row.misses.append(
            f"{len(unjudged)} must-check(s) not judged: {_ids(unjudged)} (why, and what "
            f"would judge each: below)"
        )
    if should_failed:
        row.misses.append(
            f"{len(should_failed)} should-check(s) failed ({_per_category(should_failed)})"
        )
    if warned:
        row.misses.append(f"{len(warned)} check(s) passed with warnings: {_ids(warned)}")
    if row.verdict is RequirementVerdict.PASS and row.misses:
        row.verdict = RequirementVerdict.REMARKS
    return row


def judge_channel(run: ConformanceRun) -> RequirementRow:
    """§2.1.2 one channel number for the three networks, ending in 12122: the suite's
    BIZ-CHANNEL-12122 judges it; a network it could not cover leaves it not shown (R3)."""
    row = RequirementRow(
        "2.1.2",
        "§2.1.2",
        f"One channel number for China Mobile, Unicom and Telecom, ending in "
        f"{tender.CHANNEL_SUFFIX}",
        tender.QUOTES["2.1.2"],
        RequirementVerdict.PASS,
    )
    for operator in tender.NETWORKS:
        found = run.channels.get(operator.value) or []
        row.evidence.append(
            f"{_network(operator)}: {', '.join(found) if found else 'no report or MO seen'}"
        )
    numbers = sorted({n for op in tender.NETWORKS for n in run.channels.get(op.value) or []})
    row.headline = "channel " + (", ".join(numbers) if numbers else "not seen")
    check = run.check(CLAUSE_CHECKS["2.1.2"])
    missing = [_network(op) for op in tender.NETWORKS if not run.channels.get(op.value)]
    if check is None:
        row.verdict = RequirementVerdict.INCOMPLETE
        row.misses.append(f"{CLAUSE_CHECKS['2.1.2']} did not run")
    elif check.failed:
        row.verdict = RequirementVerdict.FAIL
        row.checks.append(check.id)
        row.misses.append(check.message or f"{check.id} {check.outcome}")
    elif check.outcome != "passed" or missing:
        row.verdict = RequirementVerdict.INCOMPLETE
        row.misses.append(
            f"not shown for {', '.join(missing)}" if missing else f"{check.id} {check.outcome}"
        )
    return row


def judge_delivery_time(conf: ConformanceRun, load: LoadRun) -> RequirementRow:
    """§2.1.3 送达时间不超过5秒: p99 of send → first report within 5 s under load (R4),
    and the suite's BIZ-DELIVERY-5S over its own traffic."""
    limit = tender.DELIVERY_LIMIT_S
    row = RequirementRow(
        "2.1.3-time",
        "§2.1.3",
        f"Delivery within {limit:g} s (p99, send → report)",
        tender.QUOTES["2.1.3"],
        RequirementVerdict.PASS,
    )
    lat = load.latency
    row.headline = f"p99 {_s(lat.p99)}, max {_s(lat.max)}"
    row.evidence.append(
        f"load ({load.scenario}, {lat.count} delivered segments): p50 {_s(lat.p50)} · "
        f"p95 {_s(lat.p95)} · p99 {_s(lat.p99)} · max {_s(lat.max)}"
    )
    if lat.count:
        slow = load.slower_than(limit)
        row.evidence.append(f"{slow} segment(s) ({slow / lat.count:.2%}) took {limit:g} s or more")
    sl = conf.latency
    row.evidence.append(
        f"suite (send → report arrival, its own clock, {sl.count} segments): "
        f"p50 {_s(sl.p50)} · p99 {_s(sl.p99)} · max {_s(sl.max)}"
    )
    if not lat.count or lat.p99 is None:
        row.verdict = RequirementVerdict.INCOMPLETE
        row.misses.append("no delivered segment measured under load")
    elif lat.p99 > limit:
        row.verdict = RequirementVerdict.FAIL
        row.misses.append(f"p99 {_s(lat.p99)} > {limit:g} s under load")
    _suite_check(row, conf, "2.1.3-time")
    _threshold_remark(row, load, "max_p99_delivery", limit)
    return row


def judge_delivery_rate(conf: ConformanceRun, load: LoadRun) -> RequirementRow:
    """§2.1.3 送达率不低于99%: delivered segments over segments sent, under load (a
    segment never reported counts as not delivered), and the suite's BIZ-DELIVERY-RATE."""
    target = tender.DELIVERY_RATE_MIN
    row = RequirementRow(
        "2.1.3-rate",
        "§2.1.3",
        f"Delivery rate ≥ {target:.0%}",
        tender.QUOTES["2.1.3"],
        RequirementVerdict.PASS,
    )
    failed = load.segments - load.delivered
    row.headline = f"{_pct(load.delivery_rate)} delivered"
    row.evidence.append(
        f"load: {_pct(load.delivery_rate)} ({load.delivered} of {load.segments} segments; "
        f"{failed} not delivered, {load.lost} never reported)"
    )
    if load.by_errcode:
        codes = sorted(load.by_errcode.items(), key=lambda kv: -kv[1])
        row.evidence.append("not delivered: " + ", ".join(f"{k} ×{n}" for k, n in codes[:6]))
    row.evidence.append(f"suite: {_pct(conf.delivery_rate)}")
    if load.delivery_rate is None:
        row.verdict = RequirementVerdict.INCOMPLETE
        row.misses.append("no segment sent under load")
    elif load.delivery_rate < target:
        row.verdict = RequirementVerdict.FAIL
        row.misses.append(f"delivery rate {_pct(load.delivery_rate)} < {target:.0%} under load")
    _suite_check(row, conf, "2.1.3-rate")
    _threshold_remark(row, load, "min_delivery_rate", target * 100)
    return row


def judge_volume(load: LoadRun) -> RequirementRow:
    """§1 ~15 M messages a year: the accepted rate sustained at full load reaches the
    yearly volume's average times the run's peak factor (R5)."""
    target = tender.peak_target(load.peak_factor)
    row = RequirementRow(
        "volume",
        "§1",
        f"Volume: {tender.YEAR_MESSAGES / 1e6:g} M messages a year at the peak rate",
        tender.QUOTES["1"],
        RequirementVerdict.PASS,
    )
    row.headline = f"{load.sustained_rate:.2f} msg/s sustained (target {target:.2f})"
    row.evidence.append(
        f"sustained {load.sustained_rate:.2f} msg/s over {load.sustained_window_s:.1f} s "
        f"(offered {load.offered_rate:.2f}, {load.scenario} scenario) vs {target:.2f} msg/s "
        f"= {tender.YEAR_MESSAGES / 1e6:g} M/year × peak factor {load.peak_factor:g}"
    )
    failed = load.requests - load.by_result.get("0", 0)
    row.evidence.append(
        f"{load.requests} requests, {failed} not answered result 0 "
        f"({load.error_rate:.2%}); {load.accepted_messages} messages accepted"
    )
    if not load.accepted_messages:
        row.verdict = RequirementVerdict.INCOMPLETE
        row.misses.append("no message accepted under load")
    elif load.sustained_rate < target:
        row.verdict = RequirementVerdict.FAIL
        row.misses.append(f"sustained {load.sustained_rate:.2f} < {target:.2f} msg/s")
    return row


def judge_price(bid: Bid, segments_per_message: float | None = None) -> RequirementRow:
    """§3 招标限价 0.029 元/条: a quoted price above the cap is an invalid bid (§7);
    the annual cost is the price times the tender's 15 M messages (R1)."""
    cap = tender.PRICE_CAP
    row = RequirementRow(
        "price",
        "§3 / §7",
        f"Price per message ≤ {cap} yuan (tax included)",
        tender.QUOTES["3"],
        RequirementVerdict.PASS,
    )
    row.evidence.append(
        f"cap {cap} yuan → {_yuan(tender.annual_cost(cap))} yuan a year at "
        f"{tender.YEAR_MESSAGES / 1e6:g} M messages"
    )
    row.headline = "no quoted price" if bid.price is None else f"{bid.price} yuan per message"
    if bid.price is None:
        row.verdict = RequirementVerdict.INCOMPLETE
        row.misses.append("no quoted price (reports signoff --price, or bid.toml)")
        return row
    row.evidence.insert(
        0,
        f"quoted {bid.price} yuan/message ({bid.source}) → "
        f"{_yuan(tender.annual_cost(bid.price))} yuan a year",
    )
    if segments_per_message and segments_per_message > 1:
        per_segment = tender.annual_cost(bid.price) * Decimal(str(round(segments_per_message, 4)))
        row.evidence.append(
            f"if billed per segment ({segments_per_message:.2f} segments a message under "
            f"load): {_yuan(per_segment)} yuan a year"
        )
    if bid.price > cap:
        row.verdict = RequirementVerdict.FAIL
        row.misses.append(f"{bid.price} yuan > the {cap} yuan cap: an invalid bid (§7)")
    return row


def judge_all(conf: ConformanceRun, load: LoadRun, bid: Bid) -> list[RequirementRow]:
    """The matrix, in the tender's order."""
    per_message = load.segments / load.accepted_messages if load.accepted_messages else None
    return [
        judge_interface(conf),
        judge_channel(conf),
        judge_delivery_time(conf, load),
        judge_delivery_rate(conf, load),
        judge_volume(load),
        judge_price(bid, per_message),
    ]


def overall(rows: list[RequirementRow]) -> RequirementVerdict:
    """FAIL when a substantive requirement fails, NOT SHOWN when one is not shown,
    PASS (with remarks) when every one is met."""
    substantive = [r for r in rows if r.substantive]
    if any(r.verdict is RequirementVerdict.FAIL for r in substantive):
        return RequirementVerdict.FAIL
    if any(r.verdict is RequirementVerdict.INCOMPLETE for r in substantive):
        return RequirementVerdict.INCOMPLETE
    if any(r.verdict is RequirementVerdict.REMARKS for r in rows):
        return RequirementVerdict.REMARKS
    return RequirementVerdict.PASS


def shortfalls(rows: list[RequirementRow]) -> list[str]:
    """What a vendor misses: one line per substantive requirement not met."""
    return [
        f"{r.clause} {r.title}: {'; '.join(r.misses[:2]) or r.verdict.label}"
        for r in rows
        if r.substantive and not r.verdict.met
    ]


def _suite_check(row: RequirementRow, conf: ConformanceRun, clause: str) -> None:
    """The suite's own check of a clause failing fails the row, whatever the load run says;
    not judged, it leaves the row not shown (the same rule as the suite's verdict)."""
    check = conf.check(CLAUSE_CHECKS[clause])
    if check is not None and check.failed:
        row.verdict = RequirementVerdict.FAIL
        row.checks.append(check.id)
        row.misses.append(f"{check.id}: {check.message}")
    elif check is not None and check.not_judged and check.level == "must":
        if row.verdict is not RequirementVerdict.FAIL:
            row.verdict = RequirementVerdict.INCOMPLETE  # its must-check not judged: not shown
        row.misses.append(f"{check.id} not judged: {check.message or check.outcome}")


def _threshold_remark(row: RequirementRow, load: LoadRun, name: str, tender_limit: float) -> None:
    """Say so when the load run judged itself against another limit than the tender's."""
    own = load.threshold(name)
    if own is not None and abs(own.limit - tender_limit) > 1e-9:
        row.evidence.append(f"(the load run's own threshold was {own.limit:g} {own.unit})")


def _per_category(checks: list[CheckRecord]) -> str:
    counts: dict[str, int] = {}
    for check in checks:
        counts[check.category] = counts.get(check.category, 0) + 1
    return ", ".join(f"{name} {n}" for name, n in counts.items())


def _ids(checks: list[CheckRecord], most: int = 8) -> str:
    ids = [c.id for c in checks]
    return ", ".join(ids[:most]) + (f" and {len(ids) - most} more" if len(ids) > most else "")


def _network(operator: Operator) -> str:
    return f"{operator.value.replace('_', ' ').title()} ({operator.label_zh})"


def _s(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} s"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.2%}"


def _yuan(value: Decimal) -> str:
    return f"{value:,.2f}"
