"""§2.7 MO push and §2.8 report push: the carrier POSTs to the customer's URL.

Both sides live here: building a push request and judging its answer (the carrier),
reading a push request, checking its digest and answering it (a customer's receiver).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from .answers import push_answer
from .auth import china_now, digest, format_timestamp, secrets_equal, timestamp_skew
from .codec import (
    FORM_MEDIA,
    JSON_MEDIA,
    encode_form,
    json_body,
    loads_json,
    media_type_of,
    parse_form,
)
from .endpoints import MAX_PUSH_MOS, MAX_PUSH_RPTS
from .errors import CodecError


class PushKind(str, Enum):
    RPT = "rpt"  # §2.8 status reports
    MO = "mo"  # §2.7 inbound messages

    @property
    def cmd(self) -> str:
        """§2.7.3 / §2.8.3 cmd of the request: MO_REQ / RPT_REQ."""
        return "RPT_REQ" if self is PushKind.RPT else "MO_REQ"

    @property
    def answer_cmd(self) -> str:
        """§2.7.4 / §2.8.4 cmd of the answer: MO_RESP / RPT_RESP."""
        return "RPT_RESP" if self is PushKind.RPT else "MO_RESP"

    @property
    def list_field(self) -> str:
        return "rpts" if self is PushKind.RPT else "mos"

    @property
    def max_items(self) -> int:
        """§2.8.1 at most 500 reports, §2.7.1 at most 100 MOs per push."""
        return MAX_PUSH_RPTS if self is PushKind.RPT else MAX_PUSH_MOS

    @classmethod
    def of_cmd(cls, cmd: str) -> PushKind | None:
        for kind in cls:
            if cmd in (kind.cmd, kind.answer_cmd):
                return kind
        return None


# ---------------------------------------------------------------- the carrier's side


def push_fields(
    kind: PushKind,
    userid: str,
    password: str,
    seqid: int,
    items: list[dict[str, Any]],
    now: datetime | None = None,
) -> dict[str, Any]:
    """§2.7.3 / §2.8.3 the fields of one push, pwd digested (§3.1) with a fresh timestamp."""
    timestamp = format_timestamp(now or china_now())
    return {
        "userid": userid,
        "pwd": digest(userid, password, timestamp),
        "timestamp": timestamp,
        "cmd": kind.cmd,
        "seqid": seqid,
        kind.list_field: items,
    }


def encode_push(fields: dict[str, Any]) -> tuple[bytes, str]:
    """§2.7.2 a form-urlencoded POST body; the item list is a percent-encoded JSON array."""
    return encode_form(fields), FORM_MEDIA


def encode_push_as_example(fields: dict[str, Any]) -> tuple[bytes, str]:
    """§2.7.5 / §2.8.5 a push body as the document's examples write it: the other fields
    urlencoded, the item list a raw, unencoded JSON array (C5, S9)."""
    kind = PushKind.of_cmd(str(fields.get("cmd", "")))
    list_field = kind.list_field if kind else "rpts"
    others = {k: v for k, v in fields.items() if k != list_field}
    items = json.dumps(fields.get(list_field, []), separators=(",", ":"))
    return encode_form(others) + f"&{list_field}={items}".encode(), FORM_MEDIA


@dataclass
class PushVerdict:
    """Whether a push counts as received, and why not."""

    ok: bool
    reason: str = ""
    answer: dict[str, Any] | None = None


def judge_push_answer(kind: PushKind, seqid: int, status: int, body: bytes) -> PushVerdict:
    """§2.7.4 / §2.8.4 a push counts only when HTTP 200 brings JSON with the answer cmd,
    the same seqid and result 0; anything else means "not received, push again"."""
    answer, problems = push_answer_problems(kind, seqid, status, body)
    if "http" in problems:
        return PushVerdict(False, problems["http"])
    if problems:
        return PushVerdict(False, next(iter(problems.values())), answer)
    return PushVerdict(True, "", answer)


# The parts of a push answer, in the order judge_push_answer names the first one broken.
ANSWER_ASPECTS = ("http", "json", "cmd", "seqid", "result")


def push_answer_problems(
    kind: PushKind, seqid: int, status: int, body: bytes
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Every way an answer breaks §2.7.4 / §2.8.4, by aspect (ANSWER_ASPECTS), with the
    answer read as JSON (None when it is not a JSON object). No problem: acknowledged."""
    problems: dict[str, str] = {}
    if status != 200:
        problems["http"] = f"HTTP {status}"
    try:
        answer = loads_json(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, CodecError):
        problems["json"] = f"answer is not JSON: {body[:80]!r}"
        return None, problems
    if not isinstance(answer, dict):
        problems["json"] = "answer is not a JSON object"
        return None, problems
    if answer.get("cmd") != kind.answer_cmd:
        problems["cmd"] = f"cmd {answer.get('cmd')!r}, expected {kind.answer_cmd}"
    if _integer(answer.get("seqid")) != seqid:
        problems["seqid"] = f"seqid {answer.get('seqid')!r}, expected {seqid}"
    if _integer(answer.get("result")) != 0:
        problems["result"] = f"result {answer.get('result')!r}"
    return answer, problems


