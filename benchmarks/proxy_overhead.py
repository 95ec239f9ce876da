"""What `conformance proxy` adds to each request, and how long judging a recording takes.

    .venv/bin/python -m benchmarks.proxy_overhead [--requests 300] [--results-dir DIR]

Serves the mock, then times get_balance sequentially straight to it and through an
in-process proxy (alternating rounds, medians and p95), then sends a mix of sends in the
three formats through the proxy and times the client checks over the whole recording.
"""

from __future__ import annotations

import argparse
import statistics
import time

import requests

from conformance.catalogue import select
from conformance.config import VendorConfig
from conformance.customer.proxy import Proxy
from conformance.customer.run import run_checks
from conformance.customer.traffic import ProxyContext, ProxySettings
from conformance.events import EventBus
from smsapi import Client

from .common import Row, Run, balance_round_trips, machine, percentile, results_argument, serving

USER = ("BENCH1", "bench-pass")


def latencies(url: str, count: int) -> list[float]:
    client = Client(url, *USER, raise_for_result=False, session=requests.Session())
    return balance_round_trips(client, count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="per round and path")
    parser.add_argument("--rounds", type=int, default=3)
    results_argument(parser)
    args = parser.parse_args()
    run = Run("proxy_overhead", args)
    print(machine())
    with serving("mock", 1, 8) as mock:
        proxy = Proxy("127.0.0.1:0", mock.url).start()
        try:
            direct: list[float] = []
            proxied: list[float] = []
            for _ in range(args.rounds):
                direct += latencies(mock.url, args.requests)
                proxied += latencies(proxy.url, args.requests)
            for label, values in (("direct", direct), ("proxied", proxied)):
                print(
                    f"{label:8} get_balance ms: p50 {statistics.median(values):.2f} "
                    f"p95 {percentile(values, 95):.2f} ({len(values)} requests)"
                )
            print(f"added   p50 {statistics.median(proxied) - statistics.median(direct):.2f} ms")
            for fmt in ("json", "xml", "form"):
                client = Client(proxy.url, *USER, fmt=fmt, raise_for_result=False)
                for _ in range(50):
                    client.single_send("13800138000", "测试短信")
            settings = ProxySettings("127.0.0.1:0", mock.url, password=USER[1]).validate()
            config = VendorConfig(target=proxy.url, budget=0)
            ctx = ProxyContext(config, settings, proxy.recording)
            started = time.perf_counter()
            finished = run_checks(ctx, select(side="client"), EventBus())
            seconds = time.perf_counter() - started
            slowest = max(finished.results.values(), key=lambda r: r.duration)
            print(
                f"judged {len(proxy.recording)} recorded requests in {seconds:.2f} s "
                f"(slowest check {slowest.check_id} {slowest.duration:.2f} s)"
            )
            figures = {
                "p50_ms": statistics.median(proxied),
                "p95_ms": percentile(proxied, 95),
                "direct_p50_ms": statistics.median(direct),
                "direct_p95_ms": percentile(direct, 95),
                "added_p50_ms": statistics.median(proxied) - statistics.median(direct),
                "ratio": statistics.median(proxied) / statistics.median(direct),
                "judged_requests": len(proxy.recording),
                "judge_s": seconds,
            }
            row = Row(
                title="get_balance through `conformance proxy`; judging its recording",
                figure=f"p50 {figures['p50_ms']:.2f} ms, p95 {figures['p95_ms']:.2f} ms "
                f"(+{figures['added_p50_ms']:.2f} ms p50); {len(proxy.recording)} recorded "
                f"requests judged in {seconds:.2f} s",
                baseline=f"straight to the mock: p50 {figures['direct_p50_ms']:.2f} ms, "
                f"p95 {figures['direct_p95_ms']:.2f} ms",
                figures=figures,
                headline="p50_ms",
            )
            run.save([row], {"direct_ms": direct, "proxied_ms": proxied})
        finally:
            proxy.stop()


if __name__ == "__main__":
    main()
