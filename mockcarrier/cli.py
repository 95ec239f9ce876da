"""mockcarrier: run the mock carrier of the Chongqing Tongyu SMS interface."""

from __future__ import annotations

import json
import logging
import random
import shlex
import sys
from typing import Any, NoReturn

import click

from smsapi.auth import digest, format_timestamp

from . import control, doors, preflight, seeding
from .config import DEMO_USERID, ConfigError, Settings, load_settings
from .defects import DEFECTS
from .delivery import MAGIC_OUTCOMES, PROFILES

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="tongyu-sms-harness")
def main() -> None:
    """A mock SMS carrier serving the six endpoints of the Chongqing Tongyu interface
    (tender attachment 6) at /sms/v2/std/<name>, with an admin API at /__admin/.

    Start it with `mockcarrier serve`; the document's own account J10003 / 111111
    (apikey abade5589e2798f82f006bbc36d269ce) is ready to use.
    """


def settings_options(func: Any) -> Any:
    options = [
        click.option(
            "--config",
            "config_path",
            type=click.Path(dir_okay=False),
            help="TOML file with [server] settings and [[accounts]] tables.",
        ),
        click.option("--host", help="Address to listen on.  [default: 127.0.0.1]"),
        click.option("--port", type=click.IntRange(0, 65535), help="Port.  [default: 8080]"),
        click.option("--db", help="SQLite file of the store.  [default: mockcarrier.db]"),
        click.option(
            "--store",
            metavar="URL",
            help="Use a Redis store instead of --db: redis://[:password@]host:port/db"
            "[?prefix=name]. Instances given the same URL and prefix share ids, "
            "reports and pushes (docs/reliability.md).",
        ),
        click.option(
            "--seed", type=int, help="Seed of the delivery simulator (printed at start when drawn)."
        ),
        click.option(
            "--time-scale",
            type=float,
            help="Run simulated latencies this many times faster than real time "
            "(stime/rtime keep the simulated values).  [default: 1]",
        ),
        click.option(
            "--clock-offset",
            type=float,
            help="Seconds added to the mock's clock (timestamp checks, stime).  [default: 0]",
        ),
        click.option(
            "--timestamp-tolerance",
            type=float,
            help="Seconds a §3.1 timestamp may differ from the clock; 0 turns the "
            "check off.  [default: 600]",
        ),
        click.option(
            "--accept-unix-timestamp/--no-accept-unix-timestamp",
            default=None,
            help="Also accept (and flag) Unix seconds as the timestamp, A2.  [default: yes]",
        ),
        click.option(
            "--accept-utc-timestamp/--no-accept-utc-timestamp",
            default=None,
            help="Also accept a timestamp written in UTC wall-clock time (the "
            "document names no time zone).  [default: yes]",
        ),
        click.option(
            "--delivery-profile",
            type=click.Choice(sorted(PROFILES)),
            help="Delivery profile of every configured account.  [default: default]",
        ),
        click.option(
            "--admin-token",
            help="Token the admin API and the console require (also MOCKCARRIER_ADMIN_TOKEN).  "
            "[default: none: open to loopback callers only; on any other --host a token is "
            "made and printed]",
        ),
        click.option(
            "--allowed-host",
            "allowed_hosts",
            multiple=True,
            metavar="NAME",
            help="A Host name served besides IP addresses, localhost and --host (repeatable; "
            "'*' serves any). Other names are refused (DNS rebinding).",
        ),
        click.option(
            "--verbose-reasons/--no-verbose-reasons",
            default=None,
            help="X-Mock-Reason of a refused login says what was wrong (and so whether "
            "a userid exists).  [default: no]",
        ),
        click.option(
            "--digest-reuse-window",
            type=float,
            help="Seconds after its first use that an md5 pwd is refused as replayed; "
            "0 allows reuse within the timestamp tolerance.  [default: 60]",
        ),
        click.option(
            "--msgid-prefix",
            type=int,
            help="High bits of every msgid; a negative prefix gives negative ids.",
        ),
        click.option(
            "--workers",
            type=click.IntRange(1),
            help="Processes, sharing the store and the -100056 count.  [default: 1]",
        ),
        click.option(
            "--threads",
            type=click.IntRange(1),
            help="Threads per process for requests that may wait (the Redis store, held "
            "answers, the admin API); the six endpoints on SQLite run on the process's "
            "event loop.  [default: 32]",
        ),
        click.option(
            "--push-rpt-url",
            help="Push reports (§2.8) of the demo account J10003 to this URL (push on).",
        ),
        click.option(
            "--push-mo-url", help="Push MOs (§2.7) of the demo account J10003 to this URL."
        ),
        click.option(
            "--defect",
            "defects_on",
            multiple=True,
            metavar="NAME",
            help="Turn a defect mode on (repeatable); `mockcarrier defects` lists them.",
        ),
        click.option(
            "--fault",
            "fault_rules",
            multiple=True,
            metavar="JSON",
            help='A fault rule (repeatable), e.g. \'{"action":"result","endpoint":"get_rpt",'
            '"result":-100999,"count":1}\' (docs/faults.md).',
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def resolve(config_path: str | None, delivery_profile: str | None, **flags: Any) -> Settings:
    control_flags = {k: flags.pop(k, None) for k in CONTROL_FLAGS}
    flags["allowed_hosts"] = list(flags.get("allowed_hosts") or ()) or None
    try:
        settings = load_settings(config_path, **flags)
        apply_control_flags(settings, **control_flags)
        if delivery_profile:  # validated as the file and the admin API are (AccountConfig)
            settings.accounts = [
                a.updated({"delivery_profile": delivery_profile}) for a in settings.accounts
            ]
    except (ConfigError, TypeError) as exc:
        raise click.UsageError(str(exc)) from exc
    return settings


CONTROL_FLAGS = ("push_rpt_url", "push_mo_url", "defects_on", "fault_rules")


def apply_control_flags(
    settings: Settings,
    push_rpt_url: str | None = None,
    push_mo_url: str | None = None,
    defects_on: tuple[str, ...] | None = None,
    fault_rules: tuple[str, ...] | None = None,
) -> None:
    """--push-*-url (demo account), --defect and --fault on top of the config file."""
    if push_rpt_url or push_mo_url:
        demo = next((a for a in settings.accounts if a.userid == DEMO_USERID), None)
        if demo is None:
            raise ConfigError(f"--push-rpt-url / --push-mo-url need the account {DEMO_USERID}")
        changes: dict[str, Any] = {"push_enabled": True}
        if push_rpt_url:
            changes["push_rpt_url"] = push_rpt_url
        if push_mo_url:
            changes["push_mo_url"] = push_mo_url
        settings.accounts[settings.accounts.index(demo)] = demo.updated(changes)
    settings.defects = sorted({*settings.defects, *(defects_on or ())})
    for text in fault_rules or ():
        try:
            settings.faults.append(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"--fault is a JSON object: {exc}") from None
    control.check(settings)


@main.command(context_settings=CONTEXT)
@settings_options
def serve(config_path: str | None, delivery_profile: str | None, **flags: Any) -> None:
    """Serve the mock carrier on gunicorn until interrupted."""
    from .server import serve as run_server

    settings = resolve(config_path, delivery_profile, **flags)
    if settings.seed is None:  # drawn once here so every worker shares it
        settings.seed = random.SystemRandom().randrange(1, 2**31)
    made_token = not settings.admin_token and not doors.loopback_bind(settings.host)
    if made_token:  # open doors on loopback only (docs/reliability.md)
        settings.admin_token = doors.new_token()
    # Everything that would stop gunicorn, said first, one line each, before any banner.
    store, problems = preflight.checked_store(settings)
    if store is None:
        fail_to_serve(problems)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr
    )
    # A line a request: no record looks up what no format here shows (its caller's frame,
    # thread and process names), per the logging HOWTO's "Optimization" table. gunicorn's
    # own lines show the process id, which stays.
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False
    base = f"http://{settings.host}:{settings.port}"
    click.echo(f"mockcarrier serving {base}/sms/v2/std/<endpoint>  admin {base}/__admin/")
    click.echo(
        f"  seed {settings.seed}   time scale "
        f"{settings.time_scale}   workers {settings.workers} x {settings.threads} threads"
    )
    for account in settings.accounts:
        click.echo(
            f"  account {account.userid} / {account.password}  modes "
            f"{','.join(account.auth_modes)}  apikey {account.apikey or '-'}  channel "
            f"{account.channel}  profile {account.delivery_profile}"
        )
    if made_token:
        click.echo(f"  admin token {settings.admin_token}  (made for --host {settings.host})")
    elif not settings.admin_token:
        click.echo("  admin API and console open to loopback callers only (no --admin-token)")
    if settings.defects:
        click.echo(f"  defect modes on: {', '.join(settings.defects)}")
    click.echo(f"  store {store.describe()}")
    sys.stdout.flush()
    # Run-time control state starts from this configuration (once, before the fork), and
    # the accounts are seeded before any worker runs (mockcarrier.seeding).
    control.initialise(store, settings)
    seeding.seed_accounts(store, settings.accounts)
    store.close()
    run_server(settings)


def fail_to_serve(problems: list[str]) -> NoReturn:
    for problem in problems:
        click.echo(f"mockcarrier serve: {problem}", err=True)
    sys.exit(1)


@main.group(context_settings=CONTEXT)
def config() -> None:
    """Inspect the settings a `serve` would use."""


@config.command("show", context_settings=CONTEXT)
@settings_options
def config_show(config_path: str | None, delivery_profile: str | None, **flags: Any) -> None:
    """Print the resolved settings (defaults, then --config, then flags) as JSON."""
    settings = resolve(config_path, delivery_profile, **flags)
    data = settings.to_dict()
    data["delivery_profiles"] = sorted(PROFILES)
    data["magic_numbers"] = (
        {
            f"1xx0000000{digit}": {"latency": o.latency, "errcode": o.errcode}
            for digit, o in MAGIC_OUTCOMES.items()
        }
        if settings.magic_numbers
        else {}
    )
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@main.command(context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def defects(as_json: bool) -> None:
    """List the defect modes (`serve --defect NAME`) with the rule each one breaks."""
    rows = [d.to_dict() for d in DEFECTS.values()]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        click.echo(f"{r['name']:<{width}}  {r['area']:<8} {r['description']}")
        click.echo(f"{'':<{width}}  {'':<8} breaks {r['rule']}")


@main.command(context_settings=CONTEXT)
@click.option("--userid", default="J10003", show_default=True)
@click.option("--password", default="111111", show_default=True)
@click.option("--timestamp", help="MMDDHHMMSS; now (China time) when omitted.")
@click.option(
    "--shell",
    is_flag=True,
    help='Print TS=... SIG=... for a shell to eval: eval "$(mockcarrier digest --shell)".',
)
def digest_cmd(userid: str, password: str, timestamp: str | None, shell: bool) -> None:
    """Print the §3.1 md5 pwd and its timestamp, for curl examples."""
    from smsapi.auth import china_now

    timestamp = timestamp or format_timestamp(china_now())
    pwd = digest(userid, password, timestamp)
    if shell:  # quoted, should --timestamp hold anything but digits
        click.echo(f"TS={shlex.quote(timestamp)} SIG={pwd}")
        return
    click.echo(json.dumps({"userid": userid, "pwd": pwd, "timestamp": timestamp}))


digest_cmd.name = "digest"


if __name__ == "__main__":  # pragma: no cover
    main()
