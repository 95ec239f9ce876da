"""report.html: the run's own verdict on one page (Locust's stock report shows none of it):
the thresholds with their limits and measured values, the figures, and the plots. Written
beside summary.json from the summary alone, so `python -m loadtests.report DIR` rewrites
it for any report directory."""

from __future__ import annotations

import base64
import json
import math
import sys
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

REPORT_FILE = "report.html"


def number(value: Any, digits: int = 3) -> str:
    """A figure as a person reads it: 15000000.0 → 15,000,000; 4.756468 → 4.756."""
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.{digits}f}".rstrip("0").rstrip(".")


def seconds(ms: Any) -> str:
    return "–" if ms is None else f"{ms / 1000:.3f} s"


def percent(rate: Any) -> str:
    """A 0..1 rate as a percentage."""
    return "–" if rate is None else f"{rate * 100:.2f} %"


def inline_png(report_dir: Path, name: str) -> str | None:
    """A plot as a data: URI (the page stays one file), None when it was not written."""
    path = report_dir / name
    if not path.is_file():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def render(summary: dict[str, Any], report_dir: str | Path) -> str:
    report_dir = Path(report_dir)
    env = Environment(
        loader=PackageLoader("loadtests", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(number=number, seconds=seconds, percent=percent)
    files = summary.get("files") or {}
    plots = [(name, inline_png(report_dir, name)) for name in files.get("plots") or []]
    return env.get_template("report.html.j2").render(
        s=summary,
        files=files,
        plots=[(name, uri) for name, uri in plots if uri],
        settings_json=json.dumps(summary.get("settings", {}), ensure_ascii=False, indent=1),
    )


def write_report(summary: dict[str, Any], report_dir: str | Path) -> str:
    """report.html in report_dir; its name, relative to report_dir as every file of
    summary.json's `files`."""
    path = Path(report_dir) / REPORT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(summary, report_dir), encoding="utf-8")
    return path.name


def main(argv: list[str] | None = None) -> int:
    """python -m loadtests.report DIR: (re)write DIR/report.html from DIR/summary.json."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m loadtests.report REPORT_DIR", file=sys.stderr)
        return 2
    report_dir = Path(args[0])
    try:
        summary = json.loads((report_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"loadtests.report: {report_dir / 'summary.json'}: {exc}", file=sys.stderr)
        return 2
    print(report_dir / write_report(summary, report_dir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
