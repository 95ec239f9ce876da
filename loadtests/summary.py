"""summary.json: the figures of a run, for people and for the sign-off report (issue 7)."""

from __future__ import annotations

import json
import math
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import __version__
from .ledger import CHANNELS, LoadLedger, buckets, encoded, percentiles
from .settings import LoadSettings
from .verdicts import Figures, ThresholdVerdict, judge

SCHEMA = "tongyu-loadtests-summary/1"
HISTOGRAM_BUCKET_MS = 100.0


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).isoformat(timespec="seconds")


def _pct(value: float) -> float | None:
    return None if math.isnan(value) else round(value * 100, 4)


def figures(ledger: LoadLedger, settings: LoadSettings, hold: tuple[float, float]) -> Figures:
    p99 = ledger.delivery.get_value_at_percentile(99) / 1e6 if ledger.delivery.total_count else None
    return Figures(
        p99_delivery_s=p99,
        delivery_rate_pct=_pct(ledger.delivery_rate()),
        error_rate_pct=ledger.error_rate() * 100,
        sustained_rate=ledger.sustained_rate(*hold),
        drift_s=ledger.drift(),
    )


def build(
    ledger: LoadLedger,
    settings: LoadSettings,
    hold: tuple[float, float],
    finished: float,
    extra: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], list[ThresholdVerdict]]:
    """The summary of a finished ledger, and the verdicts in it."""
    facts = figures(ledger, settings, hold)
    verdicts = judge(settings.scenario, facts, settings.thresholds)
    lost = ledger.errcodes.get("lost", 0)
    sends = {e: h for e, h in ledger.http.items() if e.endswith("_send")}
    summary: dict[str, Any] = {
        "schema": SCHEMA,
        "tool": f"loadtests {__version__}",
        "scenario": settings.scenario,
        "target": settings.target,
        "started": iso(ledger.started),
        "finished": iso(finished),
        "settings": settings.public(),
        "passed": all(v.passed for v in verdicts),
        "failed_thresholds": [v.name for v in verdicts if not v.passed],
        "thresholds": [v.as_dict() for v in verdicts],
        "volume": {
            "annual_volume": settings.annual_volume,
            "peak_factor": settings.peak_factor,
            "average_rate": settings.public()["average_rate"],
            "peak_rate": settings.peak_rate,
            "offered_rate": settings.rate,
            "sustained_rate": round(facts.sustained_rate, 4),
            "sustained_window_s": round(hold[1] - hold[0], 3),
            "accepted_messages": ledger.accepted_messages,
            "segments": ledger.expected_segments,
        },
        "requests": {
            "total": sum(ledger.outcomes.values()),
            "by_result": ledger.error_counts(),
            "by_endpoint": _by_endpoint(ledger),
            "error_rate": round(ledger.error_rate(), 6),
        },
        "http_latency": {
            **{endpoint: percentiles(h) for endpoint, h in sorted(ledger.http.items())},
            "all_sends": percentiles(_merged(sends.values())),
        },
        "delivery": {
            "segments": ledger.expected_segments,
            "reported": ledger.reported_segments,
            "delivered": ledger.delivered_segments,
            "failed": ledger.reported_segments - ledger.delivered_segments,
            "lost": lost,
            "rate": _round(ledger.delivery_rate()),
            "message_rate": _round(ledger.message_delivery_rate()),
            "by_errcode": dict(sorted(ledger.errcodes.items())),
            "latency": percentiles(ledger.delivery),
            "latency_by_channel": {c: percentiles(h) for c, h in ledger.by_channel.items()},
            "matched_by": dict(ledger.matched_by),
            "notes": dict(ledger.notes),
            "push_requests": dict(ledger.push),
            "histogram_bucket_ms": HISTOGRAM_BUCKET_MS,
            "histogram": buckets(ledger.delivery, HISTOGRAM_BUCKET_MS),
            "hdr": encoded(ledger.delivery),
            "hdr_by_channel": {c: encoded(ledger.by_channel[c]) for c in CHANNELS},
            "drift_s": facts.drift_s,
        },
        "target_memory": _memory(ledger),
        "interval_s": ledger.interval,
        "timeseries": ledger.timeseries(),
        "workers": {name: dict(counts) for name, counts in sorted(ledger.workers.items())},
    }
    summary.update(extra or {})
    return summary, verdicts


def _memory(ledger: LoadLedger) -> dict[str, Any] | None:
    """RSS of the target (--target-pid) at the first and last sample: growth in a soak."""
    samples = [i.target_rss for _, i in sorted(ledger.intervals.items()) if i.target_rss]
    if not samples:
        return None
    return {"first_rss": samples[0], "last_rss": samples[-1], "growth": samples[-1] - samples[0]}


def _by_endpoint(ledger: LoadLedger) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for (endpoint, result), count in sorted(ledger.outcomes.items()):
        table.setdefault(endpoint, {})[result] = count
    return table


def _merged(histograms: Any) -> Any:
    from .ledger import new_histogram

    total = new_histogram()
    for histogram in histograms:
        total.add(histogram)
    return total


def _round(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 6)


def relative_to_report(path: str | None, report_dir: str | Path) -> str | None:
    """A file's path relative to the report directory, as every path of `files` is
    (the directory can be moved or archived whole)."""
    if not path:
        return None
    return os.path.relpath(os.path.abspath(path), os.path.abspath(report_dir))


def write(summary: dict[str, Any], report_dir: str | Path) -> Path:
    path = Path(report_dir) / "summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def verdict_lines(verdicts: list[ThresholdVerdict]) -> list[str]:
    """One line per threshold: PASS/FAIL name: message (rule)."""
    return [f"{'PASS' if v.passed else 'FAIL'} {v.name}: {v.message} ({v.rule})" for v in verdicts]
