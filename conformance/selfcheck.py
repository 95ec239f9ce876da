"""`conformance selfcheck`: prove the suite against the mock carrier. One run against the
clean mock (every check must pass), then one per defect mode of the mock (every defect
must be caught by at least one check). Uses the mock's admin API (/__admin/defects, MO
injection, accounts), so it works against `mockcarrier` only.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from mockcarrier.launch import free_port, launch

from .config import ExtraAccount, VendorConfig
from .events import EventBus, RunFinished
from .runner import Runner

# The categories that can see a defect, by the mock's area of it; a push defect runs the
# push category against an account that pushes to the suite's receiver.
AREA_CATEGORIES = {
    "msgid": ["matching"],
    "codec": ["codec", "balance", "errors"],
    "auth": ["auth"],
    "limits": ["limits"],
    "reports": ["matching", "reports"],
}
# Each defect mode of the mock → the check(s) of the rule it breaks: the selfcheck counts
# a defect caught only when one of these fails (caught only by other checks is a miss).
CAUGHT_BY: dict[str, tuple[str, ...]] = {
    "batch-msgid-off-by-one": ("MATCH-BATCH-MSGID",),
    "wrong-segment-stride": ("MATCH-SINGLE-LONG",),
    "xml-answered-in-json": ("CODEC-XML-REQUEST",),
    "msgid-as-string": ("CODEC-ANSWER-SCHEMA",),
    "money-as-number": ("BAL-SHAPE",),
    "failure-shape-broken": ("ERR-FAILURE-SHAPE",),
    "auth-not-checked": ("AUTH-WRONG-DIGEST",),
    "push-digest-upper-case": ("PUSH-DIGEST",),
    "retsize-cap-ignored": ("LIMIT-RPT-RETSIZE",),
    "retsize-cap-plus-one": ("LIMIT-RPT-RETSIZE",),
    "retsize-default-small": ("LIMIT-RPT-RETSIZE",),
    "exno-not-checked": ("LIMIT-EXNO",),
    "balance-not-charged": ("BAL-CHARGED",),
    "result-as-word": ("CODEC-SEND-FORMATS",),
    "batch-limit-ignored": ("LIMIT-BATCH-OVER-1000",),
    "custid-not-echoed": ("MATCH-MULTI-MSGID",),
    "report-custid-missing": ("MATCH-CUSTID",),
    "pknum-zero-for-short": ("MATCH-PKNUM-PKTOTAL",),
    "time-iso-format": ("RPT-FIELDS",),
    "exdata-not-echoed": ("RPT-ECHO",),
    "phantom-report": ("MATCH-NO-PHANTOM-REPORT",),
    "failed-report-delivrd": ("RPT-FAILED-REPORT",),
    "late-reports-rtime-stime": ("BIZ-DELIVERY-5S",),
    "report-times-utc": ("RPT-TIMES-CLOCK",),
    "reports-handed-twice": ("MATCH-NO-DUPLICATE-REPORT",),
    "seqid-not-increasing": ("PUSH-SEQID",),
    "push-over-limit": ("PUSH-BATCH-SIZE",),
    "push-as-json": ("PUSH-FORM",),
    "push-no-retry": ("PUSH-RETRY-REFUSED",),
}
# Defects whose reports come late: the run waits long enough for them to be judged.
REPORT_TIMEOUTS = {"late-reports-rtime-stime": 10.0}  # the defect holds reports 6 s
TEST_MOBILES = ["13800138000", "13012345678", "18912345678"]  # one per network
ACCOUNTS = """
[server]
lockout_failures = 100000

[[accounts]]
userid = "SELF01"
password = "self-pass"
apikey = "5e1fc4ecc0de5e1fc4ecc0de5e1fc4ec"
auth_modes = ["md5", "plain", "apikey"]
delivery_profile = "instant"

[[accounts]]
userid = "PUSH01"
password = "push-pass"
delivery_profile = "instant"
push_enabled = true
push_rpt_url = "{callback}"
push_timeout = 1.0
push_backoff_initial = 0.2
push_backoff_max = 1.0

[[accounts]]
userid = "POOR01"
password = "poor-pass"
balance = 0

[[accounts]]
userid = "IPONLY"
password = "ip-pass"
allowed_ips = ["10.99.0.0/16"]

