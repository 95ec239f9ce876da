"""Write benchmarks/RESULTS.md from the benchmarks' saved raw output, so that no figure in
it is typed by hand.

    .venv/bin/python -m benchmarks.write_results            # write RESULTS.md
    .venv/bin/python -m benchmarks.write_results --check    # exit 1 when it is stale
    .venv/bin/python -m benchmarks.write_results --missing  # the runs the table lacks

Reads benchmarks/results/*.json (one file per run, written by benchmarks.common.Run) and
the hand-written prose, benchmarks/RESULTS.template.md, whose `<!-- figures -->` line is
replaced by the tables. One row per benchmark × store × instances (× row, for delivery):
the latest run; when the latest runs share its command and commit, the median run of the
latest --runs of them (by the row's headline figure).
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .targets import EXPECTED, TARGETS

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"
TEMPLATE = HERE / "RESULTS.template.md"
OUTPUT = HERE / "RESULTS.md"
MARKER = "<!-- figures -->"
ORDER = (
    "single_send",
    "batch_send",
    "delivery",
    "year",
    "slow_clients",
    "push_lag",
    "proxy_overhead",
    "loadgen_ceiling",
)
STORES = {"sqlite": "SQLite store", "redis": "Redis store", "none": "Without a mock"}
HEADER = (
    "<!-- Written by `python -m benchmarks.write_results` from benchmarks/results/*.json and\n"
    "     benchmarks/RESULTS.template.md: edit those, never this file. -->\n\n"
)


@dataclass
class Shown:
    """The run a table row shows, and how many runs it was chosen from."""

    run: dict[str, Any]
    path: Path
    among: int  # 1: the latest run; n > 1: the median of n runs of one command and commit


def load(results_dir: Path) -> list[tuple[dict[str, Any], Path]]:
    runs = []
    for path in sorted(results_dir.glob("*.json")):
        runs.append((json.loads(path.read_text(encoding="utf-8")), path))
    return runs


def _key(run: dict[str, Any]) -> tuple[str, str, int]:
    return run["benchmark"], run["store"], int(run.get("instances", 1))


def _headline(run: dict[str, Any]) -> float:
    row = run["rows"][0]
    value = row["figures"].get(row["headline"])
    return float(value) if isinstance(value, int | float) else float("inf")


def choose(runs: list[tuple[dict[str, Any], Path]], latest_n: int) -> dict[tuple, Shown]:
    """For each benchmark × store × instances: the latest run, or the median run of the
    latest latest_n runs made by the same command on the same commit (and tree state)."""
    groups: dict[tuple, list[tuple[dict[str, Any], Path]]] = defaultdict(list)
    for run, path in runs:
        groups[_key(run)].append((run, path))
    shown = {}
    for key, group in groups.items():
        group.sort(key=lambda rp: (rp[0]["started_at"], rp[1].name))
        latest = group[-1][0]
        same = [
            rp
            for rp in group
            if (rp[0]["command"], rp[0].get("commit"), rp[0].get("dirty"))
            == (latest["command"], latest.get("commit"), latest.get("dirty"))
        ][-latest_n:]
        ordered = sorted(same, key=lambda rp: _headline(rp[0]))
        run, path = ordered[(len(ordered) - 1) // 2]  # the lower median: a real run
        shown[key] = Shown(run, path, len(same))
    return shown


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _met(met: bool | None) -> str:
    return "—" if met is None else ("yes" if met else "**no**")


def _order(key: tuple[str, str, int]) -> tuple[int, int, str]:
    benchmark, _, instances = key
    rank = ORDER.index(benchmark) if benchmark in ORDER else len(ORDER)
    return rank, instances, benchmark


def _when(shown: Shown) -> str:
    run = shown.run
    commit = (run.get("commit") or "unknown")[:10] + (" + changes" if run.get("dirty") else "")
    before, after = run["machine"]["load_before"][0], run["machine"]["load_after"][0]
    chosen = "latest run" if shown.among == 1 else f"median of {shown.among} runs"
    return (
        f"{run['started_at'].replace('T', ' ')} | {commit} | {before:.1f} → {after:.1f} | "
        f"{chosen} | `{shown.path.name}`"
    )


def tables(shown: dict[tuple, Shown]) -> str:
    out: list[str] = []
    if not shown:
        out.append("No run is saved yet in benchmarks/results/.\n")
    for store, heading in STORES.items():
        keys = sorted((k for k in shown if k[1] == store), key=_order)
        if not keys:
            continue
        out += [
            f"### {heading}\n",
            "| Benchmark (command) | Figure | Baseline (same run) | Ratio | Target | Met? |",
            "|---|---|---|---|---|---|",
        ]
        for key in keys:
            run = shown[key].run
            spread = f", {key[2]} instances on one redis-server" if key[2] > 1 else ""
            for n, row in enumerate(run["rows"]):
                command = f" (`{run['command']}`)" if n == 0 else ", same run"
                ratio = "—" if row.get("ratio") is None else f"{row['ratio']:.2f}"
                target = row.get("target") or "—"
                if row.get("target_source"):
                    target += f" ({row['target_source']})"
                cells = [
                    f"{row['title']}{spread}{command}",
                    row["figure"],
                    row["baseline"] or "—",
                    ratio,
                    target,
                    _met(row.get("met")),
                ]
                out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        out.append("")
    if shown:
        out += [
            "### The runs behind the rows\n",
            "| Benchmark | Store | Started (UTC) | Commit | Load (1 min) before → after "
            "| Chosen | Raw output (benchmarks/results/) |",
            "|---|---|---|---|---|---|---|",
        ]
        for key in sorted(shown, key=lambda k: (list(STORES).index(k[1]), *_order(k))):
            store = key[1] + (f" × {key[2]}" if key[2] > 1 else "")
            out.append(f"| {key[0]} | {store} | {_when(shown[key])} |")
        out.append("")
        machines = sorted({_machine(s.run) for s in shown.values()})
        out.append("Machine" + ("s" if len(machines) > 1 else "") + ":\n")
        out += [f"- {m}" for m in machines]
        out.append("")
    out += [
        "### The targets (benchmarks/targets.py)\n",
        "| Benchmark | Stores | Target | From |",
        "|---|---|---|---|",
    ]
    for target in TARGETS:
        name = target.benchmark + (f" ({target.row})" if target.row else "")
        stores = ", ".join(target.stores)
        out.append(f"| {name} | {stores} | {_cell(target.text())} | {target.source} |")
    out.append("")
    missing = [e for e in EXPECTED if (e.benchmark, e.store, e.instances) not in shown]
    out.append("### Runs the table still needs\n")
    if missing:
        out += [f"- `{e.command}`" for e in missing]
    else:
        out.append("None: every run in benchmarks/targets.py (EXPECTED) is saved.")
    return "\n".join(out).rstrip() + "\n"


def _machine(run: dict[str, Any]) -> str:
    facts = run["machine"]
    packages = ", ".join(f"{k} {v}" for k, v in sorted(facts.get("packages", {}).items()) if v)
    return (
        f"{facts['description']}, {facts.get('memory_gb')} GB RAM; redis-server "
        f"{facts.get('redis_server')}, wrk {facts.get('wrk')}; {packages}"
    )


def render(results_dir: Path, template: str, latest_n: int = 5) -> str:
    shown = choose(load(results_dir), latest_n)
    if MARKER not in template:
        raise ValueError(f"the template has no {MARKER} line")
    note = (
        "Each row: the latest saved run of that benchmark, store and number of instances;\n"
        f"when several of the latest (up to {latest_n}) share its command and commit, the\n"
        "median run of them, by the row's headline figure (the Chosen column says which).\n"
        "Baselines and ratios come from the same run as the figure.\n\n"
    )
    return HEADER + template.replace(MARKER, note + tables(shown).rstrip())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--runs", type=int, default=5, help="median of at most this many")
    parser.add_argument("--check", action="store_true", help="exit 1 when --output is stale")
    parser.add_argument("--missing", action="store_true", help="print the runs still needed")
    args = parser.parse_args(argv)
    if args.missing:
        shown = choose(load(args.results_dir), args.runs)
        for e in EXPECTED:
            if (e.benchmark, e.store, e.instances) not in shown:
                print(e.command)
        return 0
    text = render(args.results_dir, args.template.read_text(encoding="utf-8"), args.runs)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current == text:
            return 0
        diff = difflib.unified_diff(
            current.splitlines(), text.splitlines(), str(args.output), "generated", lineterm=""
        )
        print("\n".join(list(diff)[:60]))
        print(f"{args.output} is stale: run `python -m benchmarks.write_results`", file=sys.stderr)
        return 1
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
