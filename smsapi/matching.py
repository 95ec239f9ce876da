"""§3.3 how a status report finds the segment it reports, and what it says (§2.5.6)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from .mobile import classify
from .msgid import SEGMENT_STRIDE, wrap_int64


def report_pknum(report: dict[str, Any]) -> int:
    """§2.5.1 pknum of a report; a short message has pknum = pktotal = 1.
    A missing or zero pknum is read as 1 (lenient: some carriers send 0 for short)."""
    return max(_int(report.get("pknum"), 1), 1)


def report_pktotal(report: dict[str, Any]) -> int:
    """§2.5.1 pktotal of a report, read like report_pknum."""
    return max(_int(report.get("pktotal"), 1), 1)


def report_msgid(report: dict[str, Any]) -> int | None:
    """§2.5.6 the report's msgid (a long; a numeric string is read too), None if unreadable."""
    value = _int(report.get("msgid"), None)
    return None if value is None else wrap_int64(value)


def owner_msgid(segment_id: int, pknum: int = 1) -> int:
    """§3.3 inverse of msgid + (pknum - 1) * 2^34: the per-mobile msgid a segment belongs to."""
    if pknum <= 1:  # a short message's, first of all: its own
        return wrap_int64(segment_id)
    return wrap_int64(segment_id - (max(pknum, 1) - 1) * SEGMENT_STRIDE)


@lru_cache(maxsize=4096)
def custid_key(custid: str, mobile: str) -> tuple[str, str]:
    """§3.3 custid matching: custid + mobile, the mobile in any §3.2 form (its national
    one). Of a long message the report's pknum then names the segment (smsapi.ledger)."""
    return (custid, classify(mobile).national)


def names_other_message(report: dict[str, Any], mobile: str, custid: str) -> bool:
    """§3.3 the report names a mobile other than this one (in any §3.2 form), or a custid
    other than this one: a msgid that found this message for such a report is wrong, and
    custid + mobile decides. A report without mobile or custid leaves it to the msgid."""
    named = str(report.get("mobile", "") or "")
    if named and named != mobile and classify(named).national != classify(mobile).national:
        return True
    other = str(report.get("custid", "") or "")
    return bool(other and custid) and other != custid


def report_delivered(report: dict[str, Any]) -> bool:
    """§2.5.6 status 0: received by the handset; anything else is a failure."""
    return _int(report.get("status"), -1) == 0


def _int(value: Any, default: Any) -> Any:
    if type(value) is int:  # the usual case, first: a year's ledger reads 45 M of them
        return value
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default
