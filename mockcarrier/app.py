"""The Flask application factory."""

from __future__ import annotations

from flask import Flask

from . import admin, console, views
from .config import Settings
from .service import Carrier
from .store import Store, open_store


def create_app(settings: Settings | None = None, store: Store | None = None) -> Flask:
    """A mock carrier app over a store (settings.store or settings.db unless one is given)."""
    settings = settings or Settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # answers keep the document's field order
    app.extensions["mockcarrier"] = Carrier(settings, store or open_store(settings))
    app.register_blueprint(views.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(console.bp)  # the web console at / (JSON there for non-browsers)
    return app
