"""report.html: the self-contained page a person reads first (built from report.json's
data, so both always agree)."""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import Environment, select_autoescape

from ..events import Event, RunFinished
from .jsonreport import build_report

REPORT_NAME = "report.html"

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Conformance: {{ r.target.vendor or r.target.url }}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
.passed{color:#176d2c}.warned{color:#9a6700}.failed,.error{color:#b00020;font-weight:bold}
.skipped,.not_applicable{color:#777}pre{background:#f6f6f6;padding:6px;white-space:pre-wrap;
word-break:break-all;font-size:12px}details{margin:.2em 0 .6em 1.5em}
.verdict{font-size:1.4em;padding:.3em .6em;border-radius:4px;display:inline-block}
.pass{background:#d9f2df}.fail{background:#f8d7da}
</style></head><body>
<h1>Conformance report</h1>
<p class="verdict {{ r.verdict }}">Verdict: {{ r.verdict | upper }}</p>
<table>
<tr><th>vendor</th><td>{{ r.target.vendor or "-" }}</td></tr>
<tr><th>target</th><td>{{ r.target.url }} (userid {{ r.target.userid }})</td></tr>
<tr><th>run</th><td>{{ r.run.started }} · {{ r.run.duration_s }} s · seed {{ r.run.seed }}</td></tr>
<tr><th>suite</th><td>{{ r.suite.name }} {{ r.suite.version }} · schemas
{{ r.suite.schemas.version }} ({{ r.suite.schemas.digest }})</td></tr>
<tr><th>profile</th><td>{{ r.settings.profile }}</td></tr>
<tr><th>messages</th><td>{{ r.metrics.messages.segments_billed }} billed of a budget of
{{ r.metrics.messages.budget }} · cost {{ r.metrics.messages.cost }} yuan</td></tr>
<tr><th>delivery</th><td>rate {{ r.metrics.delivery.rate }} · p50 {{ lat.p50 }} s ·
p95 {{ lat.p95 }} s · p99 {{ lat.p99 }} s · max {{ lat.max }} s ·
within 5 s {{ r.metrics.delivery.within_limit }}</td></tr>
<tr><th>channels</th><td>{{ r.metrics.channels }}</td></tr>
</table>
<h2>By category</h2>
<table><tr><th>category</th>{% for o in outcomes %}<th>{{ o }}</th>{% endfor %}
<th>score</th></tr>
{% for name, row in r.categories.items() %}<tr><td>{{ name }}</td>
{% for o in outcomes %}<td class="{{ o }}">{{ row[o] or "" }}</td>{% endfor %}
<td>{{ "-" if row.score is none else "%.0f%%" % (row.score * 100) }}</td></tr>{% endfor %}
</table>
<h2>Checks</h2>
<table><tr><th>id</th><th>§</th><th>level</th><th>outcome</th><th>rule</th></tr>
{% for c in r.checks %}<tr><td id="{{ c.id }}">{{ c.id }}</td><td>{{ c.section }}</td>
<td>{{ c.level }}</td><td class="{{ c.outcome }}">{{ c.outcome }}</td><td>{{ c.title }}
{% if c.message %}<br><span class="{{ c.outcome }}">{{ c.message }}</span>{% endif %}
{% for w in c.warnings %}<br><span class="warned">warning: {{ w.message }}</span>{% endfor %}
{% if c.reproducers or c.evidence or c.details %}<details><summary>evidence</summary>
{% for e in c.reproducers %}<p>reproducer:</p><pre>{{ e.curl }}</pre>
<p>answer (HTTP {{ e.status }}, {{ e.answer_content_type }}):</p>
<pre>{{ e.answer }}</pre>{% endfor %}
{% if c.details %}<pre>{{ c.details | tojson(indent=1) }}</pre>{% endif %}
{% if not c.reproducers %}{% for e in c.evidence[-2:] %}<pre>{{ e.curl }}
→ HTTP {{ e.status }} {{ e.answer }}</pre>{% endfor %}{% endif %}
</details>{% endif %}</td></tr>{% endfor %}
</table>
</body></html>
"""


def render(run: RunFinished) -> str:
    report = json.loads(json.dumps(build_report(run), default=str))
    env = Environment(autoescape=select_autoescape(default=True))
    return env.from_string(TEMPLATE).render(
        r=report,
        lat=report["metrics"].get("delivery", {}).get("latency_s", {}),
        outcomes=["passed", "warned", "failed", "error", "skipped", "not_applicable"],
    )


class HtmlReport:
    def __init__(self, report_dir: str | Path) -> None:
        self.path = Path(report_dir) / REPORT_NAME

    def handle(self, event: Event) -> None:
        if isinstance(event, RunFinished):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(render(event), encoding="utf-8")
