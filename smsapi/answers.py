"""The shape of every answer, success and failure (§2.x.8 / §2.x.9)."""

from __future__ import annotations

from typing import Any

from .errors import Result

MONEY_DECIMALS = 6  # §2.6.8 "money":"0.000000"


def format_money(micros: int) -> str:
    """Money as the document writes it: a string with six decimals."""
    sign = "-" if micros < 0 else ""
    whole, frac = divmod(abs(micros), 10**MONEY_DECIMALS)
    return f"{sign}{whole}.{frac:06d}"


def send_answer(result: int, msgid: int = 0, custid: str = "") -> dict[str, Any]:
    """§2.1.6 result, msgid, custid; §2.1.9 failure keeps the shape: msgid 0, custid ""."""
    if result != Result.OK:
        return {"result": int(result), "msgid": 0, "custid": ""}
    return {"result": 0, "msgid": msgid, "custid": custid}


def mo_answer(result: int, mos: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """§2.4.6 result, mos; §2.4.9 mos is "" on failure."""
    if result != Result.OK:
        return {"result": int(result), "mos": ""}
    return {"result": 0, "mos": mos or []}


def rpt_answer(result: int, rpts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """§2.5.6 result, rpts; §2.5.9 rpts is "" on failure."""
    if result != Result.OK:
        return {"result": int(result), "rpts": ""}
    return {"result": 0, "rpts": rpts or []}


def balance_answer(
    result: int, chargetype: int = 0, balance: int = 0, money_micros: int = 0
) -> dict[str, Any]:
    """§2.6.6 chargetype 0 counts messages (money 0), 1 counts money (balance 0);
    §2.6.9 failure: chargetype 0, balance 0, money "0.000000"."""
    if result != Result.OK:
        return {"result": int(result), "chargetype": 0, "balance": 0, "money": format_money(0)}
    if chargetype == 1:
        return {"result": 0, "chargetype": 1, "balance": 0, "money": format_money(money_micros)}
    return {"result": 0, "chargetype": 0, "balance": balance, "money": format_money(0)}


def failure_answer(endpoint: str, result: int) -> dict[str, Any]:
    """The failure answer of any endpoint, in the document's shape."""
    if endpoint == "get_mo":
        return mo_answer(result)
    if endpoint == "get_rpt":
        return rpt_answer(result)
    if endpoint == "get_balance":
        return balance_answer(result)
    return send_answer(result)


def push_answer(cmd: str, seqid: int, result: int = 0) -> dict[str, Any]:
    """§2.7.4 / §2.8.4 the receiver's answer: cmd MO_RESP / RPT_RESP, the same seqid."""
    return {"cmd": cmd, "seqid": seqid, "result": int(result)}
