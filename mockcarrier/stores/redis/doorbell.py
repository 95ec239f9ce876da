"""The pusher's doorbell across hosts (interface.Doorbell): a Redis pub/sub channel of the
store's prefix. A ring is one PUBLISH; the listening pusher's subscription runs on a
thread of redis-py's (PubSub.run_in_thread). A lost connection ends the listening and
the pusher's next tick subscribes again (its poll sees the sends meanwhile)."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from redis.client import PubSubWorkerThread

from .connection import yielding

log = logging.getLogger("mockcarrier.push")
LISTEN_TIMEOUT = 1.0  # seconds a listening thread waits before it looks whether it must stop
RETRY_AFTER = 5.0  # seconds between attempts to subscribe after a refusal


class RedisDoorbell:
    rung_by_sends = True  # the send's script publishes (stores/redis/sends.py, ACCEPT)

    def __init__(self, client: Any, channel: str) -> None:
        self._r = client
        self.channel = channel
        self._lock = threading.Lock()
        self._worker: PubSubWorkerThread | None = None
        self._retry_at = 0.0  # after a refused subscription: no attempt before this

    @property
    def listening(self) -> bool:
        worker = self._worker
        return worker is not None and worker.is_alive()

    def ring(self) -> None:
        with contextlib.suppress(redis.RedisError), yielding():  # else the poll sees it
            self._r.publish(self.channel, "1")

    def listen(self, wake: Callable[[], None]) -> bool:
        with self._lock:
            if self.listening:
                return True
            if time.monotonic() < self._retry_at:
                return False
            pubsub = self._r.pubsub()
            try:
                pubsub.subscribe(**{self.channel: lambda _message: wake()})
                # The subscription's answer: a refusal (an ACL user without the channel)
                # is raised here, not on the listening thread.
                answer = pubsub.get_message(timeout=LISTEN_TIMEOUT)
                if not answer or answer["type"] != "subscribe":
                    raise redis.RedisError(f"SUBSCRIBE {self.channel} answered {answer!r}")
            except redis.RedisError as exc:
                pubsub.close()
                if not self._retry_at:  # once, not at every try
                    log.warning("push doorbell: %s; the pusher polls (every 50 ms)", exc)
                self._retry_at = time.monotonic() + RETRY_AFTER
                return False
            self._retry_at = 0.0
            self._worker = pubsub.run_in_thread(
                LISTEN_TIMEOUT, daemon=True, exception_handler=self._lost
            )
            return True

    def _lost(self, exc: BaseException, pubsub: Any, worker: PubSubWorkerThread) -> None:
        log.warning("push doorbell: %s; the pusher polls until it subscribes again", exc)
        worker.stop()  # its loop ends and closes the subscription

    def close(self) -> None:
        """Stop listening: the thread ends within LISTEN_TIMEOUT (nothing else waits on it;
        a channel, unlike a socket's name, is never held)."""
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop()
