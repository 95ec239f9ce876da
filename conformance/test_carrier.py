"""One pytest item per check of the catalogue: `pytest --pyargs conformance --target URL`
(options: `pytest --help`, group "conformance"). Collected only through --pyargs."""

from __future__ import annotations

from typing import Any


def test_check(conformance_check: Any, conformance_run: Any) -> None:
    conformance_run.check(conformance_check)
