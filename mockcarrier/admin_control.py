"""Admin API of the control plane, push and fault injection (on the admin blueprint,
so the same token rules apply). The contract: docs/faults.md and docs/push.md."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from . import control, faults, pusher
from .admin import _account, _error, _json, bp, carrier, settings_view
from .config import ConfigError
from .defects import DEFECTS
from .delivery import MAGIC_OUTCOMES
from .operations import account_view, balance_amounts, switch_defect
from .operations import delete_fault as ops_delete_fault


def _created(payload: Any) -> Response:
    response = jsonify(payload)
    response.status_code = 201
    return response


# ---------------------------------------------------------------- settings and clock


@bp.patch("/settings")
def patch_settings() -> Response:
    """Run-time settings: clock_offset, timestamp_tolerance, accept_*_timestamp,
    lockout_failures, lockout_window, magic_numbers."""
    c = carrier()
    try:
        effective = control.patch_settings(c.store, c.settings, _json())
    except (ConfigError, TypeError) as exc:
        return _error(400, str(exc))
    return jsonify({**settings_view(effective), "seed": c.seed})


@bp.get("/clock")
def get_clock() -> Response:
    return jsonify(control.clock_view(carrier().control()))


@bp.put("/clock")
def put_clock() -> Response:
    """{"offset": seconds} or {"now": "YYYY-MM-DD HH:MM:SS"} (China time)."""
    c = carrier()
    data = _json()
    try:
        return jsonify(control.set_clock(c.store, c.settings, data.get("offset"), data.get("now")))
    except (ConfigError, TypeError) as exc:
        return _error(400, str(exc))


# ---------------------------------------------------------------- magic numbers


@bp.get("/magic")
def get_magic() -> Response:
    c = carrier()
    ctl = c.control()
    return jsonify(
        {
            "enabled": ctl.settings.magic_numbers,
            "builtin": magic_builtin(),
            "custom": c.store.control().get("magic", c.settings.magic),
        }
    )


@bp.put("/magic")
def put_magic() -> Response:
    """Replaces the custom table: {"13912345678": {"latency": 2, "status": 1, ...}}."""
    try:
        return jsonify(control.set_magic(carrier().store, _json()))
    except ConfigError as exc:
        return _error(400, str(exc))


def magic_builtin() -> dict[str, dict[str, Any]]:
    """The built-in magic numbers: any mainland segment, 0000000, a digit."""
    return {
        f"1xx0000000{digit}": {
            "latency": o.latency,
            "status": o.status,
            "errcode": o.errcode,
        }
        for digit, o in MAGIC_OUTCOMES.items()
    }


# ---------------------------------------------------------------- balance


@bp.put("/accounts/<userid>/balance")
def put_balance(userid: str) -> Response:
    """Sets (not adds) {"balance": N} and/or {"money": "0.5"}."""
    record = _account(userid)
    data = _json()
    count, micros = balance_amounts(data.get("balance"), data.get("money"), "balance")
    if count is None and micros is None:
        return _error(400, "give balance and/or money")
    return jsonify(account_view(carrier().store.set_balance(record.userid, count, micros)))


# ---------------------------------------------------------------- push


@bp.get("/accounts/<userid>/push")
def push_state(userid: str) -> Response:
    return jsonify(pusher.lane_views(carrier(), _account(userid).config))


@bp.post("/accounts/<userid>/push/retry")
def push_retry(userid: str) -> Response:
    record = _account(userid)
    pusher.retry_now(carrier(), record.userid)
    return jsonify(pusher.lane_views(carrier(), record.config))


@bp.get("/accounts/<userid>/pushes")
def push_attempts(userid: str) -> Response:
    """The push attempts log, newest first: ?kind=rpt|mo&limit=100."""
    record = _account(userid)
    kind = request.args.get("kind", "")
    if kind not in ("", "rpt", "mo"):
        return _error(400, "kind is rpt or mo")
    limit = max(1, min(request.args.get("limit", 100, type=int), 5000))
    rows = carrier().store.push_attempts(record.userid, kind, limit)
    return jsonify([attempt_view(r) for r in rows])


def attempt_view(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["ok"] = bool(out["ok"])
    out["msgids"] = [out.pop("first_msgid"), out.pop("last_msgid")]
    return out


# ---------------------------------------------------------------- faults


@bp.get("/faults")
def list_faults() -> Response:
    return jsonify(faults.listed(carrier().store))


@bp.post("/faults")
def add_fault() -> Response:
    try:
        return _created(faults.add(carrier().store, _json()))
    except faults.FaultError as exc:
        return _error(400, str(exc))


@bp.delete("/faults")
def clear_faults() -> Response:
    return jsonify({"deleted": carrier().store.delete_faults()})


@bp.delete("/faults/<int:fault_id>")
def delete_fault(fault_id: int) -> Response:
    ops_delete_fault(carrier(), fault_id)
    return jsonify({"deleted": 1})


# ---------------------------------------------------------------- defect modes


def defects_view() -> list[dict[str, Any]]:
    active = carrier().control().defects
    return [{**d.to_dict(), "enabled": d.name in active} for d in DEFECTS.values()]


@bp.get("/defects")
def list_defects() -> Response:
    return jsonify(defects_view())


@bp.put("/defects")
def put_defects() -> Response:
    """{"enabled": ["name", ...]} replaces the set of active defect modes."""
    names = _json().get("enabled")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return _error(400, 'give {"enabled": [names...]}')
    try:
        control.set_defects(carrier().store, names)
    except ConfigError as exc:
        return _error(400, str(exc))
    return jsonify(defects_view())


@bp.post("/defects/<name>")
def enable_defect(name: str) -> Response:
    switch_defect(carrier(), name, True)
    return jsonify(defects_view())


@bp.delete("/defects/<name>")
def disable_defect(name: str) -> Response:
    switch_defect(carrier(), name, False)
    return jsonify(defects_view())
