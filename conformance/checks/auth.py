"""auth: §3.1 md5 digest, apikey, plaintext, timestamps, repeated failures, addresses."""

from __future__ import annotations

import secrets
import time
from datetime import timedelta

from smsapi.auth import china_now, digest, format_timestamp
from smsapi.client import Exchange
from smsapi.codec import Format
from smsapi.errors import Result, result_text

from ..catalogue import Level, check
from ..context import RunContext
from ..outcomes import CheckFailed, NotApplicable
from ..shapes import answer_findings
from .common import judge, unknown_userid


def balance_with(ctx: RunContext, fields: dict[str, str]) -> tuple[dict, Exchange]:
    """get_balance with the given credential fields only (no client-made auth)."""
    client = ctx.client(Format.JSON)
    # this one client sends only the fields given: a deliberate override of the method
    client.auth_fields = lambda: {}  # type: ignore[method-assign]
    return client.call("get_balance", fields)


def expect_stranger_refused(ctx: RunContext, mode: str) -> None:
    """§3.1 an acceptance shows the credentials were checked only when a stranger in the
    same mode is refused: an unknown userid with the account's password (md5, plain), or
    a random apikey. Its failure counts against the stranger, never the account (A7)."""
    if mode == "apikey":
        client = ctx.client(auth="apikey", apikey=secrets.token_hex(16))
    else:
        client = ctx.client(auth=mode, userid=unknown_userid())
    answer, exchange = client.call("get_balance", {})
    if answer.get("result") != Result.AUTH_FAILED:
        raise CheckFailed(
            f"a stranger in {mode} mode refused with -100001 (acceptance must depend on "
            "the credentials)",
            f"result {answer.get('result')!r}",
            exchange,
        )
    ctx.judged("answers", 2)


def expect_refused(
    ctx: RunContext, answer: dict, exchange: Exchange, code: Result, what: str
) -> None:
    """Refused with this §4 code, in the endpoint's failure shape."""
    if answer.get("result") != code:
        raise CheckFailed(
            f"{what}: result {int(code)} ({result_text(code, 'en')})",
            f"result {answer.get('result')!r}",
            exchange,
        )
    judge(ctx, answer_findings("get_balance", answer), "the §2.6.9 failure shape", exchange)


def md5_fields(ctx: RunContext, timestamp: str, password: str | None = None) -> dict[str, str]:
    cfg = ctx.config
    return {
        "userid": cfg.userid,
        "pwd": digest(cfg.userid, cfg.password if password is None else password, timestamp),
        "timestamp": timestamp,
    }


@check(
    "AUTH-MD5-DIGEST",
    "§3.1",
    "auth",
    Level.MUST,
    "pwd = md5(userid + 00000000 + password + MMDDHHMMSS) with a fresh timestamp is accepted "
    "(and a stranger's refused)",
    interpretations=("A1", "A4"),
    needs=("md5",),
)
def md5_digest(ctx: RunContext) -> None:
    ctx.require_mode("md5")
    answer, exchange = ctx.client(auth="md5").call("get_balance", {})
    if answer.get("result") != 0:
        raise CheckFailed(
            "result 0 for a correct digest", f"result {answer.get('result')!r}", exchange
        )
    expect_stranger_refused(ctx, "md5")


@check(
    "AUTH-WRONG-DIGEST",
    "§3.1 §4",
    "auth",
    Level.MUST,
    "a wrong digest is refused with -100001 in the failure shape",
    needs=("md5",),
)
def wrong_digest(ctx: RunContext) -> None:
    ctx.require_mode("md5")
    with ctx.auth_failure("a wrong digest"):
        timestamp = format_timestamp(china_now())
        fields = md5_fields(ctx, timestamp, password="not-the-password")
        answer, exchange = balance_with(ctx, fields)
    expect_refused(ctx, answer, exchange, Result.AUTH_FAILED, "a wrong digest")


@check(
    "AUTH-MISSING-TIMESTAMP",
    "§3.1",
    "auth",
    Level.MUST,
    "an md5 pwd without its timestamp is refused (-100001): the digest needs it",
    interpretations=("A3",),
    needs=("md5",),
)
def missing_timestamp(ctx: RunContext) -> None:
    ctx.require_mode("md5")
    with ctx.auth_failure("a digest without timestamp"):
        fields = md5_fields(ctx, format_timestamp(china_now()))
        del fields["timestamp"]
        answer, exchange = balance_with(ctx, fields)
    expect_refused(ctx, answer, exchange, Result.AUTH_FAILED, "a digest without timestamp")


@check(
    "AUTH-STALE-TIMESTAMP",
    "§3.1",
    "auth",
    Level.SHOULD,
    "a correct digest over a timestamp far from now is refused (informative: tolerance)",
    interpretations=("A1",),
    needs=("md5",),
)
def stale_timestamp(ctx: RunContext) -> None:
    ctx.require_mode("md5")
    probe = ctx.config.timestamp_probe
    with ctx.auth_failure("a stale timestamp"):
        stale = format_timestamp(china_now() - timedelta(seconds=probe))
        answer, exchange = balance_with(ctx, md5_fields(ctx, stale))
    ctx.detail("probe_seconds", probe)
    if answer.get("result") == 0:
        ctx.detail("tolerance", f"accepts a timestamp {probe} s old")
        ctx.warn(
            f"a digest over a timestamp {probe} s old is accepted: replays stay valid", ("A1",)
        )
        return
    ctx.detail("tolerance", f"refuses a timestamp {probe} s old")
    expect_refused(ctx, answer, exchange, Result.AUTH_FAILED, "a stale timestamp")


