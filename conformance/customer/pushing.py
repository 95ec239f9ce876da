"""The suite as the carrier: it pushes (§2.7 / §2.8) to a customer's receiver and keeps
every push with the receiver's answer, judged by smsapi.push."""

from __future__ import annotations

import random
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from smsapi.client import Exchange
from smsapi.codec import loads_json
from smsapi.fields import userid_rule
from smsapi.push import (
    PushKind,
    encode_push,
    encode_push_as_example,
    push_answer_problems,
    push_fields,
)
from smsapi.tender import DEMO_CHANNEL

from ..config import VendorConfig, VendorConfigError, without_secrets
from ..metrics import spread
from ..outcomes import Unreachable
from .context import CustomerContext
from .items import ItemFactory

SEQID_MAX = 2**31 - 1  # schemas S19: seqid is a 32-bit int


@dataclass
class ReceiverSettings:
    """How `conformance client` pushes and judges (docs/conformance-client.md)."""

    receiver_url: str
    mo_url: str = ""  # MO pushes go here; empty: to receiver_url (cmd tells them apart)
    userid: str = "J10003"  # the account the receiver expects (§2.7.3 userid, pwd)
    password: str = "111111"
    answer_limit: float = 2.0  # U1: seconds within which every push must be answered
    async_margin: float = 0.5  # U1: a 500-report push may take this much longer than 1
    burst: int = 20  # RECV-BURST: pushes in parallel
    burst_items: int = 100  # reports in each burst push
    stale_probe: int = 3600  # RECV-AUTH-STALE: seconds the probe's timestamp is old
    stored_url: str = ""  # RECV-STORED-ONCE: GET gives what the receiver stored (U3)
    store_wait: float = 2.0  # seconds to watch stored_url after a duplicate
    channel: str = DEMO_CHANNEL  # spno of the test items (ends as tender §2.1.2 asks)
    request_timeout: float = 10.0

    def validate(self) -> ReceiverSettings:
        for name in ("receiver_url", "mo_url", "stored_url"):
            url = getattr(self, name)
            if url and not url.startswith(("http://", "https://")):
                raise VendorConfigError(f"{name.replace('_', '-')} {url!r} is not an http(s) URL")
        if not self.receiver_url:
            raise VendorConfigError("no --receiver-url")
        if not userid_rule(self.userid):
            raise VendorConfigError(f"userid {self.userid!r}: 1 to 6 characters (§2.7.3)")
        if self.answer_limit <= 0 or self.request_timeout <= 0:
            raise VendorConfigError("answer-limit and request-timeout are over 0")
        if not 1 <= self.burst <= 200:
            raise VendorConfigError("burst is 1 to 200 pushes")
        if not 1 <= self.burst_items <= PushKind.RPT.max_items:
            raise VendorConfigError(f"burst-items is 1 to {PushKind.RPT.max_items}")
        self.request_timeout = max(self.request_timeout, self.answer_limit * 2)
        return self

    def url_for(self, kind: PushKind) -> str:
        return (self.mo_url or self.receiver_url) if kind is PushKind.MO else self.receiver_url

    def to_dict(self) -> dict[str, Any]:
        return without_secrets(self)


@dataclass
class PushExchange:
    """One push and the receiver's answer."""

    kind: PushKind
    seqid: int
    items: list[dict[str, Any]]
    exchange: Exchange
    purpose: str  # what the push is for: sizes, duplicate, burst, wrong-digest...
    valid: bool  # a push the receiver must acknowledge (probes are not)
    check_id: str
    answer: dict[str, Any] | None = None
    problems: dict[str, str] = field(default_factory=dict)  # by smsapi.push.ANSWER_ASPECTS
    error: str = ""  # no HTTP answer at all: why

    @property
    def acknowledged(self) -> bool:
        return not self.problems

    @property
    def answered(self) -> bool:
        return not self.error

    @property
    def elapsed(self) -> float:
        return self.exchange.elapsed

    @property
    def reason(self) -> str:
        return next(iter(self.problems.values()), "")

    def summary(self) -> dict[str, Any]:
        return {
            "cmd": self.kind.cmd,
            "seqid": self.seqid,
            "items": len(self.items),
            "purpose": self.purpose,
            "check": self.check_id,
            "elapsed_s": round(self.elapsed, 3),
            "status": self.exchange.status,
            "problems": dict(self.problems),
        }


