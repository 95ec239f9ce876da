"""`conformance receiver`: a sample push receiver (§2.7 MO, §2.8 reports) to try
`conformance client` on, or to watch a carrier's pushes (the mock's --push-rpt-url).

Written as a customer would write one, with the three lines of docs/push.md: read the
push, check its §3.1 digest, answer at once and store afterwards (in another thread),
each msgid once. GET /stored shows what was stored, for `conformance client --stored-url`.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from smsapi.errors import CodecError, Result
from smsapi.push import PushKind, parse_push_request, push_answer_body, verify_push_auth

PUSH_PATH = "/push"
STORED_PATH = "/stored"


@dataclass
class SampleReceiver:
    """A threaded HTTP server on host:port (0: a free port) taking pushes at /push."""

    host: str = "127.0.0.1"
    port: int = 0
    password: str = "111111"
    tolerance: float = 600.0  # seconds a push's timestamp may be off (§3.1 freshness)
    on_push: Callable[[str], None] = lambda line: None  # one line per push, for people
    stored: dict[str, list[Any]] = field(default_factory=lambda: {"rpts": [], "mos": []})

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._work: queue.Queue = queue.Queue()

    # ------------------------------------------------------------ the three lines
    def answer(self, body: bytes, content_type: str) -> tuple[int, bytes, str]:
        """(HTTP status, answer body, what happened) for one push."""
        try:
            push = parse_push_request(body, content_type)
        except CodecError as exc:
            return 400, b"", f"unreadable push: {exc}"
        if push.kind is None or push.seqid is None:
            return 400, b"", f"not a push: {'; '.join(push.problems)}"
        problem = verify_push_auth(push, self.password, tolerance=self.tolerance)
        if problem:
            answer = push_answer_body(push.kind, push.seqid, Result.AUTH_FAILED)
            return 200, answer, f"{push.cmd} seqid {push.seqid}: refused ({problem})"
        for item in push.items:  # stored after the answer: a receiver answers first (§2.8)
            self._work.put((push.kind, item))
        what = "report(s)" if push.kind is PushKind.RPT else "MO(s)"
        line = f"{push.cmd} seqid {push.seqid}: {len(push.items)} {what}, acknowledged"
        return 200, push_answer_body(push.kind, push.seqid), line

    def store(self, kind: PushKind, item: dict[str, Any]) -> None:
        """Each msgid once: a carrier pushes an item again when an answer got lost."""
        name = "rpts" if kind is PushKind.RPT else "mos"
        with self._lock:
            if item.get("msgid") not in self.stored[name]:
                self.stored[name].append(item.get("msgid"))

    # ------------------------------------------------------------ HTTP
    def _app(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        if request.method == "GET" and request.path == STORED_PATH:
            with self._lock:
                body = json.dumps(self.stored).encode()
            return Response(body, 200, content_type="application/json")(environ, start_response)
        if request.method != "POST":
            return Response("POST pushes to /push\n", 405)(environ, start_response)
        status, body, line = self.answer(request.get_data(), request.content_type or "")
        self.on_push(line)
        response = Response(body, status, content_type="application/json" if body else None)
        return response(environ, start_response)

    def _worker(self) -> None:
        while True:
            self.store(*self._work.get())

    def start(self) -> SampleReceiver:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # our own line per push
        self._server = make_server(self.host, self.port, self._app, threaded=True)
        threading.Thread(target=self._server.serve_forever, args=(0.1,), daemon=True).start()
        threading.Thread(target=self._worker, daemon=True).start()
        return self

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self._server.server_port}"

    @property
    def url(self) -> str:
        return self.base + PUSH_PATH

    @property
    def stored_url(self) -> str:
        return self.base + STORED_PATH

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@click.command("receiver", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--listen", default="127.0.0.1:8090", show_default=True, help="HOST:PORT (0: free).")
@click.option("--password", default="111111", show_default=True, help="Of the pushing account.")
@click.option(
    "--tolerance", type=float, default=600.0, show_default=True, help="Timestamp skew, s."
)
def receiver_cmd(listen: str, password: str, tolerance: float) -> None:
    """A sample push receiver: acknowledges authentic report and MO pushes, refuses the
    rest, prints one line per push. Try `conformance client --receiver-url
    http://HOST:PORT/push --stored-url http://HOST:PORT/stored` on it, or point the
    mock's --push-rpt-url at it."""
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise click.UsageError(f"--listen {listen!r} is not HOST:PORT")
    rx = SampleReceiver(host, int(port), password, tolerance, on_push=click.echo)
    try:
        rx.start()
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {listen}: {exc}") from None
    click.echo(
        f"conformance receiver: pushes to {rx.url}, stored msgids at {rx.stored_url}; Ctrl-C stops",
        err=True,
    )
    stop = threading.Event()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        rx.stop()
