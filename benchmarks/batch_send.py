"""Benchmark 2: batch_send messages/s accepted, 1000-mobile batches, through the mock;
the baseline is the bare Flask handler parsing the same body. Target ≥ 100 000/s.

    .venv/bin/python -m benchmarks.batch_send [--workers 2 --threads 8 --connections 4]
"""

from __future__ import annotations

from .common import (
    compare_throughput,
    median,
    print_throughput,
    signed_body,
    throughput_arguments,
    verdict,
)

TARGET = 100_000
BATCH = 1000


def main() -> None:
    args = throughput_arguments(__doc__, connections=4)
    mobiles = ",".join(f"139{n:08d}" for n in range(10_000_000, 10_000_000 + BATCH))
    body = signed_body("batch_send", {"mobile": mobiles, "content": "%b2%e2%ca%d4"})
    mock, bare, accepted = compare_throughput("batch_send", body, args)
    mock_rate = median([r.requests_per_s for r in mock]) * BATCH
    bare_rate = median([r.requests_per_s for r in bare]) * BATCH
    title = f"batch_send throughput, {BATCH}-mobile batches"
    print_throughput(title, args, mock, bare, accepted, per_request=BATCH)
    print(
        f"messages/s: mock {mock_rate:.0f}, bare parse-and-answer {bare_rate:.0f}, "
        f"ratio {mock_rate / bare_rate:.2f}"
    )
    print(f"target ≥ {TARGET}/s: {verdict(mock_rate, TARGET)}")


if __name__ == "__main__":
    main()
