"""The admin API's control-plane routes: health, settings, clock, magic numbers, balance,
push, fault injection and defect modes (on admin_api's blueprint, so the same token rules
apply). The contract: docs/faults.md and docs/push.md."""

from __future__ import annotations

import os
from typing import Any

from flask import Response, jsonify, request

from . import control, faults, pusher
from .admin_api import account, bp, carrier, created, error, json_body, settings_view
from .config import ConfigError
from .delivery import MAGIC_OUTCOMES
from .launch import WORKER_HEADER
from .operations import (
    account_view,
    attempt_view,
    balance_amounts,
    defects_view,
    switch_defect,
)
from .operations import delete_fault as ops_delete_fault

# ---------------------------------------------------------------- health, settings and clock


@bp.get("/health")
def health() -> Response:
    c = carrier()
    reason = c.threads_reason()  # where the six endpoints run (mockcarrier.worker)
    answer = jsonify(
        {
            "ok": True,
            "seed": c.seed,
            "db": c.settings.db,
            "store": c.store.describe(),
            "requests_run_on": f"threads: {reason}" if reason else "event loop",
        }
    )
    answer.headers[WORKER_HEADER] = str(os.getpid())  # launch() waits for every worker
    return answer


@bp.get("/settings")
def settings() -> Response:
    """The effective settings: start-time ones with run-time changes (PATCH) applied."""
    c = carrier()
    ctl = c.control()
    return jsonify({**settings_view(ctl.settings), "defects": sorted(ctl.defects), "seed": c.seed})


@bp.patch("/settings")
def patch_settings() -> Response:
    """Run-time settings: clock_offset, timestamp_tolerance, accept_*_timestamp,
    lockout_failures, lockout_window, magic_numbers."""
    c = carrier()
    try:
        effective = control.patch_settings(c.store, c.settings, json_body())
    except (ConfigError, TypeError) as exc:
        return error(400, str(exc))
    return jsonify({**settings_view(effective), "seed": c.seed})


@bp.get("/clock")
def get_clock() -> Response:
    return jsonify(control.clock_view(carrier().control()))


@bp.put("/clock")
def put_clock() -> Response:
    """{"offset": seconds} or {"now": "YYYY-MM-DD HH:MM:SS"} (China time)."""
    c = carrier()
    data = json_body()
    try:
        return jsonify(control.set_clock(c.store, c.settings, data.get("offset"), data.get("now")))
    except (ConfigError, TypeError) as exc:
        return error(400, str(exc))


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
        return jsonify(control.set_magic(carrier().store, json_body()))
    except ConfigError as exc:
        return error(400, str(exc))


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
    record = account(userid)
    data = json_body()
    count, micros = balance_amounts(data.get("balance"), data.get("money"), "balance")
    if count is None and micros is None:
        return error(400, "give balance and/or money")
    return jsonify(account_view(carrier().store.set_balance(record.userid, count, micros)))


# ---------------------------------------------------------------- push


@bp.get("/accounts/<userid>/push")
def push_state(userid: str) -> Response:
    return jsonify(pusher.lane_views(carrier(), account(userid).config))


@bp.post("/accounts/<userid>/push/retry")
def push_retry(userid: str) -> Response:
    record = account(userid)
    pusher.retry_now(carrier(), record.userid)
    return jsonify(pusher.lane_views(carrier(), record.config))


@bp.get("/accounts/<userid>/pushes")
def push_attempts(userid: str) -> Response:
    """The push attempts log, newest first: ?kind=rpt|mo&limit=100."""
    record = account(userid)
    kind = request.args.get("kind", "")
    if kind not in ("", "rpt", "mo"):
        return error(400, "kind is rpt or mo")
    limit = max(1, min(request.args.get("limit", 100, type=int), 5000))
    rows = carrier().store.push_attempts(record.userid, kind, limit)
    return jsonify([attempt_view(r) for r in rows])


# ---------------------------------------------------------------- faults


@bp.get("/faults")
def list_faults() -> Response:
    return jsonify(faults.listed(carrier().store))


@bp.post("/faults")
def add_fault() -> Response:
    try:
        return created(faults.add(carrier().store, json_body()))
    except faults.FaultError as exc:
        return error(400, str(exc))


@bp.delete("/faults")
def clear_faults() -> Response:
    return jsonify({"deleted": carrier().store.delete_faults()})


@bp.delete("/faults/<int:fault_id>")
def delete_fault(fault_id: int) -> Response:
    ops_delete_fault(carrier(), fault_id)
    return jsonify({"deleted": 1})


# ---------------------------------------------------------------- defect modes


@bp.get("/defects")
def list_defects() -> Response:
    return jsonify(defects_view(carrier()))


@bp.put("/defects")
def put_defects() -> Response:
    """{"enabled": ["name", ...]} replaces the set of active defect modes."""
    names = json_body().get("enabled")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return error(400, 'give {"enabled": [names...]}')
    try:
        control.set_defects(carrier().store, names)
    except ConfigError as exc:
        return error(400, str(exc))
    return jsonify(defects_view(carrier()))


@bp.post("/defects/<name>")
def enable_defect(name: str) -> Response:
    switch_defect(carrier(), name, True)
    return jsonify(defects_view(carrier()))


@bp.delete("/defects/<name>")
def disable_defect(name: str) -> Response:
    switch_defect(carrier(), name, False)
    return jsonify(defects_view(carrier()))
