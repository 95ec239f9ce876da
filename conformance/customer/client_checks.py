"""client: checks of a customer's requests to a carrier, recorded by `conformance proxy`.

Each check reads every recorded request and fails on the first rule broken, naming how
many requests broke it, with up to three of them as replayable curl commands.
"""

from __future__ import annotations

from dataclasses import dataclass

import schemas
from smsapi.auth import (
    digest,
    looks_like_unix_time,
    resolve_timestamp,
    secrets_equal,
    timestamp_skew,
)
from smsapi.codec import FORM_MEDIA, JSON_MEDIA, XML_MEDIA, media_type_of
from smsapi.content import decode_mt_content, lost_text_issue, mt_content_issues
from smsapi.endpoints import ENDPOINTS, MAX_BATCH_MOBILES, MAX_MULTI_ITEMS
from smsapi.fields import (
    EXNO_RE,
    custom_field_rule,
    int_value,
    svrtype_rule,
    text_value,
    userid_rule,
)
from smsapi.mobile import classify, split_mobiles
from smsapi.segments import leaves_signature_room

from ..catalogue import Level, check
from ..outcomes import CheckFailed, CheckSkipped, NotApplicable
from .cadence import lagging_after_data, too_soon_after_empty
from .traffic import ProxyContext, Request

REQUEST_MEDIA = (JSON_MEDIA, XML_MEDIA, "text/xml", FORM_MEDIA)  # §2.1.4, C2
UTC_OFFSET = 8 * 3600  # A1: a timestamp in UTC wall-clock time is 8 h behind China time
STALE_TIMESTAMP = 60.0  # W4: seconds after which a timestamp was not made for its request


@dataclass(frozen=True)
class RequestFinding:
    """What is wrong with one recorded request of the customer's client."""

    req: Request
    why: str
    rows: tuple[str, ...] = ()  # interpretation rows: strict fails, lenient warns


def recorded(ctx: ProxyContext, *endpoints: str) -> list[Request]:
    found = ctx.requests(*endpoints)
    if not found:
        names = ", ".join(endpoints) if endpoints else "the six endpoints"
        raise CheckSkipped(f"no request to {names} was recorded")
    return found


def verdict(ctx: ProxyContext, findings: list[RequestFinding], judged: int, expected: str) -> None:
    """Fail on the plain findings; deviations fail (strict) or warn (lenient)."""
    ctx.detail("requests_judged", judged)
    ctx.judged("requests", judged)  # no green without evidence (runner)
    plain = [f for f in findings if not f.rows]
    chosen = plain or findings
    if not chosen:
        return
    got = f"{len(chosen)} of {judged} request(s): {chosen[0].why}"
    details = {
        "offenders": [
            {"request": f.req.rec.index, "endpoint": f.req.endpoint, "why": f.why}
            | ({"interpretations": list(f.rows)} if f.rows else {})
            for f in (plain + [f for f in findings if f.rows])[:20]
        ]
    }
    exchanges = [f.req.rec.exchange() for f in chosen[:3]]
    if plain:
        raise CheckFailed(expected, got, exchanges, details=details)
    rows = tuple(dict.fromkeys(r for f in chosen for r in f.rows))
    ctx.deviation(rows, expected, got, exchanges, details)


# ---------------------------------------------------------------- the request itself


@check(
    "CLIENT-ENDPOINT",
    "§2.1.2–§2.6.3",
    "client",
    Level.MUST,
    "every request is a POST to http://ip:port/sms/v2/std/<one of the six endpoints>",
)
def endpoint_and_method(ctx: ProxyContext) -> None:
    traffic = ctx.traffic()
    if not traffic:
        raise CheckSkipped("no request was recorded")
    bad = [r for r in traffic if r.endpoint is None or r.method != "POST"]
    ctx.detail("requests_judged", len(traffic))
    ctx.judged("requests", len(traffic))
    if bad:
        raise CheckFailed(
            "POST /sms/v2/std/single_send, batch_send, multi_send, get_mo, get_rpt or get_balance",
            f"{len(bad)} of {len(traffic)} request(s), e.g. {bad[0].method} {bad[0].path}",
            [r.exchange() for r in bad[:3]],
        )


