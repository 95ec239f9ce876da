"""Hypothesis for the property and stateful checks: their settings and budget (one home),
and strategies for the interface's values: invalid mobiles derived from the test mobiles
(so a carrier that wrongly accepts one reaches a test phone or nobody), GBK texts of edge
lengths, custids and exdata inside and outside §2.1.5's class."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase

from smsapi.fields import CUSTOM_MAX
from smsapi.mobile import classify

from .outcomes import CheckSkipped

if TYPE_CHECKING:
    from .context import RunContext

# 【】 mark a signature to many carriers (F8): kept out so lengths stay predictable.
GBK_CHARS = st.characters(
    codec="gbk", exclude_categories=("Cc", "Cs", "Co", "Cn", "Zl", "Zp"), exclude_characters="【】"
)
# §2.1.5 edges: one segment up to 70, 67 per segment beyond, 1000 in all (signature included)
CONTENT_EDGES = (70, 71, 134, 135, 1000, 1001)
CUSTOM_VALID = st.from_regex(rf"\A[A-Za-z0-9_-]{{1,{CUSTOM_MAX}}}\Z")
_OUTSIDE = "!#$%&*.,;:@/+=?'\"<>中"


def gbk_text(length: int) -> st.SearchStrategy[str]:
    """A text of exactly `length` GBK characters, neither starting nor ending in a space
    (carriers trim values)."""
    return st.lists(GBK_CHARS, min_size=length, max_size=length).map(_unspaced)


def _unspaced(chars: list[str]) -> str:
    text = "".join(chars)
    if text[:1].isspace():
        text = "x" + text[1:]
    if text[-1:].isspace():
        text = text[:-1] + "x"
    return text


def invalid_mobiles(test_mobile: str) -> st.SearchStrategy[str]:
    """Numbers §3.2 rejects, made from a test mobile: too short, too long, a letter
    inside, a +86 prefix, or a second digit no mainland segment has."""
    national = classify(test_mobile).national
    return st.one_of(
        st.integers(1, len(national) - 1).map(lambda n: national[:n]),
        st.text("0123456789", min_size=1, max_size=3).map(lambda tail: national + tail),
        st.tuples(st.integers(0, len(national) - 1), st.sampled_from("abcXYZ")).map(
            lambda p: national[: p[0]] + p[1] + national[p[0] + 1 :]
        ),
        st.just("+86" + national),
        st.sampled_from("012").map(lambda d: national[0] + d + national[2:]),
    ).filter(lambda n: not classify(n).valid)


def custom_invalid() -> st.SearchStrategy[str]:
    """custid / exdata values §2.1.5 refuses: over 64 characters, or a character outside
    [A-Za-z0-9_-] inside."""
    too_long = st.from_regex(rf"\A[A-Za-z0-9_-]{{{CUSTOM_MAX + 1},{CUSTOM_MAX + 16}}}\Z")
    bad_char = st.tuples(CUSTOM_VALID, st.sampled_from(_OUTSIDE), CUSTOM_VALID).map(
        lambda t: (t[0] + t[1] + t[2])[:CUSTOM_MAX]
    )
    return st.one_of(too_long, bad_char.filter(lambda v: any(c in _OUTSIDE for c in v)))


def hypothesis_settings(ctx: RunContext, max_examples: int) -> settings:
    """No shrinking (every example costs messages); the database beside the report."""
    folder = Path(ctx.config.report_dir or ".") / ".hypothesis"
    ctx.detail("hypothesis", {"seed": ctx.seed, "database": str(folder), "examples": max_examples})
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=False,
        database=DirectoryBasedExampleDatabase(str(folder)),
        phases=(Phase.explicit, Phase.reuse, Phase.generate),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        print_blob=False,
    )


def examples_within(ctx: RunContext, per_example: int, fixed: int = 0) -> int:
    """How many generated examples the budget allows (at least one, else skipped)."""
    room = ctx.budget.left - fixed
    count = min(ctx.config.max_examples, room // max(per_example, 1))
    if count < 1:
        raise CheckSkipped(f"budget left {ctx.budget.left}: not one example fits")
    return count
