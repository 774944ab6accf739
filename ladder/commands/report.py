"""``ladder report``: write a markdown report (with figures) of a run.

Bad input raises a :class:`ladder.core.errors.ReportError`, printed by the CLI as one line
(exit status 2). Warnings go to stderr, one line each.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ladder.analysis.report import write_report
from ladder.core.environment import command_line

__all__ = ["HELP", "NAME", "configure", "run"]

NAME = "report"
HELP = "write a markdown report (with figures) of a run"


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``ladder report``."""
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a run directory")
    parser.add_argument(
        "--baselines",
        type=Path,
        nargs="+",
        default=[],
        metavar="DIR",
        help="baseline runs (random, always-yes, association-oracle, truth-oracle) on the "
        "same items, as run directories or folders of runs; default: sibling runs with the "
        "same item hash. Nothing is computed in-process: for each baseline without a run the "
        "report prints the `ladder run --model NAME --items ... --run-dir ...` command that "
        "makes it, and writes everything else",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="PATH",
        help="markdown file to write (default RUN_DIR/report.md); figures go beside it",
    )
    parser.add_argument(
        "--granger",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder (or file) with granger.json [and series.jsonl]; default: "
        "RUN_DIR/granger.json when present",
    )
    parser.add_argument("--no-figures", action="store_true", help="write the markdown only")


def run(args: argparse.Namespace) -> int:
    """Write the report; print where it went and any warnings."""
    report = write_report(
        args.run_dir,
        baselines=args.baselines,
        out=args.out,
        granger=args.granger,
        figures=not args.no_figures,
        command=command_line(),
    )
    for warning in report.warnings:
        print(f"ladder report: warning: {warning}", file=sys.stderr)
    missing = report.data.get("missing_baselines")
    if missing:
        print(
            f"ladder report: note: no run of {', '.join(missing['names'])} on these items; "
            f"{report.path} lists the `ladder run` commands that make them",
            file=sys.stderr,
        )
    print(f"wrote {report.path} and {len(report.figures)} figure(s)")
    return 0