@check(
    "CLIENT-CONTENT-TYPE",
    "§2.1.4",
    "client",
    Level.MUST,
    "every request names its format: application/json, application/xml (text/xml) or "
    "application/x-www-form-urlencoded",
    interpretations=("C2",),
)
def content_type(ctx: ProxyContext) -> None:
    reqs = recorded(ctx)
    findings = [
        RequestFinding(r, f"Content-Type {r.rec.content_type!r}")
        for r in reqs
        if media_type_of(r.rec.content_type) not in REQUEST_MEDIA
    ]
    verdict(ctx, findings, len(reqs), "one of the three Content-Types (用Content-type识别格式)")


@check(
    "CLIENT-SCHEMA",
    "§2.1.5–§2.6.5",
    "client",
    Level.MUST,
    "every request is valid against its schema (schemas/: JSON Schema, XSD, strict form)",
    interpretations=("U9",),
)
def schema(ctx: ProxyContext) -> None:
    reqs = recorded(ctx)
    findings = []
    for r in reqs:
        if media_type_of(r.rec.content_type) not in REQUEST_MEDIA:
            continue  # CLIENT-CONTENT-TYPE names it
        found = schemas.request_errors(r.endpoint, r.rec.request_body, r.rec.content_type)
        if found:
            findings.append(RequestFinding(r, "; ".join(found[:3]), ("U9",)))
    verdict(ctx, findings, len(reqs), "a request valid against the schema of its endpoint")


@check(
    "CLIENT-BODY-READABLE",
    "§2.1.4 §2.1.7",
    "client",
    Level.MUST,
    "every body reads as its format says: JSON in UTF-8 (or the charset it names), "
    "well-formed XML, a form",
    interpretations=("W1", "C14"),
)
def body_readable(ctx: ProxyContext) -> None:
    reqs = recorded(ctx)
    findings = [
        RequestFinding(r, f"unreadable: {r.unreadable[:160]}") for r in reqs if r.unreadable
    ]
    findings += [RequestFinding(r, "; ".join(r.notes), ("W1",)) for r in reqs if r.notes]
    verdict(ctx, findings, len(reqs), "a body a carrier reads without guessing")


# ---------------------------------------------------------------- §3.1 authentication


@check(
    "CLIENT-DIGEST",
    "§3.1",
    "client",
    Level.MUST,
    "md5 mode: pwd = md5(userid + 00000000 + password + timestamp) in lower-case hex, "
    "with the timestamp it was made from",
    interpretations=("A3", "A4"),
)
def digest_rule(ctx: ProxyContext) -> None:
    reqs = recorded(ctx)
    findings, judged = [], 0
    for r in reqs:
        userid, pwd, timestamp = r.text("userid"), r.text("pwd"), r.text("timestamp")
        if r.fields is None or not userid:
            continue  # unreadable (CLIENT-SCHEMA) or apikey mode
        password = ctx.settings.password_for(userid)
        if password is None:
            continue
        judged += 1
        if not timestamp:
            if not secrets_equal(pwd, password):  # plaintext mode: CLIENT-PLAINTEXT
                findings.append(RequestFinding(r, "md5 mode without a timestamp (A3)"))
            continue
        expected = digest(userid, password, timestamp)
        if secrets_equal(pwd, expected):
            continue
        if secrets_equal(pwd.lower(), expected):
            findings.append(
                RequestFinding(r, "the digest in upper-case hex (定长小写32位)", ("A4",))
            )
        elif secrets_equal(pwd.lower(), digest(userid.upper(), password, timestamp)):
            findings.append(
                RequestFinding(
                    r, f"userid {userid!r} sent, the digest made over the upper case", ("A4",)
                )
            )
        elif secrets_equal(pwd, password):
            findings.append(RequestFinding(r, "the plain password sent with a timestamp"))
        else:
            findings.append(
                RequestFinding(
                    r,
                    f"pwd {pwd[:40]!r} is not the digest of userid {userid!r} + 00000000 + "
                    f"password + timestamp {timestamp!r}",
                )
            )
    if not judged:
        whose = f" of userid {ctx.settings.userid}" if ctx.settings.userid else ""
        raise NotApplicable(
            f"no request{whose} to judge: give --password (and --userid) to check the digest"
            if not ctx.settings.password
            else f"no request{whose} in userid + pwd mode was recorded"
        )
    verdict(ctx, findings, judged, "the §3.1 digest (26dad7f3… for J10003/111111/0803192020)")


