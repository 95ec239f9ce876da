"""A PDF of an HTML document, printed by headless Chromium (Debian's `chromium`, installed
by the project's setup; no downloaded browser)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 120


class PdfError(RuntimeError):
    """No PDF: no browser, or the browser failed."""


def find_chromium(explicit: str | None = None) -> str:
    """--chromium, then $REPORTS_CHROMIUM, then the usual names on PATH."""
    for candidate in (explicit, os.environ.get("REPORTS_CHROMIUM")):
        if candidate:
            found = shutil.which(candidate)
            if not found:
                raise PdfError(f"chromium {candidate!r} not found or not executable")
            return found
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise PdfError(
        "no chromium to print the PDF: `apt-get install chromium` (.ci/run does), "
        "give --chromium PATH, or --no-pdf"
    )


def command(chromium: str, html: Path, pdf: Path, profile: str) -> list[str]:
    return [
        chromium,
        "--headless",
        "--no-sandbox",  # root in containers; the page is our own file
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--no-pdf-header-footer",  # the page's own @page footer says what it is
        f"--print-to-pdf={pdf}",
        html.resolve().as_uri(),
    ]


def print_pdf(html: Path, pdf: Path, chromium: str | None = None) -> Path:
    """Print `html` to `pdf` with a fresh, throw-away browser profile."""
    browser = find_chromium(chromium)
    pdf = pdf.resolve()
    pdf.unlink(missing_ok=True)  # never mistake an old PDF for this one
    with tempfile.TemporaryDirectory(prefix="reports-chromium-") as profile:
        try:
            done = subprocess.run(
                command(browser, html, pdf, profile),
                capture_output=True,
                text=True,
                timeout=TIMEOUT_S,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise PdfError(f"{browser} did not print {html} within {TIMEOUT_S} s") from None
    if not pdf.exists() or pdf.stat().st_size == 0:
        tail = (done.stderr or "").strip().splitlines()[-3:]
        raise PdfError(f"{browser} wrote no PDF (exit {done.returncode}): {' | '.join(tail)}")
    return pdf
