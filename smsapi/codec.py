"""Request and answer bodies in the three formats of §1: JSON, XML, form-urlencoded.

The reader is tolerant (the document's own unquoted XML prolog, whitespace, charset
parameters, unencoded multimt in forms); the writer is exact.
"""

from __future__ import annotations

import codecs
import json
import re
from enum import Enum
from typing import Any
from urllib.parse import quote, unquote_plus, unquote_to_bytes
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
import orjson
from defusedxml import DefusedXmlException

from .content import is_percent_encoded
from .endpoints import ENDPOINTS, Endpoint
from .errors import CodecError

XML_PROLOG = '<?xml version="1.0" encoding="UTF-8"?>'
_PROLOG_RE = re.compile(rb"^<\?xml\s([^?]*)\?>", re.IGNORECASE)
_PROLOG_ATTR_RE = re.compile(rb"""(\w+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'?]+))""")
# Fields that are integers in answers (§2.x.6 tables): typed when read back from XML.
INTEGER_FIELDS = frozenset(
    {"result", "msgid", "pknum", "pktotal", "status", "chargetype", "balance", "seqid"}
)
# Form fields whose value is a JSON array: multimt (§2.3.5), the push lists mos/rpts (§2.7, §2.8).
JSON_LIST_FIELDS = frozenset({"multimt", "mos", "rpts"})
# Characters XML 1.0 cannot carry, not even as &#n; (control characters, lone surrogates,
# U+FFFE/U+FFFF): a value echoed from a JSON or form request may hold them.
_XML_INVALID_RE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE_RE = re.compile(r"\\u[dD][89a-fA-F]")
JSON_MEDIA = "application/json"
FORM_MEDIA = "application/x-www-form-urlencoded"
XML_MEDIA = "application/xml"


class Format(str, Enum):
    JSON = "json"
    XML = "xml"
    FORM = "form"

    @property
    def media_type(self) -> str:
        return {"json": JSON_MEDIA, "xml": XML_MEDIA, "form": FORM_MEDIA}[self.value]


