"""What the load tests send: ETC notification texts and each scenario's traffic mix."""

from __future__ import annotations

import random
from dataclasses import dataclass

from smsapi.segments import segment_count

# Short notifications (≤ 40 characters: one segment whatever signature up to 30 is added).
SHORT_TEXTS = (
    "您的ETC账户已充值100.00元，当前余额256.50元。",
    "渝A12345于08:15驶出G75兰海高速界石站，通行费35.00元。",
    "您的ETC卡余额不足20元，请及时充值以免影响通行。",
    "您的ETC卡已解除黑名单，可正常通行。",
    "您的ETC设备已激活，祝您出行愉快。",
)
# Long notifications (130-160 characters: three segments for any signature up to 40).
LONG_TEXTS = (
    "尊敬的ETC用户：您的车辆渝B67890于2020年05月01日07时42分驶入G85银昆高速"
    "重庆西收费站，于09时13分驶出G65包茂高速黔江收费站，本次通行费用128.00元，"
    "已从您的ETC账户扣除，当前账户余额371.25元。节假日出行高峰期间请合理安排"
    "行程，注意行车安全。如有疑问请拨打客服热线。",
    "尊敬的ETC用户：因您的ETC账户连续三次扣费失败，系统已于今日将您的ETC卡"
    "列入黑名单，列入黑名单后将无法正常使用ETC车道通行。请尽快通过通渝公司"
    "营业网点、手机银行或微信公众号补缴欠费并充值，补缴成功后约两小时内自动"
    "解除黑名单。详情请咨询客服热线，感谢您的配合与支持。",
)

# Share of each kind of request, per scenario: single_send dominates (one ETC event, one
# owner); batch and multi for notices to several owners; a few long messages.
MIXES: dict[str, dict[str, int]] = {
    "volume": {"single": 85, "single_long": 3, "batch": 8, "multi": 4},
    "latency": {"single": 80, "single_long": 5, "batch": 10, "multi": 5},
    "soak": {"single": 85, "single_long": 5, "batch": 6, "multi": 4},
}
MAX_GROUP = 6  # mobiles per batch/multi request: a few, never the same one twice


@dataclass
class TrafficItem:
    """One mobile and its text: a message, delivered in pktotal segments."""

    mobile: str
    text: str
    custid: str
    pktotal: int


@dataclass
class Send:
    """One request to make: endpoint and its items in request order (§3.3 positions)."""

    endpoint: str
    items: list[TrafficItem]

    @property
    def messages(self) -> int:
        return len(self.items)


class Traffic:
    """Draws the next request of a scenario; mobiles taken round robin from the test list."""

    def __init__(self, scenario: str, mobiles: list[str], signature: str, seed: int, tag: str):
        self.mix = MIXES[scenario]
        self.mobiles = mobiles
        self.signature = signature
        self.rng = random.Random(f"{seed}:{tag}")
        self.tag = tag
        self.counter = 0

    def pktotal(self, text: str) -> int:
        """Segments expected: the text with the carrier's signature (§2.1.5)."""
        return segment_count(self.signature + text)

    def custid(self) -> str:
        """§2.1.5 custid ≤ 64 of [A-Za-z0-9_-], unique per request of the run."""
        self.counter += 1
        return f"lt-{self.tag}-{self.counter}"

    def next_mobiles(self, count: int) -> list[str]:
        count = min(count, len(self.mobiles))
        start = self.rng.randrange(len(self.mobiles))
        return [self.mobiles[(start + i) % len(self.mobiles)] for i in range(count)]

    def item(self, mobile: str, text: str, custid: str) -> TrafficItem:
        return TrafficItem(mobile, text, custid, self.pktotal(text))

    def next(self) -> Send:
        kinds = list(self.mix)
        kind = self.rng.choices(kinds, weights=[self.mix[k] for k in kinds])[0]
        custid = self.custid()
        if kind in ("single", "single_long"):
            texts = LONG_TEXTS if kind == "single_long" else SHORT_TEXTS
            mobile = self.next_mobiles(1)[0]
            return Send("single_send", [self.item(mobile, self.rng.choice(texts), custid)])
        mobiles = self.next_mobiles(self.rng.randint(2, MAX_GROUP))
        if kind == "batch":
            text = self.rng.choice(SHORT_TEXTS)
            return Send("batch_send", [self.item(m, text, custid) for m in mobiles])
        return Send(
            "multi_send",
            [
                self.item(m, self.rng.choice(SHORT_TEXTS), f"{custid}-{i}")
                for i, m in enumerate(mobiles, start=1)
            ],
        )
