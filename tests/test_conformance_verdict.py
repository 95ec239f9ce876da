"""conformance/verdict.py and the reports that state it (issue 15): no green without
evidence. PASS only with every applicable must-check judged and held, FAIL on a failed or
errored check, INCOMPLETE (exit 3) otherwise; the coverage figure in every output; the
plan of --dry-run is the run's; reproducers that replay with fresh §3.1 credentials."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from io import StringIO
from pathlib import Path

import pytest
import xmlschema

from conformance.catalogue import Check, Level, select
from conformance.config import VendorConfig
from conformance.events import RunFinished
from conformance.outcomes import CheckResult, Evidence, Outcome, Secrets, reproducer
from conformance.output.html import render
from conformance.output.jsonreport import build_report
from conformance.output.junit import JUnitReport
from conformance.output.summary import category_counts
from conformance.output.terminal import TerminalReporter
from conformance.verdict import EXIT_FAIL, EXIT_INCOMPLETE, EXIT_PASS, Verdict
from smsapi.auth import china_now, digest, shell_credentials
from smsapi.client import Client, Exchange

from .conftest import Served, start_server

BIN = Path(sys.executable).parent
JUNIT_XSD = Path(__file__).parent / "junit" / "JUnit.xsd"
MOBILES = ["13800138000", "13012345678", "18912345678"]
T0 = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


# ------------------------------------------------------------------ runs made by hand


def must_and_should() -> tuple[list[Check], list[Check]]:
    checks = select(["codec"])
    musts = [c for c in checks if c.level is Level.MUST]
    shoulds = [c for c in select(["robustness"]) if c.level is Level.SHOULD]
    return musts[:3], shoulds[:1]


def finished(
    outcomes: dict[str, Outcome], messages: dict[str, str] | None = None, **config: object
) -> RunFinished:
    """A RunFinished of the codec must-checks and a robustness should-check."""
    musts, shoulds = must_and_should()
    checks = musts + shoulds
    results = {}
    for check in checks:
        outcome = outcomes.get(check.id, Outcome.PASSED)
        result = CheckResult(check.id, outcome, duration=0.25, rule=check.title)
        result.message = (messages or {}).get(check.id, "")
        result.judged = {"exchanges": 1} if outcome.judged else {}
        results[check.id] = result
    vendor = VendorConfig(target="http://127.0.0.1:1", userid="J10003", password="111111")
    for key, value in config.items():
        setattr(vendor, key, value)
    return RunFinished(vendor, checks, results, T0, T0 + timedelta(seconds=90), 7, {})


def ids() -> tuple[str, str, str, str]:
    musts, shoulds = must_and_should()
    return musts[0].id, musts[1].id, musts[2].id, shoulds[0].id


def test_every_applicable_must_check_judged_and_held_is_a_pass_with_exit_0() -> None:
    run = finished({})
    assert run.verdict is Verdict.PASS and run.exit_code == EXIT_PASS
    assert run.coverage.line() == "judged 3 of 3 must-checks"


def test_a_failed_check_is_a_fail_with_exit_1_even_beside_unjudged_ones() -> None:
    a, b, _, _ = ids()
    run = finished({a: Outcome.FAILED, b: Outcome.SKIPPED})
    assert run.verdict is Verdict.FAIL and run.exit_code == EXIT_FAIL


def test_an_errored_check_is_a_fail() -> None:
    _, _, _, should = ids()
    assert finished({should: Outcome.ERROR}).verdict is Verdict.FAIL


@pytest.mark.parametrize("outcome", [Outcome.SKIPPED, Outcome.INCONCLUSIVE])
def test_a_must_check_not_judged_makes_the_run_incomplete_with_exit_3(outcome: Outcome) -> None:
    a, _, _, _ = ids()
    run = finished({a: outcome}, {a: "no test mobiles configured"})
    assert run.verdict is Verdict.INCOMPLETE and run.exit_code == EXIT_INCOMPLETE
    assert run.coverage.headline == "judged 2 of 3 must-checks; 1 not judged"
    assert run.coverage.line().endswith(
        f"{a} — no test mobiles configured — --test-mobiles FILE "
        "(a number a line, one phone per network)"
    )


def test_a_should_check_not_judged_does_not_hold_back_the_pass() -> None:
    _, _, _, should = ids()
    assert finished({should: Outcome.INCONCLUSIVE}).verdict is Verdict.PASS


def test_not_applicable_must_checks_are_left_out_of_the_figure() -> None:
    a, _, _, _ = ids()
    run = finished({a: Outcome.NOT_APPLICABLE})
    assert run.verdict is Verdict.PASS
    assert run.coverage.headline == "judged 2 of 2 must-checks"


def test_a_run_that_judged_nothing_is_never_a_pass() -> None:
    a, b, c, should = ids()
    run = finished({x: Outcome.NOT_APPLICABLE for x in (a, b, c)})
    assert run.verdict is Verdict.INCOMPLETE


def test_accept_incomplete_exits_0_and_every_report_says_so(tmp_path: Path) -> None:
    a, _, _, _ = ids()
    run = finished({a: Outcome.INCONCLUSIVE}, {a: "no MO arrived"}, accept_incomplete=True)
    assert run.verdict is Verdict.INCOMPLETE and run.exit_code == EXIT_PASS
    report = build_report(run)
    assert report["verdict"] == "incomplete" and report["accepted_incomplete"] is True
    assert report["exit_code"] == 0 and "--accept-incomplete" in report["verdict_line"]
    assert "accepted by --accept-incomplete" in render(run)
    JUnitReport(tmp_path / "junit.xml").handle(run)
    assert "accepted by --accept-incomplete" in (tmp_path / "junit.xml").read_text()
    out = StringIO()
    terminal = TerminalReporter(out)
    terminal.config = run.config
    terminal.summary(run)
    assert "INCOMPLETE" in out.getvalue() and "--accept-incomplete" in out.getvalue()


@pytest.mark.parametrize(
    ("message", "remedy"),
    [
        ("sends to test mobiles: no test mobiles configured", "--test-mobiles FILE"),
        (
            "needs up to 1001 message(s); 180 left of the budget of 200 (raise --budget)",
            "--budget ",
        ),
        ("no MO arrived during the run", "an MO from a test phone"),
        ("no push arrived during the run", "--callback-listen and --callback-url"),
    ],
)
def test_each_check_not_judged_names_the_option_that_would_judge_it(
    message: str, remedy: str
) -> None:
    a, _, _, _ = ids()
    run = finished({a: Outcome.SKIPPED}, {a: message}, test_mobiles=list(MOBILES))
    (item,) = run.coverage.not_judged
    assert item.check_id == a and item.why == message and item.remedy.startswith(remedy)


def test_the_budget_remedy_is_the_whole_plans_worst_case() -> None:
    a, _, _, _ = ids()
    run = finished(
        {a: Outcome.SKIPPED},
        {a: "needs up to 5 message(s); 1 left of the budget of 200 (raise --budget)"},
        test_mobiles=list(MOBILES),
        only=["codec"],
    )
    need = sum(c.worst_cost(run.config) for c in select(["codec"]))
    assert run.coverage.not_judged[0].remedy.startswith(f"--budget {need} ")


def test_only_leaves_the_other_must_checks_not_run() -> None:
    run = finished({}, only=["codec"])
    musts = [c for c in select() if c.level is Level.MUST]
    assert run.verdict is Verdict.INCOMPLETE
    assert run.coverage.applicable == len(musts) and run.coverage.judged == 3
    assert f"{len(musts) - 3} must-checks — left out by --only codec — run without --only" in (
        run.coverage.line()
    )


def test_scores_do_not_credit_checks_not_judged() -> None:
    a, b, _, _ = ids()
    counts = category_counts(finished({a: Outcome.SKIPPED, b: Outcome.INCONCLUSIVE}))
    assert counts["codec"]["score"] == pytest.approx(1 / 3, abs=1e-4)
    assert category_counts(finished({}))["codec"]["score"] == 1.0


def test_junit_is_valid_for_ci_servers_with_the_verdict_in_properties_before_testcases(
    tmp_path: Path,
) -> None:
    a, b, _, _ = ids()
    run = finished({a: Outcome.INCONCLUSIVE, b: Outcome.FAILED}, {a: "no MO arrived"})
    path = tmp_path / "junit.xml"
    JUnitReport(path).handle(run)
    xmlschema.XMLSchema(str(JUNIT_XSD)).validate(str(path))  # raises when invalid
    text = path.read_text(encoding="utf-8")
    for suite in text.split("<testsuite ")[1:]:
        assert suite.index("<properties>") < suite.index("<testcase")
    assert 'name="verdict" value="fail"' in text
    assert 'name="coverage" value="judged 2 of 3 must-checks; 1 not judged' in text
    assert "<skipped" in text and "inconclusive: no MO arrived (to judge it: an MO" in text


def test_junit_the_old_layout_is_refused_by_the_schema(tmp_path: Path) -> None:
    """The schema is strict enough to see the fault issue 18 reported."""
    bad = tmp_path / "bad.xml"
    bad.write_text(
        '<testsuites><testsuite name="codec" package="p" id="0" hostname="h" '
        'timestamp="2026-11-30T12:00:00" tests="1" failures="0" errors="0" time="1">'
        '<testcase name="X" classname="c" time="1"/><properties/>'
        "<system-out/><system-err/></testsuite></testsuites>",
        encoding="utf-8",
    )
    assert not xmlschema.XMLSchema(str(JUNIT_XSD)).is_valid(str(bad))


def test_html_puts_the_verdict_failures_and_not_judged_first_in_readable_figures() -> None:
    a, b, c, _ = ids()
    run = finished({a: Outcome.FAILED, b: Outcome.INCONCLUSIVE}, {b: "no MO arrived"})
    run.metrics = {
        "messages": {"segments_billed": 3, "budget": 200, "cost": 0.087, "planned_segments": 9},
        "delivery": {"rate": 0.99061, "within_limit": 1.0, "latency_s": {"p99": 0.5}},
        "channels": {"china_mobile": ["10690012122"]},
    }
    html = render(run)
    assert (
        html.index("Verdict: FAIL")
        < html.index('id="failures"')
        < html.index('id="not-judged"')
        < html.index('id="categories"')
        < html.index('id="checks"')
    )
    assert "99.06 %" in html and "0.99061" not in html and "1 min 30 s" in html
    assert "china_mobile:\n10690012122" in html and "{'china_mobile'" not in html
    assert 'href="#filter:category=codec"' in html and 'id="f-outcome"' in html
    rows = html[html.index('id="check-table"') :]
    assert rows.index(f'id="{a}"') < rows.index(f'id="{b}"') < rows.index(f'id="{c}"')


# ------------------------------------------------------------------ reproducers


def bash(script: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["bash", "-c", script], capture_output=True, timeout=30, env={**os.environ, **env}
    )


def test_the_shell_lines_make_the_digest_smsapi_makes() -> None:
    lines = shell_credentials("J10003")
    done = bash("\n".join(lines) + '\necho "$TS $SIG"', PASSWORD="111111")
    stamp, sig = done.stdout.decode().split()
    assert len(stamp) == 10 and sig == digest("J10003", "111111", stamp)


def test_a_binary_body_replays_byte_for_byte_through_printf() -> None:
    body = b"\x00\xff<a>%s '\\\n\x7f"
    exchange = Exchange("POST", "http://127.0.0.1:1/x", {"Content-Type": "text/xml"}, body)
    curl = reproducer(exchange, Secrets())
    assert curl.startswith("printf ") and "--data-binary @-" in curl and "\x00" not in curl
    printf = curl.split(" | curl ", 1)[0]
    assert bash(printf).stdout == body


def test_a_reproducer_made_yesterday_still_works_today(served: Served) -> None:
    yesterday = Client(
        served.url, "J10003", "111111", raise_for_result=False, clock=lambda: china_now(-86400)
    )
    stale = yesterday.get_balance()
    assert stale.result != 0  # the timestamp it carried is a day old
    assert stale.exchange is not None
    curl = Evidence.of(stale.exchange, secrets=Secrets({"J10003": "111111"})).curl
    assert "111111" not in curl and "$SIG" in curl and "$TS" in curl
    done = bash(curl, PASSWORD="111111")
    assert json.loads(done.stdout)["result"] == 0, done.stdout + done.stderr


def test_a_deliberately_wrong_digest_replays_as_sent() -> None:
    body = b'{"userid":"J10003","pwd":"0123456789abcdef0123456789abcdef","timestamp":"1130120000"}'
    exchange = Exchange("POST", "http://h/sms/v2/std/get_balance", {}, body)
    curl = reproducer(exchange, Secrets({"J10003": "111111"}))
    assert "$SIG" not in curl and "0123456789abcdef0123456789abcdef" in curl


# ------------------------------------------------------------------ real runs (CLI)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = start_server(tmp_path_factory.mktemp("verdict-mock"))
    yield served
    served.stop()


def conformance(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "conformance"), "run", *args], capture_output=True, text=True, timeout=timeout
    )


def account(served: Served) -> list[str]:
    return [
        "--target",
        served.url,
        "--userid",
        "J10003",
        "--password",
        "111111",
        "--signature-length",
        "6",
        "--poll-interval",
        "0.05",
        "--report-timeout",
        "5",
    ]


def test_no_test_mobiles_is_incomplete_with_exit_3_and_the_list(
    served: Served, tmp_path: Path
) -> None:
    done = conformance(*account(served), "--report-dir", str(tmp_path))
    assert done.returncode == EXIT_INCOMPLETE, done.stdout[-3000:] + done.stderr[-2000:]
    assert "verdict: INCOMPLETE" in done.stdout and "not judged:" in done.stdout
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "incomplete" and report["exit_code"] == EXIT_INCOMPLETE
    unjudged = {n["id"]: n for n in report["coverage"]["not_judged"]}
    assert "MATCH-BATCH-MSGID" in unjudged and "MATCH-BATCH-MSGID" in done.stdout
    assert unjudged["MATCH-BATCH-MSGID"]["remedy"].startswith("--test-mobiles")
    assert report["summary"]["score"] < 0.5  # skipped checks earn nothing


def test_accept_incomplete_exits_0_and_says_so(served: Served, tmp_path: Path) -> None:
    done = conformance(
        *account(served), "--only", "auth", "--accept-incomplete", "--report-dir", str(tmp_path)
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "INCOMPLETE accepted by --accept-incomplete" in done.stdout
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "incomplete" and report["accepted_incomplete"] is True
    assert "accepted by --accept-incomplete" in (tmp_path / "report.html").read_text()


def test_dry_run_is_the_plan_the_run_follows(served: Served, tmp_path: Path) -> None:
    mobiles = tmp_path / "mobiles.txt"
    mobiles.write_text("\n".join(MOBILES) + "\n", encoding="utf-8")
    args = [
        *account(served),
        "--test-mobiles",
        str(mobiles),
        "--budget",
        "60",
        "--only",
        "codec",
        "--only",
        "matching",
        "--only",
        "auth",
    ]
    plan = conformance(*args, "--dry-run")
    assert plan.returncode == 0, plan.stderr
    planned = {
        line.split()[0]: line
        for line in plan.stdout.splitlines()
        if "message(s)" in line and line.startswith("  ")
    }
    total = int(plan.stdout.split("; up to ")[-1].split(" message")[0])
    done = conformance(*args, "--report-dir", str(tmp_path))
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    outcomes = {c["id"]: c["outcome"] for c in report["checks"]}
    skipped = {cid for cid, line in planned.items() if "(skipped:" in line}
    not_applicable = {cid for cid, line in planned.items() if "(not applicable:" in line}
    assert skipped and skipped == {c for c, o in outcomes.items() if o == "skipped"}, done.stdout
    assert not_applicable == {c for c, o in outcomes.items() if o == "not_applicable"}
    messages = report["metrics"]["messages"]
    assert messages["planned_segments"] == total
    assert 0 < messages["segments_billed"] <= total


def test_help_shows_the_defaults_of_the_settings() -> None:
    done = subprocess.run(
        [str(BIN / "conformance"), "run", "--help"], capture_output=True, text=True
    )
    text = " ".join(done.stdout.split())
    defaults = VendorConfig()
    assert f"[default: {defaults.budget};" in text
    assert f"[default: {defaults.report_timeout}]" in text
    assert f"[default: {defaults.price}]" in text
    assert "(see --help)" not in text and "vendor.toml:" in text
    assert "3 INCOMPLETE" in text


def test_under_pytest_an_incomplete_run_exits_3_and_prints_its_coverage(
    served: Served, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--pyargs", "conformance", "-q", "-p", "no:cacheprovider"]
        + ["--target", served.url, "--userid", "J10003", "--password", "111111"]
        + ["--only", "AUTH-MD5-DIGEST", "--report-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert done.returncode == EXIT_INCOMPLETE, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout and "conformance verdict" in done.stdout
    assert "INCOMPLETE: judged 1 of" in done.stdout and "left out by --only" in done.stdout
