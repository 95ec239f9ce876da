"""Serving the app on gunicorn (an event loop per process for connections, threads for
the app, processes by --workers)."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from . import pusher
from .app import create_app
from .config import Settings
from .limits import SharedConcurrencyLimiter
from .worker import CONNECTIONS


def gunicorn_options(s: Settings) -> dict[str, Any]:
    """How gunicorn runs the mock (benchmarks/ serve their baseline the same way)."""
    return {
        "bind": f"{s.host}:{s.port}",
        "workers": s.workers,
        "threads": s.threads,
        # An event loop reads requests, the threads run the app (mockcarrier.worker).
        "worker_class": "mockcarrier.worker.MockWorker",
        "worker_connections": CONNECTIONS,
        "timeout": 60,
        "graceful_timeout": 5,
        "keepalive": 5,
        "accesslog": None,  # the app logs one line per request itself
        "errorlog": "-",
        "loglevel": "warning",
    }


class MockServer(BaseApplication):
    """gunicorn with the mock's settings; each worker builds its own app and store
    connection (SQLite is shared through the file, ids and reports through its
    transactions) and, with several workers, shares one concurrency count (A9)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Made in the master, before the fork, so that every worker maps it.
        self.limiter = (
            SharedConcurrencyLimiter(rows=2 * settings.workers + 8)
            if settings.workers > 1
            else None
        )
        super().__init__()

    def load_config(self) -> None:
        options = gunicorn_options(self.settings)
        if self.limiter is not None:
            options.update(
                pre_fork=self._pre_fork, post_fork=self._post_fork, child_exit=self._child_exit
            )
        for key, value in options.items():
            self.cfg.set(key, value)

    def _pre_fork(self, server: Any, worker: Any) -> None:  # in the master
        assert self.limiter is not None
        worker.limiter_row = self.limiter.assign_row()

    def _post_fork(self, server: Any, worker: Any) -> None:  # in the new worker
        assert self.limiter is not None
        self.limiter.row = worker.limiter_row

    def _child_exit(self, server: Any, worker: Any) -> None:  # in the master
        assert self.limiter is not None
        self.limiter.release_row(worker.limiter_row)

    def load(self) -> Any:
        app = create_app(self.settings)
        pusher.start_for(app)  # in every worker; the store's lease lets one push
        if self.limiter is not None:
            app.extensions["mockcarrier"].limiter = self.limiter
        return app


def serve(settings: Settings) -> None:
    MockServer(settings).run()
