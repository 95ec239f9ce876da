"""kill -9 under load, then a restart on the same store (issue 8, faults).

Rules: every message the mock acknowledged has all its reports available by pull; no
report is handed out twice; no msgid is reused. A report can only go missing inside
a get_rpt answer the kill cut off (M6: taken in the transaction that builds the answer).
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from mockcarrier.ids import decompose
from mockcarrier.stores import Store

from .conftest import start_server
from .helpers import LOAD_USER, Load

EVERYTHING = 10**7  # a limit no test reaches


@pytest.mark.slow
def test_kill_9_under_load_loses_nothing_acknowledged(tmp_path: Path, store_url: str) -> None:
    first = start_server(tmp_path, "--workers", "2", "--threads", "4", store=store_url)
    retsize = 25
    before = Load(lambda: first.client(*LOAD_USER), senders=4, pollers=1, retsize=retsize)
    before.start()
    try:
        before.wait_for_acks(80)
        first.stop(signal.SIGKILL)  # master and workers at once, mid-request
    finally:
        before.stop()
    acked = before.expected()
    assert len(acked) == before.segment_count()  # §3.3 unique ids among acknowledged sends
    store = first.open_store()
    messages = store.messages(LOAD_USER[0], limit=EVERYTHING)
    last_counter = max(decompose(m["msgid"])[1] for m in messages)
    lost = cut_off(store, before, retsize)
    store.close()

    second = start_server(tmp_path, db=first.db, store=store_url)
    after = Load(lambda: second.client(*LOAD_USER), senders=0, pollers=1, retsize=retsize)
    after.start()
    try:
        after.wait_for_reports(acked - before.received() - lost)
        client = second.client(*LOAD_USER)
        fresh = client.batch_send(["13912000001", "13912000002"], "重启之后")
        assert fresh.result == 0
        # the counter went on from where the store was, not from the last acknowledged
        assert decompose(fresh.msgid)[1] > last_counter
        after.wait_for_reports({fresh.segment_id(1), fresh.segment_id(2)})
    finally:
        after.stop()
        second.stop()
    reports = before.reports + after.reports
    ids = [r["msgid"] for r in reports]
    assert len(ids) == len(set(ids)), "a report was handed out twice"
    assert acked <= set(ids) | lost


def cut_off(store: Store, load: Load, retsize: int) -> set[int]:
    """Reports the store marked taken that no poller received: they must all belong to
    get_rpt calls the kill cut off (each failed call took ≤ retsize reports; the stores
    keep no time per hand-out since reports are derived, so calls are not told apart)."""
    received = load.received()
    taken = store.reports(LOAD_USER[0], state="taken", limit=EVERYTHING)
    lost = {r["msgid"] for r in taken if r["msgid"] not in received}
    assert len(lost) <= retsize * load.poll_failures, f"{len(lost)} reports taken, never received"
    return lost
