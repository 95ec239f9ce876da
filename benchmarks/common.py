"""What every benchmark shares: serving the mock or the bare baseline (one instance, or
several on one redis-server), driving them with wrk, medians, a description of the
machine, and the raw output of each run saved as JSON (Run.save; read by
benchmarks.write_results to write RESULTS.md)."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import re
import resource
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import requests

from mockcarrier.launch import launch, launch_redis
from smsapi import Client

from .targets import target_for
from .write_results import RESULTS_DIR

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
    """What serving() started: one instance, or several given the same Redis store."""

    urls: list[str]
    popens: list[subprocess.Popen]
    workdir: Path
    redis_pid: int | None = None  # the redis-server of a mock on the Redis store

    @property
    def url(self) -> str:
        return self.urls[0]

    def pids(self) -> list[int]:
        """The masters and their workers."""
        out = []
        for popen in self.popens:
            out.append(popen.pid)
            children = Path(f"/proc/{popen.pid}/task/{popen.pid}/children")
            if children.exists():
                out += [int(p) for p in children.read_text().split()]
        return out

    def rss_mb(self) -> float:
        """Resident memory of the master and its workers, in MB."""
        return _rss_mb(self.pids())

    def cpu_s(self) -> float:
        """CPU seconds (user and system) the master and its workers have used so far."""
        return _cpu_s(self.pids())

    def store_cpu_s(self) -> float:
        """CPU seconds of the redis-server (0 on the SQLite store)."""
        return _cpu_s([self.redis_pid]) if self.redis_pid else 0.0

    def store_rss_mb(self) -> float:
        """Resident memory of the redis-server (0 on the SQLite store), in MB."""
        return _rss_mb([self.redis_pid]) if self.redis_pid else 0.0

    def store_disk_mb(self) -> float:
        """The store's files: bench.db* (SQLite) or the append-only files (Redis)."""
        files = [*self.workdir.glob("bench.db*"), *self.workdir.glob("redis/appendonlydir/*")]
        return sum(f.stat().st_size for f in files if f.is_file()) / 2**20


def _proc_files(pids: list[int], name: str) -> Iterator[str]:
    """/proc/<pid>/<name> of each process still there."""
    for pid in pids:
        try:
            yield Path(f"/proc/{pid}/{name}").read_text()
        except OSError:
            continue


def _cpu_s(pids: list[int]) -> float:
    total = 0
    for stat in _proc_files(pids, "stat"):
        fields = stat.rpartition(")")[2].split()  # after the command's name, which may hold spaces
        total += int(fields[11]) + int(fields[12])  # utime, stime (proc(5): fields 14, 15)
    return total / os.sysconf("SC_CLK_TCK")


