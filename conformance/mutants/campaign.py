"""The mutation campaign: the suite against every mutant of the catalogue, each through
the mutating proxy in front of one served mock, and the table of which check kills each.

    python -m conformance.mutants                 # every mutant; writes the table and JSON
    python -m conformance.mutants --only NAME ... # some of them (no files written)

A mutant is killed when a check fails against it that passes against the proxy with no
mutant (the baseline, run first with the same settings); "by its rule" when one of the
checks named for its rule is among them. Slow (minutes): kept out of CI, except for the
few mutants tests/test_mutants.py runs.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockcarrier.launch import free_port, launch

from ..catalogue import CATEGORIES, SIDES, Level, select
from ..config import VendorConfig
from ..outcomes import Outcome
from ..runner import Runner
from ..selfcheck import TEST_MOBILES, admin, vendor_config
from .catalogue import MUTANTS, Mutant
from .proxy import MutatingProxy

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "conformance.md"
RAW = ROOT / "docs" / "mutation-campaign.json"
TABLE_START = "<!-- mutation-table:start -->"
TABLE_END = "<!-- mutation-table:end -->"
APIKEY = "5e1fc4ecc0de5e1fc4ecc0de5e1fc4ec"
# The mock behind the proxy: as the selfcheck's, but pushes go to the proxy.
ACCOUNTS = """
[server]
lockout_failures = 100000

[[accounts]]
userid = "SELF01"
password = "self-pass"
apikey = "{apikey}"
auth_modes = ["md5", "plain", "apikey"]
delivery_profile = "instant"

[[accounts]]
userid = "PUSH01"
password = "push-pass"
delivery_profile = "instant"
push_enabled = true
push_rpt_url = "{proxy}/__push/rpt"
push_mo_url = "{proxy}/__push/mo"
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
PULL_CATEGORIES = [c for c in CATEGORIES if SIDES.get(c, "carrier") == "carrier" and c != "push"]
PUSH_CATEGORIES = ["push", "matching"]


@dataclass
class MutantRun:
    """One mutant's run: which checks failed, which were left unjudged."""

    mutant: Mutant
    failed: list[str]
    inconclusive: list[str]
    passed_musts: list[str]
    seconds: float
    hook_errors: list[str] = field(default_factory=list)
    errored: list[str] = field(default_factory=list)  # checks that crashed (not kills)

    @property
    def killed(self) -> bool:
        return bool(self.failed)

    @property
    def by_its_rule(self) -> bool:
        if self.mutant.kills == ("*",):  # any must-check of any rule: the run fails
            return self.killed
        return any(c in self.failed for c in self.mutant.kills)

    @property
    def status(self) -> str:
        if self.by_its_rule:
            return "KILLED"
        return "KILLED (other check)" if self.killed else "SURVIVED"

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.mutant.to_dict(),
            "status": self.status,
            "killed_by": self.failed,
            "inconclusive": self.inconclusive,
            "must_checks_passed": self.passed_musts,
            "seconds": round(self.seconds, 1),
            "hook_errors": self.hook_errors[:5],
            "errored": self.errored,
        }


@dataclass
class Bench:
    """The served mock, the proxy in front of it, and the suite's settings."""

    proxy: MutatingProxy
    url: str
    folder: Path
    listen: str
    callback: str
    baseline: dict[str, set[str]] = field(default_factory=dict)  # side -> failing checks
    hook_errors: list[str] = field(default_factory=list)  # of the last run's mutant

    def config(
        self, pushes: bool, report_timeout: float = 2.0, only: list[str] | None = None
    ) -> VendorConfig:
        default = PUSH_CATEGORIES if pushes else PULL_CATEGORIES
        config = vendor_config(
            self.proxy.url, pushes, self.listen, self.callback, self.folder, only=only or default
        )
        config.apikey = "" if pushes else APIKEY
        config.report_timeout = report_timeout
        config.lockout_window = 0  # this mock never locks (lockout_failures = 100000)
        return config

    def run(
        self,
        mutant: Mutant | None,
        pushes: bool,
        full: bool = False,
        only: list[str] | None = None,
    ) -> tuple[dict[str, Outcome], float]:
        self.proxy.use(mutant)
        if only is None and not full and mutant is not None:
            only = categories_for(mutant)
        config = self.config(pushes, 2.0 + (mutant.report_hold * 1.5 if mutant else 0.0), only)
        mo = {"mobile": TEST_MOBILES[0], "content": "收到，谢谢"}
        admin(self.url, "POST", f"/accounts/{config.userid}/mo", json=mo)
        started = time.monotonic()
        try:
            run = Runner(config).run(select(config.only))
            outcomes = {cid: r.outcome for cid, r in run.results.items()}
        except Exception as exc:  # noqa: BLE001  (a preflight refusal kills the mutant too)
            outcomes = {"PREFLIGHT": Outcome.FAILED}
            print(f"  {mutant.name if mutant else 'baseline'}: run stopped: {exc}")
        finally:
            self.hook_errors = list(self.proxy.errors)
            self.proxy.use(None)
        return outcomes, time.monotonic() - started


def categories_for(mutant: Mutant) -> list[str] | None:
    """The categories a mutant's run covers: those of the checks of its rule (all for the
    carrier that says yes to everything; push and matching for a push mutant)."""
    if mutant.kills == ("*",):
        return None
    if mutant.pushes:
        return PUSH_CATEGORIES
    by_id = {c.id: c.category for c in select()}
    wanted = {by_id[k] for k in mutant.kills if k in by_id}
    return [c for c in PULL_CATEGORIES if c in wanted] or None


