"""``ladder run``: score a model or baseline on an item file (or a generated suite)."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from ladder.core.errors import RunError, UsageError
from ladder.core.io import atomic_writer
from ladder.generation.generate import dumps, generate_items
from ladder.generation.items import read_items
from ladder.generation.specs import load_spec, load_suite
from ladder.harness.models.loading import cache_root
from ladder.harness.predictors import BASELINES, get_predictor
from ladder.harness.runner import ResponseCache, new_run_dir
from ladder.harness.runner import run as run_items

__all__ = ["HELP", "NAME", "configure", "run"]

NAME = "run"
HELP = "evaluate a model or baseline on an item file (or a generated suite)"


def configure(p: argparse.ArgumentParser) -> None:
    """Add the ``ladder run`` options to ``p``."""
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


def run(args: argparse.Namespace) -> int:
    """Score a model or baseline and write its run directory; returns the exit status."""

    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit {args.limit}: must be at least 1")
    if args.n is not None and args.n < 1:
        raise UsageError(f"--n {args.n}: the number of items must be at least 1")
    model_name, options = args.model, _model_options(args)
    if args.resume:
        results_path = args.resume / "results.json"
        if not results_path.is_file():
            raise RunError(f"--resume {args.resume}: no results.json there; not a run directory")
        recorded = json.loads(results_path.read_text()).get("model", {})
        if model_name is None:
            model_name = recorded.get("load", {}).get("model", recorded.get("name"))
            options = {**options, **recorded.get("load", {}).get("options", {})}
    elif args.items is not None:
        read_items(args.items)  # validate before anything is loaded or created
    spec = None
    if not args.resume and args.items is None:
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
        cache = ResponseCache(cache_root() / "responses.sqlite")
    command_line = shlex.join(["ladder", *sys.argv[1:]]) if sys.argv else None
    try:
        results = run_items(
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
