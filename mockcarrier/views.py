"""The six endpoints of attachment 6: read the request, let the carrier answer."""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from smsapi import answers
from smsapi.codec import Format, encode_answer, media_type_of, request_format
from smsapi.endpoints import BASE_PATH, ENDPOINTS, SEND_ENDPOINTS
from smsapi.errors import Result

from . import faults
from .service import Carrier, Handled

bp = Blueprint("sms", __name__)
log = logging.getLogger("mockcarrier.requests")


def carrier() -> Carrier:
    return current_app.extensions["mockcarrier"]


@bp.post(f"{BASE_PATH}/<name>")
def endpoint(name: str) -> Response:
    """POST /sms/v2/std/<name>, in JSON, XML or form (§2.x.4)."""
    started = time.perf_counter()
    if name not in ENDPOINTS:
        return Response(f"no endpoint {name}; see {BASE_PATH}/\n", 404, mimetype="text/plain")
    content_type = request.headers.get("Content-Type")
    status = 200
    try:
        body = read_body()
        handled = carrier().handle(
            name, body, request_format(content_type, body), request.remote_addr or ""
        )
    except RequestEntityTooLarge:
        # Over the body limit: refused unread, in the document's shape.
        status = 413
        code = Result.CONTENT_TOO_LONG if name in SEND_ENDPOINTS else Result.INTERNAL_ERROR
        fmt = request_format(content_type)
        handled = Handled(name, fmt, answers.failure_answer(name, code), reason="body too large")
    return respond(handled, content_type, status, started)


def read_body() -> bytes:
    """The body, refused past the limit. A chunked body has no Content-Length to check
    first: Werkzeug stops reading it at the limit and returns it cut short, so one more
    read tells a complete body from a cut one (RequestEntityTooLarge)."""
    body = request.get_data(cache=False)
    if len(body) >= current_app.config["MAX_CONTENT_LENGTH"]:
        request.stream.read(1)
    return body


def header_text(text: str) -> str:
    """One line of printable ASCII: a reason may quote the request's own bytes."""
    return "".join(c if " " <= c < "\x7f" else "?" for c in text)


def respond(handled: Handled, content_type: str | None, status: int, started: float) -> Response:
    media = media_type_of(content_type)
    xml_media = "text/xml" if media == "text/xml" else "application/xml"
    answer_fmt = handled.answer_fmt or (Format.XML if handled.fmt is Format.XML else Format.JSON)
    body, answer_type = encode_answer(handled.endpoint, handled.answer, answer_fmt, xml_media)
    response = Response(body, status, content_type=answer_type)
    if handled.fault is not None:  # fault injection on the wire (mockcarrier.faults)
        response = faults.on_the_wire(handled.fault, response, request.environ)
    if handled.reason:
        # Why a request failed: a header, so the body keeps the document's shape.
        response.headers["X-Mock-Reason"] = header_text(handled.reason)
    log.info(
        "%s %s %s %s result=%s %.1fms%s",
        request.remote_addr,
        handled.endpoint,
        handled.fmt.value,
        handled.userid or "-",
        handled.answer.get("result"),
        (time.perf_counter() - started) * 1000,
        f" ({handled.reason})" if handled.reason else "",
    )
    return response
