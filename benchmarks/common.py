"""What every benchmark shares: serving the mock or the bare baseline, driving them
with wrk, medians, and a description of the machine."""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from mockcarrier.launch import launch, launch_redis
from smsapi import Client

ROOT = Path(__file__).resolve().parent.parent
# Zero simulated latency, no signature (segments are the text's own), a large balance.
BENCH_TOML = """
[[accounts]]
userid = "BENCH1"
password = "bench-pass"
apikey = "0123456789abcdef0123456789abcdef"
auth_modes = ["md5", "apikey"]
signature = ""
delivery_profile = "instant"
balance = 9000000000
max_concurrent = 100000

[[accounts]]
userid = "YEAR01"
password = "year-pass"
signature = ""
delivery_profile = "default"
balance = 9000000000
max_concurrent = 100000
"""


def machine() -> str:
    cpu = "unknown cpu"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {platform.system()} {platform.release()}"
    )


@dataclass
class Process:
    url: str
    popen: subprocess.Popen
    workdir: Path
    redis_pid: int | None = None  # the redis-server of a mock on the Redis store

    def pids(self) -> list[int]:
        """The master and its workers."""
        out = [self.popen.pid]
        children = Path(f"/proc/{self.popen.pid}/task/{self.popen.pid}/children")
        if children.exists():
            out += [int(p) for p in children.read_text().split()]
        return out

    def rss_mb(self) -> float:
        """Resident memory of the master and its workers, in MB."""
        return _rss_mb(self.pids())

    def store_rss_mb(self) -> float:
        """Resident memory of the redis-server (0 on the SQLite store), in MB."""
        return _rss_mb([self.redis_pid]) if self.redis_pid else 0.0

    def store_disk_mb(self) -> float:
        """The store's files: bench.db* (SQLite) or the append-only files (Redis)."""
        files = [*self.workdir.glob("bench.db*"), *self.workdir.glob("redis/appendonlydir/*")]
        return sum(f.stat().st_size for f in files if f.is_file()) / 2**20


def _rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        total += int(match.group(1)) if match else 0
    return total / 1024


