"""The load tests' options, the peak rate derived from the tender's volume, and thresholds.

One option table feeds both Locust's parser (locustfile, web UI) and `loadtests run`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from smsapi.tender import DELIVERY_LIMIT_S, DELIVERY_RATE_MIN, YEAR_MESSAGES

SCENARIOS = ("volume", "latency", "soak")
SECONDS_PER_YEAR = 365 * 24 * 3600
# Peak-to-average factor (docs/loadtests.md): a holiday day carries ~3x an average day,
# the morning/evening rush hour ~3x an average hour of that day, and minutes within the
# rush hour another ~10 % above it: 3 x 3 x 1.1 ~ 10.
PEAK_FACTOR = 10.0
# The tender's figures are smsapi.tender's: the yearly volume (§1) and the delivery
# time and rate (§2.1.3), which the thresholds default to.
ANNUAL_VOLUME = YEAR_MESSAGES
MAX_P99_DELIVERY_S = DELIVERY_LIMIT_S
MIN_DELIVERY_RATE_PCT = DELIVERY_RATE_MIN * 100
# The tender names no error rate: 1 % of requests failing is our default ceiling.
MAX_ERROR_RATE_PCT = 1.0
# Soak: p99 of the last quarter of the run may exceed the first quarter's by this much.
MAX_DRIFT_S = 1.0
# Offered load above the threshold so pacing jitter does not sink the rate verdict.
RATE_HEADROOM = 1.25
# The test mobiles used when none are given: the three networks, no magic numbers.
DEFAULT_MOBILES = "13800138000,15012345678,13012345678,18612345678,18912345678,13312345678"
SIGNATURE = "【通渝科技】"


def average_rate(annual_volume: float = ANNUAL_VOLUME) -> float:
    """Messages per second of the yearly volume spread evenly."""
    return annual_volume / SECONDS_PER_YEAR


def peak_rate(annual_volume: float = ANNUAL_VOLUME, peak_factor: float = PEAK_FACTOR) -> float:
    """The sustained rate a carrier must carry: the average times the peak factor."""
    return average_rate(annual_volume) * peak_factor


def parse_duration(text: str | float | int) -> float:
    """Seconds from 90, "90s", "1.5s", "5m", "1h30m" (Locust's forms, plus fractions)."""
    if isinstance(text, int | float):
        return float(text)
    text = text.strip()
    match = re.fullmatch(
        r"(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m)?(?:(?P<s>\d+(?:\.\d+)?)s?)?", text
    )
    if not text or not match:
        raise ValueError(f"not a duration: {text!r} (e.g. 90s, 5m, 1h30m)")
    hours, minutes, seconds = (float(match.group(g) or 0) for g in "hms")
    return hours * 3600 + minutes * 60 + seconds


@dataclass(frozen=True)
class Option:
    """One option of the load tests (flag, type, default, help, choices)."""

    flag: str
    type: Callable[[str], Any]
    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    secret: bool = False

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


OPTIONS: tuple[Option, ...] = (
    Option("--scenario", str, "latency", "volume | latency | soak", SCENARIOS),
    Option(
        "--rate",
        float,
        0.0,
        "Messages per second offered, all users together; 0: the scenario's default "
        "(peak rate x 1.25; soak half the peak rate)",
    ),
    Option("--duration", str, "1m", "Sending time, ramp included (90s, 5m, 2h)"),
    Option("--ramp", str, "", "Ramp-up time; empty: 10 %% of the duration, at most 60 s"),
    Option("--drain", str, "15s", "After sending stops, how long to wait for missing reports"),
    Option("--report-dir", str, "loadtest-report", "Where summary.json and the plots go"),
    Option("--userid", str, "J10003", "Account (§3.1 userid)"),
    Option("--password", str, "111111", "Account password", secret=True),
    Option("--apikey", str, "", "apikey, for --auth apikey", secret=True),
    Option("--auth", str, "md5", "md5 | plain | apikey (§3.1)", ("md5", "plain", "apikey")),
    Option("--fmt", str, "json", "Request format json | xml | form", ("json", "xml", "form")),
    Option(
        "--mobiles",
        str,
        DEFAULT_MOBILES,
        "The ONLY numbers messages go to, comma separated (use your own test phones "
        "against a real carrier)",
    ),
    Option(
        "--max-messages",
        int,
        0,
        "Hard cap on messages sent; 0: rate x duration x 1.2 + 20",
    ),
    Option(
        "--signature",
        str,
        SIGNATURE,
        "Signature the carrier adds, to predict pktotal (reports' pktotal wins)",
    ),
    Option(
        "--push-listen",
        str,
        "",
        "HOST:PORT of the §2.8 report push receiver run in every Locust process "
        "(SO_REUSEPORT); empty: no push receiver",
    ),
    Option(
        "--poll-interval",
        float,
        1.0,
        "§2.5 get_rpt polling: fetch again at once while reports come, wait this long "
        "when none came (§2.5 suggests 5 s); 0 turns polling off",
    ),
    Option(
        "--interval",
        float,
        0.0,
        "Seconds per time-series bucket in the summary; 0: a 20th of the duration, 1-60 s",
    ),
    Option(
        "--annual-volume", float, ANNUAL_VOLUME, f"Messages a year (tender §1: {YEAR_MESSAGES:,})"
    ),
    Option("--peak-factor", float, PEAK_FACTOR, "Peak-to-average factor of the volume"),
    Option("--max-p99-delivery", float, MAX_P99_DELIVERY_S, "Threshold: p99 delivery, s"),
    Option(
        "--min-delivery-rate", float, MIN_DELIVERY_RATE_PCT, "Threshold: delivered segments, %%"
    ),
    Option("--max-error-rate", float, MAX_ERROR_RATE_PCT, "Threshold: failed requests, %%"),
    Option(
        "--min-rate",
        float,
        0.0,
        "Threshold: sustained accepted messages/s (volume); 0: the derived peak rate",
    ),
    Option("--max-drift", float, MAX_DRIFT_S, "Threshold (soak): p99 growth first→last quarter, s"),
    Option("--target-pid", int, 0, "PID of a local target whose memory (RSS) to watch"),
    Option("--seed", int, 1, "Seed of the traffic mix"),
)


@dataclass
class Thresholds:
    """What a run must meet; values in the units of their options."""

    max_p99_delivery: float = MAX_P99_DELIVERY_S
    min_delivery_rate: float = MIN_DELIVERY_RATE_PCT
    max_error_rate: float = MAX_ERROR_RATE_PCT
    min_rate: float = 0.0
    max_drift: float = MAX_DRIFT_S


@dataclass
class LoadSettings:
    """The resolved settings of one run."""

    target: str = ""
    scenario: str = "latency"
    users: int = 1
    rate: float = 0.0
    duration: float = 60.0
    ramp: float = 6.0
    drain: float = 15.0
    report_dir: str = "loadtest-report"
    userid: str = "J10003"
    password: str = "111111"
    apikey: str = ""
    auth: str = "md5"
    fmt: str = "json"
    mobiles: list[str] = field(default_factory=list)
    max_messages: int = 0
    signature: str = SIGNATURE
    push_listen: str = ""
    poll_interval: float = 1.0
    interval: float = 3.0
    annual_volume: float = ANNUAL_VOLUME
    peak_factor: float = PEAK_FACTOR
    target_pid: int = 0
    seed: int = 1
    thresholds: Thresholds = field(default_factory=Thresholds)

    @property
    def peak_rate(self) -> float:
        return peak_rate(self.annual_volume, self.peak_factor)

    @property
    def hold(self) -> float:
        """Seconds of full load after the ramp: the window of the sustained rate."""
        return max(self.duration - self.ramp, 0.0)

    def public(self) -> dict[str, Any]:
        """Everything but secrets, for the summary."""
        data = asdict(self)
        data["password"] = "***" if self.password else ""
        data["apikey"] = "***" if self.apikey else ""
        data["peak_rate"] = self.peak_rate
        data["average_rate"] = average_rate(self.annual_volume)
        return data


def safety_statement(settings: LoadSettings) -> str:
    """What a run will send and to whom, stated before anything is sent."""
    s = settings
    return (
        f"loadtests {s.scenario} against {s.target or '(host)'} as {s.userid or 'apikey'}: "
        f"at most {s.max_messages} messages, only to these {len(s.mobiles)} test mobiles: "
        f"{','.join(s.mobiles)}; offered {s.rate:.3f} msg/s for {s.duration:g} s "
        f"(ramp {s.ramp:g} s) with {s.users} users; peak target {s.peak_rate:.3f} msg/s "
        f"({s.annual_volume:.0f} a year x {s.peak_factor:g})"
    )


def default_rate(scenario: str, peak: float) -> float:
    """The offered rate when --rate is not given: above the peak; soak at half of it."""
    return peak / 2 if scenario == "soak" else peak * RATE_HEADROOM


def from_options(options: Any, target: str = "", users: int = 1) -> LoadSettings:
    """LoadSettings from parsed options (Locust's namespace or argparse's)."""
    raw = {opt.dest: getattr(options, opt.dest, opt.default) for opt in OPTIONS}
    values = {}
    for opt in OPTIONS:
        value = raw[opt.dest]
        values[opt.dest] = opt.type(value) if value not in (None, "") else opt.default
    scenario = values["scenario"]
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}: one of {', '.join(SCENARIOS)}")
    duration = parse_duration(values["duration"])
    ramp = parse_duration(values["ramp"]) if values["ramp"] else min(duration * 0.1, 60.0)
    peak = peak_rate(values["annual_volume"], values["peak_factor"])
    rate = values["rate"] or default_rate(scenario, peak)
    mobiles = [m.strip() for m in str(values["mobiles"]).split(",") if m.strip()]
    if not mobiles:
        raise ValueError("--mobiles names no number")
    cap = values["max_messages"] or math.ceil(rate * duration * 1.2) + 20
    return LoadSettings(
        target=target,
        scenario=scenario,
        users=max(int(users or 1), 1),
        rate=rate,
        duration=duration,
        ramp=min(ramp, duration),
        drain=parse_duration(values["drain"]),
        report_dir=values["report_dir"],
        userid=values["userid"],
        password=values["password"],
        apikey=values["apikey"],
        auth=values["auth"],
        fmt=values["fmt"],
        mobiles=mobiles,
        max_messages=cap,
        signature=values["signature"],
        push_listen=values["push_listen"],
        poll_interval=values["poll_interval"],
        interval=values["interval"] or min(max(duration / 20, 1.0), 60.0),
        annual_volume=values["annual_volume"],
        peak_factor=values["peak_factor"],
        target_pid=values["target_pid"],
        seed=values["seed"],
        thresholds=Thresholds(
            max_p99_delivery=values["max_p99_delivery"],
            min_delivery_rate=values["min_delivery_rate"],
            max_error_rate=values["max_error_rate"],
            min_rate=values["min_rate"] or peak,
            max_drift=values["max_drift"],
        ),
    )


def add_options(parser: Any, locust: bool = False) -> None:
    """Register OPTIONS on an argparse (or Locust's configargparse) parser."""
    # Locust's parser takes its web-UI keywords only on itself, not on argument groups.
    group = parser if locust else parser.add_argument_group("tongyu load tests")
    for opt in OPTIONS:
        kwargs: dict[str, Any] = {"default": opt.default, "help": opt.help}
        if opt.choices:
            kwargs["choices"] = opt.choices
        if opt.type is not str:
            kwargs["type"] = opt.type
        if locust:
            kwargs["include_in_web_ui"] = True
            kwargs["is_secret"] = opt.secret
        group.add_argument(opt.flag, **kwargs)
