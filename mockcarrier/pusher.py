"""The pusher: §2.8 report push and §2.7 MO push from the store's outbox.

What is due to be pushed is the pending reports and MOs in the store; they become
"pushed" only when the receiver acknowledges them (smsapi.push.judge_push_answer), so
a crash or restart resumes where it stopped. Delivery is at least once: a push whose
acknowledgement is lost (receiver crash, timeout after processing, mock killed between
the answer and its commit) is sent again with a new seqid (docs/push.md).

One pusher pushes at a time across every process sharing the SQLite file: each
process runs a Pusher, and only the holder of the "pusher" lease row works. Within it,
each (account, kind) is a lane with one request in flight, in due order; a failing lane
backs off exponentially with jitter, capped, and never gives up. A send or an MO kept
by another process rings the store's doorbell, which the holder listens to, so it is
pushed at once, not at the holder's next look (Store.doorbell, docs/push.md).
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import logging
import os
import random
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from smsapi import push
from smsapi.push import PushKind, PushVerdict

from . import control, faults
from . import defects as defect_modes
from .config import AccountConfig
from .service import Carrier, mo_items
from .stores import Mo, Report, StoreError

Items = list[Report] | list[Mo]  # one lane's items: reports (§2.8) or MOs (§2.7)

log = logging.getLogger("mockcarrier.push")
LEASE = "pusher"
KINDS = (PushKind.RPT, PushKind.MO)
MAX_ROUNDS = 50  # pushes in a row for one lane before others get a turn
MIN_GAP = 0.005  # seconds between two looks at the outbox
LEASE_RETRY = 0.5  # seconds between a non-holder's attempts to take the lease
_LIVE_HOLDERS: set[str] = set()  # holders of this process, to tell a dead one by its pid


def backoff_delay(failures: int, initial: float, maximum: float, rng: random.Random) -> float:
    """Seconds before retry number `failures`: initial doubling, ±20 % jitter, capped."""
    base = initial * 2 ** min(failures - 1, 32)
    return min(maximum, base * rng.uniform(0.8, 1.2))


def holder_dead(holder: str) -> bool:
    """Whether a lease holder (host:pid:token) is a process of this host that is gone."""
    host, _, rest = holder.partition(":")
    pid_text, _, _ = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return holder not in _LIVE_HOLDERS  # an earlier run whose pid we now have
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


class Pusher:
    """Pushes every account's due reports and MOs while this process holds the lease."""

    def __init__(
        self, carrier: Carrier, poll: float = 0.05, lease_ttl: float = 10.0, parallel: int = 4
    ) -> None:
        self.carrier = carrier
        self.store = carrier.store
        self.poll = poll  # a ring lost (none listened yet, Redis away) is seen within this
        self.lease_ttl = lease_ttl
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.rng = random.Random()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._busy: set[tuple[str, PushKind]] = set()
        self._cooldown: dict[tuple[str, PushKind], float] = {}
        self._lock = threading.Lock()
        self._lease_until = 0.0
        self._lease_retry_at = 0.0  # a non-holder asks again only after this
        self._pool = ThreadPoolExecutor(parallel, thread_name_prefix="mockcarrier-push")
        self._thread = threading.Thread(target=self._run, name="mockcarrier-pusher", daemon=True)
        self.doorbell = self.store.doorbell()  # listened to while this pusher holds the lease

    # ------------------------------------------------------------ life

    def start(self) -> Pusher:
        _LIVE_HOLDERS.add(self.holder)
        self.carrier.on_new_work = self.notify
        self._thread.start()
        atexit.register(self.stop)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.doorbell.close()
        with contextlib.suppress(StoreError):
            self.store.release_lease(LEASE, self.holder)
        _LIVE_HOLDERS.discard(self.holder)

    def wake(self) -> None:
        self._wake.set()

    def notify(self, sent: bool = False) -> None:
        """A send or an MO was kept by this process: wake this pusher when it holds the
        lease, else ring the one that does, in whichever process (not to wait its poll),
        unless the send rang already (Doorbell.rung_by_sends)."""
        if self._lease_until > time.time():
            self._wake.set()
        elif not (sent and self.doorbell.rung_by_sends):
            self.doorbell.ring()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                delay = self.tick()
            except Exception:  # the loop must outlive any one failure (store locked...)
                log.exception("pusher loop failed; retrying in 1 s")
                delay = 1.0
            woken = self._wake.wait(delay)
            self._wake.clear()
            # Woken by a send: a short pause, so a burst of sends wakes the loop once.
            if woken and self._stop.wait(MIN_GAP):
                return

    # ------------------------------------------------------------ scheduling

    def holds_lease(self, now: float) -> bool:
        """Take or renew the lease (renewed once a third of its life has passed)."""
        if self._lease_until - now > self.lease_ttl * 2 / 3:
            return True
        if now < self._lease_retry_at:
            return False
        try:
            held = self.store.acquire_lease(LEASE, self.holder, self.lease_ttl, now, holder_dead)
        except StoreError:
            held = False
        self._lease_until = now + self.lease_ttl if held else 0.0
        self._lease_retry_at = 0.0 if held else now + LEASE_RETRY
        return held

    def tick(self) -> float:
        """Start a push on every lane that has something due; seconds until next look."""
        now = time.time()
        if not self.holds_lease(now):
            self.doorbell.close()
            return max(self.poll, LEASE_RETRY)
        self.doorbell.listen(self.wake)  # at once, or at a later tick when it cannot yet
        wake_at = now + self.poll
        for record in self.carrier.snapshot().accounts.values():
            cfg = record.config
            for kind in KINDS:
                if not cfg.push_url(kind.value) or (cfg.userid, kind) in self._busy:
                    continue
                if self._cooldown.get((cfg.userid, kind), 0.0) > now:
                    continue
                lane = self.store.push_lane(cfg.userid, kind.value)
                if lane.next_at > now:  # backing off
                    wake_at = min(wake_at, lane.next_at)
                elif self.pending(cfg.userid, kind, now, 1):
                    self._submit(cfg.userid, kind)
                elif kind is PushKind.RPT:
                    due = self.store.next_due(cfg.userid)
                    if due is not None:
                        wake_at = min(wake_at, due)
        return max(0.0, wake_at - time.time())

    def _submit(self, userid: str, kind: PushKind) -> None:
        with self._lock:
            self._busy.add((userid, kind))
        try:
            self._pool.submit(self._drain, userid, kind)
        except RuntimeError:  # shutting down
            self._busy.discard((userid, kind))

    def _drain(self, userid: str, kind: PushKind) -> None:
        try:
            for _ in range(MAX_ROUNDS):
                if self._stop.is_set():
                    return
                record = self.carrier.snapshot().account(userid)
                if record is None or not record.config.push_url(kind.value):
                    return
                if not self.round(record.config, kind):
                    return
        except Exception:  # the store failed (locked, full...): this lane rests a second
            log.exception("push of %s %s failed", userid, kind.value)
            self._cooldown[(userid, kind)] = time.time() + 1.0
        finally:
            with self._lock:
                self._busy.discard((userid, kind))
            self.wake()

    # ------------------------------------------------------------ one round

    def pending(
        self, userid: str, kind: PushKind, now: float, limit: int, claim: float = 0.0
    ) -> Items:
        """The lane's items due by now, in due order; claimed for `claim` seconds."""
        if kind is PushKind.RPT:
            return self.store.pending_reports(userid, now, limit, claim_for=claim)
        return self.store.pending_mos(userid, now, limit, claim_for=claim)

    def round(self, cfg: AccountConfig, kind: PushKind) -> bool:
        """Push what is due of one lane (one batch, or two under push_reorder).
        True when a full batch went and more may be waiting."""
        snapshot = self.carrier.snapshot()
        ctl = snapshot.control
        configured = cfg.push_rpt_batch if kind is PushKind.RPT else cfg.push_mo_batch
        limit = defect_modes.push_limit(ctl.defects, kind.value, configured)
        due = self.pending(cfg.userid, kind, time.time(), 2 * limit)
        if not due:
            return False
        single = () if len(due) > limit else (faults.PUSH_REORDER,)  # needs two batches
        fired = faults.fire(
            self.store, snapshot.rules, f"push_{kind.value}", cfg.userid, exclude=single
        )
        # Claimed past the longest the round can take (each push ends at push_timeout,
        # post_within), so pull cannot hand the items out while they are in flight.
        rows = self.pending(cfg.userid, kind, time.time(), 2 * limit, claim_seconds(cfg, fired))
        if not rows:
            return False
        try:
            return self._push_rows(cfg, kind, rows, limit, ctl, fired)
        finally:
            self.store.release_claims(kind.value, [r.msgid for r in rows])

    def _push_rows(
        self,
        cfg: AccountConfig,
        kind: PushKind,
        rows: Items,
        limit: int,
        ctl: control.Control,
        fired: list[faults.FaultRule],
    ) -> bool:
        chunks = [rows[:limit], rows[limit:]]
        note = ""
        if faults.first(fired, faults.PUSH_REORDER) and chunks[1]:
            chunks = [chunks[1][:limit], chunks[0]]  # the later batch first
            note = "reordered"
        else:
            chunks = chunks[:1]
        for chunk in chunks:
            if not self.send(cfg, kind, chunk, ctl, fired, note):
                return False
            if faults.first(fired, faults.PUSH_DUPLICATE):
                self.send(cfg, kind, chunk, ctl, fired, "duplicate")
        return len(rows) > limit

    def send(
        self,
        cfg: AccountConfig,
        kind: PushKind,
        rows: Items,
        ctl: control.Control,
        fired: list[faults.FaultRule],
        note: str = "",
    ) -> bool:
        """One push request; records the outcome. True when acknowledged. The store's
        ids are acknowledged; the wire carries them as the defect layer writes them."""
        active = ctl.defects
        url = cfg.push_url(kind.value)
        delay = faults.first(fired, faults.PUSH_DELAY)
        if delay is not None and self._stop.wait(delay.delay_ms / 1000):
            return False
        seqid = self.carrier.handouts.push_seqid(
            active, cfg.userid, kind.value, self.store.next_seqid(cfg.userid, kind.value)
        )
        body, content_type = self.request_body(cfg, kind, rows, ctl, seqid)  # fresh timestamp
        started = time.time()
        status: int | None = None
        answer = ""
        try:
            status, content = post_within(url, body, content_type, cfg.push_timeout)
            answer = content[:500].decode("utf-8", "replace")
            verdict = push.judge_push_answer(kind, seqid, status, content)
        except PushTimeout:
            verdict = PushVerdict(False, f"no answer within {cfg.push_timeout} s")
        except (OSError, http.client.HTTPException, ValueError) as exc:
            verdict = PushVerdict(False, f"connection failed ({type(exc).__name__})")
        duration_ms = (time.time() - started) * 1000
        ok = defect_modes.push_acknowledged(active, verdict.ok)
        retry_in: float | None = None
        lane: tuple[int, float, str] | None = None
        if note == "duplicate":
            pass  # a deliberate extra copy: its outcome changes nothing
        elif ok:
            lane = (0, 0.0, "")
        else:
            failures = self.store.push_lane(cfg.userid, kind.value).failures + 1
            retry_in = backoff_delay(
                failures, cfg.push_backoff_initial, cfg.push_backoff_max, self.rng
            )
            lane = (failures, time.time() + retry_in, verdict.reason)
        attempt = {
            "userid": cfg.userid,
            "kind": kind.value,
            "seqid": seqid,
            "url": url,
            "count": len(rows),
            "first_msgid": rows[0].msgid,
            "last_msgid": rows[-1].msgid,
            "started_at": started,
            "duration_ms": round(duration_ms, 1),
            "ok": int(verdict.ok),
            "http_status": status,
            "answer": answer,
            "error": verdict.reason,
            "retry_in": retry_in,
            "note": note,
        }
        pushed = [r.msgid for r in rows] if ok and note != "duplicate" else None
        self.store.record_push(attempt, pushed, lane)
        what = f"push {cfg.userid} {kind.cmd} seqid={seqid} {len(rows)} item(s)"
        if note:
            what += f" ({note})"
        if verdict.ok:
            log.info("%s ok %.0fms", what, duration_ms)
        elif retry_in is not None:
            log.warning("%s to %s failed: %s; retry in %.1f s", what, url, verdict.reason, retry_in)
        else:
            log.warning("%s to %s failed: %s; not retried", what, url, verdict.reason)
        return ok

    def request_body(
        self,
        cfg: AccountConfig,
        kind: PushKind,
        rows: Items,
        ctl: control.Control,
        seqid: int,
    ) -> tuple[bytes, str]:
        """§2.7.3 / §2.8.3 the form body of one push, as the active defects write it."""
        active = ctl.defects
        if kind is PushKind.MO:
            items = mo_items([r for r in rows if isinstance(r, Mo)], cfg.mo_charset)
        else:
            items = [r.fields() for r in rows if isinstance(r, Report)]
        items = defect_modes.distort_items(active, kind.list_field, items)
        fields = push.push_fields(kind, cfg.userid, cfg.password, seqid, items, ctl.now())
        return defect_modes.push_body(active, fields)


