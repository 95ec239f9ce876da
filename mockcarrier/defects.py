"""Defect modes: named, deliberate deviations from the document, the mistakes real
carrier integrations make, so the conformance suite can prove it catches each one.

This module is the one place that knows a defect's name. The defects are a layer over
the carrier and its store: they transform what goes out, at a few seams, and the store
carries no defect parameter (a defect cannot slow the clean path):
- acceptance(): what a send asks the store to do (billing, report delay);
- HandOuts.take_reports(): the reports get_rpt hands out (reports-handed-twice);
- distort_answer() / distort_items(): answers and the items of pulls and pushes (ids,
  fields, a phantom); the pusher acknowledges the store's real ids, the wire carries
  these;
- pull_limit(), batch_limit(), exno_kept(), answer_format(), checks_auth(): limits and
  checks the service consults;
- push_limit(), HandOuts.push_seqid(), push_body(), push_acknowledged(): the pusher.
With no defect active each seam returns its input at once (`if not active`).
(docs/faults.md)
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from smsapi import push
from smsapi.codec import JSON_MEDIA, Format, json_body
from smsapi.endpoints import MAX_BATCH_MOBILES, SEND_ENDPOINTS
from smsapi.fields import TIME_FORMAT, parse_time
from smsapi.msgid import wrap_int64

from . import ids

if TYPE_CHECKING:
    from .stores.interface import Acceptance, Report


@dataclass(frozen=True)
class Defect:
    name: str
    area: str  # codec, auth, limits, msgid, reports, push, billing
    rule: str  # the section of the document it breaks
    description: str

    def to_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "area": self.area,
            "rule": self.rule,
            "description": self.description,
        }


_ALL = (
    Defect(
        "batch-msgid-off-by-one",
        "msgid",
        "§3.3 the mobile at position p has msgid + p - 1",
        "batch_send / multi_send answer msgid + 1, so every derived id is off by one",
    ),
    Defect(
        "wrong-segment-stride",
        "msgid",
        "§3.3 segment k has msgid + (k - 1) * 2^34",
        "segments of a long message are reported with a 2^32 stride",
    ),
    Defect(
        "xml-answered-in-json",
        "codec",
        "§2.1.8 XML requests are answered in XML",
        "XML requests get JSON answers",
    ),
    Defect(
        "msgid-as-string",
        "codec",
        "§2.1.6 / §2.5.6 msgid is a long (a JSON number)",
        "msgid written as a JSON string in answers, reports and MOs",
    ),
    Defect(
        "money-as-number",
        "codec",
        '§2.6.6 money is a string with six decimals ("0.000000")',
        "get_balance writes money as a JSON number",
    ),
    Defect(
        "failure-shape-broken",
        "codec",
        "§2.1.9 / §2.4.9 / §2.5.9 / §2.6.9 failure answers keep the success shape",
        'failure answers carry only {"result": code}',
    ),
    Defect(
        "auth-not-checked",
        "auth",
        "§3.1 pwd = md5(userid + 00000000 + password + timestamp)",
        "any pwd and timestamp are accepted for a known userid",
    ),
    Defect(
        "push-digest-upper-case",
        "auth",
        "§3.1 pwd is 32 lower-case characters",
        "pushes carry the md5 digest in upper case",
    ),
    Defect(
        "retsize-cap-ignored",
        "limits",
        "§2.4.5 / §2.5.5 retsize at most 200 MOs / 500 reports",
        "get_mo / get_rpt hand out as many as retsize asks (all when absent)",
    ),
    Defect(
        "retsize-cap-plus-one",
        "limits",
        "§2.4.5 / §2.5.5 retsize at most 200 MOs / 500 reports",
        "get_mo / get_rpt hand out one more than the cap (201 MOs / 501 reports)",
    ),
    Defect(
        "retsize-default-small",
        "limits",
        "§2.4.5 / §2.5.5 retsize ≤ 0 or absent means the cap (200 / 500)",
        "get_mo / get_rpt with retsize absent or ≤ 0 hand out 10",
    ),
    Defect(
        "exno-not-checked",
        "limits",
        "§2.1.5 an exno over 6 digits is invalid (ignored)",
        "single_send keeps any exno: it reaches the report's exno and spno",
    ),
    Defect(
        "balance-not-charged",
        "billing",
        "§2.6.6 a billed send lowers the balance by its segments",
        "sends are accepted and delivered but never lower the balance",
    ),
    Defect(
        "result-as-word",
        "codec",
        "§2.1.6 result is an int: 0 on success",
        'send answers say "result":"OK" instead of 0',
    ),
    Defect(
        "batch-limit-ignored",
        "limits",
        "§2.2.1 at most 1000 mobiles per batch (-100014)",
        "batch_send accepts any number of mobiles",
    ),
    Defect(
        "custid-not-echoed",
        "reports",
        "§2.1.6 the answer's custid is the request's custid",
        'send answers carry custid ""',
    ),
    Defect(
        "report-custid-missing",
        "reports",
        "§2.5.6 / §2.8.3 a report carries the custid of its message",
        'reports (pulled and pushed) carry custid ""',
    ),
    Defect(
        "pknum-zero-for-short",
        "reports",
        "§2.8.1 a short message has pknum = pktotal = 1",
        "short messages are reported with pknum 0 and pktotal 0",
    ),
    Defect(
        "time-iso-format",
        "reports",
        "§2.5.6 stime / rtime are YYYY-MM-DD HH:MM:SS",
        "stime / rtime written as 2016-08-04T17:38:59",
    ),
    Defect(
        "exdata-not-echoed",
        "reports",
        "§2.5.6 a report carries the exdata of its request",
        'reports (pulled and pushed) carry exdata ""',
    ),
    Defect(
        "phantom-report",
        "reports",
        "§3.3 every report names a message that was sent (by msgid, or custid + mobile)",
        "every get_rpt answer and report push carries one extra report matching nothing sent",
    ),
    Defect(
        "failed-report-delivrd",
        "reports",
        "§2.5.6 status 0 is success, non-zero failure; errcode DELIVRD only on success (M4)",
        "failed reports (an invalid number's too) carry errcode DELIVRD beside status 1",
    ),
    Defect(
        "late-reports-rtime-stime",
        "reports",
        "§2.5.6 rtime is when the handset received it; tender §2.1.3 delivery within 5 s",
        "every report comes 6 s (real time) late and writes rtime = stime (lying timestamps)",
    ),
    Defect(
        "report-times-utc",
        "reports",
        "§2.5.6 stime / rtime in China time (UTC+8)",
        "stime / rtime written in UTC: eight hours before the send by the client's clock",
    ),
    Defect(
        "reports-handed-twice",
        "reports",
        "§2.5 each report is handed out once",
        "get_rpt hands every report out twice",
    ),
    Defect(
        "seqid-not-increasing",
        "push",
        "§2.7.3 / §2.8.3 seqid grows by 1 with every request",
        "every push of an account and kind carries the same seqid",
    ),
    Defect(
        "push-over-limit",
        "push",
        "§2.8.1 at most 500 reports, §2.7.1 at most 100 MOs per push",
        "pushes carry up to 1000 reports / 200 MOs",
    ),
    Defect(
        "push-as-json",
        "push",
        "§2.7.2 / §2.7.5 a push is a form-urlencoded POST",
        "pushes are sent as a JSON object (application/json)",
    ),
    Defect(
        "push-no-retry",
        "push",
        "§2.7.4 / §2.8.4 result ≠ 0 (or no answer) means not received",
        "every push counts as acknowledged: failed pushes are lost",
    ),
)
DEFECTS: dict[str, Defect] = {d.name: d for d in _ALL}
OVER_LIMIT = {"rpt": 1000, "mo": 200}  # push-over-limit batch sizes
RETSIZE_SMALL_DEFAULT = 10  # retsize-default-small
SEGMENT_STRIDE_DEFECT = 2**32  # wrong-segment-stride
LATE_REPORT_S = 6.0  # late-reports-rtime-stime: real seconds, beyond the tender's 5
PHANTOM_OFFSET = 2**33  # phantom-report: an id between two segment strides, never given


def unknown(names: Collection[str]) -> list[str]:
    """The names that are no defect mode."""
    return sorted(set(names) - set(DEFECTS))


# The names the seams below test (each once, here).
TWICE = "reports-handed-twice"
SAME_SEQID = "seqid-not-increasing"


# ---------------------------------------------------------------- a send


def acceptance(active: Collection[str], accepted: Acceptance) -> Acceptance:
    """What a send asks the store to do, as the active defects change it: billed
    nothing (balance-not-charged), every report later (late-reports-rtime-stime)."""
    if not active:
        return accepted
    if "balance-not-charged" in active:
        accepted = dataclasses.replace(accepted, cost_count=0, cost_micros=0)
    if "late-reports-rtime-stime" in active:
        accepted = dataclasses.replace(accepted, delay=LATE_REPORT_S)
    return accepted


def batch_limit(active: Collection[str]) -> int:
    """§2.2.1 the most mobiles a batch_send takes (no limit under batch-limit-ignored)."""
    if active and "batch-limit-ignored" in active:
        return 2**31
    return MAX_BATCH_MOBILES


def exno_kept(active: Collection[str], raw: str, checked: str) -> str:
    """The exno a send keeps: the §2.1.5-checked one, or any (exno-not-checked)."""
    return raw if active and "exno-not-checked" in active and raw else checked


def checks_auth(active: Collection[str]) -> bool:
    """Whether a wrong pwd is refused (not under auth-not-checked)."""
    return not active or "auth-not-checked" not in active


# ---------------------------------------------------------------- answers and pulls


def answer_format(active: Collection[str], fmt: Format) -> Format:
    """§2.1.8 JSON for JSON and form requests, XML for XML (unless a defect)."""
    if fmt is Format.XML and "xml-answered-in-json" not in active:
        return Format.XML
    return Format.JSON


def pull_limit(active: Collection[str], retsize: int | None, capped: int) -> int:
    """How many items a get_mo / get_rpt hands out."""
    if not active:
        return capped
    if "retsize-cap-ignored" in active:
        return retsize if retsize and retsize > 0 else 1_000_000
    if "retsize-default-small" in active and not (retsize and retsize > 0):
        return RETSIZE_SMALL_DEFAULT
    if "retsize-cap-plus-one" in active and (not retsize or retsize <= 0 or retsize > capped):
        return capped + 1  # absent, ≤ 0 or over the cap: one more than the cap
    return capped


def distort_answer(active: Collection[str], endpoint: str, answer: dict[str, Any]) -> dict:
    """The answer as the active defects write it (a new dict; the input is kept)."""
    if not active:
        return answer
    out = dict(answer)
    ok = out.get("result") == 0
    if not ok and "failure-shape-broken" in active:
        return {"result": out.get("result")}
    if ok and endpoint in SEND_ENDPOINTS:
        if endpoint != "single_send" and "batch-msgid-off-by-one" in active:
            out["msgid"] = wrap_int64(int(out["msgid"]) + 1)
        if "custid-not-echoed" in active:
            out["custid"] = ""
        if "result-as-word" in active:
            out["result"] = "OK"
    if "msgid-as-string" in active and "msgid" in out:
        out["msgid"] = str(out["msgid"])
    if endpoint == "get_balance" and "money-as-number" in active:
        out["money"] = float(out["money"])
    for name in ("rpts", "mos"):
        if isinstance(out.get(name), list):
            out[name] = distort_items(active, name, out[name])
    return out


def distort_items(active: Collection[str], list_field: str, items: list[dict]) -> list[dict]:
    """Reports (rpts) or MOs (mos), pulled or pushed, as the active defects write them
    (new dicts; the store's ids in the input are kept for the acknowledgement)."""
    if not active:
        return items
    out = []
    for item in items:
        item = dict(item)
        if list_field == "rpts":
            item["msgid"] = report_id(active, int(item["msgid"]))
            if "report-custid-missing" in active:
                item["custid"] = ""
            if "pknum-zero-for-short" in active and item.get("pktotal") == 1:
                item["pknum"] = item["pktotal"] = 0
            _distort_report(active, item)
            if "time-iso-format" in active:
                for key in ("stime", "rtime"):
                    item[key] = str(item.get(key, "")).replace(" ", "T", 1)
        elif "time-iso-format" in active:
            item["rtime"] = str(item.get("rtime", "")).replace(" ", "T", 1)
        if "msgid-as-string" in active and "msgid" in item:
            item["msgid"] = str(item["msgid"])
        out.append(item)
    if list_field == "rpts" and "phantom-report" in active and items:
        phantom = dict(out[0], custid="phantom0")
        phantom["msgid"] = wrap_int64(int(items[0]["msgid"]) + PHANTOM_OFFSET)
        out.append(phantom)
    return out


def report_id(active: Collection[str], msgid: int) -> int:
    """The id a report carries out (pulled, pushed, shown in the console) for the store's
    real segment id msgid."""
    if active and "wrong-segment-stride" in active:
        return wrong_stride(msgid)
    return msgid


def wrong_stride(msgid: int) -> int:
    """wrong-segment-stride: a segment id rewritten from its real one (§3.3 stride 2^34)
    with a 2^32 stride: message id + (pknum - 1) * 2^32."""
    first = ids.message_msgid(msgid)
    pknum = ids.decompose(msgid)[2]
    if first is None or pknum == 1:
        return msgid
    return wrap_int64(first + (pknum - 1) * SEGMENT_STRIDE_DEFECT)


def _distort_report(active: Collection[str], item: dict) -> None:
    """The failure-semantics and timestamp defects of one report (in place)."""
    if "exdata-not-echoed" in active:
        item["exdata"] = ""
    if "failed-report-delivrd" in active and item.get("status") not in (0, None):
        item["errcode"] = "DELIVRD"
    if "report-times-utc" in active:
        for key in ("stime", "rtime"):
            moment = parse_time(item.get(key))
            if moment:
                item[key] = (moment - timedelta(hours=8)).strftime(TIME_FORMAT)
    if "late-reports-rtime-stime" in active:
        item["rtime"] = item.get("stime", "")


# ---------------------------------------------------------------- pushes


def push_limit(active: Collection[str], kind: str, configured: int) -> int:
    """The items of one push: the account's batch, or over §2.7.1/§2.8.1's limit."""
    if active and "push-over-limit" in active:
        return OVER_LIMIT[kind]
    return configured


def push_body(active: Collection[str], fields: dict[str, Any]) -> tuple[bytes, str]:
    """§2.7.2 a push's form body and media type, as the active defects write it."""
    if active:
        if "push-digest-upper-case" in active:
            fields = {**fields, "pwd": str(fields["pwd"]).upper()}
        if "push-as-json" in active:
            return json_body(fields), JSON_MEDIA
    return push.encode_push(fields)


def push_acknowledged(active: Collection[str], acknowledged: bool) -> bool:
    """Whether a push leaves the outbox: acknowledged, or any push (push-no-retry)."""
    return acknowledged or bool(active and "push-no-retry" in active)


# ---------------------------------------------------------------- the layer's memory


class HandOuts:
    """What the defect layer remembers, per process (each worker of a served mock has
    its own; a report is handed again by the process that handed it first):
    - reports-handed-twice: the reports get_rpt handed out once, handed out again by the
      next get_rpt of the account (the store hands each report out once, always);
    - seqid-not-increasing: the seqid each push lane repeats.
    Switching a defect off forgets its part."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._again: dict[str, list[Report]] = {}
        self._seqids: dict[tuple[str, str], int] = {}

    def take_reports(
        self, active: Collection[str], userid: str, limit: int, take: Callable[[int], list[Report]]
    ) -> list[Report]:
        """get_rpt's reports: take(limit) from the store, and under reports-handed-twice
        the ones handed out once before them."""
        if TWICE not in active:
            if self._again:
                with self._lock:
                    self._again.clear()
            return take(limit)
        with self._lock:
            again = self._again.pop(userid, [])
        handed, kept = again[:limit], again[limit:]
        fresh = take(limit - len(handed)) if len(handed) < limit else []
        with self._lock:
            waiting = self._again.setdefault(userid, [])
            waiting[:0] = kept
            waiting.extend(fresh)
        return handed + fresh

    def push_seqid(self, active: Collection[str], userid: str, kind: str, seqid: int) -> int:
        """The seqid a push carries: the lane's next, or (seqid-not-increasing) the one
        its first push under the defect carried."""
        if SAME_SEQID not in active:
            if self._seqids:
                with self._lock:
                    self._seqids.clear()
            return seqid
        with self._lock:
            return self._seqids.setdefault((userid, kind), seqid)
