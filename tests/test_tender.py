"""smsapi.tender: each of the tender's figures has one home, and it says what the tender says."""

from __future__ import annotations

import ast
import re
from decimal import Decimal
from pathlib import Path

import pytest

from reports.tender import QUOTES
from smsapi import tender

ROOT = Path(__file__).resolve().parent.parent
SPEC = Path("/work/shared/spec/tender-and-interface.zh.txt")
PACKAGES = ("mockcarrier", "conformance", "smsapi", "loadtests", "reports", "benchmarks", "schemas")
HOME = ROOT / "smsapi" / "tender.py"

# A figure written out again: the channel suffix (alone or ending a channel number, not
# inside a check id such as BIZ-CHANNEL-12122), the price cap, the yearly volume.
REPEATED_TEXT = re.compile(r"(?<![\w-])(\d*12122|0\.029|15[_,]?000[_,]?000|1500万)(?!\w)")
REPEATED_NUMBERS = {12122, 10690012122, 15_000_000, Decimal("0.029")}


@pytest.fixture(scope="module")
def spec() -> str:
    if not SPEC.exists():
        pytest.skip(f"the tender's text is not at {SPEC}")
    return SPEC.read_text(encoding="utf-8")


def figure(spec: str, pattern: str) -> str:
    found = re.findall(pattern, spec)
    assert len(found) == 1, f"{pattern!r} found {len(found)} times in the tender"
    return found[0]


def test_the_yearly_volume_is_the_tenders_section_1(spec: str) -> None:
    assert int(figure(spec, r"每年短信推送量约(\d+)万条")) * 10_000 == tender.YEAR_MESSAGES


def test_the_channel_suffix_is_the_tenders_section_2_1_2(spec: str) -> None:
    assert figure(spec, r"通道号尾号须为(\d+)") == tender.CHANNEL_SUFFIX


def test_the_delivery_limit_is_the_tenders_section_2_1_3(spec: str) -> None:
    assert float(figure(spec, r"短信送达时间不超过(\d+(?:\.\d+)?)秒")) == tender.DELIVERY_LIMIT_S


def test_the_delivery_rate_is_the_tenders_section_2_1_3(spec: str) -> None:
    percent = Decimal(figure(spec, r"短信送达率不低于(\d+(?:\.\d+)?)%"))
    assert Decimal(str(tender.DELIVERY_RATE_MIN)) == percent / 100


def test_the_price_cap_is_the_tenders_section_3(spec: str) -> None:
    assert Decimal(figure(spec, r"短信单价(\d+\.\d+)元/条")) == tender.PRICE_CAP


def test_the_demo_channel_is_a_channel_number_ending_in_the_suffix() -> None:
    assert tender.DEMO_CHANNEL.isdigit()
    assert tender.DEMO_CHANNEL.endswith(tender.CHANNEL_SUFFIX)
    assert len(tender.DEMO_CHANNEL) > len(tender.CHANNEL_SUFFIX)


@pytest.mark.parametrize("section", sorted(QUOTES))
def test_the_sign_off_quotes_the_tender_verbatim_with_the_figures_in_place(
    spec: str, section: str
) -> None:
    assert QUOTES[section] in spec


def docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes of a module, its classes and functions."""
    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        doc = node.body[0] if node.body else None
        if isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant):
            found.add(id(doc.value))
    return found


def repetitions(path: Path) -> list[tuple[int, str]]:
    """(line, figure) of each tender figure a module writes out in its code; docstrings
    and comments may quote them."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = docstrings(tree)
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) in skipped:
            continue
        value = node.value
        if isinstance(value, str) and (hit := REPEATED_TEXT.search(value)):
            out.append((node.lineno, hit.group(0)))
        elif (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and Decimal(str(value)) in REPEATED_NUMBERS
        ):
            out.append((node.lineno, repr(value)))
    return sorted(out)


def test_no_module_but_smsapi_tender_writes_out_a_tender_figure() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line} {figure!r}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != HOME
        for line, figure in repetitions(path)
    ]
    assert found == [], "import the figure from smsapi.tender instead"


def test_the_figure_scan_finds_every_written_out_figure(tmp_path: Path) -> None:
    # The scan above must be able to fail: each line but the last repeats a figure.
    lines = [
        'CHANNEL = "10690012122"',
        'SUFFIX = "12122"',
        "CAP = 0.029",
        "YEAR = 15_000_000",
        'HELP = f"tender cap 0.029 yuan, {CAP}"',
        'CHECK = "BIZ-CHANNEL-12122"  # a check id names the rule',
    ]
    path = tmp_path / "sample.py"
    path.write_text('"""A docstring may say 12122."""\n' + "\n".join(lines) + "\n", "utf-8")
    assert [line for line, _ in repetitions(path)] == [2, 3, 4, 5, 6]
