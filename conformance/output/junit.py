"""JUnit XML as CI servers read it: one testsuite per category, one testcase per check.

Valid against the Apache Ant JUnit schema (tests/junit/JUnit.xsd, the one Jenkins' JUnit
plugin follows): each testsuite opens with <properties> (the verdict, the coverage figure,
the target), then its testcases, then <system-out>/<system-err>. A check not judged
(skipped, inconclusive, not applicable) is a <skipped> testcase with its reason and what
would judge it; warnings go to the testsuite's system-out (a testcase has no room for them).
"""

from __future__ import annotations

import socket
from pathlib import Path
from xml.etree import ElementTree as ET

from .. import SUITE_NAME
from ..catalogue import CATEGORIES, Check
from ..events import Event, RunFinished
from ..outcomes import CheckResult, Outcome
from ..verdict import remedy_for
from .summary import verdict_line

MESSAGE_LIMIT = 500  # characters of a message attribute; the whole text is the element's


def properties(run: RunFinished) -> list[tuple[str, str]]:
    """What every testsuite states first: the verdict and the coverage it rests on."""
    cov = run.coverage
    props = [
        ("verdict", run.verdict.value),
        ("verdict_line", verdict_line(run)),
        ("coverage", cov.line()),
        ("must_judged", str(cov.judged)),
        ("must_applicable", str(cov.applicable)),
        ("exit_code", str(run.exit_code)),
        ("target", run.config.target),
        ("profile", run.config.profile),
    ]
    if run.accepted_note:
        props.append(("accepted_incomplete", run.accepted_note))
    return props


def testcase(check: Check, result: CheckResult, run: RunFinished) -> ET.Element:
    case = ET.Element(
        "testcase",
        name=check.id,
        classname=f"{SUITE_NAME}.{check.category}",
        time=f"{result.duration:.3f}",
    )
    text = "\n".join(
        [f"rule: {check.section} {check.title}", result.message]
        + [f"reproducer:\n{e.curl}\nanswer: HTTP {e.status} {e.answer}" for e in result.reproducers]
    )
    if result.outcome is Outcome.FAILED:
        ET.SubElement(case, "failure", message=result.message[:MESSAGE_LIMIT], type="conformance")
        case[0].text = text
    elif result.outcome is Outcome.ERROR:
        ET.SubElement(case, "error", message=result.message[:MESSAGE_LIMIT], type="error")
        case[0].text = text
    elif not result.outcome.judged:
        why = f"{result.outcome.value}: {result.message}"
        if result.outcome is not Outcome.NOT_APPLICABLE:
            why += f" (to judge it: {remedy_for(result, run.config)})"
        ET.SubElement(case, "skipped", message=why[:MESSAGE_LIMIT]).text = why
    return case


def build(run: RunFinished) -> ET.Element:
    root = ET.Element("testsuites")
    hostname = socket.gethostname() or "localhost"
    stamp = run.started.replace(tzinfo=None, microsecond=0).isoformat()
    props = properties(run)
    for index, category in enumerate(c for c in CATEGORIES if _checks(run, c)):
        checks = _checks(run, category)
        results = [run.results[c.id] for c in checks]
        suite = ET.SubElement(
            root,
            "testsuite",
            name=category,
            package=SUITE_NAME,
            id=str(index),
            hostname=hostname,
            timestamp=stamp,
            tests=str(len(results)),
            failures=str(sum(r.outcome is Outcome.FAILED for r in results)),
            errors=str(sum(r.outcome is Outcome.ERROR for r in results)),
            skipped=str(
                sum(not r.outcome.counts_as_failure and not r.outcome.judged for r in results)
            ),
            time=f"{sum(r.duration for r in results):.3f}",
        )
        listed = ET.SubElement(suite, "properties")
        for name, value in props:
            ET.SubElement(listed, "property", name=name, value=value)
        for check, result in zip(checks, results, strict=True):
            suite.append(testcase(check, result, run))
        warnings = [
            f"{check.id}: warning: {w.message}"
            for check, result in zip(checks, results, strict=True)
            for w in result.warnings
        ]
        ET.SubElement(suite, "system-out").text = "\n".join(warnings)
        ET.SubElement(suite, "system-err").text = ""
    return root


def _checks(run: RunFinished, category: str) -> list[Check]:
    return [c for c in run.checks if c.category == category and c.id in run.results]


class JUnitReport:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def handle(self, event: Event) -> None:
        if isinstance(event, RunFinished):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tree = ET.ElementTree(build(event))
            ET.indent(tree)
            tree.write(self.path, encoding="utf-8", xml_declaration=True)
