"""The schema files by message name, and validation with readable messages.

JSON Schemas (draft 2020-12) live in json/, one per message, sharing common.json through
$ref; XSDs in xsd/, one per XML root, sharing common.xsd; openapi.yaml bundles them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import xmlschema
from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.protocols import Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

HERE = Path(__file__).resolve().parent
JSON_DIR = HERE / "json"
XSD_DIR = HERE / "xsd"
COMMON = "common"


class SchemaViolation(ValueError):
    """An instance breaks its schema; .messages lists every violation, one per line."""

    def __init__(self, name: str, messages: list[str]) -> None:
        super().__init__(f"{name}: " + "; ".join(messages))
        self.name = name
        self.messages = messages


def names() -> list[str]:
    """Every message that has a JSON Schema (common.json, the shared part, excluded)."""
    return sorted(p.stem for p in JSON_DIR.glob("*.json") if p.stem != COMMON)


@cache
def _load(name: str) -> dict[str, Any]:
    path = JSON_DIR / f"{name}.json"
    if not path.is_file():
        raise KeyError(f"no JSON Schema named {name!r}; see schemas.names()")
    return json.loads(path.read_text(encoding="utf-8"))


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of a message (a fresh copy: callers may change it)."""
    return json.loads(json.dumps(_load(name)))


@cache
def registry() -> Registry:
    """Every schema file under its file name, so `common.json#/$defs/...` resolves."""
    files = [*names(), COMMON]
    return Registry().with_resources(
        (f"{name}.json", Resource.from_contents(_load(name), default_specification=DRAFT202012))
        for name in files
    )


@cache
def _anchored(pattern: str) -> re.Pattern[str]:
    # ECMA-262 `$` (what JSON Schema means) matches only at the very end; Python's `$`
    # also before a final newline, which would let "J10003\n" pass.
    return re.compile(re.sub(r"(?<!\\)\$$", r"\\Z", pattern))


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict) -> Iterator:
    if validator.is_type(instance, "string") and not _anchored(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


StrictValidator = validators.extend(Draft202012Validator, {"pattern": _pattern})


@cache
def validator(name: str) -> Validator:
    """A draft 2020-12 validator of a message (ECMA-262 `$`), formats checked, refs
    resolved through registry()."""
    return StrictValidator(
        _load(name), registry=registry(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def errors(name: str, instance: Any) -> list[str]:
    """Every violation of the message's JSON Schema, as `path: what (rule)` lines."""
    found = sorted(validator(name).iter_errors(instance), key=lambda e: list(map(str, e.path)))
    return list(dict.fromkeys(describe(e) for e in found))


def check(name: str, instance: Any) -> None:
    """Raise SchemaViolation unless the instance is valid."""
    messages = errors(name, instance)
    if messages:
        raise SchemaViolation(name, messages)


def describe(error: ValidationError) -> str:
    """One violation in words: where, what was found, and the rule's title."""
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    schema = error.schema if isinstance(error.schema, dict) else {}
    title = schema.get("title")
    kind = error.validator
    # set on every error a validator raises (the stubs allow `Unset` for hand-made ones)
    limit: Any = error.validator_value
    value: Any = error.instance
    if kind in ("oneOf", "anyOf"):
        branches = [b.get("title", json.dumps(b)[:40]) for b in limit if isinstance(b, dict)]
        several = kind == "oneOf" and "is valid under each of" in error.message
        detail = ("matches more than one of: " if several else "matches none of: ") + "; ".join(
            branches
        )
        if all("const" in b for b in limit if isinstance(b, dict)):
            detail = f"{_short(value)} is not one of the allowed values"
    elif kind in ("maxLength", "minLength"):
        word = "more" if kind == "maxLength" else "fewer"
        detail = f"{len(value)} characters, {word} than {limit}"
    elif kind in ("maxItems", "minItems"):
        word = "more" if kind == "maxItems" else "fewer"
        detail = f"{len(value)} items, {word} than {limit}"
    elif kind in ("maximum", "minimum"):
        word = "above the maximum" if kind == "maximum" else "below the minimum"
        detail = f"{value} is {word} {limit}"
    elif kind == "pattern":
        detail = f"{_short(value)} does not match the rule"
    elif kind == "const":
        detail = f"{_short(value)} where {json.dumps(limit, ensure_ascii=False)} is required"
    elif kind == "not":
        detail = f"{_short(value)} is not allowed"
    elif kind == "type":
        detail = f"{_short(value)} is not of type {limit}"
    elif error.message.startswith("False schema"):
        detail = "not allowed here"
    else:
        detail = error.message
    return f"{where}: {detail}" + (f" ({title})" if title else "")


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(value) if isinstance(value, (str, list)) else '?'} long)"


# ---------------------------------------------------------------- XML


@cache
def xsd(root: str) -> xmlschema.XMLSchema:
    """The XSD of an XML root (mtreq, mtrsp, moreq, morsp, rptreq, rptrsp, feereq, feersp)."""
    path = XSD_DIR / f"{root}.xsd"
    if not path.is_file() or root == COMMON:
        raise KeyError(f"no XSD for the XML root {root!r}")
    return xmlschema.XMLSchema(str(path))


def xsd_errors(root: str, element: Element) -> list[str]:
    """Violations of the XSD of `root` by a parsed element, as `path: reason` lines."""
    if element.tag != root:
        return [f"(document): root element <{element.tag}> where <{root}> is required"]
    out = []
    for error in xsd(root).iter_errors(element):
        reason = error.reason or str(error)
        if reason.startswith("value doesn't match any pattern"):
            reason = f"{_short(error.obj)} does not match the rule ({_xsd_doc(error.validator)})"
        elif "character data" in reason and isinstance(error.obj, Element):
            stray = [t.strip() for t in _texts(error.obj) if t and t.strip()]
            reason += f" ({_short(' '.join(stray))})"
        out.append(f"{error.path}: {reason}")
    return list(dict.fromkeys(out))


def _xsd_doc(facet: Any) -> str:
    """The documentation of the simple type a facet belongs to (its rule in words)."""
    owner = getattr(facet, "parent", None)
    annotation = getattr(owner, "annotation", None)
    return str(annotation or getattr(owner, "name", None) or "pattern").strip()


def _texts(element: Element) -> list[str]:
    return [element.text or "", *(child.tail or "" for child in element)]


def openapi_path() -> Path:
    """schemas/openapi.yaml: the six endpoints and the two pushes in OpenAPI 3.1."""
    return HERE / "openapi.yaml"
