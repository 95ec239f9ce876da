"""The web console at /: every phone's inbox, the report queue, and buttons that make
the same admin calls a test makes (mockcarrier.operations). Outside the document's
namespace, like /__admin/.

Pages are rendered on the server (templates/console); static/console.js polls
/console/live and swaps the regions that changed, so nothing reloads.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse  # what redirect() makes

from smsapi.answers import format_money
from smsapi.endpoints import ENDPOINTS
from smsapi.errors import RESULT_TEXTS

from . import faults, inbox, pusher
from . import operations as ops
from .access import Access, token_required
from .admin_api import access_of, given_token
from .config import DEMO_USERID
from .operations import AdminError
from .service import Carrier
from .stores import AccountRecord

bp = Blueprint(
    "console",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/console/static",
)
COOKIE = "mockcarrier_admin_token"
REGIONS = ("account", "phones", "reports", "pushes", "faults")
SHOWN_ATTEMPTS = 20
SHOWN_MESSAGES = 100  # the newest; a search narrows (each poll renders them all)
# Served by the mock itself: no CDN, no inline script (static/console.js only).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def carrier() -> Carrier:
    return current_app.extensions["mockcarrier"]


# ---------------------------------------------------------------- plain functions


@dataclass
class View:
    """Everything one console page (or one live refresh) shows."""

    accounts: list[AccountRecord]
    account: AccountRecord | None
    query: str
    groups: list[inbox.OperatorGroup]
    queue: inbox.QueueView | None
    message_count: int
    mo_count: int
    now: float
    server: bool = False  # this token may change server-wide things (faults, defects)
    pushes: dict[str, Any] | None = None
    faults: dict[str, Any] | None = None
    clock_offset: float = 0.0  # the carrier's clock moved (PUT /__admin/clock)
    limit: int = SHOWN_MESSAGES
    # Requests read with a flag or not readable at all (Carrier.flagged), newest first
    flagged: list[dict[str, Any]] = field(default_factory=list)


def visible_accounts(c: Carrier, access: Access) -> list[AccountRecord]:
    return [r for r in c.store.accounts() if access.sees(r.userid)]


def chosen_account(accounts: list[AccountRecord], wanted: str) -> AccountRecord | None:
    """The account asked for if this token sees it, else the document's J10003, else
    the first one."""
    by_id = {r.userid: r for r in accounts}
    return by_id.get(wanted.strip().upper()) or by_id.get(DEMO_USERID) or next(iter(accounts), None)


def build_view(
    c: Carrier, access: Access, wanted: str, query: str, limit: int = SHOWN_MESSAGES
) -> View:
    accounts = visible_accounts(c, access)
    record = chosen_account(accounts, wanted)
    now = time.time()
    if record is None:
        return View(accounts, None, query, [], None, 0, 0, now, access.server)
    try:
        messages, mos = ops.search(c, record, query, limit)
    except AdminError:
        messages, mos = [], []
    queue = inbox.report_queue(ops.reports(c, record, "pending"), now)
    groups = inbox.inbox(messages, mos, now, c.control().defects)  # ids as reported
    return View(
        accounts,
        record,
        query,
        groups,
        queue,
        len(messages),
        len(mos),
        now,
        access.server,
        push_panel(c, record),
        fault_panel(c) if access.server else None,
        c.control().settings.clock_offset,
        limit,
        flagged_for(c, record.userid),
    )


def flagged_for(c: Carrier, userid: str) -> list[dict[str, Any]]:
    """The account's flagged requests, and the unreadable ones (which name no account)."""
    return [f for f in c.flagged if f["userid"] in (userid, "")]


def push_panel(c: Carrier, record: AccountRecord) -> dict[str, Any]:
    """The account's push lanes and latest attempts, as GET .../push and .../pushes."""
    attempts = c.store.push_attempts(record.userid, "", SHOWN_ATTEMPTS)
    return {
        "lanes": pusher.lane_views(c, record.config),
        "attempts": [ops.attempt_view(row) for row in attempts],
    }


def fault_panel(c: Carrier) -> dict[str, Any]:
    """Defect modes and forced errors, as GET /__admin/defects and /__admin/faults."""
    return {"defects": ops.defects_view(c), "faults": faults.listed(c.store)}