def driver_cpu_s() -> float:
    """CPU seconds (user and system) this process has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mb(pids: list[int]) -> float:
    total = 0
    for status in _proc_files(pids, "status"):
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        total += int(match.group(1)) if match else 0
    return total / 1024


@contextmanager
def serving(
    kind: str,
    workers: int,
    threads: int,
    *extra: str,
    store: str = "sqlite",
    instances: int = 1,
    store_query: str = "",
) -> Iterator[Process]:
    """`mockcarrier serve` (kind "mock", on the SQLite store or on a redis-server of its
    own) or the bare baseline (kind "bare") on a free port, with the same gunicorn
    settings; stopped and its files removed afterwards. instances > 1 (Redis store, or
    the bare app): that many separate servers, the mocks all given the same store URL,
    as several hosts behind one address would be."""
    if kind == "mock" and instances > 1 and store != "redis":
        raise ValueError("several instances share a Redis store: --store redis")
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{kind}-"))
    common = ["--workers", str(workers), "--threads", str(threads)]
    redis = None
    try:
        with ExitStack() as stack:
            launched = []
            if kind == "mock":
                (workdir / "bench.toml").write_text(BENCH_TOML, encoding="utf-8")
                files = ["--config", str(workdir / "bench.toml")]
                if store == "redis":
                    redis = launch_redis(workdir / "redis")
                    files += ["--store", redis.url + store_query]  # e.g. ?retention=60
                for n in range(instances):
                    db = workdir / ("bench.db" if n == 0 else f"bench-{n}.db")
                    args = [*common, *files, "--db", str(db), "--seed", "1", *extra]
                    log = workdir / f"server-{n}.log"
                    launched.append(stack.enter_context(launch(args, log, cwd=ROOT)))
            else:  # any answer at / means the bare app is up
                bare = (sys.executable, "-m", "benchmarks.bare_app")
                for n in range(instances):
                    log = workdir / f"server-{n}.log"
                    started = launch(
                        common, log, command=bare, probe="/", ready=lambda _: True, cwd=ROOT
                    )
                    launched.append(stack.enter_context(started))
            redis_pid = redis.process.pid if redis is not None and redis.process else None
            yield Process(
                [s.url for s in launched], [s.process for s in launched], workdir, redis_pid
            )
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
    # Several instances: one wrk each, summed above (latencies: the slowest instance's).
    parts: list[WrkRun] = field(default_factory=list)


def _ms(text: str) -> float:
    value, unit = _found(r"([\d.]+)(us|ms|s|m)", text, whole=True).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def _found(pattern: str, text: str, whole: bool = False) -> re.Match[str]:
    match = re.fullmatch(pattern, text) if whole else re.search(pattern, text, re.M)
    if match is None:
        raise RuntimeError(f"wrk's output lacks {pattern!r}: {text}")
    return match


def _wrk_run(out: str) -> WrkRun:
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    errors += sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    return WrkRun(
        float(_found(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        int(_found(r"(\d+) requests in", out).group(1)),
        errors,
        # at a line's start: the stdev column ("75.50%") ends in the same digits
        _ms(_found(r"^\s+50%\s+(\S+)", out).group(1)),
        _ms(_found(r"^\s+99%\s+(\S+)", out).group(1)),
    )


def spread(connections: int, instances: int) -> list[int]:
    """connections shared out over instances (at least one each)."""
    return [
        max(1, connections // instances + (n < connections % instances)) for n in range(instances)
    ]


def wrk(urls: list[str], body: bytes, content_type: str, seconds: int, connections: int) -> WrkRun:
    """POST one body over and over with wrk (apt package `wrk`): one wrk process per URL,
    all at once, the connections spread over them; their figures summed."""
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
        running = [
            subprocess.Popen(
                [
                    "wrk",
                    "-t",
                    str(min(2, share)),
                    "-c",
                    str(share),
                    "-d",
                    f"{seconds}s",
                    "--latency",
                    "-s",
                    str(script),
                    url,
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            for url, share in zip(urls, spread(connections, len(urls)), strict=True)
        ]
        outs = [process.communicate()[0] for process in running]
    if any(process.returncode for process in running):
        raise RuntimeError(f"wrk failed: {outs}")
    parts = [_wrk_run(out) for out in outs]
    if len(parts) == 1:
        return parts[0]
    return WrkRun(
        sum(p.requests_per_s for p in parts),
        sum(p.requests for p in parts),
        sum(p.errors for p in parts),
        max(p.p50_ms for p in parts),
        max(p.p99_ms for p in parts),
        parts,
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


def verdict(benchmark: str, store: str, figures: dict[str, Any], row: str = "") -> str:
    """ "target ratio ≥ 0.5 (issue 17): TARGET NOT MET", from benchmarks/targets.py."""
    target = target_for(benchmark, row, store)
    if target is None:
        return f"no target on the {store} store"
    met = "target met" if target.met(figures) else "TARGET NOT MET"
    return f"target {target.text()} ({target.source}): {met}"


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
    endpoint: str, signed: Callable[[], bytes], args: argparse.Namespace
) -> tuple[list[WrkRun], list[WrkRun], int]:
    """wrk against the mock and the bare baseline, alternating, `repeats` times each, the
    body signed afresh for each run (the mock refuses an md5 pwd used for longer than its
    digest reuse window, 60 s). Returns both runs and the segments the mock billed (so
    accepted) meanwhile."""
    url = f"/sms/v2/std/{endpoint}"
    mock_runs: list[WrkRun] = []
    bare_runs: list[WrkRun] = []
    n = args.instances  # the baseline gets as many servers, the load spread the same way
    with (
        serving("mock", args.workers, args.threads, store=args.store, instances=n) as mock,
        serving("bare", args.workers, args.threads, instances=n) as bare,
    ):
        before = balance(mock)
        for _ in range(args.repeats):
            body = signed()
            for runs, served in ((mock_runs, mock), (bare_runs, bare)):
                urls = [u + url for u in served.urls]
                runs.append(wrk(urls, body, "application/json", args.seconds, args.connections))
        accepted = before - settled_balance(mock)
    return mock_runs, bare_runs, accepted


def throughput_arguments(description: str, connections: int) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per process")
    parser.add_argument("--connections", type=int, default=connections, help="wrk connections")
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk run")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each, medians taken")
    store_argument(parser, instances=True)
    results_argument(parser)
    return checked(parser)


def checked(parser: argparse.ArgumentParser) -> argparse.Namespace:
    args = parser.parse_args()
    if getattr(args, "instances", 1) > 1 and args.store != "redis":
        parser.error("--instances N needs --store redis (instances share the Redis store)")
    return args


def store_argument(parser: argparse.ArgumentParser, instances: bool = False) -> None:
    parser.add_argument(
        "--store",
        choices=("sqlite", "redis"),
        default="sqlite",
        help="the mock's store: its SQLite file, or a redis-server of its own (appendfsync always)",
    )
    if instances:
        parser.add_argument(
            "--instances",
            type=int,
            default=1,
            help="separate `mockcarrier serve` processes on the one redis-server (--store "
            "redis), the load spread over them",
        )


def results_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=RESULTS_DIR,
        help="where the run's raw output (JSON) is saved; benchmarks.results reads "
        "benchmarks/results/ to write RESULTS.md",
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
        f"{setup(args)}, wrk -t2 -c{args.connections} -d{args.seconds}s"
        f"{' (spread over one wrk per instance)' if args.instances > 1 else ''}, "
        f"{args.repeats} runs each"
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


def setup(args: argparse.Namespace) -> str:
    """The store and the servers: "redis store, 2 instances of gunicorn 2 workers x 8 threads"."""
    instances = getattr(args, "instances", 1)
    servers = f"{instances} instances of gunicorn" if instances > 1 else "gunicorn"
    return f"{args.store} store, {servers} {args.workers} workers x {args.threads} threads"


def number(value: float, digits: int = 0) -> str:
    """1530.4 → "1 530", as RESULTS.md writes figures."""
    return f"{value:,.{digits}f}".replace(",", " ")


def throughput_figures(
    mock: list[WrkRun], bare: list[WrkRun], accepted: int, per_request: int
) -> dict[str, Any]:
    """What a throughput row judges and shows: medians of the runs, and whether the mock
    billed every message wrk counted an answer for (a refusal is no throughput)."""
    rate = median([r.requests_per_s for r in mock])
    bare_rate = median([r.requests_per_s for r in bare])
    counted = sum(r.requests for r in mock) * per_request
    return {
        "accepted_by_balance": accepted,
        "counted_by_wrk": counted,
        "all_billed": int(accepted >= counted > 0),
        "requests_per_s": rate,
        "messages_per_s": rate * per_request,
        "p50_ms": median([r.p50_ms for r in mock]),
        "p99_ms": median([r.p99_ms for r in mock]),
        "errors": sum(r.errors for r in mock),
        "bare_requests_per_s": bare_rate,
        "bare_messages_per_s": bare_rate * per_request,
        "bare_p99_ms": median([r.p99_ms for r in bare]),
        "ratio": rate / bare_rate,
    }


def raw_throughput(mock: list[WrkRun], bare: list[WrkRun]) -> dict[str, Any]:
    """Every wrk run of both sides."""
    return {"mock_runs": [asdict(r) for r in mock], "bare_runs": [asdict(r) for r in bare]}


def billed(figures: dict[str, Any]) -> str:
    """ "", or what the mock billed when it is less than wrk's answers (refusals)."""
    if figures["all_billed"]:
        return ""
    accepted, counted = figures["accepted_by_balance"], figures["counted_by_wrk"]
    return f"; **billed {number(accepted)} of {number(counted)} messages answered**"


