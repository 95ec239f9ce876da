"""Protocol mutants of a carrier: each one small change to what the mock answers or
pushes, named, described, with the must-rule of the document it breaks and the check(s)
that must kill it. The mutating proxy (proxy.py) applies one at a time.

A hook gets a Call (the request's endpoint and fields; after forwarding, the answer) and
returns None (no change), a dict (the answer to give instead, in the request's format)
or a Reply (raw bytes). Push hooks get a PushCall and return None, (body, content type)
or a Reply (the answer the mock gets).
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from smsapi.answers import send_answer
from smsapi.codec import Format, json_body
from smsapi.content import decode_mt_content, encode_mt_content
from smsapi.errors import Result
from smsapi.push import encode_push
from smsapi.segments import segments_for_length
from smsapi.tender import CHANNEL_SUFFIX, DELIVERY_RATE_MIN

if TYPE_CHECKING:
    from .proxy import MutatingProxy

SIGNATURE_CHARS = 6  # the mock's 【通渝科技】 (F8)
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_LOCK = threading.Lock()


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str | None = "application/json; charset=utf-8"


@dataclass
class Call:
    """One request of the six endpoints as the mutant sees it."""

    proxy: MutatingProxy
    endpoint: str
    fields: dict[str, Any]
    fmt: Format
    state: dict[str, Any]
    answer: dict[str, Any] = field(default_factory=dict)
    changed: bool = False
    body: bytes = b""  # the request as it came

    @property
    def mobiles(self) -> list[str]:
        if self.endpoint == "multi_send":
            items = self.fields.get("multimt")
            return [str(i.get("mobile", "")) for i in items] if isinstance(items, list) else []
        return [m for m in str(self.fields.get("mobile", "")).split(",") if m]

    @property
    def text(self) -> str:
        return decode_mt_content(str(self.fields.get("content", ""))).text

    @property
    def is_send(self) -> bool:
        return self.endpoint in ("single_send", "batch_send", "multi_send")

    def send(self, fields: dict[str, Any]) -> Reply:
        """Forward (changed) fields to the mock as JSON; the reply in the request's format."""
        answer = self.proxy.upstream_send(self.endpoint, fields)
        self.answer = answer
        return self.proxy.answer_reply(self, answer)

    def with_fields(self, **changes: Any) -> None:
        """Forward the request with these fields changed."""
        self.fields = {**self.fields, **changes}
        self.changed = True

    def fake_send(self) -> dict[str, Any]:
        """A made-up acceptance: result 0, a fresh msgid, the custid echoed."""
        return send_answer(
            0, random.randrange(1 << 40, 1 << 60), str(self.fields.get("custid", ""))
        )

    def once(self, key: str) -> bool:
        """True the first time a key is asked for in this mutant's run."""
        with _LOCK:
            if key in self.state:
                return False
            self.state[key] = True
            return True


@dataclass
class PushCall:
    proxy: MutatingProxy
    kind: str  # rpt or mo (the path the mock pushed to)
    fields: dict[str, Any]
    list_field: str
    state: dict[str, Any]

    @property
    def items(self) -> list[dict[str, Any]]:
        items = self.fields.get(self.list_field)
        return items if isinstance(items, list) else []

    def encoded(self, fields: dict[str, Any] | None = None) -> tuple[bytes, str]:
        return encode_push(fields if fields is not None else self.fields)


Hook = Callable[[Call], "dict[str, Any] | Reply | None"]
PushHook = Callable[[PushCall], "tuple[bytes, str] | Reply | None"]


@dataclass(frozen=True)
class Mutant:
    name: str
    rule: str  # the must-rule of the document it breaks
    description: str
    kills: tuple[str, ...]  # the check(s) of that rule, that must kill it
    request: Hook | None = None
    answer: Hook | None = None
    push: PushHook | None = None
    push_answer: Callable[[Reply], Reply | None] | None = None
    pushes: bool = False  # needs the run with pushes to the suite's receiver
    report_hold: float = 0.0  # seconds it holds reports back (the run waits longer)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rule": self.rule,
            "description": self.description,
            "kills": list(self.kills),
            "pushes": self.pushes,
        }


# ---------------------------------------------------------------- building blocks


def refuse(code: int) -> dict[str, Any]:
    return {"result": code, "msgid": 0, "custid": ""}


def on_reports(change: Callable[[dict[str, Any], dict[str, Any]], dict | None]) -> dict:
    """Hooks that change each report, pulled (get_rpt) or pushed (§2.8); change(report,
    state) returns the report to give (None drops it)."""

    def answer(call: Call) -> dict | None:
        if call.endpoint != "get_rpt" or not isinstance(call.answer.get("rpts"), list):
            return None
        return {**call.answer, "rpts": _changed(call.answer["rpts"], change, call.state)}

    def push(call: PushCall) -> tuple[bytes, str] | None:
        if call.list_field != "rpts":
            return None
        return call.encoded({**call.fields, "rpts": _changed(call.items, change, call.state)})

    return {"answer": answer, "push": push}


def _changed(items: list, change: Callable, state: dict) -> list:
    out = []
    for item in items:
        changed = change(dict(item), state)
        if changed is not None:
            out.append(changed)
    return out


def on_mos(change: Callable[[dict[str, Any]], dict[str, Any]]) -> dict:
    def answer(call: Call) -> dict | None:
        if call.endpoint != "get_mo" or not isinstance(call.answer.get("mos"), list):
            return None
        return {**call.answer, "mos": [change(dict(m)) for m in call.answer["mos"]]}

    def push(call: PushCall) -> tuple[bytes, str] | None:
        if call.list_field != "mos":
            return None
        return call.encoded({**call.fields, "mos": [change(dict(m)) for m in call.items]})

    return {"answer": answer, "push": push}


def on_answer(
    endpoints: tuple[str, ...], change: Callable[[dict, Call], dict | Reply | None]
) -> Hook:
    def hook(call: Call) -> dict | Reply | None:
        if call.endpoint not in endpoints:
            return None
        return change(dict(call.answer), call)

    return hook


def on_request(endpoints: tuple[str, ...], decide: Callable[[Call], Any]) -> Hook:
    def hook(call: Call) -> Any:
        if call.endpoint not in endpoints:
            return None
        return decide(call)

    return hook


