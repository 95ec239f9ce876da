"""mockcarrier: run the mock carrier of the Chongqing Tongyu SMS interface."""

from __future__ import annotations

import json
import logging
import random
import sys
from typing import Any

import click

from smsapi.auth import digest, format_timestamp

from .config import ConfigError, Settings, load_settings
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
            help="Also accept Unix seconds as the timestamp.  [default: no]",
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
            help="Token the admin API requires (also MOCKCARRIER_ADMIN_TOKEN).  "
            "[default: none, admin API open]",
        ),
        click.option(
            "--msgid-prefix",
            type=int,
            help="High bits of every msgid; a negative prefix gives negative ids.",
        ),
        click.option("--workers", type=click.IntRange(1), help="Processes.  [default: 1]"),
        click.option(
            "--threads", type=click.IntRange(1), help="Threads per process.  [default: 32]"
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def resolve(config_path: str | None, delivery_profile: str | None, **flags: Any) -> Settings:
    try:
        settings = load_settings(config_path, **flags)
    except (ConfigError, TypeError) as exc:
        raise click.UsageError(str(exc)) from exc
    if delivery_profile:
        for account in settings.accounts:
            account.delivery_profile = delivery_profile
    for account in settings.accounts:
        if account.delivery_profile not in PROFILES:
            raise click.UsageError(
                f"account {account.userid}: unknown delivery profile {account.delivery_profile}"
            )
    return settings


@main.command(context_settings=CONTEXT)
@settings_options
def serve(config_path: str | None, delivery_profile: str | None, **flags: Any) -> None:
    """Serve the mock carrier on gunicorn until interrupted."""
    from .server import serve as run_server

    settings = resolve(config_path, delivery_profile, **flags)
    if settings.seed is None:  # drawn once here so every worker shares it
        settings.seed = random.SystemRandom().randrange(1, 2**31)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr
    )
    base = f"http://{settings.host}:{settings.port}"
    click.echo(f"mockcarrier serving {base}/sms/v2/std/<endpoint>  admin {base}/__admin/")
    click.echo(
        f"  store {settings.db}   seed {settings.seed}   time scale "
        f"{settings.time_scale}   workers {settings.workers} x {settings.threads} threads"
    )
    for account in settings.accounts:
        click.echo(
            f"  account {account.userid} / {account.password}  modes "
            f"{','.join(account.auth_modes)}  apikey {account.apikey or '-'}  channel "
            f"{account.channel}  profile {account.delivery_profile}"
        )
    if not settings.admin_token:
        click.echo("  admin API open (no --admin-token)")
    sys.stdout.flush()
    run_server(settings)


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
@click.option("--userid", default="J10003", show_default=True)
@click.option("--password", default="111111", show_default=True)
@click.option("--timestamp", help="MMDDHHMMSS; now (China time) when omitted.")
def digest_cmd(userid: str, password: str, timestamp: str | None) -> None:
    """Print the §3.1 md5 pwd and its timestamp, for curl examples."""
    from smsapi.auth import china_now

    timestamp = timestamp or format_timestamp(china_now())
    click.echo(
        json.dumps(
            {"userid": userid, "pwd": digest(userid, password, timestamp), "timestamp": timestamp}
        )
    )


digest_cmd.name = "digest"


if __name__ == "__main__":  # pragma: no cover
    main()
