"""Validate a message as it travels: a body and its Content-Type, read strictly.

The mock's own codec (smsapi.codec) is tolerant on purpose; this reader is not: an
unquoted XML prolog, a line break inside a JSON string, a raw `[` in a form value are
reported, since a strict check must flag what a tolerant reader forgives.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote_plus
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from smsapi.codec import INTEGER_FIELDS, media_type_of

from .loader import SchemaViolation, errors, xsd_errors
from .messages import ENDPOINT_MESSAGES, xml_root, xml_roots

JSON_MEDIA = "application/json"
FORM_MEDIA = "application/x-www-form-urlencoded"
XML_MEDIA = ("application/xml", "text/xml")
# Integer fields of requests read from text (form, XML), besides those of the answers.
TEXT_INTEGER_FIELDS = INTEGER_FIELDS | {"retsize"}
# §2.3.5 multimt, §2.7.3 mos, §2.8.3 rpts: JSON arrays carried as one form value.
FORM_JSON_FIELDS = frozenset({"multimt", "mos", "rpts"})
# What a form name or value may hold unescaped: RFC 3986 query characters (unreserved,
# sub-delims, ":@/?"); raw JSON brackets, quotes, spaces and line breaks are not among them.
_UNESCAPED = re.compile(r"[A-Za-z0-9._~!$'()*+,;=:@/?%-]")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def body_errors(message: str, body: bytes, content_type: str | None) -> list[str]:
    """Violations of a message (a schema name) sent as body with this Content-Type:
    JSON against the JSON Schema, XML against the XSD of its root and then the JSON
    Schema (cross-field rules XSD 1.0 cannot say), form fields against the JSON Schema."""
    media = media_type_of(content_type)
    if media == JSON_MEDIA:
        value, problems = read_json(body)
    elif media in XML_MEDIA:
        root = xml_root(message)
        if root is None:
            return [f"(document): {message} has no XML form"]
        value, problems = read_xml(body, root)
    elif media == FORM_MEDIA:
        value, problems = read_form(body)
    else:
        return [f"(document): Content-Type {content_type!r} is none of JSON, XML, form"]
    if value is None:
        return problems
    return problems + errors(message, value)


def answer_errors(endpoint: str, body: bytes, content_type: str | None) -> list[str]:
    """Violations of an answer of one of the six endpoints, in whichever format it came."""
    return body_errors(ENDPOINT_MESSAGES[endpoint].answer, body, content_type)


def request_errors(endpoint: str, body: bytes, content_type: str | None) -> list[str]:
    """Violations of a request to one of the six endpoints."""
    return body_errors(ENDPOINT_MESSAGES[endpoint].request, body, content_type)


def xml_errors(root_or_message: str, xml_bytes: bytes) -> list[str]:
    """Violations of an XML body: by XML root (mtreq...) the XSD alone; by message name
    (single_send_request...) the XSD of its root and then the message's JSON Schema."""
    if root_or_message in xml_roots():
        return read_xml(xml_bytes, root_or_message)[1]
    return body_errors(root_or_message, xml_bytes, "application/xml")


def check_answer(endpoint: str, body: bytes, content_type: str | None) -> None:
    """Raise SchemaViolation unless the answer of an endpoint is valid as it came."""
    problems = answer_errors(endpoint, body, content_type)
    if problems:
        raise SchemaViolation(ENDPOINT_MESSAGES[endpoint].answer, problems)


# ---------------------------------------------------------------- strict readers


def read_json(body: bytes) -> tuple[Any, list[str]]:
    """A JSON object: UTF-8, no duplicate keys, no NaN; (None, [why]) otherwise."""
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                duplicates.append(f"{key}: given twice")
            seen[key] = value
        return seen

    def no_constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    try:
        value = json.loads(
            body.decode("utf-8"), object_pairs_hook=pairs, parse_constant=no_constant
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return None, [f"(document): not JSON: {exc}"]
    if not isinstance(value, dict):
        return None, ["(document): a JSON object is required"]
    return value, duplicates


def read_xml(body: bytes, root: str) -> tuple[dict[str, Any] | None, list[str]]:
    """An XML document valid under the XSD of root, as the fields the JSON Schema reads
    (integers typed, lists of items); (None, [why]) when it is not."""
    try:
        element = SafeET.fromstring(body)
    except (SafeET.ParseError, DefusedXmlException, ValueError) as exc:
        return None, [f"(document): not well-formed XML: {exc}"]
    problems = xsd_errors(root, element)
    if problems:
        return None, problems
    return xml_fields(element), []


def xml_fields(element: Element) -> dict[str, Any]:
    """Children as fields; an element with children (multimt, mos, rpts) as a list of
    dicts. An empty list element reads as [] on success (XML cannot tell [] from "")."""
    fields: dict[str, Any] = {}
    for child in element:
        if len(child):
            fields[child.tag] = [{leaf.tag: _typed(leaf) for leaf in item} for item in child]
        else:
            fields[child.tag] = _typed(child)
    for name in ("mos", "rpts"):
        if fields.get(name) == "" and fields.get("result") == 0:
            fields[name] = []
    return fields


def _typed(leaf: Element) -> Any:
    text = leaf.text or ""
    if leaf.tag in TEXT_INTEGER_FIELDS and re.fullmatch(r"\s*[+-]?[0-9]+\s*", text):
        return int(text)
    return text


def read_form(body: bytes) -> tuple[dict[str, Any] | None, list[str]]:
    """Form fields: every name and value urlencoded, each given once. content stays as
    sent (§2.1.5: it is the urlencoded GBK text itself); multimt / mos / rpts are JSON
    arrays; retsize and seqid integers."""
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        return None, ["(document): form body is not ASCII: not urlencoded"]
    fields: dict[str, Any] = {}
    problems: list[str] = []
    for pair in text.split("&"):
        if not pair:
            continue
        raw_name, _, raw = pair.partition("=")
        name = unquote_plus(raw_name)
        for part, raw_text in (("name", raw_name), ("value", raw)):
            stray = "".join(dict.fromkeys(_UNESCAPED.sub("", raw_text)))
            if stray:
                problems.append(f"{name}: not urlencoded: raw {stray!r} in the {part}")
            if _BAD_ESCAPE.search(raw_text):
                problems.append(f"{name}: a '%' that starts no escape in the {part}")
        if name in fields:
            problems.append(f"{name}: given twice")
        fields[name] = _form_value(name, raw, problems)
    return fields, problems


def _form_value(name: str, raw: str, problems: list[str]) -> Any:
    if name == "content":
        return raw
    value = unquote_plus(raw, errors="replace")
    if name in FORM_JSON_FIELDS:
        try:
            return json.loads(value)
        except (ValueError, RecursionError) as exc:
            problems.append(f"{name}: not a JSON array: {exc}")
            return value
    if name in TEXT_INTEGER_FIELDS and re.fullmatch(r"[+-]?[0-9]+", value):
        return int(value)
    return value
