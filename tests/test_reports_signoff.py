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
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, sync_playwright

from reports import plots
from reports.inputs import Category, read_conformance, read_load
from reports.render import compact, render_signoff
from reports.requirements import RequirementVerdict
from reports.signoff import build, with_notes
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

OTHER_VENDOR = "Other Carrier Ltd"
# The printable area of an A4 page: style.css `@page { margin: 11mm 10mm 13mm }`.
PT_PER_MM = 72 / 25.4
SIDE_MARGIN_PT = 10 * PT_PER_MM
BOTTOM_MARGIN_PT = 13 * PT_PER_MM
A4_CONTENT_PX = round((210 - 2 * 10) / 25.4 * 96)  # CSS px between the side margins

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
    # The clean run signed off under another vendor's name than its suite settings say.
    other = reports(
        "signoff", "--run", str(runs.clean), "--vendor", OTHER_VENDOR, "--out", str(out / "o.pdf")
    )
    for done in (clean, defective, other):
        assert done.returncode in (0, 1), done.stdout + done.stderr
    return {
        "clean": Document(out / "clean.html", clean.returncode, clean.stdout),
        "defective": Document(out / "defective.html", defective.returncode, defective.stdout),
        "other vendor": Document(out / "o.html", other.returncode, other.stdout),
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


# ---------------------------------------------------------------- the printed pages


def test_every_page_is_drawn_inside_its_printable_area(documents: dict[str, Document]) -> None:
    """Each page as a picture (kept in the artefacts for a person to look at), and no word
    of any page beyond the side margins."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for name, document in documents.items():
        prefix = ARTEFACTS / f"reports-signoff-{name.replace(' ', '-')}-page"
        subprocess.run(["pdftoppm", "-r", "50", "-png", str(document.pdf), str(prefix)], check=True)
        assert len(list(ARTEFACTS.glob(f"{prefix.name}-*.png"))) >= document.pages()
        bbox = subprocess.run(
            ["pdftotext", "-bbox", str(document.pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for page in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)".*?</page>', bbox, re.S):
            right = float(page.group(1)) - SIDE_MARGIN_PT + 1
            bottom = float(page.group(2)) - BOTTOM_MARGIN_PT  # below: the page's footer
            for x_min, x_max, y_max, word in re.findall(
                r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<',
                page.group(0),
            ):
                if float(y_max) < bottom:
                    assert float(x_min) >= SIDE_MARGIN_PT - 1, (name, word)
                    assert float(x_max) <= right, (name, word)


# Every element that paints a right border, with the half of a collapsed cell border that
# lies outside the cell: it must end before the page's edge, where Chromium clips.
REACHING_THE_EDGE = """(width) => [...document.body.querySelectorAll('*')].flatMap((el) => {
  const r = el.getBoundingClientRect(), css = getComputedStyle(el);
  if (!r.width || css.borderRightStyle === 'none' || !parseFloat(css.borderRightWidth)) return [];
  const table = el.closest('table');
  const collapsed = table && getComputedStyle(table).borderCollapse === 'collapse';
  const half = css.display === 'table-cell' && collapsed ? parseFloat(css.borderRightWidth) / 2 : 0;
  return r.right + half > width - 0.5 ? [`${el.tagName}.${el.className}: ${r.right + half}`] : [];
})"""


def test_nothing_is_wider_than_the_printed_page(
    browser: BrowserContext, documents: dict[str, Document]
) -> None:
    """Chromium clips at the page's margin: a table at 100 % width lost its right border
    (the Date column of the signatures)."""
    for document in documents.values():
        page = browser.new_page()
        page.set_viewport_size({"width": A4_CONTENT_PX, "height": 1100})
        page.emulate_media(media="print")
        page.goto(document.html.as_uri())
        assert page.evaluate(REACHING_THE_EDGE, A4_CONTENT_PX) == []
        page.close()


def test_the_inputs_table_stays_on_one_page(documents: dict[str, Document]) -> None:
    for name, document in documents.items():
        pages = [document.text(n, n) for n in range(1, document.pages() + 1)]
        holding = [n for n, text in enumerate(pages) if "sha256" in text]
        assert len(holding) == 1, (name, holding)
        text = pages[holding[0]]
        assert "conformance report" in text and "load summary" in text and "Inputs" in text


def test_numbers_are_written_as_a_person_writes_them(documents: dict[str, Document]) -> None:
    for name, document in documents.items():
        text = document.text()
        settings = text[text.index("Run settings and inputs") :]
        assert not re.search(r"\d\.\d{5,}", settings), name  # 4.756468797564688
        assert "15000000.0" not in text and "15,000,000" in text, name
        assert "peak_rate 4.756" in " ".join(text.split()), name


def test_a_vendor_other_than_the_suite_settings_name_is_a_visible_remark(
    documents: dict[str, Document],
) -> None:
    document = documents["other vendor"]
    first = " ".join(document.text(1, 1).split())
    assert "Remarks" in first and "Clean Carrier Co." in first and OTHER_VENDOR in first
    assert document.json["verdict"] in ("remarks", "fail", "incomplete")
    assert any("Clean Carrier Co." in note for note in document.json["notes"])
    assert not any("vendor" in note for note in documents["clean"].json["notes"])


def test_a_target_mismatch_is_a_remark_beside_the_verdict_not_a_footnote(
    runs: Runs, tmp_path: Path
) -> None:
    data = json.loads((runs.clean / "load" / "summary.json").read_text(encoding="utf-8"))
    data["target"] = "http://elsewhere.example:8080"
    (tmp_path / "summary.json").write_text(json.dumps(data), encoding="utf-8")
    signoff = build(runs.clean / "conformance", tmp_path)
    assert any("elsewhere.example" in note for note in signoff.notes)
    assert signoff.verdict is not RequirementVerdict.PASS
    html = render_signoff(signoff)
    banner, remarks, matrix = (html.index(f'id="{i}"') for i in ("verdict", "remarks", "matrix"))
    assert banner < remarks < matrix
    assert "elsewhere.example" in html[remarks:matrix]


def test_a_pass_with_notes_is_a_pass_with_remarks() -> None:
    assert (
        with_notes(RequirementVerdict.PASS, ["the load tests ran elsewhere"])
        is RequirementVerdict.REMARKS
    )
    assert with_notes(RequirementVerdict.PASS, []) is RequirementVerdict.PASS
    assert with_notes(RequirementVerdict.FAIL, ["x"]) is RequirementVerdict.FAIL


def _tick_labels(svg: str, name: str, axis: str) -> list[str]:
    return re.findall(rf'id="{name}-{axis}tick_\d+".*?<text[^>]*>([^<]*)</text>', svg, re.S)


def test_count_axes_have_whole_number_ticks(runs: Runs) -> None:
    load = replace(read_load(runs.clean / "load"), histogram=[(0.0, 1), (0.1, 2)])
    segments = _tick_labels(plots.latency_histogram(load), "histogram", "y")
    conf = read_conformance(runs.clean / "conformance")
    conf.categories = [Category("codec", "", {"passed": 1, "failed": 1}, 0.5)]
    checks = _tick_labels(plots.results_by_category(conf), "categories", "x")
    for labels in (segments, checks):
        assert labels and all(re.fullmatch(r"\d+", label) for label in labels), labels


@pytest.mark.parametrize(
    "value, shown",
    [(15000000.0, "15,000,000"), (4.756468797564688, "4.756"), (0.029, "0.029"), (60, "60")],
)
def test_settings_show_numbers_rounded_and_grouped(value: float, shown: str) -> None:
    assert compact(value) == shown
    assert compact({"rate": value}) == f"rate: {shown}"


def test_an_unjudged_must_check_shows_its_requirement_not_shown_never_pass(
    runs: Runs, tmp_path: Path
) -> None:
    """Issue 15: a skipped must-check was "PASS, with remarks"; it is NOT SHOWN now, and
    the sign-off cannot pass with it."""
    report = json.loads((runs.clean / "conformance" / "report.json").read_text(encoding="utf-8"))
    must = next(c for c in report["checks"] if c["level"] == "must" and c["id"] == "RPT-ECHO")
    must.update(outcome="skipped", message="no test mobiles configured", remedy="--test-mobiles")
    (tmp_path / "report.json").write_text(json.dumps(report), encoding="utf-8")
    signoff = build(tmp_path, runs.clean / "load")
    assert signoff.verdict is RequirementVerdict.INCOMPLETE and signoff.verdict.label == "NOT SHOWN"
    interface = next(r for r in signoff.rows if r.key == "2.1.1")
    assert interface.verdict.label == "NOT SHOWN"
    html = render_signoff(signoff)
    assert "PASS, with remarks" not in html and "NOT SHOWN" in html
    assert "RPT-ECHO" in html and "to judge it: --test-mobiles" in html
    assert signoff.to_dict()["coverage"].endswith("1 not judged")
