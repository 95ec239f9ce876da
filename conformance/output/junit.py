"""JUnit XML (junitparser): one testsuite per category, one testcase per check."""

from __future__ import annotations

from pathlib import Path

from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite

from .. import SUITE_NAME
from ..catalogue import CATEGORIES
from ..events import Event, RunFinished
from ..outcomes import CheckResult, Outcome


def testcase(check_id: str, category: str, result: CheckResult, title: str) -> TestCase:
    case = TestCase(check_id, classname=f"{SUITE_NAME}.{category}", time=result.duration)
    text = "\n".join(
        [f"rule: {title}", result.message]
        + [f"reproducer: {e.curl}\nanswer: HTTP {e.status} {e.answer}" for e in result.reproducers]
    )
    if result.outcome is Outcome.FAILED:
        case.result = [Failure(result.message[:500], "conformance")]
        case.result[0].text = text
    elif result.outcome is Outcome.ERROR:
        case.result = [Error(result.message[:500], "error")]
        case.result[0].text = text
    elif result.outcome in (Outcome.SKIPPED, Outcome.NOT_APPLICABLE):
        case.result = [Skipped(f"{result.outcome.value}: {result.message}"[:500])]
    if result.warnings:
        case.system_out = "\n".join(f"warning: {w.message}" for w in result.warnings)
    return case


def build(run: RunFinished) -> JUnitXml:
    xml = JUnitXml(SUITE_NAME)
    for category in CATEGORIES:
        suite = TestSuite(category)
        suite.timestamp = run.started.isoformat()
        cases = [
            testcase(check.id, category, run.results[check.id], check.title)
            for check in run.checks
            if check.category == category and check.id in run.results
        ]
        if cases:
            suite.add_testcases(cases)
            suite.add_property("target", run.config.target)
            suite.add_property("profile", run.config.profile)
            xml.add_testsuite(suite)
    return xml


class JUnitReport:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def handle(self, event: Event) -> None:
        if isinstance(event, RunFinished):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            xml = build(event)
            xml.update_statistics()
            xml.write(str(self.path), pretty=True)
