"""The load generator's own ceiling: requests/s one Locust process (one core) makes.

The target is a canned carrier (bare asyncio, far cheaper than the generator) that
answers every request at once with result 0 and no reports, so the generator (smsapi
encoding, md5 digest, JSON, geventhttpclient) is what runs out first. Reports never
come, so the verdicts fail by design; the figure is the sustained request rate.

    .venv/bin/python -m benchmarks.loadgen_ceiling [--seconds 20] [--users 50] [--results-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mockcarrier.launch import free_port

from .common import Row, Run, results_argument

CANNED = r"""
import asyncio, sys
BODY = b'{"result":0,"msgid":123456789,"custid":"","rpts":[]}'
RESP = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
    len(BODY), BODY)
class Canned(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.buffer = transport, b""
    def data_received(self, data):
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            length = 0
            for line in self.buffer[:end].lower().split(b"\r\n"):
                if line.startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length:]
            self.transport.write(RESP)
async def main():
    server = await asyncio.get_running_loop().create_server(Canned, "127.0.0.1", int(sys.argv[1]))
    await server.serve_forever()
asyncio.run(main())
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--scenario", default="volume")
    results_argument(parser)
    args = parser.parse_args()
    run = Run("loadgen_ceiling", args, store="none")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", CANNED, str(port)])
    try:
        time.sleep(1.0)  # the canned server starts in well under a second
        with tempfile.TemporaryDirectory() as tmp:
            report = Path(tmp) / "report"
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "loadtests",
                    "run",
                    "--target",
                    f"http://127.0.0.1:{port}",
                    "--scenario",
                    args.scenario,
                    "--users",
                    str(args.users),
                    "--rate",
                    "1000000",
                    "--duration",
                    f"{args.seconds}s",
                    "--ramp",
                    "0s",
                    "--drain",
                    "0s",
                    "--report-dir",
                    str(report),
                    "--locust-loglevel",
                    "ERROR",
                ],
                capture_output=True,
                check=False,
            )
            summary = json.loads((report / "summary.json").read_text())
    finally:
        server.kill()
        server.wait()
    window = summary["volume"]["sustained_window_s"]
    sends = sum(
        n
        for e, by in summary["requests"]["by_endpoint"].items()
        if e.endswith("_send")
        for n in by.values()
    )
    figures = {
        "users": args.users,
        "seconds": args.seconds,
        "send_requests_per_s": round(sends / window, 1),
        "messages_per_s": summary["volume"]["sustained_rate"],
        "http_p50_ms": summary["http_latency"]["all_sends"]["p50_ms"],
    }
    print(json.dumps(figures))
    row = Row(
        title="the load generator's ceiling: one Locust process against a canned carrier",
        figure=f"{figures['send_requests_per_s']:.0f} send requests/s "
        f"({figures['messages_per_s']:.0f} messages/s, p50 {figures['http_p50_ms']:.1f} ms, "
        f"{args.users} users, {args.seconds} s)",
        baseline="",
        figures=figures,
        headline="send_requests_per_s",
    )
    run.save([row], {"summary": summary})
    return 0


if __name__ == "__main__":
    sys.exit(main())
