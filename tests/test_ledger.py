"""smsapi.ledger: the one report-matching ledger (§3.3) of the suite, the load tests and the
benchmarks: what was sent, which report is whose, duplicates, phantoms, fields that
disagree with the send, what is owed, delivery by the client's clock."""

from __future__ import annotations

from smsapi.ledger import CUSTID, MOBILE_FORM, PKNUM, PKTOTAL, Ledger
from smsapi.msgid import INT64_MAX, SEGMENT_STRIDE, segment_msgid

BASE = 7 << 38 | 100
A, B, C = "13800138000", "13012345678", "18912345678"
T0 = 1_000_000.0


def report(msgid: int, mobile: str, custid: str = "c1", pknum: int = 1, pktotal: int = 1) -> dict:
    return {
        "msgid": msgid,
        "mobile": mobile,
        "custid": custid,
        "pknum": pknum,
        "pktotal": pktotal,
        "status": 0,
    }


def three(ledger: Ledger, base: int = BASE) -> None:
    """A batch to A, B (short) and C (two segments), custid c1, sent at T0."""
    ledger.sent(base, [A, B, C], ["c1"] * 3, [1, 1, 2], T0)


def test_a_report_matches_position_p_and_segment_k_by_msgid() -> None:
    ledger: Ledger[None] = Ledger()
    three(ledger)
    filed = ledger.file(report(segment_msgid(BASE, 3, 2), C, pknum=2, pktotal=2), "pull", T0 + 1)
    assert filed.matched_by == "msgid" and filed.position == 3 and filed.pknum == 2
    assert filed.findings == () and not filed.duplicate
    assert ledger.expected_segments == 4 and ledger.pending == 3


def test_msgids_wrap_to_signed_64_bit_across_a_batch() -> None:
    ledger: Ledger[None] = Ledger()
    three(ledger, INT64_MAX)  # position 2 wraps to INT64_MIN
    filed = ledger.file(report(segment_msgid(INT64_MAX, 2), B), "pull", T0 + 1)
    assert filed.msgid is not None and filed.msgid < 0 and filed.position == 2


def test_a_msgid_naming_another_mobiles_message_is_named_not_matched() -> None:
    ledger: Ledger[None] = Ledger()
    three(ledger)
    wrong = ledger.file(report(segment_msgid(BASE, 1), B), "pull", T0 + 1)  # A's id, B's report
    assert wrong.matched_by == "" and wrong.named is not None and wrong.named.position == 1
    assert ledger.unmatched == [wrong]


def test_a_msgid_of_another_segment_names_that_segment() -> None:
    ledger: Ledger[None] = Ledger()
    three(ledger)
    # segment 2's id reported as pknum 1: its pknum disagrees with the id (a 2^32 stride...)
    wrong = ledger.file(report(segment_msgid(BASE, 3, 2), C, pknum=1, pktotal=2), "pull", T0)
    assert wrong.matched_by == "" and wrong.named is not None
    assert (wrong.named.position, wrong.named_pknum) == (3, 2)


def test_custid_and_mobile_decide_after_settling_or_for_recorded_custids() -> None:
    ledger: Ledger[None] = Ledger()
    three(ledger)
    wrong = ledger.file(report(12345, f"0086{B}"), "pull", T0 + 1)  # any §3.2 form
    assert ledger.resolve(T0 + 1.5, age=1.0) == [] and wrong.matched_by == ""
    assert ledger.resolve(T0 + 1.5, age=1.0, recorded=frozenset({"c1"})) == [wrong]
    assert wrong.matched_by == "custid" and wrong.position == 2
    assert wrong.findings == (MOBILE_FORM,)


def test_custid_at_once_matches_when_the_msgid_does_not() -> None:
    ledger: Ledger[None] = Ledger(custid_at_once=True)
    three(ledger)
    wrong = ledger.file(report(segment_msgid(BASE, 1), B), "pull", T0 + 1)
    assert wrong.matched_by == "custid" and wrong.position == 2 and wrong.named is not None


def test_without_the_custid_index_a_wrong_msgid_stays_unmatched() -> None:
    ledger: Ledger[None] = Ledger(custid_index=False, custid_at_once=True)
    three(ledger)
    ledger.file(report(12345, B), "pull", T0 + 1)
    ledger.resolve(T0 + 10)
    assert len(ledger.unmatched) == 1 and ledger.pending == 4


def test_custid_and_mobile_shared_fill_the_owed_message_of_the_same_pktotal_first() -> None:
    ledger: Ledger[None] = Ledger(custid_at_once=True)
    ledger.sent(BASE, [A, A, A], ["c1"] * 3, [2, 1, 1], T0)
    first = ledger.file(report(1, A), "pull", T0 + 1)
    second = ledger.file(report(2, A), "pull", T0 + 1)
    assert (first.position, second.position) == (2, 3)


def test_a_report_before_its_send_is_matched_when_the_send_is_recorded() -> None:
    ledger: Ledger[None] = Ledger()
    early = ledger.file(report(BASE, A), "push", T0 + 0.5)
    assert ledger.unmatched == [early]
    three(ledger)
    assert early.matched_by == "msgid" and not ledger.unmatched


