"""Benchmark 1: single_send requests/s through the mock against a bare Flask handler that
only parses and answers; same gunicorn settings, same load generator (wrk).
Target: ratio ≥ 0.5.

    .venv/bin/python -m benchmarks.single_send [--workers 2 --threads 8 --connections 16]
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

TARGET = 0.5


def main() -> None:
    args = throughput_arguments(__doc__, connections=16)
    body = signed_body("single_send", {"mobile": "13912000001", "content": "%b2%e2%ca%d4"})
    mock, bare, accepted = compare_throughput("single_send", body, args)
    ratio = median([r.requests_per_s for r in mock]) / median([r.requests_per_s for r in bare])
    print_throughput("single_send throughput", args, mock, bare, accepted)
    print(f"ratio mock / bare = {ratio:.2f}  (target ≥ {TARGET}: {verdict(ratio, TARGET)})")


if __name__ == "__main__":
    main()
