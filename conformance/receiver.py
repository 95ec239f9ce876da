"""The suite's own push receiver (§2.7 / §2.8): records every push the target makes and
answers it as told (acknowledge, refuse, or stay silent), to check retries."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from smsapi.errors import CodecError, Result
from smsapi.push import (
    PushKind,
    PushRequest,
    parse_push_request,
    push_answer_body,
    verify_push_auth,
)

from .outcomes import Evidence

ACK = "ack"  # answer result 0: received
REFUSE = "refuse"  # answer result -100999: not received, push again
SILENT = "silent"  # hold the request, then answer HTTP 504: the carrier times out


@dataclass
class ReceivedPush:
    """One push request as received."""

    received_at: float
    content_type: str
    body: bytes
    request: PushRequest | None
    error: str = ""  # the body could not be read at all
    auth_problem: str = ""
    answered: str = ACK

    @property
    def kind(self) -> PushKind | None:
        return self.request.kind if self.request else None

    def curl_like(self, url: str) -> str:
        """The push as a curl command (what the carrier sent), for reproducers."""
        body = self.body[:2000].decode("utf-8", "replace").replace("'", "'\\''")
        return (
            f"curl -sS -X POST '{url}' -H 'Content-Type: {self.content_type}' "
            f"--data-binary '{body}'"
        )

    def evidence(self, url: str) -> Evidence:
        """The push as a reproducer: the carrier's request and the receiver's answer."""
        return Evidence(
            curl=self.curl_like(url),
            status=504 if self.answered == SILENT else 200,
            answer_content_type="application/json",
            answer=f"(answered {self.answered})",
            elapsed_ms=0.0,
            note="a push from the target to the suite's receiver",
        )

    def to_dict(self) -> dict[str, Any]:
        req = self.request
        return {
            "received_at": self.received_at,
            "content_type": self.content_type,
            "cmd": req.cmd if req else "",
            "seqid": req.seqid if req else None,
            "items": len(req.items) if req else 0,
            "problems": list(req.problems) if req else [self.error],
            "auth_problem": self.auth_problem,
            "answered": self.answered,
        }


@dataclass
class Receiver:
    """A threaded HTTP server on listen (HOST:PORT) recording pushes."""

    listen: str
    password: str
    on_items: Callable[[PushKind, list[dict[str, Any]], ReceivedPush], None]
    silence: float = 8.0
    pushes: list[ReceivedPush] = field(default_factory=list)
    _modes: list[str] = field(default_factory=list)  # answers for the next pushes
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Receiver:
        host, _, port = self.listen.rpartition(":")
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per push on stderr
        self._server = make_server(host or "0.0.0.0", int(port), self._app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        return self._server.server_port

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    def answer_next(self, *modes: str) -> None:
        """Answer the next pushes so (then acknowledge again)."""
        with self._lock:
            self._modes = list(modes)

    def snapshot(self) -> list[ReceivedPush]:
        with self._lock:
            return list(self.pushes)

    def _next_mode(self) -> str:
        with self._lock:
            return self._modes.pop(0) if self._modes else ACK

    def _app(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        body = request.get_data(cache=False)
        push = ReceivedPush(time.time(), request.headers.get("Content-Type", ""), body, None)
        try:
            push.request = parse_push_request(body, push.content_type)
        except CodecError as exc:
            push.error = str(exc)[:200]
        if push.request is not None:
            push.auth_problem = verify_push_auth(push.request, self.password)
        push.answered = self._next_mode() if push.kind is not None else REFUSE
        with self._lock:
            self.pushes.append(push)
        if push.answered == SILENT:
            time.sleep(self.silence)
            return Response("held", 504)(environ, start_response)
        req = push.request
        kind = req.kind if req and req.kind else PushKind.RPT
        seqid = req.seqid if req and req.seqid is not None else 0
        if push.answered == ACK and req is not None and req.kind is not None:
            self.on_items(req.kind, req.items, push)
            result = Result.OK
        else:
            result = Result.INTERNAL_ERROR
        answer = push_answer_body(kind, seqid, result)
        return Response(answer, 200, content_type="application/json")(environ, start_response)
