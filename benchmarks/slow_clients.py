"""Slow and idle clients against everyone else: get_balance p99 under a crowd of 500.

    .venv/bin/python -m benchmarks.slow_clients [--connections 500 --requests 1000 --workers 1]
        [--store redis] [--results-dir DIR]

Serves the mock with its defaults (1 worker, 32 app threads), times get_balance round
trips alone (the baseline), then opens a crowd of slow connections on loopback: a third
idle, a third trickling a header line a byte at a time, a third that sent a Content-Length
larger than the body they trickle. Any the mock closes (its read deadlines) is opened
again, so the crowd stays whole while the same round trips are timed again. Target
(benchmarks/targets.py): p99 under 100 ms with the crowd (issue 19); the ratio to the
baseline is printed and saved too.
"""

from __future__ import annotations

import argparse
import contextlib
import selectors
import socket
import statistics
import threading
import time

import requests

from smsapi import Client

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

KINDS = ("idle", "trickled headers", "short body")
TRICKLE_EVERY = 0.5  # seconds between two bytes of a slow connection


class Crowd:
    """Slow connections to host:port, kept at `size` until stopped."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port, self.size = host, port, size
        self.selector = selectors.DefaultSelector()
        self.kinds: dict[socket.socket, str] = {}
        self.reopened = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Crowd:
        for n in range(self.size):
            self._open(KINDS[n % len(KINDS)])
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        for sock in list(self.kinds):
            sock.close()

    def _open(self, kind: str) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=5)
        if kind == "trickled headers":
            sock.sendall(b"POST /sms/v2/std/get_balance HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        elif kind == "short body":
            sock.sendall(
                b"POST /sms/v2/std/get_balance HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
            )
        sock.setblocking(False)
        self.kinds[sock] = kind
        self.selector.register(sock, selectors.EVENT_READ)

    def _run(self) -> None:
        next_byte = time.monotonic()
        while not self._stop.is_set():
            for key, _ in self.selector.select(timeout=0.05):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:  # closed by the mock at its deadline: open another
                    kind = self.kinds.pop(sock)
                    self.selector.unregister(sock)
                    sock.close()
                    self._open(kind)
                    self.reopened += 1
            if time.monotonic() >= next_byte:
                next_byte += TRICKLE_EVERY
                for sock, kind in list(self.kinds.items()):
                    byte = b"X" if kind == "trickled headers" else b" "
                    if kind != "idle":
                        with contextlib.suppress(OSError):
                            sock.send(byte)


def timed(url: str, count: int) -> list[float]:
    client = Client(url, "BENCH1", "bench-pass", raise_for_result=False, session=requests.Session())
    balance_round_trips(client, 20)  # warm: the connection, the app's first calls
    return balance_round_trips(client, count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=32)
    store_argument(parser)
    results_argument(parser)
    args = checked(parser)
    run = Run("slow_clients", args)
    print(machine())
    with serving("mock", args.workers, args.threads, store=args.store) as mock:
        host, port = mock.url.removeprefix("http://").split(":")
        alone = timed(mock.url, args.requests)
        crowd = Crowd(host, int(port), args.connections).start()
        try:
            time.sleep(1.0)  # the crowd settles into the mock's accept queue and loop
            crowded = timed(mock.url, args.requests)
            still_open = len(crowd.kinds)
        finally:
            crowd.stop()
    for label, values in (("alone", alone), (f"{args.connections} slow", crowded)):
        print(
            f"{label:>9}: get_balance ms p50 {statistics.median(values):.2f} "
            f"p99 {percentile(values, 99):.2f} max {max(values):.2f} ({len(values)} requests)"
        )
    figures = {
        "p50_ms": statistics.median(crowded),
        "p99_ms": percentile(crowded, 99),
        "max_ms": max(crowded),
        "alone_p50_ms": statistics.median(alone),
        "alone_p99_ms": percentile(alone, 99),
        "ratio": percentile(crowded, 99) / percentile(alone, 99),
        "crowd_open": still_open,
        "reopened": crowd.reopened,
    }
    print(
        f"crowd of {still_open} kept open ({crowd.reopened} reopened after the mock's "
        f"deadlines); p99 ratio crowded/alone {figures['ratio']:.2f}"
    )
    print(f"p99 {figures['p99_ms']:.2f} ms: {verdict('slow_clients', args.store, figures)}")
    row = Row(
        title=f"get_balance beside {args.connections} slow or idle connections",
        figure=f"p50 {figures['p50_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms "
        f"({len(crowded)} requests; {still_open} slow kept open, {crowd.reopened} reopened)",
        baseline=f"alone: p50 {figures['alone_p50_ms']:.2f} ms, "
        f"p99 {figures['alone_p99_ms']:.2f} ms",
        figures=figures,
        headline="p99_ms",
    )
    run.save([row], {"alone_ms": alone, "crowded_ms": crowded})


if __name__ == "__main__":
    main()
