"""What the admin API and the console do, as plain functions over the carrier.

The admin views and the console's forms both call these, so a click in the console is
exactly the call a test makes through /__admin/.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from smsapi.answers import format_money
from smsapi.msgid import in_int64

from . import control, ids
from .config import ConfigError, to_micros
from .defects import DEFECTS
from .delivery import FAILED_STATUS
from .service import Carrier, carrier_time
from .stores import AccountRecord

MAX_LIMIT = 1000
MAX_DELAY_SECONDS = 7 * 86400.0
MAX_ERRCODE_CHARS = 20  # operators' stat codes are 7 characters (UNDELIV, MK:0005)


class AdminError(Exception):
    """A refused admin call: an HTTP status and one line saying why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def account(carrier: Carrier, userid: str) -> AccountRecord:
    record = carrier.store.account(userid.strip().upper())
    if record is None:
        raise AdminError(404, f"no account {userid}")
    return record


def account_view(record: AccountRecord, reveal: bool = False) -> dict[str, Any]:
    """An account as the admin API shows it: secrets masked unless revealed."""
    return {
        **record.config.public_dict(reveal),
        "balance": record.balance,
        "money": format_money(record.money_micros),
    }


def top_up(carrier: Carrier, record: AccountRecord, data: dict[str, Any]) -> dict[str, Any]:
    """{"count": N} adds messages, {"money": "12.5"} adds yuan."""
    count, micros = balance_amounts(data.get("count") or 0, data.get("money") or 0)
    assert count is not None and micros is not None
    if count < 0 or micros < 0:  # a top-up adds; PUT .../balance sets any value
        raise AdminError(400, "a top-up adds: count and money are 0 or more")
    check_balance_range(record.balance + count, record.money_micros + micros, "would reach")
    return account_view(carrier.store.top_up(record.userid, count, micros))


# Bounds of the balance (messages) and money (micro-yuan) the admin API and the console
# may set or reach: far above any test's need, far below SQLite's 64-bit integers and the
# Redis store's Lua numbers (doubles, exact to 2^53), so no top-up can overflow a counter.
MAX_BALANCE = 10**15
MAX_MONEY_MICROS = 10**15  # a thousand million yuan


def balance_amounts(
    count: Any, money: Any, count_name: str = "count"
) -> tuple[int | None, int | None]:
    """A balance change of the admin API or the console (top-up, PUT balance): count
    messages and money yuan as micro-yuan, None where not given, range-checked; any
    other value is an AdminError 400, never a store overflow (HTTP 500)."""
    try:
        messages = None if count is None else int(count)  # int(inf): OverflowError
        micros = None if money is None else to_micros(money)
    except (ValueError, TypeError, ArithmeticError, ConfigError) as exc:
        raise AdminError(400, f"{count_name} is an integer, money an amount: {exc}") from exc
    check_balance_range(messages, micros)
    return messages, micros


def check_balance_range(messages: int | None, micros: int | None, verb: str = "is") -> None:
    """Balance and money within ±MAX_BALANCE messages and ±MAX_MONEY_MICROS."""
    if messages is not None and abs(messages) > MAX_BALANCE:
        raise AdminError(400, f"balance {verb} {messages}: out of range (at most ±{MAX_BALANCE})")
    if micros is not None and abs(micros) > MAX_MONEY_MICROS:
        raise AdminError(
            400,
            f"money {verb} {format_money(micros)}: out of range "
            f"(at most ±{format_money(MAX_MONEY_MICROS)})",
        )


MO_INJECT_MAX = 1000  # MOs one injection call may make


def inject_mo(carrier: Carrier, record: AccountRecord, data: dict[str, Any]) -> dict[str, Any]:
    """A reply from a phone: {"mobile", "content" (plain text), "exno"?, "rtime"?,
    "count"? (that many replies at once)}."""
    mobile, content = str(data.get("mobile") or "").strip(), data.get("content")
    if not mobile or not isinstance(content, str) or not content:
        raise AdminError(400, "mobile and content (plain text) are required")
    count = data.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MO_INJECT_MAX:
        raise AdminError(400, f"count is an integer from 1 to {MO_INJECT_MAX}")
    exno, rtime = str(data.get("exno") or ""), str(data.get("rtime") or "")
    mos = [carrier.inject_mo(record.userid, mobile, content, exno, rtime) for _ in range(count)]
    # one MO answers as before; several (the conformance suite's retsize check) as a list
    return mos[0] if "count" not in data else {"injected": count, "mos": mos}


def reset(carrier: Carrier, record: AccountRecord) -> dict[str, Any]:
    """Forget messages, reports and MOs; balance back to its configured start; an account
    of the configuration gets its configured settings back (the only thing that undoes a
    PATCH: mockcarrier.seeding)."""
    configured = next((a for a in carrier.settings.accounts if a.userid == record.userid), None)
    if configured is not None:
        carrier.store.put_account(configured)
    carrier.store.reset(record.userid, configured or record.config)
    return account_view(account(carrier, record.userid))


def message_ids_for(value: str) -> tuple[int, ...]:
    """The per-mobile id that any §3.3 id (per-mobile or per-segment) belongs to."""
    try:
        msgid = int(value.strip())
    except ValueError as exc:
        raise AdminError(400, "msgid is an integer") from exc
    found = ids.message_msgid(msgid) if in_int64(msgid) else None
    return () if found is None else (found,)


