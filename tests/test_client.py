"""smsapi.Client: errors a caller meets stay inside the SmsApiError hierarchy."""

from __future__ import annotations

import time

import pytest
import requests

from smsapi import Client, ContentEncodingError, SmsApiError
from smsapi import client as client_module

from .helpers import Answering, ports_around_a_pause

# Nothing listens here: content is encoded before any request, so none is made.
UNREACHABLE = "http://127.0.0.1:9"


@pytest.mark.parametrize(
    "send",
    [
        lambda c: c.single_send("13800138000", "测试表情😀"),
        lambda c: c.batch_send(["13800138000"], "测试表情😀"),
        lambda c: c.multi_send([{"mobile": "13800138000", "content": "测试表情😀"}]),
    ],
    ids=["single_send", "batch_send", "multi_send"],
)
def test_content_gbk_cannot_carry_raises_an_sms_api_error_naming_the_character(send):
    client = Client(UNREACHABLE, "J10003", "111111")
    with pytest.raises(SmsApiError) as caught:
        send(client)
    assert isinstance(caught.value, ContentEncodingError)
    message = str(caught.value)
    assert "😀" in message and "U+1F600" in message and "position 4" in message
    assert "GBK" in message


def test_content_encoding_error_is_still_a_unicode_encode_error():
    """Callers that caught UnicodeEncodeError before keep working."""
    with pytest.raises(UnicodeEncodeError):
        Client(UNREACHABLE, "J10003", "111111").single_send("13800138000", "😀")


def test_a_connection_left_idle_is_not_reused(answering: str, monkeypatch) -> None:
    """A server may close an idle keep-alive connection as the next request goes out
    (a reset that says nothing of the carrier): after IDLE_RECONNECT_SECONDS unused,
    the next request opens a fresh connection; back to back, one connection serves."""
    monkeypatch.setattr(client_module, "IDLE_RECONNECT_SECONDS", 0.2)
    first, again, after_idle = ports_around_a_pause(Client(answering, "J10003", "111111"))
    assert again == first
    assert after_idle != first


def test_a_connection_left_idle_is_not_reused_by_a_new_client_of_the_session(
    answering: str, monkeypatch
) -> None:
    """The suite makes a Client per call on one session: the idle clock is the
    session's, so a new Client does not send on a connection the server may be closing."""
    monkeypatch.setattr(client_module, "IDLE_RECONNECT_SECONDS", 0.2)
    session = requests.Session()
    Client(answering, "J10003", "111111", session=session).get_balance()
    Client(answering, "J10003", "111111", session=session).get_balance()
    time.sleep(0.3)  # the idleness under test, not a wait for anything
    Client(answering, "J10003", "111111", session=session).get_balance()
    first, again, after_idle = Answering.ports
    assert again == first
    assert after_idle != first


def test_the_pool_is_not_dropped_under_a_request_in_flight(monkeypatch) -> None:
    """Idle long enough, but another thread's request is on the pool: dropping it would
    cut that request; the pool is dropped once nothing is in flight."""
    monkeypatch.setattr(client_module, "IDLE_RECONNECT_SECONDS", 0.0)
    closed: list[int] = []
    use = client_module.SessionUse()
    use.start(lambda: closed.append(1))  # idle: dropped, then in flight
    use.start(lambda: closed.append(2))  # the first still in flight: kept
    use.end()
    use.end()
    use.start(lambda: closed.append(3))
    assert closed == [1, 3]


def test_the_environment_is_read_when_the_client_is_made_not_per_request(
    answering: str, monkeypatch
) -> None:
    """requests reads the proxy settings and looks for ~/.netrc on every request of a
    session that trusts the environment (a fifth of a call's CPU); a Client's own
    session reads them once."""
    read: list[str] = []
    proxies, netrc = requests.sessions.get_environ_proxies, requests.sessions.get_netrc_auth
    monkeypatch.setattr(
        requests.sessions,
        "get_environ_proxies",
        lambda *a, **k: read.append("proxies") or proxies(*a, **k),
    )
    monkeypatch.setattr(
        requests.sessions, "get_netrc_auth", lambda *a, **k: read.append("netrc") or netrc(*a, **k)
    )
    client = Client(answering, "J10003", "111111")
    made = list(read)
    for _ in range(3):
        client.get_balance()
    assert made == ["proxies"]
    assert read == made


def test_a_proxy_the_environment_names_carries_the_requests(answering: str, monkeypatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", answering)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    Client("http://carrier.invalid:8080", "J10003", "111111").get_balance()
    assert Answering.targets == ["http://carrier.invalid:8080/sms/v2/std/get_balance"]


def test_no_proxy_still_sends_straight_to_the_carrier(answering: str, monkeypatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", UNREACHABLE)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    Client(answering, "J10003", "111111").get_balance()
    assert Answering.targets == ["/sms/v2/std/get_balance"]
