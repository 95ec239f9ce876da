"""The §2.8 report push receiver run inside every Locust process.

Every process binds the same port with SO_REUSEPORT, so the carrier has one URL and the
kernel spreads its pushes over the processes; the ledger matches whatever arrives where.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable
from typing import Any

from smsapi.errors import CodecError, Result
from smsapi.push import PushKind, parse_push_request, push_answer_body, verify_push_auth

from .recorder import Recorder

MAX_BODY = 8 * 1024 * 1024  # 500 reports are well under 1 MB

WSGIApp = Callable[[dict[str, Any], Callable], Iterable[bytes]]


def push_app(recorder: Recorder, userid: str, password: str) -> WSGIApp:
    """WSGI app: read a push (smsapi.push), check its §3.1 digest, note its reports,
    answer RPT_RESP / MO_RESP with the same seqid."""

    def app(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        arrived = time.time()  # before reading the body: the report reached us now
        if environ.get("REQUEST_METHOD") != "POST":
            start_response("405 Method Not Allowed", [("Content-Type", "text/plain")])
            return [b"POST only\n"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(min(length, MAX_BODY)) if length else b""
        try:
            request = parse_push_request(body, environ.get("CONTENT_TYPE"))
        except CodecError:
            recorder.push("unreadable")
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"unreadable push\n"]
        kind = request.kind or PushKind.RPT
        seqid = request.seqid if request.seqid is not None else 0
        result = Result.OK
        if request.userid.upper() != userid.upper() or verify_push_auth(request, password):
            recorder.push("auth_failed")
            result = Result.AUTH_FAILED
        elif kind is PushKind.RPT:
            for report in request.items:
                recorder.report("push", arrived, report)
            recorder.push("ok" if not request.problems else "accepted_with_problems")
        else:
            recorder.push("mo")
        answer = push_answer_body(kind, seqid, int(result))
        start_response("200 OK", [("Content-Type", "application/json")])
        return [answer]

    return app


def parse_listen(listen: str) -> tuple[str, int]:
    """HOST:PORT (or :PORT, or PORT) → (host, port)."""
    host, _, port = listen.rpartition(":")
    return host or "0.0.0.0", int(port)


def shared_socket(listen: str) -> socket.socket:
    """A listening socket that other processes may bind too (SO_REUSEPORT)."""
    host, port = parse_listen(listen)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(256)
    return sock


def start_receiver(listen: str, app: WSGIApp) -> Any:
    """Serve the app on gevent in this process; returns the server (stop() it)."""
    from gevent.pywsgi import WSGIServer

    server = WSGIServer(shared_socket(listen), app, log=None)
    server.start()
    return server