class ReceiverContext(CustomerContext):
    """A run of the receiver checks: pushes with seqid + 1 each (§2.7.3 每次网络请求加1)."""

    def __init__(
        self, config: VendorConfig, settings: ReceiverSettings, seed: int | None = None
    ) -> None:
        super().__init__(config, seed)
        self.settings = settings
        self.rng = random.Random(self.seed)
        self.tag = f"{self.rng.randrange(16**6):06x}"
        self.items = ItemFactory(self.tag, settings.channel, random.Random(self.seed + 1))
        self.log: list[PushExchange] = []
        self.duplicates: list[PushExchange] = []  # the repeated pushes of RECV-DUPLICATE
        self._seqid = self.rng.randrange(1000, 1_000_000)
        self._lock = threading.Lock()
        self._session = requests.Session()

    def start(self) -> None:
        """Each receiver URL must take a TCP connection (nothing is pushed yet)."""
        for url in dict.fromkeys(self.settings.url_for(k) for k in PushKind):
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            try:
                socket.create_connection((parts.hostname, port), timeout=5).close()
            except OSError as exc:
                raise Unreachable(f"cannot reach the receiver {url}: {exc}") from None

    def close(self) -> None:
        self._session.close()

    def next_seqid(self) -> int:
        with self._lock:
            self._seqid = self._seqid + 1 if self._seqid < SEQID_MAX else 1
            return self._seqid

    def push(
        self,
        kind: PushKind,
        items: list[dict[str, Any]],
        *,
        purpose: str,
        valid: bool = True,
        password: str | None = None,
        moment: datetime | None = None,
        as_example: bool = False,
        session: requests.Session | None = None,
    ) -> PushExchange:
        """POST one push (smsapi.push) and judge the answer (smsapi.push_answer_problems).
        password / moment make probes: a wrong digest, a stale timestamp."""
        cfg = self.settings
        seqid = self.next_seqid()
        fields = push_fields(
            kind, cfg.userid, cfg.password if password is None else password, seqid, items, moment
        )
        body, content_type = (encode_push_as_example if as_example else encode_push)(fields)
        url = cfg.url_for(kind)
        exchange = Exchange("POST", url, {"Content-Type": content_type}, body)
        pushed = PushExchange(kind, seqid, items, exchange, purpose, valid, self.current.check_id)
        started = time.perf_counter()
        try:
            response = (session or self._session).post(
                url, data=body, headers=exchange.request_headers, timeout=cfg.request_timeout
            )
        except requests.Timeout:
            pushed.error = f"no answer within {cfg.request_timeout:.0f} s"
        except requests.RequestException as exc:
            pushed.error = f"no answer: {type(exc).__name__}: {exc}"
        exchange.elapsed = time.perf_counter() - started
        if pushed.error:
            pushed.problems = {"http": pushed.error}
        else:
            exchange.status = response.status_code
            exchange.answer_headers = dict(response.headers)
            exchange.answer_body = response.content
            pushed.answer, pushed.problems = push_answer_problems(
                kind, seqid, response.status_code, response.content
            )
        with self._lock:
            self.log.append(pushed)
            if self.current.check_id != "-":
                self.current.exchanges.append(exchange)
        return pushed

    def pushes(self, valid: bool | None = True, kind: PushKind | None = None) -> list[PushExchange]:
        with self._lock:
            return [
                p
                for p in self.log
                if (valid is None or p.valid == valid) and (kind is None or p.kind is kind)
            ]

    def stored(self) -> tuple[dict[int, int], Exchange]:
        """GET stored_url: how many times each msgid appears in what the receiver exposes
        (a JSON list, or an object of lists, of ids or of items with a msgid)."""
        url = self.settings.stored_url
        exchange = Exchange("GET", url, {}, b"")
        started = time.perf_counter()
        response = self._session.get(url, timeout=self.settings.request_timeout)
        exchange.elapsed = time.perf_counter() - started
        exchange.status = response.status_code
        exchange.answer_headers = dict(response.headers)
        exchange.answer_body = response.content
        counts: dict[int, int] = {}
        stored = loads_json(
            response.content.decode("utf-8-sig", "replace"), what="stored_url's answer"
        )
        for msgid in _msgids(stored):
            counts[msgid] = counts.get(msgid, 0) + 1
        return counts, exchange

    def metrics(self) -> dict[str, Any]:
        valid = self.pushes()
        answered = [p.elapsed for p in valid if p.answered]
        purposes: dict[str, int] = {}
        for p in self.log:
            purposes[p.purpose] = purposes.get(p.purpose, 0) + 1
        return {
            **super().metrics(),
            "receiver": {
                "url": self.settings.receiver_url,
                "mo_url": self.settings.url_for(PushKind.MO),
                "pushes": len(self.log),
                "valid_pushes": len(valid),
                "acknowledged": sum(p.acknowledged for p in valid),
                "answer_s": spread(answered),
                "answer_limit_s": self.settings.answer_limit,
                "by_purpose": purposes,
                "settings": self.settings.to_dict(),
                "log": [p.summary() for p in self.log],
            },
        }


def _msgids(value: Any) -> list[int]:
    """Every msgid in a JSON value: ints in lists, "msgid" of objects, recursively."""
    found: list[int] = []
    if isinstance(value, list):
        for item in value:
            if isinstance(item, int) and not isinstance(item, bool):
                found.append(item)
            elif isinstance(item, str) and item.strip().lstrip("-").isdigit():
                found.append(int(item))
            else:
                found += _msgids(item)
    elif isinstance(value, dict):
        if "msgid" in value:
            found += _msgids([value["msgid"]])
        else:
            for item in value.values():
                found += _msgids(item)
    return found
