"""The vendor comparison: side by side, and ranked by the tender's own rule."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from .signoff import SignOff, build_run


@dataclass
class Entry:
    label: str  # the column heading: the vendor, made unique
    run_dir: Path
    signoff: SignOff
    rank: int | None = None  # None: not ranked (misses a substantive requirement)
    misses: list[str] = field(default_factory=list)
    tied: bool = False


@dataclass
class CheckLine:
    id: str
    category: str
    section: str
    title: str
    outcomes: list[str | None]  # per entry, in the entries' order; None: not run


@dataclass
class Comparison:
    entries: list[Entry]  # ranked ones first, by rank; then the others
    generated: datetime

    @property
    def ranked(self) -> list[Entry]:
        return [e for e in self.entries if e.rank is not None]

    @property
    def unranked(self) -> list[Entry]:
        return [e for e in self.entries if e.rank is None]

    @property
    def winners(self) -> list[Entry]:
        return [e for e in self.entries if e.rank == 1]

    def check_lines(self) -> list[CheckLine]:
        """Every check any run holds, in the suite's order, with each vendor's outcome."""
        seen: dict[str, CheckLine] = {}
        for index, entry in enumerate(self.entries):
            for check in entry.signoff.conformance.checks:
                line = seen.setdefault(
                    check.id,
                    CheckLine(
                        check.id,
                        check.category,
                        check.section,
                        check.title,
                        [None] * len(self.entries),
                    ),
                )
                line.outcomes[index] = check.outcome
        return list(seen.values())


def rank(entries: list[Entry]) -> list[Entry]:
    """Tender §7 (and 须知 12): among the vendors that meet every substantive requirement,
    the lowest quoted price ranks first. Equal prices share a rank: the tender names no
    tie-break (R7). The others are not ranked; each says what it misses."""
    qualified: list[tuple[Decimal, Entry]] = []  # (quoted price, entry)
    for entry in entries:
        entry.misses = entry.signoff.shortfalls
        entry.rank = None
        entry.tied = False
        price = entry.signoff.bid.price
        if not entry.misses and price is not None:
            qualified.append((price, entry))
    qualified.sort(key=lambda q: q[0])
    prices = Counter(price for price, _ in qualified)
    for price, entry in qualified:
        entry.rank = 1 + sum(1 for other, _ in qualified if other < price)
        entry.tied = prices[price] > 1
    others = [e for e in entries if e.rank is None]
    return [e for _, e in qualified] + others


def build(run_dirs: list[str | Path]) -> Comparison:
    signoffs = [(Path(d), build_run(d)) for d in run_dirs]
    names = Counter(s.vendor for _, s in signoffs)
    entries = [
        Entry(s.vendor if names[s.vendor] == 1 else f"{s.vendor} ({d.name})", d, s)
        for d, s in signoffs
    ]
    return Comparison(rank(entries), datetime.now(timezone.utc))