@check(
    "CLIENT-PLAINTEXT",
    "§3.1",
    "client",
    Level.SHOULD,
    "security: the password never travels in clear (plaintext mode, 需申请)",
)
def plaintext(ctx: ProxyContext) -> None:
    reqs = recorded(ctx)
    findings = []
    for r in reqs:
        userid, pwd = r.text("userid"), r.text("pwd")
        password = ctx.settings.password_for(userid) if userid else None
        if userid and pwd and not r.text("timestamp"):
            findings.append(RequestFinding(r, "userid + pwd without a timestamp: plaintext mode"))
        elif password is not None and pwd and secrets_equal(pwd, password):
            findings.append(RequestFinding(r, "pwd is the plain password"))
    if findings:
        ctx.detail("finding", "security")
    verdict(ctx, findings, len(reqs), "the md5 digest (or an apikey), never the password")


@check(
    "CLIENT-TIMESTAMP-FORMAT",
    "§3.1",
    "client",
    Level.MUST,
    "timestamp is MMDDHHMMSS: 10 digits, a real month, day and 24-hour time, zero padded",
    interpretations=("A2",),
)
def timestamp_format(ctx: ProxyContext) -> None:
    reqs = [r for r in recorded(ctx) if r.text("timestamp")]
    if not reqs:
        raise CheckSkipped("no request carried a timestamp")
    findings = []
    for r in reqs:
        timestamp = r.text("timestamp")
        if resolve_timestamp(timestamp, r.moment) is None:
            hint = " (Unix seconds, A2)" if looks_like_unix_time(timestamp, r.moment) else ""
            findings.append(RequestFinding(r, f"timestamp {timestamp!r} is not MMDDHHMMSS{hint}"))
    verdict(ctx, findings, len(reqs), "a timestamp like 0803192020 (8 March 19:20:20)")


@check(
    "CLIENT-TIMESTAMP-FRESH",
    "§3.1",
    "client",
    Level.MUST,
    "timestamp is the time of sending in China time (时间戳请填写发送时动态的准确时间)",
    interpretations=("A1", "U6", "W4"),
)
def timestamp_fresh(ctx: ProxyContext) -> None:
    reqs = [r for r in recorded(ctx) if resolve_timestamp(r.text("timestamp"), r.moment)]
    if not reqs:
        raise CheckSkipped("no request carried a readable timestamp")
    tolerance = ctx.settings.timestamp_tolerance
    findings = []
    for r in reqs:
        skew = timestamp_skew(r.text("timestamp"), r.moment) or 0.0
        if abs(skew) <= tolerance:
            if skew < -STALE_TIMESTAMP:
                why = f"timestamp {r.text('timestamp')} is {-skew:.0f} s old: a digest reused"
                findings.append(RequestFinding(r, f"{why} past its timestamp (W4)", ("W4",)))
            continue
        if abs(skew + UTC_OFFSET) <= tolerance:
            findings.append(
                RequestFinding(r, f"timestamp {r.text('timestamp')} is UTC time", ("A1",))
            )
        else:
            findings.append(
                RequestFinding(
                    r, f"timestamp {r.text('timestamp')} is {skew:+.0f} s off China time"
                )
            )
    verdict(ctx, findings, len(reqs), f"a timestamp within {tolerance:g} s of China time")


# ---------------------------------------------------------------- fields


