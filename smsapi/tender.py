"""The tender's figures (2020年短信平台运营服务 比选文件), one home for each: the mock, the
conformance suite, the load tests, the benchmarks and the reports import them from here.

tests/test_tender.py reads every figure back from the tender's text, and fails when any
other module writes one of them out again.
"""

from __future__ import annotations

from decimal import Decimal

# §1 项目概况: 短信平台每年短信推送量约1500万条
YEAR_MESSAGES = 15_000_000
# §2.1.2 三网通道号须一致且通道号尾号须为12122
CHANNEL_SUFFIX = "12122"
# §2.1.3 短信送达时间不超过5秒 (seconds)
DELIVERY_LIMIT_S = 5.0
# §2.1.3 短信送达率不低于99% (a fraction)
DELIVERY_RATE_MIN = 0.99
# §3 招标限价: 上限价为短信单价0.029元/条 (yuan per message, tax included)
PRICE_CAP = Decimal("0.029")

# Not the tender's: the channel number (spno) the mock's demo accounts and the customer
# tools' test items use; a made-up number that ends in the tender's suffix (§2.1.2).
DEMO_CHANNEL = "106900" + CHANNEL_SUFFIX
