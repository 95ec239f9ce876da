"""The Flask application factory."""

from __future__ import annotations

from flask import Flask

from . import admin, console, views
from .config import Settings
from .service import Carrier
from .store import SqliteStore


def create_app(settings: Settings | None = None, store: SqliteStore | None = None) -> Flask:
    """A mock carrier app over a store (SQLite at settings.db unless one is given)."""
    settings = settings or Settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # answers keep the document's field order
    app.extensions["mockcarrier"] = Carrier(settings, store or SqliteStore(settings.db))
    app.register_blueprint(views.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(console.bp)  # the web console at / (JSON there for non-browsers)
    return app
