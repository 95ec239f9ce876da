"""Who may knock at which door (docs/reliability.md, "Open doors"):

- the admin API and the console are open without a token to loopback callers only;
- every request must name a served host (Host header), so a DNS-rebound name is refused;
- a state-changing admin or console request from a browser page must come from the
  mock's own origin (Origin, else Referer), so a cross-site form cannot top up a balance.

Plain functions over strings; mockcarrier.app applies them to every request.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]", "*"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ADMIN_PREFIXES = ("/__admin/", "/console/")


def is_loopback(address: str) -> bool:
    """127.0.0.0/8, ::1 (and ::ffff:127.x): the machine itself."""
    try:
        ip = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def loopback_bind(host: str) -> bool:
    """Whether a bind address is reachable from this machine only."""
    return host.lower() in LOOPBACK_NAMES or is_loopback(host)


def new_token() -> str:
    """The admin token a non-loopback `serve` makes when none is given."""
    return secrets.token_urlsafe(24)


def served_names(bind_host: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """Host names this mock answers to besides IP literals: loopback names, the bind
    address, the machine's own names when bound to every address, and the extras."""
    names = {*LOOPBACK_NAMES, bind_host.lower(), *(e.strip().lower().rstrip(".") for e in extra)}
    if bind_host in WILDCARD_HOSTS:
        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    return frozenset(n for n in names if n)


def host_name(host_header: str) -> str:
    """The name of a Host header, without its port ("[::1]:8080" → "::1")."""
    value = host_header.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")


def host_allowed(host_header: str, names: frozenset[str]) -> bool:
    """An IP literal cannot be rebound to another machine; a name must be one we serve.
    No Host at all (an HTTP/1.0 client) is no browser's: served."""
    name = host_name(host_header)
    if not name:
        return True
    if "*" in names or name in names or name.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    return True


def cross_site(origin: str | None, referer: str | None, host_header: str) -> bool:
    """Whether a browser says this request comes from a page of another origin. A
    request with neither header (curl, a test client) is no browser's cross-site form."""
    source = origin if origin is not None else referer
    if source is None or source == "":
        return False
    if source == "null":  # a sandboxed frame or a data: page
        return True
    parts = urlsplit(source)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return True
    return parts.netloc.lower() != host_header.strip().lower()


def guarded_path(path: str) -> bool:
    """Paths whose state-changing requests must come from the mock's own pages."""
    return path.startswith(ADMIN_PREFIXES)
