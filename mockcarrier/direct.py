"""The six endpoints' plain requests, answered without Flask's request machinery.

Flask's request context, URL matching, hooks and response plumbing cost single_send
about a third of the mock's own CPU (benchmarks/RESULTS.md). A POST to one of the six
paths, with its whole body already in memory (mockcarrier.worker reads it so; so does
a test client) and a Host the mock serves, needs none of it: it goes straight to
views.answer_post, the function the Flask view calls, so both answer alike. Anything
else (another path or method, a body not yet read, one the server could not read or
over the limit, a Host to refuse) goes through Flask as before, and so does an
exception: Flask logs it and answers 500, or raises it to a test client.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from smsapi.endpoints import BASE_PATH, ENDPOINTS

from . import doors, views
from .service import Carrier

PREFIX = f"{BASE_PATH}/"


class DirectEndpoints:
    """WSGI middleware over a Flask app's wsgi_app (create_app installs it)."""

    def __init__(self, app: Flask, carrier: Carrier, names: frozenset[str]) -> None:
        self.app = app
        self.flask_wsgi = app.wsgi_app
        self.carrier = carrier
        self.names = names  # the host names served (doors.served_names)

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        name = self.plain_endpoint(environ)
        if name is None:
            return self.flask_wsgi(environ, start_response)
        try:
            response = views.answer_post(self.carrier, name, environ, environ["wsgi.input"].read)
        except Exception as exc:  # as Flask would: logged and 500, raised when testing
            with self.app.request_context(environ):
                response = self.app.handle_exception(exc)
        return response(environ, start_response)

    def plain_endpoint(self, environ: dict[str, Any]) -> str | None:
        """The endpoint's name when the request may skip Flask, else None."""
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") != "POST" or not path.startswith(PREFIX):
            return None
        name = path[len(PREFIX) :]
        if name not in ENDPOINTS:
            return None
        if views.BODY_ERROR in environ:
            return None
        body = environ.get("wsgi.input")
        length = environ.get("CONTENT_LENGTH") or "0"
        if not isinstance(body, io.BytesIO) or not length.isdigit():
            return None
        # The whole body, and under the limit (views.read_body tells a cut one from it).
        size, limit = int(length), self.app.config["MAX_CONTENT_LENGTH"]
        with body.getbuffer() as buffer:
            whole = body.tell() == 0 and buffer.nbytes == size
        if not whole or (limit is not None and size >= limit):
            return None
        if not doors.host_allowed(environ.get("HTTP_HOST", ""), self.names):
            return None
        return name
