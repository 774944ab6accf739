"""``ladder import``: convert an external benchmark's questions to ladder items.

``ladder import cladder QUESTIONS.json [MORE.json ...] --models META.json --out items.jsonl``
rebuilds each
CLadder question's SCM, takes the exact truth and answer from ladder's engine, writes the
items, the questions ladder cannot express (``<out>.skipped.jsonl``, each with its reason)
and, with ``--audit``, the label audit as markdown (``docs/cladder.md``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ladder.core.io import atomic_writer, read_json
from ladder.generation import cladder, cladder_audit
from ladder.generation.cladder import CladderFormatError

__all__ = ["HELP", "NAME", "configure", "run"]

NAME = "import"
HELP = "convert an external benchmark (cladder) to ladder items, with a label audit"


def configure(p: argparse.ArgumentParser) -> None:
    """Add the ``ladder import`` options to ``p``."""
    p.add_argument("benchmark", choices=["cladder"], help="the benchmark's format")
    p.add_argument(
        "questions", type=Path, nargs="+", help="CLadder question file(s) (JSON list each)"
    )
    p.add_argument("--models", type=Path, required=True, help="CLadder model file (meta JSON)")
    p.add_argument("--out", type=Path, required=True, help="item file to write (JSONL)")
    p.add_argument("--audit", type=Path, default=None, help="write the label audit (markdown)")


def _write_jsonl(path: Path, records: list[Any]) -> None:
    with atomic_writer(path) as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")


def run(args: argparse.Namespace) -> int:
    """Convert, write the items, the skipped questions and the audit; print a summary."""
    models = cladder.index_models(read_json(args.models, error=CladderFormatError), args.models)
    items: list[Any] = []
    skipped: list[Any] = []
    rows: list[Any] = []
    # Several files (CLadder ships one per difficulty/variant) import into one item file with
    # one audit; ids carry the file stem, so they stay unique across files.
    for path in args.questions:
        questions = read_json(path, error=CladderFormatError)
        file_items, file_skipped = cladder.convert_file(questions, models, path)
        rows.extend(cladder_audit.audit_import(questions, file_items, file_skipped))
        items.extend(file_items)
        skipped.extend(file_skipped)
    table = cladder_audit.audit(rows)
    skipped_path = args.out.with_name(args.out.name + ".skipped.jsonl")
    _write_jsonl(args.out, items)
    _write_jsonl(skipped_path, skipped)
    if args.audit is not None:
        with atomic_writer(args.audit) as fh:
            fh.write(cladder_audit.audit_markdown(table))
    print(f"wrote {len(items)} items to {args.out}")
    print(f"wrote {len(skipped)} skipped questions to {skipped_path}")
    classes = ", ".join(f"{c} {n}" for c, n in sorted(table["classes"].items()))
    labels = sum(table["label_differs"].values())
    print(f"audit: {classes}; {labels} CLadder labels differ from ladder's")
    if args.audit is not None:
        print(f"wrote audit to {args.audit}")
    return 0
