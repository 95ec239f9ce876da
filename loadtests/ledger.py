"""The ledger: every request, every accepted message and every status report of a run,
matched by the §3.3 rules (through smsapi.matching), measured in HDR histograms.

It runs in one process (Locust's master, or the only process): senders, pollers and push
receivers anywhere ship plain records to it, so a report is matched whichever process
received it. Times are wall-clock seconds (time.time()), comparable across processes of
one machine (or machines with synchronised clocks).

Delivery time is the client's own clock, send start → report arrival, and the carrier's
stime / rtime are cross-checked against it (smsapi.timing, the rule the conformance suite
applies too): a stamp before the send or after the arrival, beyond the clock skew, is
noted. A report whose msgid names a message of another mobile or custid is matched by
custid + mobile instead (noted as a matching fault, still a delivery).
"""

from __future__ import annotations

import base64
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

from smsapi.matching import (
    custid_key,
    names_other_message,
    owner_msgid,
    report_delivered,
    report_msgid,
    report_pknum,
    report_pktotal,
)
from smsapi.msgid import mobile_msgid
from smsapi.timing import CLOCK_SKEW_S, clock_findings, delivery_timing

# Histograms in microseconds, 1 µs to 1 hour, 3 significant digits: percentiles exact to 0.1 %.
HDR_RANGE = (1, 3_600_000_000, 3)
PERCENTILES = (50, 95, 99)
CHANNELS = ("push", "poll")
MAX_ORPHANS = 100_000
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
class Segment:
    pknum: int
    first_at: float | None = None
    delivered: bool = False
    errcode: str = ""
    arrivals: dict[str, float] = field(default_factory=dict)


@dataclass
class Message:
    """One mobile of one accepted send request."""

    base: int  # §3.3 per-mobile msgid
    custid: str
    mobile: str
    sent_at: float
    worker: str
    pktotal: int
    segments: dict[int, Segment] = field(default_factory=dict)

    def segment(self, pknum: int) -> Segment:
        if pknum not in self.segments:
            self.segments[pknum] = Segment(pknum)
        return self.segments[pknum]


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


