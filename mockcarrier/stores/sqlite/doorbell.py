"""The pusher's doorbell on one host (interface.Doorbell): an abstract-namespace Unix
datagram socket named after the store's file. The listening pusher binds the name (the
kernel frees it when that process dies: no file is left behind); a ring is one datagram
sent without waiting, lost when nobody listens."""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import threading
from collections.abc import Callable

RING = b"!"
# Every ring of the process goes out of one socket, unbound and non-blocking: kept by a
# forked child as it is, it never waits (a full queue means the listener has rings to
# read already).
_SENDER = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
_SENDER.setblocking(False)


def bell_address(path: str) -> bytes:
    """The socket's name: every process of every mock on this store file rings the same."""
    digest = hashlib.sha256(os.path.realpath(path).encode()).hexdigest()[:32]
    return b"\0mockcarrier-doorbell-" + digest.encode()


class SocketDoorbell:
    rung_by_sends = False  # the pusher rings after a send: a datagram, no round trip

    def __init__(self, path: str) -> None:
        self.address = bell_address(path)
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None  # None: told to stop listening
        self._thread: threading.Thread | None = None  # closes the socket as it ends

    @property
    def listening(self) -> bool:
        """True until the name is free again: a successor can bind it once this is False."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def ring(self) -> None:
        with contextlib.suppress(OSError):  # nobody listens, or rings are queued already
            _SENDER.sendto(RING, self.address)

    def listen(self, wake: Callable[[], None]) -> bool:
        with self._lock:
            if self._listener is not None:
                return True
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            try:
                sock.bind(self.address)
            except OSError:  # another process listens still (it lets go on losing the lease)
                sock.close()
                return False
            self._listener = sock
            self._thread = threading.Thread(
                target=self._answer, args=(sock, wake), name="mockcarrier-doorbell", daemon=True
            )
            self._thread.start()
            return True

    def _answer(self, sock: socket.socket, wake: Callable[[], None]) -> None:
        try:
            while True:
                sock.recv(16)
                with contextlib.suppress(BlockingIOError):
                    while sock.recv(16, socket.MSG_DONTWAIT):  # rings queued meanwhile
                        pass
                if self._listener is not sock:  # closed: close() rang to end the wait
                    return
                wake()
        finally:
            sock.close()  # frees the name

    def close(self) -> None:
        with self._lock:
            thread = self._thread
            if self._listener is None or thread is None:
                return
            self._listener = None
            self.ring()  # ends the listener's wait
        if thread is not threading.current_thread():
            thread.join(5.0)  # the name is free when close returns
