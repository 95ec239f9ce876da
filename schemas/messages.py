"""Which schema describes which message: endpoints and pushes to message names and XML roots."""

from __future__ import annotations

from dataclasses import dataclass

from smsapi.endpoints import ENDPOINTS


@dataclass(frozen=True)
class Messages:
    """The two messages of one exchange: the request and its answer."""

    request: str
    answer: str
    request_root: str | None = None  # XML root (the pushes travel as form and JSON only)
    answer_root: str | None = None


# §2.1 to §2.6: the six endpoints, in JSON, XML or form.
ENDPOINT_MESSAGES: dict[str, Messages] = {
    name: Messages(f"{name}_request", f"{name}_response", e.request_root, e.answer_root)
    for name, e in ENDPOINTS.items()
}
# §2.7 / §2.8: the carrier's pushes (form requests, JSON answers), keyed by their cmd.
PUSH_MESSAGES: dict[str, Messages] = {
    "MO_REQ": Messages("push_mo_request", "push_mo_response"),
    "RPT_REQ": Messages("push_rpt_request", "push_rpt_response"),
}
# Items described by their own file, reached through $ref from the messages above.
ITEM_MESSAGES = ("multimt_item", "mo_item", "rpt_item")


def xml_root(message: str) -> str | None:
    """The XML root of a message name (single_send_request → mtreq), None if it has none."""
    for messages in ENDPOINT_MESSAGES.values():
        if message == messages.request:
            return messages.request_root
        if message == messages.answer:
            return messages.answer_root
    return None


def xml_roots() -> list[str]:
    """Every XML root of the interface (the names of the XSD files)."""
    roots = {m.request_root for m in ENDPOINT_MESSAGES.values()}
    roots |= {m.answer_root for m in ENDPOINT_MESSAGES.values()}
    return sorted(r for r in roots if r)
