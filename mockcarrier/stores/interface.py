"""What the carrier asks of its durable state: read this file first.

Two stores implement `Store`: `SqliteStore` (mockcarrier/stores/sqlite/, one file in WAL
mode, the default) and `RedisStore` (mockcarrier/stores/redis/, shared by several mock
instances). The carrier (mockcarrier/service.py), the pusher and the admin API speak only
this interface; the equivalence state machine (tests/test_store_equivalence.py) holds the
two stores to the same answers for every method.

Promises every store keeps:
- Nothing acknowledged is lost: `accept`, `take_*`, `record_push` return only after what
  they did is durable (survives `kill -9` of any mock process).
- A counter value is used once (§3.3 msgids never repeat, even across a crash).
- A report or MO is handed out once: by `take_reports`/`take_mos` (pull) or by an
  acknowledged push (`record_push`), never both (M6).
- No defect parameter: the defect modes (mockcarrier/defects.py) transform answers, ids
  and hand-outs above the store, so a defect cannot slow the clean path.

Records are dataclasses. A send hands the store `Message`s without ids; the store
reserves counters, and each report is derived from its message when it is handed out
(mockcarrier/stores/segments.py), so a store keeps one row per message, not per segment.
The admin views (`messages`, `reports`, `list_mos`, `push_attempts`) answer JSON-ready
dicts: they are what the admin API and the console show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NamedTuple, Protocol

from smsapi.endpoints import REPORT_FIELDS

from ..config import AccountConfig
from ..delivery import Fate

Kind = Literal["rpt", "mo"]  # a push lane: status reports (§2.8) or MOs (§2.7)


class StoreError(RuntimeError):
    """The store failed; the caller answers -100999 (§4 平台数据库内部错误)."""


class Arrears(Exception):
    """The balance cannot pay for every segment (§4 -100003)."""


class UnknownAccount(KeyError):
    pass


class StaleSnapshot(Exception):
    """The version a send was checked against (Acceptance.version) moved before the
    store kept it: nothing written; the caller checks the request again on the state
    as it is now (mockcarrier/snapshot.py)."""


@dataclass
class AccountRecord:
    config: AccountConfig
    balance: int
    money_micros: int

    @property
    def userid(self) -> str:
        return self.config.userid


@dataclass(frozen=True, slots=True)
class Drawn:
    """A fate drawn when the store numbers the message, seeded by (seed, msgid) so a run
    with the same seed on a fresh store replays (delivery.drawn_fate, segments.fate_values)."""

    profile: str  # the account's delivery profile for the message's operator


@dataclass(slots=True)
class Message:
    """One mobile's message of a send, as checked, before the store numbers it."""

    position: int  # 1-based place in the request: §3.3 msgid = base + position - 1
    mobile: str  # as sent (M5: reports echo it)
    operator: str
    text: str | None  # None: the request's shared text (Acceptance.text)
    pktotal: int
    custid: str  # "" → the request's custid
    svrtype: str
    exno: str
    spno: str
    exdata: str
    issues: tuple[str, ...]  # what was off-spec but accepted (W1-W4), request flags too
    fate: Fate | Drawn  # a fixed fate (magic number, invalid) or drawn at numbering


@dataclass(slots=True)
class Acceptance:
    """What one send asks the store to do in one durable step: bill, number, keep."""

    userid: str
    endpoint: str
    fmt: str
    auth_mode: str
    chargetype: int  # 0 billed in segments, 1 in money
    cost_count: int  # segments billed (chargetype 0)
    cost_micros: int  # money billed (chargetype 1)
    text: str | None  # the shared text of a batch_send; None when each message has its own
    custid: str  # the request's custid; "" → ids.generated_custid(seed, base msgid)
    seed: int
    prefix: int  # the msgid prefix (mockcarrier/ids.py)
    stime: datetime  # the carrier's clock at acceptance (§2.5.6 stime; rtime = stime + latency)
    accepted_at: float  # real time (due times are real: accepted_at + latency / time_scale)
    time_scale: float
    messages: list[Message] = field(default_factory=list)
    delay: float = 0.0  # real seconds every report comes later (defect layer)
    # The store version the request was checked against, for a store that checks it in
    # the send's own step (Store.checks_version): StaleSnapshot when it moved. None: the
    # caller read the version itself before checking the request (a store that does not
    # check it ignores it).
    version: int | None = None
    # The account pushes (§2.7 / §2.8): a store whose doorbell a send rings in its own
    # step (Doorbell.rung_by_sends) rings it for this send.
    push: bool = False

    @property
    def mobiles(self) -> int:
        return len(self.messages)

    @property
    def segments(self) -> int:
        """Every segment, billed or not."""
        return sum(m.pktotal for m in self.messages)


