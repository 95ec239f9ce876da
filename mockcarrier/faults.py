"""Fault injection: rules that make the next N calls (or a share of calls) misbehave.

A rule names an action, where it applies (endpoint, account) and how often (count,
rate). Rules live in the store so every process of the mock sees them; each process
keeps the active ones in its snapshot (mockcarrier/snapshot.py, reloaded when the
store's version moves) and the store arbitrates each firing (consume_fault). This module
parses, matches and applies them (docs/faults.md).
"""

from __future__ import annotations

import random
import socket
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from typing import Any

from werkzeug.wrappers import Response

from smsapi.endpoints import ENDPOINTS
from smsapi.errors import Result

FAILURE_CODES = frozenset(int(code) for code in Result if code != Result.OK)

# Actions on the six endpoints.
RESULT = "result"  # answer the failure shape with a forced code; nothing processed
DELAY = "delay"  # hold the answer delay_ms, then answer normally
DROP = "drop"  # close the connection without an HTTP answer; nothing processed
HTTP_ERROR = "http_error"  # HTTP status (500) with a text body; nothing processed
TRUNCATE = "truncate"  # processed, then the body cut to half its bytes
MALFORMED = "malformed"  # processed, then the body made unparseable
ENDPOINT_ACTIONS = (RESULT, DELAY, DROP, HTTP_ERROR, TRUNCATE, MALFORMED)
# Actions on pushes (push receivers' own failures are the client's side, not ours).
PUSH_DELAY = "push_delay"  # wait delay_ms before each push request
PUSH_DUPLICATE = "push_duplicate"  # after an acknowledged push, push the same items again
PUSH_REORDER = "push_reorder"  # take two batches and push the later one first
PUSH_ACTIONS = (PUSH_DELAY, PUSH_DUPLICATE, PUSH_REORDER)
PUSH_TARGETS = ("push_rpt", "push_mo", "push")
ANY = "*"
UNPROCESSED = (RESULT, DROP, HTTP_ERROR)  # the request never reaches the endpoint


class FaultError(ValueError):
    """A rule that cannot be used, said in one line."""