def media_type_of(content_type: str | None) -> str:
    """The bare media type of a Content-Type header, lower case, parameters dropped."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def request_format(content_type: str | None, body: bytes = b"") -> Format:
    """§2.1.4 用Content-type识别请求包报文的格式; sniff the body when the header is
    missing or names none of the three."""
    media = media_type_of(content_type)
    if media == JSON_MEDIA or media.endswith("+json"):
        return Format.JSON
    if media in (XML_MEDIA, "text/xml") or media.endswith("+xml"):
        return Format.XML
    if media == FORM_MEDIA:
        return Format.FORM
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head in (b"{", b"["):
        return Format.JSON
    if head == b"<":
        return Format.XML
    return Format.FORM


def answer_format(fmt: Format) -> Format:
    """§2.1.8 urlencode与JSON请求都以JSON返回数据; XML requests get XML."""
    return Format.XML if fmt is Format.XML else Format.JSON


# ---------------------------------------------------------------- reading requests


def parse_request(
    body: bytes, fmt: Format, charset: str = "", notes: list[str] | None = None
) -> dict[str, Any]:
    """Fields of a request body. Scalars stay as sent (JSON numbers remain numbers);
    multimt becomes a list of dicts. Raises CodecError when the body is unreadable.
    charset: the Content-Type's charset parameter; notes collects what was off-spec
    but read anyway (a GBK JSON body...)."""
    if fmt is Format.JSON:
        return _parse_json_object(body, charset, notes if notes is not None else [])
    if fmt is Format.XML:
        root = parse_xml(body)
        return element_fields(root)
    return parse_form(body)


def charset_of(content_type: str | None) -> str:
    """The charset parameter of a Content-Type, lower case ("" when none)."""
    for param in (content_type or "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip("\"'").lower()
    return ""


def json_body_text(body: bytes, charset: str, notes: list[str]) -> str:
    """W1: the text of a JSON body. RFC 8259 JSON is UTF-8, but Java clients send GBK
    (fastjson + HttpClient) and real carriers read it: a charset parameter is honoured;
    without one, bytes that are not UTF-8 are read as GB18030 (a superset of GBK)."""
    codec = _json_charset(charset)
    if charset and not codec:  # read as if none were named
        notes.append(f"JSON body names charset {charset[:40]!r}, unknown: read as UTF-8 (W1)")
        charset = ""
    elif codec and codec != "utf-8":
        try:
            text = body.decode(codec)
        except ValueError as exc:  # UnicodeDecodeError and kin
            raise CodecError(f"body is not JSON: not {charset[:40]}: {exc}", body) from exc
        notes.append(f"JSON body in charset {charset[:40]}, not UTF-8 (read as declared, W1)")
        return text.removeprefix("\ufeff")
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if charset:  # declared UTF-8 and is not: no guessing
            raise CodecError(f"body is not JSON: {exc}", body) from exc
        try:
            text = body.decode("gb18030")
        except UnicodeDecodeError:
            raise CodecError(f"body is not JSON: {exc}", body) from exc
    notes.append("JSON body not UTF-8: read as GBK/GB18030 (no charset named, W1)")
    return text


# Charsets a JSON body may name (codecs' canonical names): real text encodings only, so a
# hostile parameter cannot pick a codec such as punycode, rot13 or zlib.
JSON_CHARSETS = frozenset(
    {"utf-8", "utf-8-sig", "gbk", "gb2312", "gb18030", "big5", "ascii", "iso8859-1"}
    | {"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be", "cp1252"}
)


def _json_charset(charset: str) -> str:
    """The codec of a charset parameter: "utf-8" when none or UTF-8, "" when unknown."""
    if not charset:
        return "utf-8"
    try:
        name = codecs.lookup(charset).name
    except LookupError:
        return ""
    if name not in JSON_CHARSETS:
        return ""
    return "utf-8" if name.startswith("utf-8") else name


def _parse_json_object(body: bytes, charset: str = "", notes: list[str] | None = None) -> dict:
    text = json_body_text(body, charset, notes if notes is not None else [])
    try:
        value = loads_json(text)
    except CodecError:
        value = loads_json(join_wrapped_json_strings(text), body)
    if not isinstance(value, dict):
        raise CodecError("JSON body is not an object", body)
    multimt = value.get("multimt")
    if isinstance(multimt, str):  # tolerated: the form convention inside JSON
        value["multimt"] = parse_multimt_text(multimt)
    if _SURROGATE_ESCAPE_RE.search(text):
        try:
            value = _without_surrogates(value)
        except RecursionError as exc:
            raise CodecError(f"body is not JSON: {exc}", body) from exc
    return value


def loads_json(text: str, body: bytes | None = None, what: str = "body") -> Any:
    """json.loads for hostile input: every way a text fails to be read is a CodecError,
    including an integer over Python's 4 300-digit limit (a plain ValueError) and
    nesting deep enough to exhaust the stack."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError too
        raise CodecError(
            f"{what} is not JSON: {exc}", body or text.encode("utf-8", "replace")
        ) from exc


def _without_surrogates(value: Any) -> Any:
    """JSON's \\ud800 escapes give lone surrogates, which no charset can write (nor
    SQLite store): each becomes U+FFFD, as an undecodable byte would."""
    if isinstance(value, str):
        return _SURROGATE_RE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    return value


def join_wrapped_json_strings(text: str) -> str:
    """C4: the document's JSON examples are wrapped inside strings ("custid":"b3d0…85⏎73",
    "timestam⏎p"). A raw line break is never legal inside a JSON string, so dropping
    the ones found there mends the example without changing any valid document."""
    out: list[str] = []
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            elif char in "\r\n":
                continue
        elif char == '"':
            in_string = True
        out.append(char)
    return "".join(out)


def parse_multimt_text(text: str) -> Any:
    """§2.3.5 multimt carried as a JSON array string (form requests)."""
    try:
        return loads_json(text)
    except CodecError:
        return text  # left for the field rules to reject


