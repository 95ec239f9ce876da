"""Status reports (§2.8.3 table 8-2) and MOs (§2.7.3 table 7-2) for test pushes.

Every value is made by smsapi's rules (§3.3 ids, spno, urlencoded MO content); the
custids and texts name the test run, so a receiver's operators can tell them apart.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from smsapi.auth import china_now
from smsapi.content import encode_mo_content
from smsapi.endpoints import MO_FIELDS, REPORT_FIELDS
from smsapi.fields import TIME_FORMAT, spno
from smsapi.msgid import INT64_MAX, INT64_MIN, segment_msgid
from smsapi.tender import DEMO_CHANNEL

# A text a receiver's operators recognise as a test (the document's own MO example after it).
MO_TEXT = "通渝短信接口验收测试 {tag}"
DOCUMENT_MO_TEXT = "验证码：6666，打死都不要告诉别人哦！"  # §2.7.3 content example
# Failed reports carry one of the errcodes the mock uses (M4: the document lists none).
FAILED = (1, "UNDELIV", "fail")
DELIVERED = (0, "DELIVRD", "success")


@dataclass
class ItemFactory:
    """Makes report and MO items with ids that do not repeat within a run."""

    tag: str
    channel: str = DEMO_CHANNEL
    rng: random.Random = field(default_factory=random.Random)
    _count: int = 0

    def _next(self) -> int:
        self._count += 1
        return self._count

    def msgid(self) -> int:
        """A random signed 64-bit id, not 0 (§2.8.3 msgid允许出现负数)."""
        value = 0
        while value == 0:
            value = self.rng.randint(INT64_MIN, INT64_MAX)
        return value

    def mobile(self) -> str:
        return f"139{self.rng.randrange(10**8):08d}"

    def reports(
        self,
        mobiles: int = 1,
        pktotal: int = 1,
        base: int | None = None,
        failed_every: int = 0,
        exno: str = "",
    ) -> list[dict[str, Any]]:
        """The reports of one message to `mobiles` numbers in `pktotal` segments each:
        §3.3 id of position p, segment k = base + p - 1 + (k - 1) * 2^34 (wrapped)."""
        base = self.msgid() if base is None else base
        custid = f"cf{self.tag}{self._next():05d}"
        now = china_now()
        stime = (now - timedelta(seconds=3)).strftime(TIME_FORMAT)
        rtime = now.strftime(TIME_FORMAT)
        items = []
        for position in range(1, mobiles + 1):
            mobile = self.mobile()
            failed = failed_every and position % failed_every == 0
            status, errcode, errdesc = FAILED if failed else DELIVERED
            for pknum in range(1, pktotal + 1):
                values = {
                    "msgid": segment_msgid(base, position, pknum),
                    "custid": custid,
                    "pknum": pknum,
                    "pktotal": pktotal,
                    "mobile": mobile,
                    "spno": spno(self.channel, exno),
                    "exno": exno,
                    "stime": stime,
                    "rtime": rtime,
                    "status": status,
                    "errcode": errcode,
                    "errdesc": errdesc,
                    "exdata": f"x{self.tag}",
                }
                items.append({name: values[name] for name in REPORT_FIELDS})
        return items

    def mos(
        self, count: int = 1, text: str | None = None, charset: str = "utf-8", exno: str = ""
    ) -> list[dict[str, Any]]:
        """count MOs; content is `text` (default: a test text) urlencoded in charset."""
        rtime = china_now().strftime(TIME_FORMAT)
        items = []
        for _ in range(count):
            body = text if text is not None else MO_TEXT.format(tag=f"{self.tag}-{self._next()}")
            values = {
                "msgid": self.msgid(),
                "mobile": self.mobile(),
                "spno": spno(self.channel, exno),
                "exno": exno,
                "rtime": rtime,
                "content": encode_mo_content(body, charset),
            }
            items.append({name: values[name] for name in MO_FIELDS})
        return items
