"""Run `mockcarrier serve` (or another server) as a child process on a free port and
wait until it answers: for the conformance self-check, the benchmarks and the tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import requests

SERVE = (sys.executable, "-m", "mockcarrier", "serve")
HEALTH = "/__admin/health"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def health_answered(response: requests.Response) -> bool:
    """Ready: the health probe answers, openly or asking for the admin token."""
    return response.status_code in (200, 401)


@dataclass
class Launched:
    """A server started by launch(); stop() ends its whole process group."""

    url: str
    process: subprocess.Popen
    log: Path

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=timeout)

    def __enter__(self) -> Launched:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def launch(
    args: Sequence[str],
    log: Path,
    *,
    port: int | None = None,
    command: Sequence[str] = SERVE,
    probe: str = HEALTH,
    ready: Callable[[requests.Response], bool] = health_answered,
    cwd: Path | None = None,
    timeout: float = 30.0,
) -> Launched:
    """Start `command --port P *args` in its own process group, output appended to log,
    and return once `probe` answers as `ready` wants; RuntimeError with the log's tail
    when the process exits or does not get ready within timeout."""
    port = port or free_port()
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [*command, "--port", str(port), *args],
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    launched = Launched(f"http://127.0.0.1:{port}", process, log)
    workers = workers_in(args)
    seen: set[str] = set()  # worker pids that answered the probe
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:  # readiness poll with a deadline
        if process.poll() is not None:
            raise RuntimeError(f"{command[-1]} exited: {_tail(log)}")
        try:
            answer = requests.get(launched.url + probe, timeout=1)  # a new connection each
            if ready(answer):
                seen.add(answer.headers.get(WORKER_HEADER, ""))
                # Every worker up: clients that connect at once (a benchmark's driver)
                # would otherwise all land on the first worker to boot, and stay there.
                if len(seen - {""}) >= workers or "" in seen:
                    return launched
        except (requests.ConnectionError, requests.Timeout):  # not up, or workers booting
            pass
        time.sleep(0.05)
    launched.stop(signal.SIGKILL)
    raise RuntimeError(
        f"{command[-1]} did not start within {timeout:.0f} s "
        f"({len(seen)} of {workers} workers answered): {_tail(log)}"
    )


WORKER_HEADER = "X-Worker-Pid"  # the health probe's answer names the process serving it


def workers_in(args: Sequence[str]) -> int:
    """The --workers N (or --workers=N) of a command line (1 when absent)."""
    args = list(args)
    for i, arg in enumerate(args):
        if arg.startswith("--workers="):
            return int(arg.split("=", 1)[1])
        if arg == "--workers" and i + 1 < len(args):
            return int(args[i + 1])
    return 1


def _tail(log: Path, size: int = 3000) -> str:
    return log.read_text(errors="replace")[-size:]


REDIS_SERVER = "redis-server"


@dataclass
class RedisServer:
    """A redis-server of one's own on a free port, durable as the Redis store asks
    (append-only file, fsync on every write), for the tests and the benchmarks."""

    port: int
    dir: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def store_url(self, prefix: str) -> str:
        """A store of its own on this server: keys under prefix."""
        return f"{self.url}?prefix={prefix}"

    def start(self, timeout: float = 20.0) -> RedisServer:
        """Start (or start again, on the same port and files) and wait for PING."""
        import redis  # only the Redis store's users need it

        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / "redis.log", "ab") as out:
            self.process = subprocess.Popen(
                [
                    REDIS_SERVER,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--dir",
                    str(self.dir),
                    "--appendonly",
                    "yes",
                    "--appendfsync",
                    "always",
                    "--save",
                    "",
                    "--protected-mode",
                    "no",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # readiness poll with a deadline
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited: {_tail(self.dir / 'redis.log')}")
            try:
                client.ping()
                return self
            except redis.RedisError:
                time.sleep(0.05)
            finally:
                client.close()
        self.stop(signal.SIGKILL)
        raise RuntimeError(f"redis-server did not start: {_tail(self.dir / 'redis.log')}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=timeout)


def launch_redis(dir: Path, port: int | None = None) -> RedisServer:
    """Start Debian's redis-server (`apt install redis-server`; setup.sh does)."""
    return RedisServer(port or free_port(), dir).start()
