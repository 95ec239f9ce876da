"""mockcarrier.launch: a served mock is ready when launch returns, and stop ends it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import requests

from mockcarrier.launch import free_port, launch


def test_free_port_can_be_bound():
    assert 0 < free_port() < 65536


def test_launch_returns_a_mock_that_answers_and_stop_ends_it(tmp_path: Path):
    args = ["--db", str(tmp_path / "m.db"), "--seed", "1"]
    with launch(args, tmp_path / "mock.log") as mock:
        assert requests.get(f"{mock.url}/__admin/health", timeout=5).ok
    assert mock.process.poll() is not None  # the with block stopped it


def test_a_server_that_exits_at_once_is_reported_with_its_log(tmp_path: Path):
    with pytest.raises(RuntimeError, match="(?s)serve exited: .*--no-such-option"):
        launch(["--no-such-option"], tmp_path / "mock.log")


def test_a_server_that_never_gets_ready_is_killed_and_reported(tmp_path: Path):
    silent = (sys.executable, "-c", "import time, sys; time.sleep(60)")
    with pytest.raises(RuntimeError, match="did not start within 1 s"):
        launch([], tmp_path / "silent.log", command=silent, timeout=1.0)


# A server of two "workers": the first three probes are answered by pid 1, the rest by 2;
# every probe it answers is counted in a file.
TWO_WORKERS = """
import sys, http.server
count, port = sys.argv[1], int(sys.argv[sys.argv.index("--port") + 1])
class Probe(http.server.BaseHTTPRequestHandler):
    served = 0
    def do_GET(self):
        Probe.served += 1
        open(count, "w").write(str(Probe.served))
        self.send_response(200)
        self.send_header("X-Worker-Pid", "1" if Probe.served <= 3 else "2")
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Probe).serve_forever()
"""


def test_launch_waits_until_every_worker_has_answered(tmp_path: Path):
    """Clients connecting at once would all land on the first worker up (and keep their
    connections there): launch returns once as many worker pids as --workers answered."""
    count = tmp_path / "served"
    server = (sys.executable, "-c", TWO_WORKERS, str(count))
    with launch(["--workers", "2"], tmp_path / "two.log", command=server, probe="/"):
        assert int(count.read_text()) == 4  # pid 1 three times, then pid 2
    with launch(["--workers=2"], tmp_path / "two.log", command=server, probe="/"):
        assert int(count.read_text()) == 4  # the option's other spelling
    with launch(["--workers", "1"], tmp_path / "one.log", command=server, probe="/"):
        assert int(count.read_text()) == 1
