"""`conformance client` and `conformance proxy` (added to conformance.cli's group)."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from smsapi.errors import result_text
from smsapi.tender import DEMO_CHANNEL

from ..catalogue import Check, select
from ..config import VendorConfig, VendorConfigError
from ..outcomes import Unreachable
from ..output import report_bus
from .cadence import DOCUMENT_WAIT
from .proxy import Proxy, Recorded, mock_flags
from .pushing import ReceiverContext, ReceiverSettings
from .run import run_checks
from .terminal import CustomerTerminal
from .traffic import ProxyContext, ProxySettings

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
TRAFFIC_NAME = "traffic.jsonl"


def report_options(func: Any) -> Any:
    """The options every run shares with `conformance run`."""
    for option in reversed(
        [
            click.option("--vendor", default="", help="Whose platform (shown in the reports)."),
            click.option(
                "--profile",
                type=click.Choice(["strict", "lenient"]),
                default="strict",
                show_default=True,
            ),
            click.option("--only", multiple=True, help="Only these check ids; repeatable."),
            click.option(
                "--report-dir",
                type=click.Path(file_okay=False),
                help="report.json, report.html, junit.xml.",
            ),
            click.option("--junit-xml", type=click.Path(dir_okay=False), help="JUnit XML here."),
            click.option("--seed", type=int, help="Seed of the test data (recorded)."),
            click.option("-v", "--verbose", is_flag=True, help="Show each check as it starts."),
        ]
    ):
        func = option(func)
    return func


def chosen_checks(side: str, only: tuple[str, ...]) -> list[Check]:
    try:
        return select(list(only), side=side)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def vendor_config(target: str, userid: str, password: str, options: dict[str, Any]) -> VendorConfig:
    return VendorConfig(
        vendor=options["vendor"],
        target=target,
        userid=userid,
        password=password,
        profile=options["profile"],
        only=list(options["only"]),
        budget=0,
        seed=options["seed"],
        report_dir=options["report_dir"] or "",
        junit_xml=options["junit_xml"] or "",
    )


# ---------------------------------------------------------------- conformance client


@click.command("client", context_settings=CONTEXT)
@click.option("--receiver-url", required=True, help="Where the platform takes report pushes.")
@click.option("--mo-url", default="", help="Where it takes MO pushes [default: --receiver-url].")
@click.option("--userid", default="J10003", show_default=True, help="Account pushed as.")
@click.option("--password", default="111111", show_default=True, help="Its plain password.")
@click.option("--answer-limit", type=float, default=2.0, show_default=True, help="Seconds.")
@click.option("--async-margin", type=float, default=0.5, show_default=True, help="Seconds.")
@click.option("--burst", type=int, default=20, show_default=True, help="Parallel pushes.")
@click.option("--burst-items", type=int, default=100, show_default=True, help="Reports each.")
@click.option("--stale-probe", type=int, default=3600, show_default=True, help="Seconds old.")
@click.option("--stored-url", default="", help="GET: JSON of the msgids the receiver stored.")
@click.option("--store-wait", type=float, default=2.0, show_default=True, help="Seconds.")
@click.option("--channel", default=DEMO_CHANNEL, show_default=True, help="spno of the items.")
@report_options
def client_cmd(**options: Any) -> None:
    """Act as the carrier: push status reports (§2.8) and MOs (§2.7) to a customer's
    receiver and check its answers, speed, digest checks and duplicate handling.
    The pushes carry made-up test data: point it at a test instance."""
    try:
        settings = ReceiverSettings(
            receiver_url=options["receiver_url"],
            mo_url=options["mo_url"],
            userid=options["userid"],
            password=options["password"],
            answer_limit=options["answer_limit"],
            async_margin=options["async_margin"],
            burst=options["burst"],
            burst_items=options["burst_items"],
            stale_probe=options["stale_probe"],
            stored_url=options["stored_url"],
            store_wait=options["store_wait"],
            channel=options["channel"],
        ).validate()
    except VendorConfigError as exc:
        raise click.UsageError(str(exc)) from None
    checks = chosen_checks("receiver", options["only"])
    config = vendor_config(settings.receiver_url, settings.userid, settings.password, options)
    terminal = CustomerTerminal(
        f"conformance client: pushing to {settings.receiver_url}",
        receiver_figures,
        verbose=options["verbose"],
    )
    ctx = ReceiverContext(config, settings)
    try:
        finished = run_checks(ctx, checks, report_bus(config, terminal))
    except Unreachable as exc:
        raise click.ClickException(str(exc)) from None
    raise SystemExit(1 if finished.failed else 0)


def receiver_figures(metrics: dict[str, Any]) -> str:
    rx = metrics.get("receiver", {})
    answer = rx.get("answer_s", {})
    return (
        f"pushes: {rx.get('pushes', 0)} ({rx.get('acknowledged', 0)} of "
        f"{rx.get('valid_pushes', 0)} valid ones acknowledged); answer time p50 "
        f"{_s(answer.get('p50'))}, p95 {_s(answer.get('p95'))}, max {_s(answer.get('max'))} "
        f"(limit {rx.get('answer_limit_s')} s)"
    )


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f} s"


# ---------------------------------------------------------------- conformance proxy


@click.command("proxy", context_settings=CONTEXT)
@click.option("--listen", required=True, help="HOST:PORT the platform sends to.")
@click.option("--upstream", required=True, help="Base URL of the carrier (the mock or real).")
@click.option("--userid", default="", help="The account --password belongs to.")
@click.option("--password", default="", help="Plain password, to check the §3.1 digest.")
@click.option("--duration", type=float, help="Stop after so many seconds [default: Ctrl-C].")
@click.option("--requests", "max_requests", type=int, help="Stop after so many requests.")
@click.option("--timestamp-tolerance", type=float, default=300.0, show_default=True)
@click.option(
    "--poll-wait", type=float, default=DOCUMENT_WAIT, show_default=True, help="§2.5.1 延时5秒."
)
@click.option("--poll-follow", type=float, default=1.0, show_default=True, help="Seconds.")
@click.option("--poll-slack", type=float, default=0.2, show_default=True, help="Seconds.")
@report_options
def proxy_cmd(duration: float | None, max_requests: int | None, **options: Any) -> None:
    """Sit between a customer's platform and a carrier: forward every request unchanged,
    and when stopped (Ctrl-C, --duration, --requests) judge each request the platform
    made against the schemas and rules (digest, timestamp, GBK, fields, retsize, polling)."""
    try:
        settings = ProxySettings(
            listen=options["listen"],
            upstream=options["upstream"],
            userid=options["userid"],
            password=options["password"],
            timestamp_tolerance=options["timestamp_tolerance"],
            poll_wait=options["poll_wait"],
            poll_follow=options["poll_follow"],
            poll_slack=options["poll_slack"],
        ).validate()
    except VendorConfigError as exc:
        raise click.UsageError(str(exc)) from None
    checks = chosen_checks("client", options["only"])
    verbose = options["verbose"]

    def show(rec: Recorded) -> None:
        flags = mock_flags(rec)  # shown even when not verbose: they explain a -100001
        if verbose or flags:
            click.echo(f"  {rec.index:>5} {rec.method} {rec.path} → {rec.status}", err=True)
        for flag in flags:
            click.echo(f"        the mock says: {flag}", err=True)

    proxy = Proxy(settings.listen, settings.upstream, settings.timeout, on_record=show)
    try:
        proxy.start()
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {settings.listen}: {exc}") from None
    click.echo(
        f"conformance proxy: {proxy.url} → {settings.upstream}; "
        "stop with Ctrl-C (or --duration / --requests) to judge the recorded requests",
        err=True,
    )
    try:
        wait_until_stopped(proxy, duration, max_requests)
    finally:
        proxy.stop()
    config = vendor_config(proxy.url, settings.userid, settings.password, options)
    if config.report_dir:
        Path(config.report_dir).mkdir(parents=True, exist_ok=True)
        proxy.recording.save(Path(config.report_dir) / TRAFFIC_NAME)
    terminal = CustomerTerminal(
        f"conformance proxy: {len(proxy.recording)} request(s) recorded via {proxy.url}",
        proxy_figures,
        verbose=verbose,
    )
    ctx = ProxyContext(config, settings, proxy.recording)
    finished = run_checks(ctx, checks, report_bus(config, terminal))
    raise SystemExit(1 if finished.failed else 0)


def wait_until_stopped(proxy: Proxy, duration: float | None, max_requests: int | None) -> None:
    """Until Ctrl-C or SIGTERM, the duration, or the number of requests."""
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    deadline = time.monotonic() + duration if duration else None
    try:
        while not stop.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                return
            if max_requests and proxy.recording.wait_for(max_requests, timeout=0.2):
                return
            if not max_requests:
                stop.wait(0.2)
    except KeyboardInterrupt:
        return
    finally:
        signal.signal(signal.SIGTERM, previous)


def proxy_figures(metrics: dict[str, Any]) -> str:
    """The recorded traffic as lines a person reads (not a Python dict)."""
    px = metrics.get("proxy", {})
    endpoints = _counts(px.get("by_endpoint", {}), str)
    results = _counts(px.get("answer_results", {}), _result_label)
    return "\n".join(
        [
            f"requests: {px.get('requests', 0)}" + (f" ({endpoints})" if endpoints else ""),
            f"carrier results: {results or 'none'}",
            f"upstream errors: {px.get('upstream_errors', 0)}",
        ]
    )


def _counts(counts: dict[str, int], label: Callable[[str], str]) -> str:
    """{"get_rpt": 3, "single_send": 1} → "get_rpt 3, single_send 1" (most first)."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{label(name)} ×{count}" for name, count in ranked)


def _result_label(code: str) -> str:
    try:
        return f"{code} ({result_text(int(code), 'en')})"
    except ValueError:
        return code