def shift_time(value: Any, seconds: float) -> str:
    try:
        moment = datetime.strptime(str(value), TIME_FORMAT)
    except ValueError:
        return str(value)
    return (moment + timedelta(seconds=seconds)).strftime(TIME_FORMAT)


SENDS = ("single_send", "batch_send", "multi_send")
PULLS = ("get_rpt", "get_mo")


def _batch_over(call: Call) -> Any:
    mobiles = call.mobiles
    if call.endpoint == "batch_send" and len(mobiles) > 1000:
        call.with_fields(mobile=",".join(mobiles[:1000]))
    elif call.endpoint == "multi_send" and len(mobiles) > 100:
        call.with_fields(multimt=call.fields["multimt"][:100])
    return None


def _cap_plus_one(endpoint: str, cap: int) -> Hook:
    """retsize above the cap hands out cap + 1 (two fetches from the mock)."""

    def hook(call: Call) -> Any:
        if call.endpoint != endpoint:
            return None
        try:
            asked = int(str(call.fields.get("retsize", "")).strip())
        except ValueError:
            return None
        if asked <= cap:
            return None
        list_field = "rpts" if endpoint == "get_rpt" else "mos"
        auth = {k: v for k, v in call.fields.items() if k != "retsize"}
        first = call.proxy.upstream_send(endpoint, {**auth, "retsize": cap})
        listed = first.get(list_field)
        items: list[Any] = listed if isinstance(listed, list) else []
        if len(items) == cap:
            more = call.proxy.upstream_send(endpoint, {**auth, "retsize": 1})
            extra = more.get(list_field)
            items = items + (extra if isinstance(extra, list) else [])
        return {**first, list_field: items}

    return hook


def _cap_at(endpoint: str, cap: int) -> Hook:
    """retsize absent, ≤ 0 or over cap is taken as cap."""

    def hook(call: Call) -> Any:
        if call.endpoint != endpoint:
            return None
        try:
            asked = int(str(call.fields.get("retsize", "")).strip())
        except ValueError:
            asked = 0
        if asked <= 0 or asked > cap:
            call.with_fields(retsize=cap)
        return None

    return hook


def _default_retsize(endpoint: str, given: int) -> Hook:
    def hook(call: Call) -> Any:
        if call.endpoint != endpoint:
            return None
        raw = str(call.fields.get("retsize", "")).strip()
        try:
            absent = not raw or int(raw) <= 0
        except ValueError:
            absent = False
        if absent:
            call.with_fields(retsize=given)
        return None

    return hook


def _phantom_answer(call: Call) -> dict | None:
    rpts = call.answer.get("rpts")
    if call.endpoint != "get_rpt" or not isinstance(rpts, list) or not rpts:
        return None
    ghost = {**rpts[0], "msgid": int(rpts[0].get("msgid", 0)) + 7_777_777, "custid": ""}
    return {**call.answer, "rpts": [*rpts, ghost]}


def _phantom_push(call: PushCall) -> tuple[bytes, str] | None:
    if call.list_field != "rpts" or not call.items:
        return None
    first = call.items[0]
    ghost = {**first, "msgid": int(first.get("msgid", 0)) + 7_777_777, "custid": ""}
    return call.encoded({**call.fields, "rpts": [*call.items, ghost]})


def _drop_every(n: int) -> Callable[[dict, dict], dict | None]:
    def change(report: dict, state: dict) -> dict | None:
        with _LOCK:
            state["seen"] = state.get("seen", 0) + 1
            return None if state["seen"] % n == 0 else report

    return change


def _repeat_later(call: Call) -> dict | None:
    """Each report handed out once more in the next non-empty answer."""
    rpts = call.answer.get("rpts")
    if call.endpoint != "get_rpt" or not isinstance(rpts, list):
        return None
    with _LOCK:
        again = call.state.pop("again", [])
        call.state["again"] = list(rpts[:1])
    if not rpts and not again:
        return None
    return {**call.answer, "rpts": [*again, *rpts]}


def _hold_reports(seconds: float) -> Hook:
    """Reports kept back: each is handed out only `seconds` after the mock gave it."""

    def hook(call: Call) -> dict | None:
        if call.endpoint != "get_rpt" or not isinstance(call.answer.get("rpts"), list):
            return None
        now = time.monotonic()
        with _LOCK:
            held = call.state.setdefault("held", [])
            held.extend((now, r) for r in call.answer["rpts"])
            ready = [r for t, r in held if now - t >= seconds]
            call.state["held"] = [(t, r) for t, r in held if now - t < seconds]
        return {**call.answer, "rpts": [{**r, "rtime": r.get("stime", "")} for r in ready]}

    return hook


def _never_charge(answer: dict, call: Call) -> dict | None:
    if answer.get("result") != 0:
        return None
    key = f"balance:{call.fields.get('userid', call.fields.get('apikey', ''))}"
    with _LOCK:
        first = call.state.setdefault(key, (answer.get("balance"), answer.get("money")))
    return {**answer, "balance": first[0], "money": first[1]}


def _charge_double(answer: dict, call: Call) -> dict | None:
    if answer.get("result") != 0 or not isinstance(answer.get("balance"), int):
        return None
    key = f"first:{call.fields.get('userid', '')}"
    with _LOCK:
        first = call.state.setdefault(key, answer["balance"])
    return {**answer, "balance": first - 2 * (first - answer["balance"])}


def _yes_man(call: Call) -> dict:
    """Result 0 to everything, never a report or an MO."""
    if call.is_send:
        return call.fake_send()
    if call.endpoint == "get_rpt":
        return {"result": 0, "rpts": []}
    if call.endpoint == "get_mo":
        return {"result": 0, "mos": []}
    return {"result": 0, "chargetype": 0, "balance": 100000, "money": "0.000000"}


def _arrears_accepted(call: Call) -> dict | None:
    if call.is_send and str(call.fields.get("userid", "")).upper() == "POOR01":
        return call.fake_send()
    return None


def _invalid_batch_refused(call: Call) -> dict | None:
    from smsapi.mobile import classify

    if call.endpoint in ("batch_send", "multi_send") and any(
        not classify(m).valid for m in call.mobiles
    ):
        return refuse(Result.MOBILE_INVALID)
    return None


