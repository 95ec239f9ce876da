"""conformance client: the suite pushes to a customer's receiver (§2.7 / §2.8) and judges
its answers. Against a receiver written from the document alone every check passes;
against receivers with the typical faults the check of that rule fails, naming it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import schemas
from conformance.catalogue import select
from conformance.cli import main
from conformance.config import VendorConfig
from conformance.customer.pushing import ReceiverContext, ReceiverSettings
from conformance.customer.run import run_checks
from conformance.events import EventBus, RunFinished
from conformance.outcomes import Outcome
from smsapi.auth import digest
from smsapi.push import (
    PushKind,
    encode_push_as_example,
    parse_push_request,
    push_answer_problems,
    push_fields,
)

from .conftest import free_port
from .doc_receiver import DocReceiver


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[DocReceiver]:
    faults = getattr(request, "param", set())
    rx = DocReceiver(faults=set(faults)).start()
    yield rx
    rx.stop()


def run(rx: DocReceiver, *only: str, profile: str = "strict", **settings: Any) -> RunFinished:
    """The receiver checks (all, or those named) against rx, no output."""
    cfg = ReceiverSettings(rx.url, stored_url=rx.stored_url, **settings).validate()
    config = VendorConfig(target=rx.url, userid=cfg.userid, profile=profile, budget=0)
    checks = select(list(only), side="receiver")
    return run_checks(ReceiverContext(config, cfg, seed=7), checks, EventBus())


def outcome(finished: RunFinished, check_id: str) -> Outcome:
    return finished.results[check_id].outcome


# ---------------------------------------------------------------- the catalogue


def test_receiver_checks_join_the_catalogue_but_not_a_carrier_run():
    receiver_ids = {c.id for c in select(side="receiver")}
    assert {"RECV-ACK-SEQID", "RECV-ACK-CMD", "RECV-AUTH-DIGEST"} <= receiver_ids
    assert all(c.category == "receiver" for c in select(side="receiver"))
    assert not receiver_ids & {c.id for c in select()}  # `conformance run` leaves them out
    assert receiver_ids <= {c.id for c in select(side=None)}  # `conformance list` shows them


def test_a_carrier_category_is_unknown_to_the_receiver_side():
    with pytest.raises(ValueError, match="unknown category"):
        select(["codec"], side="receiver")


# ---------------------------------------------------------------- the document's receiver


def test_a_receiver_written_from_the_document_passes_every_check(receiver, tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "client",
            "--receiver-url",
            receiver.url,
            "--stored-url",
            receiver.stored_url,
            "--burst",
            "8",
            "--store-wait",
            "0.5",
            "--report-dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    outcomes = {c["id"]: c["outcome"] for c in report["checks"]}
    assert set(outcomes) == {c.id for c in select(side="receiver")}
    assert set(outcomes.values()) == {"passed"}, outcomes
    assert report["verdict"] == "pass"
    assert report["categories"]["receiver"]["score"] == 1.0
    assert report["metrics"]["receiver"]["acknowledged"] > 30
    assert (tmp_path / "junit.xml").read_text().count("<testcase") == len(outcomes)
    assert "RECV-ACK-SEQID" in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_the_suites_pushes_are_valid_and_each_seqid_is_one_more(receiver):
    run(receiver, "RECV-RPT-SIZES", "RECV-RPT-MSGID-RANGE", "RECV-MO-SIZES", "RECV-MO-UTF8")
    seqids = []
    for content_type, body in receiver.bodies:
        push = parse_push_request(body, content_type)
        assert not push.problems, push.problems
        seqids.append(push.seqid)
        fields = schemas.read_form(body)[0]
        assert schemas.errors(schemas.PUSH_MESSAGES[push.cmd].request, fields) == []
    assert seqids == list(range(seqids[0], seqids[0] + len(seqids)))  # §2.7.3 每次请求加1
    sizes = sorted(len(parse_push_request(b, t).items) for t, b in receiver.bodies)
    assert sizes[-1] == 500 and 100 in sizes and 1 in sizes


def test_the_negative_and_boundary_msgids_arrive_as_signed_64_bit(receiver):
    finished = run(receiver, "RECV-RPT-MSGID-RANGE")
    msgids = finished.results["RECV-RPT-MSGID-RANGE"].details["msgids"]
    assert -(2**63) + 7 in msgids and any(2**53 < m < 2**63 - 2 for m in msgids)
    # §3.3: position 3 of a batch at 2^63 - 2 wraps to -2^63
    assert msgids[3:6] == [2**63 - 2, 2**63 - 1, -(2**63)]
    assert all(-(2**63) <= m < 2**63 for m in msgids)


# ---------------------------------------------------------------- typical faults


@pytest.mark.parametrize(
    "receiver, failing, says, passing",
    [
        ({"wrong-cmd"}, "RECV-ACK-CMD", "cmd 'MO_REQ', expected MO_RESP", "RECV-ACK-SEQID"),
        ({"seqid-not-echoed"}, "RECV-ACK-SEQID", "seqid 0, expected", "RECV-ACK-CMD"),
        ({"not-json"}, "RECV-ACK-JSON", "answer is not JSON", "RECV-ACK-TIME"),
        ({"result-error"}, "RECV-ACK-RESULT", "result -100999", "RECV-ACK-SEQID"),
        ({"slow"}, "RECV-ACK-TIME", "an answer within 0.3 s", "RECV-ACK-RESULT"),
    ],
    indirect=["receiver"],
)
def test_a_faulty_answer_fails_the_check_of_its_rule(receiver, failing, says, passing):
    finished = run(receiver, failing, passing, "RECV-MO-SIZES", answer_limit=0.3)
    result = finished.results[failing]
    assert result.outcome is Outcome.FAILED
    assert says in result.message
    assert result.reproducers and result.reproducers[0].curl.startswith("curl")
    assert outcome(finished, passing) is Outcome.PASSED


@pytest.mark.parametrize("receiver", [{"sync"}], indirect=True)
def test_a_receiver_that_answers_only_after_processing_fails_async(receiver):
    receiver.per_item = 0.002  # 1 s for 500 reports, 2 ms for one
    finished = run(receiver, "RECV-ASYNC", "RECV-ACK-SEQID")
    result = finished.results["RECV-ASYNC"]
    assert result.outcome is Outcome.FAILED
    assert "waits for the processing" in result.message
    timing = result.details["median_answer_s"]
    assert timing["500 reports"] - timing["1 report"] > 0.5
    assert outcome(finished, "RECV-ACK-SEQID") is Outcome.PASSED


def test_the_document_receiver_answers_first_and_passes_async(receiver):
    assert outcome(run(receiver, "RECV-ASYNC"), "RECV-ASYNC") is Outcome.PASSED


@pytest.mark.parametrize("receiver", [{"no-auth"}], indirect=True)
def test_accepting_a_wrong_digest_or_a_stale_timestamp_is_a_security_finding(receiver):
    finished = run(receiver, "RECV-AUTH-DIGEST", "RECV-AUTH-STALE", "RECV-ACK-RESULT")
    for check_id in ("RECV-AUTH-DIGEST", "RECV-AUTH-STALE"):
        result = finished.results[check_id]
        assert result.outcome is Outcome.FAILED, result.message
        assert result.details["finding"] == "security"
    assert "inject" in finished.results["RECV-AUTH-DIGEST"].message
    assert "replayed" in finished.results["RECV-AUTH-STALE"].message
    assert outcome(finished, "RECV-ACK-RESULT") is Outcome.PASSED
    check = next(c for c in select(side="receiver") if c.id == "RECV-AUTH-DIGEST")
    assert check.level.value == "should"


@pytest.mark.parametrize("receiver", [{"result-error"}], indirect=True)
def test_a_receiver_that_acknowledges_nothing_proves_no_refusal(receiver):
    finished = run(receiver, "RECV-AUTH-DIGEST")
    assert outcome(finished, "RECV-AUTH-DIGEST") is Outcome.SKIPPED


@pytest.mark.parametrize("receiver", [{"stores-twice"}], indirect=True)
def test_storing_a_repeated_push_twice_fails_stored_once(receiver):
    finished = run(receiver, "RECV-DUPLICATE", "RECV-STORED-ONCE", store_wait=0.3)
    assert outcome(finished, "RECV-DUPLICATE") is Outcome.PASSED  # both answered
    result = finished.results["RECV-STORED-ONCE"]
    assert result.outcome is Outcome.FAILED
    assert "stored more than once" in result.message


def test_without_a_stored_url_stored_once_is_not_applicable(receiver):
    cfg = ReceiverSettings(receiver.url).validate()
    config = VendorConfig(target=receiver.url, budget=0)
    checks = select(["RECV-STORED-ONCE"], side="receiver")
    finished = run_checks(ReceiverContext(config, cfg), checks, EventBus())
    assert outcome(finished, "RECV-STORED-ONCE") is Outcome.NOT_APPLICABLE


def test_quoted_numbers_in_an_acknowledgement_fail_strict_and_warn_lenient(receiver):
    app = receiver.app
    original = app.view_functions["push"]

    def quoted():  # seqid and result as strings: smsapi reads them, the schema does not
        answer = json.loads(original().get_data())
        return {k: str(v) if k != "cmd" else v for k, v in answer.items()}

    app.view_functions["push"] = quoted
    strict = run(receiver, "RECV-ACK-SCHEMA", "RECV-ACK-SEQID")
    assert outcome(strict, "RECV-ACK-SEQID") is Outcome.PASSED
    assert outcome(strict, "RECV-ACK-SCHEMA") is Outcome.FAILED
    lenient = run(receiver, "RECV-ACK-SCHEMA", profile="lenient")
    assert outcome(lenient, "RECV-ACK-SCHEMA") is Outcome.WARNED


# ---------------------------------------------------------------- the command line


def test_an_unreachable_receiver_is_a_usage_error_in_one_line():
    url = f"http://127.0.0.1:{free_port()}/push"
    result = CliRunner().invoke(main, ["client", "--receiver-url", url])
    assert result.exit_code == 2
    assert result.output.strip().startswith("conformance: cannot reach the receiver")
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("receiver", [{"seqid-not-echoed"}], indirect=True)
def test_a_failed_run_exits_1_and_names_the_rule(receiver, tmp_path):
    junit = tmp_path / "junit.xml"
    args = ["client", "--receiver-url", receiver.url, "--only", "RECV-ACK-SEQID"]
    result = CliRunner().invoke(main, [*args, "--junit-xml", str(junit)])
    assert result.exit_code == 1
    assert "RECV-ACK-SEQID" in result.output and "seqid 0, expected" in result.output
    assert 'name="RECV-ACK-SEQID"' in junit.read_text() and "<failure" in junit.read_text()


# ---------------------------------------------------------------- smsapi pieces it uses


def test_push_answer_problems_names_every_broken_part():
    body = b'{"cmd":"RPT_REQ","seqid":9,"result":-100999}'
    answer, problems = push_answer_problems(PushKind.RPT, 41, 200, body)
    assert answer == {"cmd": "RPT_REQ", "seqid": 9, "result": -100999}
    assert set(problems) == {"cmd", "seqid", "result"}
    assert push_answer_problems(PushKind.MO, 1, 500, b"oops") == (
        None,
        {"http": "HTTP 500", "json": "answer is not JSON: b'oops'"},
    )
    ok = b'{"cmd":"MO_RESP","seqid":1003,"result":0}'
    assert push_answer_problems(PushKind.MO, 1003, 200, ok)[1] == {}


def test_a_push_written_as_the_documents_example_reads_back():
    items = [{"msgid": -5, "mobile": "13800000000", "content": "%b2%e2%ca%d4"}]
    fields = push_fields(PushKind.MO, "J10003", "111111", 1003, items)
    body, content_type = encode_push_as_example(fields)
    assert b'&mos=[{"msgid":-5,' in body  # raw, as §2.7.5 writes it
    push = parse_push_request(body, content_type)
    assert push.items == items and push.seqid == 1003 and push.cmd == "MO_REQ"
    assert push.pwd == digest("J10003", "111111", push.timestamp)


def test_the_docs_name_every_customer_check_and_every_row_they_cite():
    docs = Path(__file__).parents[1] / "docs"
    text = (docs / "conformance-client.md").read_text("utf-8")
    rows = (docs / "interpretations.md").read_text("utf-8")
    customer = [c for c in select(side=None) if c.side != "carrier"]
    assert [c.id for c in customer if c.id not in text] == []
    cited = {row for c in customer for row in c.interpretations}
    assert sorted(row for row in cited if f"| {row} |" not in rows) == []
