"""The catalogue: every check with a stable id, the rule it enforces and its cost."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

from smsapi.tender import CHANNEL_SUFFIX, DELIVERY_LIMIT_S, DELIVERY_RATE_MIN

if TYPE_CHECKING:
    from .config import VendorConfig


class Level(str, Enum):
    MUST = "must"  # a rule the document states
    SHOULD = "should"  # robustness and good practice (XML bombs, huge bodies)


# Categories in report order, with what each covers (issue 5).
CATEGORIES: dict[str, str] = {
    "codec": "request formats, answer format and Content-Type, well-formed bodies",
    "auth": "§3.1 digest, apikey, plaintext, timestamps, repeated failures",
    "limits": "§2.x.5 field lengths and classes, mobiles per request, retsize caps",
    "matching": "§3.3 msgid and custid matching of reports to sent segments",
    "reports": "§2.4 / §2.5 pulled reports and MOs",
    "errors": "§4 result codes in the document's failure shapes",
    "balance": "§2.6 balance answers and billing",
    "robustness": "hostile input: bombs, huge bodies, garbage (should-checks)",
    "push": "§2.7 / §2.8 pushes to the suite's own receiver",
    "business": f"tender §2.1: one channel ending in {CHANNEL_SUFFIX}, "
    f"delivery ≤ {DELIVERY_LIMIT_S:g} s, rate ≥ {DELIVERY_RATE_MIN:.0%}",
    # The customer's side (issue 10): `conformance client` and `conformance proxy` only.
    "receiver": "§2.7 / §2.8 a customer's push receiver, pushed to by the suite",
    "client": "a customer's requests to a carrier, recorded by the suite's proxy",
}
# Whose implementation a category judges: the carrier's unless listed here (issue 10).
SIDES: dict[str, str] = {"receiver": "receiver", "client": "client"}

Cost = int | Callable[["VendorConfig"], int]
# A check function: takes its side's context (RunContext, ReceiverContext, ProxyContext).
CheckFunc = TypeVar("CheckFunc", bound=Callable[..., Any])

# What a check needs of the configuration to apply at all (else NOT_APPLICABLE, known
# before it runs, so --dry-run shows it too): an auth mode the vendor enabled, the suite's
# push receiver, an extra account of a role. A category's needs hold for each of its checks.
CATEGORY_NEEDS: dict[str, tuple[str, ...]] = {"push": ("callback",)}


def unmet_need(need: str, config: VendorConfig) -> str | None:
    """Why `need` is not met by config (the NOT_APPLICABLE message), or None."""
    if need in ("md5", "plain", "apikey"):
        enabled = need in config.auth_modes
        return None if enabled else f"the vendor did not enable {need} auth (A5)"
    if need == "callback":
        wired = config.callback_listen and config.callback_url
        return None if wired else "no --callback-listen / --callback-url: push not checked"
    if need.startswith("account:"):
        role = need.split(":", 1)[1]
        if config.account(role) is None:
            return f'no [[accounts]] role = "{role}" configured'
        return None
    raise ValueError(f"unknown need {need!r}")


@dataclass(frozen=True)
class Check:
    """One named check. `func(ctx)` returns normally when the rule holds and raises
    a CheckSignal (CheckFailed, CheckSkipped, NotApplicable) otherwise."""

    id: str
    section: str  # spec section (§3.3) or tender clause
    category: str
    level: Level
    title: str  # the rule, one line
    func: Callable[[Any], Any]  # called with the context of the check's side
    cost: Cost = 0  # worst-case billed segments (budget, --dry-run)
    interpretations: tuple[str, ...] = ()  # rows of docs/interpretations.md
    final: bool = False  # runs after every other check, over the whole run's traffic
    needs: tuple[str, ...] = ()  # of the configuration: md5, apikey, plain, callback, account:ROLE

    @property
    def side(self) -> str:
        """carrier (`conformance run`), receiver (`client`) or client (`proxy`)."""
        return SIDES.get(self.category, "carrier")

    def worst_cost(self, config: VendorConfig) -> int:
        return self.cost(config) if callable(self.cost) else self.cost

    def not_applicable(self, config: VendorConfig) -> str | None:
        """Why the check does not apply to this configuration (None: it applies)."""
        if self.side != "carrier":
            return None
        for need in (*CATEGORY_NEEDS.get(self.category, ()), *self.needs):
            reason = unmet_need(need, config)
            if reason:
                return reason
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "section": self.section,
            "category": self.category,
            "level": self.level.value,
            "title": self.title,
            "interpretations": list(self.interpretations),
            "final": self.final,
        }


REGISTRY: dict[str, Check] = {}


def check(
    check_id: str,
    section: str,
    category: str,
    level: Level | str,
    title: str,
    *,
    cost: Cost = 0,
    interpretations: tuple[str, ...] = (),
    final: bool = False,
    needs: tuple[str, ...] = (),
) -> Callable[[CheckFunc], CheckFunc]:
    """Register a check function under a stable id."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category}")

    def register(func: CheckFunc) -> CheckFunc:
        if check_id in REGISTRY:
            raise ValueError(f"duplicate check id {check_id}")
        REGISTRY[check_id] = Check(
            check_id,
            section,
            category,
            Level(level),
            title,
            func,
            cost,
            tuple(interpretations),
            final,
            tuple(needs),
        )
        return func

    return register


def catalogue() -> list[Check]:
    """Every check, in run order: per category as listed, final checks last."""
    from . import checks  # noqa: F401  (registers the checks)
    from .customer import client_checks, receiver_checks  # noqa: F401

    order = {name: i for i, name in enumerate(CATEGORIES)}
    listed = list(REGISTRY.values())
    position = {c.id: i for i, c in enumerate(listed)}
    return sorted(listed, key=lambda c: (c.final, order[c.category], position[c.id]))


def select(only: list[str] | None = None, side: str | None = "carrier") -> list[Check]:
    """The checks of the named categories (all when none), or named by id, of one side
    (carrier, receiver, client; None: every side)."""
    checks = [c for c in catalogue() if side is None or c.side == side]
    if not only:
        return checks
    categories = {name for name in CATEGORIES if side in (None, SIDES.get(name, "carrier"))}
    wanted = {name.lower() for name in only}
    unknown = wanted - categories - {c.id.lower() for c in checks}
    if unknown:
        raise ValueError(
            f"unknown category or check {', '.join(sorted(unknown))}; "
            f"categories: {', '.join(c for c in CATEGORIES if c in categories)}"
        )
    return [c for c in checks if c.category in wanted or c.id.lower() in wanted]
