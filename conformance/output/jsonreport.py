"""report.json: one record per check, the run's settings and figures.

The layout is the input of the sign-off and comparison reports (issue 7): keep it
stable, and bump REPORT_FORMAT_VERSION on any change a reader must know about.
Top-level keys: format, format_version, suite, target, run, settings, verdict, coverage,
exit_code, accepted_incomplete, summary, categories, checks, metrics. See
docs/conformance.md for each field. Format 2 (issue 15): the verdict may be "incomplete",
an outcome may be "inconclusive", each check says what it judged ("judged") and, when it
did not judge, what would ("remedy").
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import smsapi

from .. import REPORT_FORMAT_VERSION, SUITE_NAME, SUITE_VERSION
from ..catalogue import CATEGORIES, Level
from ..events import Event, RunFinished
from ..outcomes import Outcome
from ..verdict import remedy_for
from .summary import WEIGHTS, category_counts, verdict, verdict_line

REPORT_NAME = "report.json"
FORMAT = "tongyu-conformance-report"


def schemas_identity() -> dict[str, str]:
    """Which schemas judged the answers: their version and a digest of their files."""
    try:
        import schemas
    except ImportError:  # pragma: no cover - installed with the suite
        return {"version": "absent", "digest": ""}
    folder = Path(schemas.__file__).parent
    digest = hashlib.sha256()
    for path in sorted([*folder.glob("json/*.json"), *folder.glob("xsd/*.xsd")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return {
        "version": str(getattr(schemas, "__version__", "unversioned")),
        "digest": digest.hexdigest()[:16],
    }


def build_report(run: RunFinished) -> dict[str, Any]:
    counts = category_counts(run)
    cfg = run.config
    levels: dict[str, dict[str, int]] = {}
    for check in run.checks:
        result = run.results.get(check.id)
        if result:
            row = levels.setdefault(check.level.value, {o.value: 0 for o in Outcome})
            row[result.outcome.value] += 1
    return {
        "format": FORMAT,
        "format_version": REPORT_FORMAT_VERSION,
        "suite": {
            "name": SUITE_NAME,
            "version": SUITE_VERSION,
            "smsapi_version": smsapi.__version__,
            "schemas": schemas_identity(),
        },
        "target": {"url": cfg.target, "vendor": cfg.vendor, "userid": cfg.userid},
        "run": {
            "started": run.started.isoformat(),
            "finished": run.finished.isoformat(),
            "duration_s": round((run.finished - run.started).total_seconds(), 3),
            "seed": run.seed,
            "hypothesis_database": str(Path(cfg.report_dir or ".") / ".hypothesis"),
        },
        "settings": cfg.settings_dict(),
        "verdict": verdict(run),
        "verdict_line": verdict_line(run),
        "coverage": run.coverage.to_dict(),
        "exit_code": run.exit_code,
        "accepted_incomplete": bool(run.accepted_note),
        "summary": {
            "outcomes": {k: v for k, v in counts.get("total", {}).items() if k != "score"},
            "score": counts.get("total", {}).get("score"),
            "by_level": levels,
            "weights": {level.value: WEIGHTS[level] for level in Level},
        },
        "categories": {
            name: {"description": CATEGORIES[name], **counts[name]}
            for name in CATEGORIES
            if name in counts
        },
        "checks": [check_record(run, check) for check in run.checks if check.id in run.results],
        "metrics": run.metrics,
    }


def check_record(run: RunFinished, check: Any) -> dict[str, Any]:
    result = run.results[check.id]
    return {
        **check.to_dict(),
        "outcome": result.outcome.value,
        "duration_s": result.duration,
        "message": result.message,
        "expected": result.expected,
        "got": result.got,
        "warnings": [w.to_dict() for w in result.warnings],
        "details": result.details,
        "messages_sent": result.messages_sent,
        "judged": result.judged,
        "remedy": "" if result.outcome.judged else _remedy(run, result),
        "evidence": [e.to_dict() for e in result.evidence],
        "reproducers": [e.to_dict() for e in result.reproducers],
    }


def _remedy(run: RunFinished, result: Any) -> str:
    if result.outcome is Outcome.NOT_APPLICABLE:
        return ""
    return remedy_for(result, run.config)


class JsonReport:
    def __init__(self, report_dir: str | Path) -> None:
        self.path = Path(report_dir) / REPORT_NAME

    def handle(self, event: Event) -> None:
        if isinstance(event, RunFinished):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            text = json.dumps(build_report(event), ensure_ascii=False, indent=2, default=str)
            self.path.write_text(text + "\n", encoding="utf-8")