def parse_form(body: bytes) -> dict[str, Any]:
    """A form body, read byte-exact so GBK content survives (§2.1.7 urlencode)."""
    fields: dict[str, Any] = {}
    # Line breaks are never part of an urlencoded body; the document's own examples
    # are wrapped mid-value (timestamp=08031920⏎20), so they are dropped.
    text = body.decode("latin-1").replace("\r", "").replace("\n", "")
    for pair in text.split("&"):
        if not pair:
            continue
        name, _, raw = pair.partition("=")
        name = unquote_plus(name).strip()
        if name in JSON_LIST_FIELDS and raw.lstrip().startswith("["):
            # §2.3.7 / §2.7.5 / §2.8.5 the document's form examples carry the JSON array
            # unencoded (its urlencoded contents must not be decoded twice).
            fields[name] = parse_list_bytes(name, raw.encode("latin-1"))
            continue
        value = unquote_to_bytes(raw.replace("+", " "))
        if name == "content":
            fields[name] = _form_content(value)
        elif name in JSON_LIST_FIELDS:
            fields[name] = parse_list_bytes(name, value)
        else:
            fields[name] = value.decode("utf-8", "replace")
    return fields


def parse_list_bytes(name: str, raw: bytes) -> Any:
    """A JSON array carried in a form (multimt; the push lists mos, rpts). multimt is
    read byte-exact: each item's content takes the path of a form's own content
    (_form_content), so raw GBK inside (PHP clients that url-decode their json_encode
    output) keeps its text; the other values are UTF-8 text."""
    if name != "multimt":
        return parse_multimt_text(raw.decode("utf-8", "replace"))
    value = parse_multimt_text(raw.decode("latin-1"))  # JSON's syntax is ASCII
    if not isinstance(value, list):
        return parse_multimt_text(raw.decode("utf-8", "replace"))
    return [_item_from_bytes(item) if isinstance(item, dict) else item for item in value]