# ------------------------------------------------------------- raw output of a run


@dataclass
class Row:
    """One line of RESULTS.md: what was measured, as the table shows it, and the numbers
    the targets judge (figures; `ratio` among them when there is a baseline)."""

    title: str
    figure: str  # "1 530 req/s, p50 10.3 ms, p99 27.1 ms"
    baseline: str  # "bare Flask parse-and-answer: 6 910 req/s"; "" without one
    figures: dict[str, Any]
    headline: str  # the figure the median of several runs is taken on
    row: str = ""  # "" for a benchmark of one row; "pull" / "push" for delivery


def machine_facts() -> dict[str, Any]:
    """The machine and the software under the run."""
    meminfo = Path("/proc/meminfo").read_text(encoding="utf-8")
    memory = re.search(r"MemTotal:\s+(\d+) kB", meminfo)
    versions: dict[str, str | None] = {}  # None: not installed
    for package in ("gunicorn", "flask", "redis", "gevent"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "description": machine(),
        "cores": os.cpu_count(),
        "memory_gb": round(int(memory.group(1)) / 2**20, 1) if memory else None,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "redis_server": _version(["redis-server", "--version"], r"v=(\S+)"),
        "wrk": _version(["wrk", "--version"], r"wrk (\S+)"),
        "packages": versions,
    }


