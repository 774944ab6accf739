"""Command-line glue for ``ladder report`` and ``ladder leaderboard``.

Register with :mod:`ladder.cli`::

    command("report", "write a markdown report of a run", configure_report)(handle_report)
    command("leaderboard", "rank runs made on the same items",
            configure_leaderboard)(handle_leaderboard)

Bad input raises :class:`ladder.analysis.report.ReportError` (a ``ValueError``): the CLI prints it as
one line and exits with status 2. Warnings go to stderr, one line each.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["configure_leaderboard", "configure_report", "handle_leaderboard", "handle_report"]


def configure_report(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``ladder report``."""
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a run directory")
    parser.add_argument(
        "--baselines",
        type=Path,
        nargs="+",
        default=[],
        metavar="DIR",
        help="baseline run directories (or folders of runs) on the same items; "
        "default: sibling runs with the same item hash, else computed "
        "in-process from the run's items.jsonl",
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


def handle_report(args: argparse.Namespace) -> int:
    """Write the report; print where it went and any warnings."""
    from ladder.analysis.report import command_line, write_report

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
    print(f"wrote {report.path} and {len(report.figures)} figure(s)")
    return 0


def configure_leaderboard(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``ladder leaderboard``."""
    parser.add_argument(
        "run_dirs",
        type=Path,
        nargs="+",
        metavar="RUN_DIR",
        help="run directories made on the same item file",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("reports/leaderboard.md"),
        metavar="PATH",
        help="markdown file (default reports/leaderboard.md); "
        "a CSV with the same name is written beside it",
    )
    parser.add_argument(
        "--per-slice",
        action="store_true",
        help="add per-slice tables; allows runs on different item files "
        "(compared per slice, with a warning)",
    )


def handle_leaderboard(args: argparse.Namespace) -> int:
    """Write the leaderboard markdown and CSV; print the headline."""
    from ladder.analysis.leaderboard import write_leaderboard

    board = write_leaderboard(args.run_dirs, args.out, per_slice=args.per_slice)
    for warning in board.warnings:
        print(f"ladder leaderboard: warning: {warning.replace('**', '')}", file=sys.stderr)
    print(board.headline.replace("**", ""))
    print(f"wrote {args.out} and {Path(args.out).with_suffix('.csv')}")
    return 0
