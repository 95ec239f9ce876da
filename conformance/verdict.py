"""The verdict of a run and the coverage it rests on: no green without evidence (issue 15).

PASS only when every must-check that applies to the configuration (not NOT_APPLICABLE) was
judged and held; FAIL when any check failed or errored; INCOMPLETE otherwise. Every report
(terminal, report.json, report.html, junit.xml, the pytest plugin, the sign-off) states the
coverage figure this module computes: "judged 66 of 69 must-checks; 3 not judged: ...".
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .catalogue import Check, Level, select
from .outcomes import CheckResult, Outcome

# Exit status of `conformance run` (documented in its --help, README, docs/conformance.md).
EXIT_PASS = 0  # every applicable must-check judged and held, no check failed
EXIT_FAIL = 1  # a check failed or errored
EXIT_USAGE = 2  # usage, preflight or connection error: nothing was judged
EXIT_INCOMPLETE = 3  # nothing failed, but a must-check was not judged (0 with --accept-incomplete)
EXIT_CODES_HELP = (
    "Exit status: 0 PASS (every must-check that applies was judged and held), 1 FAIL (a check "
    "failed or errored), 2 usage, preflight or connection error (nothing judged), 3 INCOMPLETE "
    "(nothing failed, but a must-check was not judged; 0 with --accept-incomplete)."
)


class Verdict(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    INCOMPLETE = "incomplete"


@dataclass(frozen=True)
class NotJudged:
    """A must-check that applies but was not judged: why, and what would judge it."""

    check_id: str
    outcome: str  # skipped, inconclusive, error, or "not run" (left out by --only)
    why: str
    remedy: str

    def line(self) -> str:
        return f"{self.check_id} — {self.why} — {self.remedy}"

    def to_dict(self) -> dict[str, str]:
        return {
            "id": self.check_id,
            "outcome": self.outcome,
            "why": self.why,
            "remedy": self.remedy,
        }


@dataclass
class Coverage:
    """How many of the must-checks that apply were judged, and the rest with their reasons."""

    applicable: int  # must-checks that apply (run or left out; not NOT_APPLICABLE)
    judged: int
    not_judged: list[NotJudged] = field(default_factory=list)
    not_applicable: int = 0

    @property
    def complete(self) -> bool:
        return self.applicable > 0 and not self.not_judged

    @property
    def headline(self) -> str:
        """judged 66 of 69 must-checks; 3 not judged"""
        text = f"judged {self.judged} of {self.applicable} must-checks"
        return text + (f"; {len(self.not_judged)} not judged" if self.not_judged else "")

    def lines(self) -> list[str]:
        """The checks not judged, those with the same reason and remedy in one line:
        "MATCH-CUSTID, RPT-ECHO — no test mobiles configured — --test-mobiles FILE"."""
        groups: dict[tuple[str, str], list[str]] = {}
        for item in self.not_judged:
            groups.setdefault((item.why, item.remedy), []).append(item.check_id)
        out = []
        for (why, remedy), ids in groups.items():
            left_out = why.startswith(LEFT_OUT)  # --only: a count, not 60 ids
            named = f"{len(ids)} must-checks" if left_out else ", ".join(ids)
            out.append(f"{named} — {why} — {remedy}")
        return out

    def line(self) -> str:
        """The figure in one line: "judged 66 of 69 must-checks; 3 not judged: ID — why —
        what would judge it; ..."."""
        rest = self.lines()
        return self.headline + (": " + "; ".join(rest) if rest else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "must_applicable": self.applicable,
            "must_judged": self.judged,
            "must_not_applicable": self.not_applicable,
            "not_judged": [n.to_dict() for n in self.not_judged],
            "line": self.line(),
        }


NOT_RUN = "not run"
LEFT_OUT = "left out by --only"