@contextmanager
def serving(
    kind: str, workers: int, threads: int, *extra: str, store: str = "sqlite"
) -> Iterator[Process]:
    """`mockcarrier serve` (kind "mock", on the SQLite store or on a redis-server of its
    own) or the bare baseline (kind "bare") on a free port, with the same gunicorn
    settings; stopped and its files removed afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{kind}-"))
    common = ["--workers", str(workers), "--threads", str(threads)]
    log = workdir / "server.log"
    redis = None
    try:
        if kind == "mock":
            (workdir / "bench.toml").write_text(BENCH_TOML, encoding="utf-8")
            files = ["--config", str(workdir / "bench.toml"), "--db", str(workdir / "bench.db")]
            if store == "redis":
                redis = launch_redis(workdir / "redis")
                files += ["--store", redis.url]
            launched = launch([*common, *files, "--seed", "1", *extra], log, cwd=ROOT)
        else:  # any answer at / means the bare app is up
            bare = (sys.executable, "-m", "benchmarks.bare_app")
            launched = launch(common, log, command=bare, probe="/", ready=lambda _: True, cwd=ROOT)
        with launched:
            redis_pid = redis.process.pid if redis is not None and redis.process else None
            yield Process(launched.url, launched.process, workdir, redis_pid)
    finally:
        if redis is not None:
            redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@dataclass
class WrkRun:
    requests_per_s: float
    requests: int
    errors: int  # socket errors, timeouts and non-2xx answers
    p50_ms: float
    p99_ms: float


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk(url: str, body: bytes, content_type: str, seconds: int, connections: int) -> WrkRun:
    """POST one body over and over with wrk (apt package `wrk`)."""
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "body").write_bytes(body)
        script = Path(tmp) / "post.lua"
        script.write_text(
            'wrk.method = "POST"\n'
            f'wrk.headers["Content-Type"] = "{content_type}"\n'
            f'local f = io.open("{tmp}/body", "rb")\nwrk.body = f:read("*a")\nf:close()\n',
            encoding="utf-8",
        )
        out = subprocess.run(
            [
                "wrk",
                "-t",
                "2",
                "-c",
                str(connections),
                "-d",
                f"{seconds}s",
                "--latency",
                "-s",
                str(script),
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    errors += sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    return WrkRun(
        float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        int(re.search(r"(\d+) requests in", out).group(1)),
        errors,
        # at a line's start: the stdev column ("75.50%") ends in the same digits
        _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
        _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
    )


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def balance_round_trips(client: Client, count: int) -> list[float]:
    """count get_balance round trips, one after another, in milliseconds."""
    out = []
    for _ in range(count):
        started = time.perf_counter()
        client.get_balance()
        out.append((time.perf_counter() - started) * 1000)
    return out


def verdict(value: float, target: float, higher_is_better: bool = True) -> str:
    met = value >= target if higher_is_better else value <= target
    return "target met" if met else "TARGET NOT MET"


def signed_body(endpoint: str, fields: dict) -> bytes:
    """A JSON request of BENCH1 with a fresh §3.1 digest (valid for the timestamp
    tolerance, 10 minutes: longer than any run here)."""
    from smsapi.auth import china_now, digest, format_timestamp
    from smsapi.codec import Format, encode_request

    timestamp = format_timestamp(china_now())
    auth = {
        "userid": "BENCH1",
        "pwd": digest("BENCH1", "bench-pass", timestamp),
        "timestamp": timestamp,
    }
    return encode_request(endpoint, {**auth, **fields}, Format.JSON)


def balance(process: Process) -> int:
    return requests.get(f"{process.url}/__admin/accounts/BENCH1", timeout=10).json()["balance"]


def settled_balance(process: Process) -> int:
    """The balance once the requests wrk left in flight have been answered."""
    last = balance(process)
    while True:
        time.sleep(0.2)
        now = balance(process)
        if now == last:
            return now
        last = now


def compare_throughput(
    endpoint: str, body: bytes, args: argparse.Namespace
) -> tuple[list[WrkRun], list[WrkRun], int]:
    """wrk against the mock and the bare baseline, alternating, `repeats` times each.
    Returns both runs and the segments the mock billed (so accepted) meanwhile."""
    url = f"/sms/v2/std/{endpoint}"
    mock_runs: list[WrkRun] = []
    bare_runs: list[WrkRun] = []
    with (
        serving("mock", args.workers, args.threads, store=args.store) as mock,
        serving("bare", args.workers, args.threads) as bare,
    ):
        before = balance(mock)
        for _ in range(args.repeats):
            mock_runs.append(
                wrk(mock.url + url, body, "application/json", args.seconds, args.connections)
            )
            bare_runs.append(
                wrk(bare.url + url, body, "application/json", args.seconds, args.connections)
            )
        accepted = before - settled_balance(mock)
    return mock_runs, bare_runs, accepted


def throughput_arguments(description: str, connections: int) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per process")
    parser.add_argument("--connections", type=int, default=connections, help="wrk connections")
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk run")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each, medians taken")
    store_argument(parser)
    return parser.parse_args()


def store_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        choices=("sqlite", "redis"),
        default="sqlite",
        help="the mock's store: its SQLite file, or a redis-server of its own (appendfsync always)",
    )


def print_throughput(
    title: str,
    args: argparse.Namespace,
    mock: list[WrkRun],
    bare: list[WrkRun],
    accepted: int,
    per_request: int = 1,
) -> None:
    """The figures both throughput benchmarks print: settings, each side's runs, and
    what the mock billed against what wrk counted (per_request messages an answer)."""
    print(f"{title} — {machine()}")
    print(
        f"{args.store} store, gunicorn {args.workers} workers x {args.threads} threads, wrk -t2 "
        f"-c{args.connections} -d{args.seconds}s, {args.repeats} runs each"
    )
    print(describe_runs("mock", mock))
    print(describe_runs("bare", bare))
    print(
        f"mock accepted {accepted} messages (by balance) for "
        f"{sum(r.requests for r in mock) * per_request} counted by wrk"
    )


def describe_runs(label: str, runs: list[WrkRun]) -> str:
    rates = ", ".join(f"{r.requests_per_s:.0f}" for r in runs)
    return (
        f"{label:<6} requests/s median {median([r.requests_per_s for r in runs]):8.0f}  "
        f"(runs {rates})  p50 {median([r.p50_ms for r in runs]):.1f} ms  "
        f"p99 {median([r.p99_ms for r in runs]):.1f} ms  errors {sum(r.errors for r in runs)}"
    )
