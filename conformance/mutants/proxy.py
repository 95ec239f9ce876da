"""A mutating proxy in front of a served mock carrier: every request of the six endpoints
and every push goes through one mutant's small functions (conformance/mutants/catalogue).

    suite ──► proxy /sms/v2/std/<name> ──► mock        (requests and answers)
    mock  ──► proxy /__push/<rpt|mo>   ──► suite's receiver   (pushes and their answers)

Anything else (/__admin, /health) is passed through unchanged.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from smsapi.codec import (
    Format,
    encode_answer,
    encode_request,
    parse_answer,
    parse_request,
    request_format,
)
from smsapi.endpoints import BASE_PATH, ENDPOINTS
from smsapi.errors import CodecError
from smsapi.push import encode_push, parse_push_request

from .catalogue import Call, Mutant, PushCall, Reply

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}


@dataclass
class MutatingProxy:
    """A threaded HTTP server that forwards to upstream through a mutant."""

    upstream: str
    push_target: str = ""  # the suite's receiver URL pushes go on to
    mutant: Mutant | None = None
    host: str = "127.0.0.1"
    port: int = 0
    good_apikey: str = ""  # the account's apikey (the wrong-apikey-accepted mutant)
    state: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # hooks that raised (then: unchanged)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.session = requests.Session()
        self.server = ThreadingHTTPServer((self.host, self.port), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.server.server_port}"  # server_port: the bound one

    def use(self, mutant: Mutant | None) -> None:
        """Switch to another mutant (its state starts empty)."""
        with self.lock:
            self.mutant = mutant
            self.state = {}
            self.errors = []

    def start(self) -> MutatingProxy:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.session.close()

    def __enter__(self) -> MutatingProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ the interface

    def forward(self, path: str, body: bytes, content_type: str) -> Reply:
        response = self.session.post(
            self.upstream + path, data=body, headers={"Content-Type": content_type}, timeout=60
        )
        return Reply(response.status_code, response.content, response.headers.get("Content-Type"))

    def interface(self, name: str, body: bytes, content_type: str) -> Reply:
        mutant = self.mutant
        path = f"{BASE_PATH}/{name}"
        if mutant is None or name not in ENDPOINTS:
            return self.forward(path, body, content_type)
        fmt = request_format(content_type, body)
        try:
            fields = parse_request(body, fmt)
        except CodecError:
            return self.forward(path, body, content_type)
        call = Call(self, name, fields, fmt, self.state, body=body)
        if mutant.request is not None:
            changed = mutant.request(call)
            if isinstance(changed, Reply):
                return changed
            if isinstance(changed, dict):  # an answer of the mutant's own
                return self.answer_reply(call, changed)
            if changed is not None:
                raise TypeError(f"{mutant.name}: request hook returned {changed!r}")
        if call.fields is not fields or call.changed:
            reply = call.send(call.fields)
        else:
            reply = self.forward(path, body, content_type)
        if mutant.answer is None or reply.status != 200:
            return reply
        try:
            answer = parse_answer(reply.body, reply.content_type)
        except CodecError:
            return reply
        call.answer = answer
        changed_answer = mutant.answer(call)
        if isinstance(changed_answer, Reply):
            return changed_answer
        if changed_answer is None:
            return reply
        return self.answer_reply(call, changed_answer)

    def answer_reply(self, call: Call, answer: dict[str, Any]) -> Reply:
        fmt = Format.XML if call.fmt is Format.XML else Format.JSON
        body, content_type = encode_answer(call.endpoint, answer, fmt)
        return Reply(200, body, content_type)

    def upstream_send(self, endpoint: str, fields: dict[str, Any]) -> dict[str, Any]:
        """A JSON request to the mock on the mutant's behalf; its answer."""
        body = encode_request(endpoint, fields, Format.JSON)
        reply = self.forward(f"{BASE_PATH}/{endpoint}", body, Format.JSON.media_type)
        return parse_answer(reply.body, reply.content_type)

    # ------------------------------------------------------------ pushes

    def push(self, kind: str, body: bytes, content_type: str) -> Reply:
        mutant = self.mutant
        if not self.push_target:
            return Reply(404, b"no push target", "text/plain")
        hook = mutant.push if mutant is not None else None
        if hook is not None:
            try:
                request = parse_push_request(body, content_type)
            except CodecError:
                request = None
            if request is not None and request.kind is not None:
                fields = parse_form_fields(body)
                call = PushCall(self, kind, fields, request.kind.list_field, self.state)
                out = hook(call)
                if isinstance(out, Reply):
                    return out
                if out is not None:
                    body, content_type = out
        response = self.session.post(
            self.push_target, data=body, headers={"Content-Type": content_type}, timeout=30
        )
        reply = Reply(response.status_code, response.content, response.headers.get("Content-Type"))
        if mutant is not None and mutant.push_answer is not None:
            return mutant.push_answer(reply) or reply
        return reply


def parse_form_fields(body: bytes) -> dict[str, Any]:
    """A push body's fields (the item list as a list), to change and encode again."""
    from smsapi.codec import parse_form

    return parse_form(body)


def encode_push_fields(fields: dict[str, Any]) -> tuple[bytes, str]:
    return encode_push(fields)


def _handler(proxy: MutatingProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _send(self, reply: Reply) -> None:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type or "application/octet-stream")
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            # the suite may have given up on this answer (a timeout probe): nothing to do
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(reply.body)

        def do_POST(self) -> None:  # noqa: N802
            body = self._body()
            content_type = self.headers.get("Content-Type", "")
            path = self.path.split("?", 1)[0]
            try:
                if path.startswith(BASE_PATH + "/"):
                    reply = proxy.interface(path[len(BASE_PATH) + 1 :], body, content_type)
                elif path.startswith("/__push/"):
                    reply = proxy.push(path[len("/__push/") :], body, content_type)
                else:
                    reply = proxy.forward(self.path, body, content_type)
            except requests.RequestException as exc:
                reply = Reply(502, f"upstream: {exc}".encode(), "text/plain")
            except Exception as exc:  # noqa: BLE001  (a mutant's bug must not pass for a kill)
                proxy.errors.append(f"{path}: {type(exc).__name__}: {exc}")
                reply = proxy.forward(self.path, body, content_type)
            self._send(reply)

        def _pass(self, method: str) -> None:
            body = self._body()
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
            headers.pop("Host", None)
            response = proxy.session.request(
                method, proxy.upstream + self.path, data=body or None, headers=headers, timeout=30
            )
            self._send(
                Reply(response.status_code, response.content, response.headers.get("Content-Type"))
            )

        def do_GET(self) -> None:  # noqa: N802
            self._pass("GET")

        def do_PUT(self) -> None:  # noqa: N802
            self._pass("PUT")

        def do_PATCH(self) -> None:  # noqa: N802
            self._pass("PATCH")

        def do_DELETE(self) -> None:  # noqa: N802
            self._pass("DELETE")

    return Handler
