"""smsapi.Client over urllib3's pool alone, for the benchmark drivers that share the
machine's cores with the mock they measure.

requests wraps the same pool, and adds work to every call (settings merged, cookies,
hooks, a PreparedRequest): a get_balance cost its client about 2.0 ms of CPU through
requests and 0.9 ms here, CPU a driver on the mock's own two cores takes from the mock.
"""

from __future__ import annotations

import requests
import urllib3

from smsapi.client import Answer


class PoolTransport:
    """A requests.Session look-alike (post and close) on a urllib3.PoolManager."""

    def __init__(self) -> None:
        # No retries: a send is never made twice (as requests' default, max_retries 0).
        self.pool = urllib3.PoolManager(maxsize=1, retries=False)

    def post(self, url: str, *, data: bytes, headers: dict[str, str], timeout: float) -> Answer:
        try:
            answer = self.pool.request("POST", url, body=data, headers=headers, timeout=timeout)
        except urllib3.exceptions.HTTPError as exc:  # smsapi.Client makes it a TransportError
            raise requests.ConnectionError(str(exc)) from exc
        return Answer(answer.status, dict(answer.headers), answer.data)

    def close(self) -> None:
        """Drop the pooled connections (smsapi.Client does after a pause: client.py)."""
        self.pool.clear()
