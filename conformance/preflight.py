"""Before a run, and while it lasts: is the target the interface, do the credentials work,
is the account locked (§3.1, §4 -100001 / -100002, A7)?

- preflight(): one authenticated get_balance with the configured credentials; anything
  but result 0 stops the run with one line (exit status 2). It spends at most one auth
  failure, so a wrong password never locks the account.
- AuthFailureBudget: the deliberate failures the suite's negative auth checks cause on the
  suite's own account, at most `failures_allowed` per `lockout_window` (the carrier's A7
  policy as the vendor states it) across runs, remembered in a small state file, so that
  a second run right after a first waits for room instead of locking the account.
- LockWatch: a -100002 seen during a run on the suite's account; from then on nothing
  is judged (the carrier is not failed for a lock), and the run says who caused it and
  when it should unlock.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from smsapi.client import Client, Exchange
from smsapi.codec import parse_answer
from smsapi.endpoints import BASE_PATH
from smsapi.errors import CodecError, Result, TransportError, result_text

from .outcomes import Unreachable

PREFLIGHT_TIMEOUT = 10.0  # seconds: a preflight answers in seconds, never minutes
STATE_ENV = "CONFORMANCE_STATE_FILE"  # where the auth failure times are remembered


class PreflightFailed(Unreachable):
    """The run cannot start: said in one line, exit status 2, nothing was checked."""


@dataclass
class Credentials:
    """What a run authenticates with (the conformance config or the load test options)."""

    target: str
    userid: str
    password: str = ""
    apikey: str = ""
    auth: str = "md5"
    fmt: str = "json"

    @property
    def who(self) -> str:
        return self.userid or "the apikey"

    def client(self, timeout: float = PREFLIGHT_TIMEOUT) -> Client:
        return Client(
            self.target,
            self.userid,
            self.password,
            self.apikey,
            fmt=self.fmt,
            auth=self.auth,
            timeout=timeout,
            raise_for_result=False,
        )


# ---------------------------------------------------------------- the preflight


def target_problem(target: str) -> str:
    """§2.x.2 the target is the base URL; the suite adds /sms/v2/std/<name> itself."""
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"target {target!r} is not an http(s) base URL (e.g. http://10.0.0.5:8080)"
    if BASE_PATH in parts.path:
        base = f"{parts.scheme}://{parts.netloc}{parts.path.split(BASE_PATH, 1)[0]}"
        return (
            f"target {target} includes {BASE_PATH}: give the carrier's base URL "
            f"({base.rstrip('/')}), to which {BASE_PATH}/<endpoint> is added"
        )
    return ""


def preflight(
    creds: Credentials,
    budget: AuthFailureBudget | None = None,
    timeout: float = PREFLIGHT_TIMEOUT,
) -> dict[str, Any]:
    """One authenticated get_balance; its answer when result 0, else PreflightFailed with
    one line saying what is wrong and what to change ("no check was run" follows)."""
    problem = target_problem(creds.target)
    if problem:
        raise PreflightFailed(problem)
    client = creds.client(timeout)
    try:
        answer, exchange = client.call("get_balance", {})
    except TransportError as exc:
        last = client.last_exchange
        if last is not None and last.status:
            raise PreflightFailed(
                f"{creds.target} answered HTTP {last.status} to {BASE_PATH}/get_balance: "
                "not the interface (check --target: the carrier's base URL)"
            ) from None
        raise PreflightFailed(f"cannot reach {creds.target}: {_reason(exc)}") from None
    except CodecError as exc:
        raise PreflightFailed(
            f"{creds.target} does not answer get_balance in the interface's format ({exc}): "
            "check --target"
        ) from None
    result = answer.get("result")
    if not isinstance(result, int) or isinstance(result, bool):
        raise PreflightFailed(
            f"{creds.target} answered get_balance without a numeric result ({result!r}): "
            "not the interface (check --target)"
        )
    if result == Result.OK:
        return answer
    if result == Result.AUTH_FAILED and budget is not None:
        budget.note()  # the carrier counts it towards a lockout: so does the next run
    raise PreflightFailed(refusal_line(creds, result, budget))


def refusal_line(creds: Credentials, result: int, budget: AuthFailureBudget | None) -> str:
    code = f"({result})"
    if result == Result.AUTH_FAILED:
        which = "--apikey" if creds.auth == "apikey" else "--userid/--password"
        return f"authentication failed for {creds.who} {code}: check {which}"
    if result == Result.AUTH_LOCKED:
        lock = LockWatch(creds.userid, budget)
        lock.locked_at = time.time()
        return f"{creds.who} is locked out {code}: {lock.cause()}; run again after {lock.until()}"
    if result == Result.IP_NOT_ALLOWED:
        return f"{creds.who} may not be used from this address {code}: ask the vendor"
    return f"get_balance for {creds.who} answered {result} ({result_text(result, 'en')})"


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "timed out", "Name or service not known"):
        if marker in text:
            return marker.lower()
    return text[:160]


# ---------------------------------------------------------------- the failure budget


MARGIN = 0.05  # seconds past the window before one more failure (clocks' granularity)


@dataclass
class AuthFailureBudget:
    """§4 -100002 / A7: the deliberate auth failures the suite causes on one account,
    at most `allowed` within any `window` seconds, counted across runs through a state
    file (one JSON object: "<target> <userid>" -> failure times). window 0: no memory."""

    target: str
    userid: str
    allowed: int
    window: float
    path: Path | None = None
    max_wait: float | None = None  # default: the window (and MARGIN) itself
    say: Callable[[str], None] | None = None  # progress while waiting
    spent: list[float] = field(default_factory=list)  # this run's failures
    waited: float = 0.0

    @property
    def key(self) -> str:
        return f"{self.target.rstrip('/')} {self.userid.upper()}"

    def recent(self, now: float | None = None) -> list[float]:
        """Failure times (this run's and earlier runs') still inside the window."""
        now = time.time() if now is None else now
        times = list(self.spent)
        if self.window > 0 and self.path is not None:
            times += _read_state(self.path).get(self.key, [])
        return sorted({t for t in times if self.window <= 0 or now - t < self.window})

    def room_in(self, now: float | None = None) -> float:
        """Seconds until one more failure stays within the budget (0: now)."""
        now = time.time() if now is None else now
        recent = self.recent(now)
        if len(recent) < self.allowed:
            return 0.0
        if self.window <= 0:
            return float("inf")
        return max(recent[len(recent) - self.allowed] + self.window - now, 0.0) + MARGIN

    def make_room(self, why: str) -> str:
        """Wait until one more failure fits (at most max_wait): "" then, else why not.
        The caller notes the failure once its answer is in (RunContext.auth_failure)."""
        if self.allowed <= 0:
            return f"{why} would be an auth failure and [auth] failures_allowed is 0"
        wait = self.room_in()
        # Room always comes within the window (and its margin) when the window is known.
        limit = self.window + MARGIN if self.max_wait is None else self.max_wait
        if wait > limit:
            return (
                f"{why} would be auth failure {len(self.recent()) + 1} on {self.userid} "
                f"within {self.window:g} s ([auth] failures_allowed = {self.allowed}, A7)"
            )
        if wait > 0:
            if self.say:
                self.say(
                    f"waiting {wait:.0f} s before {why}: {len(self.recent())} auth failures on "
                    f"{self.userid} in the last {self.window:g} s (A7 lockout budget)"
                )
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:  # a plain wait: the carrier's clock decides
                time.sleep(min(0.2, max(deadline - time.monotonic(), 0.0)))
            self.waited += wait
        return ""

    def note(self) -> None:
        """Remember one auth failure on the account, now (this run's and the file's): called
        when its answer is in, never before its request. The carrier counted it on receipt,
        so the suite's window then ends after the carrier's, however slow the exchange."""
        now = time.time()
        self.spent.append(now)
        if self.window > 0 and self.path is not None:
            with _locked_state(self.path) as state:
                times = [t for t in state.get(self.key, []) if now - t < self.window]
                state[self.key] = [*times, now]

    def last_own(self) -> float | None:
        recent = self.recent()
        return recent[-1] if recent else None


def default_state_file() -> Path:
    """$CONFORMANCE_STATE_FILE, else the user's cache directory."""
    explicit = os.environ.get(STATE_ENV)
    if explicit:
        return Path(explicit)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "tongyu-conformance" / "auth-failures.json"


