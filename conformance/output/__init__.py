"""Output handlers of a run: terminal, JSON report, JUnit XML, HTML."""

from __future__ import annotations

from pathlib import Path

from ..config import VendorConfig
from ..events import EventBus
from .html import HtmlReport
from .jsonreport import JsonReport
from .junit import JUnitReport
from .terminal import TerminalReporter


def report_files(report_dir: str) -> list[JsonReport | HtmlReport | JUnitReport]:
    """The reports a --report-dir holds: report.json, report.html, junit.xml."""
    return [
        JsonReport(report_dir),
        HtmlReport(report_dir),
        JUnitReport(Path(report_dir) / "junit.xml"),
    ]


def report_bus(config: VendorConfig, terminal: TerminalReporter) -> EventBus:
    """The terminal, and the report files config asks for (--report-dir, --junit-xml)."""
    bus = EventBus([terminal])
    for handler in report_files(config.report_dir) if config.report_dir else []:
        bus.subscribe(handler)
    if config.junit_xml:
        bus.subscribe(JUnitReport(config.junit_xml))
    return bus
