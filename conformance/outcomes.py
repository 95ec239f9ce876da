"""What a check can end in, and the exceptions a check raises to say so."""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any
from urllib.parse import quote_plus

from smsapi.auth import digest, shell_credentials
from smsapi.client import Exchange

BODY_LIMIT = 4096  # bytes of a body kept as evidence
REPRODUCER_LIMIT = 65536  # bytes of a failure's request kept whole, so that it replays


class Outcome(str, Enum):
    PASSED = "passed"
    WARNED = "warned"  # passed, with a deviation the profile tolerates
    FAILED = "failed"
    ERROR = "error"  # the check could not finish (transport failure, bug)
    SKIPPED = "skipped"  # could not run here: budget, no test mobiles
    INCONCLUSIVE = "inconclusive"  # ran, but had nothing to judge (no report, no MO came)
    NOT_APPLICABLE = "not_applicable"  # a mode the vendor did not enable

    @property
    def counts_as_failure(self) -> bool:
        return self in (Outcome.FAILED, Outcome.ERROR)

    @property
    def judged(self) -> bool:
        """The rule was judged on evidence (held, tolerated or broken)."""
        return self in (Outcome.PASSED, Outcome.WARNED, Outcome.FAILED)


@dataclass(frozen=True)
class Secrets:
    """The credentials a run knows, so that a reproducer can make them fresh (§3.1) or ask
    for them instead of printing them: userid -> password (the run's own account first),
    and the apikey."""

    passwords: dict[str, str] = field(default_factory=dict)
    apikey: str = ""

    @classmethod
    def of(cls, config: Any) -> Secrets:
        passwords = {}
        if getattr(config, "userid", "") and getattr(config, "password", ""):
            passwords[config.userid] = config.password
        for account in getattr(config, "accounts", None) or []:
            if account.password:
                passwords.setdefault(account.userid, account.password)
        return cls(passwords, getattr(config, "apikey", "") or "")

    def variable(self, userid: str) -> str:
        """The environment variable a reproducer reads the password of `userid` from."""
        first = next(iter(self.passwords), None)
        return "PASSWORD" if userid == first else "PASSWORD_" + re.sub(r"\W", "_", userid)


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
    def of(
        cls,
        exchange: Exchange,
        note: str = "",
        secrets: Secrets | None = None,
        limit: int = BODY_LIMIT,
    ) -> Evidence:
        """limit: bytes of the request body shown (REPRODUCER_LIMIT for a failure's)."""
        body = exchange.answer_body[:BODY_LIMIT].decode("utf-8", "replace")
        if len(exchange.answer_body) > BODY_LIMIT:
            body += f"... ({len(exchange.answer_body)} bytes)"
        return cls(
            curl=reproducer(exchange, secrets or Secrets(), limit),
            status=exchange.status,
            answer_content_type=exchange.answer_headers.get("Content-Type", ""),
            answer=body,
            elapsed_ms=round(exchange.elapsed * 1000, 1),
            note=note,
        )

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# A field's value in any request format: "pwd":"…", pwd=…, <pwd>…</pwd>.
_FIELD = r"(?<![A-Za-z_]){name}[\"']?\s*[:=>]\s*[\"']?({value})"


def _field_value(body: str, name: str, value: str = r"[^\"'&<,}\s]+") -> re.Match[str] | None:
    return re.search(_FIELD.format(name=name, value=value), body)


