"""The adapters: everything the reports know of their inputs' formats is in this module.

- the conformance suite's `report.json` (conformance/output/jsonreport.py, format 1),
- the load tests' `summary.json` (loadtests/summary.py, schema tongyu-loadtests-summary/1),
- an optional `bid.toml` of a run directory (vendor name and quoted price).

Each file is checked against a JSON Schema of the fields read here (jsonschema), then
turned into plain dataclasses; a format change touches this module only.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFORMANCE_FILE = "report.json"
CONFORMANCE_FORMAT = "tongyu-conformance-report"
CONFORMANCE_VERSIONS = (1, 2)  # 2: incomplete verdicts, inconclusive checks (issue 15)
LOAD_FILE = "summary.json"
LOAD_SCHEMAS = ("tongyu-loadtests-summary/1",)
BID_FILE = "bid.toml"
# A run directory (reports compare, reports signoff --run): these two, and bid.toml.
RUN_CONFORMANCE = "conformance"
RUN_LOAD = "load"


class InputError(ValueError):
    """An input that cannot be used, said in one line (exit status 2)."""


# ----------------------------------------------------------------------------- schemas


def _obj(required: str = "", **properties: Any) -> dict[str, Any]:
    """A JSON Schema object: the space-separated required keys, and properties."""
    return {"type": "object", "required": required.split(), "properties": properties}


_NUM = {"type": ["number", "null"]}
_STR = {"type": "string"}
_OUTCOMES = ["passed", "warned", "failed", "error", "skipped", "inconclusive", "not_applicable"]
# Outcomes of a check that ran or could have run but judged nothing (issue 15).
NOT_JUDGED = ("skipped", "inconclusive")

CONFORMANCE_SCHEMA: dict[str, Any] = _obj(
    "format format_version suite target run settings verdict categories checks metrics",
    format={"const": CONFORMANCE_FORMAT},
    format_version={"enum": list(CONFORMANCE_VERSIONS)},
    suite=_obj("name version schemas", schemas=_obj("version digest")),
    target=_obj("url"),
    run=_obj("started finished duration_s", started=_STR, finished=_STR),
    settings=_obj(),
    verdict={"enum": ["pass", "fail", "incomplete"]},
    categories={
        "type": "object",
        "additionalProperties": {
            **_obj(description=_STR, score=_NUM),
            "additionalProperties": {"type": "integer"},  # outcome -> count
        },
    },
    checks={
        "type": "array",
        "items": _obj(
            "id section category level title outcome",
            level={"enum": ["must", "should"]},
            outcome={"enum": _OUTCOMES},
            reproducers={"type": "array", "items": _obj()},
        ),
    },
    metrics=_obj(
        delivery=_obj("rate latency_s", rate=_NUM, latency_s=_obj()),
        channels={"type": "object", "additionalProperties": {"type": "array", "items": _STR}},
    ),
)

_LATENCY_MS = _obj("count p50_ms p95_ms p99_ms max_ms", count={"type": "integer"})

LOAD_SCHEMA: dict[str, Any] = _obj(
    "schema scenario target started finished settings passed thresholds volume requests "
    "delivery timeseries",
    schema={"enum": list(LOAD_SCHEMAS)},
    settings=_obj(),
    thresholds={"type": "array", "items": _obj("name limit value passed")},
    volume=_obj(
        "annual_volume peak_factor peak_rate offered_rate sustained_rate sustained_window_s "
        "accepted_messages segments"
    ),
    requests=_obj("total by_result error_rate"),
    delivery=_obj(
        "segments delivered lost rate latency histogram histogram_bucket_ms",
        rate=_NUM,
        latency=_LATENCY_MS,
        histogram={"type": "array", "items": {"type": "array", "minItems": 2, "maxItems": 2}},
    ),
    timeseries={"type": "array", "items": _obj("t delivery", delivery=_LATENCY_MS)},
)


# ----------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Spread:
    """Delivery times in seconds (None: nothing measured)."""

    count: int = 0
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Reproducer:
    """A failed check's reproducer: the request as curl, and what came back."""

    curl: str
    status: int | None
    content_type: str
    answer: str


