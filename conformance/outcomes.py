"""What a check can end in, and the exceptions a check raises to say so."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from smsapi.client import Exchange

BODY_LIMIT = 4096  # bytes of a body kept as evidence


class Outcome(str, Enum):
    PASSED = "passed"
    WARNED = "warned"  # passed, with a deviation the profile tolerates
    FAILED = "failed"
    ERROR = "error"  # the check could not finish (transport failure, bug)
    SKIPPED = "skipped"  # could not run here: budget, no test mobiles, no MO arrived
    NOT_APPLICABLE = "not_applicable"  # a mode the vendor did not enable

    @property
    def counts_as_failure(self) -> bool:
        return self in (Outcome.FAILED, Outcome.ERROR)


@dataclass
class Evidence:
    """One HTTP exchange as the report shows it: the request as curl, the answer."""

    curl: str
    status: int
    answer_content_type: str
    answer: str
    elapsed_ms: float
    note: str = ""

    @classmethod
    def of(cls, exchange: Exchange, note: str = "") -> Evidence:
        body = exchange.answer_body[:BODY_LIMIT].decode("utf-8", "replace")
        if len(exchange.answer_body) > BODY_LIMIT:
            body += f"... ({len(exchange.answer_body)} bytes)"
        return cls(
            curl=_short_curl(exchange),
            status=exchange.status,
            answer_content_type=exchange.answer_headers.get("Content-Type", ""),
            answer=body,
            elapsed_ms=round(exchange.elapsed * 1000, 1),
            note=note,
        )

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _short_curl(exchange: Exchange) -> str:
    if len(exchange.request_body) <= BODY_LIMIT:
        return exchange.curl()
    head = Exchange(
        exchange.method,
        exchange.url,
        exchange.request_headers,
        exchange.request_body[:BODY_LIMIT],
    )
    return head.curl() + f"  # body cut: {len(exchange.request_body)} bytes in all"


class CheckSignal(Exception):
    """Raised by a check to end it with an outcome other than passed."""

    outcome = Outcome.FAILED


class CheckFailed(CheckSignal):
    """A rule broken: what was expected, what came back, and the exchange that shows it."""

    outcome = Outcome.FAILED

    def __init__(
        self,
        expected: str,
        got: str,
        exchanges: list[Exchange | Evidence | None] | Exchange | Evidence | None = None,
        *,
        rule: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"expected {expected}; got {got}")
        self.expected = expected
        self.got = got
        if isinstance(exchanges, (Exchange, Evidence)):
            exchanges = [exchanges]
        self.exchanges = [e for e in exchanges or [] if e is not None]
        self.rule = rule
        self.details = details or {}


class CheckSkipped(CheckSignal):
    """The check cannot run against this target with this configuration."""

    outcome = Outcome.SKIPPED


class NotApplicable(CheckSignal):
    """The rule concerns a mode the vendor did not enable."""

    outcome = Outcome.NOT_APPLICABLE


class Unreachable(Exception):
    """The target could not be reached at all (exit status 2)."""


@dataclass
class Warning_:
    """A deviation the profile tolerates (lenient) or an informative finding."""

    message: str
    rows: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message, "interpretations": list(self.rows)}


@dataclass
class CheckResult:
    """The verdict of one check, with everything the reports show of it."""

    check_id: str
    outcome: Outcome
    duration: float = 0.0
    message: str = ""
    expected: str = ""
    got: str = ""
    rule: str = ""
    warnings: list[Warning_] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)
    reproducers: list[Evidence] = field(default_factory=list)
    messages_sent: int = 0  # billed segments this check spent
