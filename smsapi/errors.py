"""Result codes of §4 and the one exception hierarchy of the client."""

from __future__ import annotations

from enum import IntEnum


class Result(IntEnum):
    """§4 错误代码表: every result code the document defines (0 is success)."""

    OK = 0
    AUTH_FAILED = -100001
    AUTH_LOCKED = -100002
    ARREARS = -100003
    CUSTOM_FIELD_INVALID = -100004
    CONTENT_TOO_LONG = -100011
    MOBILE_INVALID = -100012
    TOO_MANY_MOBILES = -100014
    PORT_BIND_FAILED = -100029
    TOO_MANY_CONNECTIONS = -100056
    IP_NOT_ALLOWED = -100057
    TTL_INVALID = -100126
    SVRTYPE_INVALID = -100252
    CUSTOM_PARAM_TOO_LONG = -100253
    INTERNAL_ERROR = -100999


# §4: the document's own text for each code, with an English gloss.
RESULT_TEXTS: dict[Result, tuple[str, str]] = {
    Result.OK: ("成功", "success"),
    Result.AUTH_FAILED: (
        "鉴权不通过,请检查账号,密码,时间戳,固定串,以及MD5算法是否按照文档要求进行设置",
        "authentication failed",
    ),
    Result.AUTH_LOCKED: (
        "用户多次鉴权不通过,请检查账号,密码,时间戳,固定串,以及MD5算法是否按照文档要求进行设置",
        "repeated authentication failures",
    ),
    Result.ARREARS: ("用户欠费", "account in arrears"),
    Result.CUSTOM_FIELD_INVALID: ("custid或者exdata字段填写不合法", "custid or exdata invalid"),
    Result.CONTENT_TOO_LONG: ("短信内容超长", "content too long"),
    Result.MOBILE_INVALID: ("手机号码不合法", "mobile number invalid"),
    Result.TOO_MANY_MOBILES: ("手机号码超过最大支持数量（1000）", "too many mobile numbers"),
    Result.PORT_BIND_FAILED: ("端口绑定失败", "port binding failed"),
    Result.TOO_MANY_CONNECTIONS: ("用户账号登录的连接数超限", "too many concurrent connections"),
    Result.IP_NOT_ALLOWED: ("用户账号登录的IP错误", "address not allowed"),
    Result.TTL_INVALID: ("短信有效存活时间无效", "message time-to-live invalid"),
    Result.SVRTYPE_INVALID: ("业务类型不合法(超长或包含非字母数字字符)", "svrtype invalid"),
    Result.CUSTOM_PARAM_TOO_LONG: ("自定义参数超长", "custom parameter too long"),
    Result.INTERNAL_ERROR: ("平台数据库内部错误", "internal database error"),
}


def result_text(code: int, lang: str = "zh") -> str:
    """The document's text for a code (or a note that the code is not in §4)."""
    try:
        zh, en = RESULT_TEXTS[Result(code)]
    except ValueError:
        return "未定义的错误代码" if lang == "zh" else "code not defined in §4"
    return zh if lang == "zh" else en


class SmsApiError(Exception):
    """Root of every error the client raises."""


class TransportError(SmsApiError):
    """The HTTP exchange itself failed: refused, timed out, not HTTP 200."""


class CodecError(SmsApiError):
    """An answer arrived but could not be read as the document's format."""

    def __init__(self, message: str, body: bytes = b"") -> None:
        super().__init__(message)
        self.body = body


class ResultError(SmsApiError):
    """The carrier answered with result ≠ 0."""

    def __init__(self, result: int, answer: dict | None = None) -> None:
        super().__init__(f"result {result}: {result_text(result, 'en')}")
        self.result = result
        self.answer = answer or {}


class ContentEncodingError(SmsApiError, UnicodeEncodeError):
    """§2.1.5 MT content holds a character GBK cannot carry (an emoji, say). Still a
    UnicodeEncodeError for callers that caught that before."""

    def __str__(self) -> str:
        char = self.object[self.start : self.end]
        codes = ", ".join(f"U+{ord(c):04X}" for c in char)
        return (
            f"content character {char!r} ({codes}) at position {self.start} cannot be sent: "
            f"§2.1.5 content is {self.encoding.upper()}, which has no such character"
        )
