"""Benchmark 4: a year of Chongqing Tongyu in compressed time: 15 000 000 messages sent
(1000-mobile batches and single sends), every report fetched by get_rpt and matched to
its message by §3.3 alone; wall time and peak memory (mock and driver), with memory
sampled along the way to show it stays flat. Targets in benchmarks/targets.py.
Baseline: the send rate alone would take messages / (rate of the first minute).

    .venv/bin/python -m benchmarks.year [--messages 15000000 --single-share 0.01]
        [--store redis [--instances 2]] [--results-dir DIR]
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import threading
import time
from typing import Any

from smsapi import Client
from smsapi.errors import SmsApiError
from smsapi.ledger import Ledger
from smsapi.tender import YEAR_MESSAGES  # issue 8: a year is the tender's volume

from .common import (
    Row,
    Run,
    checked,
    driver_cpu_s,
    machine,
    number,
    results_argument,
    serving,
    setup,
    store_argument,
    verdict,
)
from .targets import FLAT_MEMORY_GROWTH
from .transport import PoolTransport

BATCH = 1000
SHORT = "您的ETC已充值100元"
LONG = "通行费扣款通知：" * 12  # 2 segments


class YearTally:
    """The year's use of smsapi.ledger: §3.3 by msgid alone (every report carries it; no
    custid index), each message forgotten once fully reported (flat memory), and the
    senders' errors. Attribute names as the figures below read them."""

    def __init__(self) -> None:
        self.ledger: Ledger[None] = Ledger(custid_index=False, forget_complete=True)
        self.lock = self.ledger.lock
        self.errors: list[str] = []  # a sender stops at its first failed send

    def add(self, msgid: int, mobiles: list[str], custid: str, pktotal: int, at: float) -> None:
        """An accepted send; custid: the answer's (F13: the carrier's when none was sent)."""
        n = len(mobiles)
        self.ledger.sent(msgid, mobiles, [custid] * n, [pktotal] * n, at)

    def match(self, reports: list[dict]) -> None:
        now = time.time()
        with self.lock:
            for report in reports:
                self.ledger.file(report, "pull", now)

    @property
    def messages_sent(self) -> int:
        return self.ledger.messages

    @property
    def segments_sent(self) -> int:
        return self.ledger.expected_segments

    @property
    def matched(self) -> int:
        """Segments reported (each once)."""
        return self.ledger.reported_segments

    @property
    def duplicates(self) -> int:
        return self.ledger.duplicates

    @property
    def mismatched(self) -> int:
        """Reports whose fields disagree with their send (smsapi.ledger findings)."""
        return sum(self.ledger.findings.values())

    @property
    def early(self) -> list[Any]:
        """Reports matching no message (yet)."""
        return self.ledger.unmatched

    @property
    def open_messages(self) -> int:
        return self.ledger.messages - self.ledger.complete_messages


def sender(
    client: Client,
    ledger: YearTally,
    budget: list[int],
    lock: threading.Lock,
    single_share: float,
    n: int,
) -> None:
    counter = n * 10**7
    while True:
        with lock:
            # singles keep their share of what was sent so far, all along the run
            single = budget[1] < single_share * (budget[2] - budget[0])
            size = 1 if single else min(BATCH, budget[0])
            if budget[0] <= 0:
                return
            budget[0] -= size
            budget[1] += size if single else 0
        mobiles = [f"139{10_000_000 + (counter + k) % 90_000_000:08d}" for k in range(size)]
        counter += size
        text = (LONG if counter % 2 else SHORT) if single else SHORT
        sent_at = time.time()
        try:
            if single:
                answer = client.single_send(mobiles[0], text)
            else:
                answer = client.batch_send(mobiles, text)
        except SmsApiError as exc:
            ledger.errors.append(f"send failed: {exc}")
            return
        if answer.result != 0:
            ledger.errors.append(f"send refused: {answer.answer}")
            return
        ledger.add(answer.msgid, mobiles, answer.custid, 2 if text is LONG else 1, sent_at)


