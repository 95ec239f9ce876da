"""The recording proxy: between a customer's platform and a carrier, it forwards every
request unchanged and keeps it, with the carrier's answer and the times, for the
client checks (U10: only hop-by-hop headers and the answer's transfer coding change)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from smsapi.client import Exchange
from smsapi.codec import charset_of, json_body_text
from smsapi.endpoints import ENDPOINTS
from smsapi.errors import CodecError

# RFC 9110 §7.6.1 hop-by-hop headers, plus what the HTTP libraries recompute.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
BAD_GATEWAY = 502


@dataclass
class Recorded:
    """One request of the customer's platform and the carrier's answer."""

    index: int
    received_at: float  # wall clock (time.time()) when the request came in
    started: float  # monotonic, request in
    finished: float  # monotonic, answer out
    client: str  # the platform's address
    method: str
    path: str  # with the query string, as sent
    request_headers: dict[str, str]
    request_body: bytes
    upstream_url: str
    status: int = 0
    answer_headers: dict[str, str] = field(default_factory=dict)
    answer_body: bytes = b""
    upstream_error: str = ""  # the carrier could not be reached: not the platform's fault

    @property
    def endpoint(self) -> str | None:
        """The §2.x.2 endpoint name of the path (/sms/v2/std/<name>), None for others."""
        path = self.path.split("?", 1)[0].rstrip("/")
        name = path.rsplit("/", 1)[-1]
        return name if name in ENDPOINTS and path == ENDPOINTS[name].path else None

    @property
    def content_type(self) -> str:
        return header(self.request_headers, "Content-Type")

    def exchange(self) -> Exchange:
        """The request as the carrier got it, replayable with curl, and its answer."""
        headers = {"Content-Type": self.content_type} if self.content_type else {}
        return Exchange(
            self.method,
            self.upstream_url,
            headers,
            self.request_body,
            self.status,
            dict(self.answer_headers),
            self.answer_body,
            self.finished - self.started,
        )

    def to_dict(self) -> dict[str, Any]:
        """One line of traffic.jsonl."""
        return {
            "index": self.index,
            "received_at": self.received_at,
            "elapsed_s": round(self.finished - self.started, 4),
            "client": self.client,
            "method": self.method,
            "path": self.path,
            "content_type": self.content_type,
            "request": body_text(self.request_body, self.content_type),
            "status": self.status,
            "answer": body_text(
                self.answer_body[:4096], header(self.answer_headers, "Content-Type")
            ),
            "upstream_error": self.upstream_error,
        }


def body_text(body: bytes, content_type: str) -> str:
    """A body as text for traffic.jsonl, read as the mock reads it (W1): its declared
    charset, else UTF-8, else GB18030 (GBK bodies of Java clients stay legible)."""
    try:
        return json_body_text(body, charset_of(content_type), [])
    except CodecError:
        return body.decode("utf-8", "replace")


def mock_flags(rec: Recorded) -> list[str]:
    """What the mock carrier said of a request in its answer headers: why it could not
    read it (X-Mock-Reason of an unreadable body, C14) and what it accepted but flagged
    (X-Mock-Warning, W1-W4). A real carrier sends neither."""
    flags = []
    reason = header(rec.answer_headers, "X-Mock-Reason")
    if reason.startswith("UNREADABLE"):
        flags.append(reason)
    warning = header(rec.answer_headers, "X-Mock-Warning")
    if warning:
        flags.append(f"warning: {warning}")
    return flags


def header(headers: dict[str, str], name: str) -> str:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), "")


class Recording:
    """The requests seen so far, thread-safe."""

    def __init__(self) -> None:
        self._items: list[Recorded] = []
        self._lock = threading.Lock()
        self.changed = threading.Condition(self._lock)

    def add(self, make: Callable[[int], Recorded]) -> Recorded:
        with self._lock:
            item = make(len(self._items) + 1)
            self._items.append(item)
            self.changed.notify_all()
            return item

    def snapshot(self) -> list[Recorded]:
        with self._lock:
            return list(self._items)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def wait_for(self, count: int, timeout: float | None = None) -> bool:
        """Block until count requests were recorded (True) or the timeout passed."""
        with self._lock:
            return self.changed.wait_for(lambda: len(self._items) >= count, timeout)

    def save(self, path: Path) -> None:
        lines = (json.dumps(r.to_dict(), ensure_ascii=False) for r in self.snapshot())
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


class Proxy:
    """A threaded HTTP server on listen (HOST:PORT; port 0 picks one) forwarding to
    upstream (the carrier's base URL)."""

    def __init__(
        self,
        listen: str,
        upstream: str,
        timeout: float = 60.0,
        on_record: Callable[[Recorded], None] | None = None,
    ) -> None:
        self.listen = listen
        self.upstream = upstream.rstrip("/")
        self.timeout = timeout
        self.on_record = on_record
        self.recording = Recording()
        self._local = threading.local()

    def start(self) -> Proxy:
        host, _, port = self.listen.rpartition(":")
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = make_server(host or "127.0.0.1", int(port), self._app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.1,), daemon=True)
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://{self._server.host}:{self._server.port}"  # port: the bound one

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _session(self) -> requests.Session:
        # requests.Session is not shared between threads: one per serving thread
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False  # forward to upstream itself, never via HTTP_PROXY
        return session

    def _app(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = time.monotonic()
        received_at = time.time()
        request = Request(environ)
        body = request.get_data(cache=False)
        path = environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.full_path
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        url = f"{self.upstream}{path}"
        status, answer_headers, answer, error = BAD_GATEWAY, {}, b"", ""
        try:
            response = self._session().request(
                request.method,
                url,
                data=body,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
            status, answer = response.status_code, response.content
            answer_headers = {
                k: v
                for k, v in response.headers.items()
                if k.lower() not in HOP_BY_HOP | {"content-encoding"}  # content is decoded
            }
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
            answer = f"proxy: the carrier {self.upstream} did not answer: {error}\n".encode()
            answer_headers = {"Content-Type": "text/plain; charset=utf-8"}
        recorded = self.recording.add(
            lambda index: Recorded(
                index,
                received_at,
                started,
                time.monotonic(),
                request.remote_addr or "",
                request.method,
                path,
                dict(request.headers),
                body,
                url,
                status,
                answer_headers,
                answer,
                error,
            )
        )
        if self.on_record:
            self.on_record(recorded)
        reply = Response(answer, status)
        reply.headers.clear()
        for name, value in answer_headers.items():
            reply.headers.add(name, value)
        return reply(environ, start_response)