@dataclass(frozen=True, slots=True)
class Accepted:
    msgid: int  # §3.3 the send's msgid: the id of position 1, segment 1
    custid: str  # §2.1.6 as answered: the request's or the generated one


class Report(NamedTuple):
    """One segment's status report (§2.5.6), as get_rpt and the push hand it out. A
    NamedTuple, its fields in the document's order: a pull builds five hundred, and a
    frozen dataclass sets each field through object.__setattr__."""

    msgid: int
    custid: str
    pknum: int
    pktotal: int
    mobile: str
    spno: str
    exno: str
    stime: str
    rtime: str
    status: int
    errcode: str
    errdesc: str
    exdata: str

    def fields(self) -> dict[str, Any]:
        """The §2.5.6 fields in the document's order."""
        return dict(zip(REPORT_FIELDS, self, strict=True))


@dataclass(frozen=True, slots=True)
class Mo:
    """One inbound message (§2.4.6); the text is encoded when it is handed out."""

    msgid: int
    mobile: str
    spno: str
    exno: str
    rtime: str
    text: str


@dataclass(frozen=True, slots=True)
class PushLane:
    """§2.7.3/§2.8.3 one account's push lane of one kind: seqid and backoff."""

    userid: str
    kind: str
    seqid: int = 0
    failures: int = 0
    next_at: float = 0.0
    last_error: str = ""


class Doorbell(Protocol):
    """How a process that keeps a send tells the pusher holding the lease, in whichever
    process or host, that work has landed; without a ring that pusher sees it at its next
    poll. SQLite: a socket of this host (sqlite/doorbell.py); Redis: a channel
    (redis/doorbell.py)."""

    def ring(self) -> None:
        """Never raises, never waits; lost when nobody listens."""
        ...

    def listen(self, wake: Callable[[], None]) -> bool:
        """Call wake at every ring from now on (a thread of its own); False when it
        cannot yet (another process still listens on this host; Redis unreachable)."""
        ...

    def close(self) -> None:
        """Stop listening (the lease was lost, or the pusher stops)."""
        ...

    # True: the store's accept rings for a send of an account that pushes
    # (Acceptance.push), in the send's own round trip (Redis); False: the pusher rings
    # after the send (SQLite: a datagram costs no round trip).
    rung_by_sends: bool

    @property
    def listening(self) -> bool: ...


