"""The delivery simulator: when each segment's report becomes due and what it says.

Outcomes are drawn from a generator seeded by (seed, per-mobile msgid), so a run
replays whatever order requests arrive in.
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

from smsapi.mobile import MobileNumber, Operator

DELIVERED = ("DELIVRD", "success")  # §2.5.6 errcode DELIVRD, errdesc success
# Failure codes seen in operators' reports (CMPP/SGIP/SMGP stat values).
FAILURE_CODES = ("UNDELIV", "EXPIRED", "REJECTD", "MK:0005", "MI:0024", "MN:0001")
INVALID_NUMBER = ("MN:0001", "fail")  # §3.2 an invalid number comes back as a failed report
FAILED_STATUS = 1  # §2.5.6 status 非0:失败


@dataclass(frozen=True)
class Fate:
    """What happens to one mobile's message. latency None: no report, ever."""

    latency: float | None
    status: int = 0
    errcode: str = DELIVERED[0]
    errdesc: str = DELIVERED[1]

    @property
    def delivered(self) -> bool:
        return self.status == 0


FateValues = tuple[float | None, int, str, str]  # a Fate's fields, in order


def failed(latency: float | None, errcode: str) -> Fate:
    return Fate(*failed_values(latency, errcode))


def failed_values(latency: float | None, errcode: str) -> FateValues:
    return (latency, FAILED_STATUS, errcode, "fail")


UNIT = 2.0**-53  # a word's top 53 bits times this: uniform in [0, 1)


def message_words(seed: int, msgid: int) -> tuple[int, ...]:
    """The eight 64-bit words one message's draws come from: BLAKE2b of its key
    (seed, msgid). Seeding a Mersenne Twister anew for every message cost more than the
    rest of its acceptance; a replay (same seed) draws the same words."""
    return struct.unpack("<8Q", hashlib.blake2b(f"{seed}:{msgid}".encode()).digest())


@dataclass(frozen=True)
class LatencyModel:
    """Log-normal latency (median, sigma) with a uniform tail and a failure rate."""

    median: float
    sigma: float
    failure_rate: float
    tail_rate: float = 0.005
    tail: tuple[float, float] = (3.0, 8.0)
    log_median: float = field(init=False, repr=False, compare=False)  # the normal's mean

    def __post_init__(self) -> None:
        object.__setattr__(self, "log_median", math.log(self.median) if self.median > 0 else 0.0)

    def values(self, words: tuple[int, ...]) -> FateValues:
        """The draw from a message's words as (latency, status, errcode, errdesc), the
        fields of a Fate. The words are used in order, each a uniform u in [0, 1): the
        tail's chance, then the tail's uniform or Box-Muller's two (a normal draw for the
        log-normal), then the failure's chance and its code. A median of 0 draws only
        the failure. Written out, not as calls: a batch draws a thousand."""
        n = 0
        if self.median <= 0:
            latency = 0.0
        elif (words[0] >> 11) * UNIT < self.tail_rate:
            low, high = self.tail
            latency = low + (high - low) * ((words[1] >> 11) * UNIT)
            n = 2
        else:
            radius = math.sqrt(-2.0 * math.log(1.0 - (words[1] >> 11) * UNIT))
            normal = self.log_median + self.sigma * radius * math.cos(
                2.0 * math.pi * ((words[2] >> 11) * UNIT)
            )
            latency = math.exp(normal)
            n = 3
        if (words[n] >> 11) * UNIT < self.failure_rate:
            code = FAILURE_CODES[int((words[n + 1] >> 11) * UNIT * len(FAILURE_CODES))]
            return failed_values(latency, code)
        return (latency, 0, DELIVERED[0], DELIVERED[1])


def _profile(mobile: float, unicom: float, telecom: float, intl: float, **kw) -> dict:
    return {
        Operator.CHINA_MOBILE: LatencyModel(mobile, **kw),
        Operator.CHINA_UNICOM: LatencyModel(unicom, **kw),
        Operator.CHINA_TELECOM: LatencyModel(telecom, **kw),
        Operator.MAINLAND_OTHER: LatencyModel(mobile, **kw),
        Operator.INTERNATIONAL: LatencyModel(intl, **kw),
    }