def _integer(value: Any) -> int | None:
    """An int, or a string of one (receivers written in some languages quote numbers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        try:
            return int(value.strip())
        except ValueError:  # over Python's 4 300-digit limit: not a seqid either
            return None
    return None


# ---------------------------------------------------------------- the receiver's side


@dataclass
class PushRequest:
    """One push as a receiver reads it."""

    cmd: str
    seqid: int | None
    userid: str
    pwd: str
    timestamp: str
    items: list[dict[str, Any]]
    kind: PushKind | None
    fmt: str = "form"  # "json" when the carrier sent a JSON body instead
    problems: list[str] = field(default_factory=list)


def parse_push_request(body: bytes, content_type: str | None = None) -> PushRequest:
    """Read a push body: form-urlencoded as §2.7.2 says (the JSON array may come
    percent-encoded or raw as in the §2.7.5 example), or a JSON object (recorded as a
    problem). Raises CodecError when it cannot be read at all."""
    problems: list[str] = []
    media = media_type_of(content_type)
    stripped = body.lstrip()
    if media == JSON_MEDIA or stripped[:1] == b"{":
        try:
            fields = loads_json(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, CodecError) as exc:
            raise CodecError(f"push body is not JSON: {exc}", body) from exc
        if not isinstance(fields, dict):
            raise CodecError("push body is not a JSON object", body)
        fmt = "json"
        problems.append("body is JSON, not form-urlencoded (§2.7.2/§2.8.2)")
    else:
        fields = parse_form(body)
        fmt = "form"
        if media and media != FORM_MEDIA:
            problems.append(f"Content-Type {media}, not {FORM_MEDIA}")
    cmd = str(fields.get("cmd", "")).strip()
    kind = PushKind.of_cmd(cmd)
    if kind is None or cmd != kind.cmd:
        problems.append(f"cmd {cmd!r} is neither RPT_REQ nor MO_REQ")
    seqid = _integer(fields.get("seqid"))
    if seqid is None:
        problems.append(f"seqid {fields.get('seqid')!r} is not an integer")
    raw_items = fields.get(kind.list_field if kind else "rpts", fields.get("mos"))
    if isinstance(raw_items, str):
        try:
            raw_items = loads_json(raw_items)
        except CodecError:
            problems.append("the item list is not a JSON array")
            raw_items = []
    if not isinstance(raw_items, list):
        problems.append("the item list is missing or not an array")
        raw_items = []
    items = [i for i in raw_items if isinstance(i, dict)]
    if kind is not None and len(items) > kind.max_items:
        problems.append(f"{len(items)} items, over the {kind.max_items} per push")
    return PushRequest(
        cmd=cmd,
        seqid=seqid,
        userid=str(fields.get("userid", "")).strip(),
        pwd=str(fields.get("pwd", "")).strip(),
        timestamp=str(fields.get("timestamp", "")).strip(),
        items=items,
        kind=kind,
        fmt=fmt,
        problems=problems,
    )


def verify_push_auth(
    request: PushRequest, password: str, now: datetime | None = None, tolerance: float = 600.0
) -> str:
    """ "" when pwd is the §3.1 digest (lower-case hex) of the timestamp and the timestamp
    is within tolerance seconds of now (China time; 0 skips that check), else why not."""
    if not request.timestamp:
        return "timestamp missing"
    expected = digest(request.userid, password, request.timestamp)
    if not secrets_equal(request.pwd, expected):
        if secrets_equal(request.pwd.lower(), expected):
            return "pwd is the digest in upper case (§3.1 定长小写32位)"
        return "pwd is not md5(userid + 00000000 + password + timestamp)"
    if tolerance > 0:
        skew = timestamp_skew(request.timestamp, now or china_now())
        if skew is None:
            return f"timestamp {request.timestamp!r} is not MMDDHHMMSS"
        if abs(skew) > tolerance:
            return f"timestamp {skew:+.0f} s from now (China time)"
    return ""


def push_answer_body(kind: PushKind, seqid: int, result: int = 0) -> bytes:
    """The receiver's JSON answer (§2.7.6 / §2.8.6)."""
    return json_body(push_answer(kind.answer_cmd, seqid, result))
