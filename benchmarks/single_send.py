"""Benchmark 1: single_send requests/s through the mock against a bare Flask handler that
only parses and answers; same gunicorn settings, same load generator (wrk).
Target: ratio ≥ 0.5.

    .venv/bin/python -m benchmarks.single_send [--workers 2 --threads 8 --connections 16]
"""

from __future__ import annotations

from .common import (
    compare_throughput,
    describe_runs,
    machine,
    median,
    signed_body,
    throughput_arguments,
    verdict,
)

TARGET = 0.5


def main() -> None:
    args = throughput_arguments(__doc__, connections=16)
    body = signed_body("single_send", {"mobile": "13912000001", "content": "%b2%e2%ca%d4"})
    mock, bare, accepted = compare_throughput("single_send", body, args)
    ratio = median([r.requests_per_s for r in mock]) / median([r.requests_per_s for r in bare])
    print(f"single_send throughput — {machine()}")
    print(
        f"gunicorn {args.workers} workers x {args.threads} threads, wrk -t2 "
        f"-c{args.connections} -d{args.seconds}s, {args.repeats} runs each"
    )
    print(describe_runs("mock", mock))
    print(describe_runs("bare", bare))
    print(
        f"mock accepted {accepted} messages (by balance) for "
        f"{sum(r.requests for r in mock)} answers counted by wrk"
    )
    print(f"ratio mock / bare = {ratio:.2f}  (target ≥ {TARGET}: {verdict(ratio, TARGET)})")


if __name__ == "__main__":
    main()
