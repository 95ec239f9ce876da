"""smsapi.Client over geventhttpclient: Locust's FastHttpSession, without its events
(the load tests fire their own, per result code)."""

from __future__ import annotations

from typing import Any

import requests
from locust.contrib.fasthttp import FastHttpSession
from locust.event import EventHook

from smsapi import Client
from smsapi.client import Answer


class FastTransport:
    """A requests.Session look-alike (post only) on a FastHttpSession."""

    def __init__(self, base_url: str, timeout: float = 30.0, concurrency: int = 1) -> None:
        self.session = FastHttpSession(
            base_url,
            request_event=EventHook(),  # nobody listens: no Locust statistics from here
            user=None,
            connection_timeout=timeout,
            network_timeout=timeout,
            concurrency=concurrency,
        )

    def post(self, url: str, data: bytes, headers: dict[str, str], **_: Any) -> Answer:
        # locust annotates data as str | dict; it sends bytes as they are (its docstring)
        response = self.session.request("POST", url, data=data, headers=headers)  # type: ignore[arg-type]
        if response.status_code == 0:
            raise requests.ConnectionError(str(getattr(response, "error", "no answer")))
        # geventhttpclient lower-cases names; smsapi.Client looks up "Content-Type".
        answer_headers = {name.title(): value for name, value in (response.headers or {}).items()}
        return Answer(response.status_code, answer_headers, response.content or b"")


def fast_client(settings: Any) -> Client:
    """A smsapi.Client for the run's account on a fast transport; results are returned."""
    return Client(
        settings.target,
        settings.userid,
        settings.password,
        settings.apikey,
        fmt=settings.fmt,
        auth=settings.auth,
        raise_for_result=False,
        session=FastTransport(settings.target),
    )
