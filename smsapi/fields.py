"""Field rules of the request tables (§2.1.5, §2.3.5, §2.4.5): each returns the §4 code
a violation earns, or None."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from .errors import Result

USERID_MAX = 6  # §2.1.5 长度最大6个字符，统一大写
SVRTYPE_RE = re.compile(r"^[A-Za-z0-9]{0,10}$")  # §2.1.5 最大10个长度的英文字母、数字
EXNO_RE = re.compile(r"^[0-9]{0,6}$")  # §2.1.5 扩展号长度不能超过6位
CUSTOM_CHARS_RE = re.compile(r"^[A-Za-z0-9_-]*$")  # §2.1.5 字母、数字、下划线、减号
CUSTOM_MAX = 64  # §2.1.5 custid / exdata 最大64位
CHANNEL_EXNO_MAX = 20  # §2.1.5 通道号+扩展号的总长度不能超过20位
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # §2.4.6 / §2.5.6 rtime, stime: YYYY-MM-DD HH:MM:SS


def text_value(value: Any) -> str:
    """A scalar field as text, whitespace around it trimmed; absent, null → "".

    Clients send numbers for mobile or timestamp, and the document's own examples pad
    values with spaces (" SMS001", "94d "): a tolerant reader accepts both.
    """
    if value is None or isinstance(value, (list, dict)):
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value).strip()


def int_value(value: Any) -> int | None:
    """An integer field (retsize) from JSON number or text; None when absent or not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = text_value(value)
    if re.fullmatch(r"[+-]?\d{1,30}", text):
        return int(text)
    return None


def svrtype_rule(svrtype: str) -> Result | None:
    """§2.1.5 svrtype: at most 10 letters or digits, else -100252."""
    return None if SVRTYPE_RE.match(svrtype) else Result.SVRTYPE_INVALID


def custom_field_rule(value: str) -> Result | None:
    """§2.1.5 custid / exdata: at most 64 of [A-Za-z0-9_-]; too long → -100253
    (自定义参数超长), other characters → -100004."""
    if len(value) > CUSTOM_MAX:
        return Result.CUSTOM_PARAM_TOO_LONG
    if not CUSTOM_CHARS_RE.match(value):
        return Result.CUSTOM_FIELD_INVALID
    return None


def effective_exno(exno: str, channel: str) -> str:
    """§2.1.5 exno of at most 6 digits, and channel + exno at most 20 digits, else the
    exno is ignored (若超出则exno无效) rather than refused."""
    if not EXNO_RE.match(exno) or len(channel) + len(exno) > CHANNEL_EXNO_MAX:
        return ""
    return exno


def spno(channel: str, exno: str) -> str:
    """§2.4.6 spno 完整的通道号: the channel number followed by the extension."""
    return channel + exno


def userid_rule(userid: str) -> bool:
    """§2.1.5 userid: 1..6 characters (upper case; lower case is tolerated by lookup)."""
    return 0 < len(userid) <= USERID_MAX


def parse_time(value: Any) -> datetime | None:
    """§2.5.6 stime / rtime (YYYY-MM-DD HH:MM:SS, China time); None when not that form."""
    text = value if isinstance(value, str) else ""
    if len(text) != 19:
        return None
    try:
        return datetime.strptime(text, TIME_FORMAT)
    except ValueError:
        return None
