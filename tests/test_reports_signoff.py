"""`reports signoff`: from real runs, one self-contained HTML document that opens in
headless Chromium without a console error and shows the matrix, its PDF (pdftotext finds
every requirement's row on the first page, the signatures on the last) and its JSON."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, sync_playwright

from tests.reports_runs import Runs, session_runs

CHROMIUM = "/usr/bin/chromium"
ARTEFACTS = Path(
    os.environ.get("CONSOLE_ARTEFACTS", Path(__file__).parents[1] / "build" / "test-artefacts")
)
ROWS = [  # (clause, title as the matrix shows it)
    ("§2.1.1", "Interface of attachment 6"),
    ("§2.1.2", "ending in 12122"),
    ("§2.1.3", "Delivery within 5 s"),
    ("§2.1.3", "Delivery rate ≥ 99%"),
    ("§1", "Volume: 15 M messages a year"),
    ("§3 / §7", "Price per message ≤ 0.029 yuan"),
]

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="needs Debian's chromium (.ci/run installs it)"
)


@dataclass(frozen=True)
class Document:
    html: Path
    exit: int
    stdout: str

    @property
    def pdf(self) -> Path:
        return self.html.with_suffix(".pdf")

    @property
    def json(self) -> dict:
        return json.loads(self.html.with_suffix(".json").read_text(encoding="utf-8"))

    def text(self, first: int | None = None, last: int | None = None) -> str:
        pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
        return subprocess.run(
            ["pdftotext", "-raw", *pages, str(self.pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def pages(self) -> int:
        info = subprocess.run(
            ["pdfinfo", str(self.pdf)], capture_output=True, text=True, check=True
        ).stdout
        return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def reports(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reports", *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    return session_runs(tmp_path_factory)


@pytest.fixture(scope="module")
def documents(runs: Runs, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Document]:
    out = tmp_path_factory.mktemp("signoff")
    clean = reports("signoff", "--run", str(runs.clean), "--out", str(out / "clean.html"))
    defective = reports(
        "signoff",
        *("--conformance", str(runs.defective / "conformance")),
        *("--load", str(runs.defective / "load")),
        *("--vendor", "Defective Carrier Co.", "--price", "0.024"),
        *("--out", str(out / "defective.pdf")),  # either suffix names both files
    )
    for done in (clean, defective):
        assert done.returncode in (0, 1), done.stdout + done.stderr
    return {
        "clean": Document(out / "clean.html", clean.returncode, clean.stdout),
        "defective": Document(out / "defective.html", defective.returncode, defective.stdout),
    }


@pytest.fixture(scope="module")
def browser() -> Iterator[BrowserContext]:
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"],
            viewport={"width": 1100, "height": 1400},
        )
        yield context
        context.close()


def opened(browser: BrowserContext, html: Path) -> tuple[Page, list[str], list[str]]:
    """A page showing `html`, with what its console said and every URL it requested."""
    page = browser.new_page()
    problems: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(html.as_uri())
    page.wait_for_load_state("load")
    return page, problems, requests


def test_exit_status_says_whether_every_substantive_requirement_is_met(
    documents: dict[str, Document],
) -> None:
    assert documents["clean"].exit == 0
    assert "sign-off: PASS" in documents["clean"].stdout
    assert documents["defective"].exit == 1
    assert "sign-off: FAIL for Defective Carrier Co." in documents["defective"].stdout


def test_the_json_beside_the_document_holds_the_judged_matrix(
    documents: dict[str, Document],
) -> None:
    data = documents["defective"].json
    assert data["format"] == "tongyu-signoff" and data["verdict"] == "fail"
    verdicts = {row["key"]: row["verdict"] for row in data["rows"]}
    assert verdicts == {
        "2.1.1": "fail",
        "2.1.2": "fail",
        "2.1.3-time": "pass",
        "2.1.3-rate": "fail",
        "volume": "pass",
        "price": "pass",
    }
    assert data["price"] == "0.024" and len(data["inputs"]["load"]["sha256"]) == 64


def test_the_html_is_self_contained(documents: dict[str, Document]) -> None:
    for document in documents.values():
        html = document.html.read_text(encoding="utf-8")
        assert "<script" not in html and "<link" not in html and "<img" not in html
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
        assert re.search(r"""href=["'](?!#)""", html) is None  # in-page links only
        assert html.count("<svg ") == 3  # histogram, percentiles, categories


