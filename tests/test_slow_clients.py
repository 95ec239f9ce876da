"""Slow and idle clients cannot starve the others (mockcarrier.worker, issue 19).

With one thread per connection, 32 connections that trickle their headers, send less
body than their Content-Length says, or sit idle froze the whole mock. Each kind below
is opened 40 times (120 connections, far more than the 32 threads); a normal client
must still be answered at once, and the slow connections are closed at their deadline.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from smsapi.errors import Result

from .conftest import Served, start_server

SLOW_EACH = 40


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = start_server(tmp_path_factory.mktemp("slow"))  # the defaults: 1 worker, 32 threads
    yield served
    served.stop()


def connect(served: Served) -> socket.socket:
    host, port = served.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def slow_connections(served: Served, stack: ExitStack) -> list[socket.socket]:
    """40 idle connections, 40 with half a header block, 40 with a body cut short."""
    socks = []
    for kind in ("idle", "partial headers", "short body"):
        for _ in range(SLOW_EACH):
            sock = stack.enter_context(connect(served))
            if kind == "partial headers":
                sock.sendall(b"POST /sms/v2/std/get_balance HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            elif kind == "short body":
                sock.sendall(
                    b"POST /sms/v2/std/get_balance HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
                )
            socks.append(sock)
    return socks


def test_120_slow_or_idle_connections_do_not_starve_a_normal_client(mock: Served) -> None:
    client = mock.client()
    with ExitStack() as stack:
        slow = slow_connections(mock, stack)
        assert len(slow) == 3 * SLOW_EACH > 32  # more than the threads
        for _ in range(10):  # while every slow connection is still open
            started = time.monotonic()
            assert client.get_balance().result == Result.OK
            assert time.monotonic() - started < 2.0  # not queued behind the slow ones


@pytest.mark.slow  # the body deadline is 10 s
def test_slow_connections_are_closed_at_their_deadline(mock: Served) -> None:
    with ExitStack() as stack:
        slow = slow_connections(mock, stack)
        deadline = time.monotonic() + 20  # headers: keepalive 5 s, body: 10 s
        open_socks = set(slow)
        while open_socks and time.monotonic() < deadline:
            for sock in list(open_socks):
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    while sock.recv(65536):  # an answer (400 for a cut body), then EOF
                        pass
                except TimeoutError:
                    continue
                except OSError:
                    pass
                open_socks.discard(sock)
        assert not open_socks, f"{len(open_socks)} slow connections still open after 20 s"
