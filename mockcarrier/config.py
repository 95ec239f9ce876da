"""Settings of a mock carrier and of its accounts, from defaults, a TOML file and flags."""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from smsapi.endpoints import MAX_PUSH_MOS, MAX_PUSH_RPTS
from smsapi.fields import CHANNEL_EXNO_MAX
from smsapi.mobile import Operator
from smsapi.tender import DEMO_CHANNEL, PRICE_CAP

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

AUTH_MODES = ("md5", "plain", "apikey")
# The document's own example account (§2.1.5, §3.1), so its examples work verbatim.
DEMO_USERID = "J10003"
DEMO_PASSWORD = "111111"
DEMO_APIKEY = "abade5589e2798f82f006bbc36d269ce"
OPERATOR_NAMES = tuple(o.value for o in Operator if o is not Operator.INVALID)
PROFILE_NAMES = ("default", "slow", "lossy", "instant")  # mockcarrier.delivery.PROFILES


class ConfigError(ValueError):
    """A setting that cannot be used, said in one line."""


@dataclass
class AccountConfig:
    """One customer account of the carrier."""

    userid: str = DEMO_USERID
    password: str = DEMO_PASSWORD
    apikey: str = ""
    auth_modes: list[str] = field(default_factory=lambda: ["md5", "apikey"])
    allowed_ips: list[str] = field(default_factory=list)  # CIDRs; empty allows every address
    max_concurrent: int = 100  # §5.1 单个发送账号默认并发链接数为100个
    channel: str = DEMO_CHANNEL
    signature: str = "【通渝科技】"
    chargetype: int = 0  # §2.6.6 0 counts messages, 1 counts money
    balance: int = 100_000_000  # initial message count (chargetype 0)
    money: str = "100000.000000"  # initial money in yuan (chargetype 1)
    price: str = str(PRICE_CAP)  # yuan per segment (chargetype 1): the tender's cap
    delivery_profile: str = "default"
    mo_charset: str = "utf-8"  # §2.4.6 UTF-8; the §2.7.5 push example shows GBK
    answer_delay_ms: int = 0  # hold every answer this long (to reach -100056 on purpose)
    # Opens this account only, in the admin API and the console; when set, the account
    # is hidden from every other token but the server-wide one (docs/console.md).
    admin_token: str = ""
    # Delivery profile per operator (china_mobile, china_unicom, ...); delivery_profile
    # is the fallback.
    operator_profiles: dict[str, str] = field(default_factory=dict)
    # §2.7 / §2.8 push, off by default (§5 "默认不开启"); see docs/push.md.
    push_enabled: bool = False
    push_rpt_url: str = ""  # empty: reports stay pull-only
    push_mo_url: str = ""  # empty: MOs stay pull-only
    push_rpt_batch: int = MAX_PUSH_RPTS
    push_mo_batch: int = MAX_PUSH_MOS
    pull_while_push: bool = False  # False: get_rpt/get_mo hand out none of a pushed kind
    push_timeout: float = 5.0  # seconds per push request
    push_backoff_initial: float = 1.0  # seconds before the first retry, doubling...
    push_backoff_max: float = 30.0  # ...up to this (retries never stop)

    def __post_init__(self) -> None:
        self.userid = self.userid.strip().upper()
        self.validate()

    def validate(self) -> None:
        if not 0 < len(self.userid) <= 6:
            raise ConfigError(f"account {self.userid!r}: userid must be 1 to 6 characters")
        unknown = set(self.auth_modes) - set(AUTH_MODES)
        if unknown:
            raise ConfigError(f"account {self.userid}: unknown auth mode(s) {sorted(unknown)}")
        if "apikey" in self.auth_modes and self.apikey and len(self.apikey) != 32:
            raise ConfigError(f"account {self.userid}: apikey must be 32 characters (§3.1)")
        if self.chargetype not in (0, 1):
            raise ConfigError(f"account {self.userid}: chargetype is 0 or 1")
        if not self.channel.isdigit():
            raise ConfigError(f"account {self.userid}: channel must be digits")
        if len(self.channel) > CHANNEL_EXNO_MAX:
            # §2.1.5: channel + exno at most 20 digits, so a longer channel has no valid spno
            raise ConfigError(
                f"account {self.userid}: channel has at most {CHANNEL_EXNO_MAX} digits"
            )
        if self.max_concurrent < 1:
            raise ConfigError(f"account {self.userid}: max_concurrent must be at least 1")
        if self.delivery_profile not in PROFILE_NAMES:
            # one check for every way in: --delivery-profile, the file, PATCH, POST
            raise ConfigError(
                f"account {self.userid}: delivery_profile is one of {', '.join(PROFILE_NAMES)}"
            )
        to_micros(self.money)
        to_micros(self.price)
        self._validate_push()
        try:
            "".encode(self.mo_charset)
        except LookupError:
            raise ConfigError(f"account {self.userid}: unknown mo_charset") from None
        for operator, profile in self.operator_profiles.items():
            if operator not in OPERATOR_NAMES or profile not in PROFILE_NAMES:
                raise ConfigError(
                    f"account {self.userid}: operator_profiles maps an operator "
                    f"({', '.join(OPERATOR_NAMES)}) to a profile ({', '.join(PROFILE_NAMES)})"
                )

    def _validate_push(self) -> None:
        for name in ("push_enabled", "pull_while_push"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"account {self.userid}: {name} is true or false")
        if not isinstance(self.operator_profiles, dict):
            raise ConfigError(f"account {self.userid}: operator_profiles is a table")
        for name in ("push_rpt_url", "push_mo_url"):
            url = getattr(self, name)
            if not isinstance(url, str):
                raise ConfigError(f"account {self.userid}: {name} is a URL")
            if url and not url.startswith(("http://", "https://")):
                raise ConfigError(f"account {self.userid}: {name} must be an http(s) URL")
        if not 1 <= self.push_rpt_batch <= MAX_PUSH_RPTS:
            raise ConfigError(f"account {self.userid}: push_rpt_batch is 1 to {MAX_PUSH_RPTS}")
        if not 1 <= self.push_mo_batch <= MAX_PUSH_MOS:
            raise ConfigError(f"account {self.userid}: push_mo_batch is 1 to {MAX_PUSH_MOS}")
        if not 0 < self.push_timeout <= 60:
            raise ConfigError(f"account {self.userid}: push_timeout is over 0, at most 60 s")
        if not 0 < self.push_backoff_initial <= self.push_backoff_max <= 3600:
            raise ConfigError(
                f"account {self.userid}: 0 < push_backoff_initial <= push_backoff_max <= 3600"
            )

    def push_url(self, kind: str) -> str:
        """The URL a kind ("rpt" or "mo") is pushed to, "" when it is pulled."""
        if not self.push_enabled:
            return ""
        return self.push_rpt_url if kind == "rpt" else self.push_mo_url

    def pull_blocked(self, kind: str) -> bool:
        """Whether get_rpt / get_mo hand out nothing because the kind is pushed."""
        return bool(self.push_url(kind)) and not self.pull_while_push

    def profile_for(self, operator: str) -> str:
        """The delivery profile of messages to one operator's numbers."""
        return self.operator_profiles.get(operator, self.delivery_profile)

    @property
    def price_micros(self) -> int:
        return to_micros(self.price)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def public_dict(self, reveal: bool = False) -> dict[str, Any]:
        """to_dict as the admin API shows it: password and apikey masked unless revealed
        (?reveal=1), the account's admin token never."""
        data = self.to_dict()
        if not reveal:
            data["password"] = masked_secret(self.password)
            data["apikey"] = masked_secret(self.apikey)
        data["admin_token"] = "***" if self.admin_token else ""
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AccountConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown account setting(s): {', '.join(sorted(unknown))}")
        return cls(**data)

    def updated(self, changes: dict[str, Any]) -> AccountConfig:
        return AccountConfig.from_dict({**self.to_dict(), **changes})


