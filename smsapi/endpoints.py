"""The six endpoints of attachment 6 and the names the document gives their parts."""

from __future__ import annotations

from dataclasses import dataclass

BASE_PATH = "/sms/v2/std"  # §2.x.2 http://ip:port/sms/v2/std/<name>


@dataclass(frozen=True)
class Endpoint:
    name: str
    request_root: str  # XML root of the request
    answer_root: str  # XML root of the answer
    list_field: str | None = None  # mos / rpts in pull answers
    list_item: str | None = None  # mo / rpt: the XML element of one item
    retsize_cap: int | None = None  # §2.4.5 / §2.5.5 maximum and default retsize

    @property
    def path(self) -> str:
        return f"{BASE_PATH}/{self.name}"


SINGLE_SEND = Endpoint("single_send", "mtreq", "mtrsp")
BATCH_SEND = Endpoint("batch_send", "mtreq", "mtrsp")
MULTI_SEND = Endpoint("multi_send", "mtreq", "mtrsp")
GET_MO = Endpoint("get_mo", "moreq", "morsp", "mos", "mo", retsize_cap=200)
GET_RPT = Endpoint("get_rpt", "rptreq", "rptrsp", "rpts", "rpt", retsize_cap=500)
GET_BALANCE = Endpoint("get_balance", "feereq", "feersp")

ENDPOINTS: dict[str, Endpoint] = {
    e.name: e for e in (SINGLE_SEND, BATCH_SEND, MULTI_SEND, GET_MO, GET_RPT, GET_BALANCE)
}
SEND_ENDPOINTS = ("single_send", "batch_send", "multi_send")

# §2.5.6 table 5-3 / §2.8.3 table 8-2: the fields of one status report, in order
REPORT_FIELDS = (
    "msgid",
    "custid",
    "pknum",
    "pktotal",
    "mobile",
    "spno",
    "exno",
    "stime",
    "rtime",
    "status",
    "errcode",
    "errdesc",
    "exdata",
)
# §2.4.6 table 4-3 / §2.7.3 table 7-2: the fields of one MO
MO_FIELDS = ("msgid", "mobile", "spno", "exno", "rtime", "content")

MAX_BATCH_MOBILES = 1000  # §2.2.1 每次最多...1000个手机号码
MAX_MULTI_ITEMS = 100  # §2.3.1 每次最多可发送100个手机号码的个性化短信
MAX_PUSH_MOS = 100  # §2.7.1 一次最多推送100个上行
MAX_PUSH_RPTS = 500  # §2.8.1 一次最多推送500个状态报告


def effective_retsize(value: int | None, cap: int) -> int:
    """§2.4.5/§2.5.5 over the cap gives the cap; ≤ 0 or absent gives the default (= cap)."""
    if value is None or value <= 0 or value > cap:
        return cap
    return value
