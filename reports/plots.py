"""The sign-off's plots as inline SVG (matplotlib, Agg, no display): the delivery-time
histogram with the 5 s line, delivery percentiles over time, and results by category."""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402  (after the backend is chosen)
from matplotlib.ticker import MaxNLocator  # noqa: E402

from .inputs import ConformanceRun, LoadRun  # noqa: E402

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType
from smsapi.tender import DELIVERY_LIMIT_S  # noqa: E402

# Text stays text (searchable in the PDF, no glyph paths); stable ids between runs.
RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "tongyu-reports",
    "font.size": 9,
}
SIZE = (7.2, 3.0)  # inches: the width of an A4 page between margins
COLOURS = {
    "passed": "#2e7d32",
    "warned": "#f9a825",
    "failed": "#c62828",
    "error": "#8e24aa",
    "skipped": "#9e9e9e",
    "not_applicable": "#d7d7d7",
}


def count_ticks() -> MaxNLocator:
    """A count axis (segments, checks) has whole-number ticks: no "2.5 checks"."""
    return MaxNLocator(integer=True)


LIMIT_STYLE: dict[str, Any] = {"color": "#c62828", "linestyle": "--", "linewidth": 1.4}


def to_svg(fig: Figure, name: str) -> str:
    """The figure as an <svg> element whose ids are prefixed with `name`, so several
    plots can share one HTML document."""
    with matplotlib.rc_context(RC):
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r'\bid="([^"]+)"', rf'id="{name}-\1"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{name}-\1)", text)
    text = re.sub(r'href="#([^"]+)"', rf'href="#{name}-\1"', text)
    return text.replace("<svg ", f'<svg role="img" aria-label="{name}" ', 1)


def _figure() -> Figure:
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=SIZE, dpi=100)
        fig.add_subplot()
    return fig


def latency_histogram(load: LoadRun) -> str:
    """Delivered segments per delivery time, with the tender's 5 s line and the p99."""
    with matplotlib.rc_context(RC):
        fig = _figure()
        ax = fig.axes[0]
        if load.histogram:
            ax.bar(
                [lower for lower, _ in load.histogram],
                [n for _, n in load.histogram],
                width=load.bucket_s,
                align="edge",
                color="#1565c0",
            )
        else:
            ax.text(0.5, 0.5, "no delivered segment", ha="center", transform=ax.transAxes)
        right = max(DELIVERY_LIMIT_S * 1.2, (load.latency.max or 0) * 1.05)
        ax.set_xlim(0, right)
        ax.axvline(DELIVERY_LIMIT_S, label=f"{DELIVERY_LIMIT_S:g} s limit (§2.1.3)", **LIMIT_STYLE)
        if load.latency.p99 is not None:
            ax.axvline(load.latency.p99, color="black", linestyle=":", label="p99")
        ax.set_xlabel("delivery time, send → first report (s)")
        ax.set_ylabel("segments")
        ax.yaxis.set_major_locator(count_ticks())
        ax.set_title(f"Delivery time of {load.latency.count} delivered segments under load")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper right")
        fig.tight_layout()
        return to_svg(fig, "histogram")


def percentiles_over_time(load: LoadRun) -> str:
    """p50/p95/p99/max of each interval of the load run, with the 5 s line."""
    rows = [p for p in load.timeseries if p.count]
    with matplotlib.rc_context(RC):
        fig = _figure()
        ax = fig.axes[0]
        for key in ("p50", "p95", "p99", "max"):
            ax.plot(
                [p.t for p in rows],
                [getattr(p, key) for p in rows],
                marker="o",
                markersize=3,
                label=key,
            )
        if not rows:
            ax.text(0.5, 0.5, "no delivered segment", ha="center", transform=ax.transAxes)
        ax.axhline(DELIVERY_LIMIT_S, label=f"{DELIVERY_LIMIT_S:g} s limit", **LIMIT_STYLE)
        ax.set_ylim(bottom=0)
        ax.set_xlabel(f"send time, s from the start ({load.interval_s:g} s intervals)")
        ax.set_ylabel("delivery time (s)")
        ax.set_title("Delivery time percentiles over the load run")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper right", ncol=5)
        fig.tight_layout()
        return to_svg(fig, "percentiles")


def results_by_category(run: ConformanceRun) -> str:
    """The suite's outcomes per category, stacked."""
    names = [c.name for c in run.categories][::-1]
    counts = {c.name: c.counts for c in run.categories}
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(SIZE[0], 0.3 * len(names) + 1.0), dpi=100)
        ax = fig.add_subplot()
        left = [0] * len(names)
        for outcome, colour in COLOURS.items():
            values = [counts[n].get(outcome, 0) for n in names]
            if any(values):
                ax.barh(
                    names,
                    values,
                    left=left,
                    color=colour,
                    label=outcome.replace("_", " "),
                    height=0.6,
                )
                left = [a + b for a, b in zip(left, values, strict=True)]
        ax.set_xlabel("checks")
        ax.xaxis.set_major_locator(count_ticks())
        ax.set_title("Conformance results by category")
        ax.grid(True, axis="x", alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
        fig.tight_layout()
        return to_svg(fig, "categories")
