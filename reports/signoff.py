"""The sign-off of one vendor: its matrix, the runs behind it, and what the document shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import REPORTS_VERSION
from .inputs import (
    Bid,
    CheckRecord,
    ConformanceRun,
    LoadRun,
    read_bid,
    read_conformance,
    read_load,
    run_directory,
)
from .requirements import RequirementRow, RequirementVerdict, judge_all, overall, shortfalls

FORMAT = "tongyu-signoff"
FORMAT_VERSION = 1


@dataclass
class SignOff:
    vendor: str
    bid: Bid
    conformance: ConformanceRun
    load: LoadRun
    rows: list[RequirementRow]
    verdict: RequirementVerdict
    generated: datetime
    notes: list[str] = field(default_factory=list)

    @property
    def failed_checks(self) -> list[CheckRecord]:
        return [c for c in self.conformance.checks if c.failed]

    @property
    def unverified(self) -> list[CheckRecord]:
        """Checks not judged here (skipped, inconclusive), with their reason: a must-check
        among them leaves its requirement NOT SHOWN (reports/requirements.py)."""
        return [c for c in self.conformance.checks if c.not_judged]

    @property
    def shortfalls(self) -> list[str]:
        return shortfalls(self.rows)

    @property
    def versions(self) -> dict[str, str]:
        conf = self.conformance
        return {
            "conformance suite": conf.suite,
            "protocol package (smsapi)": conf.smsapi_version,
            "schemas": f"{conf.schemas_version} (digest {conf.schemas_digest})",
            "report.json format": str(conf.format_version),
            "load tests": self.load.tool,
            "summary.json schema": self.load.schema,
            "reports": REPORTS_VERSION,
            "harness package": _harness_version(),
        }

    def to_dict(self) -> dict[str, Any]:
        """signoff.json: the judged matrix for machines (CI gates, archives)."""
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "vendor": self.vendor,
            "price": None if self.bid.price is None else str(self.bid.price),
            "verdict": self.verdict.value,
            "coverage": self.conformance.coverage,
            "shortfalls": self.shortfalls,
            "generated": self.generated.isoformat(timespec="seconds"),
            "rows": [
                {
                    "key": r.key,
                    "clause": r.clause,
                    "title": r.title,
                    "verdict": r.verdict.value,
                    "substantive": r.substantive,
                    "evidence": r.evidence,
                    "misses": r.misses,
                    "checks": r.checks,
                }
                for r in self.rows
            ],
            "inputs": {
                "conformance": {
                    "path": str(self.conformance.path),
                    "sha256": self.conformance.sha256,
                },
                "load": {"path": str(self.load.path), "sha256": self.load.sha256},
            },
            "versions": self.versions,
            "notes": self.notes,
        }


def build(
    conformance_dir: str | Path,
    load_dir: str | Path,
    vendor: str | None = None,
    bid: Bid | None = None,
    now: datetime | None = None,
) -> SignOff:
    """Read both runs and judge them. `bid` carries the quoted price (--price, bid.toml)."""
    conf = read_conformance(conformance_dir)
    load = read_load(load_dir)
    bid = bid or Bid()
    rows = judge_all(conf, load, bid)
    name = vendor or bid.vendor or conf.vendor or urlsplit(conf.target).netloc or conf.target
    notes = consistency_notes(conf, load, name)
    return SignOff(
        vendor=name,
        bid=bid,
        conformance=conf,
        load=load,
        rows=rows,
        verdict=with_notes(overall(rows), notes),
        generated=now or datetime.now(timezone.utc),
        notes=notes,
    )


def with_notes(verdict: RequirementVerdict, notes: list[str]) -> RequirementVerdict:
    """A PASS whose runs may not speak of one carrier (or of this vendor) is a PASS with
    remarks: the reader sees them in the banner, not in a footnote."""
    return RequirementVerdict.REMARKS if notes and verdict is RequirementVerdict.PASS else verdict


def build_run(
    run_dir: str | Path, vendor: str | None = None, price_bid: Bid | None = None
) -> SignOff:
    """A run directory: conformance/, load/ and an optional bid.toml (R6)."""
    conformance_dir, load_dir = run_directory(run_dir)
    bid = read_bid(run_dir)
    if price_bid is not None and price_bid.price is not None:
        bid = Bid(bid.vendor, price_bid.price, price_bid.source)
    return build(conformance_dir, load_dir, vendor=vendor, bid=bid)


def consistency_notes(conf: ConformanceRun, load: LoadRun, vendor: str = "") -> list[str]:
    """Things a reader must know before trusting that both runs speak of one carrier, the
    one this sign-off names."""
    notes = []
    if vendor and conf.vendor and conf.vendor.strip() != vendor.strip():
        notes.append(f"the suite's settings name the vendor {conf.vendor}, this sign-off {vendor}")
    if conf.target.rstrip("/") != load.target.rstrip("/"):
        notes.append(f"the suite ran against {conf.target}, the load tests against {load.target}")
    if conf.userid and load.userid and conf.userid != load.userid:
        notes.append(f"the suite used account {conf.userid}, the load tests {load.userid}")
    return notes


def _harness_version() -> str:
    try:
        return metadata.version("tongyu-sms-harness")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "not installed"
