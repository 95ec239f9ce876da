"""The Flask application factory."""

from __future__ import annotations

from functools import partial

from flask import Flask, Response, jsonify, request
from flask.json.provider import DefaultJSONProvider

from . import admin_api, admin_api_accounts, admin_api_control, console, doors, views
from .config import Settings
from .direct import DirectEndpoints
from .service import Carrier
from .stores import Store, open_store

# The admin API's views: importing these modules adds their routes to admin_api.bp.
ADMIN_API_VIEWS = (admin_api_accounts, admin_api_control)


class MockJSON(DefaultJSONProvider):
    sort_keys = False  # answers keep the document's field order
    ensure_ascii = False  # readable Chinese in the admin API (UTF-8 JSON)...
    mimetype = "application/json; charset=utf-8"  # ...said so for every client


def create_app(settings: Settings | None = None, store: Store | None = None) -> Flask:
    """A mock carrier app over a store (settings.store or settings.db unless one is given)."""
    settings = settings or Settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json = MockJSON(app)
    carrier = Carrier(settings, store or open_store(settings))
    app.extensions["mockcarrier"] = carrier
    app.extensions[views.RUNS_INLINE] = partial(views.runs_inline, carrier)
    app.register_blueprint(views.bp)
    app.register_blueprint(admin_api.bp)  # the JSON admin API at /__admin
    app.register_blueprint(console.bp)  # the web console at / (JSON there for non-browsers)
    app.before_request(_unreadable_body)
    names = doors.served_names(settings.host, settings.allowed_hosts)

    @app.before_request
    def guard_doors() -> Response | None:
        """DNS rebinding and cross-site forms, before any view (mockcarrier.doors)."""
        host = request.headers.get("Host", "")
        if not doors.host_allowed(host, names):
            return _refused(421, f"host {doors.host_name(host)!r} is not served (allowed_hosts)")
        if (
            request.method in doors.UNSAFE_METHODS
            and doors.guarded_path(request.path)
            and doors.cross_site(
                request.headers.get("Origin"), request.headers.get("Referer"), host
            )
        ):
            return _refused(403, "cross-site request refused (Origin/Referer is not this mock)")
        return None

    # The six endpoints' plain requests skip Flask's machinery (mockcarrier.direct).
    app.wsgi_app = DirectEndpoints(app, carrier, names)  # type: ignore[method-assign]
    return app


def _refused(status: int, message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    return response


def _unreadable_body() -> Response | None:
    """A body the server could not read (views.BODY_ERROR): 400 before any view but the
    six endpoints', which answer in the document's shape."""
    problem = request.environ.get(views.BODY_ERROR)
    if problem and request.blueprint != views.bp.name:
        return Response(f"{problem}\n", 400, mimetype="text/plain")
    return None
