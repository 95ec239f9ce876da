"""The gunicorn worker: an event loop reads requests, a thread pool runs the app.

A slow or idle client must not starve the others (docs/reliability.md). With one
thread per connection (gunicorn's gthread), 32 clients that trickle their headers,
send a shorter body than their Content-Length, or sit on a connection hold all the
threads. Here each connection is a greenlet (gevent): reading headers and the whole
body (up to the body limit) costs a greenlet, not a thread, and has a deadline; only a
request read in full reaches the app. The standard library is not monkey-patched:
SQLite's locks, flock, redis-py and the pusher keep their blocking calls, and a request on
the loop lets the loop turn only where it waits by mockcarrier.waits (below).

Where the app runs: a request the app says may run there (app.extensions[RUNS_INLINE]:
the six endpoints with no answer held, views.runs_inline) runs on the event loop's own
thread, as a sync worker would; anything else (answer delays, the admin API) on one of
the `--threads` threads. A thread costs two hand-offs a request, and the GIL then passes
between the loop and the thread at every store call: single_send took about 2.0 ms of
CPU a request on a thread against 1.3 ms inline on SQLite (one worker, 16 connections),
and Redis' single_send served 0.19-0.23 of the bare baseline on the threads against
0.35-0.43 on the loop (trial A/B runs, the same hour).

Malformed framing (a chunk size of -5 or zz, a chunk without its CRLF, a bad chunk
extension or trailer) is met while reading the body here, so it never reaches Flask as
an exception (which was HTTP 500): the app is told why (BODY_ERROR) and answers 400, in
the document's shape on the six endpoints, and the connection is closed.

A request on the loop runs to its end unless it waits by mockcarrier.waits (LoopWaits):
- a send lets the loop take one turn before it leads a group, so the sends of the
  requests read meanwhile share its SQLite transaction (stores/sqlite/commit.py) or its
  Redis script call (stores/redis/groups.py); only while there is room for them in the
  app;
- a send or a hand-out on Redis waits for its reply while the loop serves the others
  (stores/redis/connection.py), whose calls reach Redis meanwhile;
- a held answer (reached on Redis before the snapshot that holds it is loaded) sleeps
  while the loop serves the others;
- a SQLite write that finds the writer locks held (by another worker's transaction, or
  the pusher's) waits for them on a helper thread while the loop serves the others, one
  request of the loop at a time (LoopWaits.writing): a worker whose loop stopped at the
  other's flock (a fifth of its time under batch_send, two workers) did nothing else
  meanwhile, not even number its next batch.
At most `--threads` requests are in the app on the loop at once (as many as the pool
would run: no account meets -100056 sooner than on the threads); the others wait for room
in the order they came (a semaphore there let newcomers pass the waiters: p99 180-340 ms
against 24-31 ms, one worker, 16 connections).
"""

from __future__ import annotations

import io
import threading
from collections import deque
from collections.abc import Callable, Iterable, MutableMapping
from contextlib import AbstractContextManager
from typing import Any, cast

import gevent
from gevent.event import Event
from gevent.lock import RLock
from gevent.socket import wait_read
from gevent.threadpool import ThreadPool
from gunicorn.http.errors import ParseException
from gunicorn.sock import BaseSocket
from gunicorn.workers.ggevent import GeventWorker

from . import waits
from .views import BODY_ERROR, RUNS_INLINE

BODY_DEADLINE = 10.0  # seconds to receive a whole body once its headers are in
NEXT_TURN = 1e-6  # a timer this short fires on the loop's next turn, after its poll
CONNECTIONS = 2000  # connections per worker process (slow or not) before accept waits


