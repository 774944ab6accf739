"""``ladder leaderboard``: rank runs made on the same items (markdown and CSV).

Bad input raises a :class:`ladder.core.errors.LeaderboardError`, printed by the CLI as one
line (exit status 2). Warnings go to stderr, one line each: among them, one per run
directory left out because its results.json is missing or corrupt.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ladder.analysis.leaderboard import write_leaderboard, write_suite_columns

__all__ = ["HELP", "NAME", "configure", "run"]

NAME = "leaderboard"
HELP = "rank runs made on the same items"


def configure(parser: argparse.ArgumentParser) -> None:
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
    parser.add_argument(
        "--suites",
        action="store_true",
        help="runs on several item files (e.g. core and an imported CLadder file): one "
        "column per suite, a ranked board per suite, no test across suites",
    )


def run(args: argparse.Namespace) -> int:
    """Write the leaderboard markdown and CSV; print the headline."""
    if args.suites:
        for warning in write_suite_columns(args.run_dirs, args.out):
            print(f"ladder leaderboard: warning: {warning.replace('**', '')}", file=sys.stderr)
        print(f"wrote {args.out} and {Path(args.out).with_suffix('.csv')}")
        return 0
    board = write_leaderboard(args.run_dirs, args.out, per_slice=args.per_slice)
    for warning in board.warnings:
        print(f"ladder leaderboard: warning: {warning.replace('**', '')}", file=sys.stderr)
    print(board.headline.replace("**", ""))
    print(f"wrote {args.out} and {Path(args.out).with_suffix('.csv')}")
    return 0
