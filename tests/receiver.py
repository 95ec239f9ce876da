"""A customer's push receiver for the tests: a real threaded HTTP server that reads
every push with smsapi.push, checks its digest and answers as told (ok, an error
result, HTTP 500 always or to the first push only, a wrong seqid, an acknowledgement
trickled a byte at a time, or not at all while down)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from schemas import PUSH_MESSAGES, body_errors
from smsapi.push import PushRequest, parse_push_request, push_answer_body, verify_push_auth


@dataclass
class Received:
    at: float
    request: PushRequest
    auth_problem: str
    answered: str  # the mode the receiver answered in
    content_type: str = ""
    schema_problems: list[str] = field(default_factory=list)  # schemas/ push_*_request


@dataclass
class Receiver:
    password: str = "111111"
    # ok | error | http500 | http500-once (then ok) | wrong-seqid | trickle (an ack, slowly)
    mode: str = "ok"
    pushes: list[Received] = field(default_factory=list)
    port: int = 0
    hold: threading.Event | None = None  # when given, answers wait until it is set
    # trickle mode: the answer (acknowledging) one byte per trickle_gap seconds
    trickle_gap: float = 0.05
    trickle_bytes: int = 2000

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                status, answer = receiver.handle(body, self.headers.get("Content-Type", ""))
                if receiver.mode == "trickle":
                    self.trickle(status, answer)
                    return
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def trickle(self, status: int, answer: bytes) -> None:
                """The whole answer, status line first, one byte per trickle_gap, with
                padding spaces so that it lasts trickle_bytes bytes."""
                head = f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\n"
                padded = answer + b" " * receiver.trickle_bytes
                data = head.encode() + f"Content-Length: {len(padded)}\r\n\r\n".encode()
                with contextlib.suppress(OSError):  # the pusher hung up: its deadline
                    for byte in data + padded:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(receiver.trickle_gap)
                self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Down: connections are refused until start() again (same port)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def handle(self, body: bytes, content_type: str) -> tuple[int, bytes]:
        request = parse_push_request(body, content_type)
        problem = verify_push_auth(request, self.password)
        message = PUSH_MESSAGES.get(request.cmd)
        schema = body_errors(message.request, body, content_type) if message else ["cmd?"]
        with self._lock:
            mode = self.mode
            if mode == "http500-once":
                self.mode = "ok"
            self.pushes.append(Received(time.time(), request, problem, mode, content_type, schema))
        if self.hold is not None:
            self.hold.wait(30)
        if mode in ("http500", "http500-once"):
            return 500, b"oops"
        assert request.kind is not None and request.seqid is not None
        if mode == "error":
            return 200, push_answer_body(request.kind, request.seqid, -100999)
        if mode == "wrong-seqid":
            return 200, push_answer_body(request.kind, request.seqid + 1)
        return 200, push_answer_body(request.kind, request.seqid)

    # ------------------------------------------------------------ reading

    def received(self, kind: str = "rpt", acked_only: bool = True) -> list[Received]:
        cmd = "RPT_REQ" if kind == "rpt" else "MO_REQ"
        with self._lock:
            return [
                p
                for p in self.pushes
                if p.request.cmd == cmd and (p.answered == "ok" or not acked_only)
            ]

    def items(self, kind: str = "rpt") -> list[dict[str, Any]]:
        """Every item of every push this receiver acknowledged, in arrival order."""
        return [item for p in self.received(kind) for item in p.request.items]

    def wait_until(self, ready: Callable[[], bool], timeout: float = 20.0) -> None:
        wait_until(ready, timeout)

    def wait_for_items(self, count: int, kind: str = "rpt", timeout: float = 20.0) -> list[dict]:
        def enough() -> bool:
            return len({i["msgid"] for i in self.items(kind)}) >= count

        self.wait_until(enough, timeout)
        return self.items(kind)


def wait_until(ready: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll a condition with a deadline (no sleep as synchronisation)."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, f"not ready within {timeout} s"
        time.sleep(0.02)


def enable_push(served: Any, receiver: Receiver, userid: str = "J10003", **changes: Any) -> None:
    """Reset an account of a served mock and push its reports and MOs to the receiver."""
    assert served.admin("POST", f"/accounts/{userid}/reset").ok  # nothing left to push
    settings = {
        "push_enabled": True,
        "push_rpt_url": f"{receiver.url}/rpt",
        "push_mo_url": f"{receiver.url}/mo",
        "push_backoff_initial": 0.05,
        "push_backoff_max": 0.3,
        **changes,
    }
    response = served.admin("PATCH", f"/accounts/{userid}", json=settings)
    assert response.ok, response.text


def disable_push(served: Any, userid: str = "J10003") -> None:
    served.admin("PATCH", f"/accounts/{userid}", json={"push_enabled": False})
    served.admin("POST", f"/accounts/{userid}/reset")
