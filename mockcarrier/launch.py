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
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:  # readiness poll with a deadline
        if process.poll() is not None:
            raise RuntimeError(f"{command[-1]} exited: {_tail(log)}")
        try:
            if ready(requests.get(launched.url + probe, timeout=1)):
                return launched
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    launched.stop(signal.SIGKILL)
    raise RuntimeError(f"{command[-1]} did not start within {timeout:.0f} s: {_tail(log)}")


def _tail(log: Path, size: int = 3000) -> str:
    return log.read_text(errors="replace")[-size:]
