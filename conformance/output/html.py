"""report.html: the self-contained page a person reads first (built from report.json's
data, so both always agree). The verdict and its coverage first, then the failures and the
must-checks not judged (each failure with its reproducer, open), the categories (each a
link that filters the checks), and every check with a filter by outcome, level and text."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape

from ..events import Event, RunFinished
from .jsonreport import build_report

REPORT_NAME = "report.html"
OUTCOMES = ["failed", "error", "inconclusive", "skipped", "warned", "passed", "not_applicable"]
NOT_JUDGED = ("inconclusive", "skipped")
LABELS = {
    "passed": "passed",
    "warned": "warned",
    "failed": "FAILED",
    "error": "ERROR",
    "inconclusive": "inconclusive",
    "skipped": "skipped",
    "not_applicable": "n/a",
}

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Conformance: {{ r.target.vendor or r.target.url }} — {{ r.verdict | upper }}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;color:#1f2328;max-width:1200px;
padding:0 1em}
table{border-collapse:collapse;margin:.6em 0;width:100%}
td,th{border:1px solid #c9ccd1;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f1f3f4}.facts th{width:14%}
.passed{color:#1b5e20}.warned{color:#8a5300}.failed,.error{color:#b00020;font-weight:bold}
.inconclusive{color:#8a5300}.skipped,.not_applicable{color:#5f6368}
pre{background:#f6f8fa;border:1px solid #e1e4e8;padding:6px;white-space:pre-wrap;
word-break:break-all;font-size:12px;margin:3px 0;max-height:24em;overflow:auto}
details{margin:.2em 0 .4em}
.verdict{font-size:1.35em;font-weight:bold;padding:.4em .7em;border-radius:6px;margin:.4em 0}
.v-pass{background:#e3f3e6;color:#1b5e20}.v-fail{background:#fbe3e5;color:#b00020}
.v-incomplete{background:#fff2dc;color:#8a5300}
.verdict small{display:block;font-weight:normal;font-size:.62em;margin-top:.2em}
.accepted{border:2px solid #8a5300;padding:.3em .6em;color:#8a5300;font-weight:bold}
.card{border-left:4px solid #b00020;padding:2px 0 2px 10px;margin:10px 0}
.card.open{border-left-color:#8a5300}.card h3{margin:0 0 2px;font-size:1.02em}
.meta{color:#5f6368;font-size:.92em}.num{text-align:right;white-space:nowrap}
#filters{position:sticky;top:0;background:#fff;padding:.4em 0;border-bottom:1px solid #c9ccd1}
#filters label{margin-right:.8em}tr.hidden{display:none}
</style></head><body>
<h1>Conformance report: {{ r.target.vendor or r.target.url }}</h1>
<div class="verdict v-{{ r.verdict }}" id="verdict">Verdict: {{ r.verdict | upper }}
<small>{{ r.coverage.line.split(":")[0] if r.coverage.not_judged else r.coverage.line }}
{%- if r.coverage.must_not_applicable %}; {{ r.coverage.must_not_applicable }} not applicable
to this configuration{% endif %} · exit status {{ r.exit_code }}</small></div>
{% if r.accepted_incomplete %}<p class="accepted">INCOMPLETE accepted by --accept-incomplete:
the run exited 0, but it is not a pass: the must-checks below were not judged.</p>{% endif %}
<table class="facts">
<tr><th>target</th><td>{{ r.target.url }} (userid {{ r.target.userid }})</td></tr>
<tr><th>run</th><td>{{ when(r.run.started) }} · {{ duration(r.run.duration_s) }} ·
seed {{ r.run.seed }} · {{ r.settings.profile }} profile</td></tr>
<tr><th>suite</th><td>{{ r.suite.name }} {{ r.suite.version }} · schemas
{{ r.suite.schemas.version }} ({{ r.suite.schemas.digest }})</td></tr>
<tr><th>messages</th><td>{{ m.segments_billed }} billed of a budget of {{ m.budget }}
{%- if m.planned_segments is defined %} (planned up to {{ m.planned_segments }}){% endif %}
· cost {{ "%.3f" % (m.cost or 0) }} yuan</td></tr>
<tr><th>delivery</th><td>rate {{ pct(d.get("rate")) }} · p50 {{ secs(lat.get("p50")) }} ·
p95 {{ secs(lat.get("p95")) }} · p99 {{ secs(lat.get("p99")) }} · max {{ secs(lat.get("max")) }} ·
within 5 s {{ pct(d.get("within_limit")) }}</td></tr>
<tr><th>channels</th><td>{% for op, numbers in channels %}{{ op }}:
{{ numbers | join(", ") if numbers else "none seen" }}{% if not loop.last %} · {% endif %}
{% else %}none seen{% endfor %}</td></tr>
</table>

{% if failures %}<h2 id="failures">Failures ({{ failures | length }})</h2>
{% for c in failures %}<div class="card"><h3><a href="#{{ c.id }}">{{ c.id }}</a>
<span class="meta">{{ c.section }} · {{ c.level }} · {{ c.category }}</span></h3>
<div>{{ c.title }}</div><div class="{{ c.outcome }}">{{ c.message }}</div>
{% for e in c.reproducers %}<p class="meta">reproducer (fresh credentials: set the variables
it names):</p><pre>{{ e.curl }}</pre>
<p class="meta">answer (HTTP {{ e.status }}, {{ e.answer_content_type }}):</p>
<pre>{{ e.answer }}</pre>{% else %}<p class="meta">no single exchange shows it: see the
details below</p>{% endfor %}</div>{% endfor %}{% endif %}

{% if r.coverage.not_judged %}<h2 id="not-judged">Must-checks not judged
({{ r.coverage.not_judged | length }})</h2>
<table><tr><th>check</th><th>outcome</th><th>why</th><th>what would judge it</th></tr>
{% for n in r.coverage.not_judged %}<tr><td>{% if n.outcome != "not run" %}<a
href="#{{ n.id }}">{{ n.id }}</a>{% else %}{{ n.id }}{% endif %}</td>
<td class="{{ n.outcome }}">{{ n.outcome }}</td><td>{{ n.why }}</td><td>{{ n.remedy }}</td></tr>
{% endfor %}</table>{% endif %}

<h2 id="categories">By category</h2>
<table><tr><th>category</th>{% for o in outcomes %}<th>{{ labels[o] }}</th>{% endfor %}
<th>score</th></tr>
{% for name, row in r.categories.items() %}<tr><td><a href="#filter:category={{ name }}"
title="{{ row.description }}">{{ name }}</a></td>
{% for o in outcomes %}<td class="num {{ o if row[o] }}">{% if row[o] %}<a
href="#filter:category={{ name }}&outcome={{ o }}">{{ row[o] }}</a>{% endif %}</td>{% endfor %}
<td class="num">{{ "–" if row.score is none else pct(row.score, 0) }}</td></tr>{% endfor %}
</table>
<p class="meta">score: the weighted share (must ×{{ r.summary.weights.must }}, should
×{{ r.summary.weights.should }}) of the applicable checks that were judged and held; a check
not judged earns nothing.</p>

<h2 id="checks">Checks ({{ r.checks | length }})</h2>
<div id="filters">
<label>outcome <select id="f-outcome"><option value="">any</option>
{% for o in outcomes %}<option value="{{ o }}">{{ labels[o] }}</option>{% endfor %}
<option value="not-judged">not judged</option></select></label>
<label>level <select id="f-level"><option value="">any</option><option>must</option>
<option>should</option></select></label>
<label>category <select id="f-category"><option value="">any</option>
{% for name in r.categories %}<option>{{ name }}</option>{% endfor %}</select></label>
<label>text <input id="f-text" type="search" placeholder="id, rule, message"></label>
<span id="f-count" class="meta"></span></div>
<table id="check-table"><tr><th>id</th><th>§</th><th>level</th><th>outcome</th><th>rule</th>
<th class="num">time</th></tr>
{% for c in ordered %}<tr id="{{ c.id }}" data-outcome="{{ c.outcome }}"
data-level="{{ c.level }}" data-category="{{ c.category }}"><td>{{ c.id }}</td>
<td>{{ c.section }}</td><td>{{ c.level }}</td>
<td class="{{ c.outcome }}">{{ labels[c.outcome] }}</td>
<td>{{ c.title }}
{% if c.message %}<br><span class="{{ c.outcome }}">{{ c.message }}</span>{% endif %}
{% if c.remedy %}<br><span class="meta">to judge it: {{ c.remedy }}</span>{% endif %}
{% for w in c.warnings %}<br><span class="warned">warning: {{ w.message }}</span>{% endfor %}
{% if c.judged and c.outcome in ("passed", "warned", "failed") %}<br><span class="meta">judged:
{% for kind, n in c.judged.items() %}{{ n }} {{ kind }}{% if not loop.last %}, {% endif %}
{% endfor %}</span>{% endif %}
{% if c.reproducers or c.evidence or c.details %}<details
{%- if c.outcome in ("failed", "error") %} open{% endif %}><summary>evidence</summary>
{% for e in c.reproducers %}<p class="meta">reproducer:</p><pre>{{ e.curl }}</pre>
<p class="meta">answer (HTTP {{ e.status }}, {{ e.answer_content_type }}):</p>
<pre>{{ e.answer }}</pre>{% endfor %}
{% if c.details %}<pre>{{ c.details | tojson(indent=1) }}</pre>{% endif %}
{% if not c.reproducers %}{% for e in c.evidence[-2:] %}<pre>{{ e.curl }}
→ HTTP {{ e.status }} {{ e.answer }}</pre>{% endfor %}{% endif %}
</details>{% endif %}</td><td class="num">{{ secs(c.duration_s) }}</td></tr>{% endfor %}
</table>
<script>
(function () {
  var f = {outcome: document.getElementById("f-outcome"),
           level: document.getElementById("f-level"),
           category: document.getElementById("f-category")};
  var text = document.getElementById("f-text");
  var rows = document.querySelectorAll("#check-table tr[data-outcome]");
  function apply() {
    var shown = 0, q = text.value.toLowerCase();
    rows.forEach(function (row) {
      var o = row.dataset.outcome, ok = true;
      if (f.outcome.value === "not-judged") ok = o === "inconclusive" || o === "skipped";
      else if (f.outcome.value) ok = o === f.outcome.value;
      if (f.level.value && row.dataset.level !== f.level.value) ok = false;
      if (f.category.value && row.dataset.category !== f.category.value) ok = false;
      if (q && row.textContent.toLowerCase().indexOf(q) < 0) ok = false;
      row.classList.toggle("hidden", !ok);
      if (ok) shown++;
    });
    document.getElementById("f-count").textContent = shown + " of " + rows.length + " shown";
  }
  function fromHash() {
    var h = decodeURIComponent(location.hash);
    if (h.indexOf("#filter:") !== 0) return;
    f.outcome.value = ""; f.level.value = ""; f.category.value = ""; text.value = "";
    h.slice(8).split("&").forEach(function (pair) {
      var kv = pair.split("=");
      if (f[kv[0]]) f[kv[0]].value = kv[1];
    });
    apply();
    document.getElementById("checks").scrollIntoView();
  }
  [f.outcome, f.level, f.category, text].forEach(function (el) {
    el.addEventListener("input", apply);
  });
  window.addEventListener("hashchange", fromHash);
  fromHash(); apply();
})();
</script>
</body></html>
"""


