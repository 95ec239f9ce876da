"""`loadtests run`: a headless Locust run of one scenario, its report, and its verdict.

It runs Locust's own command line (`python -m locust -f loadtests/locustfile.py
--headless ...`) so master/worker mode (--processes) works as Locust documents it; any
option it does not know goes to Locust unchanged.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from conformance.preflight import Credentials, PreflightFailed, preflight

from .settings import (
    OPTIONS,
    add_options,
    average_rate,
    from_options,
    peak_rate,
    safety_statement,
)

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
GRACEFUL_STOP = "10"
OPTIONS_BY_DEST = {opt.dest: opt.default for opt in OPTIONS}
UNKNOWN_TO_LOCUST = """
import json, sys
from locust.argument_parser import get_parser
from loadtests.settings import add_options
parser = get_parser(default_config_files=[])
add_options(parser, locust=True)
print(json.dumps(parser.parse_known_args(["-f", *sys.argv[1:]])[1]))
"""


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="loadtests",
        description="Load tests of a Tongyu SMS interface carrier (docs/loadtests.md).",
    )
    commands = top.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run",
        help="headless run of one scenario; exits 1 when a threshold is missed",
        description="Headless Locust run; options Locust knows are passed to it.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    run.add_argument("--target", required=True, help="Base URL of the carrier (Locust --host)")
    run.add_argument("--users", type=int, default=10, help="Concurrent senders (Locust -u)")
    run.add_argument(
        "--processes",
        type=int,
        default=0,
        help="Locust worker processes besides the master (-1: one per core); 0: one process",
    )
    run.add_argument("--locust-loglevel", default="INFO", help="Locust's --loglevel")
    add_options(run)
    peak = commands.add_parser("peak", help="the rates derived from the yearly volume")
    peak.add_argument("--annual-volume", type=float, default=OPTIONS_BY_DEST["annual_volume"])
    peak.add_argument("--peak-factor", type=float, default=OPTIONS_BY_DEST["peak_factor"])
    return top


def locust_command(args: argparse.Namespace, passthrough: list[str]) -> list[str]:
    """The `locust` command line for these arguments."""
    report = Path(args.report_dir)
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        args.target,
        "--users",
        str(args.users),
        "--csv",
        str(report / "locust"),
        "--csv-full-history",
        "--html",
        str(report / "locust.html"),
        "--stop-timeout",
        GRACEFUL_STOP,
        "--loglevel",
        args.locust_loglevel,
    ]
    if args.processes:
        cmd += ["--processes", str(args.processes)]
    for opt in OPTIONS:
        cmd += [opt.flag, str(getattr(args, opt.dest))]
    return cmd + passthrough


def not_for_locust(passthrough: list[str]) -> list[str]:
    """The options among passthrough that Locust's own parser does not know either
    (asked in a child process: importing locust here would patch this one)."""
    if not any(arg.startswith("-") for arg in passthrough):
        return []
    done = subprocess.run(
        [sys.executable, "-c", UNKNOWN_TO_LOCUST, str(LOCUSTFILE), *passthrough],
        capture_output=True,
        text=True,
        timeout=60,
    )
    try:
        return [arg for arg in json.loads(done.stdout.splitlines()[-1]) if arg.startswith("-")]
    except (IndexError, ValueError):
        return []  # cannot tell: Locust itself will say


def run(args: argparse.Namespace, passthrough: list[str]) -> int:
    try:
        settings = from_options(args, args.target, args.users)
    except ValueError as exc:
        print(f"loadtests: {exc}", file=sys.stderr)
        return 2
    try:  # one authenticated call first: a wrong target or password sends nothing
        preflight(
            Credentials(
                args.target,
                settings.userid,
                settings.password,
                settings.apikey,
                settings.auth,
                settings.fmt,
            )
        )
    except PreflightFailed as exc:
        print(f"loadtests: {exc}; nothing was sent", file=sys.stderr)
        return 2
    print(safety_statement(settings), flush=True)
    report = Path(args.report_dir)
    report.mkdir(parents=True, exist_ok=True)
    summary_path = report / "summary.json"
    summary_path.unlink(missing_ok=True)  # never read a previous run's verdict
    code = subprocess.call(locust_command(args, passthrough))
    if not summary_path.exists():
        print(f"loadtests: no summary written (locust exited {code})", file=sys.stderr)
        return code or 2
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    for verdict in summary["thresholds"]:
        state = "PASS" if verdict["passed"] else "FAIL"
        print(f"{state} {verdict['name']}: {verdict['message']} ({verdict['rule']})")
    if summary["failed_thresholds"]:
        print(f"loadtests: FAILED {', '.join(summary['failed_thresholds'])}  ({summary_path})")
        return 1
    print(f"loadtests: PASSED ({summary_path})")
    return code


def main(argv: list[str] | None = None) -> int:
    top = parser()
    args, passthrough = top.parse_known_args(argv)
    if args.command == "run":
        unknown = not_for_locust(passthrough)
        if unknown:  # before the safety banner: a typo is a usage error, nothing more
            top.parse_args(argv)  # argparse's own message (and exit status 2)
    if args.command == "peak":
        average = average_rate(args.annual_volume)
        print(
            json.dumps(
                {
                    "annual_volume": args.annual_volume,
                    "peak_factor": args.peak_factor,
                    "average_rate": round(average, 6),
                    "peak_rate": round(peak_rate(args.annual_volume, args.peak_factor), 6),
                }
            )
        )
        return 0
    return run(args, passthrough)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
