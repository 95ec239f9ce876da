"""The interface of attachment 6, machine-readable: JSON Schema, XSD and OpenAPI.

Ask for a schema by message name, never by path:

    schemas.names()                      # single_send_request, rpt_item, push_mo_response...
    schemas.check("get_rpt_response", answer)        # raises SchemaViolation
    schemas.xml_errors("mtrsp", body)                # XSD only, by XML root
    schemas.xml_errors("single_send_response", body) # XSD, then the JSON Schema rules
    schemas.answer_errors("get_mo", body, content_type)  # JSON or XML, as it came
"""

from __future__ import annotations

# The contract's own version: bump on any change a validator's verdict could notice.
__version__ = "1.0.0"

from .bodies import (
    answer_errors,
    body_errors,
    check_answer,
    read_form,
    read_json,
    read_xml,
    request_errors,
    xml_errors,
)
from .examples import Example, document_defects, document_examples
from .loader import (
    SchemaViolation,
    check,
    errors,
    json_schema,
    names,
    openapi_path,
    registry,
    validator,
    xsd,
)
from .messages import ENDPOINT_MESSAGES, PUSH_MESSAGES, Messages, xml_root, xml_roots

__all__ = [
    "ENDPOINT_MESSAGES",
    "PUSH_MESSAGES",
    "Example",
    "Messages",
    "SchemaViolation",
    "answer_errors",
    "body_errors",
    "check",
    "check_answer",
    "document_defects",
    "document_examples",
    "errors",
    "json_schema",
    "names",
    "openapi_path",
    "read_form",
    "read_json",
    "read_xml",
    "registry",
    "request_errors",
    "validator",
    "xml_errors",
    "xml_root",
    "xml_roots",
    "xsd",
]