def pct(value: float | None, digits: int = 2) -> str:
    """0.99061 → "99.06 %", 1.0 → "100.00 %"; None → "–"."""
    return "–" if value is None else f"{value * 100:.{digits}f} %"


def secs(value: float | None) -> str:
    """Seconds as a person reads them: "0.52 s", "1 min 05 s"; None → "–"."""
    if value is None:
        return "–"
    if value < 60:
        return f"{value:.2f} s"
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes} min {seconds:02d} s"


def duration(value: float | None) -> str:
    return secs(value)


def when(text: str) -> str:
    """An ISO time as "2026-11-30 22:55:02 UTC" (no microseconds)."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return str(text)
    zone = moment.tzname() or ""
    return moment.strftime("%Y-%m-%d %H:%M:%S") + (f" {zone}" if zone else "")


def ordered(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Failures first, then the checks not judged (must before should), then the rest,
    each group in catalogue order."""
    rank = {o: i for i, o in enumerate(OUTCOMES)}
    return sorted(
        checks,
        key=lambda c: (rank.get(c["outcome"], len(OUTCOMES)), c["level"] != "must"),
    )


def render(run: RunFinished) -> str:
    report = json.loads(json.dumps(build_report(run), default=str))
    env = Environment(autoescape=select_autoescape(default=True))
    delivery = report["metrics"].get("delivery", {})
    return env.from_string(TEMPLATE).render(
        r=report,
        m=report["metrics"].get("messages", {}),
        d=delivery,
        lat=delivery.get("latency_s", {}),
        channels=sorted((report["metrics"].get("channels") or {}).items()),
        failures=[c for c in report["checks"] if c["outcome"] in ("failed", "error")],
        ordered=ordered(report["checks"]),
        outcomes=OUTCOMES,
        labels=LABELS,
        pct=pct,
        secs=secs,
        duration=duration,
        when=when,
    )


class HtmlReport:
    def __init__(self, report_dir: str | Path) -> None:
        self.path = Path(report_dir) / REPORT_NAME

    def handle(self, event: Event) -> None:
        if isinstance(event, RunFinished):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(render(event), encoding="utf-8")