def reproducer(exchange: Exchange, secrets: Secrets, limit: int = BODY_LIMIT) -> str:
    """The request as shell lines that still work tomorrow (item 8): a valid §3.1 digest is
    made fresh by smsapi's shell lines (TS, SIG); a known password or apikey is read from
    an environment variable, never printed. Credentials the check made wrong on purpose
    (a stale timestamp, a wrong digest) stay as sent. A body that is not text goes through
    printf with octal escapes."""
    raw = exchange.request_body[:limit]
    text = raw.decode("utf-8", "replace")
    lines: list[str] = []
    slots: list[tuple[int, int, str]] = []  # (start, end, shell variable) in text
    userid = _field_value(text, "userid")
    user = userid.group(1) if userid else ""
    password = secrets.passwords.get(user, "")
    stamp = _field_value(text, "timestamp", r"\d{10}")
    pwd = _field_value(text, "pwd")
    if (
        user
        and password
        and stamp
        and pwd
        and pwd.group(1) == digest(user, password, stamp.group(1))
    ):
        lines += shell_credentials(user, secrets.variable(user))
        slots += [(*stamp.span(1), "TS"), (*pwd.span(1), "SIG")]
    elif user and password and pwd and pwd.group(1) in (password, quote_plus(password)):
        name, who = secrets.variable(user), re.sub(r"\W", "", user)
        lines.append(f'P="${{{name}:?export {name}=the password of {who}}}"')
        slots.append((*pwd.span(1), "P"))
    key = _field_value(text, "apikey")
    if secrets.apikey and key and key.group(1) == secrets.apikey:
        lines.append('K="${APIKEY:?export APIKEY=the account apikey}"')
        slots.append((*key.span(1), "K"))
    if slots and raw != text.encode("utf-8"):
        lines, slots = [], []  # not text: the bytes as sent (offsets would not hold)
    parts, at = [], 0
    binary = not _is_text(raw)
    for start, end, variable in sorted(slots):
        parts += [_literal(text[at:start].encode("utf-8"), binary), f'"${variable}"']
        at = end
    parts.append(_literal(text[at:].encode("utf-8") if slots else raw[at:], binary))
    word = "".join(p for p in parts if p != "''") or "''"
    curl = ["curl", "-sS", "-X", exchange.method, shlex.quote(exchange.url)]
    for name, value in exchange.request_headers.items():
        curl += ["-H", shlex.quote(f"{name}: {value}")]
    if binary:
        command = f"printf {word} | {' '.join(curl)} --data-binary @-"
    else:
        command = f"{' '.join(curl)} --data-binary {word}"
    if len(exchange.request_body) > limit:
        command += f"  # body cut: {len(exchange.request_body)} bytes in all (not replayable)"
    return "\n".join([*lines, command])


def _is_text(raw: bytes) -> bool:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c.isprintable() or c in "\n\r\t" for c in text)


def _literal(raw: bytes, binary: bool) -> str:
    """A piece of body as a shell word: quoted text, or a printf format with escapes."""
    if not raw:
        return "''"
    if not binary:
        return shlex.quote(raw.decode("utf-8"))
    out = []
    for byte in raw:
        char = chr(byte)
        if char == "%":
            out.append("%%")
        elif 32 <= byte < 127 and char not in "'\\":
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return "'" + "".join(out) + "'"


class CheckSignal(Exception):
    """Raised by a check to end it with an outcome other than passed. `remedy` says what
    would let the check judge its rule (an option, an action: "--test-mobiles FILE");
    when empty, the verdict derives it from the message (conformance/verdict.py)."""

    outcome = Outcome.FAILED

    def __init__(self, *args: Any, remedy: str = "") -> None:
        super().__init__(*args)
        self.remedy = remedy


class CheckFailed(CheckSignal):
    """A rule broken: what was expected, what came back, and the exchange that shows it."""

    outcome = Outcome.FAILED

    def __init__(
        self,
        expected: str,
        got: str,
        exchanges: Sequence[Exchange | Evidence | None] | Exchange | Evidence | None = None,
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


class Inconclusive(CheckSignal):
    """The check ran but its evidence was empty: nothing to judge, so never a pass.
    The message says why and what would give it evidence (an option, a test phone)."""

    outcome = Outcome.INCONCLUSIVE


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
    remedy: str = ""  # not judged: what would judge it (an option, a test phone)
    # How much evidence the check judged, by kind: {"reports": 12, "sends": 3, ...}.
    judged: dict[str, int] = field(default_factory=dict)