def _invalid_batch_dropped(call: Call) -> Any:
    """Invalid numbers of a batch silently left out: no failed report for them (F2)."""
    from smsapi.mobile import classify

    if call.endpoint != "batch_send":
        return None
    mobiles = call.mobiles
    valid = [m for m in mobiles if classify(m).valid]
    if valid and len(valid) < len(mobiles):
        call.with_fields(mobile=",".join(valid))
    return None


def _seqid_restarts(call: PushCall) -> tuple[bytes, str] | None:
    return call.encoded({**call.fields, "seqid": 1})


def _push_field(name: str, value: Any) -> PushHook:
    def hook(call: PushCall) -> tuple[bytes, str]:
        fields = dict(call.fields)
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
        return call.encoded(fields)

    return hook


def _push_twice(call: PushCall) -> Reply | None:
    body, content_type = call.encoded()
    call.proxy.session.post(
        call.proxy.push_target, data=body, headers={"Content-Type": content_type}, timeout=30
    )
    return None  # and the push itself goes on as usual: every push arrives twice


def _push_json(call: PushCall) -> tuple[bytes, str]:
    return json_body(call.fields), "application/json"


def _acknowledge_anything(reply: Reply) -> Reply:
    """The mock is told every push was received: refused pushes are never retried."""
    kind = "RPT_RESP" if b"RPT" in reply.body else "MO_RESP"
    body = json_body({"cmd": kind, "seqid": 0, "result": 0})
    return Reply(200, body, "application/json")


def _content_type(new: str) -> Hook:
    def hook(call: Call) -> Reply | None:
        if call.fmt is Format.XML:
            return None
        return Reply(200, json_body(call.answer), new)

    return hook


def _renamed_xml_root(call: Call) -> Reply | None:
    if call.fmt is not Format.XML:
        return None
    body = call.proxy.answer_reply(call, call.answer).body
    root = re.search(rb"<([A-Za-z_]+)>", body)
    if not root:
        return None
    name = root.group(1)
    body = body.replace(b"<" + name + b">", b"<response>", 1)
    body = body.replace(b"</" + name + b">", b"</response>")
    return Reply(200, body, "text/xml; charset=utf-8")


def _msgid_float(answer: dict, call: Call) -> Reply | None:
    if "msgid" not in answer or call.fmt is Format.XML:
        return None
    text = json_body(answer).replace(
        f'"msgid":{answer["msgid"]}'.encode(), f'"msgid":{float(answer["msgid"]):.6e}'.encode()
    )
    return Reply(200, text, "application/json; charset=utf-8")


def _result_text(answer: dict, call: Call) -> dict | None:
    if answer.get("result") != 0:
        return None
    return {**answer, "result": "OK"}


def _result_string_on_failure(answer: dict, call: Call) -> dict | None:
    if answer.get("result") in (0, None):
        return None
    return {**answer, "result": str(answer["result"])}


def _swap_code(old: int, new: int) -> Hook:
    def hook(call: Call) -> dict | None:
        if call.answer.get("result") != old:
            return None
        return {**call.answer, "result": new}

    return hook


def _wrong_apikey_accepted(call: Call) -> Any:
    if call.endpoint == "get_balance" and call.fields.get("apikey"):
        key = call.proxy.good_apikey
        if key and call.fields["apikey"] != key:
            call.with_fields(apikey=key)
    return None


def _no_timestamp_accepted(call: Call) -> dict | None:
    if (
        call.endpoint == "get_balance"
        and call.fields.get("userid")
        and not call.fields.get("timestamp")
    ):
        return {"result": 0, "chargetype": 0, "balance": 100000, "money": "0.000000"}
    return None


def _plain_refused(call: Call) -> dict | None:
    pwd = str(call.fields.get("pwd", ""))
    if call.fields.get("userid") and pwd and not re.fullmatch(r"[0-9a-f]{32}", pwd):
        return refuse(Result.AUTH_FAILED) | (
            {"chargetype": 0, "balance": 0, "money": "0.000000"}
            if call.endpoint == "get_balance"
            else {}
        )
    return None


def _ip_not_checked(call: Call) -> dict | None:
    if call.answer.get("result") != Result.IP_NOT_ALLOWED:
        return None
    if call.endpoint == "get_balance":
        return {"result": 0, "chargetype": 0, "balance": 1000, "money": "0.000000"}
    return call.fake_send() if call.is_send else None


def _mo_content_raw(mo: dict) -> dict:
    from smsapi.content import decode_mo_content

    return {**mo, "content": decode_mo_content(str(mo.get("content", ""))).text}


def _mo_content_gbk(mo: dict) -> dict:
    from urllib.parse import quote

    from smsapi.content import decode_mo_content

    text = decode_mo_content(str(mo.get("content", ""))).text
    return {**mo, "content": quote(text.encode("gbk", "replace"))}


def _custid_swapped(call: Call) -> dict | None:
    """The custids of the reports in one answer rotated by one (each names another's)."""
    rpts = call.answer.get("rpts")
    if call.endpoint != "get_rpt" or not isinstance(rpts, list) or len(rpts) < 2:
        return None
    custids = [r.get("custid", "") for r in rpts]
    rotated = custids[1:] + custids[:1]
    return {**call.answer, "rpts": [{**r, "custid": c} for r, c in zip(rpts, rotated, strict=True)]}


def _charge_per_message(call: Call) -> dict | None:
    """The balance drops by one per message, whatever its segments (a refund kept of the
    difference for every accepted send)."""
    if call.is_send and call.answer.get("result") == 0:
        texts = (
            [decode_mt_content(str(i.get("content", ""))).text for i in call.fields["multimt"]]
            if call.endpoint == "multi_send"
            else [call.text] * len(call.mobiles)
        )
        extra = sum(segments_for_length(len(t) + SIGNATURE_CHARS) - 1 for t in texts)
        with _LOCK:
            call.state["refund"] = call.state.get("refund", 0) + extra
        return None
    if call.endpoint == "get_balance" and call.answer.get("result") == 0:
        refund = call.state.get("refund", 0)
        if refund and isinstance(call.answer.get("balance"), int):
            return {**call.answer, "balance": call.answer["balance"] + refund}
    return None


