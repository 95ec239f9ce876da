"""The tender's own words, as the sign-off quotes them, and the figures it judges by.

The figures are smsapi.tender's (one home for each); the quotations are the tender's
text, verbatim, with those figures in place (tests/test_tender.py finds each in it).
"""

from __future__ import annotations

from decimal import Decimal

from loadtests.settings import peak_rate
from smsapi.mobile import Operator
from smsapi.tender import (
    CHANNEL_SUFFIX,
    DELIVERY_LIMIT_S,
    DELIVERY_RATE_MIN,
    PRICE_CAP,
    YEAR_MESSAGES,
)

TITLE_ZH = "2020年短信平台运营服务"
BUYER = "Chongqing Tongyu Technology Co., Ltd. (重庆通渝科技有限公司)"

# §2.1.2 the three networks that share one channel number
NETWORKS = (Operator.CHINA_MOBILE, Operator.CHINA_UNICOM, Operator.CHINA_TELECOM)

QUOTES = {
    "2.1.1": "由投标人根据招标人现有短信平台进行系统改造及对接实现短信平台信息推送"
    "（短信平台系统接口见附件6）",
    "2.1.2": "投标人短信通道号须支持全国移动、联通、电信用户实现三网通，"
    f"三网通道号须一致且通道号尾号须为{CHANNEL_SUFFIX}",
    "2.1.3": f"投标人提供的通道服务需满足短信送达时间不超过{DELIVERY_LIMIT_S:g}秒，"
    f"短信送达率不低于{DELIVERY_RATE_MIN:.0%}",
    "1": f"短信平台每年短信推送量约{YEAR_MESSAGES // 10_000}万条",
    # §3, tax included (§5.2.1)
    "3": f"短信平台运营项目上限价为短信单价{PRICE_CAP}元/条",
    "7": "在全部满足公开竞争性比选文件要求的前提下，依据统一的价格要素评定最低报价，"
    "以提出总价最低的报价的投标人作为中标第一候选人",
}


def peak_target(peak_factor: float) -> float:
    """Messages per second the carrier must sustain: 15 M a year at the peak factor."""
    return peak_rate(YEAR_MESSAGES, peak_factor)


def annual_cost(price: Decimal) -> Decimal:
    """§3 / §7 the yearly bill at the tender's volume (price per message × 15 M)."""
    return price * YEAR_MESSAGES
