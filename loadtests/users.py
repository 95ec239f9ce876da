"""Locust users: Sender (the scenario's traffic at a paced rate) and ReportPoller (§2.5),
and Phases, the shape: ramp, hold, then drain until every report is in."""

from __future__ import annotations

import itertools
import random
import time
from typing import Any

from locust import LoadTestShape, User, task

from smsapi import Client, CodecError, SmsApiError, TransportError
from smsapi.endpoints import ENDPOINTS

from .run import RunState
from .traffic import Send, Traffic
from .transport import fast_client

STATE = RunState()
USER_NUMBERS = itertools.count(1)
MAX_DEBT = 1.0  # a sender that fell this many seconds behind its pace starts afresh
# §2.5.5 retsize ≤ 500: take as many reports per poll as the carrier gives.
RETSIZE = ENDPOINTS["get_rpt"].retsize_cap


class RequestFailed(Exception):
    """A request answered with a result ≠ 0, or not answered (transport/codec)."""


def call(api: Client, plan: Send) -> Any:
    """Make the planned request through smsapi."""
    items = plan.items
    if plan.endpoint == "single_send":
        return api.single_send(items[0].mobile, items[0].text, custid=items[0].custid)
    if plan.endpoint == "batch_send":
        return api.batch_send([i.mobile for i in items], items[0].text, custid=items[0].custid)
    return api.multi_send(
        [{"mobile": i.mobile, "content": i.text, "custid": i.custid} for i in items]
    )


def outcome_of(exc: SmsApiError) -> str:
    if isinstance(exc, TransportError):
        return "transport"
    if isinstance(exc, CodecError):
        return "codec"
    return "error"


class MeasuredUser(User):
    """Fires one Locust request event per exchange, named by endpoint, failed on result ≠ 0."""

    abstract = True

    def on_start(self) -> None:
        self.settings = STATE.need_settings()
        self.api = fast_client(self.settings)

    def exchange(self, endpoint: str, action: Any) -> tuple[Any, float, str]:
        started = time.time()
        clock = time.perf_counter()
        answer, error = None, None
        try:
            answer = action()
            outcome = str(answer.result)
        except SmsApiError as exc:
            outcome, error = outcome_of(exc), exc
        seconds = time.perf_counter() - clock
        exchange = self.api.last_exchange
        self.environment.events.request.fire(
            request_type="POST",
            name=endpoint,
            response_time=seconds * 1000,
            response_length=len(exchange.answer_body) if exchange and not error else 0,
            exception=RequestFailed(f"{outcome}: {error}" if error else f"result {outcome}")
            if outcome != "0"
            else None,
            context={"result": outcome},
        )
        if STATE.recorder is not None:
            STATE.recorder.request(endpoint, started, seconds, outcome)
        return answer, started, outcome


class Sender(MeasuredUser):
    """Sends the scenario's mix, paced so all senders together offer --rate messages/s."""

    def on_start(self) -> None:
        super().on_start()
        # custid prefix: run, process and user, so custids never repeat within a run
        tag = f"{int(STATE.started) % 100000}{STATE.worker_name[0]}{STATE.worker_index}"
        self.traffic = Traffic(
            self.settings.scenario,
            self.settings.mobiles,
            self.settings.signature,
            self.settings.seed,
            f"{tag}u{next(USER_NUMBERS)}",
        )
        self.per_user_rate = self.settings.rate / self.settings.users
        # Stagger the users over one pacing period so they do not fire together.
        self.next_at = time.monotonic() + random.uniform(0, 1 / self.per_user_rate)

    def wait_time(self) -> float:
        return max(0.0, self.next_at - time.monotonic())

    @task
    def send(self) -> None:
        plan = self.traffic.next()
        now = time.monotonic()
        if now - self.next_at > MAX_DEBT:
            self.next_at = now
        self.next_at += plan.messages / self.per_user_rate
        if not STATE.may_send(plan.messages):
            return
        answer, started, outcome = self.exchange(plan.endpoint, lambda: call(self.api, plan))
        if outcome == "0" and STATE.recorder is not None:
            items = [[i.mobile, i.custid, i.pktotal] for i in plan.items]
            STATE.recorder.sent(started, answer.msgid, items)


class ReportPoller(MeasuredUser):
    """§2.5.1: fetch status reports again at once while some come; when none came, wait
    --poll-interval (the document suggests 5 s; shorter measures delivery closer)."""

    fixed_count = 1

    def on_start(self) -> None:
        super().on_start()
        self.more = False

    def wait_time(self) -> float:
        if self.more:
            return 0.0
        return self.settings.poll_interval if self.settings.poll_interval > 0 else 1.0

    @task
    def poll(self) -> None:
        if self.settings.poll_interval <= 0:
            return
        answer, _, outcome = self.exchange("get_rpt", lambda: self.api.get_rpt(RETSIZE))
        arrived = time.time()
        items = answer.items if answer is not None and outcome == "0" else []
        if STATE.recorder is not None:  # every process that runs users has one
            for report in items:
                STATE.recorder.report("poll", arrived, report)
        self.more = bool(items)


class Phases(LoadTestShape):
    """Ramp the senders up over --ramp, hold to --duration, then drain: only the poller
    (and the push receivers) run until every segment has its report or --drain passes."""

    use_common_options = True  # --users is the number of senders (read in settings)

    def tick(self) -> tuple[int, float, list[type[User]]] | None:
        assert self.runner is not None  # Locust sets it before the first tick
        STATE.begin(self.runner.environment)
        phase = STATE.phase()
        if phase is None:
            return None
        senders, spawn_rate, name = phase
        if name == "send":
            return senders + 1, spawn_rate, [Sender, ReportPoller]
        return 1, 100.0, [ReportPoller]