class Store(Protocol):
    """The durable state of the mock carrier."""

    # ------------------------------------------------------------ lifecycle
    def describe(self) -> str: ...
    def close(self) -> None: ...

    def version(self) -> int:
        """A number that changes whenever control state, fault rules, accounts'
        configurations or authentication failures change: callers cache those and
        read this one value per request."""
        ...

    # True: accept() checks Acceptance.version in the send's own step (one round trip
    # where reading the version first would be another: Redis); False: the version is
    # cheap to read first (SQLite reads a file the writers post it in).
    checks_version: bool
    # True: a call is a round trip to another server (Redis): where a request runs is
    # decided without one (Carrier.threads_reason), and on a worker's loop the sends and
    # hand-outs let the loop run others while they wait for the reply; False: only on
    # this host's files and locks (mockcarrier.worker).
    on_network: bool

    # ------------------------------------------------------------ accounts
    def ensure_accounts(self, accounts: list[AccountConfig]) -> None: ...
    def put_account(self, cfg: AccountConfig, reset_balance: bool = False) -> None: ...
    def delete_account(self, userid: str) -> bool: ...
    def account(self, userid: str) -> AccountRecord | None: ...
    def accounts(self) -> list[AccountRecord]: ...
    def top_up(self, userid: str, count: int = 0, micros: int = 0) -> AccountRecord: ...
    def set_balance(self, userid: str, count: int | None, micros: int | None) -> AccountRecord: ...
    def reset(self, userid: str, cfg: AccountConfig) -> None:
        """Forget what an account sent and received; balance back to its start."""
        ...

    # ------------------------------------------------------------ authentication
    def record_auth_failure(self, userid: str, at: float, keep: float = 86400.0) -> None: ...
    def auth_failures_since(self, userid: str, since: float) -> int: ...

    # ------------------------------------------------------------ sending
    def accept(self, acceptance: Acceptance) -> Accepted:
        """Bill, reserve one counter per message, keep the messages: one durable step.
        Raises Arrears (nothing written), UnknownAccount, StaleSnapshot (checks_version
        and acceptance.version moved: nothing written), StoreError."""
        ...

    def reserve_ids(self, count: int) -> int:
        """count consecutive counter values outside a send (MO ids); the first."""
        ...

    # ------------------------------------------------------------ reports and MOs
    def take_reports(self, userid: str, now: float, limit: int) -> list[Report]:
        """§2.5 due reports, oldest due first, each handed out once."""
        ...

    def add_mo(self, userid: str, mo: Mo) -> int: ...

    def take_mos(self, userid: str, now: float, limit: int) -> list[Mo]:
        """§2.4 MOs in arrival order, each handed out once."""
        ...

    def reschedule_reports(
        self,
        userid: str,
        message_msgid: int,
        *,
        due_at: float,
        rtime: str,
        failure: tuple[int, str, str] | None = None,
    ) -> int:
        """A message's reports not handed out yet get a new due time and rtime, and with
        failure (status, errcode, errdesc) a new fate. Returns how many changed."""
        ...

    def pending_count(self, userid: str, kind: Kind, now: float | None = None) -> int: ...
    def next_due(self, userid: str) -> float | None: ...

    # ------------------------------------------------------------ admin views (JSON-ready)
    def messages(
        self,
        userid: str,
        *,
        mobile: str = "",
        custid: str = "",
        msgids: tuple[int, ...] = (),
        limit: int = 100,
    ) -> list[dict[str, Any]]: ...
    def reports(self, userid: str, state: str = "pending", limit: int = 500) -> list[dict]: ...
    def list_mos(
        self,
        userid: str,
        *,
        mobile: str = "",
        msgid: int | None = None,
        state: str = "",
        limit: int = 200,
    ) -> list[dict[str, Any]]: ...
    def push_attempts(self, userid: str, kind: str = "", limit: int = 100) -> list[dict]: ...

    # ------------------------------------------------------------ control plane and faults
    def control(self) -> dict[str, Any]: ...
    def put_control(self, values: dict[str, Any], replace: bool = False) -> None: ...
    def add_fault(self, rule: dict[str, Any], remaining: int | None) -> int: ...
    def faults(self, active_only: bool = False) -> list[dict[str, Any]]: ...
    def consume_fault(self, fault_id: int) -> bool: ...
    def delete_faults(self, fault_id: int | None = None) -> int: ...

    # ------------------------------------------------------------ the pusher
    def acquire_lease(
        self, name: str, holder: str, ttl: float, now: float, holder_dead: Callable[[str], bool]
    ) -> bool: ...
    def release_lease(self, name: str, holder: str) -> None: ...
    def doorbell(self) -> Doorbell: ...
    def lease(self, name: str) -> dict[str, Any] | None: ...
    def pending_reports(
        self, userid: str, now: float, limit: int, claim_for: float = 0.0
    ) -> list[Report]:
        """Reports due to be pushed, in due order; claimed for claim_for seconds so that
        get_rpt cannot hand out what a push has in flight (a claim lapses by itself)."""
        ...

    def pending_mos(
        self, userid: str, now: float, limit: int, claim_for: float = 0.0
    ) -> list[Mo]: ...

    def release_claims(self, kind: Kind, msgids: list[int]) -> None: ...
    def next_seqid(self, userid: str, kind: Kind, advance: bool = True) -> int: ...
    def push_lane(self, userid: str, kind: Kind) -> PushLane: ...
    def push_lane_done(
        self, userid: str, kind: Kind, failures: int = 0, next_at: float = 0.0, error: str = ""
    ) -> None: ...
    def record_push(
        self,
        attempt: dict[str, Any],
        pushed: list[int] | None = None,
        lane: tuple[int, float, str] | None = None,
        keep: int = 5000,
    ) -> int:
        """A push's outcome in one step: the acknowledged items (report or MO msgids)
        leave the outbox, the lane's backoff becomes lane, the attempt is logged."""
        ...