# What would judge a check, by what its message says kept it from judging (first match
# wins). Checks may say it themselves (CheckSignal(remedy=...)); this covers the rest.
REMEDIES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"test mobile", re.I),
        "--test-mobiles FILE (a number a line, one phone per network)",
    ),
    (re.compile(r"--budget|budget", re.I), "--budget N"),
    (
        re.compile(r"callback|push", re.I),
        "--callback-listen and --callback-url (push enabled for the account)",
    ),
    (
        re.compile(r"\bMOs?\b|get_mo|reply", re.I),
        "an MO from a test phone during the run "
        "(reply to a test message; [timing] mo_wait gives the time)",
    ),
    (re.compile(r"--only|no send checks selected", re.I), "run without --only"),
    (re.compile(r"locked", re.I), "wait for the account to unlock, then run again"),
    (
        re.compile(r"report", re.I),
        "--test-mobiles and a longer --report-timeout (reports owed for the run's sends)",
    ),
]
SENDING = re.compile(r"sen[dt]|report|spno|segment|deliver", re.I)


def remedy_for(result: CheckResult, config: Any = None) -> str:
    """What would judge a check that was not judged: its own word, else derived from why."""
    if result.remedy:
        return result.remedy
    if result.outcome is Outcome.ERROR:
        return "fix the cause above and run again"
    message = result.message or ""
    no_mobiles = config is not None and not getattr(config, "test_mobiles", True)
    if no_mobiles and SENDING.search(message):
        return REMEDIES[0][1]  # nothing was sent: the run had no test mobiles
    budget = re.search(r"needs up to (\d+) message", message)
    if budget and "budget" in message:
        need = int(budget.group(1))
        whole = whole_plan(config) if config is not None else None
        if whole is None:
            return f"--budget N (this check needs up to {need} more)"
        return f"--budget {whole} (the whole plan's worst case; this check needs up to {need})"
    for pattern, remedy in REMEDIES:
        if pattern.search(message):
            return remedy
    return "see the check's message"


def whole_plan(config: Any) -> int | None:
    """The messages the selected checks need at most with no budget limit: the --budget
    that admits every one of them (the same plan as --dry-run)."""
    from .plan import plan, planned_messages

    if not hasattr(config, "budget"):
        return None
    unlimited = dataclasses.replace(config, budget=10**9)
    return planned_messages(plan(unlimited, select(list(config.only or []))))


def coverage(checks: list[Check], results: dict[str, CheckResult], config: Any = None) -> Coverage:
    """The coverage of a run's must-checks; with --only, the must-checks of the catalogue
    (of the run's side) left out count as not run."""
    cov = Coverage(applicable=0, judged=0)
    checks = list({c.id: c for c in checks}.values())  # a check merged from two runs once
    for check in checks:
        result = results.get(check.id)
        if check.level is not Level.MUST or result is None:
            continue
        if result.outcome is Outcome.NOT_APPLICABLE:
            cov.not_applicable += 1
            continue
        cov.applicable += 1
        if result.outcome.judged:
            cov.judged += 1
        else:
            why = result.message or result.outcome.value
            cov.not_judged.append(
                NotJudged(check.id, result.outcome.value, why, remedy_for(result, config))
            )
    only = list(getattr(config, "only", None) or [])
    if only and checks:
        ran = {c.id for c in checks}
        for check in select(None, side=checks[0].side):
            if check.level is Level.MUST and check.id not in ran:
                cov.applicable += 1
                cov.not_judged.append(
                    NotJudged(
                        check.id,
                        NOT_RUN,
                        f"{LEFT_OUT} {' '.join(only)}",
                        "run without --only",
                    )
                )
    return cov


def decide(results: dict[str, CheckResult], cov: Coverage) -> Verdict:
    """FAIL when a check failed or errored; PASS only with every applicable must-check
    judged; INCOMPLETE otherwise (nothing judged at all is never a pass)."""
    if any(r.outcome.counts_as_failure for r in results.values()):
        return Verdict.FAIL
    return Verdict.PASS if cov.complete else Verdict.INCOMPLETE


def exit_code(verdict: Verdict, accept_incomplete: bool = False) -> int:
    if verdict is Verdict.FAIL:
        return EXIT_FAIL
    if verdict is Verdict.INCOMPLETE and not accept_incomplete:
        return EXIT_INCOMPLETE
    return EXIT_PASS


def accepted_note(verdict: Verdict, accept_incomplete: bool) -> str:
    """What every report says when --accept-incomplete turned INCOMPLETE into exit 0."""
    if verdict is Verdict.INCOMPLETE and accept_incomplete:
        return "INCOMPLETE accepted by --accept-incomplete: exit status 0, not a pass"
    return ""