def fault_rule(form: dict[str, str], userid: str) -> dict[str, Any]:
    """A forced error from the console's form, in POST /__admin/faults' shape."""
    rule: dict[str, Any] = {"action": form.get("action") or "result"}
    rule["endpoint"] = form.get("endpoint") or "*"
    for key in ("result", "count", "delay_ms", "status"):
        if form.get(key, "").strip():
            rule[key] = form[key].strip()
    if form.get("only_this_account"):
        rule["userid"] = userid
    return rule


def render_regions(view: View) -> dict[str, str]:
    return {
        name: render_template(f"console/_{name}.html", view=view, account=view.account)
        for name in REGIONS
    }


def digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def live_payload(regions: dict[str, str]) -> dict[str, Any]:
    hashes = {name: digest(html) for name, html in regions.items()}
    return {
        "version": digest("".join(hashes[name] for name in sorted(hashes))),
        "hashes": hashes,
        "regions": regions,
    }


def service_info() -> dict[str, Any]:
    """What GET / answered before the console: kept for clients asking for JSON."""
    return {
        "service": "mock carrier for the Chongqing Tongyu SMS interface (attachment 6)",
        "endpoints": {name: e.path for name, e in ENDPOINTS.items()},
        "admin": "/__admin/health",
        "console": "/",
    }


@bp.app_template_filter("money")
def money_filter(micros: int) -> str:
    return format_money(micros)


# ---------------------------------------------------------------- request plumbing


def presented_token() -> str:
    """A header (as the admin API takes it), else the console's login cookie."""
    return given_token() or request.cookies.get(COOKIE, "")


def wants_html() -> bool:
    return any(
        mime in ("text/html", "application/xhtml+xml") for mime, _ in request.accept_mimetypes
    )


def login_page(error: str = "", status: int = 401) -> BaseResponse:
    response = Response(render_template("console/login.html", error=error), status)
    response.headers["Cache-Control"] = "no-store"
    return response


def page_url(userid: str = "", query: str = "", notice: str = "", error: str = "") -> str:
    params = {k: v for k, v in (("account", userid), ("q", query)) if v}
    params.update({k: v for k, v in (("notice", notice), ("error", error)) if v})
    return url_for("console.index") + (f"?{urlencode(params)}" if params else "")


def action_reply(userid: str, notice: str = "", error: str = "", status: int = 200) -> BaseResponse:
    """JSON for console.js, a redirect back to the page for a form posted without it."""
    if request.headers.get("X-Console") == "fetch":
        response = jsonify({"ok": not error, "notice": notice, "error": error})
        response.status_code = status
        return response
    query = request.form.get("q", "")
    return redirect(page_url(userid, query, notice, error), 303)


def run_action(userid: str, action: Any, notice: Any) -> BaseResponse:
    """Check this token sees the account, run one operation, say what happened."""
    access = access_of(presented_token())
    if access is None or not access.sees(userid):
        return action_reply(
            userid, error="未登录或无权访问 not signed in for this account", status=404
        )
    try:
        record = ops.account(carrier(), userid)
        result = action(record)
    except AdminError as exc:
        return action_reply(userid, error=exc.message, status=exc.status)
    return action_reply(userid, notice=notice(result))


def run_server_action(action: Any, notice: Any) -> BaseResponse:
    """A server-wide change (defects, faults): the server-wide token only."""
    userid = request.form.get("account", "")
    access = access_of(presented_token())
    if access is None or not access.server:
        return action_reply(
            userid, error="需要服务器管理令牌 the server-wide admin token only", status=403
        )
    try:
        result = action()
    except AdminError as exc:
        return action_reply(userid, error=exc.message, status=exc.status)
    except faults.FaultError as exc:
        return action_reply(userid, error=str(exc), status=400)
    return action_reply(userid, notice=notice(result))


@bp.after_request
def security_headers(response: BaseResponse) -> BaseResponse:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


# ---------------------------------------------------------------- views


