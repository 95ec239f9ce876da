"""python -m conformance.mutants [--only NAME ...] [--list]: the mutation campaign."""

from __future__ import annotations

import argparse
import sys

from .campaign import campaign, write
from .catalogue import MUTANTS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.mutants",
        description="Run the suite against each protocol mutant of a carrier (a mutating "
        "proxy in front of a served mock); write the kill table into docs/conformance.md.",
    )
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these mutants")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument(
        "--no-write", action="store_true", help="print only (--only never writes the table)"
    )
    parser.add_argument(
        "--full", action="store_true", help="every mutant against every category (slow)"
    )
    args = parser.parse_args(argv)
    if args.list:
        for m in MUTANTS:
            print(f"{m.name:<32} {m.rule}  [{', '.join(m.kills)}]")
        print(f"{len(MUTANTS)} mutants")
        return 0
    try:
        results, baselines = campaign(
            args.only, say=lambda line: print(line, flush=True), full=args.full
        )
    except ValueError as exc:
        parser.error(str(exc))
    if not args.only and not args.no_write:
        write(results, baselines)
    survived = [r.mutant.name for r in results if not r.by_its_rule]
    print(
        f"{len(results)} mutants, {sum(r.killed for r in results)} killed, "
        f"{len(results) - len(survived)} by the check of their rule"
        + (f"; not by their rule: {', '.join(survived)}" if survived else "")
    )
    return 0 if not survived else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