@check(
    "AUTH-UNIX-TIMESTAMP",
    "§3.1",
    "auth",
    Level.SHOULD,
    "Unix seconds sent as timestamp are refused (strict: accepting is a warning)",
    interpretations=("A2",),
    needs=("md5",),
)
def unix_timestamp(ctx: RunContext) -> None:
    ctx.require_mode("md5")
    with ctx.auth_failure("a Unix-seconds timestamp"):
        answer, exchange = balance_with(ctx, md5_fields(ctx, str(int(time.time()))))
    accepted = answer.get("result") == 0
    ctx.detail("unix_timestamp", "accepted" if accepted else "refused")
    if accepted and ctx.strict:
        ctx.warn("Unix seconds accepted as the §3.1 MMDDHHMMSS timestamp", ("A2",))
    elif not accepted:
        expect_refused(ctx, answer, exchange, Result.AUTH_FAILED, "a Unix-seconds timestamp")


@check(
    "AUTH-APIKEY",
    "§3.1",
    "auth",
    Level.MUST,
    "apikey alone (no userid, no pwd) authenticates where the vendor enabled it (a random "
    "apikey does not)",
    interpretations=("A5",),
    needs=("apikey",),
)
def apikey(ctx: RunContext) -> None:
    ctx.require_mode("apikey")
    answer, exchange = ctx.client(auth="apikey").call("get_balance", {})
    if answer.get("result") != 0:
        raise CheckFailed("result 0 with the apikey", f"result {answer.get('result')!r}", exchange)
    expect_stranger_refused(ctx, "apikey")


@check(
    "AUTH-APIKEY-WRONG",
    "§3.1 §4",
    "auth",
    Level.MUST,
    "a wrong apikey is refused with -100001",
    needs=("apikey",),
)
def apikey_wrong(ctx: RunContext) -> None:
    ctx.require_mode("apikey")
    wrong = ("0" * 24 + ctx.tag + "00")[:32]
    answer, exchange = balance_with(ctx, {"apikey": wrong})
    expect_refused(ctx, answer, exchange, Result.AUTH_FAILED, "a wrong apikey")


@check(
    "AUTH-APIKEY-PRECEDENCE",
    "§3.1",
    "auth",
    Level.SHOULD,
    "apikey with userid and pwd as well: accepted or refused, reported (informative)",
    interpretations=("A6",),
    needs=("apikey",),
)
def apikey_precedence(ctx: RunContext) -> None:
    ctx.require_mode("apikey")
    fields = {"apikey": ctx.config.apikey, "userid": "QZ" + ctx.tag[:4].upper(), "pwd": "0" * 32}
    answer, exchange = balance_with(ctx, fields)
    ctx.detail("both_modes", "apikey wins" if answer.get("result") == 0 else "refused")
    if answer.get("result") not in (0, Result.AUTH_FAILED):
        raise CheckFailed("result 0 or -100001", f"result {answer.get('result')!r}", exchange)


@check(
    "AUTH-PLAIN",
    "§3.1",
    "auth",
    Level.MUST,
    "the plaintext password authenticates where the vendor enabled plaintext mode (a "
    "stranger's does not)",
    interpretations=("A5",),
    needs=("plain",),
)
def plain(ctx: RunContext) -> None:
    ctx.require_mode("plain")
    answer, exchange = ctx.client(auth="plain").call("get_balance", {})
    if answer.get("result") != 0:
        raise CheckFailed(
            "result 0 in plaintext mode", f"result {answer.get('result')!r}", exchange
        )
    expect_stranger_refused(ctx, "plain")


@check(
    "AUTH-LOCKOUT",
    "§4",
    "auth",
    Level.SHOULD,
    "repeated failures lead to -100002 (informative: after how many), answers in shape",
    interpretations=("A7",),
    needs=("account:lockout",),
)
def lockout(ctx: RunContext) -> None:
    account = ctx.config.account("lockout")
    if account is None:
        raise NotApplicable('no [[accounts]] role = "lockout" to sacrifice (A7)')
    client = ctx.client(auth="md5", userid=account.userid, password="wrong-" + ctx.tag)
    seen = []
    for attempt in range(1, ctx.config.lockout_attempts + 1):
        answer, exchange = client.call("get_balance", {})
        seen.append(answer.get("result"))
        judge(ctx, answer_findings("get_balance", answer), "the §2.6.9 failure shape", exchange)
        if answer.get("result") == Result.AUTH_LOCKED:
            ctx.detail("locked_after", attempt - 1)
            break
        if answer.get("result") != Result.AUTH_FAILED:
            raise CheckFailed("-100001 or -100002", f"result {answer.get('result')!r}", exchange)
    else:
        ctx.detail("locked_after", None)
        ctx.warn(f"no -100002 after {len(seen)} failures", ("A7",))
    ctx.detail("results", seen)


@check(
    "AUTH-IP-ALLOWLIST",
    "§4",
    "auth",
    Level.MUST,
    "an account restricted to other addresses is refused with -100057",
    interpretations=("A8",),
    needs=("account:ip_restricted",),
)
def ip_allowlist(ctx: RunContext) -> None:
    account = ctx.config.account("ip_restricted")
    if account is None:
        raise NotApplicable('no [[accounts]] role = "ip_restricted" configured (A8)')
    client = ctx.client(auth="md5", userid=account.userid, password=account.password)
    answer, exchange = client.call("get_balance", {})
    expect_refused(
        ctx, answer, exchange, Result.IP_NOT_ALLOWED, "an address outside the allow-list"
    )
