"""`conformance receiver`: the sample push receiver that ships for trying `conformance
client` (written with smsapi's three lines of docs/push.md). It passes every receiver
check, and as a command it acknowledges authentic pushes and refuses the rest."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests
from click.testing import CliRunner

from conformance.catalogue import select
from conformance.cli import main
from conformance.customer.sample_receiver import SampleReceiver
from smsapi.push import PushKind, encode_push, judge_push_answer, push_fields

REPORT = {"msgid": 9001, "custid": "", "pknum": 1, "pktotal": 1, "mobile": "13800138000",
          "spno": "10690012122", "exno": "", "stime": "2026-11-30 10:00:00",
          "rtime": "2026-11-30 10:00:01", "status": 0, "errcode": "DELIVRD",
          "errdesc": "success", "exdata": ""}  # fmt: skip


@pytest.fixture
def receiver() -> Iterator[SampleReceiver]:
    rx = SampleReceiver().start()
    yield rx
    rx.stop()


def push(url: str, password: str = "111111", seqid: int = 1) -> requests.Response:
    body, content_type = encode_push(push_fields(PushKind.RPT, "J10003", password, seqid, [REPORT]))
    return requests.post(url, data=body, headers={"Content-Type": content_type}, timeout=10)


def test_the_sample_receiver_passes_every_receiver_check(receiver, tmp_path):
    result = CliRunner().invoke(
        main,
        [
            *("client", "--receiver-url", receiver.url, "--stored-url", receiver.stored_url),
            *("--burst", "8", "--store-wait", "0.5", "--report-dir", str(tmp_path)),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    outcomes = {c["id"]: c["outcome"] for c in report["checks"]}
    assert set(outcomes) == {c.id for c in select(side="receiver")}
    assert not {"failed", "error", "warned"} & set(outcomes.values()), outcomes
    assert list(outcomes.values()).count("passed") >= len(outcomes) // 2, outcomes
    assert report["metrics"]["receiver"]["acknowledged"] > 30


def test_an_authentic_push_is_acknowledged_and_its_msgid_stored_once(receiver):
    for seqid in (1, 2):  # the same report again under a new seqid: stored once
        answer = push(receiver.url, seqid=seqid)
        assert judge_push_answer(PushKind.RPT, seqid, answer.status_code, answer.content).ok
    deadline = time.monotonic() + 5
    while not requests.get(receiver.stored_url, timeout=5).json()["rpts"]:
        assert time.monotonic() < deadline, "the report was never stored"
        time.sleep(0.05)
    assert requests.get(receiver.stored_url, timeout=5).json() == {"rpts": [9001], "mos": []}


def test_a_push_with_a_wrong_digest_is_refused(receiver):
    answer = push(receiver.url, password="not-the-password")
    verdict = judge_push_answer(PushKind.RPT, 1, answer.status_code, answer.content)
    assert not verdict.ok and answer.json()["result"] == -100001


def test_the_command_prints_where_it_listens_and_one_line_per_push():
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance", "receiver", "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = process.stderr.readline()
        assert banner.startswith("conformance receiver: pushes to http://127.0.0.1:"), banner
        url = banner.split("pushes to ", 1)[1].split(",", 1)[0]
        assert push(url, seqid=7).json() == {"cmd": "RPT_RESP", "seqid": 7, "result": 0}
        assert process.stdout.readline().strip() == "RPT_REQ seqid 7: 1 report(s), acknowledged"
        push(url, password="wrong", seqid=8)
        assert process.stdout.readline().startswith("RPT_REQ seqid 8: refused (pwd is not")
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_listen_address_that_is_not_host_port_is_a_one_line_usage_error():
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "receiver", "--listen", "nowhere"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "conformance: --listen 'nowhere' is not HOST:PORT"