def clamp_limit(value: Any, default: int = 100) -> int:
    try:
        limit = int(value)
    except (TypeError, ValueError):
        limit = default
    return max(1, min(limit, MAX_LIMIT))


def find_messages(
    carrier: Carrier,
    record: AccountRecord,
    *,
    mobile: str = "",
    custid: str = "",
    msgid: str = "",
    limit: int = 100,
) -> list[dict[str, Any]]:
    """What was sent, every filter given applying (msgid: any per-mobile or segment id)."""
    msgids = message_ids_for(msgid) if msgid.strip() else ()
    if msgid.strip() and not msgids:
        return []
    return carrier.store.messages(
        record.userid, mobile=mobile, custid=custid, msgids=msgids, limit=clamp_limit(limit)
    )


def search(
    carrier: Carrier, record: AccountRecord, query: str, limit: int = 100
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(messages, MOs) a search box finds: the text as a mobile, a custid or any msgid."""
    query = query.strip()
    limit = clamp_limit(limit)
    if not query:
        return (
            carrier.store.messages(record.userid, limit=limit),
            carrier.store.list_mos(record.userid, limit=limit),
        )
    found: dict[int, dict[str, Any]] = {}
    for row in find_messages(carrier, record, mobile=query, limit=limit) + find_messages(
        carrier, record, custid=query, limit=limit
    ):
        found[row["msgid"]] = row
    mos = carrier.store.list_mos(record.userid, mobile=query, limit=limit)
    if query.lstrip("-").isdigit():
        for row in find_messages(carrier, record, msgid=query, limit=limit):
            found[row["msgid"]] = row
        if in_int64(int(query)):
            mos += carrier.store.list_mos(record.userid, msgid=int(query), limit=1)
    messages = sorted(found.values(), key=lambda row: row["msgid"], reverse=True)
    return messages[:limit], mos


def list_mos(
    carrier: Carrier, record: AccountRecord, *, mobile: str = "", limit: int = 200
) -> list[dict[str, Any]]:
    return carrier.store.list_mos(record.userid, mobile=mobile.strip(), limit=clamp_limit(limit))


def reports(carrier: Carrier, record: AccountRecord, state: str = "pending") -> list[dict]:
    return carrier.store.reports(record.userid, state)


def mark_message(
    carrier: Carrier, record: AccountRecord, msgid: int, data: dict[str, Any]
) -> dict[str, Any]:
    """Change the fate of a message's reports not handed out yet:
    {"fate": "failed", "errcode"?: "UNDELIV"} reports it failed now;
    {"fate": "delayed", "seconds": S} reports it S simulated seconds from now."""
    message = ids.message_msgid(msgid) if in_int64(msgid) else None
    rows = carrier.store.messages(record.userid, msgids=(message,), limit=1) if message else []
    if not rows:
        raise AdminError(404, f"no message {msgid} in account {record.userid}")
    fate = data.get("fate")
    failure = None
    seconds = 0.0
    if fate == "failed":
        errcode = str(data.get("errcode") or "UNDELIV").strip()
        if not errcode or len(errcode) > MAX_ERRCODE_CHARS or not errcode.isprintable():
            raise AdminError(400, f"errcode is 1 to {MAX_ERRCODE_CHARS} printable characters")
        failure = (FAILED_STATUS, errcode, "fail")
    elif fate == "delayed":
        try:
            seconds = float(data.get("seconds", ""))
        except (TypeError, ValueError) as exc:
            raise AdminError(400, "seconds is a number") from exc
        if not 0 <= seconds <= MAX_DELAY_SECONDS:
            raise AdminError(400, f"seconds lies in [0, {MAX_DELAY_SECONDS:.0f}]")
    else:
        raise AdminError(400, 'fate is "failed" or "delayed"')
    changed = carrier.store.reschedule_reports(
        record.userid,
        rows[0]["msgid"],
        due_at=time.time() + seconds / carrier.settings.time_scale,
        rtime=carrier_time(carrier.now() + timedelta(seconds=seconds)),
        failure=failure,
    )
    if not changed:
        raise AdminError(409, f"message {rows[0]['msgid']} has no report left to change")
    return carrier.store.messages(record.userid, msgids=(rows[0]["msgid"],), limit=1)[0]


def switch_defect(carrier: Carrier, name: str, on: bool) -> list[str]:
    """Turn one defect mode on or off, the others as they are; the active modes."""
    if name not in DEFECTS:
        raise AdminError(404, f"no defect mode {name}; GET /__admin/defects lists them")
    active = set(carrier.control().defects)
    if on:
        active.add(name)
    else:
        active.discard(name)
    return control.set_defects(carrier.store, sorted(active))


def delete_fault(carrier: Carrier, fault_id: int) -> None:
    """Remove one forced error rule."""
    if not carrier.store.delete_faults(fault_id):
        raise AdminError(404, f"no fault {fault_id}")


def defects_view(carrier: Carrier) -> list[dict[str, Any]]:
    """Every defect mode with whether it is on (admin API and console)."""
    active = carrier.control().defects
    return [{**d.to_dict(), "enabled": d.name in active} for d in DEFECTS.values()]


def attempt_view(row: dict[str, Any]) -> dict[str, Any]:
    """One push attempt as the admin API and the console show it."""
    out = dict(row)
    out["ok"] = bool(out["ok"])
    out["msgids"] = [out.pop("first_msgid"), out.pop("last_msgid")]
    return out
