"""Acceptance sign-off and vendor comparison documents, built from the conformance suite's
report.json and the load tests' summary.json (issue 7; docs/reports.md)."""

REPORTS_VERSION = "0.1.0"