@dataclass
class FaultRule:
    action: str
    endpoint: str = ANY
    userid: str = ""  # "" = every account
    result: int | None = None  # RESULT
    delay_ms: int = 0  # DELAY, PUSH_DELAY
    status: int = 500  # HTTP_ERROR
    count: int | None = None  # next N matching calls; None = no limit
    rate: float = 1.0  # probability per matching call
    id: int | None = field(default=None, compare=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultRule:
        if not isinstance(data, dict):
            raise FaultError("a fault rule is a JSON object / TOML table")
        known = {"action", "endpoint", "userid", "result", "delay_ms", "status", "count", "rate"}
        unknown = set(data) - known
        if unknown:
            raise FaultError(f"unknown fault key(s): {', '.join(sorted(unknown))}")
        try:
            rule = cls(
                action=str(data.get("action", "")),
                endpoint=str(data.get("endpoint") or ANY),
                userid=str(data.get("userid") or "").strip().upper(),
                result=None if data.get("result") is None else int(data["result"]),
                delay_ms=int(data.get("delay_ms") or 0),
                status=int(data.get("status") or 500),
                count=None if data.get("count") is None else int(data["count"]),
                rate=float(1.0 if data.get("rate") is None else data["rate"]),
            )
        except (TypeError, ValueError) as exc:
            raise FaultError(f"fault rule: {exc}") from None
        rule.validate()
        return rule

    def validate(self) -> None:
        push = self.action in PUSH_ACTIONS
        if self.action not in ENDPOINT_ACTIONS + PUSH_ACTIONS:
            raise FaultError(
                f"action {self.action!r}: one of {', '.join(ENDPOINT_ACTIONS + PUSH_ACTIONS)}"
            )
        targets = PUSH_TARGETS if push else (ANY, *ENDPOINTS)
        if self.endpoint == ANY and push:
            self.endpoint = "push"
        if self.endpoint not in targets:
            raise FaultError(f"{self.action} applies to endpoint {' / '.join(targets)}")
        if self.action == RESULT and self.result is None:
            raise FaultError("action result needs a result code")
        if self.result is not None and self.result not in FAILURE_CODES:
            # a forced answer the document could give: a §4 failure code, never 0 or -1
            raise FaultError(f"result {self.result} is not a §4 failure code (-100001...)")
        if self.action in (DELAY, PUSH_DELAY) and not 0 < self.delay_ms <= 600_000:
            raise FaultError(f"{self.action} needs delay_ms between 1 and 600000")
        if not 400 <= self.status <= 599:
            raise FaultError("status is an HTTP error status, 400 to 599")
        if self.count is not None and self.count < 1:
            raise FaultError("count is at least 1 (omit it for no limit)")
        if not 0 < self.rate <= 1:
            raise FaultError("rate is a probability, over 0 and at most 1")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("id")
        return data

    def matches(self, target: str, userid: str) -> bool:
        """target: an endpoint name, or push_rpt / push_mo."""
        if self.userid and self.userid != userid.upper():
            return False
        if self.action in PUSH_ACTIONS:
            return self.endpoint in (target, "push") and target.startswith("push_")
        return self.endpoint in (ANY, target)


def add(store: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Validate and store a rule; returns its view (with its id)."""
    rule = FaultRule.from_dict(data)
    fault_id = store.add_fault(rule.to_dict(), rule.count)
    return view({"id": fault_id, "rule": rule.to_dict(), "remaining": rule.count, "hits": 0})


def view(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], **row["rule"], "remaining": row["remaining"], "hits": row["hits"]}


def listed(store: Any) -> list[dict[str, Any]]:
    return [view(row) for row in store.faults()]


def active_rules(store: Any) -> tuple[FaultRule, ...]:
    """The store's active rules, parsed, in the order they were added (the carrier
    keeps them in its snapshot: mockcarrier/snapshot.py)."""
    rules = []
    for row in store.faults(active_only=True):
        rule = FaultRule.from_dict(row["rule"])
        rule.id = row["id"]
        rules.append(rule)
    return tuple(rules)


def fire(
    store: Any,
    rules: Sequence[FaultRule],
    target: str,
    userid: str | Callable[[], str],
    rng: random.Random | None = None,
    exclude: tuple[str, ...] = (),
) -> list[FaultRule]:
    """The rules that fire on this call, in the order they were added (actions in
    exclude cannot apply to it, so they are not spent). Each firing is counted in the
    store (store.consume_fault, atomic: `count` holds across processes, and a rule spent
    bumps the store's version, so every process drops it). userid may be a callable,
    asked only when rules exist: naming the account can cost a lookup."""
    if not rules:
        return []
    if callable(userid):
        userid = userid()
    draw = rng.random if rng is not None else random.random
    fired = []
    for rule in rules:
        if rule.action in exclude or not rule.matches(target, userid):
            continue
        if rule.rate < 1 and draw() >= rule.rate:
            continue
        assert rule.id is not None
        if store.consume_fault(rule.id):
            fired.append(rule)
    return fired


def first(fired: list[FaultRule], *actions: str) -> FaultRule | None:
    return next((r for r in fired if r.action in actions), None)


# ---------------------------------------------------------------- on the wire


def mangle_body(action: str, body: bytes) -> bytes:
    """TRUNCATE: the first half of the bytes. MALFORMED: JSON with single quotes (as a
    Python dict prints) or XML without its closing tag: neither parses."""
    if action == TRUNCATE:
        return body[: len(body) // 2]
    stripped = body.lstrip()
    if stripped.startswith((b"{", b"[")):
        return body.replace(b'"', b"'")
    closing = body.rfind(b"</")
    return body[:closing] if closing > 0 else body + b"<"


def drop_connection(environ: dict[str, Any]) -> bool:
    """Shut the client's socket (gunicorn) so it gets no HTTP answer at all."""
    sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    if sock is None:
        return False
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    return True


def on_the_wire(rule: FaultRule, response: Response, environ: dict[str, Any]) -> Response:
    """The HTTP answer as a DROP, HTTP_ERROR, TRUNCATE or MALFORMED rule makes it."""
    if rule.action == DROP:
        if drop_connection(environ):
            return response  # gunicorn's write fails quietly: the client sees no answer
        return Response(b"", 502)  # no socket to shut (not served by gunicorn)
    if rule.action == HTTP_ERROR:
        return Response(
            f"fault {rule.id}: HTTP {rule.status}\n", rule.status, mimetype="text/plain"
        )
    if rule.action in (TRUNCATE, MALFORMED):
        response.set_data(mangle_body(rule.action, response.get_data()))
    return response