def masked_secret(secret: str) -> str:
    """*** and, for a long secret, its last four characters (enough to tell keys apart)."""
    if not secret:
        return ""
    return "***" + secret[-4:] if len(secret) >= 16 else "***"


def demo_account() -> AccountConfig:
    """J10003 / 111111 with the document's apikey; md5, apikey and plaintext enabled."""
    return AccountConfig(apikey=DEMO_APIKEY, auth_modes=["md5", "plain", "apikey"])


def to_micros(amount: str | int | float) -> int:
    """Yuan as an integer number of micro-yuan (six decimals, as §2.6.8 writes money)."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation as exc:
        raise ConfigError(f"not an amount of money: {amount!r}") from exc
    if not value.is_finite() or value.adjusted() > 30:  # 1e999999: no int of a million digits
        raise ConfigError(f"not an amount of money: {amount!r}"[:100])
    return int((value * 1_000_000).to_integral_value())


REDIS_SCHEMES = ("redis", "rediss", "unix")  # the URLs --store takes (redis-py's)


@dataclass
class Settings:
    """How the mock runs. Every field is a `mockcarrier serve` option too."""

    host: str = "127.0.0.1"
    port: int = 8080
    db: str = "mockcarrier.db"
    store: str = ""  # redis://host:port/db[?prefix=name]: the Redis store; "" SQLite at db
    seed: int | None = None  # None: drawn at start and printed
    time_scale: float = 1.0  # >1 runs simulated latencies faster than real time
    clock_offset: float = 0.0  # seconds added to the mock's clock
    timestamp_tolerance: float = 600.0  # §3.1 seconds of skew allowed; 0 disables the check
    accept_unix_timestamp: bool = True  # A2: accept (and flag) Unix seconds as `timestamp`
    accept_utc_timestamp: bool = True  # also accept a timestamp written in UTC wall time
    lockout_failures: int = 5  # -100002 after this many failures...
    lockout_window: float = 60.0  # ...within this many seconds, for as long
    # A digest (md5 mode) is refused this many seconds after its first use; 0: reusable
    # for the whole timestamp tolerance, as the document has it (docs/interpretations.md).
    digest_reuse_window: float = 60.0
    # X-Mock-Reason of a refused login says which part was wrong (it then tells whether a
    # userid exists): for tests, off by default.
    verbose_reasons: bool = False
    admin_token: str = ""
    # Host names served besides loopback names, IP literals and the bind address (DNS
    # rebinding); "*" serves any.
    allowed_hosts: list[str] = field(default_factory=list)
    max_body_bytes: int = 2 * 1024 * 1024
    msgid_prefix: int = 0x1A2B3C  # high bits of every msgid; negative gives negative ids
    magic_numbers: bool = True
    workers: int = 1
    threads: int = 32
    # Control plane at start (docs/faults.md): defect mode names, fault rules, and
    # magic numbers of one's own ({"13912345678": {"latency": 2, "status": 1, ...}}).
    defects: list[str] = field(default_factory=list)
    faults: list[dict[str, Any]] = field(default_factory=list)
    magic: dict[str, dict[str, Any]] = field(default_factory=dict)
    accounts: list[AccountConfig] = field(default_factory=lambda: [demo_account()])

    def __post_init__(self) -> None:
        if self.time_scale <= 0:
            raise ConfigError("time_scale must be greater than 0")
        if self.lockout_failures < 1:
            raise ConfigError("lockout_failures must be at least 1")
        if not 0 <= self.digest_reuse_window <= 86400:
            raise ConfigError("digest_reuse_window is 0 (off) to 86400 seconds")
        if not isinstance(self.allowed_hosts, list) or not all(
            isinstance(h, str) for h in self.allowed_hosts
        ):
            raise ConfigError("allowed_hosts is a list of host names")
        if self.max_body_bytes < 1024:
            raise ConfigError("max_body_bytes must be at least 1024")
        if self.threads < 1 or self.workers < 1:
            raise ConfigError("workers and threads must be at least 1")
        if self.store and not self.store.startswith(tuple(f"{s}://" for s in REDIS_SCHEMES)):
            raise ConfigError(
                "store is a Redis URL (redis://host:port/db, rediss://, unix://); "
                "leave it out for the SQLite file --db"
            )
        names = [a.userid for a in self.accounts]
        if len(names) != len(set(names)):
            raise ConfigError("two accounts share a userid")

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["admin_token"] = "***" if self.admin_token else ""
        data["store"] = redacted_url(self.store)
        for account in data["accounts"]:
            account["admin_token"] = "***" if account.get("admin_token") else ""
        return data


def redacted_url(url: str) -> str:
    """A store URL fit to print: its password as ***."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


def load_settings(path: str | os.PathLike | None = None, **overrides: Any) -> Settings:
    """Defaults, then the TOML file ([server] keys and [[accounts]] tables), then flags
    (overrides whose value is None are ignored)."""
    data: dict[str, Any] = {}
    if path:
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read config {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config {path} is not TOML: {exc}") from exc
        data.update(raw.get("server", {}))
        if "accounts" in raw:
            data["accounts"] = [AccountConfig.from_dict(a) for a in raw["accounts"]]
        if "faults" in raw:
            data["faults"] = list(raw["faults"])
        unknown = set(raw) - {"server", "accounts", "faults"}
        if unknown:
            raise ConfigError(f"config {path}: unknown section(s) {', '.join(sorted(unknown))}")
    data.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in dataclasses.fields(Settings)}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"unknown server setting(s): {', '.join(sorted(unknown))}")
    if not data.get("admin_token"):
        data["admin_token"] = os.environ.get("MOCKCARRIER_ADMIN_TOKEN", "")
    return Settings(**data)
