"""The Locust entry point: `locust -f loadtests/locustfile.py` (web UI) or `loadtests run`.

Scenarios volume | latency | soak (--scenario); every option: `locust -f ... --help`.
"""

from __future__ import annotations

from typing import Any

from locust import events
from locust.runners import MasterRunner

from loadtests.run import RECORDS_MESSAGE
from loadtests.settings import add_options
from loadtests.users import STATE, Phases, ReportPoller, Sender

__all__ = ["Phases", "ReportPoller", "Sender"]

GRACEFUL_STOP = 10  # seconds a sender may finish its request when the phase changes


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    add_options(parser, locust=True)


@events.init.add_listener
def _init(environment: Any, **_: Any) -> None:
    if not environment.stop_timeout:
        environment.stop_timeout = GRACEFUL_STOP  # an accepted send is always recorded
    if isinstance(environment.runner, MasterRunner):
        environment.runner.register_message(RECORDS_MESSAGE, STATE.on_records)


@events.test_start.add_listener
def _test_start(environment: Any, **_: Any) -> None:
    STATE.begin(environment)


@events.test_stop.add_listener
def _test_stop(environment: Any, **_: Any) -> None:
    if STATE.environment is None:
        return
    if STATE.is_worker:
        STATE.ship()
        STATE.stop_services()
        STATE.finished = True
    else:
        STATE.stop_services()
        STATE.finish()


@events.quitting.add_listener
def _quitting(environment: Any, **_: Any) -> None:
    # Locust would exit 1 on any failed request; the thresholds decide instead.
    if STATE.environment is not None and not STATE.is_worker and STATE.finished:
        environment.process_exit_code = 1 if STATE.failed else 0
