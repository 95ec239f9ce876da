"""The state of one run inside a Locust process, and its wiring to Locust's events.

Roles: the master (or the only process) keeps the ledger, drives the phases and writes
the report; every process that runs users (workers, or the only process) records what it
sends and receives, runs a push receiver and ships its records to the master.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import gevent
from locust.runners import MasterRunner, WorkerRunner

from . import plots, report, summary
from .ledger import FORGET_ABOVE, LoadLedger
from .receiver import push_app, start_receiver
from .recorder import Recorder
from .settings import LoadSettings, from_options, safety_statement

log = logging.getLogger("loadtests")
RECORDS_MESSAGE = "loadtests_records"
SHIP_EVERY = 0.25  # seconds between a worker's shipments to the master
MIN_DRAIN = 1.5  # the drain waits at least this long: records still on their way


class DeliveryFailed(Exception):
    """A segment's report said it failed (errcode), or no report came (lost)."""


class RunState:
    """One per process; reset at every test start."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.environment: Any = None
        self.settings: LoadSettings | None = None
        self.ledger: LoadLedger | None = None
        self.recorder: Recorder | None = None
        self.receiver: Any = None
        self.greenlets: list[Any] = []
        self.started = 0.0
        self.send_end: float | None = None
        self.sent_here = 0  # messages this process sent (its share of the cap)
        self.verdicts: list[Any] = []
        self.failed = False  # a threshold was missed
        self.finished = False

    # ------------------------------------------------------------------ the test begun

    def need_settings(self) -> LoadSettings:
        """The settings of the test under way (begin() read them)."""
        if self.settings is None:
            raise RuntimeError("loadtests: no test has begun")
        return self.settings

    def need_ledger(self) -> LoadLedger:
        """The ledger of the test under way: the master's (or the only process's)."""
        if self.ledger is None:
            raise RuntimeError("loadtests: no ledger here (a worker, or no test begun)")
        return self.ledger

    # ------------------------------------------------------------------ roles

    @property
    def is_master(self) -> bool:
        return isinstance(self.environment.runner, MasterRunner)

    @property
    def is_worker(self) -> bool:
        return isinstance(self.environment.runner, WorkerRunner)

    @property
    def worker_index(self) -> int:
        return self.environment.runner.worker_index if self.is_worker else 0

    @property
    def worker_name(self) -> str:
        return f"worker{self.worker_index}" if self.is_worker else "local"

    # ------------------------------------------------------------------ lifecycle

    def begin(self, environment: Any) -> LoadSettings:
        """Read the options and set this process up for a new test (idempotent per test)."""
        if self.settings is not None and not self.finished:
            return self.settings
        self.stop_services()
        self.reset()
        self.environment = environment
        options = environment.parsed_options
        settings = from_options(
            options, environment.host or "", getattr(options, "num_users", 1) or 1
        )
        self.settings = settings
        self.started = time.time()
        if not self.is_worker:
            self.ledger = LoadLedger(
                self.started,
                settings.interval,
                self.on_delivery,
                forget_complete=settings.max_messages > FORGET_ABOVE,
            )
        if not self.is_master:
            sink = None if self.is_worker else self.need_ledger().add
            self.recorder = Recorder(self.worker_name, sink)
            if settings.push_listen:
                app = push_app(self.recorder, settings.userid, settings.password)
                self.receiver = start_receiver(settings.push_listen, app)
            if self.is_worker:
                self.greenlets.append(gevent.spawn(self.ship_forever))
        if not self.is_worker:
            self.announce()
            if settings.target_pid:
                self.greenlets.append(gevent.spawn(self.watch_memory))
        return settings

    def announce(self) -> None:
        """Safety first: say what will be sent, to whom, before anything is."""
        log.warning("%s", safety_statement(self.need_settings()))

    def stop_services(self) -> None:
        for greenlet in self.greenlets:
            greenlet.kill(block=False)
        self.greenlets = []
        if self.receiver is not None:
            self.receiver.stop(timeout=1)
            self.receiver = None

    # ------------------------------------------------------------------ sending cap

    def share_of_cap(self) -> int:
        """This process's part of --max-messages (workers split it evenly)."""
        cap = self.need_settings().max_messages
        if self.is_worker:
            workers = getattr(self.environment.parsed_options, "expect_workers", 1) or 1
            return math.ceil(cap / workers)
        return cap

    def may_send(self, messages: int) -> bool:
        if self.send_end is not None or self.sent_here + messages > self.share_of_cap():
            return False
        self.sent_here += messages
        return True

    # ------------------------------------------------------------------ records

    def ship_forever(self) -> None:
        while True:
            gevent.sleep(SHIP_EVERY)
            self.ship()

    def ship(self) -> None:
        records = self.recorder.take() if self.recorder else []
        if records:
            self.environment.runner.send_message(RECORDS_MESSAGE, records)

    def on_records(self, environment: Any, msg: Any, **_: Any) -> None:
        """Master: records shipped by a worker."""
        if self.ledger is not None and not self.finished:
            self.ledger.add(msg.data)

    def on_delivery(self, channel: str, seconds: float, errcode: str) -> None:
        """The ledger: a report matched (or a segment lost): a Locust event of its own."""
        self.environment.events.request.fire(
            request_type="DELIVERY",
            name=channel,
            response_time=seconds * 1000,
            response_length=0,
            exception=DeliveryFailed(errcode) if errcode else None,
            context={},
        )

    def watch_memory(self) -> None:
        import psutil

        settings, ledger = self.need_settings(), self.need_ledger()
        process = psutil.Process(settings.target_pid)
        while True:
            try:  # the process and its children: gunicorn's workers hold the memory
                family = [process, *process.children(recursive=True)]
                rss = sum(p.memory_info().rss for p in family)
            except psutil.Error:
                return
            ledger.bucket(time.time()).target_rss = rss
            gevent.sleep(min(settings.interval, 5.0))

    # ------------------------------------------------------------------ phases

    def phase(self) -> tuple[int, float, str] | None:
        """Master's view for the shape: (senders, spawn rate, phase) or None when done."""
        s, ledger = self.need_settings(), self.need_ledger()
        now = time.time()
        elapsed = now - self.started
        capped = ledger.accepted_messages >= s.max_messages
        if self.send_end is None and elapsed < s.duration and not capped:
            spawn_rate = s.users / s.ramp if s.ramp > 0 else float(s.users)
            return s.users, max(spawn_rate, 0.1), "send"
        if self.send_end is None:
            self.send_end = now
            log.info("loadtests: sending stopped; waiting up to %.0f s for reports", s.drain)
        drained = now - self.send_end
        if drained >= s.drain or (drained >= MIN_DRAIN and ledger.pending == 0):
            return None
        return 0, 100.0, "drain"

    def finish(self) -> None:
        """Master: close the ledger, write the report, set the exit code."""
        if self.finished or self.ledger is None:
            self.finished = True
            return
        self.finished = True
        settings = self.need_settings()
        now = time.time()
        send_end = self.send_end or now
        self.ledger.finish(now)
        hold = (min(self.started + settings.ramp, send_end), send_end)
        data, verdicts = summary.build(
            self.ledger,
            settings,
            hold,
            now,
            {"files": _files(self.environment, settings.report_dir)},
        )
        self.verdicts = verdicts
        try:
            data["files"]["plots"] = plots.write_plots(data, settings.report_dir)
        except Exception as exc:  # a plot is not worth losing the summary over
            log.warning("loadtests: plots not written: %s", exc)
        try:
            data["files"]["report"] = report.write_report(data, settings.report_dir)
        except Exception as exc:  # nor is the page
            log.warning("loadtests: report.html not written: %s", exc)
        path = summary.write(data, settings.report_dir)
        for line in summary.verdict_lines(verdicts):
            (log.info if line.startswith("PASS") else log.error)("loadtests: %s", line)
        failed = data["failed_thresholds"]
        if failed:
            log.error("loadtests: FAILED thresholds: %s (summary %s)", ", ".join(failed), path)
        else:
            log.info("loadtests: every threshold met (summary %s)", path)
        self.failed = bool(failed)
        self.environment.process_exit_code = 1 if failed else 0


def _files(environment: Any, report_dir: str) -> dict[str, Any]:
    """The run's files, every one relative to the report directory (Locust's own options
    name them relative to the working directory)."""
    options = environment.parsed_options
    return {
        "summary": "summary.json",
        "locust_html": summary.relative_to_report(getattr(options, "html_file", None), report_dir),
        "locust_csv_prefix": summary.relative_to_report(
            getattr(options, "csv_prefix", None), report_dir
        ),
    }