@dataclass(frozen=True)
class CheckRecord:
    id: str
    section: str
    category: str
    level: str  # must | should
    title: str
    outcome: str  # passed warned failed error skipped inconclusive not_applicable
    message: str = ""
    remedy: str = ""  # not judged: what would judge it (report format 2)
    expected: str = ""
    got: str = ""
    warnings: tuple[str, ...] = ()
    reproducers: tuple[Reproducer, ...] = ()

    @property
    def failed(self) -> bool:
        return self.outcome in ("failed", "error")

    @property
    def not_judged(self) -> bool:
        """Skipped or inconclusive: the rule was neither shown to hold nor to break."""
        return self.outcome in NOT_JUDGED


@dataclass(frozen=True)
class Category:
    name: str
    description: str
    counts: dict[str, int]
    score: float | None


@dataclass
class ConformanceRun:
    """One run of the conformance suite (its report.json)."""

    path: Path
    sha256: str
    format_version: int
    suite: str  # "tongyu-conformance 0.1.0"
    smsapi_version: str
    schemas_version: str
    schemas_digest: str
    vendor: str
    target: str
    userid: str
    started: datetime
    finished: datetime
    duration_s: float
    seed: Any
    verdict: str
    settings: dict[str, Any]
    categories: list[Category]
    checks: list[CheckRecord]
    delivery_rate: float | None
    latency: Spread  # send → report arrival of each delivered segment, the suite's clock
    channels: dict[str, list[str]]  # operator -> channel numbers seen in reports and MOs

    def check(self, check_id: str) -> CheckRecord | None:
        return next((c for c in self.checks if c.id == check_id), None)

    @property
    def coverage(self) -> str:
        """The suite's coverage figure: "judged 66 of 69 must-checks; 3 not judged" (the
        rule of conformance/verdict.py, over the checks the report holds)."""
        musts = [c for c in self.checks if c.level == "must" and c.outcome != "not_applicable"]
        judged = sum(1 for c in musts if c.outcome in ("passed", "warned", "failed"))
        rest = len(musts) - judged
        return f"judged {judged} of {len(musts)} must-checks" + (
            f"; {rest} not judged" if rest else ""
        )

    @property
    def profile(self) -> str:
        return str(self.settings.get("profile", ""))

    @property
    def only(self) -> list[str]:
        return list(self.settings.get("only") or [])

    @property
    def budget(self) -> Any:
        return self.settings.get("budget")

    @property
    def configured_price(self) -> Decimal | None:
        """The price in the suite's vendor config ([budget] price), when it has one."""
        return _decimal(self.settings.get("price"))


@dataclass(frozen=True)
class Threshold:
    name: str
    rule: str
    limit: float
    value: float | None
    unit: str
    passed: bool


@dataclass(frozen=True)
class TimePoint:
    t: float  # seconds from the start of the run
    count: int
    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None


@dataclass
class LoadRun:
    """One headless run of the load tests (its summary.json)."""

    path: Path
    sha256: str
    schema: str
    tool: str
    scenario: str
    target: str
    started: datetime
    finished: datetime
    settings: dict[str, Any]
    passed: bool
    thresholds: list[Threshold]
    annual_volume: float
    peak_factor: float
    peak_rate: float
    offered_rate: float
    sustained_rate: float
    sustained_window_s: float
    accepted_messages: int
    segments: int
    requests: int
    by_result: dict[str, int]
    error_rate: float
    delivered: int
    lost: int
    delivery_rate: float | None
    latency: Spread  # send → first report, every delivered segment
    by_errcode: dict[str, int]
    histogram: list[tuple[float, int]]  # (lower edge in s, segments)
    bucket_s: float
    timeseries: list[TimePoint] = field(default_factory=list)
    interval_s: float = 1.0

    @property
    def users(self) -> Any:
        return self.settings.get("users")

    @property
    def userid(self) -> str:
        return str(self.settings.get("userid") or "")

    @property
    def duration_s(self) -> Any:
        """Sending time (ramp included) and the drain after it, in seconds."""
        return self.settings.get("duration")

    @property
    def drain_s(self) -> Any:
        return self.settings.get("drain")

    def threshold(self, name: str) -> Threshold | None:
        return next((t for t in self.thresholds if t.name == name), None)

    def slower_than(self, seconds: float) -> int:
        """Delivered segments in histogram buckets at or above `seconds`."""
        return sum(n for lower, n in self.histogram if lower >= seconds)


