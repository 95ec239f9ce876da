"""§3.2 mobile number rules and operator classification."""

from __future__ import annotations

import re
from enum import Enum
from typing import NamedTuple


class Operator(str, Enum):
    CHINA_MOBILE = "china_mobile"
    CHINA_UNICOM = "china_unicom"
    CHINA_TELECOM = "china_telecom"
    MAINLAND_OTHER = "mainland_other"  # a 1[3-9] number in no allocated segment
    INTERNATIONAL = "international"
    INVALID = "invalid"

    @property
    def label_zh(self) -> str:
        return {
            "china_mobile": "中国移动",
            "china_unicom": "中国联通",
            "china_telecom": "中国电信",
            "mainland_other": "其他号段",
            "international": "国际",
            "invalid": "无效号码",
        }[self.value]


# Number segments in use (MIIT allocation). 192 (China Broadnet) rides China Mobile's
# network and is listed with it; virtual operators' 170x / 16x blocks by their host.
_PREFIXES: dict[Operator, tuple[str, ...]] = {
    Operator.CHINA_MOBILE: (
        "1340",
        "1341",
        "1342",
        "1343",
        "1344",
        "1345",
        "1346",
        "1347",
        "1348",
        "135",
        "136",
        "137",
        "138",
        "139",
        "147",
        "148",
        "150",
        "151",
        "152",
        "157",
        "158",
        "159",
        "165",
        "172",
        "178",
        "182",
        "183",
        "184",
        "187",
        "188",
        "192",
        "195",
        "197",
        "198",
        "1703",
        "1705",
        "1706",
    ),
    Operator.CHINA_UNICOM: (
        "130",
        "131",
        "132",
        "145",
        "146",
        "155",
        "156",
        "166",
        "167",
        "171",
        "175",
        "176",
        "185",
        "186",
        "196",
        "1704",
        "1707",
        "1708",
        "1709",
    ),
    Operator.CHINA_TELECOM: (
        "133",
        "1349",
        "149",
        "153",
        "162",
        "173",
        "174",
        "177",
        "180",
        "181",
        "189",
        "190",
        "191",
        "193",
        "199",
        "1700",
        "1701",
        "1702",
    ),
}
# Longest prefix first so 1349 (Telecom) wins over 134x (Mobile).
_PREFIX_TABLE = sorted(
    ((prefix, op) for op, prefixes in _PREFIXES.items() for prefix in prefixes),
    key=lambda item: -len(item[0]),
)
_BY_PREFIX = dict(_PREFIX_TABLE)
_PREFIX_LENGTHS = sorted({len(prefix) for prefix in _BY_PREFIX}, reverse=True)
# The validation Chinese platforms apply: 11 digits, 1 then 3-9. Numbers in segments not
# allocated yet (154, 16x, 179...) pass it too, so they are valid but of no known operator.
# (1[3-9] and nine more digits: mainland_operator checks it by string methods.)
# §3.2 国外号码: 00 + 国际电话区号 + 手机号码 (E.164: at most 15 digits after 00)
_INTERNATIONAL_RE = re.compile(r"^00[1-9]\d{6,14}$")
CHINA_PREFIX = "0086"  # §3.2 mixed batches write mainland numbers as 0086 + number


class MobileNumber(NamedTuple):
    """A number as classified; a named tuple: a batch makes a thousand, and a frozen
    dataclass costs an object.__setattr__ per field each time."""

    raw: str
    national: str  # the number without the 0086 prefix (international ones unchanged)
    operator: Operator

    @property
    def valid(self) -> bool:
        return self.operator is not _INVALID


_INVALID = Operator.INVALID  # read a thousand times a batch: one lookup of the Enum


def mainland_operator(number: str) -> Operator:
    """Operator of an 11-digit mainland number by its segment; INVALID when the number
    is not 1[3-9] plus 9 digits."""
    # ^1[3-9]\d{9}$ by string methods (a batch classifies a thousand numbers): isdecimal()
    # is \d's class (Unicode Nd); no trailing newline, which $ would let through.
    if len(number) != 11 or not number.isdecimal():
        return Operator.INVALID
    operator = _BY_SEGMENT.get(number[:4])  # one lookup for every ASCII 1[3-9]xx
    if operator is not None:
        return operator
    if number[0] == "1" and number[1] in _SECOND_DIGITS:  # a Unicode digit in 3rd or 4th
        return segment_operator(number)
    return Operator.INVALID


def segment_operator(number: str) -> Operator:
    """The operator of a 1[3-9] number's allocated segment, the longest prefix first
    (1349 is Telecom's, 134x Mobile's); MAINLAND_OTHER in no allocated segment."""
    for length in _PREFIX_LENGTHS:
        operator = _BY_PREFIX.get(number[:length])
        if operator is not None:
            return operator
    return Operator.MAINLAND_OTHER


_SECOND_DIGITS = frozenset("3456789")  # 1[3-9]
# segment_operator worked out once for each of the 700 ASCII first four digits 1[3-9]xx
_BY_SEGMENT: dict[str, Operator] = {
    s: segment_operator(s) for s in (f"1{n:03d}" for n in range(300, 1000))
}


def classify(raw: str) -> MobileNumber:
    """§3.2 mainland without prefix, 0086 + mainland, or 00 + country code + number."""
    number = raw.strip()
    if len(number) == 11 and number[0] == "1":  # the common case, asked first
        return MobileNumber(raw, number, mainland_operator(number))
    if number.startswith(CHINA_PREFIX) and len(number) == 15:
        national = number[len(CHINA_PREFIX) :]
        return MobileNumber(raw, national, mainland_operator(national))
    if number.startswith("00"):
        valid = bool(_INTERNATIONAL_RE.match(number)) and not number.startswith(CHINA_PREFIX)
        return MobileNumber(raw, number, Operator.INTERNATIONAL if valid else Operator.INVALID)
    return MobileNumber(raw, number, mainland_operator(number))


def split_mobiles(field: str) -> list[str]:
    """§2.2.5 多个手机号请用英文逗号分隔: items as sent, whitespace around each trimmed."""
    return [item.strip() for item in field.split(",")]
