"""What the carrier does for each endpoint: plain functions over a Context, no Flask.

Each handler returns the answer dict in the document's shape; a Refusal carries the
§4 code of a request that is refused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from smsapi import answers
from smsapi.codec import CodecError, Format, parse_request
from smsapi.content import encode_mo_content, read_mt_content
from smsapi.endpoints import (
    ENDPOINTS,
    MAX_BATCH_MOBILES,
    MAX_MULTI_ITEMS,
    SEND_ENDPOINTS,
    effective_retsize,
)
from smsapi.errors import Result
from smsapi.fields import (
    TIME_FORMAT,
    custom_field_rule,
    effective_exno,
    int_value,
    spno,
    svrtype_rule,
    text_value,
)
from smsapi.mobile import MobileNumber, classify, split_mobiles
from smsapi.msgid import mobile_msgid
from smsapi.segments import content_too_long, segment_count

from . import control, faults, ids, seeding
from . import defects as defect_modes
from .auth import AuthOutcome, account_by_apikey, authenticate, timestamp_warnings
from .config import AccountConfig, Settings
from .delivery import Outcome, outcome_for, segment_latency
from .limits import ConcurrencyLimiter
from .store import Acceptance, AccountRecord, Arrears, Store, StoreError

log = logging.getLogger("mockcarrier")
FLAGGED_KEPT = 20
# C14: the start of X-Mock-Reason for a body that could not be read at all.
UNREADABLE = (
    "UNREADABLE BODY (not a password problem; -100001 only because no credentials could be read):"
)


class Refusal(Exception):
    def __init__(self, result: Result, reason: str) -> None:
        super().__init__(reason)
        self.result = result
        self.reason = reason


@dataclass
class Context:
    """One authenticated request."""

    store: Store
    settings: Settings
    account: AccountRecord
    auth_mode: str
    fmt: str
    now: datetime  # the carrier's clock (China time, offset applied)
    epoch: float  # real time, for due dates
    seed: int
    defects: frozenset[str] = frozenset()  # active defect modes (mockcarrier.defects)
    magic: dict[str, Outcome] = field(default_factory=dict)  # the control plane's numbers
    warnings: list[str] = field(default_factory=list)  # the request's flags, on each message

    @property
    def cfg(self) -> AccountConfig:
        return self.account.config


@dataclass
class Item:
    """The message for one mobile, as requested and checked."""

    mobile: MobileNumber
    text: str
    custid: str = ""
    svrtype: str = ""
    exno: str = ""
    exdata: str = ""
    issues: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- field rules


def signed_text(text: str, signature: str) -> str:
    """The text as the phone shows it: the account's signature added unless the
    content already carries a 【…】 signature at its start or end."""
    if not signature:
        return text
    stripped = text.strip()
    has_own = (stripped.startswith("【") and "】" in stripped[:20]) or stripped.endswith("】")
    return text if has_own else signature + text


def checked_content(raw: Any, cfg: AccountConfig) -> tuple[str, list[str]]:
    """§2.1.5 content: present, urlencoded GBK, ≤ 1000 characters with the signature."""
    value = text_value(raw)
    if not value:
        raise Refusal(Result.CONTENT_TOO_LONG, "content missing or empty")
    decoded = read_mt_content(value)
    text = signed_text(decoded.text, cfg.signature)
    if content_too_long(text):
        raise Refusal(
            Result.CONTENT_TOO_LONG,
            f"content has {len(text)} characters with the signature, over 1000",
        )
    return text, decoded.issues


def checked_options(fields: dict[str, Any], cfg: AccountConfig) -> dict[str, str]:
    """§2.1.5 svrtype, exno, custid, exdata of one message (empty means absent)."""
    svrtype = text_value(fields.get("svrtype"))
    if svrtype_rule(svrtype):
        raise Refusal(Result.SVRTYPE_INVALID, f"svrtype {svrtype[:20]!r} invalid")
    out = {"svrtype": svrtype}
    for name in ("custid", "exdata"):
        value = text_value(fields.get(name))
        code = custom_field_rule(value)
        if code:
            raise Refusal(code, f"{name} {value[:80]!r} invalid")
        out[name] = value
    out["exno"] = effective_exno(text_value(fields.get("exno")), cfg.channel)
    return out


# ---------------------------------------------------------------- the six endpoints


def single_send(ctx: Context, fields: dict[str, Any]) -> dict[str, Any]:
    """§2.1 one content to one mobile; an invalid or second number → -100012."""
    raw = text_value(fields.get("mobile"))
    mobile = classify(raw)
    if not raw or "," in raw or not mobile.valid:
        raise Refusal(Result.MOBILE_INVALID, f"mobile {raw[:40]!r} invalid")
    text, issues = checked_content(fields.get("content"), ctx.cfg)
    options = checked_options(fields, ctx.cfg)
    raw_exno = text_value(fields.get("exno"))
    options["exno"] = defect_modes.exno_kept(ctx.defects, raw_exno, options["exno"])
    items = [Item(mobile, text, issues=issues, **options)]
    return accept(ctx, "single_send", items, text, options["custid"])


def batch_send(ctx: Context, fields: dict[str, Any]) -> dict[str, Any]:
    """§2.2 one content to up to 1000 mobiles; invalid numbers get failed reports."""
    raw = fields.get("mobile")
    if isinstance(raw, list):  # tolerated: a JSON array instead of a comma-separated string
        raw = ",".join(text_value(n) for n in raw)
    numbers = [n for n in split_mobiles(text_value(raw)) if n]
    if not numbers:
        raise Refusal(Result.MOBILE_INVALID, "no mobile")
    if len(numbers) > MAX_BATCH_MOBILES and "batch-limit-ignored" not in ctx.defects:
        raise Refusal(Result.TOO_MANY_MOBILES, f"{len(numbers)} mobiles, over 1000")
    text, issues = checked_content(fields.get("content"), ctx.cfg)
    options = checked_options(fields, ctx.cfg)
    items = [Item(classify(n), text, issues=issues, **options) for n in numbers]
    return accept(ctx, "batch_send", items, text, options["custid"])


def multi_send(ctx: Context, fields: dict[str, Any]) -> dict[str, Any]:
    """§2.3 up to 100 personalised messages; the answer's custid is the first item's."""
    multimt = fields.get("multimt")
    if not isinstance(multimt, list) or not multimt:
        raise Refusal(Result.MOBILE_INVALID, "multimt missing, empty or not a list")
    if len(multimt) > MAX_MULTI_ITEMS:
        raise Refusal(Result.TOO_MANY_MOBILES, f"{len(multimt)} multimt items, over 100")
    items = []
    for position, entry in enumerate(multimt, start=1):
        if not isinstance(entry, dict):
            raise Refusal(Result.MOBILE_INVALID, f"multimt item {position} is not an object")
        mobile = text_value(entry.get("mobile"))
        if not mobile:  # interpretations F6b: a missing field, not an invalid number
            raise Refusal(Result.MOBILE_INVALID, f"multimt item {position} has no mobile")
        text, issues = checked_content(entry.get("content"), ctx.cfg)
        options = checked_options(entry, ctx.cfg)
        items.append(Item(classify(mobile), text, issues=issues, **options))
    return accept(ctx, "multi_send", items, None, items[0].custid)


def get_mo(ctx: Context, fields: dict[str, Any]) -> dict[str, Any]:
    """§2.4 MOs in arrival order, each once; content urlencoded UTF-8 (§2.4.6). None
    while MOs are pushed (docs/push.md)."""
    if ctx.cfg.pull_blocked("mo"):
        return answers.mo_answer(Result.OK, [])
    retsize = int_value(fields.get("retsize"))
    capped = effective_retsize(retsize, ENDPOINTS["get_mo"].retsize_cap)
    limit = defect_modes.pull_limit(ctx.defects, retsize, capped)
    rows = ctx.store.take_mos(ctx.cfg.userid, ctx.epoch, limit)
    return answers.mo_answer(Result.OK, mo_items(rows, ctx.cfg.mo_charset))


def mo_items(rows: list[dict[str, Any]], charset: str) -> list[dict[str, Any]]:
    """§2.4.6 / §2.7.3 MOs as the carrier writes them, content urlencoded in charset."""
    return [
        {
            **{k: row[k] for k in ("msgid", "mobile", "spno", "exno", "rtime")},
            "content": encode_mo_content(row["text"], charset),
        }
        for row in rows
    ]


def get_rpt(ctx: Context, fields: dict[str, Any]) -> dict[str, Any]:
    """§2.5 due reports, oldest first, each once. None while reports are pushed."""
    if ctx.cfg.pull_blocked("rpt"):
        return answers.rpt_answer(Result.OK, [])
    retsize = int_value(fields.get("retsize"))
    capped = effective_retsize(retsize, ENDPOINTS["get_rpt"].retsize_cap)
    limit = defect_modes.pull_limit(ctx.defects, retsize, capped)
    twice = "reports-handed-twice" in ctx.defects
    return answers.rpt_answer(
        Result.OK, ctx.store.take_reports(ctx.cfg.userid, ctx.epoch, limit, twice=twice)
    )


def get_balance(ctx: Context, fields: dict[str, Any]) -> dict[str, Any]:
    """§2.6 the balance, as a count (chargetype 0) or money (chargetype 1)."""
    record = ctx.store.account(ctx.cfg.userid)
    if record is None:
        raise Refusal(Result.AUTH_FAILED, "account deleted")
    return answers.balance_answer(
        Result.OK, record.config.chargetype, record.balance, record.money_micros
    )


HANDLERS: dict[str, Callable[[Context, dict[str, Any]], dict[str, Any]]] = {
    "single_send": single_send,
    "batch_send": batch_send,
    "multi_send": multi_send,
    "get_mo": get_mo,
    "get_rpt": get_rpt,
    "get_balance": get_balance,
}


# ---------------------------------------------------------------- accepting a send


def generated_custid(seed: int, msgid: int) -> str:
    """§2.1.6 the carrier's unique id for a batch sent without custid (20 hex, as the
    document's example b3d0a2783d31b21b8573)."""
    return hashlib.sha1(f"{seed}:{msgid}".encode()).hexdigest()[:20]


