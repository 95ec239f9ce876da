"""The tender's own figures and words, as the sign-off quotes and judges them.

The numbers are taken from where the suite and the load tests already keep them, so a
threshold lives in one place; the Chinese text is the tender's, verbatim.
"""

from __future__ import annotations

from decimal import Decimal

from conformance.config import TENDER_CHANNEL_SUFFIX, TENDER_PRICE_CAP
from conformance.metrics import DELIVERY_LIMIT_S, DELIVERY_RATE_MIN
from loadtests.settings import ANNUAL_VOLUME, peak_rate
from smsapi.mobile import Operator

TITLE_ZH = "2020年短信平台运营服务"
BUYER = "Chongqing Tongyu Technology Co., Ltd. (重庆通渝科技有限公司)"

# §3 招标限价: 短信平台运营项目上限价为短信单价0.029元/条 (tax included, §5.2.1)
PRICE_CAP = Decimal(str(TENDER_PRICE_CAP))
# §1 项目概况: 短信平台每年短信推送量约1500万条
ANNUAL_MESSAGES = int(ANNUAL_VOLUME)
# §2.1.3: 短信送达时间不超过5秒，短信送达率不低于99%
DELIVERY_LIMIT = DELIVERY_LIMIT_S
DELIVERY_RATE = DELIVERY_RATE_MIN
# §2.1.2: 三网通道号须一致且通道号尾号须为12122
CHANNEL_SUFFIX = TENDER_CHANNEL_SUFFIX
NETWORKS = (Operator.CHINA_MOBILE, Operator.CHINA_UNICOM, Operator.CHINA_TELECOM)

QUOTES = {
    "2.1.1": "由投标人根据招标人现有短信平台进行系统改造及对接实现短信平台信息推送"
    "（短信平台系统接口见附件6）",
    "2.1.2": "投标人短信通道号须支持全国移动、联通、电信用户实现三网通，"
    "三网通道号须一致且通道号尾号须为12122",
    "2.1.3": "投标人提供的通道服务需满足短信送达时间不超过5秒，短信送达率不低于99%",
    "1": "短信平台每年短信推送量约1500万条",
    "3": "短信平台运营项目上限价为短信单价0.029元/条",
    "7": "在全部满足公开竞争性比选文件要求的前提下，依据统一的价格要素评定最低报价，"
    "以提出总价最低的报价的投标人作为中标第一候选人",
}


def peak_target(peak_factor: float) -> float:
    """Messages per second the carrier must sustain: 15 M a year at the peak factor."""
    return peak_rate(ANNUAL_MESSAGES, peak_factor)


def annual_cost(price: Decimal) -> Decimal:
    """§3 / §7 the yearly bill at the tender's volume (price per message × 15 M)."""
    return price * ANNUAL_MESSAGES
