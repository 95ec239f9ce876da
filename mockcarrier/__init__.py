"""The mock carrier: a real HTTP service for the Chongqing Tongyu SMS interface."""

from .app import create_app
from .config import AccountConfig, Settings

__all__ = ["AccountConfig", "Settings", "create_app"]
