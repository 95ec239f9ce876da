"""pytest plugin: `pytest --pyargs conformance --target URL ...` runs the catalogue as one
test per check, so CI systems keep their own pytest options and plugins.

Registered through the pytest11 entry point; it only adds options and fixtures, and
generates tests only for conformance/test_carrier.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

FINISHED: pytest.StashKey[Any] = pytest.StashKey()  # the session's RunFinished
OPTIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("--target", {"help": "carrier base URL (conformance suite)"}),
    ("--userid", {}),
    ("--password", {}),
    ("--apikey", {}),
    ("--vendor-config", {"help": "vendor.toml of the conformance suite"}),
    ("--profile", {"choices": ["strict", "lenient"]}),
    ("--only", {"action": "append", "default": [], "help": "category or check id"}),
    ("--budget", {"type": int}),
    ("--test-mobiles", {"help": "file with one test mobile a line"}),
    ("--callback-listen", {}),
    ("--callback-url", {}),
    ("--report-dir", {"help": "write report.json / report.html / junit.xml here"}),
    ("--conformance-seed", {"type": int}),
    ("--report-timeout", {"type": float}),
    ("--poll-interval", {"type": float}),
    ("--signature-length", {"type": int}),
    (
        "--accept-incomplete",
        {
            "action": "store_true",
            "default": None,
            "help": "an INCOMPLETE verdict exits 0 (every report says so)",
        },
    ),
)
EXIT_INCOMPLETE = 3  # as `conformance run` (conformance/verdict.py)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "carrier conformance suite (docs/conformance.md)")
    for name, kwargs in OPTIONS:
        group.addoption(name, dest=f"conformance_{name[2:].replace('-', '_')}", **kwargs)


def _option(config: pytest.Config, name: str) -> Any:
    return config.getoption(f"conformance_{name}")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "conformance_check" not in metafunc.fixturenames:
        return
    from .catalogue import select

    checks = select(_option(metafunc.config, "only"))
    metafunc.parametrize("conformance_check", checks, ids=[c.id for c in checks])


class PytestRun:
    """The run behind the pytest items: one context, results gathered for the reports."""

    def __init__(self, runner: Any, ctx: Any) -> None:
        self.runner, self.ctx = runner, ctx
        self.results: dict[str, Any] = {}
        self.checks: list[Any] = []
        self.started = datetime.now(timezone.utc)

    def check(self, check: Any) -> None:
        from .outcomes import Outcome
        from .runner import execute

        result = execute(check, self.ctx)
        self.checks.append(check)
        self.results[check.id] = result
        if result.outcome in (Outcome.FAILED, Outcome.ERROR):
            lines = [f"{check.id} ({check.section}): {check.title}", result.message]
            for evidence in result.reproducers[:2]:
                lines += [
                    f"reproducer: {evidence.curl}",
                    f"answer: HTTP {evidence.status} {evidence.answer[:500]}",
                ]
            pytest.fail("\n".join(lines), pytrace=False)
        if result.outcome is Outcome.NOT_APPLICABLE:
            pytest.skip(f"{result.outcome.value}: {result.message}")
        if result.outcome in (Outcome.SKIPPED, Outcome.INCONCLUSIVE):
            from .verdict import remedy_for

            remedy = remedy_for(result, self.ctx.config)
            pytest.skip(f"{result.outcome.value}: {result.message} (to judge it: {remedy})")


def build_config(config: pytest.Config) -> Any:
    from .config import VendorConfigError, load_config, read_mobiles_file

    overrides = {
        "target": _option(config, "target"),
        "userid": _option(config, "userid"),
        "password": _option(config, "password"),
        "apikey": _option(config, "apikey"),
        "profile": _option(config, "profile"),
        "only": _option(config, "only"),
        "budget": _option(config, "budget"),
        "callback_listen": _option(config, "callback_listen"),
        "callback_url": _option(config, "callback_url"),
        "report_dir": _option(config, "report_dir"),
        "seed": _option(config, "conformance_seed"),
        "report_timeout": _option(config, "report_timeout"),
        "poll_interval": _option(config, "poll_interval"),
        "signature_length": _option(config, "signature_length"),
        "accept_incomplete": _option(config, "accept_incomplete"),
    }
    try:
        if _option(config, "test_mobiles"):
            overrides["test_mobiles"] = read_mobiles_file(_option(config, "test_mobiles"))
        vendor = load_config(_option(config, "vendor_config"), **overrides)
        if vendor.apikey and "apikey" not in vendor.auth_modes:
            vendor.auth_modes.append("apikey")
        return vendor.validate()
    except VendorConfigError as exc:
        raise pytest.UsageError(f"conformance: {exc}") from None


@pytest.fixture(scope="session")
def conformance_run(request: pytest.FixtureRequest) -> Iterator[PytestRun]:
    from .events import EventBus, RunFinished
    from .outcomes import Unreachable
    from .runner import Runner, run_metrics

    config = request.config
    if not _option(config, "target") and not _option(config, "vendor_config"):
        pytest.skip("no --target: the conformance suite needs a carrier to check")
    vendor = build_config(config)
    bus = EventBus()
    if vendor.report_dir:
        from .output import report_files

        for handler in report_files(vendor.report_dir):
            bus.subscribe(handler)
    runner = Runner(vendor, bus)
    try:
        ctx = runner.start()
    except Unreachable as exc:
        pytest.exit(f"conformance: {exc}", returncode=2)
    run = PytestRun(runner, ctx)
    try:
        yield run
    finally:
        finished = RunFinished(
            vendor,
            run.checks,
            run.results,
            run.started,
            datetime.now(timezone.utc),
            ctx.seed,
            run_metrics(ctx),
        )
        config.stash[FINISHED] = finished
        bus.emit(finished)
        ctx.close()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """The verdict and its coverage, as `conformance run` ends (issue 15)."""
    finished = config.stash.get(FINISHED, None)
    if finished is None:
        return
    from .output.summary import verdict_line

    terminalreporter.section("conformance verdict")
    terminalreporter.write_line(verdict_line(finished))
    for line in finished.coverage.lines():
        terminalreporter.write_line(f"  {line}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """An INCOMPLETE run is not a green build: exit 3 unless --accept-incomplete (as
    `conformance run`); failures keep pytest's own status."""
    finished = session.config.stash.get(FINISHED, None)
    if finished is not None and exitstatus == 0 and finished.exit_code == EXIT_INCOMPLETE:
        session.exitstatus = EXIT_INCOMPLETE
