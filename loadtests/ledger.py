"""The load test's ledger: every request, every accepted message and every status report
of a run, reports matched by smsapi.ledger (the §3.3 rules the suite and the benchmarks
apply too), measured in HDR histograms.

It runs in one process (Locust's master, or the only process): senders, pollers and push
receivers anywhere ship plain records to it, so a report is matched whichever process
received it. Times are wall-clock seconds (time.time()), comparable across processes of
one machine (or machines with synchronised clocks).

Delivery time is the client's own clock, send start → report arrival, and the carrier's
stime / rtime are cross-checked against it (smsapi.timing): a stamp before the send or
after the arrival, beyond the clock skew, is noted. A report whose msgid names a message
of another mobile or custid is matched by custid + mobile instead (noted as a matching
fault, still a delivery).
"""

from __future__ import annotations

import base64
import math
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

from smsapi.ledger import PKTOTAL, FiledReport, Ledger
from smsapi.timing import CLOCK_SKEW_S

# Histograms in microseconds, 1 µs to 1 hour, 3 significant digits: percentiles exact to 0.1 %.
HDR_RANGE = (1, 3_600_000_000, 3)
PERCENTILES = (50, 95, 99)
CHANNELS = ("push", "poll")
MAX_ORPHANS = 100_000  # unmatched reports kept (the rest counted): memory stays bounded
# A run allowed more messages than this forgets each one fully reported (smsapi.ledger
# forget_complete): memory stays flat over a year of 15 M; a duplicate of a forgotten
# message then counts as an unmatched report, not a duplicate.
FORGET_ABOVE = 1_000_000
LOST = "lost"  # errcode recorded for a segment with no report by the end of the drain


def new_histogram() -> HdrHistogram:
    return HdrHistogram(*HDR_RANGE)


def record(histogram: HdrHistogram, seconds: float) -> None:
    histogram.record_value(min(max(int(seconds * 1e6), 1), HDR_RANGE[1]))


def percentiles(histogram: HdrHistogram) -> dict[str, Any]:
    """count, min, mean, p50, p95, p99, max in milliseconds (None when empty)."""
    count = histogram.get_total_count()
    if not count:
        return {
            "count": 0,
            **dict.fromkeys(["min_ms", "mean_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms"]),
        }
    data: dict[str, Any] = {
        "count": count,
        "min_ms": round(histogram.get_min_value() / 1000, 3),
        "mean_ms": round(histogram.get_mean_value() / 1000, 3),
    }
    for p in PERCENTILES:
        data[f"p{p}_ms"] = round(histogram.get_value_at_percentile(p) / 1000, 3)
    data["max_ms"] = round(histogram.get_max_value() / 1000, 3)
    return data


def encoded(histogram: HdrHistogram) -> str:
    """The histogram in HdrHistogram's compressed base64 form (decode with hdrh)."""
    raw = histogram.encode()
    return raw.decode("ascii") if isinstance(raw, bytes) else base64.b64encode(raw).decode()


