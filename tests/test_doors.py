"""mockcarrier.doors: loopback, the Host check (DNS rebinding) and the Origin check
(cross-site forms), as plain functions."""

from __future__ import annotations

import pytest

from mockcarrier.doors import (
    cross_site,
    guarded_path,
    host_allowed,
    host_name,
    is_loopback,
    loopback_bind,
    served_names,
)


@pytest.mark.parametrize("address", ["127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1"])
def test_loopback_addresses_are_the_machine_itself(address: str) -> None:
    assert is_loopback(address)


@pytest.mark.parametrize("address", ["10.0.0.1", "192.168.1.5", "::ffff:10.0.0.1", "", "x"])
def test_other_addresses_are_not_loopback(address: str) -> None:
    assert not is_loopback(address)


def test_a_bind_address_is_loopback_only_for_the_machine_itself() -> None:
    assert loopback_bind("127.0.0.1") and loopback_bind("localhost") and loopback_bind("::1")
    assert (
        not loopback_bind("0.0.0.0") and not loopback_bind("::") and not loopback_bind("10.1.1.1")
    )


def test_host_names_lose_their_port() -> None:
    assert host_name("LocalHost:8080") == "localhost"
    assert host_name("[::1]:8080") == "::1"
    assert host_name("example.com.") == "example.com"


def test_ip_literals_loopback_names_and_the_bind_address_are_served() -> None:
    names = served_names("127.0.0.1")
    for host in ("127.0.0.1:8080", "localhost:8080", "[::1]:80", "10.2.3.4", "app.localhost"):
        assert host_allowed(host, names), host


def test_a_foreign_name_is_refused_unless_configured() -> None:
    """DNS rebinding: evil.example resolving to 127.0.0.1 still says Host: evil.example."""
    assert not host_allowed("evil.example:8080", served_names("127.0.0.1"))
    assert host_allowed("", served_names("127.0.0.1"))  # HTTP/1.0: no browser sends none
    assert host_allowed("mock:8080", served_names("127.0.0.1", ["mock"]))
    assert host_allowed("anything.example", served_names("127.0.0.1", ["*"]))


def test_a_state_change_from_another_origin_is_cross_site() -> None:
    assert cross_site("http://evil.example", None, "127.0.0.1:8080")
    assert cross_site(None, "http://evil.example/page", "127.0.0.1:8080")
    assert cross_site("null", None, "127.0.0.1:8080")
    assert cross_site("http://127.0.0.1:9999", None, "127.0.0.1:8080")  # another port


def test_the_mocks_own_pages_and_non_browsers_are_not_cross_site() -> None:
    assert not cross_site("http://127.0.0.1:8080", None, "127.0.0.1:8080")
    assert not cross_site(None, "http://localhost:8080/?account=J10003", "localhost:8080")
    assert not cross_site(None, None, "127.0.0.1:8080")  # curl, a test client


def test_only_admin_and_console_paths_are_guarded() -> None:
    assert guarded_path("/__admin/accounts") and guarded_path("/console/J10003/topup")
    assert not guarded_path("/sms/v2/std/single_send")