def _same_msgid_again(answer: dict, call: Call) -> dict | None:
    """Every other single_send answer repeats the previous answer's msgid."""
    if answer.get("result") != 0:
        return None
    with _LOCK:
        last = call.state.get("last")
        call.state["last"] = answer["msgid"]
        call.state["n"] = call.state.get("n", 0) + 1
        repeat = last is not None and call.state["n"] % 2 == 0
    return {**answer, "msgid": last} if repeat else None


def _mobile_rotated(call: Call) -> dict | None:
    rpts = call.answer.get("rpts")
    if call.endpoint != "get_rpt" or not isinstance(rpts, list) or len(rpts) < 2:
        return None
    mobiles = [r.get("mobile", "") for r in rpts]
    if len(set(mobiles)) < 2:
        return None
    rotated = mobiles[1:] + mobiles[:1]
    return {**call.answer, "rpts": [{**r, "mobile": m} for r, m in zip(rpts, rotated, strict=True)]}


def _fail_every(n: int) -> Callable[[dict, dict], dict | None]:
    def change(report: dict, state: dict) -> dict | None:
        with _LOCK:
            state["seen"] = state.get("seen", 0) + 1
            fail = state["seen"] % n == 0
        return {**report, "status": 1, "errcode": "UNDELIV"} if fail else report

    return change


def _http_500_on_failure(call: Call) -> Reply | None:
    if call.answer.get("result") in (0, None):
        return None
    reply = call.proxy.answer_reply(call, call.answer)
    return Reply(500, reply.body, reply.content_type)


def _refuse_form(call: Call) -> dict | None:
    if call.fmt is Format.FORM and call.endpoint in ("single_send", "multi_send"):
        return refuse(Result.AUTH_FAILED)
    return None


def _broken_xml(call: Call) -> Reply | None:
    if call.fmt is not Format.XML:
        return None
    body = call.proxy.answer_reply(call, call.answer).body
    return Reply(200, body[: body.rfind(b"</")], "text/xml; charset=utf-8")


def _empty_optional_refused(call: Call) -> dict | None:
    if call.is_send and any(
        k in call.fields and str(call.fields[k]) == "" for k in ("custid", "exdata", "svrtype")
    ):
        return refuse(Result.CUSTOM_FIELD_INVALID)
    return None


def _field_length(call: Call, name: str) -> int:
    return len(str(call.fields.get(name, "")))


def _refuse_at_length(name: str, length: int, code: int) -> Hook:
    """Sends whose field is exactly length characters long are refused with code."""
    return on_request(SENDS, lambda c: refuse(code) if _field_length(c, name) == length else None)


def _cut_past(name: str, limit: int) -> Hook:
    """Sends whose field is longer than limit are accepted with the field cut to limit."""
    return on_request(
        SENDS,
        lambda c: (
            c.with_fields(**{name: str(c.fields[name])[:limit]})
            if _field_length(c, name) > limit
            else None
        ),
    )


# ---------------------------------------------------------------- the mutants


def _m(name: str, rule: str, description: str, kills: tuple[str, ...], **hooks: Any) -> Mutant:
    return Mutant(name, rule, description, kills, **hooks)