def test_the_document_opens_without_console_errors_and_shows_the_matrix(
    documents: dict[str, Document], browser: BrowserContext
) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for name, document in documents.items():
        page, problems, requests = opened(browser, document.html)
        assert problems == [], problems
        assert requests == [document.html.as_uri()]  # nothing fetched but the file itself
        matrix = page.locator("#matrix table.matrix")
        assert matrix.is_visible()
        assert matrix.locator("tbody tr").count() == len(ROWS)
        box = matrix.bounding_box()
        assert box and box["y"] < 1400  # in the first screen
        shot = ARTEFACTS / f"reports-signoff-{name}.png"
        page.locator("#matrix").screenshot(path=str(shot))
        assert shot.stat().st_size > 20_000
        page.close()


def test_every_failed_check_link_reaches_its_reproducer(
    documents: dict[str, Document], browser: BrowserContext
) -> None:
    page = browser.new_page()
    page.goto(documents["defective"].html.as_uri())
    links = page.locator("#req-2\\.1\\.1 .ids a")
    assert links.count() >= 5
    targets = [links.nth(i).get_attribute("href") for i in range(links.count())]
    for target in targets:
        block = page.locator(target)
        assert block.count() == 1, target
        assert "reproducer" in block.inner_text() or "expected" in block.inner_text()
    verdicts = page.locator("#matrix td.verdict").all_inner_texts()
    assert verdicts == ["FAIL", "FAIL", "PASS", "FAIL", "PASS", "PASS"]
    page.close()


def test_the_pdf_puts_the_whole_matrix_on_its_first_page(documents: dict[str, Document]) -> None:
    for document in documents.values():
        first = " ".join(document.text(1, 1).split())
        assert "Requirements matrix" in first and "Acceptance sign-off" in first
        for clause, title in ROWS:
            assert clause in first and " ".join(title.split()) in first, title
        assert document.pages() >= 4


def test_the_pdf_shows_reproducers_and_ends_with_the_signatures(
    documents: dict[str, Document],
) -> None:
    document = documents["defective"]
    text = document.text()
    for check in document.json["rows"][0]["checks"]:
        assert check in text
    assert "curl -sS -X POST" in text and "reproducer" in text
    last = document.text(document.pages(), document.pages())
    assert "Acceptance lead" in last and "Signature" in last
    assert "Does not meet the tender's requirements" in document.text(1, 1)


def test_input_errors_exit_2_in_one_line(runs: Runs, tmp_path: Path) -> None:
    missing = reports(
        "signoff",
        *("--conformance", str(runs.clean / "conformance"), "--load", str(tmp_path)),
        *("--out", str(tmp_path / "x.html")),
    )
    assert missing.returncode == 2
    assert missing.stderr.startswith("reports: ") and "summary.json" in missing.stderr
    assert missing.stderr.count("\n") == 1
    price = reports("signoff", "--run", str(runs.clean), "--price", "cheap", "--no-pdf")
    assert price.returncode == 2 and "not a positive number" in price.stderr
    both = reports("signoff", "--run", str(runs.clean), "--load", str(runs.clean / "load"))
    assert both.returncode == 2 and "either --run" in both.stderr
    assert not (tmp_path / "x.html").exists()


def test_no_browser_is_an_error_not_a_silent_html_only(runs: Runs, tmp_path: Path) -> None:
    done = reports(
        "signoff",
        *("--run", str(runs.clean), "--out", str(tmp_path / "s.html")),
        *("--chromium", str(tmp_path / "no-such-browser")),
    )
    assert done.returncode == 2 and "not found" in done.stderr
