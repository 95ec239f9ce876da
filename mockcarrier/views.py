"""The six endpoints of attachment 6: read the request, let the carrier answer."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse  # what faults.on_the_wire makes

from smsapi import answers
from smsapi.codec import Format, charset_of, encode_answer, media_type_of, request_format
from smsapi.endpoints import BASE_PATH, ENDPOINTS, SEND_ENDPOINTS
from smsapi.errors import Result

from . import faults
from .service import Carrier, Handled

bp = Blueprint("sms", __name__)
# environ key: why the request body could not be read off the connection (set by
# mockcarrier.worker: broken chunked framing, a body that never came); answered 400.
BODY_ERROR = "mockcarrier.body_error"
# app.extensions key: environ → whether mockcarrier.worker may run the request on its
# event loop instead of a thread (runs_inline).
RUNS_INLINE = "mockcarrier.runs_inline"
log = logging.getLogger("mockcarrier.requests")


def carrier() -> Carrier:
    return current_app.extensions["mockcarrier"]


def runs_inline(carrier: Carrier, environ: Mapping[str, Any]) -> bool:
    """The six endpoints, when the carrier says they may (Carrier.runs_inline); the
    admin API and the console always run on the threads (bulk work, exports)."""
    return environ.get("PATH_INFO", "").startswith(f"{BASE_PATH}/") and carrier.runs_inline()


@bp.post(f"{BASE_PATH}/<name>")
def endpoint(name: str) -> BaseResponse:
    """POST /sms/v2/std/<name>, in JSON, XML or form (§2.x.4)."""
    if name not in ENDPOINTS:
        return off_the_interface(404, f"no endpoint {name}")
    return answer_post(carrier(), name, request.environ, read_body)


def answer_post(
    carrier: Carrier, name: str, environ: dict[str, Any], read: Callable[[], bytes]
) -> BaseResponse:
    """One of the six endpoints' answers: the body `read` gives, handled by the carrier,
    in the request's format. Plain WSGI terms, no Flask context: mockcarrier.direct
    calls it too."""
    started = time.perf_counter()
    content_type = environ.get("CONTENT_TYPE")
    remote_addr = environ.get("REMOTE_ADDR") or ""
    status = 200
    try:
        body = read()
        handled = carrier.handle(
            name, body, request_format(content_type, body), remote_addr, charset_of(content_type)
        )
        carrier.note_flagged(handled, remote_addr)
    except UnreadableBody as exc:
        # Broken framing or a body that never came (mockcarrier.worker): no request.
        status = 400
        fmt = request_format(content_type)
        handled = Handled(
            name, fmt, answers.failure_answer(name, Result.AUTH_FAILED), reason=str(exc)
        )
    except RequestEntityTooLarge:
        # Over the body limit: refused unread, in the document's shape.
        status = 413
        code = Result.CONTENT_TOO_LONG if name in SEND_ENDPOINTS else Result.INTERNAL_ERROR
        fmt = request_format(content_type)
        handled = Handled(name, fmt, answers.failure_answer(name, code), reason="body too large")
    return respond(handled, content_type, status, started, environ)


class UnreadableBody(Exception):
    """The body could not be read off the connection (BODY_ERROR says why)."""


@bp.app_errorhandler(404)
@bp.app_errorhandler(405)
def off_the_path(exc: HTTPException) -> Response | HTTPException:
    """GET on an endpoint, an unknown path under /sms/v2/std: answered in the interface's
    terms (other paths keep Flask's answer). Allow stays POST (, OPTIONS)."""
    if request.path != BASE_PATH and not request.path.startswith(f"{BASE_PATH}/"):
        return exc
    if exc.code == 405:
        name = request.path.rsplit("/", 1)[-1]
        response = off_the_interface(405, f"{name} takes POST only (§2.x.3), not {request.method}")
        response.headers["Allow"] = exc.get_response().headers.get("Allow", "POST")
        return response
    return off_the_interface(404, f"no endpoint at {request.path}")


def off_the_interface(status: int, reason: str) -> Response:
    """A request no endpoint takes: JSON with a §4 code (-100999, the document has no
    'no such endpoint') and the reason, the endpoints listed; X-Mock-Reason as always."""
    body = {
        "result": int(Result.INTERNAL_ERROR),
        "reason": reason,
        "endpoints": [f"POST {e.path}" for e in ENDPOINTS.values()],
    }
    response = Response(
        json.dumps(body, ensure_ascii=False), status, content_type="application/json; charset=utf-8"
    )
    response.headers["X-Mock-Reason"] = header_text(reason)
    return response


def read_body() -> bytes:
    """The body, refused past the limit. A chunked body has no Content-Length to check
    first: Werkzeug stops reading it at the limit and returns it cut short, so one more
    read tells a complete body from a cut one (RequestEntityTooLarge)."""
    problem = request.environ.get(BODY_ERROR)
    if problem:
        raise UnreadableBody(problem)
    body = request.get_data(cache=False)
    if len(body) >= current_app.config["MAX_CONTENT_LENGTH"]:
        request.stream.read(1)
    return body


def header_text(text: str) -> str:
    """One line of printable ASCII: a reason may quote the request's own bytes."""
    return "".join(c if " " <= c < "\x7f" else "?" for c in text)


def respond(
    handled: Handled,
    content_type: str | None,
    status: int,
    started: float,
    environ: dict[str, Any],
) -> BaseResponse:
    media = media_type_of(content_type)
    xml_media = "text/xml" if media == "text/xml" else "application/xml"
    answer_fmt = handled.answer_fmt or (Format.XML if handled.fmt is Format.XML else Format.JSON)
    body, answer_type = encode_answer(handled.endpoint, handled.answer, answer_fmt, xml_media)
    response: BaseResponse = Response(body, status, content_type=answer_type)
    if handled.fault is not None:  # fault injection on the wire (mockcarrier.faults)
        response = faults.on_the_wire(handled.fault, response, environ)
    if handled.reason:
        # Why a request failed: a header, so the body keeps the document's shape.
        response.headers["X-Mock-Reason"] = header_text(handled.reason)
    if handled.warnings:
        # What a real carrier takes silently but the client got wrong (W1-W4, A1, A2).
        response.headers["X-Mock-Warning"] = header_text("; ".join(handled.warnings))
    remote_addr = environ.get("REMOTE_ADDR") or "-"
    log.info(
        "%s %s %s %s result=%s %.1fms%s",
        remote_addr,
        handled.endpoint,
        handled.fmt.value,
        handled.userid or "-",
        handled.answer.get("result"),
        (time.perf_counter() - started) * 1000,
        f" ({handled.reason})" if handled.reason else "",
    )
    if handled.warnings:
        log.warning("%s %s flagged: %s", remote_addr, handled.endpoint, handled.warnings)
    return response
