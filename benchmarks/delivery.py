"""Benchmark 3: delivery overhead with zero simulated latency: how long after the send
answer a report is available by pull (get_rpt) and pushed (§2.8 report push).
Baseline: the round trip of a get_balance in the same run. Target p99 ≤ 50 ms.

    .venv/bin/python -m benchmarks.delivery [--samples 300]
"""

from __future__ import annotations

import argparse
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from mockcarrier.launch import free_port
from smsapi import Client
from smsapi.push import parse_push_request, push_answer_body

from .common import (
    balance_round_trips,
    machine,
    percentile,
    serving,
    store_argument,
    verdict,
)

TARGET_MS = 50.0


class PushReceiver:
    """A customer's report-push URL: records when each report id arrives."""

    def __init__(self) -> None:
        self.arrived: dict[int, float] = {}
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                push = parse_push_request(body, self.headers.get("Content-Type"))
                now = time.perf_counter()
                with receiver.changed:
                    for item in push.items:
                        receiver.arrived.setdefault(int(item["msgid"]), now)
                    receiver.changed.notify_all()
                answer = push_answer_body(push.kind, push.seqid or 0)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/rpt"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, msgid: int, timeout: float = 10.0) -> float | None:
        with self.changed:
            self.changed.wait_for(lambda: msgid in self.arrived, timeout)
            return self.arrived.get(msgid)


def pull_delays(client: Client, samples: int) -> list[float]:
    delays = []
    for n in range(samples):
        sent = client.single_send(f"13912{n:06d}", "送达")
        answered = time.perf_counter()
        while not any(r["msgid"] == sent.msgid for r in client.get_rpt().items):
            pass  # poll at once: the figure is the mock's delay, not a polling interval
        delays.append((time.perf_counter() - answered) * 1000)
    return delays


def push_delays(client: Client, receiver: PushReceiver, samples: int) -> list[float]:
    delays = []
    for n in range(samples):
        sent = client.single_send(f"13913{n:06d}", "送达")
        answered = time.perf_counter()
        arrived = receiver.wait_for(sent.msgid)
        delays.append((arrived - answered) * 1000 if arrived else float("inf"))
    return delays


def describe(label: str, values: list[float]) -> str:
    return (
        f"{label:<34} p50 {percentile(values, 50):7.1f} ms   p99 {percentile(values, 99):7.1f} ms"
        f"   max {max(values):7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    store_argument(parser)
    args = parser.parse_args()
    receiver = PushReceiver()
    with serving("mock", args.workers, args.threads, store=args.store) as mock:
        pull_client = Client(mock.url, "BENCH1", "bench-pass")
        baseline = balance_round_trips(pull_client, args.samples)
        pulled = pull_delays(pull_client, args.samples)
        account = {
            "userid": "PUSH01",
            "password": "push-pass",
            "signature": "",
            "delivery_profile": "instant",
            "push_enabled": True,
            "push_rpt_url": receiver.url,
        }
        created = requests.post(f"{mock.url}/__admin/accounts", json=account, timeout=10)
        pushed = None
        if created.ok:
            pushed = push_delays(Client(mock.url, "PUSH01", "push-pass"), receiver, args.samples)
    print(f"delivery overhead, zero simulated latency, {args.samples} samples — {machine()}")
    print(f"{args.store} store, gunicorn {args.workers} workers x {args.threads} threads")
    print(describe("baseline: get_balance round trip", baseline))
    print(describe("report available by pull", pulled))
    p99 = percentile(pulled, 99)
    print(
        f"  pull p99 / baseline p99 = {p99 / percentile(baseline, 99):.2f}; "
        f"target p99 ≤ {TARGET_MS:.0f} ms: {verdict(p99, TARGET_MS, higher_is_better=False)}"
    )
    if pushed is None:
        print(f"report push: not measured (admin API refused the push account: {created.text})")
    else:
        print(describe("report pushed", pushed))
        p99 = percentile(pushed, 99)
        print(
            f"  push p99 / baseline p99 = {p99 / percentile(baseline, 99):.2f}; "
            f"target p99 ≤ {TARGET_MS:.0f} ms: {verdict(p99, TARGET_MS, higher_is_better=False)}"
        )
    receiver.server.shutdown()


if __name__ == "__main__":
    main()