def _item_from_bytes(item: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in item.items():
        if isinstance(value, str):
            try:
                raw = value.encode("latin-1")  # the bytes as sent
            except UnicodeEncodeError:  # \uXXXX escapes: already text
                out[key] = value
                continue
            if raw.isascii():
                out[key] = value
            elif key == "content":  # raw bytes: GBK as the document's charset (C7)
                out[key] = _form_content(raw)
            else:
                out[key] = raw.decode("utf-8", "replace")
        else:
            out[key] = value
    return out


def _form_content(value: bytes) -> str:
    """Content in a form: the GBK bytes themselves (the document's example, one level
    of encoding) or an urlencoded string encoded once more (double encoding). Both
    come back as the urlencoded text a JSON request would carry."""
    if is_percent_encoded(value):
        return value.decode("ascii")
    return quote(value, safe="")


def parse_xml(body: bytes) -> Element:
    """Parse XML safely (no entities, no DTD), mending the document's own prolog."""
    try:
        return SafeET.fromstring(normalise_xml(body))
    except (SafeET.ParseError, DefusedXmlException, ValueError, LookupError) as exc:
        raise CodecError(f"body is not XML: {exc}", body) from exc


def strict_xml_problem(body: bytes) -> str | None:
    """Why a body is not well-formed XML as written (no mending of the document's
    unquoted prolog, C1), or None when it is."""
    try:
        SafeET.fromstring(body)
    except (SafeET.ParseError, DefusedXmlException, ValueError, LookupError) as exc:
        return str(exc) or type(exc).__name__
    return None


def normalise_xml(body: bytes) -> bytes:
    """Quote an unquoted prolog (§2.1.7 writes <?xml version=1.0 encoding=utf-8?>),
    drop a BOM or blank lines before it, and re-encode a non-UTF-8 declared charset."""
    body = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    match = _PROLOG_RE.match(body)
    if not match:
        return body
    attrs = {
        m.group(1).decode("latin-1").lower(): b"".join(m.groups(b"")[1:]).decode("latin-1")
        for m in _PROLOG_ATTR_RE.finditer(match.group(1))
    }
    encoding = attrs.get("encoding", "utf-8").lower()
    rest = body[match.end() :]
    if encoding not in ("utf-8", "utf8", "us-ascii", "ascii"):
        rest = rest.decode(encoding).encode("utf-8")  # LookupError / ValueError → CodecError
    return XML_PROLOG.encode("ascii") + rest


def element_fields(root: Element) -> dict[str, Any]:
    """Children of a root as fields; an element with children (multimt, mos, rpts)
    becomes a list of dicts, one per child element."""
    fields: dict[str, Any] = {}
    for child in root:
        if len(child):
            fields[child.tag] = [{leaf.tag: (leaf.text or "") for leaf in item} for item in child]
        else:
            fields[child.tag] = child.text or ""
    return fields


# ---------------------------------------------------------------- writing


def encode_answer(
    endpoint: Endpoint | str, answer: dict[str, Any], fmt: Format, xml_media: str = XML_MEDIA
) -> tuple[bytes, str]:
    """An answer body and its Content-Type."""
    ep = ENDPOINTS[endpoint] if isinstance(endpoint, str) else endpoint
    if fmt is Format.XML:
        return xml_document(ep.answer_root, answer, ep.list_item), f"{xml_media}; charset=utf-8"
    return json_body(answer), f"{JSON_MEDIA}; charset=utf-8"


def json_body(value: Any) -> bytes:
    """Compact UTF-8 JSON. orjson writes a 500-report answer several times faster than
    the json module, and the same bytes for the answers' strings, integers, lists and
    objects (tests/test_codec.py); what it refuses (an integer beyond 64 bits, a key
    that is not a string) goes through the json module."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def xml_document(root: str, fields: dict[str, Any], item_tag: str | None = None) -> bytes:
    """<?xml ...?><root><field>value</field>...</root>; a list becomes child elements
    named item_tag (mo, rpt, mt); an empty list or "" an empty element."""
    parts = [XML_PROLOG, f"<{root}>"]
    for name, value in fields.items():
        if isinstance(value, list):
            tag = item_tag or "item"
            inner = "".join(
                f"<{tag}>{''.join(_xml_leaf(k, v) for k, v in item.items())}</{tag}>"
                for item in value
            )
            parts.append(f"<{name}>{inner}</{name}>")
        else:
            parts.append(_xml_leaf(name, value))
    parts.append(f"</{root}>")
    return "".join(parts).encode("utf-8")


def _xml_leaf(name: str, value: Any) -> str:
    text = _XML_INVALID_RE.sub("\ufffd", "" if value is None else str(value))
    return f"<{name}>{escape(text)}</{name}>"


def encode_request(endpoint: Endpoint | str, fields: dict[str, Any], fmt: Format) -> bytes:
    """A request body as the document's examples write it (§2.x.7)."""
    ep = ENDPOINTS[endpoint] if isinstance(endpoint, str) else endpoint
    if fmt is Format.JSON:
        return json_body(fields)
    if fmt is Format.XML:
        return xml_document(ep.request_root, fields, "mt")
    return encode_form(fields)


def encode_form(fields: dict[str, Any]) -> bytes:
    """Form body; content is already urlencoded GBK and goes in as is (§2.1.7), the
    multimt list as an encoded JSON string, every other value percent-encoded."""
    pairs = []
    for name, value in fields.items():
        if name == "content":
            pairs.append(f"content={value}")
        elif isinstance(value, (list, dict)):
            pairs.append(f"{name}={quote(json.dumps(value, separators=(',', ':')), safe='')}")
        else:
            pairs.append(f"{name}={quote(str(value), safe='')}")
    return "&".join(pairs).encode("ascii")


# ---------------------------------------------------------------- reading answers


def parse_answer(body: bytes, content_type: str | None) -> dict[str, Any]:
    """An answer as a dict with the document's types (integers as int)."""
    fmt = request_format(content_type, body)
    if fmt is Format.XML:
        fields = element_fields(parse_xml(body))
        answer: dict[str, Any] = {k: _typed(k, v) for k, v in fields.items()}
        for name in ("mos", "rpts"):
            if name in answer and answer[name] == "" and answer.get("result") == 0:
                answer[name] = []
            if isinstance(answer.get(name), list):
                answer[name] = [{k: _typed(k, v) for k, v in i.items()} for i in answer[name]]
        return answer
    if fmt is Format.FORM:
        raise CodecError("answer is neither JSON nor XML", body)
    try:
        value = loads_json(body.decode("utf-8-sig"), body, "answer")
    except UnicodeDecodeError as exc:
        raise CodecError(f"answer is not JSON: {exc}", body) from exc
    if not isinstance(value, dict):
        raise CodecError("JSON answer is not an object", body)
    return value


def _typed(name: str, value: Any) -> Any:
    if name in INTEGER_FIELDS and isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return value
    return value
