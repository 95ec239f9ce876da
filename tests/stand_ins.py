"""Stand-in carriers on loopback: tiny HTTP servers giving one answer to every request
(a mutant of one rule), shared by the conformance tests that judge the suite against a
carrier no mock defect mode describes (e.g. result 0 to everything, never a report)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HEALTHY = {
    "get_balance": b'{"result":0,"chargetype":0,"balance":100,"money":"0.000000"}',
    "get_rpt": b'{"result":0,"rpts":[]}',
}
YES_XML = b'<?xml version="1.0" encoding="utf-8"?><feersp><result>0</result></feersp>'
# A send accepted in the §2.1.6 shape (a msgid, the same for every send), never reported.
ACCEPTED_XML = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b"<mtrsp><result>0</result><msgid>4611686018427387904</msgid><custid></custid></mtrsp>"
)


class TinyCarrier(BaseHTTPRequestHandler):
    """A carrier giving one answer to every request, whatever came (a mutant of one
    rule); keep-alive, and at most max_connections open at once (the rest are dropped)."""

    protocol_version = "HTTP/1.1"
    body, status, media, max_connections = YES_XML, 200, "application/xml", 10_000
    balance_ok = False  # get_balance answered like the rest
    open_connections = 0
    lock = threading.Lock()

    def handle(self) -> None:
        cls = type(self)
        with cls.lock:
            cls.open_connections += 1
            over = cls.open_connections > cls.max_connections
        try:
            if not over:  # over the limit: closed unanswered
                super().handle()
        finally:
            with cls.lock:
                cls.open_connections -= 1

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, media, body = self.status, self.media, self.body
        endpoint = self.path.rsplit("/", 1)[-1]
        if self.balance_ok and endpoint in HEALTHY:  # the preflight and the drain pass
            status, media, body = 200, "application/json", HEALTHY[endpoint]
        self.send_response(status)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def tiny_carrier(**answer: object) -> Iterator[str]:
    handler = type("Mutant", (TinyCarrier,), {"lock": threading.Lock(), **answer})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.request_queue_size = 256
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