def budget_for(config: Any, say: Callable[[str], None] | None = None) -> AuthFailureBudget:
    """The budget of a conformance run (VendorConfig)."""
    path = getattr(config, "auth_state_file", "") or ""
    window = float(getattr(config, "lockout_window", 60.0))
    return AuthFailureBudget(
        config.target,
        config.userid,
        int(config.auth_failures_allowed),
        window,
        Path(path).expanduser() if path else default_state_file(),
        say=say,
    )


def _read_state(path: Path) -> dict[str, list[float]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(k): [float(t) for t in v if isinstance(t, int | float)]
        for k, v in data.items()
        if isinstance(v, list)
    }


@contextlib.contextmanager
def _locked_state(path: Path) -> Iterator[dict[str, list[float]]]:
    """Read, change and write the state file under an exclusive lock (parallel runs)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path.with_suffix(".lock"), "a+")  # noqa: SIM115
    except OSError:  # no writable cache: the run still works, without memory
        yield {}
        return
    with handle:
        try:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
        except (ImportError, OSError):
            pass
        state = _read_state(path)
        yield state
        now = time.time()
        # Forget what can no longer lock anyone (an hour is beyond any sane window).
        kept = {k: v for k, v in state.items() if v and now - max(v) < 3600}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(kept), encoding="utf-8")
        tmp.replace(path)


# ---------------------------------------------------------------- lock during a run


@dataclass
class LockWatch:
    """Has the suite's own account been answered -100002 during the run?"""

    userid: str
    budget: AuthFailureBudget | None = None
    locked_at: float | None = None
    check_id: str = ""
    sure: bool = False  # a correct call was refused with -100002 too

    @property
    def locked(self) -> bool:
        return self.locked_at is not None

    def observe(self, check_id: str, exchange: Exchange, userid: str) -> None:
        """Called with every exchange of the run; only the suite's account counts
        (the sacrificed lockout account of AUTH-LOCKOUT is expected to lock)."""
        if self.locked or userid.upper() != self.userid.upper():
            return
        if b"100002" not in exchange.answer_body:
            return
        try:
            answer = parse_answer(exchange.answer_body, exchange.answer_headers.get("Content-Type"))
        except CodecError:
            return
        if answer.get("result") == Result.AUTH_LOCKED:
            self.locked_at = time.time()
            self.check_id = check_id

    def confirmed(self, creds: Credentials) -> bool:
        """A -100002 is a lock only when a correct call is refused too; a carrier that
        answers -100002 for a plain wrong digest is judged on its answer (no lock)."""
        if not self.locked:
            return False
        if self.sure:
            return True
        try:
            answer, _ = creds.client().call("get_balance", {})
        except (TransportError, CodecError):
            return True  # cannot tell: keep to the safe side, judge nothing more
        if answer.get("result") == Result.AUTH_LOCKED:
            self.sure = True
            return True
        self.locked_at, self.check_id = None, ""
        return False

    def cause(self) -> str:
        """Who locked the account: the suite's own negative checks, or someone else."""
        own = self.budget.recent() if self.budget else []
        if self.budget and len(own) > self.budget.allowed:
            return (
                f"the suite's own runs caused {len(own)} auth failures on it since "
                f"{_clock(min(own))} (negative auth checks and failed preflights)"
            )
        if self.budget and own:
            return (
                f"the suite caused {len(own)} auth failure(s) on it since {_clock(min(own))} "
                f"(negative auth checks, failed preflights): either the carrier locks sooner "
                f"than [auth] failures_allowed = {self.budget.allowed} per "
                f"{self.budget.window:g} s allows, or others caused the rest"
            )
        return (
            "the suite caused no auth failure on it within the lockout window, so someone "
            "else did (another client with a wrong password?)"
        )

    def until(self) -> str:
        """When it should unlock: the lockout window (A7) after the last known failure."""
        window = self.budget.window if self.budget and self.budget.window > 0 else 60.0
        last = (self.budget.last_own() if self.budget else None) or self.locked_at or time.time()
        return f"about {_clock(max(last, self.locked_at or last) + window)} (window {window:g} s)"

    def message(self) -> str:
        at = _clock(self.locked_at or time.time())
        where = f" during {self.check_id}" if self.check_id else ""
        return (
            f"not judged: {self.userid} was locked out (-100002) at {at}{where}; "
            f"{self.cause()}; it should unlock {self.until()}"
        )


def _clock(epoch: float) -> str:
    return datetime.fromtimestamp(epoch).strftime("%H:%M:%S")


def credentials_of(config: Any) -> Credentials:
    """The credentials a conformance run (VendorConfig) uses for everything it sends."""
    return Credentials(
        config.target,
        config.userid,
        config.password,
        config.apikey,
        config.primary_auth,
        "json",
    )
