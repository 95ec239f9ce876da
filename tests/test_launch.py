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
