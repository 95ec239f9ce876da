"""examples/<language>/: each sample client runs against a served mock through
`conformance proxy`: it sends (single, batch, multi), matches every report to its
segment by §3.3, reads the balance, and the proxy finds no client fault; its push
receiver answers RPT_RESP / MO_RESP (§2.7.4, §2.8.4). A missing toolchain is a skip
naming what to install (setup.sh installs them), never a pass."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from conformance.catalogue import select
from conformance.config import VendorConfig
from conformance.customer.proxy import Proxy
from conformance.customer.run import run_checks
from conformance.customer.traffic import ProxyContext, ProxySettings
from conformance.events import EventBus
from conformance.outcomes import Outcome
from mockcarrier.launch import free_port
from smsapi.push import (
    PushKind,
    encode_push,
    encode_push_as_example,
    judge_push_answer,
    push_fields,
)

from .conftest import Served, module_server

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
USERID, PASSWORD = "J10003", "111111"
POLL_WAIT = 0.5  # the document's 5 s after an empty get_rpt, shortened (--poll-wait)
# single_send of 2 segments + batch_send to 3 + multi_send to 2 (examples' demo)
MOBILES, SEGMENTS = 6, 7
GO_PATH = "/usr/share/gocode"  # Debian's golang-golang-x-text-dev (GBK for Go)
GSON = "/usr/share/java/gson.jar"  # Debian's libgoogle-gson-java
# A short-lived JVM starts faster without the optimising compiler: javac in half the time
QUICK_JVM = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")


@pytest.fixture(scope="module")
def module_store_url() -> str:
    return ""  # the examples judge clients, not stores: the SQLite store only


mock = module_server("examples")


@dataclass
class Example:
    """How to build (into a temporary directory) and run one language's example."""

    name: str
    needs: tuple[str, ...]  # commands that must be on PATH
    files: tuple[str, ...] = ()  # files that must exist (libraries from Debian)
    build: Callable[[Path, Path], list[list[str]]] = lambda src, out: []
    run: Callable[[Path, Path], list[str]] = lambda src, out: []
    env: dict[str, str] = field(default_factory=dict)
    # the push receiver on a port, when it is not `<run> receiver PORT`
    serve: Callable[[Path, Path, int], list[str]] | None = None

    def missing(self) -> str:
        lacking = [c for c in self.needs if shutil.which(c) is None]
        lacking += [f for f in self.files if not Path(f).exists()]
        return ", ".join(lacking)


LANGUAGES = [
    Example(
        "python",
        ("python3",),
        run=lambda src, out: [sys.executable, str(src / "sms_client.py")],
    ),
    Example(
        "java",
        ("javac", "java"),
        (GSON,),
        build=lambda src, out: [
            ["javac", *(f"-J{o}" for o in QUICK_JVM), "-cp", GSON, "-d", str(out), "SmsClient.java"]
        ],
        run=lambda src, out: ["java", *QUICK_JVM, "-cp", f"{out}:{GSON}", "SmsClient"],
    ),
    Example(
        "php",
        ("php",),
        run=lambda src, out: ["php", str(src / "sms_client.php")],
        serve=lambda src, out, port: ["php", "-S", f"127.0.0.1:{port}", "sms_client.php"],
    ),
    Example(
        "go",
        ("go",),
        (f"{GO_PATH}/src/golang.org/x/text/encoding/simplifiedchinese",),
        build=lambda src, out: [["go", "build", "-o", str(out / "smsclient"), "."]],
        run=lambda src, out: [str(out / "smsclient")],
        env={"GO111MODULE": "off", "GOPATH": GO_PATH, "GOFLAGS": ""},
    ),
    Example(
        "nodejs",
        ("node",),
        run=lambda src, out: ["node", str(src / "sms_client.mjs")],
    ),
    Example(
        "csharp",
        ("mcs", "mono"),
        ("/usr/lib/mono/4.5/I18N.CJK.dll",),
        build=lambda src, out: [
            [
                "mcs",
                "-r:System.Net.Http",
                "-r:System.Web.Extensions",
                "-r:System.Web",
                f"-out:{out / 'SmsClient.exe'}",
                str(src / "SmsClient.cs"),
            ]
        ],
        run=lambda src, out: ["mono", str(out / "SmsClient.exe")],
    ),
]


@dataclass
class Built:
    example: Example
    src: Path
    out: Path
    seconds: float

    def command(self, *args: str) -> list[str]:
        return [*self.example.run(self.src, self.out), *args]

    def receiver(self, port: int) -> list[str]:
        if self.example.serve is not None:
            return self.example.serve(self.src, self.out, port)
        return self.command("receiver", str(port))

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, **self.example.env, **extra}


_built: dict[str, Built] = {}