# Named profiles (`mockcarrier serve --delivery-profile`):
# default: most reports within 1-3 s, 0.5 % tail to 8 s, 0.3 % failed (p99 ≈ 3 s).
# slow:    p99 ≈ 8 s, beyond the tender's 5 s (§2.1.3).
# lossy:   3 % failed, below the tender's 99 % delivery rate.
# instant: every report due at once, none failed (for tests).
PROFILES: dict[str, dict[Operator, LatencyModel]] = {
    "default": _profile(1.3, 1.5, 1.7, 2.5, sigma=0.3, failure_rate=0.003),
    "slow": _profile(3.0, 3.2, 3.4, 4.0, sigma=0.38, failure_rate=0.003, tail=(6.0, 12.0)),
    "lossy": _profile(1.3, 1.5, 1.7, 2.5, sigma=0.3, failure_rate=0.03),
    "instant": _profile(0.0, 0.0, 0.0, 0.0, sigma=0.0, failure_rate=0.0, tail_rate=0.0),
}

# Magic numbers: any mainland segment followed by 0000000 and a digit has a fixed fate,
# e.g. 13800000002 always fails. Documented in README.md.
MAGIC_RE = re.compile(r"^1\d{2}0000000(\d)$")
MAGIC_OUTCOMES: dict[str, Fate] = {
    "1": Fate(0.5),  # delivered after 0.5 s
    "2": failed(1.0, "UNDELIV"),  # failed after 1 s
    "3": Fate(None),  # never reported
    "4": failed(3.0, "EXPIRED"),  # expired after 3 s
    "6": Fate(6.0),  # delivered after 6 s: beyond the 5 s target
    "9": Fate(0.0),  # delivered at once
}


def magic_outcome(mobile: MobileNumber) -> Fate | None:
    national = mobile.national
    if national[3:10] != "0000000":  # MAGIC_RE's zeros, asked first: a batch asks 1000 times
        return None
    match = MAGIC_RE.match(national)
    return MAGIC_OUTCOMES.get(match.group(1)) if match else None


def outcome_for(
    mobile: MobileNumber,
    msgid: int,
    seed: int,
    profile: str,
    magic: bool = True,
    custom: Mapping[str, Fate] | None = None,
) -> Fate:
    """The fate of the message sent to one mobile under the per-mobile msgid; custom
    magic numbers (the control plane's, by number as sent or national) come first."""
    fixed = fixed_fate(mobile, magic, custom)
    if fixed is not None:
        return fixed
    return drawn_fate(seed, msgid, profile, mobile.operator)


def fixed_fate(
    mobile: MobileNumber, magic: bool = True, custom: Mapping[str, Fate] | None = None
) -> Fate | None:
    """A fate known before the message is numbered: an invalid number's, or a custom or
    built-in magic number's; None: drawn (drawn_fate)."""
    if not mobile.valid:
        return failed(0.0, INVALID_NUMBER[0])
    if custom:
        fixed = custom.get(mobile.raw) or custom.get(mobile.national)
        if fixed is not None:
            return fixed
    if magic:
        return magic_outcome(mobile)
    return None


def drawn_fate(seed: int, msgid: int, profile: str, operator: str) -> Fate:
    """A profile's draw for one valid number, seeded by (seed, per-mobile msgid): the
    stores call it when they number a message (stores.interface.Drawn)."""
    return Fate(*drawn_values(seed, msgid, profile, operator))


def drawn_values(seed: int, msgid: int, profile: str, operator: str) -> FateValues:
    """drawn_fate's fields, without the object."""
    model = _MODELS.get((profile, operator))
    if model is None:  # first draw of this pair (a batch draws a thousand)
        model = _MODELS[(profile, operator)] = PROFILES[profile][Operator(operator)]
    return model.values(message_words(seed, msgid))


_MODELS: dict[tuple[str, str], LatencyModel] = {}  # by (profile, operator value)


SEGMENT_GAP = 0.02  # later segments of one message report a little later (stores/segments.py)
