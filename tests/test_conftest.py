"""The test suite's own set-up (tests/conftest.py, tests/reports_runs.py, pyproject.toml):
no timing lottery in property tests, and parallel workers (pytest-xdist) that share what
is expensive and keep apart what is not."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from hypothesis import settings

from tests import reports_runs
from tests.reports_runs import Runs

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_property_tests_have_no_deadline_and_print_how_to_replay_a_failure():
    """A @given test against real servers on a shared machine has no 200 ms deadline
    (the DeadlineExceeded flake of test_schemas); speed is measured in benchmarks/."""
    assert settings.default.deadline is None
    assert settings.default.print_blob
    assert settings.get_profile("ci").derandomize


def test_parallel_workers_and_the_slow_marker_are_part_of_the_test_setup(pytestconfig):
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    assert any(
        r.startswith("pytest-xdist") for r in project["project"]["optional-dependencies"]["test"]
    )
    assert any(m.startswith("slow:") for m in pytestconfig.getini("markers"))


class Factory:
    """The part of pytest's TempPathFactory shared_runs uses, for one xdist worker."""

    def __init__(self, session: Path, worker: str) -> None:
        self.base = session / f"popen-{worker}"
        self.base.mkdir(parents=True, exist_ok=True)

    def getbasetemp(self) -> Path:
        return self.base


def test_xdist_workers_make_the_report_runs_once_and_share_them(tmp_path, monkeypatch):
    """The minute of real runs behind the report tests is made by the first worker that
    needs it; the others wait for it under a lock and read the same directories."""
    made: list[Path] = []

    def make_runs(base: Path) -> Runs:  # stands for the real conformance + load runs
        made.append(base)
        return Runs(base / "clean", base / "defective", {"clean load": "exit 0\n"})

    monkeypatch.setattr(reports_runs, "make_runs", make_runs)
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    got: dict[str, Runs] = {}
    workers = [
        threading.Thread(
            target=lambda w=w: got.update({w: reports_runs.shared_runs(Factory(tmp_path, w))})
        )
        for w in ("gw0", "gw1")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert len(made) == 1 and made[0] == tmp_path / "reports-runs"
    assert got["gw0"] == got["gw1"]


def test_without_xdist_the_runs_stay_in_the_sessions_own_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.setattr(reports_runs, "make_runs", lambda base: Runs(base, base, {}))

    class Single:
        def mktemp(self, name: str) -> Path:
            (tmp_path / name).mkdir()
            return tmp_path / name

    assert reports_runs.shared_runs(Single()).clean == tmp_path / "reports-runs"