def read_body(environ: MutableMapping[str, Any], limit: int, deadline: float) -> None:
    """Read the request body into memory (at most limit + 1 bytes, so the app still
    tells a body over the limit) within `deadline` seconds; on failure, say why in
    environ[BODY_ERROR] and leave an empty body."""
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH") or ""
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    if not chunked and (not length.isdigit() or int(length) == 0):
        return  # no body (gunicorn refuses an unreadable Content-Length itself)
    if not chunked and int(length) > limit:
        return  # the app refuses it by its Content-Length, unread
    want = limit + 1 if chunked else int(length)
    body = b""
    try:
        with gevent.Timeout(deadline):
            body = stream.read(want)
    except gevent.Timeout:
        environ[BODY_ERROR] = f"body not received within {deadline:g} s"
    except (ParseException, OSError, ValueError) as exc:  # NoMoreData is an OSError
        environ[BODY_ERROR] = f"malformed body framing: {type(exc).__name__} {exc}"[:200]
    if BODY_ERROR in environ:
        body = b""
        environ["CONTENT_LENGTH"] = "0"
    environ["wsgi.input"] = io.BytesIO(body)


Inline = Callable[[MutableMapping[str, Any]], bool]  # environ → run on the loop


class OffloadedApp:
    """A WSGI app run once its request body is in memory: on the loop where the app's
    `inline` says so, on a thread pool otherwise."""

    def __init__(self, app: Callable, threads: int, limit: int, inline: Inline | None) -> None:
        self.app = app
        self.pool = ThreadPool(threads)
        self.in_the_app = 0  # requests in the app on the loop's thread (≤ pool.maxsize)
        self.waiting: deque[Event] = deque()  # for room in the app on the loop, in order
        self.limit = limit
        self.inline = inline

    def __call__(
        self, environ: MutableMapping[str, Any], start_response: Callable
    ) -> Iterable[bytes]:
        read_body(environ, self.limit, BODY_DEADLINE)
        if BODY_ERROR in environ:
            # The rest of the stream cannot be framed: no further request on it.
            with_close = getattr(start_response, "__self__", None)
            if with_close is not None and hasattr(with_close, "force_close"):
                with_close.force_close()
        if self.inline is not None and self.inline(environ):
            # Its turn first: the loop polls every connection, and the others read in
            # the meantime run before it. Without it, a client that sends its next request
            # as soon as it has an answer is served again at once, and the others wait:
            # p99 350 ms against 50 ms at 16 connections (one worker).
            gevent.sleep(NEXT_TURN)
            self._enter()
            try:
                status, headers, body = self._run(environ)
            finally:
                self._leave()
        else:
            status, headers, body = self.pool.apply(self._run, (environ,))
        start_response(status, headers)
        return body

    def _enter(self) -> None:
        """Into the app on the loop: at once while fewer than --threads requests are in
        it, else after those already waiting (first come, first in: a newcomer never
        passes a waiter, as a semaphore's did)."""
        if self.room_on_the_loop():  # (never so while any waits: see _leave)
            self.in_the_app += 1
            return
        room = Event()
        self.waiting.append(room)
        try:
            room.wait()  # set by _leave, which hands over its place: in_the_app unchanged
        except BaseException:  # killed while waiting: the place, if handed over, goes on
            if room.is_set():
                self._leave()
            else:
                self.waiting.remove(room)
            raise

    def _leave(self) -> None:
        """Out of the app: the place goes to the first waiting, if any."""
        if self.waiting:
            self.waiting.popleft().set()
        else:
            self.in_the_app -= 1

    def _run(self, environ: MutableMapping[str, Any]) -> tuple[str, list, list[bytes]]:
        """The app, on the loop or a pool thread; the whole answer is collected there (the
        app's answers are built in memory anyway), so no socket is touched off the loop."""
        started: list[Any] = []

        def start_response(status: str, headers: list, exc_info: Any = None) -> Callable:
            started[:] = [status, headers]
            return lambda data: None

        result = self.app(environ, start_response)
        try:
            body = list(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return started[0], started[1], body

    def room_on_the_loop(self) -> bool:
        """Whether another request may enter the app on the loop now (_enter, and
        LoopWaits.gather: a turn only while one could join)."""
        return self.in_the_app < self.pool.maxsize


class LoopWaits(waits.ThreadWaits):
    """The waits of a request on the loop's own thread (mockcarrier.waits): each lets the
    loop run the other requests meanwhile. On any other thread, a thread's waits (no
    hub made there)."""

    def __init__(self, room: Callable[[], bool]) -> None:
        self.thread = threading.get_ident()  # made on the loop's thread
        self.hub = gevent.get_hub()
        self.room = room
        self._writing = RLock()  # a greenlet's: the write that leads a group writes again

    def on_the_loop(self) -> bool:
        """In a request's greenlet on the loop's thread (not the hub's own callbacks)."""
        return threading.get_ident() == self.thread and gevent.getcurrent() is not self.hub

    def gather(self) -> None:
        """One turn of the loop, in which the requests read meanwhile run up to their own
        sends and join this one's group (SQLite's transaction, Redis' script call); only
        while there is room for one in the app."""
        if self.on_the_loop() and self.room():
            gevent.sleep(NEXT_TURN)

    def readable(self, fileno: int, timeout: float | None) -> None:
        """The loop runs others until the reply is in (or the socket's timeout)."""
        if self.on_the_loop():
            wait_read(fileno, timeout=timeout, timeout_exc=TimeoutError("timed out"))

    def event(self) -> Any:
        return Event() if self.on_the_loop() else super().event()

    def pause(self, seconds: float) -> None:
        if self.on_the_loop():
            gevent.sleep(seconds)
        else:
            super().pause(seconds)

    def writing(self) -> AbstractContextManager[Any]:
        return self._writing if self.on_the_loop() else super().writing()

    def take(self, acquire: waits.Acquire, release: Callable[[], None]) -> bool:
        """A lock free at once is taken on the loop's thread; a held one is waited for
        on a helper thread of the hub's pool while the loop serves the others."""
        if not self.on_the_loop():
            return super().take(acquire, release)
        if acquire(False):
            return True
        wait = AbandonableWait(acquire, release)
        try:
            return bool(self.hub.threadpool.apply(wait.run))
        except BaseException:
            wait.abandon()
            raise


class AbandonableWait:
    """A lock waited for on a helper thread for a request that may be gone (killed) by the
    time it is had: then whichever of the two comes last gives it back."""

    def __init__(self, acquire: waits.Acquire, release: Callable[[], None]) -> None:
        self.acquire, self.release = acquire, release
        self._guard = threading.Lock()
        self._abandoned = False
        self._had = False  # taken, and not handed to the request yet

    def run(self) -> bool:
        """On the helper thread."""
        had = self.acquire(True)
        with self._guard:
            if not self._abandoned:
                self._had = had
                return had
        if had:
            self.release()
        return False

    def abandon(self) -> None:
        """On the loop, the request gone: what the helper took (or will) is given back."""
        with self._guard:
            self._abandoned = True
            had, self._had = self._had, False
        if had:
            self.release()


class MockWorker(GeventWorker):
    """gunicorn's gevent worker without monkey-patching, the app on the loop or a thread
    pool (OffloadedApp)."""

    def patch(self) -> None:
        from gevent import socket

        # The listening sockets as gevent sockets, as GeventWorker.patch does; the rest
        # of the standard library stays as it is (see the module docstring).
        listeners = cast("list[BaseSocket]", self.sockets)  # gunicorn's, not yet sockets
        self.sockets = [
            socket.socket(s.FAMILY, socket.SOCK_STREAM, fileno=s.sock.detach()) for s in listeners
        ]

    def load_wsgi(self) -> None:
        super().load_wsgi()
        config = getattr(self.wsgi, "config", {})  # the Flask app's
        limit = int(config.get("MAX_CONTENT_LENGTH") or 2 * 1024 * 1024)
        inline = getattr(self.wsgi, "extensions", {}).get(RUNS_INLINE)
        offloaded = OffloadedApp(self.wsgi, self.cfg.threads, limit, inline)
        self.wsgi = offloaded
        waits.install(LoopWaits(offloaded.room_on_the_loop))