@check(
    "CLIENT-CONTENT-GBK",
    "§2.1.5",
    "client",
    Level.MUST,
    "content is the text in GBK, urlencoded (urlencode（GBK明文）); not UTF-8, not raw",
    interpretations=("C7", "U7", "W3"),
)
def content_gbk(ctx: ProxyContext) -> None:
    reqs = recorded(ctx, "single_send", "batch_send", "multi_send")
    findings = []
    for r in reqs:
        for where, value in contents(r):
            issues = mt_content_issues(value)
            if issues:
                findings.append(RequestFinding(r, f"{where}{value[:40]!r}: {'; '.join(issues)}"))
            elif lost_text_issue(decode_mt_content(value).text):
                lost = lost_text_issue(decode_mt_content(value).text)
                findings.append(RequestFinding(r, f"{where}{value[:40]!r}: {lost}", ("W3",)))
    verdict(ctx, findings, len(reqs), "content such as %b2%e2%ca%d4%b6%cc%d0%c5 (测试短信)")


def contents(r: Request) -> list[tuple[str, str]]:
    """(where, urlencoded content) of a send request."""
    fields = r.fields or {}
    if r.endpoint != "multi_send":
        return [("content ", text_value(fields.get("content")))]
    items = fields.get("multimt")
    if not isinstance(items, list):
        return []
    return [
        (f"multimt[{i}].content ", text_value(item.get("content")))
        for i, item in enumerate(items)
        if isinstance(item, dict)
    ]


@check(
    "CLIENT-FIELDS",
    "§2.1.5 §3.2",
    "client",
    Level.MUST,
    "field rules: userid, numbers (§3.2, ≤ 1000 a batch, 1 single), ≤ 100 multimt, "
    "custid/exdata, svrtype, exno, content ≤ 990 characters",
    interpretations=("F2b", "F10", "A4"),
)
def field_rules(ctx: ProxyContext) -> None:
    reqs = recorded(ctx)
    findings = []
    for r in reqs:
        if r.fields is None:
            continue  # unreadable: CLIENT-SCHEMA
        findings += [RequestFinding(r, why, rows) for why, rows in field_problems(r)]
    verdict(ctx, findings, len(reqs), "every field within the document's rules")


def field_problems(r: Request) -> list[tuple[str, tuple[str, ...]]]:
    fields = r.fields or {}
    out: list[tuple[str, tuple[str, ...]]] = []
    userid = r.text("userid")
    if userid and not userid_rule(userid):
        out.append((f"userid {userid!r} longer than 6 characters", ()))
    elif userid != userid.upper():
        out.append((f"userid {userid!r} not in upper case (统一大写)", ("A4",)))
    if r.endpoint == "multi_send":
        items = fields.get("multimt")
        if not isinstance(items, list) or not items:
            return [*out, ("multimt is not a list of messages", ())]
        if len(items) > MAX_MULTI_ITEMS:
            out.append((f"{len(items)} multimt items, over {MAX_MULTI_ITEMS}", ()))
        for i, item in enumerate(i for i in items if isinstance(i, dict)):
            out += [
                (f"multimt[{i}]: {why}", rows) for why, rows in message_problems(item, single=True)
            ]
    elif r.endpoint in ("single_send", "batch_send"):
        out += message_problems(fields, single=r.endpoint == "single_send")
    return out


def message_problems(fields: dict, single: bool) -> list[tuple[str, tuple[str, ...]]]:
    out: list[tuple[str, tuple[str, ...]]] = []
    numbers = [n for n in split_mobiles(text_value(fields.get("mobile"))) if n]
    if single and len(numbers) != 1:
        out.append((f"{len(numbers)} mobile numbers where one goes (§2.1.1)", ()))
    if len(numbers) > MAX_BATCH_MOBILES:
        out.append((f"{len(numbers)} mobile numbers, over {MAX_BATCH_MOBILES} (-100014)", ()))
    invalid = [n for n in numbers if not classify(n).valid]
    if invalid:
        out.append((f"mobile {invalid[0]!r} is not a §3.2 number", ()))
    for name in ("custid", "exdata"):
        code = custom_field_rule(text_value(fields.get(name)))
        if code is not None:
            out.append((f"{name} {text_value(fields.get(name))[:70]!r} ({int(code)})", ()))
    svrtype = text_value(fields.get("svrtype"))
    if svrtype_rule(svrtype) is not None:
        out.append((f"svrtype {svrtype!r} (-100252)", ()))
    exno = text_value(fields.get("exno"))
    if not EXNO_RE.match(exno):
        out.append((f"exno {exno!r}: at most 6 digits, else ignored", ("F10",)))
    content = text_value(fields.get("content"))
    if not content:
        out.append(("content empty or missing", ()))
    elif not leaves_signature_room(decode_mt_content(content).text):
        chars = len(decode_mt_content(content).text)
        out.append((f"content of {chars} characters: over 990 (预留至少10个字符的签名长度)", ()))
    return out


