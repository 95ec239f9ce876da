"""HTML of the sign-off and the comparison: Jinja2 templates (package data), CSS and SVG
inline, so each document is one self-contained file."""

from __future__ import annotations

import json
import math
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
    "inconclusive": "not judged",
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
    """A setting as one short line, numbers as a person writes them."""
    if isinstance(value, str):
        return value or "–"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return number(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(compact(v) for v in value) + "]" if value else "–"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {compact(v)}" for k, v in value.items()) or "–"
    return str(value)


def number(value: float) -> str:
    """15000000.0 → "15,000,000", 4.756468797564688 → "4.756", 0.029 → "0.029"; ints as
    they are (a seed or a port is no quantity to group)."""
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    if value.is_integer():
        return f"{int(value):,}"
    if abs(value) >= 1000:
        return f"{value:,.1f}"
    return f"{value:.4g}" if abs(value) >= 0.001 else f"{value:.2e}"


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
        number=number,
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
