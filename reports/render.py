"""HTML of the sign-off and the comparison: Jinja2 templates (package data), CSS and SVG
inline, so each document is one self-contained file."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from smsapi.auth import CHINA_TZ
from smsapi.fields import TIME_FORMAT

from . import plots, tender
from .compare import Comparison
from .signoff import SignOff

OUTCOME_LABELS = {
    "passed": "pass",
    "warned": "warn",
    "failed": "FAIL",
    "error": "ERROR",
    "skipped": "skip",
    "not_applicable": "n/a",
    None: "–",
}
ANSWER_SHOWN = 1500  # characters of an answer in the sign-off (the suite's report has all)


def china_time(moment: datetime) -> str:
    """Times as Tongyu reads them: China time."""
    return moment.astimezone(CHINA_TZ).strftime(TIME_FORMAT) + " (UTC+8)"


def css_string(text: str) -> Markup:
    """A CSS string literal safe inside <style> (used by the page footer)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ")
    return Markup(f'"{escaped}"')


def compact(value: Any) -> str:
    """A setting as one short line."""
    if isinstance(value, str):
        return value or "–"
    return json.dumps(value, ensure_ascii=False)


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        china_time=china_time,
        css_string=css_string,
        compact=compact,
        outcome=lambda o: OUTCOME_LABELS.get(o, o),
        clip=lambda text, n=ANSWER_SHOWN: text if len(text) <= n else text[:n] + " …",
    )
    env.globals.update(tender=tender)
    return env


def render_signoff(signoff: SignOff) -> str:
    figures = {
        "histogram": plots.latency_histogram(signoff.load),
        "percentiles": plots.percentiles_over_time(signoff.load),
        "categories": plots.results_by_category(signoff.conformance),
    }
    return (
        environment()
        .get_template("signoff.html.j2")
        .render(s=signoff, conf=signoff.conformance, load=signoff.load, figures=figures)
    )


def render_compare(comparison: Comparison) -> str:
    return (
        environment()
        .get_template("compare.html.j2")
        .render(c=comparison, lines=comparison.check_lines())
    )
