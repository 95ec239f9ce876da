"""benchmarks.transport.PoolTransport: what smsapi.Client gets through it is what it gets
through requests, failures included."""

from __future__ import annotations

import pytest

from benchmarks.transport import PoolTransport
from smsapi import Client, TransportError
from smsapi import client as client_module

from .helpers import ports_around_a_pause

UNREACHABLE = "http://127.0.0.1:9"  # nothing listens here


def test_a_send_through_the_pool_is_answered_as_through_requests(demo: Client) -> None:
    pooled = Client(demo.base_url, demo.userid, demo.password, session=PoolTransport())
    sent = pooled.single_send("13800138000", "您的ETC已充值100元")
    assert sent.result == 0 and sent.msgid
    assert pooled.get_balance().answer.keys() == demo.get_balance().answer.keys()
    assert pooled.last_exchange is not None
    assert pooled.last_exchange.answer_headers["Content-Type"].startswith("application/json")


def test_a_carrier_that_is_gone_is_a_transport_error() -> None:
    with pytest.raises(TransportError):
        Client(UNREACHABLE, "J10003", "111111", session=PoolTransport()).get_balance()


def test_a_pause_drops_the_pooled_connection_as_on_requests(answering: str, monkeypatch) -> None:
    """smsapi.Client closes its transport after IDLE_RECONNECT_SECONDS unused (a server
    may be closing the connection): close() drops the pool, so the next call connects."""
    monkeypatch.setattr(client_module, "IDLE_RECONNECT_SECONDS", 0.2)
    client = Client(answering, "J10003", "111111", session=PoolTransport())
    first, again, after_idle = ports_around_a_pause(client)
    assert again == first
    assert after_idle != first
