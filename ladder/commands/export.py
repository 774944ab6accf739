"""``ladder export``: write an item file as an lm-evaluation-harness task (YAML + JSONL)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ladder.harness.export import export_lm_eval

__all__ = ["HELP", "NAME", "configure", "run"]

NAME = "export"
HELP = "write an item file as an lm-evaluation-harness task (YAML + JSONL)"


def configure(p: argparse.ArgumentParser) -> None:
    """Add the ``ladder export`` options to ``p``."""
    p.add_argument("--format", default="lm-eval", choices=["lm-eval"])
    p.add_argument("--items", type=Path, required=True, help="item file (JSONL)")
    p.add_argument("--out", type=Path, required=True, help="output directory (created if needed)")
    p.add_argument(
        "--task-name",
        default=None,
        help="lm-eval task name: letters, digits and underscores (default ladder_<task>)",
    )


def run(args: argparse.Namespace) -> int:
    """Write the task files and print their paths."""

    paths = export_lm_eval(args.items, args.out, args.task_name)
    for path in paths:
        print(f"wrote {path}")
    return 0