def poller(client: Client, ledger: YearTally, stop: threading.Event) -> None:
    while not stop.is_set():
        reports = client.get_rpt(500).items
        ledger.match(reports)
        if not reports:
            stop.wait(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=YEAR_MESSAGES)
    parser.add_argument(
        "--single-share", type=float, default=0.01, help="share of messages sent by single_send"
    )
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--pollers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--time-scale", default="1000", help="delivery latencies run faster")
    parser.add_argument(
        "--store-retention",
        type=int,
        default=60,
        help="Redis store: seconds what was handed out is kept (a compressed year stays flat)",
    )
    store_argument(parser, instances=True)
    results_argument(parser)
    args = checked(parser)
    run = Run("year", args)
    ledger = YearTally()
    budget = [args.messages, 0, args.messages]  # left to send, sent by singles, total
    lock, stop = threading.Lock(), threading.Event()
    samples: list[tuple[float, float, int]] = []  # (elapsed, mock RSS MB, matched)
    held: list[float] = []  # each second: mock and redis-server RSS, MB
    extra = ("--time-scale", args.time_scale)
    n = args.instances
    kept = f"?retention={args.store_retention}"
    with serving(
        "mock", args.workers, args.threads, *extra, store=args.store, instances=n, store_query=kept
    ) as mock:
        turn = itertools.cycle(mock.urls)  # senders and pollers spread over the instances
        # urllib3 alone: the driver shares the mock's cores (benchmarks/transport.py)
        make = lambda: Client(next(turn), "YEAR01", "year-pass", session=PoolTransport())  # noqa: E731
        started = time.perf_counter()
        cpu_at_start = (mock.cpu_s(), mock.store_cpu_s(), driver_cpu_s())
        senders = [
            threading.Thread(
                target=sender,
                args=(make(), ledger, budget, lock, args.single_share, n),
                daemon=True,
            )
            for n in range(args.senders)
        ]
        pollers = [
            threading.Thread(target=poller, args=(make(), ledger, stop), daemon=True)
            for _ in range(args.pollers)
        ]
        for thread in senders + pollers:
            thread.start()
        last_print = last_progress = started
        last_matched = -1
        while True:
            time.sleep(1)
            now = time.perf_counter()
            samples.append((now - started, mock.rss_mb(), ledger.matched))
            held.append(samples[-1][1] + mock.store_rss_mb())
            if ledger.matched != last_matched:
                last_matched, last_progress = ledger.matched, now
            sending = any(t.is_alive() for t in senders)
            if not sending and ledger.matched + ledger.duplicates >= ledger.segments_sent:
                break
            if now - last_progress > 120:
                print("no report for 120 s: giving up")
                break
            if now - last_print >= 30:
                last_print = now
                print(
                    f"  {now - started:6.0f} s  sent {ledger.messages_sent:>10}  "
                    f"matched {ledger.matched:>10}  open messages {ledger.open_messages:>6}  "
                    f"mock RSS {samples[-1][1]:6.0f} MB",
                    flush=True,
                )
        wall = time.perf_counter() - started
        cpu_at_end = (mock.cpu_s(), mock.store_cpu_s(), driver_cpu_s())
        stop.set()
        store_mb, store_rss = mock.store_disk_mb(), mock.store_rss_mb()
    driver_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak = max(s[1] for s in samples)
    quarters = [
        samples[min(len(samples) - 1, int(q * len(samples)))][1] for q in (0.25, 0.5, 0.75, 1.0)
    ]
    first_minute = [s for s in samples if s[0] <= 60]
    print(f"a year in compressed time — {machine()}")
    print(
        f"{setup(args)}; {args.senders} senders, "
        f"{args.pollers} pollers; singles {args.single_share:.0%} of messages; "
        f"time scale {args.time_scale}"
    )
    print(
        f"messages sent {ledger.messages_sent}, segments {ledger.segments_sent}, reports "
        f"matched by §3.3 {ledger.matched}, duplicates {ledger.duplicates}, mismatched "
        f"{ledger.mismatched}, unmatched {len(ledger.early)}"
    )
    for error in ledger.errors:
        print(f"  {error}")
    year = wall * YEAR_MESSAGES / max(ledger.messages_sent, 1)  # the target is for a year
    # Where the time goes: CPU a message of the mock, its redis-server and this driver,
    # all on the same cores (the mock's own share is what the store's design decides).
    mock_cpu, store_cpu, driver_cpu = (
        (end - begin) / max(ledger.messages_sent, 1) * 1e6
        for begin, end in zip(cpu_at_start, cpu_at_end, strict=True)
    )
    cores = os.cpu_count() or 1
    busy = (mock_cpu + store_cpu + driver_cpu) * ledger.messages_sent / 1e6 / wall
    projected = "" if args.messages == YEAR_MESSAGES else f", projected to a year {year:.0f} s"
    figures: dict[str, Any] = {
        "messages": ledger.messages_sent,
        "segments": ledger.segments_sent,
        "matched": ledger.matched,
        "duplicates": ledger.duplicates,
        "mismatched": ledger.mismatched,
        "unmatched": len(ledger.early),
        "send_errors": len(ledger.errors),
        "all_matched": int(
            ledger.matched == ledger.segments_sent > 0
            and not (ledger.duplicates or ledger.mismatched or ledger.early or ledger.errors)
        ),
        "wall_s": wall,
        "messages_per_s": ledger.messages_sent / wall,
        "year_s": year,
        "mock_rss_peak_mb": peak,
        "mock_rss_quarters_mb": quarters,
        "driver_peak_mb": driver_mb,
        "store_disk_mb": store_mb,
        "store_rss_end_mb": store_rss,
        "mock_cpu_us_per_message": mock_cpu,
        "store_cpu_us_per_message": store_cpu,
        "driver_cpu_us_per_message": driver_cpu,
        "cores": cores,
        "cores_busy": busy,
        "held_peak_mb": max(held),
        # flat: what mock and redis-server hold at the end against half way through
        "memory_growth": held[-1] / held[len(held) // 2],
    }
    print(
        f"wall time {wall:.0f} s ({ledger.messages_sent / wall:.0f} messages/s){projected}; "
        f"{verdict('year', args.store, figures)}"
    )
    baseline = "no report matched in the first minute"
    if first_minute and first_minute[-1][2]:
        rate = first_minute[-1][2] / first_minute[-1][0]
        steady = ledger.segments_sent / rate
        figures["baseline_s"], figures["ratio"] = steady, wall / steady
        print(
            f"baseline: at the first minute's matched rate ({rate:.0f}/s) the run would "
            f"take {steady:.0f} s; ratio wall / that {wall / steady:.2f} (1.00 = no slowdown)"
        )
        baseline = f"at the first minute's matched rate ({number(rate)}/s): {number(steady)} s"
    print(
        f"mock RSS peak {peak:.0f} MB; at 25/50/75/100 % of the run "
        f"{' / '.join(f'{q:.0f}' for q in quarters)} MB; driver peak {driver_mb:.0f} MB; "
        f"store on disk {store_mb:.0f} MB"
        + (f"; redis-server RSS at the end {store_rss:.0f} MB" if args.store == "redis" else "")
    )
    redis_cpu = f", redis-server {store_cpu:.0f}" if args.store == "redis" else ""
    cpu_text = (
        f"CPU a message: mock {mock_cpu:.0f} µs{redis_cpu}, driver {driver_cpu:.0f} µs "
        f"({busy:.1f} of {cores} cores busy)"
    )
    print(cpu_text)
    print(
        f"mock + store memory at the end / half way: {figures['memory_growth']:.2f} "
        f"(flat ≤ {FLAT_MEMORY_GROWTH})"
    )
    store_memory = f", redis-server {store_rss:.0f} MB at the end" if args.store == "redis" else ""
    row = Row(
        title=f"a year: {number(args.messages)} messages ({args.single_share:.0%} single_send, "
        f"the rest 1000-mobile batches), every report pulled and matched by §3.3",
        figure=f"{wall:.0f} s wall ({number(ledger.messages_sent / wall)} messages/s)"
        + (f", {number(year)} s projected to a year" if projected else "")
        + f"; {number(ledger.matched)} of {number(ledger.segments_sent)} reports matched, "
        f"{ledger.duplicates} duplicates, {ledger.mismatched} mismatched, "
        f"{len(ledger.early)} unmatched, {len(ledger.errors)} send failures; "
        f"mock RSS peak {peak:.0f} MB ({' / '.join(f'{q:.0f}' for q in quarters)} MB at "
        f"25/50/75/100 %){store_memory}, memory end / half way "
        f"{figures['memory_growth']:.2f}; store {store_mb:.0f} MB on disk; {cpu_text}",
        baseline=baseline,
        figures=figures,
        headline="wall_s",
    )
    run.save([row], {"samples": samples, "held_mb": held, "errors": ledger.errors})


if __name__ == "__main__":
    main()
