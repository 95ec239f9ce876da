"""Benchmark 2: batch_send messages/s accepted, 1000-mobile batches, through the mock;
the baseline is the bare Flask handler parsing the same body.
Target (benchmarks/targets.py): ≥ 100 000 messages/s on SQLite.

    .venv/bin/python -m benchmarks.batch_send [--workers 2 --threads 8 --connections 4]
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

BATCH = 1000


def main() -> None:
    args = throughput_arguments(__doc__, connections=4)
    run = Run("batch_send", args)
    mobiles = ",".join(f"139{n:08d}" for n in range(10_000_000, 10_000_000 + BATCH))
    fields = {"mobile": mobiles, "content": "%b2%e2%ca%d4"}
    mock, bare, accepted = compare_throughput(
        "batch_send", lambda: signed_body("batch_send", fields), args
    )
    figures = throughput_figures(mock, bare, accepted, per_request=BATCH)
    title = f"batch_send throughput, {BATCH}-mobile batches"
    print_throughput(title, args, mock, bare, accepted, per_request=BATCH)
    print(
        f"messages/s: mock {figures['messages_per_s']:.0f}, bare parse-and-answer "
        f"{figures['bare_messages_per_s']:.0f}, ratio {figures['ratio']:.2f}"
    )
    print(verdict("batch_send", args.store, figures))
    row = Row(
        title=f"batch_send messages/s, {BATCH}-mobile batches",
        figure=f"{number(figures['messages_per_s'])} messages/s "
        f"({number(figures['requests_per_s'], 1)} batches/s, p50 {figures['p50_ms']:.0f} ms, "
        f"p99 {figures['p99_ms']:.0f} ms), {figures['errors']} errors{billed(figures)}",
        baseline=f"bare parse of the same body: "
        f"{number(figures['bare_messages_per_s'])} messages/s",
        figures=figures,
        headline="messages_per_s",
    )
    run.save([row], raw_throughput(mock, bare))


if __name__ == "__main__":
    main()
