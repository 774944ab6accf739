"""``ladder granger``: run the Granger probes of a grid on a model and write the run files.

Usage::

    ladder granger [--model M] [--grid quick|full|PATH] [--out DIR] [--resume] [--limit N]

``--model`` defaults to the embedded SmolLM2-135M-Instruct; ``--model linear-oracle`` runs
the stand-in predictor (an in-context least-squares VAR; no language model). The run writes
``DIR/granger.json`` and ``DIR/series.jsonl`` (default ``DIR``: ``runs/granger/<model
slug>-<grid name>``). Bad input raises ``ValueError``; the ``ladder`` wrapper prints it as one
line and exits with status 2.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from ladder.core.errors import UsageError
from ladder.core.io import slugify
from ladder.granger.grid import load_grid
from ladder.granger.probe import ORACLE_NAME, make_backend, run_granger

__all__ = ["HELP", "NAME", "configure", "run", "summary_lines"]

NAME = "granger"
HELP = (
    "Granger probes: statsmodels against the model's own next-token "
    "transfer entropy on series from known dynamic graphs"
)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``ladder granger`` options to ``parser``."""
    parser.add_argument(
        "--model",
        default=None,
        help="hub id, local folder, .gguf file, embedded name, or "
        "'linear-oracle' (the stand-in predictor); default: the embedded "
        "SmolLM2-135M-Instruct",
    )
    parser.add_argument(
        "--grid",
        default="quick",
        help="built-in grid (quick, full) or a grid YAML file (default quick)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="run directory (default runs/granger/<model>-<grid>)"
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue the run in --out (skip series already done)"
    )
    parser.add_argument(
        "--limit", type=int, default=None, help="probe only the first N series of the grid"
    )
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    parser.add_argument(
        "--max-batch-tokens",
        type=int,
        default=None,
        help="padded tokens per forward pass (default: the scorer's)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (1 is faster on a small machine shared with other work)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")


def _fmt(value: Any, spec: str = ".3f") -> str:
    return "n/a" if value is None else format(value, spec)


def summary_lines(results: dict[str, Any]) -> list[str]:
    """A few plain lines from ``granger.json`` for the terminal."""
    s = results["summary"]
    o = s["overall"]
    lines = [
        f"{results['model']['name']} on {results['grid']['name']}: {o['n']} series "
        f"({o['n_testable']} testable by statsmodels), status {results['status']}",
        f"  rejection rate  statsmodels {_fmt(o['sm_reject_rate'])}  model "
        f"{_fmt(o['model_reject_rate'])}  truth {_fmt(o['truth_rate'])}",
        f"  kappa  model~statsmodels {_fmt(o['kappa_model_sm'])}  model~truth "
        f"{_fmt(o['kappa_model_truth'])}  statsmodels~truth {_fmt(o['kappa_sm_truth'])}",
        f"  TE_M / TE_gauss (median, true links) {_fmt(s['te_ratio']['median'])} "
        f"(n={s['te_ratio']['n']})",
    ]
    for name, block in s["fpr"].items():
        if block["n"]:
            lines.append(
                f"  false positives, {name} (n={block['n']}): statsmodels "
                f"{_fmt(block['sm'])}  model {_fmt(block['model'])}  verbal "
                f"{_fmt(block['verbal'])}"
            )
    for cond, block in s["by_condition"].items():
        auc = block.get("auc")
        if not auc:
            continue  # no coupling-0 negatives and coupled positives in this condition
        lines.append(
            f"  AUC {cond}: statsmodels {_fmt(auc.get('auc_sm'))}  model "
            f"{_fmt(auc.get('auc_model'))}  TE_M {_fmt(auc.get('auc_te_m'))}"
        )
    if o.get("agree_verbal_model") is not None:
        lines.append(
            f"  verbal vs TE_M test: agreement {_fmt(o['agree_verbal_model'])}  "
            f"kappa {_fmt(o['kappa_verbal_model'])}  mean p_yes "
            f"{_fmt(o['p_yes_mean'])}"
        )
    timing = results.get("timing") or {}
    if timing.get("series_seconds"):
        lines.append(
            f"  {timing['series_seconds']:.1f} s over series, "
            f"{_fmt(timing.get('tokens_per_second'), '.0f')} tokens/s"
        )
    return lines


def run(args: argparse.Namespace) -> int:
    """Run ``ladder granger``; returns the exit status (130 when interrupted)."""
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit {args.limit}: must be at least 1")
    if args.max_batch_tokens is not None and args.max_batch_tokens < 1:
        raise UsageError(f"--max-batch-tokens {args.max_batch_tokens}: must be at least 1")
    if args.threads is not None and args.threads < 1:
        raise UsageError(f"--threads {args.threads}: must be at least 1")
    grid = load_grid(args.grid)  # validate before any model is loaded
    model_slug = (
        ORACLE_NAME if args.model == ORACLE_NAME else slugify(args.model or "smollm2-135m-instruct")
    )
    out = args.out or Path("runs") / "granger" / f"{model_slug}-{grid.name}"
    if args.resume and not (out / "granger.json").is_file():
        raise UsageError(f"--resume: {out} holds no granger.json; nothing to resume")
    if not args.resume and ((out / "granger.json").exists() or (out / "series.jsonl").exists()):
        raise UsageError(
            f"--out {out}: already holds a Granger run; add --resume or choose another --out"
        )
    if args.threads is not None and args.model != ORACLE_NAME:
        import torch

        torch.set_num_threads(args.threads)
    backend = make_backend(
        args.model, device=args.device, dtype=args.dtype, max_batch_tokens=args.max_batch_tokens
    )
    command_line = shlex.join(["ladder", *sys.argv[1:]]) if sys.argv else None
    try:
        results = run_granger(
            backend,
            grid,
            out,
            resume=args.resume,
            limit=args.limit,
            progress=not args.quiet,
            command=command_line,
        )
    except KeyboardInterrupt:
        print(
            f"ladder granger: interrupted; series so far are in {out}/series.jsonl. "
            f"Continue with --resume --out {out}",
            file=sys.stderr,
        )
        return 130
    if not args.quiet:
        print("\n".join(summary_lines(results)))
        print(f"wrote {out}/granger.json and {out}/series.jsonl")
    return 0
