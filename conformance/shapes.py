"""Answer shapes: does an answer have the document's fields and types?

Each finding names the interpretation row that makes it profile-dependent (then the
strict profile fails it and the lenient one warns), or none (a plain failure).
The field lists and failure shapes come from smsapi; the JSON Schemas of `schemas/`
add their own findings when that package is installed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeGuard

from smsapi.answers import failure_answer
from smsapi.endpoints import ENDPOINTS, MO_FIELDS, REPORT_FIELDS
from smsapi.fields import parse_time
from smsapi.msgid import in_int64

MONEY_RE = re.compile(r"^-?\d+\.\d{6}$")  # §2.6.8 "money":"0.000000"
INTEGER_REPORT_FIELDS = ("msgid", "pknum", "pktotal", "status")


@dataclass(frozen=True)
class Finding:
    message: str
    rows: tuple[str, ...] = ()  # interpretation rows; empty: a failure in both profiles


def is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def msgid_findings(value: Any, where: str) -> list[Finding]:
    """§2.1.6 M1: msgid a JSON integer within signed 64-bit; a numeric string deviates."""
    if is_int(value):
        return [] if in_int64(value) else [Finding(f"{where} msgid {value} outside int64")]
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,20}", value.strip()):
        if not in_int64(int(value)):
            return [Finding(f"{where} msgid {value} outside int64")]
        return [Finding(f"{where} msgid is the string {value!r}, not a number", ("M1",))]
    return [Finding(f"{where} msgid {value!r} is not an integer")]


def answer_findings(endpoint: str, answer: dict[str, Any], fmt: str = "json") -> list[Finding]:
    """The fields of a six-endpoint answer against §2.x.6 and, on failure, §2.x.9.
    XML answers carry text only, so their integers are typed by smsapi before this."""
    findings: list[Finding] = []
    result = answer.get("result")
    if not is_int(result):
        return [Finding(f"result {result!r} is not an integer")]
    shape = failure_answer(endpoint, -1)
    missing = [k for k in shape if k not in answer]
    if missing:
        findings.append(Finding(f"fields missing: {', '.join(missing)}"))
    extra = ENDPOINTS[endpoint].list_field
    if result != 0:
        for key, value in shape.items():
            if key == "result" or key not in answer:
                continue
            got = answer[key]
            if key == extra and got in ("", None):
                continue
            if key == extra and got == []:
                findings.append(Finding(f'failure answer has {key} [] instead of ""', ("C10",)))
                continue
            if got != value and not (key == "msgid" and str(got) == "0"):
                findings.append(Finding(f"failure answer has {key} {got!r}, expected {value!r}"))
        return findings
    if endpoint in ("single_send", "batch_send", "multi_send"):
        findings += msgid_findings(answer.get("msgid"), "answer")
        if not isinstance(answer.get("custid"), str):
            findings.append(Finding(f"custid {answer.get('custid')!r} is not a string"))
    elif extra:
        value = answer.get(extra)
        if value == "":
            findings.append(Finding(f'{extra} is "" on success, not an array', ("C10",)))
        elif not isinstance(value, list):
            findings.append(Finding(f"{extra} is {type(value).__name__}, not an array"))
    else:
        findings += balance_findings(answer)
    return findings


def balance_findings(answer: dict[str, Any]) -> list[Finding]:
    """§2.6.6 M9: chargetype 0|1, balance an integer, money a six-decimal string."""
    findings = []
    chargetype, balance, money = (answer.get(k) for k in ("chargetype", "balance", "money"))
    if chargetype not in (0, 1) or not is_int(chargetype):
        findings.append(Finding(f"chargetype {chargetype!r} is neither 0 nor 1"))
    if not is_int(balance):
        findings.append(Finding(f"balance {balance!r} is not an integer"))
    if isinstance(money, (int, float)) and not isinstance(money, bool):
        findings.append(Finding(f"money is the number {money!r}, not a string", ("M9",)))
    elif not isinstance(money, str) or not MONEY_RE.match(money):
        findings.append(Finding(f"money {money!r} is not a six-decimal string"))
    if chargetype == 0 and isinstance(money, str) and MONEY_RE.match(money) and float(money):
        findings.append(Finding(f"chargetype 0 with money {money} (§2.6.6: money 0)"))
    if chargetype == 1 and balance not in (0, None):
        findings.append(Finding(f"chargetype 1 with balance {balance} (§2.6.6: balance 0)"))
    return findings


def report_findings(report: dict[str, Any]) -> list[Finding]:
    """§2.5.6 table 5-3: every field, integers as integers, times YYYY-MM-DD HH:MM:SS,
    rtime ≥ stime (M7), status 0 with errcode DELIVRD (M4)."""
    findings = []
    missing = [k for k in REPORT_FIELDS if k not in report]
    if missing:
        findings.append(Finding(f"report fields missing: {', '.join(missing)}"))
    findings += msgid_findings(report.get("msgid"), "report")
    for key in INTEGER_REPORT_FIELDS[1:]:
        if key in report and not is_int(report[key]):
            findings.append(Finding(f"report {key} {report[key]!r} is not an integer"))
    times = {k: parse_time(report.get(k)) for k in ("stime", "rtime")}
    for key, moment in times.items():
        if key in report and moment is None:
            findings.append(Finding(f"report {key} {report[key]!r} is not YYYY-MM-DD HH:MM:SS"))
    if times["stime"] and times["rtime"] and times["rtime"] < times["stime"]:
        findings.append(Finding(f"rtime {report['rtime']} before stime {report['stime']} (M7)"))
    if report.get("status") == 0 and report.get("errcode") != "DELIVRD":
        findings.append(
            Finding(f"status 0 with errcode {report.get('errcode')!r}, not DELIVRD", ("M4",))
        )
    if report.get("status") not in (0, None) and report.get("errcode") == "DELIVRD":
        findings.append(Finding(f"status {report.get('status')} with errcode DELIVRD", ("M4",)))
    return findings


def mo_findings(mo: dict[str, Any]) -> list[Finding]:
    """§2.4.6 table 4-3: every field; rtime YYYY-MM-DD HH:MM:SS."""
    findings = []
    missing = [k for k in MO_FIELDS if k not in mo]
    if missing:
        findings.append(Finding(f"MO fields missing: {', '.join(missing)}"))
    findings += msgid_findings(mo.get("msgid"), "MO")
    if "rtime" in mo and parse_time(mo.get("rtime")) is None:
        findings.append(Finding(f"MO rtime {mo.get('rtime')!r} is not YYYY-MM-DD HH:MM:SS"))
    return findings