class Ledger:
    """Matches reports to sent segments and keeps the statistics of a run."""

    def __init__(
        self,
        started: float,
        interval: float,
        on_delivery: DeliveryListener | None = None,
        clock_skew: float = CLOCK_SKEW_S,
    ):
        self.started = started
        self.clock_skew = clock_skew  # s the carrier's stime / rtime may differ from ours
        self.interval = interval
        self.on_delivery = on_delivery or (lambda channel, seconds, errcode: None)
        self.by_base: dict[int, Message] = {}
        self.by_custid: dict[tuple, Message] = {}
        self.orphans: list[tuple[str, str, float, dict]] = []
        self.outcomes: Counter[tuple[str, str]] = Counter()  # (endpoint, result) of requests
        self.http: dict[str, HdrHistogram] = defaultdict(new_histogram)
        self.delivery = new_histogram()
        self.by_channel = {channel: new_histogram() for channel in CHANNELS}
        self.intervals: dict[int, Interval] = defaultdict(Interval)
        self.accepted_at: list[float] = []  # send time of every accepted message
        self.errcodes: Counter[str] = Counter()
        self.matched_by: Counter[str] = Counter()
        self.notes: Counter[str] = Counter()  # anomalies: duplicates, pktotal differs...
        self.workers: dict[str, Counter[str]] = defaultdict(Counter)
        self.push: Counter[str] = Counter()
        self.expected_segments = 0
        self.reported_segments = 0
        self.delivered_segments = 0
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
        interval = self.bucket(started)
        for position, (mobile, custid, pktotal) in enumerate(items, start=1):
            base = mobile_msgid(msgid, position)  # §3.3 msgid + position - 1
            message = Message(base, custid, mobile, started, worker, pktotal)
            if base in self.by_base:
                self.notes["msgid_reused"] += 1
            self.by_base[base] = message
            for pknum in range(1, pktotal + 1):
                self.by_custid[custid_key(custid, mobile, pknum, pktotal)] = message
            self.accepted_at.append(started)
            self.expected_segments += pktotal
            interval.messages += 1
            interval.segments += pktotal
            self.workers[worker]["messages"] += 1
            self.workers[worker]["segments"] += pktotal
        if self.orphans:
            waiting, self.orphans = self.orphans, []
            for orphan in waiting:
                self.report(*orphan, retry=True)

    def report(
        self, worker: str, channel: str, arrived: float, rpt: dict, retry: bool = False
    ) -> None:
        """A status report that reached a push receiver or a get_rpt poll."""
        if not retry:
            self.workers[worker][f"reports_{channel}"] += 1
        pknum, pktotal = report_pknum(rpt), report_pktotal(rpt)
        msgid = report_msgid(rpt)
        message = self.by_base.get(owner_msgid(msgid, pknum)) if msgid is not None else None
        if message is not None and names_other_message(rpt, message.mobile, message.custid):
            self.notes["msgid_names_other_message"] += 1  # §3.3 broken: custid decides
            message = None
        how = "msgid"
        if message is None:  # §3.3 the other way: custid + mobile (+ pknum)
            key = custid_key(str(rpt.get("custid", "")), str(rpt.get("mobile", "")), pknum, pktotal)
            message = self.by_custid.get(key)
            how = "custid"
        if message is None:
            if len(self.orphans) < MAX_ORPHANS:
                self.orphans.append((worker, channel, arrived, rpt))
            return
        self.matched_by[how] += 1
        if pktotal != message.pktotal:
            self.notes["pktotal_differs"] += 1
            if pktotal > message.pktotal:  # the report is the truth: more segments to wait for
                self.expected_segments += pktotal - message.pktotal
                self.bucket(message.sent_at).segments += pktotal - message.pktotal
                message.pktotal = pktotal
        segment = message.segment(pknum)
        if channel in segment.arrivals:
            self.notes[f"duplicate_{channel}"] += 1
            return
        if segment.arrivals:
            self.notes["reported_both_ways"] += 1  # push and poll: each report should go one way
        segment.arrivals[channel] = arrived
        latency = max(delivery_timing(rpt, message.sent_at, arrived).delivery_s, 0.0)
        for finding in clock_findings(rpt, message.sent_at, arrived, self.clock_skew):
            self.notes[f"clock_{finding.split()[0]}"] += 1  # clock_stime / clock_rtime
        delivered = report_delivered(rpt)
        errcode = "" if delivered else str(rpt.get("errcode", "") or "failed")
        if delivered:
            record(self.by_channel.setdefault(channel, new_histogram()), latency)
        self.on_delivery(channel, latency, errcode)
        if segment.first_at is not None:
            return
        segment.first_at = arrived
        segment.delivered = delivered
        segment.errcode = errcode
        self.reported_segments += 1
        interval = self.bucket(message.sent_at)
        if delivered:
            self.delivered_segments += 1
            record(self.delivery, latency)
            record(interval.delivery, latency)
            interval.delivered += 1
        else:
            self.errcodes[errcode] += 1
            interval.failed += 1

    # ------------------------------------------------------------------ state

    @property
    def pending(self) -> int:
        """Segments still waiting for their first report."""
        return self.expected_segments - self.reported_segments

    @property
    def accepted_messages(self) -> int:
        return len(self.accepted_at)

    def finish(self, now: float) -> None:
        """End of the drain: every segment without a report is lost."""
        if self.finished:
            return
        self.finished = True
        for message in self.by_base.values():
            for pknum in range(1, message.pktotal + 1):
                segment = message.segment(pknum)
                if segment.first_at is None:
                    self.errcodes[LOST] += 1
                    self.on_delivery("lost", now - message.sent_at, LOST)
        self.notes["unmatched_reports"] += len(self.orphans)

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
        if not self.by_base:
            return math.nan
        whole = sum(
            all(message.segment(k).delivered for k in range(1, message.pktotal + 1))
            for message in self.by_base.values()
        )
        return whole / len(self.by_base)

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
