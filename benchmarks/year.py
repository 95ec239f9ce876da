"""Benchmark 4: a year of Chongqing Tongyu in compressed time: 15 000 000 messages sent
(1000-mobile batches and single sends), every report fetched by get_rpt and matched to
its message by §3.3 alone; wall time and peak memory (mock and driver), with memory
sampled along the way to show it stays flat. Target ≤ 15 minutes, memory flat.
Baseline: the send rate alone would take messages / (rate of the first minute).

    .venv/bin/python -m benchmarks.year [--messages 15000000 --single-share 0.01]
"""

from __future__ import annotations

import argparse
import bisect
import resource
import threading
import time
from dataclasses import dataclass, field

from smsapi import Client
from smsapi.errors import SmsApiError
from smsapi.msgid import SEGMENT_STRIDE, segment_msgid, wrap_int64

from .common import machine, serving, store_argument, verdict

TARGET_S = 15 * 60
YEAR_MESSAGES = 15_000_000  # issue 8: "15 000 000 messages sent"
BATCH = 1000
SHORT = "您的ETC已充值100元"
LONG = "通行费扣款通知：" * 12  # 2 segments


@dataclass
class Sent:
    """One acknowledged send: n mobiles of pktotal segments, each report seen once."""

    base: int
    n: int
    pktotal: int
    seen: bytearray = field(init=False)
    remaining: int = field(init=False)

    def __post_init__(self) -> None:
        self.seen = bytearray(self.n * self.pktotal)
        self.remaining = self.n * self.pktotal


class Ledger:
    """Sends not fully reported yet, found by the §3.3 arithmetic of a report's msgid."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.bases: list[int] = []
        self.sends: dict[int, Sent] = {}
        self.early: list[dict] = []  # reports that came before their send was noted
        self.messages_sent = 0
        self.segments_sent = 0
        self.matched = 0
        self.duplicates = 0
        self.mismatched = 0
        self.errors: list[str] = []  # a sender stops at its first failed send

    def add(self, sent: Sent) -> None:
        with self.lock:
            bisect.insort(self.bases, sent.base)
            self.sends[sent.base] = sent
            self.messages_sent += sent.n
            self.segments_sent += sent.n * sent.pktotal

    def match(self, reports: list[dict]) -> None:
        with self.lock:
            pending, self.early = self.early + reports, []
            for report in pending:
                if not self._match(report):
                    self.early.append(report)

    def _match(self, report: dict) -> bool:
        pknum, msgid = int(report["pknum"]), int(report["msgid"])
        mobile_id = wrap_int64(msgid - (pknum - 1) * SEGMENT_STRIDE)  # §3.3 backwards
        i = bisect.bisect_right(self.bases, mobile_id) - 1
        if i < 0 or mobile_id >= self.bases[i] + self.sends[self.bases[i]].n:
            return False
        sent = self.sends[self.bases[i]]
        position = mobile_id - sent.base + 1
        if segment_msgid(sent.base, position, pknum) != msgid or report["pktotal"] != sent.pktotal:
            self.mismatched += 1
            return True
        index = (position - 1) * sent.pktotal + pknum - 1
        if sent.seen[index]:
            self.duplicates += 1
            return True
        sent.seen[index] = 1
        sent.remaining -= 1
        self.matched += 1
        if sent.remaining == 0:
            del self.sends[sent.base]
            self.bases.pop(i)
        return True


def sender(
    client: Client,
    ledger: Ledger,
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
        ledger.add(Sent(answer.msgid, size, 2 if text is LONG else 1))


def poller(client: Client, ledger: Ledger, stop: threading.Event) -> None:
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
    store_argument(parser)
    args = parser.parse_args()
    ledger = Ledger()
    budget = [args.messages, 0, args.messages]  # left to send, sent by singles, total
    lock, stop = threading.Lock(), threading.Event()
    samples: list[tuple[float, float, int]] = []  # (elapsed, mock RSS MB, matched)
    extra = ("--time-scale", args.time_scale)
    with serving("mock", args.workers, args.threads, *extra, store=args.store) as mock:
        make = lambda: Client(mock.url, "YEAR01", "year-pass")  # noqa: E731
        started = time.perf_counter()
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
                    f"matched {ledger.matched:>10}  open sends {len(ledger.sends):>5}  "
                    f"mock RSS {samples[-1][1]:6.0f} MB",
                    flush=True,
                )
        wall = time.perf_counter() - started
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
        f"{args.store} store, gunicorn {args.workers} workers x {args.threads} threads; "
        f"{args.senders} senders, "
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
    projected = "" if args.messages == YEAR_MESSAGES else f", projected to a year {year:.0f} s"
    print(
        f"wall time {wall:.0f} s ({ledger.messages_sent / wall:.0f} messages/s){projected}; "
        f"target ≤ {TARGET_S} s for {YEAR_MESSAGES:,} messages: {verdict(-year, -TARGET_S)}"
    )
    if first_minute and first_minute[-1][2]:
        rate = first_minute[-1][2] / first_minute[-1][0]
        steady = ledger.segments_sent / rate
        print(
            f"baseline: at the first minute's matched rate ({rate:.0f}/s) the run would "
            f"take {steady:.0f} s; ratio wall / that {wall / steady:.2f} (1.00 = no slowdown)"
        )
    print(
        f"mock RSS peak {peak:.0f} MB; at 25/50/75/100 % of the run "
        f"{' / '.join(f'{q:.0f}' for q in quarters)} MB; driver peak {driver_mb:.0f} MB; "
        f"store on disk {store_mb:.0f} MB"
        + (f"; redis-server RSS at the end {store_rss:.0f} MB" if args.store == "redis" else "")
    )


if __name__ == "__main__":
    main()
