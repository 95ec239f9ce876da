"""smsapi.Client: errors a caller meets stay inside the SmsApiError hierarchy."""

from __future__ import annotations

import pytest

from smsapi import Client, ContentEncodingError, SmsApiError

# Nothing listens here: content is encoded before any request, so none is made.
UNREACHABLE = "http://127.0.0.1:9"


@pytest.mark.parametrize(
    "send",
    [
        lambda c: c.single_send("13800138000", "测试表情😀"),
        lambda c: c.batch_send(["13800138000"], "测试表情😀"),
        lambda c: c.multi_send([{"mobile": "13800138000", "content": "测试表情😀"}]),
    ],
    ids=["single_send", "batch_send", "multi_send"],
)
def test_content_gbk_cannot_carry_raises_an_sms_api_error_naming_the_character(send):
    client = Client(UNREACHABLE, "J10003", "111111")
    with pytest.raises(SmsApiError) as caught:
        send(client)
    assert isinstance(caught.value, ContentEncodingError)
    message = str(caught.value)
    assert "😀" in message and "U+1F600" in message and "position 4" in message
    assert "GBK" in message


def test_content_encoding_error_is_still_a_unicode_encode_error():
    """Callers that caught UnicodeEncodeError before keep working."""
    with pytest.raises(UnicodeEncodeError):
        Client(UNREACHABLE, "J10003", "111111").single_send("13800138000", "😀")
