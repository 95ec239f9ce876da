"""Conformance suite for the Chongqing Tongyu SMS carrier interface (tender attachment 6).

Points at ANY carrier endpoint over real HTTP and gives a verdict rule by rule. It talks
through `smsapi` only: every protocol rule it checks is computed there.
"""

SUITE_NAME = "tongyu-conformance"
SUITE_VERSION = "0.1.0"
# Version of report.json's layout (conformance/output/jsonreport.py): bump on any change
# that a reader of the report (sign-off reports, issue 7) has to know about.
REPORT_FORMAT_VERSION = 2  # 2: verdict incomplete, outcome inconclusive, coverage
