"""The ``ladder`` command line.

Each sub-command is a small function registered with :func:`command`; bad input is
reported as one line ``ladder <command>: error: ...`` with exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["COMMANDS", "UsageError", "command", "main"]


class UsageError(ValueError):
    """Bad input from the command line: reported as one line, exit status 2."""


Handler = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Handler, str]] = {}


def command(name: str, help_text: str,
            configure: Callable[[argparse.ArgumentParser], None]) -> Callable[[Handler], Handler]:
    """Register a sub-command: its argument set-up and its handler."""
    def register(fn: Handler) -> Handler:
        COMMANDS[name] = (configure, fn, help_text)
        return fn
    return register


# -- generate -----------------------------------------------------------------------------------

def _configure_generate(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group()
    src.add_argument("--suite", default=None, help="built-in suite: core or quick (default core)")
    src.add_argument("--spec", type=Path, default=None, help="path of a task spec (YAML)")
    p.add_argument("--n", type=int, default=None, help="number of items (default: the spec's n)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", type=Path, default=Path("items.jsonl"), help="output JSONL file")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")


def summary_table(items: Sequence[dict[str, Any]]) -> str:
    """Counts per rung, query type, graph family and answer, as a plain-text table."""
    lines = [f"{len(items)} items"]
    for title, key in (("rung", "rung"), ("query type", "query_type"),
                       ("graph family", "graph_family"), ("verbalization", "verbalization"),
                       ("evidence", "evidence")):
        counts: dict[Any, Counter[str]] = {}
        for item in items:
            counts.setdefault(item[key], Counter())[item["answer"]] += 1
        lines.append(f"\n{title:<18}{'yes':>7}{'no':>7}{'total':>8}")
        for value in sorted(counts, key=str):
            c = counts[value]
            lines.append(f"{value!s:<18}{c['yes']:>7}{c['no']:>7}{c['yes'] + c['no']:>8}")
    return "\n".join(lines)


@command("generate", "generate an item dataset (JSONL) from a suite or spec",
         _configure_generate)
def _generate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ladder.generate import dumps, generate_items
    from ladder.items import atomic_writer
    from ladder.specs import load_spec, load_suite

    spec = load_spec(args.spec) if args.spec else load_suite(args.suite or "core")
    n = spec.n if args.n is None else args.n
    if n < 1:
        raise UsageError(f"--n {n}: the number of items must be at least 1")
    items = []
    try:
        with atomic_writer(args.out) as fh:
            for item in tqdm(generate_items(spec, args.seed, n), total=n, unit="item",
                             desc=f"generate {spec.name}", disable=args.quiet, file=sys.stderr):
                fh.write(dumps(item) + "\n")
                items.append(item)
    except OSError as exc:
        raise UsageError(f"--out {args.out}: cannot write the output file "
                         f"({exc.strerror or exc})") from None
    if not args.quiet:
        print(summary_table(items))
        print(f"\nwrote {args.out} (spec {spec.source}, seed {args.seed})")
    return 0


# -- entry point ----------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ladder", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (configure, handler, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        configure(p)
        p.set_defaults(handler=handler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (2 for bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print(f"ladder {args.command}: interrupted", file=sys.stderr)
        return 130
    except ValueError as exc:  # SpecError, SCMError, GenerationError, ItemFileError, ...
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"ladder {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