@dataclass(frozen=True)
class Bid:
    """What the sign-off knows of the bid: who, and the quoted price per message."""

    vendor: str = ""
    price: Decimal | None = None
    source: str = ""  # where the price came from, as the report says it


# ----------------------------------------------------------------------------- reading


def read_conformance(directory: str | Path) -> ConformanceRun:
    """The suite's report.json in `directory` (or the file itself)."""
    path = _locate(directory, CONFORMANCE_FILE, "conformance run --report-dir DIR")
    data = _load_json(path)
    if isinstance(data, dict) and data.get("format") not in (None, CONFORMANCE_FORMAT):
        raise InputError(f"{path} is not a conformance report (format {data.get('format')!r})")
    if isinstance(data, dict) and data.get("format_version") not in (*CONFORMANCE_VERSIONS, None):
        raise InputError(
            f"{path}: report format_version {data.get('format_version')!r}; these reports "
            f"read {', '.join(map(str, CONFORMANCE_VERSIONS))} (update reports/inputs.py)"
        )
    _validate(path, data, CONFORMANCE_SCHEMA)
    suite, target, run = data["suite"], data["target"], data["run"]
    metrics = data["metrics"]
    delivery = metrics.get("delivery") or {}
    latency = delivery.get("latency_s") or {}
    return ConformanceRun(
        path=path,
        sha256=_sha256(path),
        format_version=data["format_version"],
        suite=f"{suite['name']} {suite['version']}",
        smsapi_version=str(suite.get("smsapi_version", "")),
        schemas_version=str(suite["schemas"]["version"]),
        schemas_digest=str(suite["schemas"]["digest"]),
        vendor=str(target.get("vendor") or ""),
        target=str(target["url"]),
        userid=str(target.get("userid") or ""),
        started=_time(path, run["started"]),
        finished=_time(path, run["finished"]),
        duration_s=float(run["duration_s"]),
        seed=run.get("seed"),
        verdict=data["verdict"],
        settings=dict(data["settings"]),
        categories=[
            Category(
                name,
                str(row.get("description", "")),
                {k: int(v) for k, v in row.items() if k not in ("description", "score")},
                row.get("score"),
            )
            for name, row in data["categories"].items()
        ],
        checks=[_check(c) for c in data["checks"]],
        delivery_rate=delivery.get("rate"),
        latency=Spread(
            int(latency.get("count") or 0),
            latency.get("p50"),
            latency.get("p95"),
            latency.get("p99"),
            latency.get("max"),
        ),
        channels={op: list(v) for op, v in (metrics.get("channels") or {}).items()},
    )


def read_load(directory: str | Path) -> LoadRun:
    """The load tests' summary.json in `directory` (or the file itself)."""
    path = _locate(directory, LOAD_FILE, "loadtests run --report-dir DIR")
    data = _load_json(path)
    if isinstance(data, dict) and data.get("schema") not in (*LOAD_SCHEMAS, None):
        raise InputError(
            f"{path}: summary schema {data.get('schema')!r}; these reports read "
            f"{', '.join(LOAD_SCHEMAS)} (update reports/inputs.py)"
        )
    _validate(path, data, LOAD_SCHEMA)
    volume, requests, delivery = data["volume"], data["requests"], data["delivery"]
    return LoadRun(
        path=path,
        sha256=_sha256(path),
        schema=data["schema"],
        tool=str(data.get("tool", "loadtests")),
        scenario=data["scenario"],
        target=str(data["target"]),
        started=_time(path, data["started"]),
        finished=_time(path, data["finished"]),
        settings=dict(data["settings"]),
        passed=bool(data["passed"]),
        thresholds=[
            Threshold(
                t["name"],
                str(t.get("rule", "")),
                t["limit"],
                t["value"],
                t.get("unit", ""),
                bool(t["passed"]),
            )
            for t in data["thresholds"]
        ],
        annual_volume=float(volume["annual_volume"]),
        peak_factor=float(volume["peak_factor"]),
        peak_rate=float(volume["peak_rate"]),
        offered_rate=float(volume["offered_rate"]),
        sustained_rate=float(volume["sustained_rate"]),
        sustained_window_s=float(volume["sustained_window_s"]),
        accepted_messages=int(volume["accepted_messages"]),
        segments=int(volume["segments"]),
        requests=int(requests["total"]),
        by_result={str(k): int(v) for k, v in requests["by_result"].items()},
        error_rate=float(requests["error_rate"]),
        delivered=int(delivery["delivered"]),
        lost=int(delivery["lost"]),
        delivery_rate=delivery["rate"],
        latency=_spread_ms(delivery["latency"]),
        by_errcode={str(k): int(v) for k, v in (delivery.get("by_errcode") or {}).items()},
        histogram=[(lower / 1000, int(n)) for lower, n in delivery["histogram"]],
        bucket_s=float(delivery["histogram_bucket_ms"]) / 1000,
        timeseries=[
            TimePoint(float(row["t"]), *_point(row["delivery"])) for row in data["timeseries"]
        ],
        interval_s=float(data.get("interval_s") or 1.0),
    )


