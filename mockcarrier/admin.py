"""The admin API, outside the document's namespace: accounts, MOs, top-ups, views.

Thin views over mockcarrier.operations, which the console calls too."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, g, jsonify, request

from . import operations as ops
from .access import Access, access_for
from .config import AccountConfig, ConfigError, Settings
from .doors import is_loopback
from .operations import AdminError, account_view
from .service import Carrier
from .store import AccountRecord

bp = Blueprint("admin", __name__, url_prefix="/__admin")


def carrier() -> Carrier:
    return current_app.extensions["mockcarrier"]


# Calls an account's own token may make besides those under /accounts/<userid>/.
OPEN_TO_ACCOUNT_TOKENS = frozenset({"admin.health", "admin.list_accounts"})


def given_token() -> str:
    """The token a request presents: X-Admin-Token, or Authorization: Bearer."""
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("X-Admin-Token", "")


def access_of(token: str) -> Access | None:
    """What a token opens for this request's caller (open doors: loopback only)."""
    c = carrier()
    return access_for(
        token,
        c.settings.admin_token,
        [r.config for r in c.store.accounts()],
        loopback=is_loopback(request.remote_addr or ""),
    )


@bp.before_request
def require_token() -> Response | None:
    """The server-wide token opens every call; an account's own token opens that
    account's calls only (mockcarrier.access). Unseen accounts are 404, as missing ones."""
    access = access_of(given_token())
    if access is None:
        return _error(401, "admin token missing or wrong (X-Admin-Token or Bearer)")
    g.admin_access = access
    userid = (request.view_args or {}).get("userid")
    if userid is not None:
        if not access.sees(str(userid)):
            return _error(404, f"no account {userid}")
    elif not access.server and request.endpoint not in OPEN_TO_ACCOUNT_TOKENS:
        return _error(403, "an account's own token opens that account's calls only")
    return None


@bp.errorhandler(AdminError)
def admin_error(exc: AdminError) -> Response:
    return _error(exc.status, exc.message)


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
    return ops.account(carrier(), userid)


@bp.get("/health")
def health() -> Response:
    c = carrier()
    return jsonify({"ok": True, "seed": c.seed, "db": c.settings.db, "store": c.store.describe()})


@bp.get("/settings")
def settings() -> Response:
    """The effective settings: start-time ones with run-time changes (PATCH) applied."""
    c = carrier()
    ctl = c.control()
    return jsonify({**settings_view(ctl.settings), "defects": sorted(ctl.defects), "seed": c.seed})


def settings_view(settings: Settings) -> dict[str, Any]:
    """Settings as the admin API shows them: the accounts' secrets masked."""
    shown = settings.to_dict()
    shown["accounts"] = [a.public_dict() for a in settings.accounts]
    return shown


def revealed() -> bool:
    """?reveal=1: password and apikey in full, for a caller the account is open to."""
    return request.args.get("reveal", "") in ("1", "true", "yes")


@bp.get("/accounts")
def list_accounts() -> Response:
    access: Access = g.admin_access
    reveal = revealed()
    return jsonify(
        [account_view(r, reveal) for r in carrier().store.accounts() if access.sees(r.userid)]
    )


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
    return jsonify(account_view(_account(userid), revealed()))


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
    return jsonify(ops.top_up(carrier(), _account(userid), _json()))


@bp.post("/accounts/<userid>/mo")
def inject_mo(userid: str) -> Response:
    """A reply from a phone: {"mobile", "content" (plain text), "exno"?, "rtime"?}."""
    response = jsonify(ops.inject_mo(carrier(), _account(userid), _json()))
    response.status_code = 201
    return response


@bp.get("/accounts/<userid>/messages")
def messages(userid: str) -> Response:
    """What was sent: ?mobile=, ?custid=, ?msgid= (any per-mobile or segment id)."""
    rows = ops.find_messages(
        carrier(),
        _account(userid),
        mobile=request.args.get("mobile", ""),
        custid=request.args.get("custid", ""),
        msgid=request.args.get("msgid", ""),
        limit=request.args.get("limit", 100, type=int),
    )
    return jsonify(rows)


@bp.post("/accounts/<userid>/messages/<msgid>/fate")
def mark_message(userid: str, msgid: str) -> Response:
    """{"fate": "failed", "errcode"?} or {"fate": "delayed", "seconds"}: the message's
    reports not handed out yet (any per-mobile or segment id names the message)."""
    try:
        number = int(msgid)
    except ValueError:
        return _error(400, "msgid is an integer")
    return jsonify(ops.mark_message(carrier(), _account(userid), number, _json()))


@bp.get("/accounts/<userid>/reports")
def reports(userid: str) -> Response:
    record = _account(userid)
    state = request.args.get("state", "pending")
    return jsonify(carrier().store.reports(record.userid, state))


@bp.post("/accounts/<userid>/reset")
def reset(userid: str) -> Response:
    return jsonify(ops.reset(carrier(), _account(userid)))


# The control plane, push and fault injection routes live on this blueprint too.
from . import admin_control  # noqa: E402, F401
