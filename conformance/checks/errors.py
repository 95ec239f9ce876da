"""errors: §4 result codes, always in the endpoint's failure shape (§2.x.9), HTTP 200."""

from __future__ import annotations

from typing import Any

from smsapi.codec import Format
from smsapi.endpoints import ENDPOINTS, SEND_ENDPOINTS
from smsapi.errors import Result, result_text

from ..catalogue import Level, check
from ..context import RunContext
from ..outcomes import CheckFailed, NotApplicable
from ..shapes import answer_findings
from .common import arrange_answers, judge, run_answers, unknown_userid

SEND_FIELDS = {"mobile": "", "content": "%b2%e2%ca%d4%b6%cc%d0%c5"}


@check(
    "ERR-AUTH-SHAPE",
    "§2.x.9 §4",
    "errors",
    Level.MUST,
    "wrong credentials on each endpoint in each format: -100001 in the failure shape",
)
def auth_failure_shapes(ctx: RunContext) -> None:
    for endpoint in ENDPOINTS:
        for fmt in Format:
            client = ctx.client(fmt, auth="md5", userid=unknown_userid(), password="wrong")
            fields: dict[str, Any] = (
                dict(SEND_FIELDS, mobile=ctx.mobiles(1)[0]) if endpoint in SEND_ENDPOINTS else {}
            )
            if endpoint == "multi_send":
                fields = {"multimt": [fields]}
            answer, exchange = client.call(endpoint, fields)
            ctx.judged("answers")
            if answer.get("result") != Result.AUTH_FAILED:
                raise CheckFailed(
                    f"{endpoint} in {fmt.value} with an unknown userid: result -100001",
                    f"result {answer.get('result')!r}",
                    exchange,
                )
            judge(ctx, answer_findings(endpoint, answer), f"the {endpoint} failure shape", exchange)


@check(
    "ERR-ARREARS",
    "§4",
    "errors",
    Level.MUST,
    "an account without balance is refused with -100003, nothing sent",
    cost=1,
    interpretations=("F15",),
    needs=("account:arrears",),
)
def arrears(ctx: RunContext) -> None:
    account = ctx.config.account("arrears")
    if account is None:
        raise NotApplicable('no [[accounts]] role = "arrears" configured (F15)')
    client = ctx.client(userid=account.userid, password=account.password)
    balance = client.get_balance()
    fields = {"mobile": ctx.mobiles(1)[0], "content": SEND_FIELDS["content"]}
    reserved = ctx.budget.reserve(1, "arrears")
    answer, exchange = client.call("single_send", fields)
    ctx.budget.settle(reserved, 1 if answer.get("result") == 0 else 0)
    ctx.judged("answers")
    ctx.detail("balance", balance.answer)
    if answer.get("result") != Result.ARREARS:
        raise CheckFailed(
            f"result -100003 ({result_text(Result.ARREARS, 'en')})",
            f"result {answer.get('result')!r}",
            exchange,
        )
    judge(ctx, answer_findings("single_send", answer), "the §2.1.9 failure shape", exchange)


@check(
    "ERR-FAILURE-SHAPE",
    "§2.x.9",
    "errors",
    Level.MUST,
    'every failure answer of the run keeps its endpoint\'s shape (msgid 0, custid ""...)',
    interpretations=("C10",),
    final=True,
)
def failure_shapes(ctx: RunContext) -> None:
    arrange_answers(ctx)
    seen = 0
    for _, endpoint, exchange, answer in run_answers(ctx):
        if answer.get("result") in (0, "0"):
            continue
        seen += 1
        judge(ctx, answer_findings(endpoint, answer), f"the {endpoint} failure shape", exchange)
    ctx.require_evidence("answers", seen, "no failure answer came in this run")
    ctx.detail("failure_answers", seen)


NO_REFUSAL = (
    "no answer of the run was a refusal, not even to the deliberate unknown-userid "
    "requests: no failure answer to judge (the checks that expect refusals fail for it)"
)


@check(
    "ERR-CODES-DEFINED",
    "§4",
    "errors",
    Level.MUST,
    "every result code of the run is 0 or a code of the §4 table",
    final=True,
)
def codes_defined(ctx: RunContext) -> None:
    arrange_answers(ctx)
    codes: dict[str, int] = {}
    defined = {int(r) for r in Result}
    refusals = 0
    for _, _, exchange, answer in run_answers(ctx):
        ctx.judged("answers")
        code = answer.get("result")
        codes[str(code)] = codes.get(str(code), 0) + 1
        if code not in defined:
            raise CheckFailed("a §4 result code", f"result {code!r}", exchange)
        refusals += code != 0
    ctx.detail("codes", codes)
    # The rule is about the codes of failures: a run without one has nothing to judge.
    ctx.require_evidence("refusals", refusals, NO_REFUSAL)


@check(
    "ERR-HTTP-200",
    "§2.x.8",
    "errors",
    Level.MUST,
    "every protocol answer, failures included, comes with HTTP 200",
    interpretations=("M10",),
    final=True,
)
def http_200(ctx: RunContext) -> None:
    arrange_answers(ctx)
    refusals = 0
    for check_id, _, exchange, answer in run_answers(ctx):
        if check_id.startswith("ROB-"):
            continue  # hostile bodies may get 4xx (C15)
        ctx.judged("answers")
        if exchange.status != 200:
            raise CheckFailed("HTTP 200 for a protocol answer", f"HTTP {exchange.status}", exchange)
        refusals += answer.get("result") != 0
    ctx.require_evidence("refusals", refusals, NO_REFUSAL)  # "failures included"
