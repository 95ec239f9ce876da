"""conformance: the catalogue, configuration, safety, ledger and verdict rules, without a
carrier (the suite against a served mock is in test_conformance_run.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.budget import Budget, SafetyError, admit, guard_mobiles
from conformance.catalogue import CATEGORIES, Level, select
from conformance.cli import main
from conformance.config import VendorConfigError, load_config
from conformance.context import RunContext
from conformance.ledger import Outgoing, RunLedger
from conformance.metrics import channel_of, percentile
from conformance.outcomes import CheckFailed, CheckSkipped
from conformance.shapes import answer_findings, report_findings
from conformance.strategies import custom_invalid, gbk_text, invalid_mobiles
from smsapi.fields import custom_field_rule
from smsapi.mobile import classify
from smsapi.msgid import INT64_MAX, SEGMENT_STRIDE

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "conformance" / "examples" / "vendor.toml"
TEST_MOBILES = ["13800138000", "13012345678", "18912345678"]

# ---------------------------------------------------------------- the catalogue


def test_every_check_has_a_stable_id_a_section_a_category_and_a_level() -> None:
    checks = select()
    ids = [c.id for c in checks]
    assert len(ids) == len(set(ids))
    for c in checks:
        assert re.fullmatch(r"[A-Z]+(-[A-Z0-9]+)+", c.id), c.id
        assert c.category in CATEGORIES and c.level in (Level.MUST, Level.SHOULD)
        assert c.section.startswith(("§", "tender")) and c.title


def test_every_carrier_category_of_the_issue_has_checks() -> None:
    carrier = {"codec", "auth", "limits", "matching", "reports", "errors", "balance"}
    carrier |= {"robustness", "push", "business"}
    assert {c.category for c in select()} == carrier


def test_interpretation_rows_cited_by_checks_exist() -> None:
    text = (ROOT / "docs" / "interpretations.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| ([A-Z]\d+b?) \|", text, re.MULTILINE))
    for c in select():
        missing = set(c.interpretations) - rows - {"schemas"}
        assert not missing, f"{c.id} cites {missing}"


def test_run_wide_checks_come_last() -> None:
    finals = [c.final for c in select()]
    assert finals == sorted(finals)


def test_only_selects_categories_or_ids_and_refuses_unknown_names() -> None:
    assert {c.category for c in select(["auth"])} == {"auth"}
    assert [c.id for c in select(["MATCH-BATCH-MSGID"])] == ["MATCH-BATCH-MSGID"]
    with pytest.raises(ValueError, match="unknown category"):
        select(["nonsense"])


def test_list_prints_the_catalogue() -> None:
    out = CliRunner().invoke(main, ["list"])
    assert out.exit_code == 0
    assert "MATCH-BATCH-MSGID" in out.output and "§3.3.2" in out.output
    assert "ROB-XML-BOMB" in out.output and "should" in out.output


def test_dry_run_prints_messages_and_cost_without_touching_the_target(tmp_path: Path) -> None:
    mobiles = tmp_path / "mobiles.txt"
    mobiles.write_text("13800138000\n# a comment\n13012345678\n", encoding="utf-8")
    args = ["run", "--target", "http://127.0.0.1:9", "--userid", "J10003", "--password", "x"]
    out = CliRunner().invoke(
        main, [*args, "--test-mobiles", str(mobiles), "--budget", "50", "--dry-run"]
    )
    assert out.exit_code == 0, out.output
    assert re.search(r"LIMIT-BATCH-1000 .*\(skipped: needs up to 1000 message", out.output)
    total = re.search(r"up to (\d+) message\(s\) within a budget of 50", out.output)
    assert total and int(total.group(1)) <= 50
    assert "yuan at 0.029 yuan per segment" in out.output
    assert "the verdict will be INCOMPLETE" in out.output  # skipped must-checks, said first


def test_dry_run_without_test_mobiles_skips_every_check_that_sends() -> None:
    args = ["run", "--target", "http://127.0.0.1:9", "--userid", "J10003", "--password", "x"]
    out = CliRunner().invoke(main, [*args, "--dry-run"])
    assert out.exit_code == 0, out.output
    config = load_config(budget=200)
    sending = [c.id for c in select() if c.worst_cost(config) > 0 and not c.not_applicable(config)]
    for check_id in sending:
        assert re.search(rf"{check_id} .*\(skipped: sends to test mobiles", out.output), check_id
    assert "up to 0 message(s)" in out.output and "nothing will be sent" in out.output


def test_dry_run_shows_what_does_not_apply_to_the_configuration() -> None:
    args = ["run", "--target", "http://127.0.0.1:9", "--userid", "J10003", "--password", "x"]
    out = CliRunner().invoke(main, [*args, "--dry-run"])
    assert re.search(
        r"AUTH-APIKEY .*\(not applicable: the vendor did not enable apikey", out.output
    )
    assert re.search(r"PUSH-DELIVERED .*\(not applicable: no --callback-listen", out.output)
    assert re.search(r"ERR-ARREARS .*\(not applicable: no \[\[accounts\]\] role", out.output)


def test_a_check_runs_only_when_its_worst_case_fits_what_the_plan_has_left() -> None:
    config = load_config(target="http://x", test_mobiles=TEST_MOBILES, budget=10)
    costly = next(c for c in select() if c.worst_cost(config) > 10)
    cheap = next(c for c in select() if 0 < c.worst_cost(config) <= 10)
    budget = Budget(10)
    admit(cheap, config, budget)
    assert budget.planned == cheap.worst_cost(config)
    with pytest.raises(CheckSkipped, match="raise --budget"):
        admit(costly, config, budget)
    budget.spent = 0  # what a check did not spend is not lent to later ones
    with pytest.raises(CheckSkipped):
        admit(cheap, config, Budget(cheap.worst_cost(config) - 1))


# ---------------------------------------------------------------- configuration


def test_the_example_vendor_file_loads() -> None:
    config = load_config(EXAMPLE).validate()
    assert config.target and config.auth_modes == ["md5", "plain", "apikey"]
    assert config.signature_length == 6 and len(config.test_mobiles) == 3
    assert config.settings_dict()["password"] == "***"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"target": ""}, "no target"),
        ({"test_mobiles": ["1380013800"]}, "not a valid number"),
        ({"callback_listen": "127.0.0.1:9"}, "go together"),
        ({"profile": "loose"}, "strict or lenient"),
    ],
)
def test_configuration_errors_are_said_in_one_line(overrides: dict, message: str) -> None:
    with pytest.raises(VendorConfigError, match=message):
        load_config(EXAMPLE, **overrides).validate()


def test_an_unknown_key_in_the_vendor_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vendor.toml"
    path.write_text('target = "http://x"\n[budget]\nmessagez = 3\n', encoding="utf-8")
    with pytest.raises(VendorConfigError, match="messagez"):
        load_config(path)


# ---------------------------------------------------------------- safety


def test_the_budget_is_never_exceeded_and_refunds_what_was_refused() -> None:
    budget = Budget(10)
    first = budget.reserve(8)
    with pytest.raises(CheckSkipped, match="2 left of the budget of 10"):
        budget.reserve(3)
    budget.settle(first, 0)  # refused by the carrier: nothing billed
    assert budget.left == 10
    budget.settle(budget.reserve(10), 10)
    assert budget.left == 0 and budget.spent == 10


def test_only_test_mobiles_or_invalid_numbers_can_be_sent_to() -> None:
    guard_mobiles(["13800138000", "008613800138000", "1380013800", "abc"], TEST_MOBILES)
    with pytest.raises(SafetyError, match="13900139000"):
        guard_mobiles(["13800138000", "13900139000"], TEST_MOBILES)


# ---------------------------------------------------------------- the ledger (§3.3)


def test_batch_reports_match_by_msgid_plus_position_with_signed_wrap() -> None:
    ledger = RunLedger()
    base = INT64_MAX - 1  # position 3 wraps to INT64_MIN: "msgid may be negative"
    items = [Outgoing(m, "x", custid="c1") for m in TEST_MOBILES]
    messages = ledger.record("T", "batch_send", base, "c1", items, [1, 1, 2], [True] * 3)
    assert messages[2].msgid == -(2**63)
    assert messages[2].segment_id(2) == -(2**63) + SEGMENT_STRIDE
    for m in messages:
        for k in range(1, m.expected_pktotal + 1):
            report = {"msgid": m.segment_id(k), "custid": "c1", "mobile": m.mobile, "pknum": k}
            assert ledger.file(report, "pull").message is m
    assert all(m.complete for m in messages) and not ledger.unmatched


def test_a_report_with_a_wrong_msgid_is_found_by_custid_and_mobile_only_later() -> None:
    ledger = RunLedger()
    (message,) = ledger.record(
        "T", "single_send", 1000, "c2", [Outgoing("13800138000", "x")], [1], [True]
    )
    report = ledger.file({"msgid": 999, "custid": "c2", "mobile": "13800138000"}, "pull")
    assert report.message is None  # its send might not be recorded yet (push overtaking)
    ledger.resolve(age=0)
    assert report.matched_by == "custid" and message.reports[1] == [report]


def test_a_report_pushed_before_its_send_is_recorded_is_filed_when_it_is() -> None:
    ledger = RunLedger()
    early = ledger.file({"msgid": 77, "custid": "c3", "mobile": "13800138000"}, "push")
    ledger.record("T", "single_send", 77, "c3", [Outgoing("13800138000", "x")], [1], [True])
    assert early.matched_by == "msgid" and not ledger.unmatched


def test_two_sends_sharing_a_segment_id_are_a_collision() -> None:
    ledger = RunLedger()
    pair = [Outgoing("13800138000", "x")] * 2
    ledger.record("T", "batch_send", 500, "a", pair, [1, 1], [True] * 2)
    ledger.record("T", "single_send", 501, "b", [Outgoing("13012345678", "x")], [1], [True])
    assert [sid for sid, _, _ in ledger.collisions] == [501]


# ---------------------------------------------------------------- profiles


def test_a_deviation_fails_under_strict_and_warns_under_lenient() -> None:
    strict = RunContext(load_config(EXAMPLE))
    with pytest.raises(CheckFailed, match="expected an integer msgid; got a string"):
        strict.deviation("M1", "an integer msgid", "a string")
    lenient = RunContext(load_config(EXAMPLE, profile="lenient"))
    lenient.deviation("M1", "an integer msgid", "a string")
    assert [w.rows for w in lenient.current.warnings] == [("M1",)]


# ---------------------------------------------------------------- findings and figures


def test_a_msgid_string_is_a_deviation_of_row_m1_and_money_as_number_of_m9() -> None:
    send = answer_findings("single_send", {"result": 0, "msgid": "12", "custid": "a"})
    assert [f.rows for f in send] == [("M1",)]
    balance = {"result": 0, "chargetype": 0, "balance": 5, "money": 0}
    assert ("M9",) in [f.rows for f in answer_findings("get_balance", balance)]


def test_a_failure_answer_must_keep_the_shape() -> None:
    findings = answer_findings("single_send", {"result": -100001})
    assert findings and "missing" in findings[0].message and not findings[0].rows


def test_report_times_must_be_the_documents_format_and_rtime_after_stime() -> None:
    report = {
        **dict.fromkeys(("custid", "mobile", "spno", "exno", "errdesc", "exdata"), ""),
        "msgid": 1,
        "pknum": 1,
        "pktotal": 1,
        "status": 0,
        "errcode": "DELIVRD",
        "stime": "2016-08-04 17:38:59",
        "rtime": "2016-08-04T17:39:00",
    }
    assert any("YYYY-MM-DD HH:MM:SS" in f.message for f in report_findings(report))
    report["rtime"] = "2016-08-04 17:38:58"
    assert any("before stime" in f.message for f in report_findings(report))


def test_percentiles_are_nearest_rank_and_the_channel_drops_the_exno() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.99)) == (50.0, 99.0)
    assert percentile([], 0.5) is None
    assert channel_of("106900121220006", "0006") == "10690012122"


# ---------------------------------------------------------------- strategies


@settings(max_examples=60)
@given(st.data())
def test_invalid_mobile_strategy_only_draws_numbers_no_phone_has(data: st.DataObject) -> None:
    number = data.draw(invalid_mobiles(data.draw(st.sampled_from(TEST_MOBILES))))
    assert not classify(number).valid


@settings(max_examples=60)
@given(custom_invalid())
def test_invalid_custom_values_break_the_field_rule(value: str) -> None:
    assert custom_field_rule(value) is not None


@settings(max_examples=30)
@given(st.integers(1, 200).flatmap(gbk_text))
def test_gbk_texts_encode_in_gbk_and_are_not_space_padded(text: str) -> None:
    text.encode("gbk")
    assert text == text.strip() or not text.strip()