@pytest.fixture(params=LANGUAGES, ids=lambda e: e.name)
def example(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The example of one language, built once per session; skipped without its toolchain."""
    ex: Example = request.param
    missing = ex.missing()
    if missing:
        pytest.skip(f"{ex.name} toolchain missing ({missing}): run `bash setup.sh`")
    if ex.name not in _built:
        src, out = EXAMPLES / ex.name, tmp_path_factory.mktemp(f"build-{ex.name}")
        started = time.perf_counter()
        for command in ex.build(src, out):
            done = subprocess.run(
                command, cwd=src, env={**os.environ, **ex.env}, capture_output=True, text=True
            )
            assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}{done.stderr}"
        _built[ex.name] = Built(ex, src, out, time.perf_counter() - started)
    return _built[ex.name]


@pytest.fixture
def proxy(mock: Served) -> Iterator[Proxy]:
    px = Proxy("127.0.0.1:0", mock.url).start()
    yield px
    px.stop()


# The rules every example's traffic must be judged on, and pass (not merely not fail)
JUDGED = (
    "CLIENT-DIGEST",
    "CLIENT-TIMESTAMP-FRESH",
    "CLIENT-CONTENT-GBK",
    "CLIENT-BODY-READABLE",
    "CLIENT-FIELDS",
)


def client_verdicts(proxy: Proxy) -> dict[str, Outcome]:
    """The client checks on the proxy's recording (strict profile), by check id."""
    settings = ProxySettings(
        "127.0.0.1:0", proxy.upstream, USERID, PASSWORD, poll_wait=POLL_WAIT
    ).validate()
    config = VendorConfig(target=proxy.url, profile="strict", budget=0)
    ctx = ProxyContext(config, settings, proxy.recording)
    finished = run_checks(ctx, select(side="client"), EventBus())
    faults = {
        check_id: f"{r.outcome.value}: {r.message}"
        for check_id, r in finished.results.items()
        if r.outcome in (Outcome.FAILED, Outcome.WARNED)
    }
    assert faults == {}, "conformance proxy finds client faults"
    return {check_id: r.outcome for check_id, r in finished.results.items()}


def test_each_example_sends_matches_every_report_and_reads_the_balance(
    example: Built, proxy: Proxy
) -> None:
    started = time.perf_counter()
    done = subprocess.run(
        example.command("demo"),
        cwd=example.src,
        env=example.env(
            SMS_BASE_URL=proxy.url,
            SMS_USERID=USERID,
            SMS_PASSWORD=PASSWORD,
            SMS_POLL_WAIT=str(POLL_WAIT),
            SMS_DEADLINE="30",
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["complete"] is True and summary["unmatched"] == 0, summary
    assert (summary["mobiles"], summary["segments"]) == (MOBILES, SEGMENTS), summary
    assert isinstance(summary["balance"], int) and summary["chargetype"] == 0
    endpoints = {rec.endpoint for rec in proxy.recording.snapshot()}
    assert {"single_send", "batch_send", "multi_send", "get_rpt", "get_balance"} <= endpoints
    verdicts = client_verdicts(proxy)
    assert {verdicts[c] for c in JUDGED} == {Outcome.PASSED}, verdicts
    print(f"{example.example.name}: built in {example.seconds:.1f} s, ran in {elapsed:.1f} s")


def test_each_example_receiver_answers_report_and_mo_pushes(example: Built) -> None:
    port = free_port()
    process = subprocess.Popen(
        example.receiver(port),
        cwd=example.src,
        env=example.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_listening(url, process)
        report = {
            "msgid": 7184139219716653057,  # beyond 2^53: JavaScript must not round it
            "custid": "c1",
            "pknum": 1,
            "pktotal": 1,
            "mobile": "13800138000",
            "spno": "10690012122",
            "exno": "",
            "stime": "2026-11-30 10:00:00",
            "rtime": "2026-11-30 10:00:05",
            "status": 0,
            "errcode": "DELIVRD",
            "errdesc": "success",
            "exdata": "",
        }
        pushes = [
            (PushKind.RPT, 41, [report], encode_push),
            (PushKind.MO, 42, [mo()], encode_push_as_example),  # the §2.7.5 example's shape
        ]
        for kind, seqid, items, encode in pushes:
            body, media = encode(push_fields(kind, USERID, PASSWORD, seqid, items))
            answer = requests.post(url, data=body, headers={"Content-Type": media}, timeout=10)
            verdict = judge_push_answer(kind, seqid, answer.status_code, answer.content)
            assert verdict.ok, f"{kind.cmd}: {verdict.reason} {answer.content!r}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def mo() -> dict[str, object]:
    return {
        "msgid": -7184139219716653057,
        "mobile": "13800138000",
        "spno": "10690012122",
        "exno": "",
        "rtime": "2026-11-30 10:00:05",
        "content": "%e6%94%b6%e5%88%b0",  # 收到, urlencoded UTF-8 (§2.4.6)
    }


def wait_listening(url: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    """Until the receiver accepts connections (any answer), or fail with its output."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"receiver exited: {process.communicate()}")
        try:
            requests.get(url, timeout=5)
            return
        except (requests.ConnectionError, requests.Timeout):  # not yet, or a JVM warming up
            time.sleep(0.05)
    pytest.fail("receiver did not listen within 30 s")
