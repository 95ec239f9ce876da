"""robustness: hostile input never crashes the target nor gets a 5xx (should-checks)."""

from __future__ import annotations

import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from smsapi.codec import FORM_MEDIA, JSON_MEDIA, XML_MEDIA
from smsapi.errors import TransportError

from ..catalogue import Level, check
from ..context import RunContext
from ..outcomes import CheckFailed
from .common import file_pulled, is_acceptance, try_parse, unknown_userid

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<feereq><userid>&lol9;</userid><pwd>x</pwd></feereq>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE feereq [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<feereq><userid>&xxe;</userid><pwd>x</pwd><timestamp>0101000000</timestamp></feereq>"""


def survive(ctx: RunContext, endpoint: str, body: bytes, content_type: str, what: str):
    """Post hostile input: an answer must come, within the timeout, and not a 5xx."""
    started = time.monotonic()
    try:
        exchange = ctx.raw(endpoint, body, content_type, fresh=True)
    except TransportError as exc:
        raise CheckFailed(
            f"an answer to {what} within {ctx.config.request_timeout:.0f} s",
            f"no answer: {exc}",
        ) from None
    ctx.judged("hostile bodies")
    if exchange.status >= 500:
        raise CheckFailed(f"no 5xx for {what} (C14)", f"HTTP {exchange.status}", exchange)
    ctx.detail(what, f"HTTP {exchange.status} in {time.monotonic() - started:.2f} s")
    return exchange


def refuse(exchange, what: str) -> None:
    """Hostile input carries no valid credentials: it must never be a success, in
    whatever format the answer came (JSON, XML or form)."""
    if exchange.status < 300 and is_acceptance(try_parse(exchange)):
        raise CheckFailed(f"{what} refused", "result 0 (acceptance)", exchange)


@check(
    "ROB-XML-BOMB",
    "§2.1.4",
    "robustness",
    Level.SHOULD,
    "an XML entity bomb (billion laughs) is refused quickly, no 5xx",
    interpretations=("C14",),
)
def xml_bomb(ctx: RunContext) -> None:
    exchange = survive(ctx, "get_balance", BILLION_LAUGHS, XML_MEDIA, "an XML bomb")
    refuse(exchange, "an XML bomb")


@check(
    "ROB-XXE",
    "§2.1.4",
    "robustness",
    Level.SHOULD,
    "an XML external entity is not resolved (no file content in the answer), no 5xx",
    interpretations=("C14",),
)
def xxe(ctx: RunContext) -> None:
    exchange = survive(ctx, "get_balance", XXE, XML_MEDIA, "an external entity")
    if b"root:" in exchange.answer_body:
        raise CheckFailed("no /etc/passwd content in the answer", "it is there", exchange)


@check(
    "ROB-HUGE-BODY",
    "§2.1.4",
    "robustness",
    Level.SHOULD,
    "a 3 MiB body is refused or answered, no 5xx, no hang",
    interpretations=("C15",),
)
def huge_body(ctx: RunContext) -> None:
    body = json.dumps(
        {"userid": unknown_userid(), "pwd": "x", "mobile": "1", "content": "%b2" * (1 << 20)}
    ).encode()
    survive(ctx, "single_send", body, JSON_MEDIA, "a 3 MiB body")


@check(
    "ROB-BROKEN-BODIES",
    "§2.1.4",
    "robustness",
    Level.SHOULD,
    "truncated JSON, broken XML, deep nesting, binary garbage: refused, no 5xx",
    interpretations=("C14",),
)
def broken_bodies(ctx: RunContext) -> None:
    rng = random.Random(ctx.seed)
    cases = {
        "truncated JSON": (b'{"userid":"' + unknown_userid().encode() + b'","pwd":', JSON_MEDIA),
        "broken XML": (b"<feereq><userid>X</feereq>", XML_MEDIA),
        "deeply nested JSON": (b"[" * 100000 + b"]" * 100000, JSON_MEDIA),
        "binary garbage": (bytes(rng.randrange(256) for _ in range(4096)), FORM_MEDIA),
        "an empty body": (b"", JSON_MEDIA),
    }
    for what, (body, media) in cases.items():
        refuse(survive(ctx, "get_balance", body, media, what), what)


@check(
    "ROB-WRONG-TYPES",
    "§2.4.5",
    "robustness",
    Level.SHOULD,
    'fields of unexpected types (retsize "abc", a list for userid) get an answer, no 5xx',
    interpretations=("C13",),
)
def wrong_types(ctx: RunContext) -> None:
    fields = {**ctx.auth_fields(), "retsize": "abc"}
    exchange = survive(ctx, "get_mo", json.dumps(fields).encode(), JSON_MEDIA, 'retsize "abc"')
    file_pulled(ctx, "get_mo", try_parse(exchange), exchange)
    body = json.dumps({"userid": [unknown_userid()], "pwd": {"a": 1}}).encode()
    exchange = survive(ctx, "get_balance", body, JSON_MEDIA, "a list as userid")
    refuse(exchange, "a list as userid")


CONNECTIONS = 110  # §5.1 默认并发链接数为100个: ten over the default


@check(
    "ROB-CONCURRENCY",
    "§5.1",
    "robustness",
    Level.SHOULD,
    f"{CONNECTIONS} connections open at once (over the default 100), a request on each "
    "released together: each answered 0 or -100056",
    interpretations=("A9",),
)
def concurrency(ctx: RunContext) -> None:
    """Each connection is opened (one get_balance) and held open; once all are open, one
    request on each is released at the same moment."""
    barrier = threading.Barrier(CONNECTIONS, timeout=ctx.config.request_timeout)
    spans: list[tuple[float, float]] = []

    def one(_: int):
        client = ctx.client()
        with requests.Session() as session:  # a connection of its own, kept alive
            client.session = session
            try:
                client.call("get_balance", {})
                barrier.wait()
                started = time.monotonic()
                answer = client.call("get_balance", {})
                spans.append((started, time.monotonic()))
                return answer
            except (TransportError, threading.BrokenBarrierError) as exc:
                barrier.abort()
                return exc

    with ThreadPoolExecutor(max_workers=CONNECTIONS) as pool:
        results = list(pool.map(one, range(CONNECTIONS)))
    errors = [r for r in results if isinstance(r, Exception)]
    if errors:  # the cause first: the others only saw the barrier broken
        cause = next((e for e in errors if not isinstance(e, threading.BrokenBarrierError)), None)
        raise CheckFailed(
            f"an answer on each of {CONNECTIONS} connections open at once",
            f"{len(errors)} without: {cause or errors[0]!r}",
        )
    codes: dict[str, int] = {}
    for item in results:
        assert not isinstance(item, Exception)
        answer, exchange = item
        ctx.judged("connections")
        codes[str(answer.get("result"))] = codes.get(str(answer.get("result")), 0) + 1
        if answer.get("result") not in (0, -100056):
            raise CheckFailed("result 0 or -100056", f"result {answer.get('result')!r}", exchange)
    ctx.detail("results", codes)
    ctx.detail("connections_open_at_once", CONNECTIONS)
    ctx.detail("peak_requests_in_flight", peak(spans))


def peak(spans: list[tuple[float, float]]) -> int:
    """The most requests in flight at one moment (the suite's clock)."""
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    level = top = 0
    for _, step in events:
        level += step
        top = max(top, level)
    return top
