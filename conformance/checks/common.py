"""What several check modules share: reading answers, judging findings and refusals,
filing what a hand-made pull took, and arranging MOs. Check modules import these from
here, never from each other (each check stands alone, issue 15 item 11)."""

from __future__ import annotations

import secrets
import string
import sys
import time
from collections.abc import Iterator
from typing import Any

import requests

from smsapi.client import Exchange, SendResult
from smsapi.codec import Format, parse_answer
from smsapi.endpoints import ENDPOINTS, MAX_MULTI_ITEMS
from smsapi.errors import CodecError, Result, result_text
from smsapi.segments import SINGLE_SEGMENT_CHARS

from ..context import MO, RunContext
from ..ledger import Outgoing
from ..outcomes import CheckFailed, Inconclusive
from ..shapes import Finding, answer_findings

# ---------------------------------------------------------------- answers


def try_parse(exchange: Exchange) -> dict | None:
    try:
        return parse_answer(exchange.answer_body, exchange.answer_headers.get("Content-Type"))
    except CodecError:
        return None


def parse(exchange: Exchange) -> dict:
    try:
        return parse_answer(exchange.answer_body, exchange.answer_headers.get("Content-Type"))
    except CodecError as exc:
        raise CheckFailed("a readable answer", str(exc), exchange) from None


def summary(exchange: Exchange) -> str:
    return f"HTTP {exchange.status} {exchange.answer_body[:160].decode('utf-8', 'replace')}"


def is_acceptance(answer: dict[str, Any] | None) -> bool:
    """An answer saying result 0, in whatever form it came (0, "0", " 0 ")."""
    if not answer:
        return False
    return str(answer.get("result", "")).strip() == "0"


def unknown_userid() -> str:
    """A userid no carrier has: each request its own, so none reaches a lockout (A7)."""
    return "Q" + "".join(secrets.choice(string.ascii_uppercase) for _ in range(5))


# ---------------------------------------------------------------- verdicts


def judge(
    ctx: RunContext, findings: list[Finding], expected: str, exchange: Exchange | None
) -> None:
    """Fail on the first plain finding; profile-dependent ones fail (strict) or warn."""
    for finding in findings:
        if not finding.rows:
            raise CheckFailed(expected, finding.message, exchange)
    for finding in findings:
        ctx.deviation(finding.rows, expected, finding.message, exchange)


def expect_refusal(
    ctx: RunContext,
    sent: SendResult,
    what: str,
    code: Result | None = None,
    strict_code: bool = True,
) -> None:
    """Refused (an integer result ≠ 0) in the failure shape; with code, that §4 code (in
    the strict profile only when strict_code is False). An unreadable result fails."""
    ctx.judged("sends")
    if sent.result == 0:
        raise CheckFailed(f"{what} refused", f"accepted, msgid {sent.msgid}", sent.exchange)
    # the three send endpoints share one answer shape (§2.1.9, §2.2.9, §2.3.9)
    judge(ctx, answer_findings("single_send", sent.answer), "the failure shape", sent.exchange)
    ctx.detail("result", sent.result)
    if code is not None and sent.result != code:
        expected = f"{what}: result {int(code)} ({result_text(code, 'en')})"
        meaning = "no integer" if sent.result is None else result_text(sent.result, "en")
        got = f"result {sent.result} ({meaning})"
        if strict_code:
            raise CheckFailed(expected, got, sent.exchange)
        ctx.warn(f"expected {expected}; got {got}")


# ---------------------------------------------------------------- pulls


def file_pulled(ctx: RunContext, endpoint: str, answer: dict | None, exchange: Exchange) -> None:
    """Reports or MOs a pull made outside ctx.pull_reports / pull_mos took are the run's."""
    if not answer or answer.get("result") != 0:
        return
    for item in answer.get(ENDPOINTS[endpoint].list_field or "", None) or []:
        if isinstance(item, dict) and endpoint == "get_rpt":
            ctx.ledger.file(item, "pull", exchange)
        elif isinstance(item, dict):
            ctx.mos.append(MO(item, "pull", time.time(), exchange))


# ---------------------------------------------------------------- run-wide answers

NO_PHONE = "1380013800"  # ten digits: §3.2 refuses it, no phone has it
FAILURE_FIELDS: dict[str, dict[str, Any]] = {
    "single_send": {"mobile": NO_PHONE, "content": "%b2%e2%ca%d4%b6%cc%d0%c5"},
    "batch_send": {"mobile": NO_PHONE, "content": "%b2%e2%ca%d4%b6%cc%d0%c5"},
    "multi_send": {"multimt": [{"mobile": NO_PHONE, "content": "%b2%e2%ca%d4%b6%cc%d0%c5"}]},
}


