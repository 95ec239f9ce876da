"""conformance: check any carrier that serves the Chongqing Tongyu interface.

Exit status of `conformance run`: 0 PASS (every must-check that applies was judged and
held), 1 FAIL (a check failed or errored), 2 a usage, preflight or connection error
(nothing was judged), 3 INCOMPLETE (nothing failed, but a must-check was not judged;
0 with --accept-incomplete, which every report then states).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from . import SUITE_VERSION
from .catalogue import CATEGORIES, Check, select
from .config import VendorConfig, VendorConfigError, load_config, read_mobiles_file
from .outcomes import Unreachable
from .output import report_bus
from .output.terminal import TerminalReporter
from .plan import plan, summarise
from .runner import Runner

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
USAGE_ERROR = 2


class OneLineGroup(click.Group):
    """Usage errors in one line and exit status 2 (click's default prints the usage)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("aborted", err=True)
            sys.exit(USAGE_ERROR)
        except click.ClickException as exc:
            click.echo(f"conformance: {exc.format_message()}", err=True)
            sys.exit(USAGE_ERROR)


@click.group(cls=OneLineGroup, context_settings=CONTEXT)
@click.version_option(SUITE_VERSION, prog_name="conformance")
def main() -> None:
    """The conformance suite of the Chongqing Tongyu SMS interface (tender attachment 6).

    `conformance list` prints the catalogue; `conformance run --target URL ...` checks a
    carrier over HTTP and gives a verdict rule by rule (docs/conformance.md).
    """


@main.command("list", context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="The catalogue as JSON.")
@click.option("--only", multiple=True, help="Only these categories or check ids.")
def list_checks(as_json: bool, only: tuple[str, ...]) -> None:
    """Print the catalogue: id, spec section, category, must/should, the rule."""
    try:
        checks = select(list(only), side=None)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        click.echo(json.dumps([c.to_dict() for c in checks], ensure_ascii=False, indent=2))
        return
    for category in CATEGORIES:
        chosen = [c for c in checks if c.category == category]
        if not chosen:
            continue
        click.echo(f"{category}: {CATEGORIES[category]}")
        for c in chosen:
            rows = f" [{', '.join(c.interpretations)}]" if c.interpretations else ""
            final = " (run-wide)" if c.final else ""
            click.echo(f"  {c.id:<28} {c.level.value:<6} {c.section:<16} {c.title}{rows}{final}")
    click.echo(f"{len(checks)} checks")


DEFAULTS = VendorConfig()  # the defaults --help shows: the settings dataclass's own


def default(name: str) -> dict[str, Any]:
    """An option's default, read from VendorConfig (never repeated here) and shown by
    --help; a default the user did not type does not override the config file."""
    return {"default": getattr(DEFAULTS, name), "show_default": True}


def typed_options(options: dict[str, Any]) -> dict[str, Any]:
    """The options the user gave (defaults dropped: the config file's values hold)."""
    ctx = click.get_current_context()
    return {
        name: None if ctx.get_parameter_source(name) is ParameterSource.DEFAULT else value
        for name, value in options.items()
    }


@main.command("run", context_settings=CONTEXT)
@click.option("--target", help="Base URL of the carrier, e.g. http://10.0.0.5:8080.")
@click.option("--userid", help="Account (§2.1.5, ≤ 6 characters).")
@click.option("--password", help="Plain password the md5 digest is made from (§3.1).")
@click.option("--apikey", help="apikey, when the vendor enabled apikey mode.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="vendor.toml: target, credentials, enabled auth modes, test mobiles, budget, timing "
    "(conformance/examples/vendor.toml); options given here override it.",
)
@click.option("--profile", type=click.Choice(["strict", "lenient"]), **default("profile"))
@click.option("--only", multiple=True, help="Only these categories (or check ids); repeatable.")
@click.option(
    "--budget",
    type=click.IntRange(0),
    **default("budget"),
    help="Most messages (segments) to send; a check whose worst case does not fit is skipped.",
)
@click.option(
    "--price",
    type=float,
    **default("price"),
    help="Yuan per segment, for --dry-run and the report.",
)
@click.option(
    "--signature-length",
    type=click.IntRange(0),
    **default("signature_length"),
    help="Characters the carrier adds (its signature).",
)
@click.option(
    "--test-mobiles",
    type=click.Path(dir_okay=False),
    help="File: a number a line. Without test mobiles nothing is sent: INCOMPLETE.",
)
@click.option("--callback-listen", help="HOST:PORT the suite's push receiver listens on.")
@click.option("--callback-url", help="URL the target pushes to (reaches --callback-listen).")
@click.option("--junit-xml", type=click.Path(dir_okay=False), help="Write JUnit XML here.")
@click.option(
    "--report-dir", type=click.Path(file_okay=False), help="report.json, report.html, junit.xml."
)
@click.option("--seed", type=int, help="Hypothesis seed (recorded in the report to replay).")
@click.option(
    "--report-timeout",
    type=float,
    **default("report_timeout"),
    help="Seconds to wait for owed reports.",
)
@click.option(
    "--poll-interval",
    type=float,
    **default("poll_interval"),
    help="Seconds between get_rpt polls.",
)
@click.option(
    "--accept-incomplete",
    is_flag=True,
    default=None,
    help="Exit 0 on an INCOMPLETE verdict (a partial CI job); every report says so.",
)
@click.option(
    "--dry-run", is_flag=True, help="Print the plan: the checks that run or skip, messages, cost."
)
@click.option("-v", "--verbose", is_flag=True, help="Show each check as it starts.")
def run(config_path: str | None, dry_run: bool, verbose: bool, **options: Any) -> None:
    """Run the checks against --target and give the verdict: PASS only when every
    must-check that applies was judged and held, FAIL when a check failed, INCOMPLETE
    when nothing failed but a must-check was not judged (the coverage figure lists each,
    why, and the option that would judge it).

    Exit status: 0 PASS, 1 FAIL, 2 usage, preflight or connection error, 3 INCOMPLETE
    (0 with --accept-incomplete).
    """
    config = configure(config_path, typed_options(options))
    try:
        checks = select(config.only)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if dry_run:
        print_plan(config, checks)
        return
    bus = report_bus(config, TerminalReporter(verbose=verbose))
    try:
        finished = Runner(config, bus).run(checks)
    except Unreachable as exc:
        click.echo(f"conformance: {exc}", err=True)
        sys.exit(USAGE_ERROR)
    sys.exit(finished.exit_code)


@main.command("selfcheck", context_settings=CONTEXT)
@click.option("--defect", "defects", multiple=True, help="Only these defect modes.")
@click.option("--keep", type=click.Path(file_okay=False), help="Keep the mock's files here.")
def selfcheck_cmd(defects: tuple[str, ...], keep: str | None) -> None:
    """Run the suite against the mock carrier, clean and once per defect mode: the clean
    run must pass, every defect must be caught by the check of its rule (exit 1 otherwise)."""
    from .selfcheck import SelfcheckVerdict, selfcheck

    def show(verdict: SelfcheckVerdict) -> None:
        if verdict.name == "clean":
            # the run's own verdict and what it rests on (issue 15): a clean run that
            # judged too little is INCOMPLETE, not a pass, whatever did not fail
            run = verdict.run
            state = run.verdict.value.upper() if run else ("FAIL" if verdict.failed else "PASS")
            click.echo(
                f"{state}  clean mock ({verdict.seconds:.1f} s): {verdict.failed or 'no failure'}"
                + (f"; {run.coverage.headline}" if run else "")
            )
            for line in run.coverage.lines() if run else []:
                click.echo(f"  not judged: {line}")
            return
        state = "CAUGHT" if verdict.caught else "MISSED"
        caught_by = ", ".join(verdict.failed) or "no check"
        must = ", ".join(verdict.must_catch) or "no check tied to it (selfcheck.CAUGHT_BY)"
        note = "" if verdict.caught else f"; must be caught by {must}"
        click.echo(f"{state:<6} {verdict.name:<24} ({verdict.seconds:.1f} s) by {caught_by}{note}")

    verdicts = selfcheck(Path(keep) if keep else None, list(defects) or None, show)
    clean = verdicts[0].run
    clean_ok = not verdicts[0].failed and (clean is None or clean.verdict.value == "pass")
    missed = [v.name for v in verdicts[1:] if not v.caught]  # verdicts[0] is the clean run
    click.echo(
        f"clean run {'passes' if clean_ok else 'FAILS'}; {len(verdicts) - 1} defects, "
        f"{len(missed)} missed{': ' + ', '.join(missed) if missed else ''}"
    )
    sys.exit(0 if clean_ok and not missed else 1)


def configure(config_path: str | None, options: dict[str, Any]) -> VendorConfig:
    """vendor.toml, then the command line; a VendorConfigError is a usage error."""
    overrides = dict(options)
    overrides["only"] = list(overrides.get("only") or [])
    if not overrides.get("accept_incomplete"):
        overrides.pop("accept_incomplete", None)  # absent: the config file's word holds
    mobiles_file = overrides.pop("test_mobiles", None)
    try:
        if mobiles_file:
            overrides["test_mobiles"] = read_mobiles_file(mobiles_file)
        config = load_config(config_path, **overrides)
        if options.get("apikey") and "apikey" not in config.auth_modes:
            config.auth_modes.append("apikey")
        return config.validate()
    except VendorConfigError as exc:
        raise click.UsageError(str(exc)) from None


def print_plan(config: VendorConfig, checks: list[Check]) -> None:
    """--dry-run: the run's own plan (the same rule decides, conformance/plan.py): which
    checks run, which are skipped or not applicable and why, the messages at most, cost."""
    steps = plan(config, checks)
    click.echo(f"plan for {config.target} ({config.profile} profile)")
    for step in steps:
        note = f"  ({step.label}: {step.reason})" if step.reason else ""
        click.echo(
            f"  {step.check.id:<28} {step.check.category:<11} up to {step.cost:>5} message(s){note}"
        )
    summary = summarise(config, steps)
    for line in summary:
        click.echo(line)


# The customer's side (issue 10): conformance client / conformance proxy.
from .customer.commands import client_cmd, proxy_cmd  # noqa: E402
from .customer.sample_receiver import receiver_cmd  # noqa: E402

main.add_command(client_cmd)
main.add_command(proxy_cmd)
main.add_command(receiver_cmd)


if __name__ == "__main__":  # pragma: no cover
    main()
