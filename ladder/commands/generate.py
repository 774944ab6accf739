"""``ladder generate``: write an item dataset (JSONL) from a built-in suite or a spec."""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ladder.core.errors import UsageError
from ladder.core.io import atomic_writer
from ladder.core.records import ANSWER, FAMILY_ID, Item
from ladder.generation.generate import discordant_counts, dumps, generate_items, item_count
from ladder.generation.specs import load_spec, load_suite

__all__ = ["HELP", "NAME", "configure", "run", "summary_table"]

NAME = "generate"
HELP = "generate an item dataset (JSONL) from a suite or spec"


def configure(p: argparse.ArgumentParser) -> None:
    """Add the ``ladder generate`` options to ``p``."""
    src = p.add_mutually_exclusive_group()
    src.add_argument(
        "--suite",
        default=None,
        help="built-in suite: core, quick, paired or identify (default core)",
    )
    src.add_argument("--spec", type=Path, default=None, help="path of a task spec (YAML)")
    p.add_argument(
        "--n",
        type=int,
        default=None,
        help="number of items (default: the spec's n; at most the spec's max_n, default 100000)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", type=Path, default=Path("items.jsonl"), help="output JSONL file")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")


def _family_lines(items: Sequence[Item]) -> list[str]:
    """How many families the items form and how many items each has (contract 2 only).

    >>> print(_family_lines([{"family_id": "a"}, {"family_id": "a"}, {}])[0])
    1 families, 2 items per family (min 2, max 2); 1 items without a family
    """
    sizes = Counter(item[FAMILY_ID] for item in items if FAMILY_ID in item)
    alone = len(items) - sum(sizes.values())
    if not sizes:
        return ["no families (contract version 1: one question per SCM)"]
    mean = sum(sizes.values()) / len(sizes)
    line = (
        f"{len(sizes)} families, {mean:.3g} items per family "
        f"(min {min(sizes.values())}, max {max(sizes.values())})"
    )
    return [line + (f"; {alone} items without a family" if alone else "")]


def _discordant_lines(items: Sequence[Item]) -> list[str]:
    """Per query type: items whose association answer differs from the answer, and share."""
    counts = discordant_counts(items)  # per type, and correlation-vs-ate pairs (families)
    lines = [f"\n{'discordant':<18}{'items':>7}{'of':>7}{'share':>8}"]
    for value in sorted(counts):
        d, total = counts[value]
        lines.append(f"{value:<18}{d:>7}{total:>7}{d / total:>8.2f}")
    return lines


def summary_table(items: Sequence[Item]) -> str:
    """Counts per rung, query type, graph family and answer, as a plain-text table, then
    the families (number, items per family) and the discordant share per query type."""
    lines = [f"{len(items)} items", *_family_lines(items)]
    for title, key in (
        ("rung", "rung"),
        ("query type", "query_type"),
        ("graph family", "graph_family"),
        ("verbalization", "verbalization"),
        ("evidence", "evidence"),
    ):
        counts: dict[Any, Counter[str]] = {}
        for item in items:
            counts.setdefault(item.get(key), Counter())[item[ANSWER]] += 1
        lines.append(f"\n{title:<18}{'yes':>7}{'no':>7}{'total':>8}")
        for value in sorted(counts, key=str):
            c = counts[value]
            lines.append(f"{value!s:<18}{c['yes']:>7}{c['no']:>7}{c['yes'] + c['no']:>8}")
    lines += _discordant_lines(items)
    return "\n".join(lines)


def _check_out(out: Path) -> None:
    """Refuse an ``--out`` that cannot be written, before any work is done."""
    directory = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        reason = "is a directory; give a file path"
    elif directory.exists() and not directory.is_dir():
        reason = f"{directory} is not a directory"
    elif not directory.is_dir():
        reason = f"its folder {directory} does not exist"
    elif not os.access(directory, os.W_OK | os.X_OK):
        reason = f"its folder {directory} is not writable"
    else:
        return
    raise UsageError(f"--out {out}: cannot write the output file ({reason})")


def run(args: argparse.Namespace) -> int:
    """Generate the items and print a summary table; returns the exit status."""
    spec = load_spec(args.spec) if args.spec else load_suite(args.suite or "core")
    n = item_count(spec, args.n)
    _check_out(args.out)
    items: list[Item] = []
    try:
        with atomic_writer(args.out) as fh:
            for item in tqdm(
                generate_items(spec, args.seed, n),
                total=n,
                unit="item",
                desc=f"generate {spec.name}",
                disable=args.quiet,
                file=sys.stderr,
            ):
                fh.write(dumps(item) + "\n")
                items.append(item)
    except OSError as exc:
        raise UsageError(
            f"--out {args.out}: cannot write the output file ({exc.strerror or exc})"
        ) from None
    if not args.quiet:
        print(summary_table(items))
        print(f"\nwrote {args.out} (spec {spec.source}, seed {args.seed})")
    return 0
