"""PNG plots of a summary: delivery percentiles over time, and the latency histogram."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402


def percentiles_over_time(summary: dict[str, Any], path: Path) -> Path:
    rows = [r for r in summary["timeseries"] if r["delivery"]["count"]]
    limit = _p99_limit(summary)
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=100)
    for key, label in (("p50_ms", "p50"), ("p95_ms", "p95"), ("p99_ms", "p99"), ("max_ms", "max")):
        ax.plot(
            [r["t"] for r in rows],
            [r["delivery"][key] / 1000 for r in rows],
            marker="o",
            markersize=3,
            label=label,
        )
    if limit is not None:
        ax.axhline(limit, color="red", linestyle="--", label=f"{limit:g} s limit")
    ax.set_xlabel(f"send time, s from start ({summary['interval_s']:g} s buckets)")
    ax.set_ylabel("delivery time, s")
    ax.set_title(f"Delivery time percentiles: {summary['scenario']} against {summary['target']}")
    return _save(fig, ax, path)


def histogram(summary: dict[str, Any], path: Path) -> Path:
    delivery = summary["delivery"]
    width = delivery["histogram_bucket_ms"] / 1000
    bars = delivery["histogram"]
    limit = _p99_limit(summary)
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=100)
    ax.bar([b[0] / 1000 for b in bars], [b[1] for b in bars], width=width, align="edge")
    if limit is not None:
        ax.axvline(limit, color="red", linestyle="--", label=f"{limit:g} s limit (§2.1.3)")
    latency = delivery["latency"]
    if latency["count"]:
        ax.axvline(latency["p99_ms"] / 1000, color="black", linestyle=":", label="p99")
    ax.set_xlabel("delivery time (send → first report), s")
    ax.set_ylabel("segments")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # a count: no 2.5 segments
    ax.set_title(
        f"Delivery time of {latency['count']} delivered segments "
        f"(delivery rate {_pct(delivery['rate'])})"
    )
    return _save(fig, ax, path)


def write_plots(summary: dict[str, Any], report_dir: str | Path) -> list[str]:
    out = Path(report_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [
        percentiles_over_time(summary, out / "delivery-percentiles.png").name,
        histogram(summary, out / "delivery-histogram.png").name,
    ]


def _save(fig: Any, ax: Any, path: Path) -> Path:
    """Both plots look alike: a light grid, the legend, tight margins."""
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _p99_limit(summary: dict[str, Any]) -> float | None:
    return summary["settings"]["thresholds"]["max_p99_delivery"]


def _pct(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate * 100:.2f} %"