def carrier_time(moment: datetime) -> str:
    return moment.strftime(TIME_FORMAT)


def accept(
    ctx: Context, endpoint: str, items: list[Item], shared_text: str | None, custid: str
) -> dict[str, Any]:
    """Bill every segment to a valid number, reserve ids, schedule the reports."""
    cfg = ctx.cfg
    pktotals = [segment_count(item.text) for item in items]
    if max(pktotals) > ids.MAX_SEGMENTS:  # cannot happen within 1000 characters
        raise Refusal(Result.CONTENT_TOO_LONG, "too many segments")
    billed = sum(pk for item, pk in zip(items, pktotals, strict=False) if item.mobile.valid)
    stime = carrier_time(ctx.now)
    request_flags = list(ctx.warnings)  # each message records the request's flags too
    ctx.warnings.extend(dict.fromkeys(i for item in items for i in item.issues))

    def build(first_counter: int) -> tuple[int, str, list[tuple], list[tuple]]:
        base = ids.compose(ctx.settings.msgid_prefix, first_counter)
        batch_custid = custid or generated_custid(ctx.seed, base)
        messages: list[tuple] = []
        reports: list[tuple] = []
        for position, (item, pktotal) in enumerate(zip(items, pktotals, strict=False), start=1):
            msgid = mobile_msgid(base, position)  # §3.3 msgid + 手机号码位置 - 1
            outcome = outcome_for(
                item.mobile,
                msgid,
                ctx.seed,
                cfg.profile_for(item.mobile.operator.value),
                ctx.settings.magic_numbers,
                ctx.magic,
            )
            item_custid = item.custid or batch_custid
            issues = [*item.issues, *request_flags]
            item_spno = spno(cfg.channel, item.exno)
            messages.append(
                (
                    msgid,
                    cfg.userid,
                    position,
                    item.mobile.raw,
                    item.mobile.operator.value,
                    item.text if shared_text is None else None,
                    pktotal,
                    item_custid,
                    item.svrtype,
                    item.exno,
                    item_spno,
                    item.exdata,
                    json.dumps(issues, ensure_ascii=False),
                    stime,
                    json.dumps(_outcome_dict(outcome)),
                )
            )
            for pknum in range(1, pktotal + 1):
                latency = segment_latency(outcome, pknum)
                if latency is None:
                    continue  # a message that is never reported
                reports.append(
                    (
                        defect_modes.segment_id(ctx.defects, base, position, pknum),
                        msgid,
                        cfg.userid,
                        item_custid,
                        pknum,
                        pktotal,
                        item.mobile.raw,
                        item_spno,
                        item.exno,
                        stime,
                        carrier_time(ctx.now + timedelta(seconds=latency)),
                        outcome.status,
                        outcome.errcode,
                        outcome.errdesc,
                        item.exdata,
                        ctx.epoch
                        + latency / ctx.settings.time_scale
                        + defect_modes.report_delay(ctx.defects),
                        "pending",
                    )
                )
        return base, batch_custid, messages, reports

    acceptance = Acceptance(
        userid=cfg.userid,
        endpoint=endpoint,
        fmt=ctx.fmt,
        auth_mode=ctx.auth_mode,
        text=shared_text,
        mobiles=len(items),
        segments=sum(pktotals),
        cost_count=defect_modes.billed(ctx.defects, billed),
        cost_micros=defect_modes.billed(ctx.defects, billed) * cfg.price_micros,
        build=build,
    )
    try:
        msgid, answer_custid = ctx.store.accept(acceptance, cfg.chargetype)
    except Arrears:
        raise Refusal(Result.ARREARS, f"balance cannot pay {billed} segment(s)") from None
    return answers.send_answer(Result.OK, msgid, answer_custid)


