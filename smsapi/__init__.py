"""The protocol of the Chongqing Tongyu SMS carrier interface (tender attachment 6),
written once: codecs, the auth digest, field rules, result codes, msgid arithmetic,
segmentation, mobile classification, and a small typed client."""

from .auth import digest, format_timestamp
from .client import BalanceResult, Client, PullResult, SendResult
from .codec import Format
from .errors import (
    CodecError,
    ContentEncodingError,
    Result,
    ResultError,
    SmsApiError,
    TransportError,
)
from .msgid import mobile_msgid, segment_msgid

__all__ = [
    "BalanceResult",
    "Client",
    "CodecError",
    "ContentEncodingError",
    "Format",
    "PullResult",
    "Result",
    "ResultError",
    "SendResult",
    "SmsApiError",
    "TransportError",
    "digest",
    "format_timestamp",
    "mobile_msgid",
    "segment_msgid",
]

__version__ = "0.1.0"
