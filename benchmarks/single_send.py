"""Benchmark 1: single_send requests/s through the mock against a bare Flask handler that
only parses and answers; same gunicorn settings, same load generator (wrk).
Target (benchmarks/targets.py): ratio ≥ 0.5 on SQLite, ≥ 0.4 on Redis.

    .venv/bin/python -m benchmarks.single_send [--workers 2 --threads 8 --connections 16]
        [--store redis [--instances 2]] [--results-dir DIR]
"""

from __future__ import annotations

from .common import (
    Row,
    Run,
    billed,
    compare_throughput,
    number,
    print_throughput,
    raw_throughput,
    signed_body,
    throughput_arguments,
    throughput_figures,
    verdict,
)


def main() -> None:
    args = throughput_arguments(__doc__, connections=16)
    run = Run("single_send", args)
    fields = {"mobile": "13912000001", "content": "%b2%e2%ca%d4"}
    mock, bare, accepted = compare_throughput(
        "single_send", lambda: signed_body("single_send", fields), args
    )
    figures = throughput_figures(mock, bare, accepted, per_request=1)
    print_throughput("single_send throughput", args, mock, bare, accepted)
    print(
        f"ratio mock / bare = {figures['ratio']:.2f}  "
        f"({verdict('single_send', args.store, figures)})"
    )
    row = Row(
        title="single_send requests/s",
        figure=f"{number(figures['requests_per_s'])} req/s, p50 {figures['p50_ms']:.1f} ms, "
        f"p99 {figures['p99_ms']:.1f} ms, {figures['errors']} errors{billed(figures)}",
        baseline=f"bare Flask parse-and-answer: {number(figures['bare_requests_per_s'])} req/s",
        figures=figures,
        headline="ratio",
    )
    run.save([row], raw_throughput(mock, bare))


if __name__ == "__main__":
    main()
