"""The benchmarks' targets, as data, in one place: each benchmark judges its run against
them when it saves it (benchmarks.common.save_run), and benchmarks.results renders them.

Also the runs RESULTS.md needs (EXPECTED): the command of each benchmark × store whose
saved output fills a row of the table; a missing one shows as "not run yet".
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from smsapi.tender import YEAR_MESSAGES  # a year: the tender's volume

# "Memory flat": what the run holds at its end is at most this many times what it held
# half way through (an unbounded store doubles over the second half).
FLAT_MEMORY_GROWTH = 1.2

OPERATORS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    ">=": (operator.ge, "≥"),
    "<=": (operator.le, "≤"),
    "<": (operator.lt, "<"),
    "==": (operator.eq, "="),
}


@dataclass(frozen=True)
class Criterion:
    """One condition on a named figure of a row: figure op value."""

    figure: str
    op: str
    value: float
    label: str  # how the table names it: "ratio", "p99", "a year"
    unit: str = ""  # "" for a ratio or a flag

    def met(self, figures: Mapping[str, object]) -> bool:
        actual = figures.get(self.figure)
        if not isinstance(actual, int | float):  # not measured: not met
            return False
        return OPERATORS[self.op][0](actual, self.value)

    def text(self) -> str:
        if self.op == "==" and self.value == 1 and not self.unit:  # a flag
            return self.label
        plain = int(self.value) if self.value == int(self.value) else self.value
        value = f"{plain:,}".replace(",", " ")
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.label} {OPERATORS[self.op][1]} {value}{unit}"


@dataclass(frozen=True)
class Target:
    """What one row of one benchmark must reach on the given stores."""

    benchmark: str
    row: str  # "" for a benchmark of one row; "pull" / "push" for delivery
    stores: tuple[str, ...]
    criteria: tuple[Criterion, ...]
    source: str  # where the target comes from

    def text(self) -> str:
        return ", ".join(c.text() for c in self.criteria)

    def met(self, figures: Mapping[str, object]) -> bool:
        return all(c.met(figures) for c in self.criteria)


def _ratio(value: float) -> Criterion:
    return Criterion("ratio", ">=", value, "ratio")


def _p99(limit_ms: float, op: str = "<=") -> Criterion:
    return Criterion("p99_ms", op, limit_ms, "p99", "ms")


# wrk counts answers; the mock's balance says whether they were acceptances (result 0)
ALL_BILLED = Criterion("all_billed", "==", 1, "every answer billed")
ALL_MATCHED = Criterion("all_matched", "==", 1, "every report pulled and matched")
FULL_YEAR = Criterion("messages", ">=", YEAR_MESSAGES, "messages sent")
FLAT = Criterion("memory_growth", "<=", FLAT_MEMORY_GROWTH, "memory end / half way")

TARGETS: tuple[Target, ...] = (
    Target("single_send", "", ("sqlite",), (_ratio(0.5), ALL_BILLED), "issue 17"),
    Target("single_send", "", ("redis",), (_ratio(0.4), ALL_BILLED), "issue 17"),
    Target(
        "batch_send",
        "",
        ("sqlite",),
        (Criterion("messages_per_s", ">=", 100_000, "messages/s"), ALL_BILLED),
        "issue 17",
    ),
    Target(
        "year",
        "",
        ("sqlite",),
        (FULL_YEAR, Criterion("wall_s", "<=", 300, "wall time", "s"), ALL_MATCHED),
        "issue 17",
    ),
    Target("year", "", ("redis",), (FULL_YEAR, ALL_MATCHED, FLAT), "issue 17"),
    Target("delivery", "pull", ("sqlite", "redis"), (_p99(50),), "issue 8, kept by issue 17"),
    Target("delivery", "push", ("sqlite", "redis"), (_p99(50),), "issue 8, kept by issue 17"),
    Target("slow_clients", "", ("sqlite", "redis"), (_p99(100, "<"),), "issue 19"),
)


def target_for(benchmark: str, row: str, store: str) -> Target | None:
    for target in TARGETS:
        if target.benchmark == benchmark and target.row == row and store in target.stores:
            return target
    return None


@dataclass(frozen=True)
class Expected:
    """A run RESULTS.md needs: benchmark × store × instances, and the command to make it."""

    benchmark: str
    store: str
    instances: int
    command: str


def _expected(benchmark: str, store: str, instances: int = 1, extra: str = "") -> Expected:
    options = "" if store == "sqlite" else f" --store {store}"
    options += f" --instances {instances}" if instances > 1 else ""
    command = f"python -m benchmarks.{benchmark}{options}{extra}"
    return Expected(benchmark, store, instances, command)


EXPECTED: tuple[Expected, ...] = (
    _expected("single_send", "sqlite"),
    _expected("single_send", "redis"),
    _expected("single_send", "redis", 2),
    _expected("batch_send", "sqlite"),
    _expected("batch_send", "redis"),
    _expected("batch_send", "redis", 2),
    _expected("delivery", "sqlite"),
    _expected("delivery", "redis"),
    _expected("year", "sqlite"),
    _expected("year", "redis"),
    _expected("year", "redis", 2),
    _expected("slow_clients", "sqlite"),
)