MUTANTS: tuple[Mutant, ...] = (
    # -- boundaries and caps
    _m(
        "batch-1000-refused",
        "§2.2.1 up to 1000 mobiles per batch_send",
        "a batch of exactly 1000 mobiles is refused with -100014",
        ("LIMIT-BATCH-1000",),
        request=on_request(
            ("batch_send",),
            lambda c: refuse(Result.TOO_MANY_MOBILES) if len(c.mobiles) == 1000 else None,
        ),
    ),
    _m(
        "batch-1001-truncated",
        "§2.2.1 more than 1000 mobiles: -100014",
        "a batch over 1000 mobiles is accepted (the first 1000 sent)",
        ("LIMIT-BATCH-OVER-1000",),
        request=on_request(("batch_send",), _batch_over),
    ),
    _m(
        "multi-100-refused",
        "§2.3.1 up to 100 items per multi_send",
        "a multi_send of exactly 100 items is refused with -100014",
        ("LIMIT-MULTI-100",),
        request=on_request(
            ("multi_send",),
            lambda c: refuse(Result.TOO_MANY_MOBILES) if len(c.mobiles) == 100 else None,
        ),
    ),
    _m(
        "multi-101-truncated",
        "§2.3.1 more than 100 items are refused",
        "a multi_send over 100 items is accepted (the first 100 sent)",
        ("LIMIT-MULTI-OVER-100",),
        request=on_request(("multi_send",), _batch_over),
    ),
    _m(
        "content-999-cap",
        "§2.1.5 content up to 1000 characters, signature included",
        "content of 1000 characters with the signature is refused with -100011",
        ("LIMIT-CONTENT-1000",),
        request=on_request(
            SENDS,
            lambda c: (
                refuse(Result.CONTENT_TOO_LONG) if len(c.text) + SIGNATURE_CHARS >= 1000 else None
            ),
        ),
    ),
    _m(
        "content-over-accepted",
        "§2.1.5 / §4 content over 1000 characters: -100011",
        "an over-long content is accepted (cut to 900 characters)",
        ("LIMIT-CONTENT-1000",),
        request=on_request(
            ("single_send",),
            lambda c: (
                c.with_fields(content=encode_mt_content(c.text[:900]))
                if len(c.text) + SIGNATURE_CHARS > 1000
                else None
            ),
        ),
    ),
    _m(
        "empty-content-accepted",
        "§2.1.5 content is required",
        "an empty content is accepted with a msgid (nothing sent)",
        ("LIMIT-CONTENT-EMPTY",),
        request=on_request(
            ("single_send", "batch_send"), lambda c: None if c.text else c.fake_send()
        ),
    ),
    _m(
        "custid-64-refused",
        "§2.1.5 custid up to 64 characters",
        "a custid of exactly 64 characters is refused with -100004",
        ("LIMIT-CUSTID",),
        request=_refuse_at_length("custid", 64, Result.CUSTOM_FIELD_INVALID),
    ),
    _m(
        "custid-65-accepted",
        "§2.1.5 custid over 64 characters is refused",
        "a custid of 65 characters is accepted (cut to 64)",
        ("LIMIT-CUSTID",),
        request=_cut_past("custid", 64),
    ),
    _m(
        "exdata-64-refused",
        "§2.1.5 exdata up to 64 characters",
        "an exdata of exactly 64 characters is refused with -100004",
        ("LIMIT-EXDATA",),
        request=_refuse_at_length("exdata", 64, Result.CUSTOM_FIELD_INVALID),
    ),
    _m(
        "svrtype-10-refused",
        "§2.1.5 svrtype up to 10 letters or digits",
        "an svrtype of exactly 10 characters is refused with -100252",
        ("LIMIT-SVRTYPE",),
        request=_refuse_at_length("svrtype", 10, Result.SVRTYPE_INVALID),
    ),
    _m(
        "svrtype-11-accepted",
        "§2.1.5 / §4 svrtype over 10 characters: -100252",
        "an svrtype of 11 characters is accepted (cut to 10)",
        ("LIMIT-SVRTYPE",),
        request=_cut_past("svrtype", 10),
    ),
    _m(
        "rpt-retsize-default-1",
        "§2.5.5 retsize absent or ≤ 0 means 500",
        "get_rpt without retsize (or ≤ 0) hands out one report",
        ("LIMIT-RPT-RETSIZE",),
        request=_default_retsize("get_rpt", 1),
    ),
    _m(
        "rpt-retsize-cap-501",
        "§2.5.5 at most 500 reports per get_rpt",
        "get_rpt with retsize over 500 hands out 501",
        ("LIMIT-RPT-RETSIZE",),
        request=_cap_plus_one("get_rpt", 500),
    ),
    _m(
        "rpt-retsize-cap-499",
        "§2.5.5 up to 500 reports per get_rpt",
        "get_rpt hands out at most 499 reports",
        ("LIMIT-RPT-RETSIZE",),
        request=_cap_at("get_rpt", 499),
    ),
    _m(
        "mo-retsize-default-1",
        "§2.4.5 retsize absent or ≤ 0 means 200",
        "get_mo without retsize (or ≤ 0) hands out one MO",
        ("LIMIT-MO-RETSIZE",),
        request=_default_retsize("get_mo", 1),
    ),
    _m(
        "mo-retsize-cap-201",
        "§2.4.5 at most 200 MOs per get_mo",
        "get_mo with retsize over 200 hands out 201",
        ("LIMIT-MO-RETSIZE",),
        request=_cap_plus_one("get_mo", 200),
    ),
    # -- msgid arithmetic, matching, phantom and repeated items
    _m(
        "segment-id-off-by-one",
        "§3.3 segment k of a long message: msgid + (k - 1) * 2^34",
        "reports of segments 2.. carry their msgid + 1",
        ("MATCH-SINGLE-LONG",),
        **on_reports(
            lambda r, s: {**r, "msgid": int(r["msgid"]) + 1} if int(r.get("pknum", 1)) > 1 else r
        ),
    ),
    _m(
        "batch-answer-msgid-minus-one",
        "§3.3 the mobile at position p has msgid + p - 1",
        "batch_send answers msgid - 1",
        ("MATCH-BATCH-MSGID",),
        answer=on_answer(
            ("batch_send",),
            lambda a, c: {**a, "msgid": a["msgid"] - 1} if a.get("result") == 0 else None,
        ),
    ),
    _m(
        "multi-answer-msgid-plus-one",
        "§3.3 multi_send item p has msgid + p - 1",
        "multi_send answers msgid + 1",
        ("MATCH-MULTI-MSGID",),
        answer=on_answer(
            ("multi_send",),
            lambda a, c: {**a, "msgid": a["msgid"] + 1} if a.get("result") == 0 else None,
        ),
    ),
    _m(
        "single-answer-msgid-wrong",
        "§2.1.6 the answer's msgid is the message's id in its reports",
        "single_send answers a msgid 2^20 away from the one its reports carry",
        ("MATCH-SINGLE-MSGID",),
        answer=on_answer(
            ("single_send",),
            lambda a, c: {**a, "msgid": a["msgid"] + (1 << 20)} if a.get("result") == 0 else None,
        ),
    ),
    _m(
        "phantom-report",
        "§2.5.6 a report is about a message that was sent",
        "every report answer (and push) carries one extra report of a msgid never sent",
        ("MATCH-NO-PHANTOM-REPORT",),
        answer=_phantom_answer,
        push=_phantom_push,
    ),
    _m(
        "report-repeated-next-fetch",
        "§2.5 each report is handed out once",
        "the first report of each answer comes again in the next one",
        ("MATCH-NO-DUPLICATE-REPORT",),
        answer=_repeat_later,
    ),
    _m(
        "report-duplicated-in-answer",
        "§2.5 each report is handed out once",
        "each report appears twice in the same get_rpt answer",
        ("MATCH-NO-DUPLICATE-REPORT",),
        answer=on_answer(
            ("get_rpt",),
            lambda a, c: (
                {**a, "rpts": [r for r in a["rpts"] for _ in (0, 1)]}
                if isinstance(a.get("rpts"), list)
                else None
            ),
        ),
    ),
    _m(
        "every-fifth-report-lost",
        "§2.5 / §2.8 every segment sent is reported",
        "every fifth report is never handed out",
        ("MATCH-ALL-REPORTED",),
        **on_reports(_drop_every(5)),
    ),
    _m(
        "never-reports",
        "§2.5 / §2.8 every segment sent is reported",
        "no report is ever handed out",
        ("MATCH-ALL-REPORTED",),
        **on_reports(lambda r, s: None),
    ),
    _m(
        "custid-rotated-in-reports",
        "§2.5.6 a report carries the custid of its own message",
        "the custids of the reports of one answer are rotated by one",
        ("MATCH-CUSTID",),
        answer=_custid_swapped,
    ),
    _m(
        "custid-echo-cut",
        "§2.1.6 the answer's custid is the request's custid",
        "send answers echo only the first 8 characters of custid",
        ("MATCH-SINGLE-MSGID", "MATCH-MULTI-MSGID"),
        answer=on_answer(
            SENDS,
            lambda a, c: (
                {**a, "custid": str(a.get("custid", ""))[:8]} if a.get("result") == 0 else None
            ),
        ),
    ),
    _m(
        "pktotal-always-1",
        "§2.8.1 pktotal is the number of segments of the message",
        "reports of long messages say pktotal 1",
        ("MATCH-PKNUM-PKTOTAL",),
        **on_reports(lambda r, s: {**r, "pktotal": 1}),
    ),
    _m(
        "pknum-zero-based",
        "§2.8.1 pknum counts segments from 1",
        "reports number segments from 0",
        ("MATCH-PKNUM-PKTOTAL",),
        **on_reports(lambda r, s: {**r, "pknum": int(r.get("pknum", 1)) - 1}),
    ),
    # -- timestamps
    _m(
        "slow-delivery-rtime-lies",
        "§2.1.3 delivery within 5 s (the suite's clock)",
        "reports held 6 s, their rtime set to stime (a lie of instant delivery)",
        ("BIZ-DELIVERY-5S", "RPT-TIMES-CLOCK"),
        answer=_hold_reports(6.0),
        report_hold=6.0,
    ),
    _m(
        "rtime-in-the-future",
        "§2.5.6 rtime is when the report came (not after it reached the suite)",
        "rtime one day ahead",
        ("RPT-TIMES-CLOCK",),
        **on_reports(lambda r, s: {**r, "rtime": shift_time(r.get("rtime"), 86400)}),
    ),
    _m(
        "rtime-before-stime",
        "§2.5.6 rtime ≥ stime",
        "rtime 60 s before stime",
        ("RPT-FIELDS", "RPT-TIMES-CLOCK"),
        **on_reports(lambda r, s: {**r, "rtime": shift_time(r.get("stime"), -60)}),
    ),
    _m(
        "stime-before-send",
        "§2.5.6 stime is when the message was submitted",
        "stime an hour before the send",
        ("RPT-TIMES-CLOCK",),
        **on_reports(
            lambda r, s: {
                **r,
                "stime": shift_time(r.get("stime"), -3600),
                "rtime": shift_time(r.get("rtime"), -3600),
            }
        ),
    ),
    _m(
        "time-with-slashes",
        "§2.5.6 stime / rtime are YYYY-MM-DD HH:MM:SS",
        "times written 2016/08/04 17:38:59",
        ("RPT-FIELDS",),
        **on_reports(
            lambda r, s: {
                **r,
                "stime": str(r.get("stime", "")).replace("-", "/"),
                "rtime": str(r.get("rtime", "")).replace("-", "/"),
            }
        ),
    ),
    # -- failure semantics
    _m(
        "failed-report-status-0",
        "§2.5.6 status 0 only for a delivered message (errcode DELIVRD)",
        "failed reports say status 0 (errcode kept)",
        ("RPT-FAILED-REPORT",),
        **on_reports(lambda r, s: {**r, "status": 0}),
    ),
    _m(
        "delivered-errcode-wrong",
        "§2.5.6 a delivered report has errcode DELIVRD",
        "delivered reports carry errcode UNDELIV with status 0",
        ("RPT-FIELDS", "RPT-FAILED-REPORT"),
        **on_reports(
            lambda r, s: {**r, "errcode": "UNDELIV"} if int(r.get("status", 1)) == 0 else r
        ),
    ),
    _m(
        "invalid-in-batch-refuses-all",
        "F2 (strict) an invalid number inside a batch gets its own failed report",
        "a batch or multi_send holding one invalid number is refused whole (-100012)",
        ("RPT-FAILED-REPORT",),
        request=_invalid_batch_refused,
    ),
    _m(
        "invalid-in-batch-dropped",
        "F2 (strict) an invalid number inside a batch gets its own failed report",
        "invalid numbers of a batch are silently left out (never reported)",
        ("RPT-FAILED-REPORT",),
        request=_invalid_batch_dropped,
    ),
    _m(
        "invalid-mobile-other-code",
        "§4 an invalid mobile: -100012",
        "an invalid mobile is refused with -100999",
        ("LIMIT-MOBILE-SINGLE-INVALID",),
        answer=_swap_code(Result.MOBILE_INVALID, Result.INTERNAL_ERROR),
    ),
    _m(
        "invalid-mobile-accepted",
        "§3.2 / §4 an invalid mobile is refused (-100012)",
        "single_send to an invalid number is accepted with a msgid",
        ("LIMIT-MOBILE-SINGLE-INVALID",),
        answer=on_answer(
            ("single_send",),
            lambda a, c: c.fake_send() if a.get("result") == Result.MOBILE_INVALID else None,
        ),
    ),
    _m(
        "arrears-accepted",
        "§4 an account without balance: -100003, nothing sent",
        "sends of the account in arrears are accepted",
        ("ERR-ARREARS",),
        request=_arrears_accepted,
    ),
    _m(
        "failure-result-as-string",
        "§2.1.6 result is an integer",
        'failure answers write result as a string ("-100001")',
        ("ERR-FAILURE-SHAPE", "CODEC-ANSWER-SCHEMA", "ERR-AUTH-SHAPE"),
        answer=on_answer(
            ("single_send", "batch_send", "multi_send", "get_mo", "get_rpt", "get_balance"),
            _result_string_on_failure,
        ),
    ),
    _m(
        "success-result-unreadable",
        "§2.1.6 result 0 is success",
        'success answers say result "OK"',
        ("CODEC-SEND-FORMATS", "CODEC-ANSWER-SCHEMA"),
        answer=on_answer(SENDS, _result_text),
    ),
    # -- authentication
    _m(
        "wrong-digest-locks-at-once",
        "§4 -100001 for a wrong digest",
        "a wrong digest is answered -100002 (as if locked)",
        ("AUTH-WRONG-DIGEST",),
        answer=_swap_code(Result.AUTH_FAILED, Result.AUTH_LOCKED),
    ),
    _m(
        "missing-timestamp-accepted",
        "§3.1 an md5 pwd needs its timestamp",
        "get_balance without timestamp is answered as authenticated",
        ("AUTH-MISSING-TIMESTAMP",),
        request=_no_timestamp_accepted,
    ),
    _m(
        "wrong-apikey-accepted",
        "§3.1 / §4 a wrong apikey: -100001",
        "any apikey is taken for the account's own",
        ("AUTH-APIKEY-WRONG",),
        request=_wrong_apikey_accepted,
    ),
    _m(
        "plain-password-refused",
        "§3.1 plaintext mode where the vendor enabled it",
        "a plaintext pwd is refused with -100001",
        ("AUTH-PLAIN",),
        request=_plain_refused,
    ),
    _m(
        "ip-allowlist-ignored",
        "§4 an address outside the allow-list: -100057",
        "the address allow-list is not enforced",
        ("AUTH-IP-ALLOWLIST",),
        answer=_ip_not_checked,
    ),
    # -- charging and balance
    _m(
        "never-charges",
        "§2.6 a billed send lowers the balance by its segments (chargetype 0)",
        "get_balance always answers the first balance it gave",
        ("BAL-CHARGED",),
        answer=on_answer(("get_balance",), _never_charge),
    ),
    _m(
        "charges-twice",
        "§2.6 a billed send lowers the balance by its segments (chargetype 0)",
        "the balance drops by twice the segments sent",
        ("BAL-CHARGED",),
        answer=on_answer(("get_balance",), _charge_double),
    ),
    _m(
        "money-two-decimals",
        '§2.6.6 money is a string with six decimals ("0.000000")',
        'money written with two decimals ("100000.00")',
        ("BAL-SHAPE",),
        answer=on_answer(
            ("get_balance",),
            lambda a, c: (
                {**a, "money": f"{float(a.get('money', 0)):.2f}"} if a.get("result") == 0 else None
            ),
        ),
    ),
    _m(
        "chargetype-missing",
        "§2.6.6 get_balance answers chargetype",
        "get_balance answers leave chargetype out",
        ("BAL-SHAPE", "CODEC-ANSWER-SCHEMA"),
        answer=on_answer(
            ("get_balance",), lambda a, c: {k: v for k, v in a.items() if k != "chargetype"}
        ),
    ),
    # -- encodings and content types
    _m(
        "json-answer-as-text-html",
        "§2.1.8 JSON answers are application/json",
        "JSON answers carry Content-Type text/html",
        ("CODEC-CONTENT-TYPE",),
        answer=_content_type("text/html; charset=utf-8"),
    ),
    _m(
        "xml-root-renamed",
        "§2.1.7 / §2.1.8 the XML answer's root element is the endpoint's",
        "XML answers have root <response>",
        ("CODEC-XML-REQUEST", "CODEC-ANSWER-SCHEMA"),
        answer=_renamed_xml_root,
    ),
    _m(
        "msgid-as-float",
        "§2.1.6 msgid is a long",
        "msgid written as a JSON float (1.234560e+17)",
        ("CODEC-ANSWER-SCHEMA", "MATCH-MSGID-TYPE"),
        answer=on_answer(SENDS, _msgid_float),
    ),
    _m(
        "mo-content-not-urlencoded",
        "§2.4.6 MO content is urlencoded UTF-8",
        "MO content given as raw text",
        ("MO-CONTENT-UTF8",),
        **on_mos(_mo_content_raw),
    ),
    _m(
        "mo-content-gbk",
        "§2.4.6 MO content is urlencoded UTF-8",
        "MO content urlencoded from GBK",
        ("MO-CONTENT-UTF8",),
        **on_mos(_mo_content_gbk),
    ),
    # -- push rules
    _m(
        "push-seqid-restarts",
        "§2.8.3 seqid grows by 1 with every push",
        "every push carries seqid 1",
        ("PUSH-SEQID",),
        push=_seqid_restarts,
        pushes=True,
    ),
    _m(
        "push-without-timestamp",
        "§2.8.3 / §3.1 a push carries the timestamp its digest is made with",
        "pushes leave timestamp out",
        ("PUSH-DIGEST",),
        push=_push_field("timestamp", None),
        pushes=True,
    ),
    _m(
        "push-pwd-in-clear",
        "§2.8.3 / §3.1 a push's pwd is the md5 digest",
        "pushes carry a pwd that is not the digest",
        ("PUSH-DIGEST",),
        push=_push_field("pwd", "0" * 32),
        pushes=True,
    ),
    _m(
        "push-cmd-wrong",
        "§2.8.3 a report push has cmd RPT_REQ",
        "report pushes say cmd RPT_RESP",
        ("PUSH-FORM",),
        push=_push_field("cmd", "RPT_RESP"),
        pushes=True,
    ),
    _m(
        "push-as-json-body",
        "§2.8.2 a push is a form-urlencoded POST",
        "pushes are sent as a JSON object",
        ("PUSH-FORM",),
        push=_push_json,
        pushes=True,
    ),
    _m(
        "push-sent-twice",
        "§2.8 each report is pushed once (again only when not acknowledged)",
        "every push is delivered twice",
        ("PUSH-SEQID", "MATCH-NO-DUPLICATE-REPORT"),
        push=_push_twice,
        pushes=True,
    ),
    _m(
        "push-refusal-ignored",
        "§2.8.4 result ≠ 0 (or no answer) means not received: push again",
        "the carrier takes any push answer as received: refused pushes are lost",
        ("PUSH-RETRY-REFUSED", "PUSH-RETRY-SILENT"),
        push_answer=_acknowledge_anything,
        pushes=True,
    ),
    _m(
        "push-never-sent",
        "§2.8 reports of a push account are pushed to its address",
        "report pushes are taken as sent but never reach the receiver",
        ("PUSH-DELIVERED",),
        push=lambda c: _acknowledge_anything(Reply(200, b"RPT", None)) if c.kind == "rpt" else None,
        pushes=True,
    ),
    # -- more: charging by message, repeated ids, echo, rates, answers
    _m(
        "charges-per-message",
        "§2.6 under chargetype 0 a send costs its segments",
        "the balance drops by one per message, a long one too",
        ("BAL-CHARGED",),
        answer=_charge_per_message,
    ),
    _m(
        "single-msgid-repeated",
        "§2.1.6 every message has its own msgid",
        "every second single_send answers the previous message's msgid",
        ("MATCH-UNIQUE-MSGID",),
        answer=on_answer(("single_send",), _same_msgid_again),
    ),
    _m(
        "report-mobile-rotated",
        "§2.5.6 a report carries the mobile of its message",
        "the mobiles of the reports of one answer are rotated by one",
        ("MATCH-CUSTID",),
        answer=_mobile_rotated,
    ),
    _m(
        "report-exdata-dropped",
        "§2.5.6 a report echoes the exdata of its request",
        "reports carry exdata empty",
        ("RPT-ECHO",),
        **on_reports(lambda r, s: {**r, "exdata": ""}),
    ),
    _m(
        "report-spno-other-channel",
        f"tender §2.1.2 one channel number ending in {CHANNEL_SUFFIX}",
        "reports of Unicom numbers name channel 10655012345",
        ("BIZ-CHANNEL-12122",),
        **on_reports(
            lambda r, s: (
                {**r, "spno": "10655012345"}
                if str(r.get("mobile", "")).startswith(("130", "131", "132", "155", "156", "186"))
                else r
            )
        ),
    ),
    _m(
        "one-in-twenty-fails",
        f"tender §2.1.3 delivery rate ≥ {DELIVERY_RATE_MIN:.0%}",
        "every twentieth report says the message failed (UNDELIV)",
        ("BIZ-DELIVERY-RATE",),
        **on_reports(_fail_every(20)),
    ),
    _m(
        "failure-as-http-500",
        "§2.x.9 a refusal is HTTP 200 with its §4 code",
        "failure answers come with HTTP 500",
        ("ERR-HTTP-200",),
        answer=_http_500_on_failure,
    ),
    _m(
        "undefined-error-code",
        "§4 result codes are those of the table",
        "an authentication failure answers -1",
        ("ERR-AUTH-SHAPE", "ERR-CODES-DEFINED"),
        answer=_swap_code(Result.AUTH_FAILED, -1),
    ),
    _m(
        "empty-rpts-as-string",
        "§2.5.6 rpts is an array on success, also when empty",
        'get_rpt without reports answers rpts ""',
        ("RPT-ANSWER-SHAPE",),
        answer=on_answer(
            ("get_rpt",), lambda a, c: {**a, "rpts": ""} if a.get("rpts") == [] else None
        ),
    ),
    _m(
        "form-sends-refused",
        "§2.1.7 a send may come form-urlencoded",
        "form-urlencoded single_send / multi_send are refused (-100001)",
        ("CODEC-FORM-REQUEST", "CODEC-MULTIMT-FORM"),
        request=_refuse_form,
    ),
    _m(
        "xml-answer-truncated",
        "§2.1.8 an XML answer is a well-formed document",
        "XML answers lose their closing root tag",
        ("CODEC-XML-WELL-FORMED", "CODEC-XML-REQUEST"),
        answer=_broken_xml,
    ),
    _m(
        "money-nonzero-under-count",
        "§2.6.6 under chargetype 0 money is 0.000000",
        'get_balance under chargetype 0 says money "1.000000"',
        ("BAL-SHAPE",),
        answer=on_answer(
            ("get_balance",),
            lambda a, c: (
                {**a, "money": "1.000000"}
                if a.get("result") == 0 and a.get("chargetype") == 0
                else None
            ),
        ),
    ),
    _m(
        "empty-optional-refused",
        "§2.1.5 an optional field sent empty means absent",
        "a send with custid, exdata or svrtype empty is refused (-100004)",
        ("LIMIT-EMPTY-OPTIONAL",),
        request=_empty_optional_refused,
    ),
    _m(
        "single-with-two-mobiles-accepted",
        "§2.1.5 single_send takes one mobile",
        "single_send to two numbers sends to the first",
        ("LIMIT-MOBILE-SINGLE-TWO",),
        request=on_request(
            ("single_send",),
            lambda c: c.with_fields(mobile=c.mobiles[0]) if len(c.mobiles) > 1 else None,
        ),
    ),
    _m(
        "empty-multimt-accepted",
        "§2.3.5 multimt holds at least one item",
        "multi_send with an empty multimt is accepted",
        ("LIMIT-MULTIMT-EMPTY",),
        request=on_request(
            ("multi_send",), lambda c: c.fake_send() if not c.fields.get("multimt") else None
        ),
    ),
    _m(
        "mo-msgid-as-string",
        "§2.4.6 an MO's msgid is a long",
        "MO msgid written as a string",
        ("MO-FIELDS",),
        **on_mos(lambda m: {**m, "msgid": str(m.get("msgid", ""))}),
    ),
    _m(
        "xml-balance-differs",
        "§2.1.8 the formats carry the same answer",
        "get_balance answered in XML says one more than in JSON",
        ("CODEC-EQUIVALENT-FORMATS",),
        answer=on_answer(
            ("get_balance",),
            lambda a, c: (
                {**a, "balance": a["balance"] + 1}
                if c.fmt is Format.XML and isinstance(a.get("balance"), int)
                else None
            ),
        ),
    ),
    _m(
        "wrapped-form-http-400",
        "§2.1.7 / C8 the document's examples: accepted, or refused with HTTP 200 and a §4 code",
        "a form body with a line break (as the document prints them) gets HTTP 400",
        ("CODEC-DOC-EXAMPLES",),
        request=lambda c: (
            Reply(400, b"bad request", "text/plain")
            if c.fmt is Format.FORM and b"\n" in c.body
            else None
        ),
    ),
    _m(
        "mo-spno-missing",
        "§2.4.6 an MO carries spno",
        "MOs leave spno out",
        ("MO-FIELDS",),
        **on_mos(lambda m: {k: v for k, v in m.items() if k != "spno"}),
    ),
    _m(
        "push-userid-other",
        "§2.8.3 a push carries the account's userid",
        "pushes name userid OTHER1",
        ("PUSH-DIGEST",),
        push=_push_field("userid", "OTHER1"),
        pushes=True,
    ),
    # -- the carrier that says yes to everything
    _m(
        "yes-to-everything",
        "every must-rule",
        "answers result 0 to everything itself, never a report or an MO",
        ("*",),
        request=lambda c: _yes_man(c),
    ),
)
BY_NAME: dict[str, Mutant] = {m.name: m for m in MUTANTS}