@check(
    "CLIENT-RETSIZE",
    "§2.4.5 §2.5.5",
    "client",
    Level.SHOULD,
    "retsize, when given, is an integer of at most 200 (get_mo) / 500 (get_rpt)",
    interpretations=("F14", "U8"),
)
def retsize(ctx: ProxyContext) -> None:
    reqs = recorded(ctx, "get_mo", "get_rpt")
    findings = []
    for r in reqs:
        raw = (r.fields or {}).get("retsize")
        if raw in (None, ""):
            continue
        value, cap = int_value(raw), ENDPOINTS[r.endpoint].retsize_cap or 0
        if value is None:
            findings.append(RequestFinding(r, f"retsize {raw!r} is not an integer"))
        elif value > cap:
            findings.append(RequestFinding(r, f"retsize {value} over the cap {cap}", ("U8",)))
    verdict(ctx, findings, len(reqs), "retsize ≤ 200 for get_mo, ≤ 500 for get_rpt")


# ---------------------------------------------------------------- §2.4.1 / §2.5.1 cadence


@check(
    "CLIENT-POLL-DRAIN",
    "§2.4.1 §2.5.1",
    "client",
    Level.SHOULD,
    "while get_mo / get_rpt bring data, the next request follows at once (需要一直获取)",
    interpretations=("U5",),
)
def poll_drain(ctx: ProxyContext) -> None:
    polls = ctx.polls()
    if not polls:
        raise CheckSkipped("no get_mo / get_rpt answered by the carrier was recorded")
    follow = ctx.settings.poll_follow
    late = lagging_after_data(polls, follow)
    ctx.detail("polls", len(polls))
    ctx.judged("polls", len(polls))
    if late:
        gap = max(late, key=lambda g: g.seconds)
        raise CheckFailed(
            f"the next poll within {follow:g} s of an answer with data",
            f"{len(late)} poll(s) later, e.g. {gap.seconds:.1f} s after {gap.before.items} "
            f"item(s) of {gap.before.ref.endpoint}",
            [gap.before.ref.rec.exchange(), gap.after.ref.rec.exchange()],
            details={"late": [round(g.seconds, 2) for g in late[:20]]},
        )


@check(
    "CLIENT-POLL-WAIT",
    "§2.4.1 §2.5.1",
    "client",
    Level.SHOULD,
    "after an empty get_mo / get_rpt answer, the next request waits 5 s (延时5秒)",
    interpretations=("U5",),
)
def poll_wait(ctx: ProxyContext) -> None:
    polls = ctx.polls()
    if not polls:
        raise CheckSkipped("no get_mo / get_rpt answered by the carrier was recorded")
    wait, slack = ctx.settings.poll_wait, ctx.settings.poll_slack
    early = too_soon_after_empty(polls, wait, slack)
    ctx.detail("polls", len(polls))
    ctx.judged("polls", len(polls))
    if early:
        gap = min(early, key=lambda g: g.seconds)
        raise CheckFailed(
            f"at least {wait:g} s between an empty answer and the next poll",
            f"{len(early)} poll(s) sooner, e.g. {gap.seconds:.2f} s after an empty "
            f"{gap.before.ref.endpoint}",
            [gap.before.ref.rec.exchange(), gap.after.ref.rec.exchange()],
            details={"early": [round(g.seconds, 3) for g in early[:20]]},
        )