def _outcome_dict(outcome: Outcome) -> dict[str, Any]:
    return {"latency": outcome.latency, "status": outcome.status, "errcode": outcome.errcode}


# ---------------------------------------------------------------- the carrier


@dataclass
class Handled:
    """The answer to one request, with what the log and the headers say of it."""

    endpoint: str
    fmt: Format
    answer: dict[str, Any]
    userid: str = ""
    reason: str = ""
    answer_fmt: Format | None = None  # None: §2.1.8 (JSON, or XML for XML requests)
    fault: faults.FaultRule | None = None  # what the view does to the wire (faults.py)
    # What was off-spec but accepted, as a real carrier would (X-Mock-Warning, W1-W4)
    warnings: list[str] = field(default_factory=list)


class Carrier:
    """The mock carrier: settings, store, limiter and seed, behind one handle()."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.limiter = ConcurrencyLimiter()
        self.seed = (
            settings.seed
            if settings.seed is not None
            else random.SystemRandom().randrange(1, 2**31)
        )
        ids.check_prefix(settings.msgid_prefix)
        seeding.seed_accounts(store, settings.accounts)  # admin changes kept (seeding.py)
        # Called after a send or an MO is stored: the pusher of this process wakes.
        self.on_new_work: Callable[[], None] | None = None
        # The latest requests read with a flag or not readable at all (the console's
        # list; this process's only).
        self.flagged: deque[dict[str, Any]] = deque(maxlen=FLAGGED_KEPT)

    def note_flagged(self, handled: Handled, remote_addr: str) -> None:
        """Keep a request that was unreadable or carried flags, for the console."""
        if not handled.warnings and not handled.reason.startswith(UNREADABLE):
            return
        self.flagged.appendleft(
            {
                "at": time.time(),
                "endpoint": handled.endpoint,
                "userid": handled.userid,
                "client": remote_addr,
                "result": handled.answer.get("result"),
                "reason": handled.reason,
                "warnings": list(handled.warnings),
            }
        )

    def control(self) -> control.Control:
        """The run-time control state (clock, defects, magic numbers...) from the store."""
        return control.load(self.store, self.settings)

    def now(self) -> datetime:
        return self.control().now()

    def handle(
        self, endpoint: str, body: bytes, fmt: Format, remote_addr: str, charset: str = ""
    ) -> Handled:
        """Parse, authenticate, limit, run the endpoint. Never raises: every failure
        is an answer in the document's shape. charset: the Content-Type's parameter."""
        handled = Handled(endpoint, fmt, answers.failure_answer(endpoint, Result.INTERNAL_ERROR))
        try:
            fields = parse_request(body, fmt, charset, handled.warnings)
        except CodecError as exc:
            # Unreadable body: no credentials could be read, so authentication fails;
            # the reason says so loudly, or the developer checks the password (C14).
            fields = {}
            handled.reason = f"{UNREADABLE} {exc}"[:300]
        ctl: control.Control | None = None
        try:
            ctl = self.control()
            handled.answer_fmt = defect_modes.answer_format(ctl.defects, fmt)
            fired = faults.fire(self.store, endpoint, lambda: self._named_userid(fields))
            forced = faults.first(fired, *faults.UNPROCESSED)
            if forced is not None:
                self._forced(handled, forced)
                return self._distorted(handled, ctl)
            delay = faults.first(fired, faults.DELAY)
            if delay is not None:
                time.sleep(delay.delay_ms / 1000)
            handled.fault = faults.first(fired, faults.TRUNCATE, faults.MALFORMED)
            self._run(handled, fields, remote_addr, ctl)
        except Refusal as refusal:
            handled.answer = answers.failure_answer(endpoint, refusal.result)
            handled.reason = handled.reason or refusal.reason
        except StoreError as exc:
            log.error("store failure on %s: %s", endpoint, exc)
            handled.reason = f"store failure: {exc}"
        except Exception:  # never a 5xx: the document's shape with -100999
            log.exception("unexpected failure on %s", endpoint)
            handled.reason = "internal error"
        return self._distorted(handled, ctl)

    @staticmethod
    def _distorted(handled: Handled, ctl: control.Control | None) -> Handled:
        if ctl is not None:
            handled.answer = defect_modes.distort_answer(
                ctl.defects, handled.endpoint, handled.answer
            )
        return handled

    def _forced(self, handled: Handled, rule: faults.FaultRule) -> None:
        """A fault that keeps the request from the endpoint (faults.UNPROCESSED)."""
        handled.reason = f"fault {rule.id}: {rule.action}"
        if rule.action == faults.RESULT:
            assert rule.result is not None
            handled.answer = answers.failure_answer(handled.endpoint, rule.result)
        else:
            handled.fault = rule

    def _named_userid(self, fields: dict[str, Any]) -> str:
        """The account a request names (no credential check), for faults scoped to one."""
        apikey = text_value(fields.get("apikey"))
        if apikey:
            account = account_by_apikey(self.store, apikey)
            return account.userid if account else ""
        return text_value(fields.get("userid")).upper()

    def _run(
        self, handled: Handled, fields: dict[str, Any], remote_addr: str, ctl: control.Control
    ) -> None:
        now = ctl.now()
        settings = ctl.settings
        outcome = authenticate(fields, remote_addr, self.store, settings, now)
        if not outcome.ok and "auth-not-checked" in ctl.defects:
            outcome = self._unchecked(fields, outcome)
        if not outcome.ok:
            raise Refusal(outcome.result, handled.reason or outcome.reason)
        assert outcome.account is not None
        cfg = outcome.account.config
        handled.userid = cfg.userid
        if outcome.mode == "md5":
            handled.warnings += timestamp_warnings(
                text_value(fields.get("timestamp")), settings, now
            )
        with self.limiter.slot(cfg.userid, cfg.max_concurrent) as admitted:
            if not admitted:
                raise Refusal(
                    Result.TOO_MANY_CONNECTIONS,
                    f"more than {cfg.max_concurrent} requests in flight",
                )
            if cfg.answer_delay_ms:
                time.sleep(cfg.answer_delay_ms / 1000)
            ctx = Context(
                self.store,
                settings,
                outcome.account,
                outcome.mode,
                handled.fmt.value,
                now,
                time.time(),
                self.seed,
                defects=ctl.defects,
                magic=ctl.magic,
                warnings=handled.warnings,
            )
            handled.answer = HANDLERS[handled.endpoint](ctx, fields)
        if handled.endpoint in SEND_ENDPOINTS and cfg.push_enabled and self.on_new_work:
            self.on_new_work()

    def _unchecked(self, fields: dict[str, Any], outcome: AuthOutcome) -> AuthOutcome:
        """Defect auth-not-checked: a known userid gets in whatever pwd it sends."""
        if outcome.result != Result.AUTH_FAILED:
            return outcome
        record = self.store.account(text_value(fields.get("userid")).upper())
        return AuthOutcome(Result.OK, record, "md5") if record else outcome

    def inject_mo(
        self, userid: str, mobile: str, text: str, exno: str = "", rtime: str = ""
    ) -> dict[str, Any]:
        """An inbound message from a phone (admin API), handed out by get_mo."""
        record = self.store.account(userid)
        if record is None:
            raise KeyError(userid)
        cfg = record.config
        exno = effective_exno(exno, cfg.channel)
        mo = {
            "msgid": ids.compose(self.settings.msgid_prefix, self.store.reserve_ids(1)),
            "mobile": mobile,
            "spno": spno(cfg.channel, exno),
            "exno": exno,
            "rtime": rtime or carrier_time(self.now()),
            "text": text,
        }
        self.store.add_mo(userid, mo)
        if self.on_new_work is not None:
            self.on_new_work()
        return mo
