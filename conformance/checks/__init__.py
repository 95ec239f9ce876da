"""The checks, one module per category; importing this package registers them all."""

from __future__ import annotations  # noqa: I001

# judge first: the check modules of other areas still import it from here
from .common import judge
from . import (  # (registration order = report order within a category)
    auth,
    balance,
    business,
    codec,
    errors,
    limits,
    matching,
    properties,
    push,
    reports,
    robustness,
    stateful,
)

__all__ = [
    "auth",
    "balance",
    "business",
    "codec",
    "errors",
    "judge",
    "limits",
    "matching",
    "properties",
    "push",
    "reports",
    "robustness",
    "stateful",
]
