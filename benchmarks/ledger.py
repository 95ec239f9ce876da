"""The report-matching ledger alone (smsapi.ledger), no HTTP: messages recorded in
1000-mobile batches, their reports matched, CPU time per report and memory per
outstanding message; then a long run in the year's mode (reports trailing the sends by
`--lag` messages, each message forgotten once reported) sampling the memory, to show it
stays flat. Baseline, same run: the bare §3.3 lookup (owner_msgid, one dict of ints).

    .venv/bin/python -m benchmarks.ledger [--messages 1000000 --year 5000000 --lag 50000]
"""

from __future__ import annotations

import argparse
import gc
import resource
import time
import tracemalloc
from collections.abc import Callable

from smsapi.ledger import Ledger
from smsapi.matching import owner_msgid, report_msgid, report_pknum
from smsapi.msgid import segment_msgid

BATCH = 1000
BASE = 7 << 38 | 100
CUSTID = "6020d107bc53cbb10f1e"


def mobiles_of(batch: int) -> list[str]:
    return [f"139{(batch * BATCH + k) % 90_000_000 + 10_000_000:08d}" for k in range(BATCH)]


def reports_of(batch: int, mobiles: list[str]) -> list[dict]:
    base = BASE + batch * BATCH
    return [
        {
            "msgid": segment_msgid(base, p),
            "custid": CUSTID,
            "pknum": 1,
            "pktotal": 1,
            "mobile": mobiles[p - 1],
            "status": 0,
            "errcode": "DELIVRD",
        }
        for p in range(1, BATCH + 1)
    ]


def bare(messages: int, batches: list[list[dict]]) -> float:
    """The least a §3.3 matcher does: index per-mobile ids, find each report's owner."""
    started = time.process_time()
    seen: dict[int, int] = {}
    for b in range(messages // BATCH):
        for p in range(BATCH):
            seen[BASE + b * BATCH + p] = 0
    for reports in batches:
        for report in reports:
            msgid = report_msgid(report)
            assert msgid is not None
            owner = owner_msgid(msgid, report_pknum(report))
            seen[owner] |= 1
    return time.process_time() - started


def ledger_run(messages: int, batches: list[list[dict]], **options: bool) -> tuple[float, float]:
    """CPU seconds to record and match everything; seconds of that spent matching."""
    ledger: Ledger[None] = Ledger(**options)  # type: ignore[arg-type]
    started = time.process_time()
    for b in range(messages // BATCH):
        ledger.sent(BASE + b * BATCH, mobiles_of(b), [CUSTID] * BATCH, [1] * BATCH, 0.0)
    recorded = time.process_time()
    with ledger.lock:
        for reports in batches:
            for report in reports:
                ledger.file(report, "pull", 1.0)
    done = time.process_time()
    assert ledger.reported_segments == messages and not ledger.unmatched and not ledger.findings
    return done - started, done - recorded


def bytes_per_message(messages: int, make: Callable[[], Ledger[None]]) -> float:
    """Memory the ledger holds per outstanding message (tracemalloc), the mobiles' strings
    included (the ledger keeps them alive)."""
    gc.collect()
    tracemalloc.start()
    ledger = make()
    for b in range(messages // BATCH):
        ledger.sent(BASE + b * BATCH, mobiles_of(b), [CUSTID] * BATCH, [1] * BATCH, 0.0)
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return held / messages


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def year_mode(messages: int, lag: int) -> list[tuple[int, float, int]]:
    """Sends and their reports `lag` messages behind, forgetting what is reported:
    (messages sent, RSS MB, messages held) every tenth of the run."""
    ledger: Ledger[None] = Ledger(custid_index=False, forget_complete=True)
    samples = []
    every = max(messages // BATCH // 10, 1)
    behind = lag // BATCH
    for b in range(messages // BATCH + behind):
        if b < messages // BATCH:
            ledger.sent(BASE + b * BATCH, mobiles_of(b), [CUSTID] * BATCH, [1] * BATCH, 0.0)
        if b >= behind:
            done = b - behind
            for report in reports_of(done, mobiles_of(done)):
                ledger.file(report, "pull", 1.0)
        if b % every == every - 1 and b < messages // BATCH:
            samples.append((min(b + 1, messages // BATCH) * BATCH, rss_mb(), ledger.held))
    assert ledger.pending == 0 and ledger.held == 0 and not ledger.unmatched
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--year", type=int, default=5_000_000, help="messages, flat-memory run")
    parser.add_argument("--lag", type=int, default=50_000, help="reports behind the sends")
    args = parser.parse_args()
    n = args.messages - args.messages % BATCH
    batches = [reports_of(b, mobiles_of(b)) for b in range(n // BATCH)]
    gc.collect()
    gc.freeze()  # the prepared reports are the carrier's, not the ledger's
    base_s = bare(n, batches)
    print(f"smsapi.ledger alone, {n:,} messages in {BATCH}-mobile batches, one report each")
    print(f"baseline (bare §3.3 lookup, dict of ints): {base_s:.2f} s CPU")
    for name, options in (
        ("year mode (msgid only, forgetting)", {"custid_index": False, "forget_complete": True}),
        ("suite / load-test mode (custid index)", {}),
    ):
        total, matching = ledger_run(n, batches, **options)
        print(
            f"{name}: {total:.2f} s CPU ({total - matching:.2f} recording, {matching:.2f} "
            f"matching: {matching / n * 1e6:.1f} µs a report); ratio to the baseline "
            f"{total / base_s:.1f}"
        )
    del batches
    gc.unfreeze()
    sample = min(n, 200_000)
    year = bytes_per_message(sample, lambda: Ledger(custid_index=False, forget_complete=True))
    suite = bytes_per_message(sample, Ledger)
    print(f"memory per outstanding message: year mode {year:.0f} B, custid index {suite:.0f} B")
    samples = year_mode(args.year - args.year % BATCH, args.lag)
    rss = [s[1] for s in samples]
    print(
        f"year mode, {args.year:,} messages, reports {args.lag:,} behind: RSS MB at each tenth "
        f"{' / '.join(f'{r:.0f}' for r in rss)}; messages held at the last send "
        f"{samples[-1][2]:,} (the lag), none once reported; "
        f"end / half way {rss[-1] / rss[len(rss) // 2 - 1]:.2f} (flat ≤ 1.2)"
    )


if __name__ == "__main__":
    main()
