"""What the carrier does for each endpoint: plain functions over a Context, no Flask.

Each handler returns the answer dict in the document's shape; a Refusal carries the
§4 code of a request that is refused.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from smsapi import answers
from smsapi.codec import CodecError, Format, parse_request
from smsapi.content import encode_mo_content, read_mt_content
from smsapi.endpoints import (
    GET_MO,
    GET_RPT,
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
from smsapi.segments import content_too_long, segment_count

from . import defects as defect_modes
from . import faults, ids, seeding, waits
from .auth import AuthOutcome, authenticate, timestamp_warnings
from .config import AccountConfig, Settings
from .control import Control
from .delivery import Fate, fixed_fate
from .limits import ConcurrencyLimiter
from .snapshot import Snapshot, Snapshots
from .stores import (
    Acceptance,
    AccountRecord,
    Arrears,
    Drawn,
    Message,
    Mo,
    StaleSnapshot,
    Store,
    StoreError,
)

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
    magic: dict[str, Fate] = field(default_factory=dict)  # the control plane's numbers
    warnings: list[str] = field(default_factory=list)  # the request's flags, on each message
    # The defect layer's memory of this process (reports-handed-twice)
    handouts: defect_modes.HandOuts = field(default_factory=defect_modes.HandOuts)
    # The snapshot version an optimistic send was checked against (Acceptance.version)
    version: int | None = None

    @property
    def cfg(self) -> AccountConfig:
        return self.account.config


@dataclass(slots=True)
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
    if len(numbers) > defect_modes.batch_limit(ctx.defects):
        raise Refusal(Result.TOO_MANY_MOBILES, f"{len(numbers)} mobiles, over 1000")
    text, issues = checked_content(fields.get("content"), ctx.cfg)
    options = checked_options(fields, ctx.cfg)
    custid, svrtype, exno, exdata = (options[k] for k in ("custid", "svrtype", "exno", "exdata"))
    # positional: a thousand items, and keyword arguments cost a dict each
    items = [Item(classify(n), text, custid, svrtype, exno, exdata, issues) for n in numbers]
    return accept(ctx, "batch_send", items, text, custid)


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
    capped = effective_retsize(retsize, GET_MO.retsize_cap or 0)
    limit = defect_modes.pull_limit(ctx.defects, retsize, capped)
    mos = ctx.store.take_mos(ctx.cfg.userid, ctx.epoch, limit)
    return answers.mo_answer(Result.OK, mo_items(mos, ctx.cfg.mo_charset))


def mo_items(mos: list[Mo], charset: str) -> list[dict[str, Any]]:
    """§2.4.6 / §2.7.3 MOs as the carrier writes them, content urlencoded in charset."""
    return [
        {
            "msgid": mo.msgid,
            "mobile": mo.mobile,
            "spno": mo.spno,
            "exno": mo.exno,
            "rtime": mo.rtime,
            "content": encode_mo_content(mo.text, charset),
        }
        for mo in mos
    ]


def get_rpt(ctx: Context, fields: dict[str, Any]) -> dict[str, Any]:
    """§2.5 due reports, oldest first, each once. None while reports are pushed."""
    if ctx.cfg.pull_blocked("rpt"):
        return answers.rpt_answer(Result.OK, [])
    retsize = int_value(fields.get("retsize"))
    capped = effective_retsize(retsize, GET_RPT.retsize_cap or 0)
    limit = defect_modes.pull_limit(ctx.defects, retsize, capped)
    userid = ctx.cfg.userid
    reports = ctx.handouts.take_reports(
        ctx.defects, userid, limit, lambda n: ctx.store.take_reports(userid, ctx.epoch, n)
    )
    return answers.rpt_answer(Result.OK, [report.fields() for report in reports])


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


def carrier_time(moment: datetime) -> str:
    return moment.strftime(TIME_FORMAT)


def accept(
    ctx: Context, endpoint: str, items: list[Item], shared_text: str | None, custid: str
) -> dict[str, Any]:
    """Bill every segment to a valid number, number the messages and keep them, in one
    durable step of the store (which derives their reports when they fall due)."""
    cfg = ctx.cfg
    # A batch's thousand items share their text and issues: each worked out once.
    counted = {text: segment_count(text) for text in {item.text for item in items}}
    pktotals = [counted[item.text] for item in items]
    if max(pktotals) > ids.MAX_SEGMENTS:  # cannot happen within 1000 characters
        raise Refusal(Result.CONTENT_TOO_LONG, "too many segments")
    billed = sum(pk for item, pk in zip(items, pktotals, strict=True) if item.mobile.valid)
    request_flags = tuple(ctx.warnings)  # each message records the request's flags too
    ctx.warnings.extend(dict.fromkeys(i for item in items for i in item.issues))
    issue_lists = {id(item.issues): item.issues for item in items}  # by identity
    flagged = {key: (*issues, *request_flags) for key, issues in issue_lists.items()}
    message_fate = fate_chooser(ctx)
    # positional, in Message's field order: keyword arguments cost twice as much a message
    messages = [
        Message(
            position,  # §3.3 its msgid = the answer's msgid + position - 1
            item.mobile.raw,
            item.mobile.operator._value_,  # the Enum's value, without its property
            item.text if shared_text is None else None,
            pktotal,
            item.custid,
            item.svrtype,
            item.exno,
            spno(cfg.channel, item.exno),
            item.exdata,
            flagged[id(item.issues)],
            message_fate(item.mobile),
        )  # fmt: skip
        for position, (item, pktotal) in enumerate(zip(items, pktotals, strict=True), start=1)
    ]
    acceptance = Acceptance(
        userid=cfg.userid,
        endpoint=endpoint,
        fmt=ctx.fmt,
        auth_mode=ctx.auth_mode,
        chargetype=cfg.chargetype,
        cost_count=billed,
        cost_micros=billed * cfg.price_micros,
        text=shared_text,
        custid=custid,
        seed=ctx.seed,
        prefix=ctx.settings.msgid_prefix,
        stime=ctx.now,
        accepted_at=ctx.epoch,
        time_scale=ctx.settings.time_scale,
        messages=messages,
        version=ctx.version,
        push=cfg.push_enabled,
    )
    acceptance = defect_modes.acceptance(ctx.defects, acceptance)  # billing, report delay
    try:
        accepted = ctx.store.accept(acceptance)
    except Arrears:
        raise Refusal(Result.ARREARS, f"balance cannot pay {billed} segment(s)") from None
    return answers.send_answer(Result.OK, accepted.msgid, accepted.custid)


def fate_chooser(ctx: Context) -> Callable[[MobileNumber], Fate | Drawn]:
    """The request's rule for each message's fate: a fixed fate (invalid or magic
    number), or the account's profile for its operator, to draw from once the store has
    numbered the message (seeded by seed and msgid). What the thousand messages of a
    batch share (the magic switch, the control plane's numbers, the profile of each
    operator) is looked up once."""
    magic, custom, cfg = ctx.settings.magic_numbers, ctx.magic, ctx.cfg
    drawn: dict[str, Drawn] = {}  # by operator value

    def fate(mobile: MobileNumber) -> Fate | Drawn:
        fixed = fixed_fate(mobile, magic, custom)
        if fixed is not None:
            return fixed
        operator = mobile.operator._value_  # the Enum's value, without its property
        chosen = drawn.get(operator)
        if chosen is None:
            chosen = drawn[operator] = Drawn(cfg.profile_for(operator))
        return chosen

    return fate


# ---------------------------------------------------------------- the carrier


class Recheck(Exception):
    """An optimistic send (run on the cached snapshot, its version checked by the store's
    own step) that cannot conclude on it: the version moved, or it was refused. Nothing
    of it was kept; the request is handled again on the snapshot as it is now."""


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
        # Control state, fault rules, accounts: read once per store version (snapshot.py)
        self.snapshots = Snapshots(store, settings)
        self.handouts = defect_modes.HandOuts()  # the defect layer's memory (per process)
        # Called after a send (sent=True) or an MO is stored: the pusher hears of it.
        self.on_new_work: Callable[..., None] | None = None
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

    def snapshot(self) -> Snapshot:
        """Control state, fault rules and accounts as of the store's current version."""
        return self.snapshots.current()

    def control(self) -> Control:
        """The run-time control state (clock, defects, magic numbers...) from the store."""
        return self.snapshots.current().control

    def now(self) -> datetime:
        return self.control().now()

    def threads_reason(self) -> str:
        """Why requests to the six endpoints run on the worker's threads rather than its
        event loop (mockcarrier.worker); "" when they may run on the loop: where running
        them there changes no answer. Not when an answer may be held (answer_delay_ms, a
        delay fault: the hold would take the loop's time), or an account admits fewer
        requests in flight than the threads of every worker could run at once (its
        -100056 stays as reachable as on the threads). On a store across the network
        (Redis) the loop runs other requests while one waits for its send's or hand-out's
        reply (stores/redis/connection.py), and the snapshot last loaded decides (no round
        trip before every request): a change counts from its next load (a request that
        reads the version, the pusher's tick), and a request on the loop held meanwhile
        lets the loop run others (waits.pause)."""
        try:
            on_network = self.store.on_network
            snapshot = self.snapshots.cached() if on_network else self.snapshots.current()
        except StoreError as exc:
            return f"store failure: {exc}"  # the threads answer it, with the failure
        if snapshot is None:
            return "nothing read from the store yet"
        if snapshot.holds_answers:
            return f"an answer may be held: {snapshot.holds_answers}"
        threads = self.settings.threads * self.settings.workers
        least = snapshot.least_concurrency
        if least is not None and least[0] < threads:
            return f"{least[1]} admits {least[0]} requests in flight, under {threads} threads"
        return ""

    def runs_inline(self) -> bool:
        """Whether requests to the six endpoints may run on the worker's event loop."""
        return not self.threads_reason()

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
        optimistic = self._optimistic_snapshot(endpoint)
        if optimistic is not None:
            attempt = replace(handled, warnings=[*handled.warnings])
            try:
                return self._attempt(attempt, fields, remote_addr, optimistic)
            except Recheck:
                pass  # nothing of it was kept: handled again on the snapshot as it is now
        return self._attempt(handled, fields, remote_addr, None)

    def _optimistic_snapshot(self, endpoint: str) -> Snapshot | None:
        """The cached snapshot, unchecked, for a send on a store that checks the version
        in the send's own step (Store.checks_version: one round trip a send instead of
        two); None: read the version first. Not with fault rules: a firing is a write."""
        if not self.store.checks_version or endpoint not in SEND_ENDPOINTS:
            return None
        snapshot = self.snapshots.cached()
        return snapshot if snapshot is not None and not snapshot.rules else None

    def _attempt(
        self,
        handled: Handled,
        fields: dict[str, Any],
        remote_addr: str,
        optimistic: Snapshot | None,
    ) -> Handled:
        """One go at the request: on the snapshot as of the store's version, or on the
        optimistic one (raises Recheck when it cannot conclude on it)."""
        endpoint = handled.endpoint
        ctl: Control | None = None
        try:
            # the one store read of a quiet request (none for an optimistic send)
            snapshot = optimistic or self.snapshots.current()
            ctl = snapshot.control
            handled.answer_fmt = defect_modes.answer_format(ctl.defects, handled.fmt)
            fired = faults.fire(
                self.store, snapshot.rules, endpoint, lambda: named_userid(snapshot, fields)
            )
            forced = faults.first(fired, *faults.UNPROCESSED)
            if forced is not None:
                self._forced(handled, forced)
                return self._distorted(handled, ctl)
            delay = faults.first(fired, faults.DELAY)
            if delay is not None:
                waits.current.pause(delay.delay_ms / 1000)
            handled.fault = faults.first(fired, faults.TRUNCATE, faults.MALFORMED)
            self._run(handled, fields, remote_addr, snapshot, checked=optimistic is None)
        except (Recheck, StaleSnapshot):
            if optimistic is not None:
                raise Recheck() from None
            # a checked send carries no version: were it refused as stale all the same,
            # it is a store failure, answered in the document's shape like any other
            log.error("store failure on %s: stale snapshot on a checked request", endpoint)
            handled.reason = "store failure: stale snapshot on a checked request"
        except Refusal as refusal:
            if optimistic is not None and self._moved(optimistic):
                raise Recheck() from None  # refused on a state that had changed
            handled.answer = answers.failure_answer(endpoint, refusal.result)
            handled.reason = handled.reason or refusal.reason
        except StoreError as exc:
            log.error("store failure on %s: %s", endpoint, exc)
            handled.reason = f"store failure: {exc}"
        except Exception:  # never a 5xx: the document's shape with -100999
            log.exception("unexpected failure on %s", endpoint)
            handled.reason = "internal error"
        return self._distorted(handled, ctl)

    def _moved(self, snapshot: Snapshot) -> bool:
        """Whether the state moved since snapshot (a store failure: cannot tell, so it
        did; the checked attempt answers the failure)."""
        try:
            return self.snapshots.moved(snapshot)
        except StoreError:
            return True

    @staticmethod
    def _distorted(handled: Handled, ctl: Control | None) -> Handled:
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

    def _run(
        self,
        handled: Handled,
        fields: dict[str, Any],
        remote_addr: str,
        snapshot: Snapshot,
        checked: bool = True,
    ) -> None:
        """The request on snapshot; checked False: an optimistic send, whose store step
        checks snapshot.version (a refused login is not counted here: Recheck)."""
        ctl = snapshot.control
        now = ctl.now()
        settings = ctl.settings
        outcome = authenticate(
            fields, remote_addr, self.snapshots, settings, now, snapshot, count_failure=checked
        )
        if not outcome.ok and not checked:
            raise Recheck()  # counted towards the lockout only on a checked snapshot
        if not outcome.ok and not defect_modes.checks_auth(ctl.defects):
            outcome = unchecked(snapshot, fields, outcome)
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
                waits.current.pause(cfg.answer_delay_ms / 1000)
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
                handouts=self.handouts,
                version=None if checked else snapshot.version,
            )
            handled.answer = HANDLERS[handled.endpoint](ctx, fields)
        if handled.endpoint in SEND_ENDPOINTS and cfg.push_enabled and self.on_new_work:
            self.on_new_work(sent=True)

    def inject_mo(
        self, userid: str, mobile: str, text: str, exno: str = "", rtime: str = ""
    ) -> dict[str, Any]:
        """An inbound message from a phone (admin API), handed out by get_mo."""
        record = self.store.account(userid)
        if record is None:
            raise KeyError(userid)
        cfg = record.config
        exno = effective_exno(exno, cfg.channel)
        mo = Mo(
            msgid=ids.compose(self.settings.msgid_prefix, self.store.reserve_ids(1)),
            mobile=mobile,
            spno=spno(cfg.channel, exno),
            exno=exno,
            rtime=rtime or carrier_time(self.now()),
            text=text,
        )
        self.store.add_mo(userid, mo)
        if self.on_new_work is not None:
            self.on_new_work()
        return dataclasses.asdict(mo)


def named_userid(snapshot: Snapshot, fields: dict[str, Any]) -> str:
    """The account a request names (no credential check), for faults scoped to one."""
    apikey = text_value(fields.get("apikey"))
    if apikey:
        account = snapshot.account_by_apikey(apikey)
        return account.userid if account else ""
    return text_value(fields.get("userid")).upper()


def unchecked(snapshot: Snapshot, fields: dict[str, Any], outcome: AuthOutcome) -> AuthOutcome:
    """Defect auth-not-checked: a known userid gets in whatever pwd it sends."""
    if outcome.result != Result.AUTH_FAILED:
        return outcome
    record = snapshot.account(text_value(fields.get("userid")).upper())
    return AuthOutcome(Result.OK, record, "md5") if record else outcome