def test_a_phantom_stays_unmatched() -> None:
    ledger: Ledger[None] = Ledger(custid_at_once=True)
    three(ledger)
    ghost = ledger.file(report(999, "13900000000", custid="nobody"), "pull", T0 + 1)
    ledger.resolve(T0 + 10)
    assert ledger.unmatched == [ghost] and ghost.named is None


def test_duplicates_are_told_apart_from_the_same_way_and_the_other_way() -> None:
    ledger: Ledger[None] = Ledger()
    three(ledger)
    first = ledger.file(report(BASE, A), "pull", T0 + 1)
    again = ledger.file(report(BASE, A), "pull", T0 + 2)
    pushed = ledger.file(report(BASE, A), "push", T0 + 3)
    assert not first.duplicate and again.duplicate and again.repeated
    assert pushed.duplicate and not pushed.repeated
    assert ledger.duplicates == 2 and ledger.reported_segments == 1


def test_the_carriers_first_pktotal_becomes_the_messages_count() -> None:
    ledger: Ledger[None] = Ledger()
    three(ledger)
    more = ledger.file(report(BASE, A, pknum=1, pktotal=2), "pull", T0 + 1)  # F9
    assert more.findings == (PKTOTAL,) and more.recount == 1
    assert ledger.expected_segments == 5 and ledger.pending == 4
    odd = ledger.file(report(BASE + 1, B, pknum=1, pktotal=1), "pull", T0 + 1)
    assert odd.findings == ()


def test_fields_disagreeing_with_the_send_are_findings() -> None:
    ledger: Ledger[None] = Ledger()
    three(ledger)
    beyond = ledger.file(report(segment_msgid(BASE, 2, 3), B, pknum=3), "pull", T0)
    assert PKNUM in beyond.findings and beyond.matched_by == "msgid"
    bare = ledger.file(report(segment_msgid(BASE, 1), A, custid=""), "pull", T0)
    assert bare.findings == (CUSTID,) and bare.matched_by == "msgid"
    assert ledger.findings[CUSTID] == 1


def test_what_is_owed_and_which_report_completes_a_message() -> None:
    ledger: Ledger[None] = Ledger()
    three(ledger)
    first = ledger.file(report(segment_msgid(BASE, 3, 1), C, pknum=1, pktotal=2), "pull", T0)
    last = ledger.file(report(segment_msgid(BASE, 3, 2), C, pknum=2, pktotal=2), "pull", T0)
    assert not first.completes and last.completes and ledger.complete_messages == 1
    assert [(m.position, m.unreported()) for m in ledger.outstanding()] == [(1, [1]), (2, [1])]


def test_forget_complete_drops_what_is_fully_reported() -> None:
    ledger: Ledger[None] = Ledger(custid_index=False, forget_complete=True)
    three(ledger)
    for position in (1, 2):
        ledger.file(report(segment_msgid(BASE, position), [A, B][position - 1]), "pull", T0)
    assert [m.position for m in ledger.outstanding()] == [3] and ledger.held == 1
    late = ledger.file(report(BASE, A), "pull", T0 + 5)  # a forgotten message's report
    assert late.matched_by == "" and ledger.duplicates == 0


def test_unmatched_reports_beyond_the_cap_are_counted_not_kept() -> None:
    ledger: Ledger[None] = Ledger(max_unmatched=2)
    for n in range(5):
        ledger.file(report(n + 1, A), "pull", T0)
    assert len(ledger.unmatched) == 2 and ledger.dropped == 3


def test_two_messages_sharing_an_id_are_a_collision_and_the_first_keeps_it() -> None:
    ledger: Ledger[None] = Ledger()
    ledger.sent(500, [A, A], ["a"] * 2, [1, 1], T0)
    ledger.sent(501, [B], ["b"], [1], T0)  # 501 is position 2 of the first
    ledger.sent(600 + SEGMENT_STRIDE, [C], ["c"], [1], T0)
    ledger.sent(600, [C], ["c"], [2], T0)  # its segment 2 is the message above
    clashes = [(c.segment_id, c.first.send.base, c.second.send.base) for c in ledger.collisions]
    assert clashes == [(501, 500, 501), (600 + SEGMENT_STRIDE, 600 + SEGMENT_STRIDE, 600)]
    assert ledger.file(report(501, A, custid="a"), "pull", T0).position == 2


def test_delivery_is_timed_by_the_clients_clock_with_the_pulls_bound() -> None:
    ledger: Ledger[None] = Ledger()
    three(ledger)
    filed = ledger.file(report(BASE, A), "pull", T0 + 3.0, bound_s=1.0)
    timing = filed.timing()
    assert timing is not None and timing.delivery_s == 3.0 and timing.earliest_s == 2.0
    assert ledger.file(report(999, A, custid="x"), "pull", T0).timing() is None


def test_on_match_hears_every_match_once_however_late() -> None:
    heard: list = []
    ledger: Ledger[str] = Ledger(on_match=heard.append)
    early = ledger.file(report(BASE, A), "push", T0)
    ledger.sent(BASE, [A], ["c1"], [1], T0, payloads=["mine"])
    assert heard == [early] and early.message == "mine"