def _version(command: list[str], pattern: str) -> str | None:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(pattern, out.stdout + out.stderr)
    return match.group(1) if match else None


def _git(*args: str) -> str:
    # GIT_OPTIONAL_LOCKS=0: read only, never takes the index lock from someone committing
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, env=env)
    except OSError:
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def tree_state() -> tuple[str | None, bool]:
    """(the commit checked out, whether tracked files differ from it)."""
    commit = _git("rev-parse", "HEAD") or None
    return commit, bool(_git("status", "--porcelain", "--untracked-files=no"))


def command_line(benchmark: str, argv: list[str]) -> str:
    """The command that reproduces the run (where its output goes does not count)."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--results-dir":
            skip = True
        elif not arg.startswith("--results-dir="):
            kept.append(arg)
    return shlex.join(["python", "-m", f"benchmarks.{benchmark}", *kept])


def _utc() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


class Run:
    """One run of a benchmark: started at the top of main() (the load average before),
    saved at its end with its rows and every raw figure, one JSON file per run."""

    def __init__(self, benchmark: str, args: argparse.Namespace, store: str = "") -> None:
        self.benchmark = benchmark
        self.args = args
        self.store = store or getattr(args, "store", "sqlite")  # "none": no mock served
        self.started = _utc()
        self.load_before = os.getloadavg()
        self.tree = tree_state()  # the code measured: read as it starts, not as it ends

    def save(self, rows: list[Row], raw: dict[str, Any]) -> Path:
        store = self.store
        instances = getattr(self.args, "instances", 1)
        judged = []
        for row in rows:
            target = target_for(self.benchmark, row.row, store)
            judged.append(
                {
                    **asdict(row),
                    "ratio": row.figures.get("ratio"),
                    "target": target.text() if target else None,
                    "target_source": target.source if target else None,
                    "met": target.met(row.figures) if target else None,
                }
            )
        verdicts = [r["met"] for r in judged if r["met"] is not None]
        record = {
            "format": 1,
            "benchmark": self.benchmark,
            "store": store,
            "instances": instances,
            "command": command_line(self.benchmark, sys.argv[1:]),
            "options": {k: v for k, v in vars(self.args).items() if k != "results_dir"},
            "started_at": self.started.isoformat().replace("+00:00", "Z"),
            "finished_at": _utc().isoformat().replace("+00:00", "Z"),
            "commit": self.tree[0],
            # changed as it ran (an edit, a commit): not the code of any one commit
            "dirty": self.tree[1] or tree_state() != self.tree,
            "machine": {
                **machine_facts(),
                "load_before": list(self.load_before),
                "load_after": list(os.getloadavg()),
            },
            "rows": judged,
            "met": all(verdicts) if verdicts else None,
            "raw": raw,
        }
        directory = Path(getattr(self.args, "results_dir", RESULTS_DIR))
        directory.mkdir(parents=True, exist_ok=True)
        stem = f"{self.benchmark}-{store}"
        stem += f"-{instances}x" if instances > 1 else ""
        stem += f"-{self.started.strftime('%Y%m%dT%H%M%SZ')}"
        path = directory / f"{stem}.json"
        n = 1
        while path.exists():  # two runs in one second
            n += 1
            path = directory / f"{stem}-{n}.json"
        path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"raw output saved to {path}")
        return path