@bp.get("/")
def index() -> BaseResponse:
    if not wants_html():
        return jsonify(service_info())
    c = carrier()
    access = access_of(presented_token())
    if access is None:
        return login_page()
    view = build_view(c, access, request.args.get("account", ""), request.args.get("q", ""))
    regions = render_regions(view)
    signed_in = bool(request.cookies.get(COOKIE))
    html = render_template(
        "console/page.html",
        view=view,
        account=view.account,
        regions=regions,
        live=live_payload(regions),
        notice=request.args.get("notice", ""),
        error=request.args.get("error", ""),
        can_sign_in=token_required(c.settings.admin_token, [r.config for r in c.store.accounts()]),
        results=[(int(code), zh, en) for code, (zh, en) in RESULT_TEXTS.items() if code],
        endpoints=list(ENDPOINTS),
        fault_actions=faults.ENDPOINT_ACTIONS + faults.PUSH_ACTIONS,
        signed_in=signed_in,
    )
    response = Response(html)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/console/live")
def live() -> BaseResponse:
    """The regions of the page, with their hashes; 204 when version v is still current."""
    access = access_of(presented_token())
    if access is None:
        return Response(status=401)
    view = build_view(carrier(), access, request.args.get("account", ""), request.args.get("q", ""))
    payload = live_payload(render_regions(view))
    if request.args.get("v") == payload["version"]:
        return Response(status=204)
    response = jsonify(payload)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/console/login")
def login() -> BaseResponse:
    token = request.form.get("token", "").strip()
    if not token or access_of(token) is None:
        return login_page("令牌错误 wrong token")
    response = redirect(url_for("console.index"), 303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/")
    return response


@bp.post("/console/logout")
def logout() -> BaseResponse:
    response = redirect(url_for("console.index"), 303)
    response.delete_cookie(COOKIE, path="/")
    return response


@bp.post("/console/<userid>/reply")
def reply(userid: str) -> BaseResponse:
    """A reply from a phone: the admin API's inject_mo."""
    form = {k: request.form.get(k, "") for k in ("mobile", "content", "exno")}
    return run_action(
        userid,
        lambda record: ops.inject_mo(carrier(), record, form),
        lambda mo: f"已回复 replied from {mo['mobile']} (MO msgid {mo['msgid']})",
    )


@bp.post("/console/<userid>/topup")
def top_up(userid: str) -> BaseResponse:
    form = {k: request.form.get(k, "") for k in ("count", "money")}
    return run_action(
        userid,
        lambda record: ops.top_up(carrier(), record, form),
        lambda view: f"已充值 topped up: balance {view['balance']}, money {view['money']}",
    )


@bp.post("/console/<userid>/reset")
def reset(userid: str) -> BaseResponse:
    return run_action(
        userid,
        lambda record: ops.reset(carrier(), record),
        lambda view: f"已重置 account {view['userid']} reset",
    )


@bp.post("/console/<userid>/messages/<int(signed=True):msgid>/fate")
def mark(userid: str, msgid: int) -> BaseResponse:
    """Mark a message failed or delayed: the admin API's messages/<msgid>/fate."""
    form = {k: request.form.get(k, "") for k in ("fate", "errcode", "seconds")}
    return run_action(
        userid,
        lambda record: ops.mark_message(carrier(), record, msgid, form),
        lambda row: f"已更改 message {row['msgid']}: {form['fate']}",
    )


@bp.post("/console/<userid>/push/retry")
def push_retry(userid: str) -> BaseResponse:
    """Clear the push backoff: the admin API's push/retry."""
    return run_action(
        userid,
        lambda record: pusher.retry_now(carrier(), record.userid),
        lambda _: "已重试推送 push retried now",
    )


@bp.post("/console/defects/<name>")
def defect(name: str) -> BaseResponse:
    """Switch a defect mode on (on=1) or off: POST / DELETE /__admin/defects/<name>."""
    on = request.form.get("on") == "1"
    return run_server_action(
        lambda: ops.switch_defect(carrier(), name, on),
        lambda _: f"缺陷模式 defect mode {name}: {'开 on' if on else '关 off'}",
    )


@bp.post("/console/faults")
def add_fault() -> BaseResponse:
    """A forced error: POST /__admin/faults."""
    rule = fault_rule(request.form.to_dict(), request.form.get("account", ""))
    return run_server_action(
        lambda: faults.add(carrier().store, rule),
        lambda added: f"已添加故障 fault {added['id']}: {added['action']} on {added['endpoint']}",
    )


@bp.post("/console/faults/<int:fault_id>/delete")
def delete_fault(fault_id: int) -> BaseResponse:
    """DELETE /__admin/faults/<id>."""
    return run_server_action(
        lambda: ops.delete_fault(carrier(), fault_id),
        lambda _: f"已删除故障 fault {fault_id} deleted",
    )
