"""The vendor configuration: target, credentials, enabled modes, test mobiles, budget.

Defaults, then a vendor.toml (see conformance/examples/vendor.toml), then command-line
options. Every failure to load is a VendorConfigError said in one line (exit status 2).
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smsapi.mobile import Operator, classify
from smsapi.tender import CHANNEL_SUFFIX, PRICE_CAP
from smsapi.timing import CLOCK_SKEW_S

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

AUTH_MODES = ("md5", "plain", "apikey")
PROFILES = ("strict", "lenient")
ACCOUNT_ROLES = ("arrears", "ip_restricted", "lockout")


class VendorConfigError(ValueError):
    """A setting that cannot be used."""


@dataclass
class ExtraAccount:
    """An account the vendor set up for one error rule (arrears, IP allow-list, lockout)."""

    role: str
    userid: str
    password: str = ""

    def __post_init__(self) -> None:
        if self.role not in ACCOUNT_ROLES:
            raise VendorConfigError(
                f"account role {self.role!r}: one of {', '.join(ACCOUNT_ROLES)}"
            )


@dataclass
class VendorConfig:
    vendor: str = ""
    target: str = ""
    userid: str = ""
    password: str = ""
    apikey: str = ""
    auth_modes: list[str] = field(default_factory=lambda: ["md5"])
    profile: str = "strict"
    only: list[str] = field(default_factory=list)
    # Tender §2.1.2 and the carrier's signature (F8): characters it adds to each message.
    channel_suffix: str = CHANNEL_SUFFIX  # tender §2.1.2
    signature_length: int = 0
    test_mobiles: list[str] = field(default_factory=list)
    budget: int = 200  # billed segments at most
    price: float = float(PRICE_CAP)  # yuan per segment (tender §3 cap): --dry-run, the report
    callback_listen: str = ""
    callback_url: str = ""
    push_silence: float = 8.0  # seconds the receiver holds a push it "stays silent" on
    report_timeout: float = 60.0  # seconds to wait for owed reports
    poll_interval: float = 1.0  # seconds between get_rpt polls when nothing came
    # Polls a wait still makes once the carrier proved silent (ledger.silent_carrier):
    # no report at all a full report_timeout after the first send. 0: always full waits.
    silent_polls: int = 3
    clock_skew: float = CLOCK_SKEW_S  # s the carrier's stime/rtime may differ from ours
    request_timeout: float = 30.0
    auth_failures_allowed: int = 4  # failures the suite may cause on its account per window
    lockout_window: float = 60.0  # the carrier's A7 lockout window, s (0: no memory)
    auth_state_file: str = ""  # remembers the suite's auth failures across runs
    timestamp_probe: int = 3600  # seconds of skew a stale-timestamp probe uses
    lockout_attempts: int = 10
    mo_wait: float = 0.0  # seconds to wait for an MO (a tester replying from a phone)
    # A URL that makes the carrier receive MOs (the mock's /__admin/accounts/<userid>/mo):
    # the MO checks make their own MOs through it instead of asking for a reply.
    mo_inject_url: str = ""
    mo_admin_token: str = ""
    # Seconds the carrier gets to hold the reports a retsize check arranged before probing.
    report_ready: float = 5.0
    # Segments to valid numbers BIZ-DELIVERY-RATE judges at least (tops the run up to them).
    delivery_rate_sample: int = 100
    max_examples: int = 8  # hypothesis examples per property check
    stateful_steps: int = 6
    seed: int | None = None  # hypothesis seed; drawn and recorded when absent
    accounts: list[ExtraAccount] = field(default_factory=list)
    report_dir: str = ""
    junit_xml: str = ""
    accept_incomplete: bool = False  # an INCOMPLETE verdict exits 0 (said in every report)

    def validate(self) -> VendorConfig:
        if not self.target:
            raise VendorConfigError("no target: give --target URL or target in the config file")
        if not self.target.startswith(("http://", "https://")):
            raise VendorConfigError(f"target {self.target!r} is not an http(s) URL")
        unknown = set(self.auth_modes) - set(AUTH_MODES)
        if unknown:
            raise VendorConfigError(f"unknown auth mode(s) {sorted(unknown)}: use {AUTH_MODES}")
        if ("md5" in self.auth_modes or "plain" in self.auth_modes) and not (
            self.userid and self.password
        ):
            raise VendorConfigError("md5/plain auth needs --userid and --password")
        if "apikey" in self.auth_modes and not self.apikey:
            raise VendorConfigError("apikey mode enabled but no --apikey given")
        if not self.auth_modes:
            raise VendorConfigError("no auth mode enabled")
        if self.profile not in PROFILES:
            raise VendorConfigError(f"profile {self.profile!r}: strict or lenient")
        if self.budget < 0:
            raise VendorConfigError("budget must be 0 or more")
        if self.mo_inject_url and not self.mo_inject_url.startswith(("http://", "https://")):
            raise VendorConfigError(f"[mo] inject_url {self.mo_inject_url!r} is not an http(s) URL")
        if self.silent_polls < 0:
            raise VendorConfigError("[timing] silent_polls must be 0 or more")
        if self.report_ready < 0:
            raise VendorConfigError("[timing] report_ready must be 0 or more")
        if self.delivery_rate_sample < 1:
            raise VendorConfigError("[business] rate_sample must be 1 or more")
        if bool(self.callback_listen) != bool(self.callback_url):
            raise VendorConfigError("--callback-listen and --callback-url go together")
        for number in self.test_mobiles:
            if not classify(number).valid:
                raise VendorConfigError(f"test mobile {number!r} is not a valid number (§3.2)")
        return self

    @property
    def primary_auth(self) -> str:
        """The mode the suite uses for everything but the auth checks."""
        for mode in ("md5", "apikey", "plain"):
            if mode in self.auth_modes:
                return mode
        return "md5"

    def account(self, role: str) -> ExtraAccount | None:
        return next((a for a in self.accounts if a.role == role), None)

    def mobiles_by_operator(self) -> dict[Operator, list[str]]:
        out: dict[Operator, list[str]] = {}
        for number in self.test_mobiles:
            out.setdefault(classify(number).operator, []).append(number)
        return out

    def settings_dict(self) -> dict[str, Any]:
        """The settings a report records (no secrets)."""
        data = without_secrets(self, ("password", "apikey", "mo_admin_token"))
        data["accounts"] = [{"role": a.role, "userid": a.userid} for a in self.accounts]
        data["test_mobiles"] = {
            op.value: len(numbers) for op, numbers in self.mobiles_by_operator().items()
        }
        return data


def without_secrets(settings: Any, secrets: tuple[str, ...] = ("password",)) -> dict[str, Any]:
    """A settings dataclass as a report records it: its secrets masked ("***" when set)."""
    data = dataclasses.asdict(settings)
    for secret in secrets:
        data[secret] = "***" if data[secret] else ""
    return data


# vendor.toml sections → VendorConfig fields
_SECTIONS: dict[str, dict[str, str]] = {
    "credentials": {
        "userid": "userid",
        "password": "password",
        "apikey": "apikey",
        "auth_modes": "auth_modes",
    },
    "channel": {"suffix": "channel_suffix", "signature_length": "signature_length"},
    "budget": {"messages": "budget", "price": "price"},
    "callback": {"listen": "callback_listen", "url": "callback_url", "silence": "push_silence"},
    "timing": {
        "report_timeout": "report_timeout",
        "poll_interval": "poll_interval",
        "silent_polls": "silent_polls",
        "clock_skew": "clock_skew",
        "request_timeout": "request_timeout",
        "mo_wait": "mo_wait",
        "report_ready": "report_ready",
    },
    "business": {"rate_sample": "delivery_rate_sample"},
    "mo": {"inject_url": "mo_inject_url", "admin_token": "mo_admin_token", "wait": "mo_wait"},
    "auth": {
        "failures_allowed": "auth_failures_allowed",
        "lockout_window": "lockout_window",
        "state_file": "auth_state_file",
        "timestamp_probe": "timestamp_probe",
        "lockout_attempts": "lockout_attempts",
    },
    "hypothesis": {
        "max_examples": "max_examples",
        "stateful_steps": "stateful_steps",
        "seed": "seed",
    },
}
_TOP = {"vendor", "target", "profile", "only", "accept_incomplete"}


def load_config(path: str | Path | None = None, **overrides: Any) -> VendorConfig:
    """Defaults, then the TOML file, then overrides (None values ignored)."""
    data: dict[str, Any] = {}
    if path:
        data.update(read_toml(Path(path)))
    data.update({k: v for k, v in overrides.items() if v not in (None, [], ())})
    known = {f.name for f in dataclasses.fields(VendorConfig)}
    unknown = set(data) - known
    if unknown:
        raise VendorConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    try:
        return VendorConfig(**data)
    except TypeError as exc:
        raise VendorConfigError(str(exc)) from exc


def read_toml(path: Path) -> dict[str, Any]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise VendorConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise VendorConfigError(f"{path} is not TOML: {exc}") from exc
    data: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _TOP:
            data[key] = value
        elif key in _SECTIONS:
            if not isinstance(value, dict):
                raise VendorConfigError(f"{path}: [{key}] must be a table")
            for name, item in value.items():
                if name not in _SECTIONS[key]:
                    raise VendorConfigError(f"{path}: unknown key {name!r} in [{key}]")
                data[_SECTIONS[key][name]] = item
        elif key == "test_mobiles":
            data["test_mobiles"] = _mobiles_table(value, path)
        elif key == "accounts":
            try:
                data["accounts"] = [ExtraAccount(**a) for a in value]
            except TypeError as exc:
                raise VendorConfigError(f"{path}: [[accounts]]: {exc}") from exc
        else:
            raise VendorConfigError(f"{path}: unknown section or key {key!r}")
    return data


def _mobiles_table(value: Any, path: Path) -> list[str]:
    """[test_mobiles] china_mobile = [...] ... or a plain list."""
    if isinstance(value, list):
        return [str(v) for v in value]
    if not isinstance(value, dict):
        raise VendorConfigError(f"{path}: test_mobiles is a list or a table of lists")
    numbers: list[str] = []
    for operator, items in value.items():
        for number in items:
            found = classify(str(number)).operator
            if found.value != operator and operator != "any":
                raise VendorConfigError(
                    f"{path}: test mobile {number} is {found.value}, listed under {operator}"
                )
            numbers.append(str(number))
    return numbers


def read_mobiles_file(path: str | Path) -> list[str]:
    """--test-mobiles FILE: one number a line; # starts a comment."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise VendorConfigError(f"cannot read test mobiles {path}: {exc.strerror}") from exc
    return [n for n in (line.split("#", 1)[0].strip() for line in lines) if n]
