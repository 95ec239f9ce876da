"""The admin API, outside the document's namespace: accounts, MOs, top-ups, views."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, request

from smsapi.answers import format_money
from smsapi.auth import secrets_equal
from smsapi.msgid import SEGMENT_STRIDE, wrap_int64

from . import ids
from .config import AccountConfig, ConfigError, to_micros
from .service import Carrier
from .store import AccountRecord

bp = Blueprint("admin", __name__, url_prefix="/__admin")


def carrier() -> Carrier:
    return current_app.extensions["mockcarrier"]


@bp.before_request
def require_token() -> Response | None:
    token = carrier().settings.admin_token
    if not token:
        return None
    given = request.headers.get("X-Admin-Token", "")
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        given = auth[7:].strip()
    if not secrets_equal(given, token):
        return _error(401, "admin token missing or wrong (X-Admin-Token or Bearer)")
    return None


def _error(status: int, message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    return response


def _json() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(_error(400, "a JSON object is expected"))
    return data


def _account(userid: str) -> AccountRecord:
    record = carrier().store.account(userid.upper())
    if record is None:
        abort(_error(404, f"no account {userid}"))
    return record


def account_view(record: AccountRecord) -> dict[str, Any]:
    return {
        **record.config.to_dict(),
        "balance": record.balance,
        "money": format_money(record.money_micros),
    }


@bp.get("/health")
def health() -> Response:
    c = carrier()
    return jsonify({"ok": True, "seed": c.seed, "db": c.settings.db})


@bp.get("/settings")
def settings() -> Response:
    c = carrier()
    return jsonify({**c.settings.to_dict(), "seed": c.seed})


@bp.get("/accounts")
def list_accounts() -> Response:
    return jsonify([account_view(r) for r in carrier().store.accounts()])


@bp.post("/accounts")
def create_account() -> Response:
    data = _json()
    try:
        cfg = AccountConfig.from_dict(data)
    except (ConfigError, TypeError) as exc:
        return _error(400, str(exc))
    store = carrier().store
    if store.account(cfg.userid):
        return _error(409, f"account {cfg.userid} exists; PATCH it")
    store.put_account(cfg, reset_balance=True)
    response = jsonify(account_view(_account(cfg.userid)))
    response.status_code = 201
    return response


@bp.get("/accounts/<userid>")
def get_account(userid: str) -> Response:
    return jsonify(account_view(_account(userid)))


@bp.patch("/accounts/<userid>")
def patch_account(userid: str) -> Response:
    record = _account(userid)
    changes = _json()
    if "userid" in changes and changes["userid"].upper() != record.userid:
        return _error(400, "userid cannot change")
    try:
        cfg = record.config.updated(changes)
    except (ConfigError, TypeError) as exc:
        return _error(400, str(exc))
    carrier().store.put_account(cfg)
    return jsonify(account_view(_account(userid)))


@bp.delete("/accounts/<userid>")
def delete_account(userid: str) -> Response:
    record = _account(userid)
    carrier().store.delete_account(record.userid)
    return jsonify({"deleted": record.userid})


@bp.post("/accounts/<userid>/topup")
def top_up(userid: str) -> Response:
    """{"count": N} adds messages, {"money": "12.5"} adds yuan."""
    record = _account(userid)
    data = _json()
    try:
        count = int(data.get("count", 0))
        micros = to_micros(data.get("money", 0))
    except (ValueError, TypeError, ConfigError) as exc:
        return _error(400, f"count is an integer, money an amount: {exc}")
    return jsonify(account_view(carrier().store.top_up(record.userid, count, micros)))


@bp.post("/accounts/<userid>/mo")
def inject_mo(userid: str) -> Response:
    """A reply from a phone: {"mobile", "content" (plain text), "exno"?, "rtime"?}."""
    record = _account(userid)
    data = _json()
    mobile, content = str(data.get("mobile", "")).strip(), data.get("content")
    if not mobile or not isinstance(content, str) or not content:
        return _error(400, "mobile and content (plain text) are required")
    mo = carrier().inject_mo(
        record.userid, mobile, content, str(data.get("exno", "")), str(data.get("rtime", ""))
    )
    response = jsonify(mo)
    response.status_code = 201
    return response


@bp.get("/accounts/<userid>/messages")
def messages(userid: str) -> Response:
    """What was sent: ?mobile=, ?custid=, ?msgid= (any per-mobile or segment id)."""
    record = _account(userid)
    msgids: tuple[int, ...] = ()
    if request.args.get("msgid"):
        try:
            msgids = message_ids_for(int(request.args["msgid"]))
        except ValueError:
            return _error(400, "msgid is an integer")
    limit = request.args.get("limit", 100, type=int)
    rows = carrier().store.messages(
        record.userid,
        mobile=request.args.get("mobile", ""),
        custid=request.args.get("custid", ""),
        msgids=msgids,
        limit=max(1, min(limit, 1000)),
    )
    return jsonify(rows)


def message_ids_for(msgid: int) -> tuple[int, ...]:
    """The per-mobile id a segment id belongs to (§3.3), given either kind."""
    _, _, pknum = ids.decompose(msgid)
    return (wrap_int64(msgid - (pknum - 1) * SEGMENT_STRIDE),)


@bp.get("/accounts/<userid>/reports")
def reports(userid: str) -> Response:
    record = _account(userid)
    state = request.args.get("state", "pending")
    return jsonify(carrier().store.reports(record.userid, state))


@bp.post("/accounts/<userid>/reset")
def reset(userid: str) -> Response:
    record = _account(userid)
    carrier().store.reset(record.userid, record.config)
    return jsonify(account_view(_account(userid)))
