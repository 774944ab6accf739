"""ladder: causal-reasoning probes for language models (command line).

Each sub-command is a small function registered with :func:`command`; bad input is
reported as one line ``ladder <command>: error: ...`` with exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from ladder.core.errors import LadderError, UsageError

__all__ = ["COMMANDS", "UsageError", "command", "main"]


Handler = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Handler, str]] = {}


def command(
    name: str, help_text: str, configure: Callable[[argparse.ArgumentParser], None]
) -> Callable[[Handler], Handler]:
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
    for title, key in (
        ("rung", "rung"),
        ("query type", "query_type"),
        ("graph family", "graph_family"),
        ("verbalization", "verbalization"),
        ("evidence", "evidence"),
    ):
        counts: dict[Any, Counter[str]] = {}
        for item in items:
            counts.setdefault(item[key], Counter())[item["answer"]] += 1
        lines.append(f"\n{title:<18}{'yes':>7}{'no':>7}{'total':>8}")
        for value in sorted(counts, key=str):
            c = counts[value]
            lines.append(f"{value!s:<18}{c['yes']:>7}{c['no']:>7}{c['yes'] + c['no']:>8}")
    return "\n".join(lines)


@command("generate", "generate an item dataset (JSONL) from a suite or spec", _configure_generate)
def _generate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ladder.core.io import atomic_writer
    from ladder.generation.generate import dumps, generate_items
    from ladder.generation.specs import load_spec, load_suite

    spec = load_spec(args.spec) if args.spec else load_suite(args.suite or "core")
    n = spec.n if args.n is None else args.n
    if n < 1:
        raise UsageError(f"--n {n}: the number of items must be at least 1")
    items = []
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


# -- run --------------------------------------------------------------------------------


def _configure_run(p: argparse.ArgumentParser) -> None:
    m = p.add_argument_group("model")
    m.add_argument(
        "--model",
        default=None,
        help="hub id, local folder, .gguf file, embedded name (smollm2-135m-instruct, "
        "gemma-3-270m) or baseline (random, always-yes, association-oracle, "
        "truth-oracle); default: the embedded SmolLM2-135M-Instruct",
    )
    m.add_argument(
        "--gguf-file",
        default=None,
        help="GGUF file name inside --model's folder, or a path to a .gguf file",
    )
    m.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    m.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    m.add_argument("--revision", default=None, help="hub revision (branch, tag or commit)")
    m.add_argument("--trust-remote-code", action="store_true")
    tpl = m.add_mutually_exclusive_group()
    tpl.add_argument(
        "--chat-template",
        dest="chat_template",
        action="store_true",
        default=None,
        help="require the tokenizer's chat template (default: use it if present)",
    )
    tpl.add_argument(
        "--no-chat-template",
        dest="chat_template",
        action="store_false",
        help="score the bare prompt followed by 'Answer:'",
    )
    m.add_argument(
        "--mode",
        default="loglik",
        choices=["loglik", "generate"],
        help="loglik: option log-likelihood (default); generate: greedy decoding",
    )
    m.add_argument("--max-batch-tokens", type=int, default=None)
    d = p.add_argument_group("items")
    src = d.add_mutually_exclusive_group()
    src.add_argument("--items", type=Path, default=None, help="an item file (JSONL)")
    src.add_argument("--suite", default=None, help="generate a built-in suite (default quick)")
    src.add_argument("--spec", type=Path, default=None, help="generate from a spec file")
    d.add_argument("--n", type=int, default=None, help="items to generate")
    d.add_argument("--seed", type=int, default=0, help="generation seed (default 0)")
    d.add_argument("--limit", type=int, default=None, help="score only the first N items")
    o = p.add_argument_group("output")
    o.add_argument("--out-dir", type=Path, default=Path("runs"), help="runs root (default runs/)")
    o.add_argument("--run-dir", type=Path, default=None, help="exact run directory to create")
    o.add_argument(
        "--resume", type=Path, default=None, metavar="RUN_DIR", help="continue an interrupted run"
    )
    o.add_argument("--no-cache", action="store_true", help="do not use the response cache")
    o.add_argument("--quiet", action="store_true")


def _model_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "gguf_file": args.gguf_file,
        "dtype": args.dtype,
        "device": args.device,
        "revision": args.revision,
        "trust_remote_code": args.trust_remote_code,
        "chat_template": args.chat_template,
        "mode": args.mode,
        "max_batch_tokens": args.max_batch_tokens,
    }


@command(
    "run", "evaluate a model or baseline on an item file (or a generated suite)", _configure_run
)
def _run(args: argparse.Namespace) -> int:
    import json as _json
    import shlex

    from ladder.generation.items import read_items
    from ladder.harness.predictors import BASELINES, get_predictor
    from ladder.harness.runner import ResponseCache, RunError, new_run_dir, run

    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit {args.limit}: must be at least 1")
    if args.n is not None and args.n < 1:
        raise UsageError(f"--n {args.n}: the number of items must be at least 1")
    model_name, options = args.model, _model_options(args)
    if args.resume:
        results_path = args.resume / "results.json"
        if not results_path.is_file():
            raise RunError(f"--resume {args.resume}: no results.json there; not a run directory")
        recorded = _json.loads(results_path.read_text()).get("model", {})
        if model_name is None:
            model_name = recorded.get("load", {}).get("model", recorded.get("name"))
            options = {**options, **recorded.get("load", {}).get("options", {})}
    elif args.items is not None:
        read_items(args.items)  # validate before anything is loaded or created
    spec = None
    if not args.resume and args.items is None:
        from ladder.generation.specs import load_spec, load_suite

        spec = load_spec(args.spec) if args.spec else load_suite(args.suite or "quick")
    if model_name in BASELINES:
        predictor = get_predictor(model_name)
    else:
        predictor = get_predictor(model_name, progress=False, **options)
    if args.resume:
        run_dir = args.resume
        items_path = run_dir / "items.jsonl"
    else:
        run_dir = args.run_dir or new_run_dir(args.out_dir, predictor.slug)
        run_dir.mkdir(parents=True, exist_ok=True)
        if args.run_dir and any(run_dir.iterdir()):
            raise RunError(f"--run-dir {run_dir}: exists and is not empty; use --resume")
        items_path = args.items if args.items is not None else run_dir / "items.jsonl"
        if spec is not None:
            from ladder.core.io import atomic_writer
            from ladder.generation.generate import dumps, generate_items

            with atomic_writer(items_path) as fh:
                for item in generate_items(spec, args.seed, args.n):
                    fh.write(dumps(item) + "\n")
    provenance: dict[str, Any] = {}
    if spec is not None:
        provenance["spec"] = {
            "name": spec.name,
            "source": spec.source,
            "sha256": spec.sha256,
            "seed": args.seed,
            "n": args.n or spec.n,
        }
    cache = None
    if not args.no_cache and model_name not in BASELINES:
        from ladder.harness.models.loading import cache_root

        cache = ResponseCache(cache_root() / "responses.sqlite")
    command_line = shlex.join(["ladder", *sys.argv[1:]]) if sys.argv else None
    try:
        results = run(
            predictor,
            items_path,
            run_dir,
            resume=bool(args.resume),
            cache=cache,
            limit=args.limit,
            progress=not args.quiet,
            command=command_line,
            provenance=provenance,
        )
    except KeyboardInterrupt:
        print(
            f"ladder run: interrupted; samples so far are in {run_dir}/samples.jsonl. "
            f"Continue with: ladder run --resume {run_dir}",
            file=sys.stderr,
        )
        return 130
    finally:
        if cache:
            cache.close()
    overall = results["metrics"]["overall"]
    if not args.quiet:
        print(
            f"{predictor.name}: accuracy {overall['accuracy']:.3f} "
            f"[{overall['ci_low']:.3f}, {overall['ci_high']:.3f}] on {overall['n']} items; "
            f"yes-rate {overall['yes_rate']:.3f}; Brier {overall['brier']:.3f}"
        )
        for rung, m in results["metrics"]["slices"]["rung"].items():
            print(
                f"  rung {rung}: {m['accuracy']:.3f} [{m['ci_low']:.3f}, {m['ci_high']:.3f}] "
                f"(n={m['n']})"
            )
        print(f"wrote {run_dir}")
    return 0


# -- export --------------------------------------------------------------------------------


def _configure_export(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", default="lm-eval", choices=["lm-eval"])
    p.add_argument("--items", type=Path, required=True, help="item file (JSONL)")
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--task-name", default=None, help="lm-eval task name (default ladder_<task>)")


@command(
    "export",
    "write an item file as an lm-evaluation-harness task (YAML + JSONL)",
    _configure_export,
)
def _export(args: argparse.Namespace) -> int:
    from ladder.harness.export import export_lm_eval

    paths = export_lm_eval(args.items, args.out, args.task_name)
    for path in paths:
        print(f"wrote {path}")
    return 0


# -- granger --------------------------------------------------------------------------------


def _configure_granger(p: argparse.ArgumentParser) -> None:
    from ladder.commands.granger import configure

    configure(p)


@command(
    "granger",
    "Granger probes: statsmodels against the model's own next-token "
    "transfer entropy on series from known dynamic graphs",
    _configure_granger,
)
def _granger(args: argparse.Namespace) -> int:
    from ladder.commands.granger import handle

    return handle(args)


# -- report / leaderboard ---------------------------------------------------------------------


def _register_reports() -> None:
    from ladder.commands.report import (
        configure_leaderboard,
        configure_report,
        handle_leaderboard,
        handle_report,
    )

    command("report", "write a markdown report (with figures) of a run", configure_report)(
        handle_report
    )
    command("leaderboard", "rank runs made on the same items", configure_leaderboard)(
        handle_leaderboard
    )


_register_reports()


# -- entry point ----------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (raised, printed by :func:`main`)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ladder", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (configure, handler, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        configure(p)
        p.set_defaults(handler=handler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (2 for bad input)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print(f"ladder {args.command}: interrupted", file=sys.stderr)
        return 130
    except LadderError as exc:  # bad input; anything else is a bug and keeps its traceback
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"ladder {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