def buckets(histogram: HdrHistogram, width_ms: float) -> list[list[float]]:
    """[[lower_ms, count], ...] in linear buckets: what a histogram plot draws."""
    counts: Counter[int] = Counter()
    for item in histogram.get_recorded_iterator():
        index = int(item.value_iterated_to / 1000 // width_ms)
        counts[index] += item.count_at_value_iterated_to
    return [[round(i * width_ms, 3), counts[i]] for i in sorted(counts)]


@dataclass
class Interval:
    """What happened to the messages sent in one time bucket."""

    requests: int = 0
    failed_requests: int = 0
    messages: int = 0
    segments: int = 0
    delivered: int = 0
    failed: int = 0
    delivery: HdrHistogram = field(default_factory=new_histogram)
    http: HdrHistogram = field(default_factory=new_histogram)
    target_rss: int | None = None


DeliveryListener = Callable[[str, float, str], None]  # channel, seconds, errcode ("" = ok)


class LoadLedger:
    """The statistics of a run over smsapi.ledger, which matches reports to segments."""

    def __init__(
        self,
        started: float,
        interval: float,
        on_delivery: DeliveryListener | None = None,
        clock_skew: float = CLOCK_SKEW_S,
        forget_complete: bool = False,
    ):
        self.started = started
        self.clock_skew = clock_skew  # s the carrier's stime / rtime may differ from ours
        self.interval = interval
        self.on_delivery = on_delivery or (lambda channel, seconds, errcode: None)
        # Sends are recorded before their reports can be (one master), so custid + mobile
        # may decide at once; forget_complete bounds memory on a long run (a duplicate of
        # a message fully reported then counts as unmatched).
        self.matcher: Ledger[None] = Ledger(
            custid_at_once=True,
            forget_complete=forget_complete,
            max_unmatched=MAX_ORPHANS,
            on_match=self._matched,
        )
        self.outcomes: Counter[tuple[str, str]] = Counter()  # (endpoint, result) of requests
        self.http: dict[str, HdrHistogram] = defaultdict(new_histogram)
        self.delivery = new_histogram()
        self.by_channel = {channel: new_histogram() for channel in CHANNELS}
        self.intervals: dict[int, Interval] = defaultdict(Interval)
        self.accepted_at = array("d")  # send time of every accepted message
        self.errcodes: Counter[str] = Counter()
        self.notes: Counter[str] = Counter()  # anomalies: duplicates, pktotal differs...
        self.workers: dict[str, Counter[str]] = defaultdict(Counter)
        self.push: Counter[str] = Counter()
        self.delivered_segments = 0
        self.whole_messages = 0  # every segment reported delivered
        self._failed: set[int] = set()  # msgids of messages with a failed segment
        self.finished = False

    # ------------------------------------------------------------------ records in

    def add(self, records: Iterable[list]) -> None:
        """Records as shipped by loadtests.recorder (lists, msgpack friendly)."""
        for rec in records:
            kind = rec[0]
            if kind == "req":
                self.request(*rec[1:])
            elif kind == "sent":
                self.sent(*rec[1:])
            elif kind == "rpt":
                self.report(*rec[1:])
            elif kind == "push":
                self.push[rec[2]] += 1
                self.workers[rec[1]][f"push_{rec[2]}"] += 1

    def bucket(self, at: float) -> Interval:
        return self.intervals[max(int((at - self.started) // self.interval), 0)]

    def request(
        self, worker: str, endpoint: str, started: float, seconds: float, result: str
    ) -> None:
        """One HTTP exchange: result "0", a result code, or transport/codec/http_NNN."""
        self.outcomes[(endpoint, result)] += 1
        self.workers[worker]["requests"] += 1
        record(self.http[endpoint], seconds)
        interval = self.bucket(started)
        interval.requests += 1
        if result != "0":
            interval.failed_requests += 1
        if endpoint.endswith("_send"):
            record(interval.http, seconds)

    def sent(self, worker: str, started: float, msgid: int, items: list[list]) -> None:
        """An accepted send: items are [mobile, custid, pktotal] in request order."""
        mobiles, custids, pktotals = ([i[k] for i in items] for k in range(3))
        collisions = len(self.matcher.collisions)
        self.matcher.sent(msgid, mobiles, custids, pktotals, started)
        self.notes["msgid_reused"] += len(self.matcher.collisions) - collisions
        interval = self.bucket(started)
        self.accepted_at.extend([started] * len(items))
        interval.messages += len(items)
        interval.segments += sum(pktotals)
        self.workers[worker]["messages"] += len(items)
        self.workers[worker]["segments"] += sum(pktotals)

    def report(self, worker: str, channel: str, arrived: float, rpt: dict) -> None:
        """A status report that reached a push receiver or a get_rpt poll."""
        self.workers[worker][f"reports_{channel}"] += 1
        self.matcher.file(rpt, channel, arrived)

    def _matched(self, filed: FiledReport[None]) -> None:
        """smsapi.ledger matched a report (at once or when its send came): its figures."""
        at = filed.at
        assert at is not None
        if filed.named is not None:
            self.notes["msgid_names_other_message"] += 1  # §3.3 broken: custid decided
        if PKTOTAL in filed.findings:
            self.notes["pktotal_differs"] += 1
            self.bucket(at.sent_at).segments += filed.recount
        if filed.repeated:
            self.notes[f"duplicate_{filed.source}"] += 1
            return
        if filed.duplicate:
            self.notes["reported_both_ways"] += 1  # push and poll: each report should go one way
        timing = filed.timing()
        assert timing is not None
        latency = max(timing.delivery_s, 0.0)
        for finding in filed.clock_findings(self.clock_skew):
            self.notes[f"clock_{finding.split()[0]}"] += 1  # clock_stime / clock_rtime
        delivered = filed.delivered
        errcode = "" if delivered else str(filed.data.get("errcode", "") or "failed")
        if delivered:
            record(self.by_channel.setdefault(filed.source, new_histogram()), latency)
        self.on_delivery(filed.source, latency, errcode)
        if filed.duplicate:
            return
        interval = self.bucket(at.sent_at)
        if delivered:
            self.delivered_segments += 1
            record(self.delivery, latency)
            record(interval.delivery, latency)
            interval.delivered += 1
        else:
            self.errcodes[errcode] += 1
            interval.failed += 1
            self._failed.add(at.msgid)
        if filed.completes:
            if at.msgid in self._failed:
                self._failed.discard(at.msgid)
            else:
                self.whole_messages += 1

    # ------------------------------------------------------------------ state

    @property
    def expected_segments(self) -> int:
        return self.matcher.expected_segments

    @property
    def reported_segments(self) -> int:
        return self.matcher.reported_segments

    @property
    def matched_by(self) -> Counter[str]:
        return self.matcher.matched

    @property
    def pending(self) -> int:
        """Segments still waiting for their first report."""
        return self.matcher.pending

    @property
    def accepted_messages(self) -> int:
        return len(self.accepted_at)

    def finish(self, now: float) -> None:
        """End of the drain: custid + mobile for what waits, then every segment without
        a report is lost."""
        if self.finished:
            return
        self.finished = True
        self.matcher.resolve(now)
        for message in self.matcher.outstanding():
            for _ in message.unreported():
                self.errcodes[LOST] += 1
                self.on_delivery("lost", now - message.sent_at, LOST)
        self.notes["unmatched_reports"] += len(self.matcher.unmatched) + self.matcher.dropped

    # ------------------------------------------------------------------ figures

    def sustained_rate(self, start: float, end: float) -> float:
        """Accepted messages per second sent within [start, end) (wall clock)."""
        if end <= start:
            return 0.0
        count = sum(1 for at in self.accepted_at if start <= at < end)
        return count / (end - start)

    def error_counts(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for (_, result), n in self.outcomes.items():
            counts[result] += n
        return dict(sorted(counts.items()))

    def error_rate(self) -> float:
        total = sum(self.outcomes.values())
        failed = sum(n for (_, result), n in self.outcomes.items() if result != "0")
        return failed / total if total else 0.0

    def delivery_rate(self) -> float:
        if not self.expected_segments:
            return math.nan
        return self.delivered_segments / self.expected_segments

    def message_delivery_rate(self) -> float:
        """Messages whose every segment was delivered, over accepted messages."""
        if not self.matcher.messages:
            return math.nan
        return self.whole_messages / self.matcher.messages

    def drift(self) -> float | None:
        """p99 of the last quarter of intervals minus p99 of the first quarter, in seconds."""
        filled = [i for i in sorted(self.intervals) if self.intervals[i].delivery.get_total_count()]
        if len(filled) < 4:
            return None
        quarter = max(len(filled) // 4, 1)
        early, late = new_histogram(), new_histogram()
        for i in filled[:quarter]:
            early.add(self.intervals[i].delivery)
        for i in filled[-quarter:]:
            late.add(self.intervals[i].delivery)
        return (late.get_value_at_percentile(99) - early.get_value_at_percentile(99)) / 1e6

    def timeseries(self) -> list[dict[str, Any]]:
        rows = []
        for index in sorted(self.intervals):
            interval = self.intervals[index]
            rows.append(
                {
                    "t": index * self.interval,
                    "requests": interval.requests,
                    "failed_requests": interval.failed_requests,
                    "messages": interval.messages,
                    "segments": interval.segments,
                    "delivered": interval.delivered,
                    "failed": interval.failed,
                    "unreported": interval.segments - interval.delivered - interval.failed,
                    "delivery": percentiles(interval.delivery),
                    "http_send": percentiles(interval.http),
                    "target_rss": interval.target_rss,
                }
            )
        return rows
