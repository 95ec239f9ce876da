"""The baseline: a bare Flask handler that only parses the request and answers, served
by gunicorn with the mock's own settings (mockcarrier.server.gunicorn_options)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from flask import Flask, Response, request
from gunicorn.app.base import BaseApplication

from mockcarrier.config import Settings
from mockcarrier.launch import WORKER_HEADER
from mockcarrier.server import gunicorn_options
from mockcarrier.views import RUNS_INLINE
from smsapi.answers import send_answer
from smsapi.codec import answer_format, encode_answer, parse_request, request_format
from smsapi.endpoints import BASE_PATH


def create_bare_app() -> Flask:
    app = Flask(__name__)
    # It only computes: the worker runs it on its event loop, as the mock's six
    # endpoints on SQLite (mockcarrier.worker), so the baseline is served the same way.
    app.extensions[RUNS_INLINE] = lambda environ: True

    @app.get("/")
    def health() -> Response:
        return Response("ok", headers={WORKER_HEADER: str(os.getpid())})  # as the mock's

    @app.post(f"{BASE_PATH}/<name>")
    def endpoint(name: str) -> Response:
        body = request.get_data(cache=False)
        fmt = request_format(request.headers.get("Content-Type"), body)
        parse_request(body, fmt)
        data, content_type = encode_answer(name, send_answer(0, 1, "bench"), answer_format(fmt))
        return Response(data, 200, content_type=content_type)

    return app


class BareServer(BaseApplication):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        for key, value in gunicorn_options(self.settings).items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return create_bare_app()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=32)
    args = parser.parse_args()
    BareServer(Settings(port=args.port, workers=args.workers, threads=args.threads)).run()


if __name__ == "__main__":
    main()
