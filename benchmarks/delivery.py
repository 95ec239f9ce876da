"""Benchmark 3: delivery overhead with zero simulated latency: how long after the send
answer a report is available by pull (get_rpt) and pushed (§2.8 report push).
Baseline: the round trip of a get_balance in the same run.
Target (benchmarks/targets.py): p99 ≤ 50 ms, pull and push.

    .venv/bin/python -m benchmarks.delivery [--samples 300] [--store redis] [--results-dir DIR]
"""

from __future__ import annotations

import argparse
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from mockcarrier.launch import free_port
from smsapi import Client
from smsapi.push import parse_push_request, push_answer_body

from .common import (
    Row,
    Run,
    balance_round_trips,
    checked,
    machine,
    percentile,
    results_argument,
    serving,
    store_argument,
    verdict,
)


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
                if push.kind is None:  # not a push of the interface: refused
                    self.send_response(400)
                    self.end_headers()
                    return
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


def push_delays(url: str, receiver: PushReceiver, samples: int) -> list[float]:
    """Each send alone, the way sends come to a quiet mock: after a pause (the pusher has
    gone back to waiting) and on a connection of its own (so the sends spread over the
    workers, most of them not the pusher's)."""
    delays = []
    pauses = random.Random(1)
    for n in range(samples):
        time.sleep(pauses.uniform(0.02, 0.05))  # the load's shape, not a synchronisation
        with requests.Session() as session:
            client = Client(url, "PUSH01", "push-pass", session=session)
            sent = client.single_send(f"13913{n:06d}", "送达")
        answered = time.perf_counter()
        arrived = receiver.wait_for(sent.msgid)
        delays.append((arrived - answered) * 1000 if arrived else float("inf"))
    return delays


def delay_figures(values: list[float], baseline: list[float]) -> dict[str, Any]:
    p99 = percentile(values, 99)
    return {
        "p50_ms": percentile(values, 50),
        "p99_ms": p99,
        "max_ms": max(values),
        "samples": len(values),
        "baseline_p99_ms": percentile(baseline, 99),
        "ratio": p99 / percentile(baseline, 99),
    }


def delay_row(row: str, title: str, figures: dict[str, Any]) -> Row:
    return Row(
        title=title,
        figure=f"p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms, "
        f"max {figures['max_ms']:.1f} ms ({figures['samples']} samples)",
        baseline=f"get_balance round trip p99 {figures['baseline_p99_ms']:.1f} ms",
        figures=figures,
        headline="p99_ms",
        row=row,
    )


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
    results_argument(parser)
    args = checked(parser)
    run = Run("delivery", args)
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
            pushed = push_delays(mock.url, receiver, args.samples)
    print(f"delivery overhead, zero simulated latency, {args.samples} samples — {machine()}")
    print(f"{args.store} store, gunicorn {args.workers} workers x {args.threads} threads")
    print(describe("baseline: get_balance round trip", baseline))
    print(describe("report available by pull", pulled))
    pull = delay_figures(pulled, baseline)
    print(
        f"  pull p99 / baseline p99 = {pull['ratio']:.2f}; "
        f"{verdict('delivery', args.store, pull, row='pull')}"
    )
    rows = [delay_row("pull", "report available by pull after the send answer", pull)]
    raw: dict[str, Any] = {"baseline_ms": baseline, "pull_ms": pulled, "push_ms": pushed}
    if pushed is None:
        print(f"report push: not measured (admin API refused the push account: {created.text})")
        figure = f"not measured: the admin API refused the push account ({created.status_code})"
        rows.append(Row("report pushed (§2.8) after the send answer", figure, "", {}, "", "push"))
    else:
        print(describe("report pushed", pushed))
        push = delay_figures(pushed, baseline)
        print(
            f"  push p99 / baseline p99 = {push['ratio']:.2f}; "
            f"{verdict('delivery', args.store, push, row='push')}"
        )
        rows.append(delay_row("push", "report pushed (§2.8) after the send answer", push))
    receiver.server.shutdown()
    run.save(rows, raw)


if __name__ == "__main__":
    main()