class PushTimeout(Exception):
    """The receiver did not answer in full within push_timeout."""


MAX_ANSWER_BYTES = 64 * 1024  # an acknowledgement is a few dozen bytes
SENDS_PER_ROUND = 2  # two batches under push_reorder
CLAIM_MARGIN = 10.0  # seconds a claim outlasts its pushes (the store's commit, a busy machine)


def claim_seconds(cfg: AccountConfig, fired: list[faults.FaultRule]) -> float:
    """How long a round's items are claimed: every push it may make (a second batch, a
    duplicate of each), each after its push_delay and ended at push_timeout."""
    sends = SENDS_PER_ROUND * (2 if faults.first(fired, faults.PUSH_DUPLICATE) else 1)
    delay = faults.first(fired, faults.PUSH_DELAY)
    per_send = cfg.push_timeout + (delay.delay_ms / 1000 if delay else 0.0)
    return sends * per_send + CLAIM_MARGIN


def post_within(url: str, body: bytes, content_type: str, timeout: float) -> tuple[int, bytes]:
    """POST and read the whole answer within `timeout` seconds in all: the HTTP status and
    body. A socket timeout counts per read, so a receiver trickling its answer a byte at
    a time would hold the lane for ever; here a watchdog shuts the socket at the deadline
    (PushTimeout). A new connection per push: a lane sends one push at a time anyway."""
    parts = urlsplit(url)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    conn = connection_class(parts.hostname or "", parts.port, timeout=timeout)
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        if conn.sock is not None:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(timeout, expire)
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.connect()  # bounded by the socket timeout; the watchdog covers what follows
        if expired.is_set():
            raise PushTimeout
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.request("POST", path, body, {"Content-Type": content_type})
        response = conn.getresponse()
        content = response.read(MAX_ANSWER_BYTES)
    except (OSError, http.client.HTTPException) as exc:
        if expired.is_set():
            raise PushTimeout from exc
        raise
    finally:
        watchdog.cancel()
        conn.close()
    if expired.is_set():  # cut short by the watchdog: not a whole answer
        raise PushTimeout
    return response.status, content


