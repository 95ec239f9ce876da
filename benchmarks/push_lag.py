"""How promptly a report due at T is pushed: lag = arrival at the receiver - T.

    .venv/bin/python -m benchmarks.push_lag [--reports 400] [--workers 1] [--results-dir DIR]

Serves the mock (default delivery profile, real time) with report push on towards a
receiver in this process, sends the messages over a couple of seconds so due times
spread, and compares each report's arrival with its due time from the admin API.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from mockcarrier.launch import launch
from smsapi import Client
from smsapi.push import parse_push_request, push_answer_body

from .common import Row, Run, machine, percentile, results_argument

CONFIG = """
[[accounts]]
userid = "LAG001"
password = "lag-pass"
delivery_profile = "default"
push_enabled = true
push_rpt_url = "{url}"
"""


class Arrivals:
    def __init__(self) -> None:
        self.at: dict[int, float] = {}
        self.seqid: dict[int, int] = {}  # msgid → seqid of the push that brought it
        self.lock = threading.Lock()

    def serve(self) -> ThreadingHTTPServer:
        arrivals = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                now = time.time()
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                push = parse_push_request(body, self.headers.get("Content-Type"))
                with arrivals.lock:
                    for item in push.items:
                        if int(item["msgid"]) not in arrivals.at:
                            arrivals.at[int(item["msgid"])] = now
                            arrivals.seqid[int(item["msgid"])] = push.seqid or 0
                if push.kind is None:  # not a push of the interface: refused
                    self.send_response(400)
                    self.end_headers()
                    return
                answer = push_answer_body(push.kind, push.seqid or 0)
                self.send_response(200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=400)
    parser.add_argument("--workers", type=int, default=1)
    results_argument(parser)
    args = parser.parse_args()
    run = Run("push_lag", args)

    arrivals = Arrivals()
    receiver = arrivals.serve()
    work = Path(tempfile.mkdtemp(prefix="push-lag-"))
    config = work / "mock.toml"
    rx_url = f"http://127.0.0.1:{receiver.server_address[1]}/rpt"
    config.write_text(CONFIG.format(url=rx_url), encoding="utf-8")
    args_serve = ["--db", str(work / "mock.db"), "--config", str(config), "--seed", "1"]
    mock = launch([*args_serve, "--workers", str(args.workers)], work / "mock.log")
    base = mock.url
    try:
        client = Client(base, "LAG001", "lag-pass")
        batch = 20
        for start in range(0, args.reports, batch):  # ~2 s of sending
            mobiles = [f"1391{n:07d}" for n in range(start, min(start + batch, args.reports))]
            client.batch_send(mobiles, "lag")
            time.sleep(2.0 * batch / args.reports)
        deadline = time.monotonic() + 60
        while len(arrivals.at) < args.reports and time.monotonic() < deadline:
            time.sleep(0.05)
        due = {
            r["msgid"]: r["due_at"]
            for r in requests.get(
                f"{base}/__admin/accounts/LAG001/reports?state=pushed", timeout=10
            ).json()
        }
        started = {
            a["seqid"]: a["started_at"]
            for a in requests.get(
                f"{base}/__admin/accounts/LAG001/pushes?kind=rpt&limit=5000", timeout=10
            ).json()
        }
    finally:
        mock.stop()
        receiver.shutdown()
    lags = [(arrivals.at[m] - due[m]) * 1000 for m in due if m in arrivals.at]
    print(f"push lag over {len(lags)} reports of {args.reports} (workers {args.workers}):")
    print(
        f"  median {statistics.median(lags):.1f} ms   p99 {percentile(lags, 99):.1f} ms"
        f"   max {max(lags):.1f} ms   min {min(lags):.1f} ms"
    )
    pickup = [(started[arrivals.seqid[m]] - due[m]) * 1000 for m in due if m in arrivals.at]
    print(
        f"  of which due → push request started: median {statistics.median(pickup):.1f} ms"
        f"   p99 {percentile(pickup, 99):.1f} ms"
    )
    print(f"  machine: {machine()}")
    figures = {
        "reports": len(lags),
        "p50_ms": statistics.median(lags),
        "p99_ms": percentile(lags, 99),
        "max_ms": max(lags),
        "min_ms": min(lags),
        "pickup_p50_ms": statistics.median(pickup),
        "pickup_p99_ms": percentile(pickup, 99),
    }
    row = Row(
        title="push lag: a report's arrival at the receiver − its due time",
        figure=f"p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms, "
        f"max {figures['max_ms']:.1f} ms ({len(lags)} of {args.reports} reports; of which due "
        f"→ push started p50 {figures['pickup_p50_ms']:.1f} ms)",
        baseline="",
        figures=figures,
        headline="p99_ms",
    )
    run.save([row], {"lag_ms": lags, "pickup_ms": pickup})


if __name__ == "__main__":
    main()