def read_bid(directory: str | Path) -> Bid:
    """bid.toml of a run directory: `vendor = "..."`, `price = 0.027` (yuan per message,
    tax included). Absent file: an empty Bid."""
    path = Path(directory) / BID_FILE
    if not path.exists():
        return Bid()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path}: cannot read it as TOML: {exc}") from None
    unknown = set(data) - {"vendor", "price"}
    if unknown:
        raise InputError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}: vendor, price")
    price = data.get("price")
    return Bid(
        vendor=str(data.get("vendor", "")),
        price=parse_price(price, str(path)) if price is not None else None,
        source=f"quoted in {path.name}" if price is not None else "",
    )


def parse_price(value: Any, where: str = "--price") -> Decimal:
    """A quoted price in yuan per message: a positive decimal number."""
    price = _decimal(value)
    if price is None or not price.is_finite() or price <= 0:
        raise InputError(f"{where}: price {value!r} is not a positive number of yuan")
    return price


def run_directory(directory: str | Path) -> tuple[Path, Path]:
    """The conformance and load folders of a run directory."""
    root = Path(directory)
    if not root.is_dir():
        raise InputError(f"{root}: no such run directory")
    return root / RUN_CONFORMANCE, root / RUN_LOAD


# ----------------------------------------------------------------------------- helpers


def _locate(directory: str | Path, name: str, producer: str) -> Path:
    path = Path(directory)
    if path.suffix.lower() != ".json":  # a directory, existing or not
        path = path / name
    if not path.is_file():
        raise InputError(f"{path}: no such file (written by `{producer}`)")
    return path


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read it: {exc}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON ({exc})") from None


def _validate(path: Path, data: Any, schema: dict[str, Any]) -> None:
    error = best_match(Draft202012Validator(schema).iter_errors(data))
    if error is not None:
        raise InputError(f"{path}: {error.json_path}: {error.message}")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _time(path: Path, text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{path}: {text!r} is not an ISO 8601 time") from None


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        return None


def _seconds(ms: Any) -> float | None:
    return None if ms is None else float(ms) / 1000


def _spread_ms(row: dict[str, Any]) -> Spread:
    return Spread(*_point(row))


def _point(
    row: dict[str, Any],
) -> tuple[int, float | None, float | None, float | None, float | None]:
    return (
        int(row.get("count") or 0),
        _seconds(row.get("p50_ms")),
        _seconds(row.get("p95_ms")),
        _seconds(row.get("p99_ms")),
        _seconds(row.get("max_ms")),
    )


def _check(c: dict[str, Any]) -> CheckRecord:
    return CheckRecord(
        id=str(c["id"]),
        section=str(c["section"]),
        category=str(c["category"]),
        level=str(c["level"]),
        title=str(c["title"]),
        outcome=str(c["outcome"]),
        message=str(c.get("message") or ""),
        remedy=str(c.get("remedy") or ""),
        expected=str(c.get("expected") or ""),
        got=str(c.get("got") or ""),
        warnings=tuple(
            str(w.get("message", "")) if isinstance(w, dict) else str(w)
            for w in c.get("warnings") or []
        ),
        reproducers=tuple(
            Reproducer(
                str(e.get("curl", "")),
                e.get("status"),
                str(e.get("answer_content_type", "")),
                str(e.get("answer", "")),
            )
            for e in c.get("reproducers") or []
        ),
    )