def lane_views(carrier: Carrier, cfg: AccountConfig) -> dict[str, dict[str, Any]]:
    """GET /__admin/accounts/<userid>/push: each kind's push state."""
    now = time.time()
    out = {}
    for kind in KINDS:
        lane = carrier.store.push_lane(cfg.userid, kind.value)
        url = cfg.push_url(kind.value)
        out[kind.value] = {
            "active": bool(url),
            "url": url,
            "pull_blocked": cfg.pull_blocked(kind.value),
            "pending": carrier.store.pending_count(cfg.userid, kind.value, now),
            "seqid": lane.seqid,
            "failures": lane.failures,
            "next_attempt_at": lane.next_at if lane.next_at > now else None,
            "last_error": lane.last_error,
        }
    return out


def retry_now(carrier: Carrier, userid: str) -> None:
    """Clear the backoff of both lanes of an account (the next tick pushes)."""
    for kind in KINDS:
        lane = carrier.store.push_lane(userid, kind.value)
        carrier.store.push_lane_done(userid, kind.value, lane.failures, 0.0, "")
    if carrier.on_new_work is not None:
        carrier.on_new_work()


def start_for(app: Any, **options: Any) -> Pusher:
    """Run a pusher beside a served app (one per process; the lease picks the worker)."""
    pusher = Pusher(app.extensions["mockcarrier"], **options).start()
    app.extensions["mockcarrier.pusher"] = pusher
    return pusher
