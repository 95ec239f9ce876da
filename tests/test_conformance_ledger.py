"""conformance.ledger: the suite's model of what was sent and which reports came (§3.3),
each report's arrival by the suite's clock, and matching faults seen at once."""

from __future__ import annotations

import time

from conformance.ledger import Outgoing, RunLedger, SentMessage, reports_of
from smsapi.msgid import segment_msgid

BASE = 7 << 38 | 100
A, B = "13800138000", "13012345678"


def batch(
    ledger: RunLedger, mobiles: list[str], custid: str = "c1", sent_at: float | None = None
) -> list[SentMessage]:
    items = [Outgoing(m, "text", custid=custid) for m in mobiles]
    return ledger.record(
        "CHECK",
        "batch_send",
        BASE,
        custid,
        items,
        [1] * len(items),
        [True] * len(items),
        sent_at=sent_at,
    )


def report(msgid: int, mobile: str, custid: str = "c1", **kw: object) -> dict:
    return {
        "msgid": msgid,
        "mobile": mobile,
        "custid": custid,
        "pknum": 1,
        "pktotal": 1,
        "status": 0,
        "errcode": "DELIVRD",
        **kw,
    }


def test_a_report_is_filed_by_msgid_at_position_p() -> None:
    ledger = RunLedger()
    first, second = batch(ledger, [A, B])
    filed = ledger.file(report(segment_msgid(BASE, 2), B), "pull")
    assert not ledger.faults([first, second])
    assert filed.matched_by == "msgid" and filed.message is second


def test_a_msgid_naming_another_mobiles_message_is_a_fault_at_once() -> None:
    ledger = RunLedger()
    messages = batch(ledger, [A, B])
    wrong = ledger.file(report(segment_msgid(BASE, 1), B), "pull")  # A's id, B's report
    assert wrong.message is None and wrong.msgid_names is messages[0]
    assert ledger.faults(messages) == [wrong]  # before any resolve(): no waiting


def test_a_wrong_msgid_is_filed_by_custid_and_mobile_and_still_delivers() -> None:
    ledger = RunLedger()
    first, second = batch(ledger, [A, B])
    wrong = ledger.file(report(12345, B), "pull")
    ledger.resolve(age=0)
    assert second.complete and ledger.faults([first, second]) == [wrong]
    assert wrong.matched_by == "custid" and wrong.message is second


def test_custid_and_mobile_shared_by_several_messages_fill_the_owed_one_first() -> None:
    ledger = RunLedger()
    messages = batch(ledger, [A, B, A])  # a batch repeating a number: one custid
    for _ in range(2):
        ledger.file(report(999, A), "pull")
    ledger.resolve(age=0)
    assert messages[0].complete and messages[2].complete and not ledger.unmatched


def test_a_pushed_report_arrives_when_received() -> None:
    ledger = RunLedger()
    (message,) = batch(ledger, [A], sent_at=time.time() - 3.0)
    filed = ledger.file(report(BASE, A), "push")
    timing = filed.timing()
    assert filed.bound_s == 0.0 and timing is not None and 2.9 < timing.delivery_s < 3.5


def test_a_pulled_reports_arrival_is_bounded_by_the_last_clear_poll() -> None:
    ledger = RunLedger()
    batch(ledger, [A, B])
    ledger.clear_at = time.time() - 2.0  # the last poll that left nothing behind
    (filed,) = ledger.pulled([report(BASE, A)], time.time(), asked=500)
    assert 1.9 < filed.bound_s < 2.5
    assert time.time() - ledger.clear_at < 0.5  # this poll left nothing behind either


def test_a_full_page_does_not_clear_the_queue() -> None:
    ledger = RunLedger()
    batch(ledger, [A, B])
    clear = ledger.clear_at = time.time() - 2.0
    ledger.pulled([report(BASE, A)], time.time(), asked=1)  # more may be waiting
    assert ledger.clear_at == clear


def test_reports_of_lists_every_report_of_the_messages() -> None:
    ledger = RunLedger()
    messages = batch(ledger, [A, B])
    ledger.file(report(BASE, A), "pull")
    ledger.file(report(BASE + 1, B), "push")
    assert len(reports_of(messages)) == 2 and len(reports_of(messages[:1])) == 1


def test_a_wrong_msgid_of_a_recorded_send_resolves_without_settling() -> None:
    ledger = RunLedger()
    first, second = batch(ledger, [A, B])
    wrong = ledger.file(report(12345, B), "pull")
    ledger.resolve()  # a push may overtake its send's answer: unknown custids wait
    assert wrong.message is None
    ledger.resolve(recorded=frozenset({"c1"}))  # the awaited sends: known recorded
    assert wrong.message is second and wrong.matched_by == "custid"


def test_a_msgid_of_another_segment_is_a_fault_and_the_pknum_decides() -> None:
    ledger = RunLedger()
    items = [Outgoing(A, "long", custid="c1")]
    (message,) = ledger.record("CHECK", "single_send", BASE, "c1", items, [15], [True])
    stride_2_32 = BASE + 4 * 2**32  # segment 5 under a 2^32 stride: segment 2's §3.3 id
    wrong = ledger.file(report(stride_2_32, A, pknum=5, pktotal=15), "pull")
    assert wrong.msgid_names is message and ledger.faults([message]) == [wrong]
    ledger.resolve(age=0)
    assert wrong.pknum == 5 and message.reports[5] == [wrong] and 2 not in message.reports