def arrange_answers(ctx: RunContext) -> None:
    """The answers a run-wide answer check needs of its own, so that it judges alone
    (`--only`) as in a full run: get_balance and get_rpt in each format, get_mo, and a
    failure of each of the six endpoints (an unknown userid: no lockout, nothing sent)."""
    for fmt in Format:
        ctx.client(fmt).call("get_balance", {})
        ctx.pull_reports(fmt=fmt)
    ctx.pull_mos()
    for endpoint in ENDPOINTS:
        client = ctx.client(auth="md5", userid=unknown_userid(), password="wrong")
        client.call(endpoint, dict(FAILURE_FIELDS.get(endpoint, {})))


def run_answers(ctx: RunContext) -> Iterator[tuple[str, str, Exchange, dict[str, Any]]]:
    """Every readable answer of the six endpoints in the run so far (check id, endpoint,
    exchange, answer)."""
    for check_id, endpoint, exchange in list(ctx.exchanges):
        if endpoint not in ENDPOINTS:
            continue
        answer = try_parse(exchange)
        if answer is not None and "result" in answer:
            yield check_id, endpoint, exchange, answer


# ---------------------------------------------------------------- MOs

MO_TEXT = "收到 {tag}"  # what the injected (or asked-for) reply says


def inject_mos(ctx: RunContext, count: int) -> int:
    """Have the carrier receive count MOs from the first test mobile through its MO
    injection URL ([mo] inject_url, e.g. the mock's /__admin/accounts/<userid>/mo).
    Returns how many it took; 0 when no injection URL is configured."""
    cfg = ctx.config
    if not cfg.mo_inject_url or count <= 0:
        return 0
    headers = {"X-Admin-Token": cfg.mo_admin_token} if cfg.mo_admin_token else {}
    body = {
        "mobile": ctx.mobiles(1)[0],
        "content": MO_TEXT.format(tag=f"{ctx.current.check_id} {ctx.tag}"),
        "count": count,
    }
    try:
        response = ctx.session.post(
            cfg.mo_inject_url, json=body, headers=headers, timeout=cfg.request_timeout
        )
    except requests.RequestException as exc:
        raise Inconclusive(f"MO injection at {cfg.mo_inject_url} failed: {exc}") from None
    if response.status_code >= 300:
        raise Inconclusive(
            f"MO injection at {cfg.mo_inject_url} answered HTTP {response.status_code}: "
            f"{response.text[:160]} (check [mo] inject_url / admin_token)"
        )
    data = response.json() if response.content else {}
    return int(data.get("injected", 1)) if isinstance(data, dict) else 1


def arrange_mos(ctx: RunContext, count: int = 1) -> list[MO]:
    """At least count MOs for the running check, taken by get_mo (or pushed to the
    receiver): injected when the carrier can ([mo] inject_url), else asked of the operator
    (reply from a test phone) and waited for at most [timing] mo_wait seconds.
    Raises Inconclusive when none came."""
    cfg = ctx.config
    first = len(ctx.mos)
    injected = inject_mos(ctx, count)
    wait = cfg.mo_wait if not injected else max(cfg.mo_wait, cfg.report_timeout)
    if not injected and cfg.mo_wait > 0:
        # the operator must see this at once, whatever the output handlers buffer
        print(
            f">>> {ctx.current.check_id}: reply to the channel from a test phone "
            f"({', '.join(ctx.mobiles(3))}) now; waiting up to {cfg.mo_wait:.0f} s "
            f"for {count} MO(s)",
            file=sys.stderr,
            flush=True,
        )
    deadline = time.monotonic() + wait
    while True:
        pulled = ctx.pull_mos()
        if len(ctx.mos) - first >= count or time.monotonic() >= deadline:
            break
        if not pulled.items:
            time.sleep(cfg.poll_interval)
    mos = ctx.mos[first:]
    if not mos:
        raise Inconclusive(
            "no MO arrived: set [mo] inject_url (a carrier that can inject MOs, e.g. the mock's "
            "/__admin/accounts/<userid>/mo) or reply from a test phone within [timing] mo_wait"
        )
    return mos


def send_numbered(ctx: RunContext, count: int, why: str) -> None:
    """count short messages to the test mobiles, reports owed: multi_sends of up to 100
    (§2.3.1), each item's text numbered so that a carrier merging repeated numbers still
    owes each."""
    room = SINGLE_SEGMENT_CHARS - ctx.config.signature_length
    done = 0
    while done < count:
        size = min(count - done, MAX_MULTI_ITEMS)
        mobiles = ctx.mobiles(size, distinct=False)
        items = [Outgoing(m, f"{done + n:04d} {ctx.text()}"[:room]) for n, m in enumerate(mobiles)]
        ctx.expect_accepted(ctx.send_multi(items), f"multi_send of {size} items ({why})")
        done += size
