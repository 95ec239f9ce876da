"""The admin API's account routes: accounts, MOs, top-ups, messages, reports.

Thin views over mockcarrier.operations, which the console calls too; the blueprint and
its token gate are admin_api's."""

from __future__ import annotations

from flask import Response, g, jsonify, request

from . import operations as ops
from .access import Access
from .admin_api import account, bp, carrier, created, error, json_body, revealed
from .config import AccountConfig, ConfigError
from .operations import account_view


@bp.get("/accounts")
def list_accounts() -> Response:
    access: Access = g.admin_access
    reveal = revealed()
    return jsonify(
        [account_view(r, reveal) for r in carrier().store.accounts() if access.sees(r.userid)]
    )


@bp.post("/accounts")
def create_account() -> Response:
    data = json_body()
    try:
        cfg = AccountConfig.from_dict(data)
    except (ConfigError, TypeError) as exc:
        return error(400, str(exc))
    store = carrier().store
    if store.account(cfg.userid):
        return error(409, f"account {cfg.userid} exists; PATCH it")
    store.put_account(cfg, reset_balance=True)
    return created(account_view(account(cfg.userid)))


@bp.get("/accounts/<userid>")
def get_account(userid: str) -> Response:
    return jsonify(account_view(account(userid), revealed()))


@bp.patch("/accounts/<userid>")
def patch_account(userid: str) -> Response:
    record = account(userid)
    changes = json_body()
    if "userid" in changes and changes["userid"].upper() != record.userid:
        return error(400, "userid cannot change")
    try:
        cfg = record.config.updated(changes)
    except (ConfigError, TypeError) as exc:
        return error(400, str(exc))
    carrier().store.put_account(cfg)
    return jsonify(account_view(account(userid)))


@bp.delete("/accounts/<userid>")
def delete_account(userid: str) -> Response:
    record = account(userid)
    carrier().store.delete_account(record.userid)
    return jsonify({"deleted": record.userid})


@bp.post("/accounts/<userid>/topup")
def top_up(userid: str) -> Response:
    """{"count": N} adds messages, {"money": "12.5"} adds yuan."""
    return jsonify(ops.top_up(carrier(), account(userid), json_body()))


@bp.post("/accounts/<userid>/mo")
def inject_mo(userid: str) -> Response:
    """A reply from a phone: {"mobile", "content" (plain text), "exno"?, "rtime"?}."""
    return created(ops.inject_mo(carrier(), account(userid), json_body()))


@bp.get("/accounts/<userid>/messages")
def messages(userid: str) -> Response:
    """What was sent: ?mobile=, ?custid=, ?msgid= (any per-mobile or segment id)."""
    rows = ops.find_messages(
        carrier(),
        account(userid),
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
        return error(400, "msgid is an integer")
    return jsonify(ops.mark_message(carrier(), account(userid), number, json_body()))


@bp.get("/accounts/<userid>/reports")
def reports(userid: str) -> Response:
    record = account(userid)
    state = request.args.get("state", "pending")
    return jsonify(carrier().store.reports(record.userid, state))


@bp.post("/accounts/<userid>/reset")
def reset(userid: str) -> Response:
    return jsonify(ops.reset(carrier(), account(userid)))
