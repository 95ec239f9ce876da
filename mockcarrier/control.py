"""The control plane: what can change while the mock runs (clock offset, auth
tolerances, lockout, magic numbers, defect modes), kept in the store so that every
process of the mock reads the same state on every request.

`serve` writes the start-time state once (initialise); the admin API changes it; the
service and the pusher read it through the carrier's snapshot (mockcarrier/snapshot.py),
which every process reloads when the store's version() changes.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from smsapi.auth import CHINA_TZ, china_now, format_timestamp
from smsapi.fields import TIME_FORMAT

from . import defects as defect_modes
from . import faults, seeding
from .config import ConfigError, Settings
from .delivery import DELIVERED, Fate

# Settings that may change at run time (PATCH /__admin/settings); the rest need a restart.
RUNTIME_SETTINGS = {
    "clock_offset": float,
    "timestamp_tolerance": float,
    "accept_unix_timestamp": bool,
    "accept_utc_timestamp": bool,
    "lockout_failures": int,
    "lockout_window": float,
    "magic_numbers": bool,
}
MAX_CLOCK_OFFSET = 50 * 365 * 86400.0  # seconds: far enough for any test, no overflow
MAX_MAGIC_LATENCY = 7 * 86400.0  # simulated seconds


@dataclass(frozen=True)
class Control:
    """The state one request (or one push) runs under."""

    settings: Settings  # start-time settings with the run-time changes applied
    defects: frozenset[str] = frozenset()
    magic: dict[str, Fate] = field(default_factory=dict)

    def now(self) -> datetime:
        """The carrier's clock: China time moved by the clock offset."""
        return china_now(self.settings.clock_offset)


def check(settings: Settings) -> None:
    """Refuse start-time control settings that cannot be used (ConfigError)."""
    check_numbers({k: getattr(settings, k) for k in RUNTIME_SETTINGS})
    bad = defect_modes.unknown(settings.defects)
    if bad:
        raise ConfigError(f"unknown defect mode(s) {', '.join(bad)}; see `mockcarrier defects`")
    magic_table(settings.magic)
    for rule in settings.faults:
        try:
            faults.FaultRule.from_dict(rule)
        except faults.FaultError as exc:
            raise ConfigError(str(exc)) from None


def initialise(store: Any, settings: Settings) -> None:
    """Start-time state: run-time changes of a previous run are forgotten, the
    configured defects, magic numbers and faults put in place."""
    check(settings)
    store.put_control(
        {
            "settings": {},
            "defects": sorted(settings.defects),
            "magic": settings.magic,
            **seeding.kept_control(store),  # accounts' admin changes outlive a restart
        },
        replace=True,
    )
    store.delete_faults()
    for rule in settings.faults:
        faults.add(store, rule)


def load(store: Any, base: Settings) -> Control:
    """The control state as the store holds it now (the carrier reads it through its
    snapshot, mockcarrier/snapshot.py, reloaded only when the store's version moves)."""
    return from_state(store.control(), base)


def from_state(state: dict[str, Any], base: Settings) -> Control:
    overrides = state.get("settings") or {}
    settings = dataclasses.replace(base, **overrides) if overrides else base
    return Control(
        settings,
        frozenset(state.get("defects", base.defects)),
        magic_table(state.get("magic", base.magic)),
    )


# ---------------------------------------------------------------- changes


def patch_settings(store: Any, base: Settings, changes: dict[str, Any]) -> Settings:
    """Apply run-time setting changes (validated as a whole) and return the effect."""
    unknown = set(changes) - set(RUNTIME_SETTINGS)
    if unknown:
        raise ConfigError(
            f"not changeable at run time: {', '.join(sorted(unknown))} "
            f"(run-time settings: {', '.join(RUNTIME_SETTINGS)})"
        )
    overrides = dict(store.control().get("settings") or {})
    for key, value in changes.items():
        kind = RUNTIME_SETTINGS[key]
        if kind is bool and not isinstance(value, bool):
            raise ConfigError(f"{key} is true or false")
        if kind is not bool and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ConfigError(f"{key} is a number")
        overrides[key] = kind(value)
    check_numbers(overrides)
    effective = dataclasses.replace(base, **overrides)  # validates (ConfigError)
    store.put_control({"settings": overrides})
    return effective


def check_numbers(values: dict[str, Any]) -> None:
    """Finite numbers, and a clock offset the calendar can hold."""
    for key, value in values.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{key} must be a finite number")
    if abs(values.get("clock_offset", 0.0)) > MAX_CLOCK_OFFSET:
        raise ConfigError(f"clock_offset is at most {MAX_CLOCK_OFFSET:.0f} s either way")


def set_clock(store: Any, base: Settings, offset: Any = None, now: Any = None) -> dict:
    """Move the clock: an offset in seconds, or the time it should show now (China
    time, YYYY-MM-DD HH:MM:SS), e.g. a few seconds before New Year."""
    if now is not None:
        try:
            wanted = datetime.strptime(str(now), TIME_FORMAT).replace(tzinfo=CHINA_TZ)
        except ValueError:
            raise ConfigError(f"now is YYYY-MM-DD HH:MM:SS (China time), not {now!r}") from None
        offset = (wanted - china_now()).total_seconds()
    if offset is None:
        raise ConfigError("give offset (seconds) or now (YYYY-MM-DD HH:MM:SS)")
    patch_settings(store, base, {"clock_offset": offset})
    return clock_view(load(store, base))


def clock_view(control: Control) -> dict[str, Any]:
    now = control.now()
    return {
        "offset": control.settings.clock_offset,
        "now": now.strftime(TIME_FORMAT),
        "timestamp": format_timestamp(now),
    }


def set_defects(store: Any, names: list[str]) -> list[str]:
    bad = defect_modes.unknown(names)
    if bad:
        raise ConfigError(f"unknown defect mode(s) {', '.join(bad)}")
    store.put_control({"defects": sorted(set(names))})
    return sorted(set(names))


def set_magic(store: Any, table: dict[str, Any]) -> dict[str, Any]:
    magic_table(table)
    store.put_control({"magic": table})
    return table


def magic_table(data: Any) -> dict[str, Fate]:
    """Magic numbers of one's own: {"13912345678": {"latency": 2.0, "status": 1,
    "errcode": "UNDELIV", "errdesc": "fail"}}; latency null means never reported."""
    if not isinstance(data, dict):
        raise ConfigError("magic is a table of mobile number → outcome")
    table = {}
    for mobile, spec in data.items():
        if not isinstance(spec, dict) or set(spec) - {"latency", "status", "errcode", "errdesc"}:
            raise ConfigError(f"magic {mobile}: keys latency, status, errcode, errdesc")
        latency = spec.get("latency", 0.0)
        status = spec.get("status", 0)
        if latency is not None and (
            isinstance(latency, bool)
            or not isinstance(latency, (int, float))
            or not 0 <= latency <= MAX_MAGIC_LATENCY
        ):
            raise ConfigError(
                f"magic {mobile}: latency is seconds, 0 to {MAX_MAGIC_LATENCY:.0f}, or null"
            )
        if isinstance(status, bool) or not isinstance(status, int):
            raise ConfigError(f"magic {mobile}: status is an integer (0 delivered)")
        delivered = status == 0
        table[str(mobile)] = Fate(
            None if latency is None else float(latency),
            status,  # any non-zero status is a failure (§2.5.6 非0:失败)
            str(spec.get("errcode") or (DELIVERED[0] if delivered else "UNDELIV")),
            str(spec.get("errdesc") or (DELIVERED[1] if delivered else "fail")),
        )
    return table