@contextmanager
def bench(folder: Path) -> Iterator[Bench]:
    port = free_port()
    listen, callback = f"127.0.0.1:{port}", f"http://127.0.0.1:{port}/push"
    proxy = MutatingProxy(upstream="", push_target=callback, good_apikey=APIKEY)
    config = folder / "mutants.toml"
    config.write_text(ACCOUNTS.format(apikey=APIKEY, proxy=proxy.url), encoding="utf-8")
    args = ["--db", str(folder / "mock.db"), "--config", str(config)]
    with launch([*args, "--seed", "5", "--time-scale", "10"], folder / "mock.log") as mock:
        proxy.upstream = mock.url
        with proxy:
            yield Bench(proxy, mock.url, folder, listen, callback)


def judge(
    bench_: Bench, mutant: Mutant, outcomes: dict[str, Outcome], seconds: float, pushes: bool
) -> MutantRun:
    side = "push" if pushes else "pull"
    baseline = bench_.baseline.get(side, set())
    # a kill is a FAILED check; an ERROR (the check crashed) is shown, never counted
    failed = sorted(
        cid for cid, o in outcomes.items() if o is Outcome.FAILED and cid not in baseline
    )
    errored = sorted(cid for cid, o in outcomes.items() if o is Outcome.ERROR)
    inconclusive = sorted(cid for cid, o in outcomes.items() if o is Outcome.INCONCLUSIVE)
    musts = {c.id for c in select() if c.level is Level.MUST}
    passed = sorted(
        cid for cid, o in outcomes.items() if cid in musts and o in (Outcome.PASSED, Outcome.WARNED)
    )
    return MutantRun(
        mutant, failed, inconclusive, passed, seconds, list(bench_.hook_errors), errored
    )


def campaign(
    names: list[str] | None = None,
    folder: Path | None = None,
    say: Callable[[str], None] = print,
    full: bool = False,
) -> tuple[list[MutantRun], dict[str, list[str]]]:
    """Run the baseline(s), then each chosen mutant; the results and the baselines."""
    chosen = [m for m in MUTANTS if names is None or m.name in names]
    unknown = set(names or []) - {m.name for m in MUTANTS}
    if unknown:
        raise ValueError(f"no such mutant: {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
        folder = folder or Path(tmp)
        with bench(folder) as b:
            for pushes in sorted({m.pushes for m in chosen}):
                outcomes, seconds = b.run(None, pushes)
                side = "push" if pushes else "pull"
                b.baseline[side] = {c for c, o in outcomes.items() if o.counts_as_failure}
                say(
                    f"baseline ({side}, {seconds:.1f} s): "
                    f"{', '.join(sorted(b.baseline[side])) or 'no check fails'}"
                )
            results = []
            for mutant in chosen:
                outcomes, seconds = b.run(mutant, mutant.pushes, full)
                result = judge(b, mutant, outcomes, seconds, mutant.pushes)
                results.append(result)
                if result.errored:
                    say(f"  {mutant.name}: checks ended in ERROR: {', '.join(result.errored)}")
                if result.hook_errors:
                    say(
                        f"  {mutant.name}: its hook raised {len(result.hook_errors)} time(s), "
                        f"e.g. {result.hook_errors[0]}"
                    )
                say(
                    f"{result.status:<20} {mutant.name:<30} ({seconds:.1f} s) "
                    f"{', '.join(result.failed) or '-'}"
                    + (
                        f"; must-checks passed: {result.passed_musts}"
                        if mutant.kills == ("*",)
                        else ""
                    )
                )
            baselines = {k: sorted(v) for k, v in b.baseline.items()}
    return results, baselines


def table(results: list[MutantRun]) -> str:
    """The Markdown table of docs/conformance.md."""
    lines = [
        "| mutant | rule it breaks | killed by | check of its rule |",
        "|---|---|---|---|",
    ]
    for r in results:
        killed = ", ".join(r.failed) or "**SURVIVED**"
        if r.mutant.kills == ("*",):
            rule_check = (
                "every applicable must-check failed or not judged"
                if not r.passed_musts
                else f"must-checks still passed: {', '.join(r.passed_musts)}"
            )
        else:
            mark = "yes" if r.by_its_rule else "**no**"
            rule_check = f"{', '.join(r.mutant.kills)} ({mark})"
        lines.append(
            f"| `{r.mutant.name}`: {r.mutant.description} | {r.mutant.rule} | {killed} | "
            f"{rule_check} |"
        )
    n_killed = sum(1 for r in results if r.killed)
    by_rule = sum(1 for r in results if r.by_its_rule)
    lines.append("")
    lines.append(
        f"{len(results)} mutants: {by_rule} killed by the check of their rule, "
        f"{n_killed - by_rule} only by other checks, {len(results) - n_killed} survived."
    )
    return "\n".join(lines)


def write(results: list[MutantRun], baselines: dict[str, list[str]]) -> None:
    """The table into docs/conformance.md (between its markers), the raw JSON beside it."""
    RAW.write_text(
        json.dumps(
            {
                "baselines": baselines,
                "mutants": [r.to_dict() for r in results],
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    text = DOC.read_text(encoding="utf-8")
    block = f"{TABLE_START}\n{table(results)}\n{TABLE_END}"
    if TABLE_START in text and TABLE_END in text:
        head, rest = text.split(TABLE_START, 1)
        tail = rest.split(TABLE_END, 1)[1]
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    DOC.write_text(text, encoding="utf-8")