[[accounts]]
userid = "LOCK01"
password = "lock-pass"
"""


@dataclass
class SelfcheckVerdict:
    """One scenario of the selfcheck: which checks failed."""

    name: str
    categories: list[str]
    failed: list[str]
    seconds: float
    run: RunFinished | None = field(default=None, repr=False)
    must_catch: tuple[str, ...] = ()  # the check(s) of the defect's rule (CAUGHT_BY)

    @property
    def caught(self) -> bool:
        """Caught by the check of its rule; a defect caught only by other checks, or one
        tied to no check, is a miss."""
        return any(check_id in self.failed for check_id in self.must_catch)

    @property
    def caught_elsewhere(self) -> list[str]:
        return [c for c in self.failed if c not in self.must_catch]


@contextmanager
def served_mock(folder: Path, callback: str) -> Iterator[str]:
    """A `mockcarrier serve` subprocess on a free port (instant delivery, time scale 10)."""
    config = folder / "selfcheck.toml"
    config.write_text(ACCOUNTS.format(callback=callback), encoding="utf-8")
    args = ["--db", str(folder / "mock.db"), "--config", str(config)]
    with launch([*args, "--seed", "5", "--time-scale", "10"], folder / "mock.log") as mock:
        yield mock.url


def vendor_config(
    url: str, push: bool, listen: str, callback: str, folder: Path, **kw: Any
) -> VendorConfig:
    account = ("PUSH01", "push-pass") if push else ("SELF01", "self-pass")
    config = VendorConfig(
        vendor="mockcarrier (selfcheck)",
        target=url,
        userid=account[0],
        password=account[1],
        apikey="" if push else "5e1fc4ecc0de5e1fc4ecc0de5e1fc4ec",
        auth_modes=["md5"] if push else ["md5", "plain", "apikey"],
        signature_length=6,  # the mock's 【通渝科技】
        test_mobiles=list(TEST_MOBILES),
        budget=10000,
        callback_listen=listen if push else "",
        callback_url=callback if push else "",
        push_silence=2.0,
        report_timeout=2.0,
        poll_interval=0.05,
        lockout_attempts=3,
        lockout_window=0,  # the selfcheck's mock never locks (lockout_failures = 100000)
        max_examples=4,
        stateful_steps=4,
        seed=20200413,
        report_dir=str(folder),  # the hypothesis example database goes there
        mo_inject_url=f"{url}/__admin/accounts/{account[0]}/mo",  # MO checks need MOs
        accounts=[
            ExtraAccount("arrears", "POOR01", "poor-pass"),
            ExtraAccount("ip_restricted", "IPONLY", "ip-pass"),
            ExtraAccount("lockout", "LOCK01"),
        ],
    )
    for key, value in kw.items():
        setattr(config, key, value)
    return config.validate()


def categories_for(defect: str, area: str) -> list[str]:
    """The categories a defect's run covers: its area's, and those of the checks that must
    catch it (so that a tie to a check of another category can be honoured)."""
    from .catalogue import select

    by_id = {c.id: c.category for c in select()}
    wanted = set(AREA_CATEGORIES.get(area, []))
    wanted |= {by_id[c] for c in CAUGHT_BY.get(defect, ()) if c in by_id}
    return sorted(wanted)


def run_once(config: VendorConfig, bus: EventBus | None = None) -> RunFinished:
    from .catalogue import select

    return Runner(config, bus).run(select(config.only))


def admin(url: str, method: str, path: str, **kw: Any) -> Any:
    response = requests.request(method, f"{url}/__admin{path}", timeout=10, **kw)
    response.raise_for_status()
    return response.json()


def selfcheck(
    folder: Path | None = None,
    defects: list[str] | None = None,
    report: Callable[[SelfcheckVerdict], None] | None = None,
    clean: bool = True,
) -> list[SelfcheckVerdict]:
    """The clean run first (unless clean is False), then one run per defect (all the
    mock has, or those named)."""
    with tempfile.TemporaryDirectory(prefix="selfcheck-") as tmp:
        folder = folder or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        port = free_port()
        listen, callback = f"127.0.0.1:{port}", f"http://127.0.0.1:{port}/push"
        verdicts = []
        with served_mock(folder, callback) as url:
            table = admin(url, "GET", "/defects")
            chosen = [d for d in table if defects is None or d["name"] in defects]
            scenarios: list[tuple[str, str | None, bool, list[str]]] = (
                [("clean", None, False, [])] if clean else []
            )
            for d in chosen:
                push = "push" in d["area"] or "push" in d["name"]
                only = ["push"] if push else categories_for(d["name"], d["area"])
                scenarios.append((d["name"], d["name"], push, only))
            for name, defect, push, only in scenarios:
                admin(url, "PUT", "/defects", json={"enabled": [defect] if defect else []})
                wait = {"report_timeout": REPORT_TIMEOUTS[name]} if name in REPORT_TIMEOUTS else {}
                config = vendor_config(url, push, listen, callback, folder, only=only, **wait)
                mo = {"mobile": TEST_MOBILES[0], "content": "收到，谢谢"}
                admin(url, "POST", f"/accounts/{config.userid}/mo", json=mo)
                started = time.monotonic()
                run = run_once(config)
                if name == "clean":  # the push checks on the pushing account
                    push_config = vendor_config(url, True, listen, callback, folder, only=["push"])
                    push_run = run_once(push_config)
                    run.results.update(push_run.results)
                    run.checks = [*run.checks, *push_run.checks]
                failed = sorted(
                    check_id
                    for check_id, result in run.results.items()
                    if result.outcome.counts_as_failure
                )
                must = CAUGHT_BY.get(name, ()) if defect else ()
                verdict = SelfcheckVerdict(
                    name, only, failed, time.monotonic() - started, run, must
                )
                verdicts.append(verdict)
                if report:
                    report(verdict)
            admin(url, "PUT", "/defects", json={"enabled": []})
        return verdicts
