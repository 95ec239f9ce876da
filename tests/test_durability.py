"""What the mock acknowledged survives kill -9 (issue: durable store, §3.3 unique ids)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from smsapi.msgid import segment_msgid

from .conftest import start_server, wait_for_reports


@pytest.mark.slow
def test_acknowledged_sends_survive_kill_9_and_ids_are_not_reused(
    tmp_path: Path, store_url: str
) -> None:
    first = start_server(tmp_path, store=store_url)
    client = first.client("REAL01", "real-pass")
    sent = [client.batch_send([f"1380013{i:04d}" for i in range(50)], f"第{n}批") for n in range(5)]
    assert all(s.result == 0 for s in sent)
    balance = client.get_balance().balance
    first.stop(signal.SIGKILL)

    second = start_server(tmp_path, db=first.db, store=store_url)
    try:
        client = second.client("REAL01", "real-pass")
        reports = wait_for_reports(client, 250, timeout=30)
        expected = {segment_msgid(s.msgid, p) for s in sent for p in range(1, 51)}
        assert {r["msgid"] for r in reports} == expected
        assert len(reports) == 250  # none handed out twice
        assert client.get_balance().balance == balance
        again = client.single_send("13800138000", "重启之后")
        assert again.msgid not in expected
    finally:
        second.stop()
