"""Message content encodings: §2.1.5 MT content is urlencoded GBK; §2.4.6 MO content
is urlencoded UTF-8 (the §2.7.5 push example carries GBK: see docs/interpretations.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote_to_bytes

from .errors import ContentEncodingError

MT_CHARSET = "gbk"  # §2.1.5 urlencode（GBK明文）
MO_CHARSET = "utf-8"  # §2.4.6 urlencode（UTF-8明文）
_ESCAPE_RE = re.compile(r"%[0-9A-F]{2}")
_BAD_ESCAPE_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_ESCAPED_RE = re.compile(r"%[0-9A-Fa-f]{2}")


def urlencode_text(text: str, charset: str, errors: str = "strict") -> str:
    """Percent-encode every byte but letters, digits and -_.~, with lower-case hex as in
    the document's examples (%d1%e9...). With errors="strict", raises UnicodeEncodeError
    for characters the charset lacks."""
    encoded = quote(text.encode(charset, errors), safe="")
    return _ESCAPE_RE.sub(lambda m: m.group(0).lower(), encoded)


def encode_mt_content(text: str) -> str:
    """§2.1.5 content as a client sends it; ContentEncodingError names a character GBK
    lacks."""
    try:
        return urlencode_text(text, MT_CHARSET)
    except UnicodeEncodeError as exc:
        raise ContentEncodingError(*exc.args) from None


def encode_mo_content(text: str, charset: str = MO_CHARSET) -> str:
    """§2.4.6 MO content as the carrier answers it (unencodable characters become ?)."""
    return urlencode_text(text, charset, errors="replace")


@dataclass
class DecodedText:
    text: str
    issues: list[str] = field(default_factory=list)


def decode_text(value: str, charset: str) -> DecodedText:
    """Read an urlencoded text leniently, listing each deviation instead of failing.

    `+` stands for a space (form-style encoders such as Java's URLEncoder write it).
    """
    issues: list[str] = []
    if any(ord(ch) > 0x7F for ch in value):
        return DecodedText(value, ["content not urlencoded (raw non-ASCII text)"])
    if _BAD_ESCAPE_RE.search(value):
        issues.append("content has a '%' that starts no escape")
    raw = unquote_to_bytes(value.replace("+", " "))
    try:
        return DecodedText(raw.decode(charset), issues)
    except UnicodeDecodeError:
        issues.append(f"content bytes are not valid {charset.upper()}")
        return DecodedText(raw.decode(charset, errors="replace"), issues)


def decode_mt_content(value: str) -> DecodedText:
    """§2.1.5 content as the carrier reads it."""
    return decode_text(value, MT_CHARSET)


def mt_content_issues(value: str) -> list[str]:
    """§2.1.5 why a client's content is not urlencoded GBK (empty: it is). UTF-8 bytes
    often decode as GBK too (as mojibake), so they are named on their own."""
    return _with_utf8_issue(value, decode_mt_content(value)).issues


def _with_utf8_issue(value: str, decoded: DecodedText) -> DecodedText:
    raw_text = any("raw non-ASCII" in issue for issue in decoded.issues)
    if not raw_text and looks_like_utf8(unquote_to_bytes(value.replace("+", " "))):
        decoded.issues.append(
            "content bytes are UTF-8, not GBK (测试: UTF-8 %e6%b5%8b%e8%af%95, GBK %b2%e2%ca%d4)"
        )
    return decoded


def read_mt_content(value: str) -> DecodedText:
    """§2.1.5 content as the mock reads it, with every flag a real carrier would not
    raise: not GBK (mt_content_issues) and text lost before sending (lost_text_issue)."""
    decoded = _with_utf8_issue(value, decode_mt_content(value))
    lost = lost_text_issue(decoded.text)
    if lost:
        decoded.issues.append(lost)
    return decoded


_QUESTION_RUN_RE = re.compile(r"\?{2,}")


def lost_text_issue(text: str) -> str:
    """W3: a run of '?' is text lost to ISO-8859-1 (or ASCII) before it was urlencoded:
    the characters the charset lacks became '?'. A carrier sends it silently. "" if none."""
    match = _QUESTION_RUN_RE.search(text)
    if not match:
        return ""
    return (
        f"content has a run of {len(match.group(0))} '?': text lost to ISO-8859-1 before "
        "urlencoding? (encode the text as GBK, W3)"
    )


def looks_like_utf8(raw: bytes) -> bool:
    """Non-ASCII bytes that are valid UTF-8. Chinese text in GBK almost never is: its
    lead bytes (B0-F7) are UTF-8 continuation bytes or leads its trail bytes do not follow."""
    if raw.isascii():
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode_mo_content(value: str, charset: str = MO_CHARSET) -> DecodedText:
    """§2.4.6 MO content as a client reads it."""
    return decode_text(value, charset)


def is_percent_encoded(raw: bytes) -> bool:
    """ASCII holding at least one %XX escape: an already-urlencoded value."""
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return False
    return bool(_ESCAPED_RE.search(text))
