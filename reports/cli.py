"""`reports signoff` and `reports compare` (docs/reports.md).

Exit status: 0 written, and every substantive requirement met (signoff) or a vendor
ranked (compare); 1 written, but not so; 2 an input or usage error, said in one line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from smsapi.tender import PRICE_CAP

from . import REPORTS_VERSION
from .compare import build as build_comparison
from .inputs import Bid, InputError, parse_price
from .pdf import PdfError, print_pdf
from .render import render_compare, render_signoff
from .signoff import build, build_run


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="reports",
        description="Acceptance sign-off and vendor comparison from conformance and load runs.",
    )
    top.add_argument("--version", action="version", version=f"reports {REPORTS_VERSION}")
    commands = top.add_subparsers(dest="command", required=True)

    signoff = commands.add_parser(
        "signoff",
        help="one vendor's sign-off: HTML, PDF and JSON",
        description="Judge one vendor's runs against the tender; write the sign-off.",
    )
    source = signoff.add_argument_group("runs (either --run, or --conformance and --load)")
    source.add_argument("--run", metavar="DIR", help="run directory: conformance/, load/, bid.toml")
    source.add_argument("--conformance", metavar="DIR", help="`conformance run --report-dir` DIR")
    source.add_argument("--load", metavar="DIR", help="`loadtests run --report-dir` DIR")
    signoff.add_argument("--vendor", metavar="NAME", help="vendor name (default: from the runs)")
    signoff.add_argument(
        "--price",
        metavar="YUAN",
        help=f"quoted price per message, tax included (tender cap {PRICE_CAP})",
    )
    signoff.add_argument("--out", default="signoff.html", help="HTML file; PDF and JSON beside it")
    _output_options(signoff)

    compare = commands.add_parser(
        "compare",
        help="several vendors side by side, ranked by the tender's rule",
        description="Each RUN_DIR holds conformance/, load/ and bid.toml (vendor, price).",
    )
    compare.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    compare.add_argument("--out", default="comparison.html", help="HTML file; PDF beside it")
    _output_options(compare)
    return top


def _output_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--no-pdf", action="store_true", help="no PDF (no browser needed)")
    command.add_argument("--chromium", metavar="PATH", help="browser that prints the PDF")


def outputs(out: str) -> tuple[Path, Path]:
    """The HTML and PDF paths of --out (either suffix given)."""
    path = Path(out)
    html = path.with_suffix(".html") if path.suffix.lower() in (".pdf", "") else path
    return html, html.with_suffix(".pdf")


def signoff_command(args: argparse.Namespace) -> int:
    bid = Bid(price=parse_price(args.price), source="given with --price") if args.price else None
    if args.run:
        if args.conformance or args.load:
            raise InputError("give either --run DIR, or --conformance DIR and --load DIR")
        signoff = build_run(args.run, vendor=args.vendor, price_bid=bid)
    elif args.conformance and args.load:
        signoff = build(args.conformance, args.load, vendor=args.vendor, bid=bid)
    else:
        raise InputError("need --conformance DIR and --load DIR (or --run DIR)")
    html, pdf = outputs(args.out)
    html.parent.mkdir(parents=True, exist_ok=True)
    html.write_text(render_signoff(signoff), encoding="utf-8")
    summary = html.with_suffix(".json")
    summary.write_text(
        json.dumps(signoff.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    for row in signoff.rows:
        why = f"  ({'; '.join(row.misses[:2])})" if row.misses else ""
        print(f"{row.verdict.label:<18} {row.clause:<8} {row.title}{why}")
    print(f"sign-off: {signoff.verdict.label} for {signoff.vendor}")
    written = [html, summary]
    if not args.no_pdf:
        written.append(print_pdf(html, pdf, args.chromium))
    print("wrote " + ", ".join(str(p) for p in written))
    return 0 if signoff.verdict.met else 1


def compare_command(args: argparse.Namespace) -> int:
    comparison = build_comparison(args.run_dirs)
    html, pdf = outputs(args.out)
    html.parent.mkdir(parents=True, exist_ok=True)
    html.write_text(render_compare(comparison), encoding="utf-8")
    for entry in comparison.ranked:
        tie = " (tie)" if entry.tied else ""
        print(f"{entry.rank}{tie}. {entry.label}: {entry.signoff.bid.price} yuan/message")
    for entry in comparison.unranked:
        why = "; ".join(entry.misses) or "no quoted price"
        print(f"not ranked: {entry.label}: {why}")
    written = [html]
    if not args.no_pdf:
        written.append(print_pdf(html, pdf, args.chromium))
    print("wrote " + ", ".join(str(p) for p in written))
    return 0 if comparison.ranked else 1


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "signoff":
            return signoff_command(args)
        return compare_command(args)
    except (InputError, PdfError) as exc:
        print(f"reports: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
