"""The document's own examples (document_examples.yaml), verbatim and corrected."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import quote

import yaml

from .bodies import FORM_MEDIA, JSON_MEDIA, body_errors, read_form, read_json
from .loader import HERE

MEDIA = {"json": JSON_MEDIA, "xml": "application/xml", "form": FORM_MEDIA}


@dataclass(frozen=True)
class Fix:
    """One correction: replace `find` everywhere, or urlencode a form field's value."""

    defect: str
    find: str | None = None
    replace: str = ""
    urlencode: str | None = None

    def apply(self, text: str) -> str:
        if self.urlencode:
            # The value runs to the next & (raw JSON holds none); encode it whole.
            pattern = re.compile(rf"(^|&){re.escape(self.urlencode)}=([^&]*)")
            return pattern.sub(lambda m: f"{m[1]}{self.urlencode}={quote(m[2], safe='')}", text)
        assert self.find is not None
        return text.replace(self.find, self.replace)


@dataclass(frozen=True)
class Example:
    """One example of the document: where it stands, what it is, how to correct it."""

    key: str  # endpoint.part.format, e.g. single_send.request.form
    section: str
    message: str  # the schema name
    format: str  # json, xml or form
    text: str  # verbatim
    fixes: tuple[Fix, ...]
    # Per defect: a word the strict message names when that defect alone is left
    # uncorrected, or None when the schema cannot see it in this example.
    expect: dict[str, str | None] = field(default_factory=dict)

    @property
    def media_type(self) -> str:
        return MEDIA[self.format]

    @property
    def defects(self) -> list[str]:
        return list(dict.fromkeys(f.defect for f in self.fixes))

    def corrected(self, keep: str | None = None) -> str:
        """The text with every fix applied, except those of defect `keep`."""
        text = self.text
        for fix in self.fixes:
            if fix.defect != keep:
                text = fix.apply(text)
        return text

    def errors(self, text: str | None = None) -> list[str]:
        """Strict violations of the text (the corrected one by default)."""
        body = (self.corrected() if text is None else text).encode("utf-8")
        return body_errors(self.message, body, self.media_type)

    def value(self) -> Any:
        """The corrected example as an OpenAPI example value: JSON and form as data,
        XML as its text."""
        body = self.corrected().encode("utf-8")
        if self.format == "json":
            return read_json(body)[0]
        if self.format == "form":
            return read_form(body)[0]
        return self.corrected()


@cache
def _document() -> dict[str, Any]:
    return yaml.safe_load((HERE / "document_examples.yaml").read_text(encoding="utf-8"))


def document_defects() -> dict[str, str]:
    """The defects of the document's examples, by id (S1...), with what each is."""
    return dict(_document()["defects"])


def document_examples() -> list[Example]:
    """Every example of §2.1.7 to §2.8.7, in the document's order."""
    return [
        Example(
            key=e["key"],
            section=str(e["section"]),
            message=e["message"],
            format=e["format"],
            text=e["text"],
            fixes=tuple(Fix(**f) for f in e["fixes"]),
            expect=dict(e["expect"]),
        )
        for e in _document()["examples"]
    ]
