"""The admin API's blueprint (/__admin, outside the document's namespace): its token gate
and the helpers its views share. The views live in admin_api_accounts (accounts, MOs,
top-ups, messages) and admin_api_control (settings, clock, push, faults, defect modes);
app.py imports both before registering the blueprint. The browser console is console.py."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, g, jsonify, request

from . import operations as ops
from .access import Access, access_for
from .config import Settings
from .doors import is_loopback
from .operations import AdminError
from .service import Carrier
from .stores import AccountRecord

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
        # the accounts as of the store's version (snapshot.py): one read a request, not all
        [r.config for r in c.snapshot().accounts.values()],
        loopback=is_loopback(request.remote_addr or ""),
    )


@bp.before_request
def require_token() -> Response | None:
    """The server-wide token opens every call; an account's own token opens that
    account's calls only (mockcarrier.access). Unseen accounts are 404, as missing ones."""
    access = access_of(given_token())
    if access is None:
        return error(401, "admin token missing or wrong (X-Admin-Token or Bearer)")
    g.admin_access = access
    userid = (request.view_args or {}).get("userid")
    if userid is not None:
        if not access.sees(str(userid)):
            return error(404, f"no account {userid}")
    elif not access.server and request.endpoint not in OPEN_TO_ACCOUNT_TOKENS:
        return error(403, "an account's own token opens that account's calls only")
    return None


@bp.errorhandler(AdminError)
def admin_error(exc: AdminError) -> Response:
    return error(exc.status, exc.message)


def error(status: int, message: str) -> Response:
    """{"error": message} with the status."""
    response = jsonify({"error": message})
    response.status_code = status
    return response


def created(payload: Any) -> Response:
    """The payload, 201."""
    response = jsonify(payload)
    response.status_code = 201
    return response


def json_body() -> dict[str, Any]:
    """The request's JSON object, else a 400 answer."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(error(400, "a JSON object is expected"))
    return data


def account(userid: str) -> AccountRecord:
    """The account the URL names (404 when missing)."""
    return ops.account(carrier(), userid)


def revealed() -> bool:
    """?reveal=1: password and apikey in full, for a caller the account is open to."""
    return request.args.get("reveal", "") in ("1", "true", "yes")


def settings_view(settings: Settings) -> dict[str, Any]:
    """Settings as the admin API shows them: the accounts' secrets masked."""
    shown = settings.to_dict()
    shown["accounts"] = [a.public_dict() for a in settings.accounts]
    return shown
