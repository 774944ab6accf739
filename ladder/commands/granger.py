"""``ladder granger``: run the Granger probes of a grid on a model and write the run files.

Usage::

    ladder granger [--model M] [--gguf-file F] [--grid quick|full|PATH] [--out DIR] [--limit N]
    ladder granger --resume --out DIR
    ladder granger [--model M] [--grid G] --dry-run    # tokens and time, measured; no files

``--model`` defaults to the embedded SmolLM2-135M-Instruct; ``--model linear-oracle`` runs
the stand-in predictor (an in-context least-squares VAR; no language model); the model
options are those of ``ladder run``. The run writes ``DIR/granger.json`` and
``DIR/series.jsonl`` (default ``DIR``: ``runs/granger/<model slug>-<grid slug>``). A resumed
run keeps its recorded model, grid and limit. Bad input raises a ``LadderError``, which the
``ladder`` wrapper prints as one line with exit status 2; the run directory is opened and
checked before any model is loaded.

Under ``torchrun --nproc_per_node N`` (or ``accelerate launch``) the series are shared out
as ``ladder run`` shares items (:mod:`ladder.harness.distributed`): rank 0 opens and checks
the run directory and writes ``granger.json``; every rank loads the model (``cuda`` becomes
``cuda:LOCAL_RANK``) and probes its contiguous shard; rank 0 merges the records in the
grid's order. If rank 0 stops before handing out the shards, the other ranks are told why.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from ladder.commands._arguments import add_model_arguments
from ladder.core.errors import GrangerRunError, LadderError, UsageError, stop_reason
from ladder.core.io import read_json, slugify
from ladder.granger.cost import estimate_lines, estimate_run
from ladder.granger.grid import GridSpec, load_grid, recorded_grid
from ladder.granger.probe import (
    HEADER_FILE,
    ORACLE_NAME,
    check_resume,
    follow,
    make_backend,
    open_run,
    resume_limit,
    run_in,
)
from ladder.harness.distributed import Group, detect, follower_plan
from ladder.harness.rundir import RunDir, command_line

__all__ = ["HELP", "NAME", "configure", "default_out", "run", "summary_lines"]

NAME = "granger"
HELP = (
    "Granger probes: statsmodels against the model's own next-token "
    "transfer entropy on series from known dynamic graphs"
)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``ladder granger`` options to ``parser``."""
    m = parser.add_argument_group("model")
    add_model_arguments(
        m,
        model_help="hub id, local folder, .gguf file, embedded name, or "
        "'linear-oracle' (the stand-in predictor); default: the embedded "
        "SmolLM2-135M-Instruct (on --resume: the run's own model)",
    )
    m.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (1 is faster on a small machine shared with other work)",
    )
    r = parser.add_argument_group("run")
    r.add_argument(
        "--grid",
        default=None,
        help="built-in grid (quick, full) or a grid YAML file (default quick; on --resume: "
        "the run's own)",
    )
    r.add_argument(
        "--out", type=Path, default=None, help="run directory (default runs/granger/<model>-<grid>)"
    )
    r.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out with its recorded model, grid and limit "
        "(series already done are kept)",
    )
    r.add_argument(
        "--limit", type=int, default=None, help="probe only the first N series of the grid"
    )
    r.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    r.add_argument(
        "--dry-run",
        action="store_true",
        help="print the grid's token count and its time estimated from a short measured "
        "warm-up (a few of its own series); write nothing",
    )


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
    lines += _cell_lines(results.get("cells") or [])
    timing = results.get("timing") or {}
    if timing.get("series_seconds"):
        lines.append(
            f"  {timing['series_seconds']:.1f} s over series, "
            f"{_fmt(timing.get('tokens_per_second'), '.0f')} tokens/s"
        )
    return lines


def _interval(block: dict[str, Any] | None) -> str:
    if not block:
        return "n/a"
    return f"{block['mean']:.4f} [{block['lo']:.4f}, {block['hi']:.4f}]"


def _cell_lines(cells: list[dict[str, Any]]) -> list[str]:
    """Per cell (granger_version 2): mean TE_M with its 95% interval, model and stand-in."""
    lines = []
    for c in cells:
        if "te_m_cell" not in c:
            continue
        pop = c.get("te_pop")
        lines.append(
            f"  {c['condition']} c={c['coupling']:g} n={c['length']}: TE_pop "
            f"{_fmt(pop, '.4f')}  TE_M {_interval(c['te_m_cell'])} ({c['te_m_verdict']})  "
            f"stand-in {_interval(c.get('oracle_te_m_cell'))}"
        )
    return lines


def _check_options(args: argparse.Namespace) -> None:
    """Refuse bad numbers and option combinations before anything is opened or loaded."""
    for option, value in (
        ("--limit", args.limit),
        ("--max-batch-tokens", args.max_batch_tokens),
        ("--threads", args.threads),
    ):
        if value is not None and value < 1:
            raise UsageError(f"{option} {value}: must be at least 1")
    if args.model == ORACLE_NAME and (args.gguf_file or args.revision or args.trust_remote_code):
        raise UsageError(
            f"--model {ORACLE_NAME} is not a language model: --gguf-file, --revision and "
            "--trust-remote-code do not apply"
        )


def default_out(model: str | None, gguf_file: str | None, grid_name: str) -> Path:
    """``runs/granger/<model slug>-<grid slug>``: one folder under ``runs/granger`` whatever
    the names hold (a grid named ``x/../../escaped`` cannot write outside it).

    Example:
        >>> default_out(None, None, "x/../../escaped").parent.as_posix()
        'runs/granger'
    """
    name = Path(gguf_file).stem if gguf_file else (model or "smollm2-135m-instruct")
    return Path("runs") / "granger" / slugify(f"{slugify(name)}-{slugify(grid_name)}")


def _load_options(args: argparse.Namespace, previous: dict[str, Any] | None) -> dict[str, Any]:
    """What :func:`make_backend` loads: the options given or, on resume, the run's own."""
    given = {
        "model": args.model,
        "gguf_file": args.gguf_file,
        "dtype": args.dtype,
        "revision": args.revision,
        "trust_remote_code": bool(args.trust_remote_code),
    }
    if previous is None:
        return {**given, "dtype": args.dtype or "float32"}
    recorded = previous.get("model") or {}
    name = recorded.get("name")
    if args.model is None and args.gguf_file is None:
        load = recorded.get("load") or {"model": name, "dtype": recorded.get("dtype")}
        return {
            **given,
            **load,
            "dtype": args.dtype or load.get("dtype") or "float32",
            # running a model's own code is asked for again in each session, never inherited
            "trust_remote_code": bool(args.trust_remote_code),
        }
    if (args.model == ORACLE_NAME) != (name == ORACLE_NAME):
        raise UsageError(
            f"--resume: the run was made with model {name!r}; resume it with that model "
            "(or without --model)"
        )
    return {**given, "dtype": args.dtype or recorded.get("dtype") or "float32"}


def _prepare(
    args: argparse.Namespace, rd: RunDir, grid: GridSpec | None
) -> tuple[GridSpec, dict[str, Any]]:
    """The run's grid and load options, every resume check that needs no model done."""
    if rd.previous is None:
        return grid or load_grid("quick"), _load_options(args, None)
    grid = grid or recorded_grid(rd.previous.get("grid"), str(rd.header_path))
    check_resume(rd.previous, grid, rd.path)
    resume_limit(rd.previous, args.limit, rd.path)
    return grid, _load_options(args, rd.previous)


def _dry_run(args: argparse.Namespace) -> int:
    """``--dry-run``: load the model, time a few of the grid's series, print the estimate."""
    if args.resume:
        raise UsageError("--dry-run estimates a new run; it does not take --resume")
    grid = load_grid(args.grid) if args.grid is not None else load_grid("quick")
    load = _load_options(args, None)
    _set_threads(args.threads, load["model"])
    backend = make_backend(
        **load, device=args.device or "cpu", max_batch_tokens=args.max_batch_tokens
    )
    print("\n".join(estimate_lines(estimate_run(backend, grid, limit=args.limit))))
    return 0


def _set_threads(threads: int | None, model: str | None) -> None:
    if threads is not None and model != ORACLE_NAME:
        import torch

        torch.set_num_threads(threads)


def _out(args: argparse.Namespace, grid: GridSpec | None) -> Path:
    """The run directory: ``--out``, else :func:`default_out` for the model and grid."""
    return args.out or default_out(args.model, args.gguf_file, (grid or load_grid("quick")).name)


def _main(args: argparse.Namespace, group: Group | None = None) -> int:
    """The single-process command, or rank 0's part of a data-parallel one."""
    grid = load_grid(args.grid) if args.grid is not None else None
    out = _out(args, grid)
    try:
        with open_run(out, resume=args.resume) as rd:
            grid, load = _prepare(args, rd, grid)
            _set_threads(args.threads, load["model"])
            backend = make_backend(
                **load, device=args.device or "cpu", max_batch_tokens=args.max_batch_tokens
            )
            results = run_in(
                rd,
                backend,
                grid,
                limit=args.limit,
                progress=not args.quiet,
                command=command_line(),
                group=group,
            )
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM as Terminated
        word, status = stop_reason(exc)
        if not (out / HEADER_FILE).is_file():
            print(f"ladder granger: {word} before the run started", file=sys.stderr)
        else:
            print(
                f"ladder granger: {word}; series so far are in {out}/series.jsonl. "
                f"Continue with: ladder granger --resume --out {shlex.quote(str(out))}",
                file=sys.stderr,
            )
        return status
    if not args.quiet:
        print("\n".join(summary_lines(results)))
        print(f"wrote {out}/granger.json and {out}/series.jsonl")
    return 0


def _main_rank(args: argparse.Namespace, group: Group) -> int:
    """Rank 0: the single-process command; if it stops before handing out the shards, the
    other ranks are told why (else they would wait for a plan that never comes)."""
    try:
        return _main(args, group)
    except BaseException as exc:
        group.fail(exc)
        raise
    finally:
        group.fail(GrangerRunError("rank 0 stopped before probing"))  # no-op once shared


def _follow(args: argparse.Namespace, group: Group) -> int:
    """A rank other than 0: load the model rank 0 loads (the options given or, on resume,
    the run's own), then probe the shard rank 0 hands over."""
    previous = None
    if args.resume:
        grid = load_grid(args.grid) if args.grid is not None else None
        try:
            previous = read_json(_out(args, grid) / HEADER_FILE, GrangerRunError)
        except LadderError:
            follower_plan(group)  # rank 0 refuses the run too: its reason is raised here
            raise
    load = _load_options(args, previous if isinstance(previous, dict) else None)
    _set_threads(args.threads, load["model"])
    backend = make_backend(
        **load, device=args.device or "cpu", max_batch_tokens=args.max_batch_tokens
    )
    follow(backend, group)
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``ladder granger``; returns the exit status (130 when interrupted).

    The run directory is opened (and locked) and a resume is checked against the run's
    record before any model is loaded, so bad ``--out``/``--resume`` input costs nothing.
    In a data-parallel launch (:func:`~ladder.harness.distributed.detect`) rank 0 does
    that and the other ranks follow it.
    """
    _check_options(args)
    if getattr(args, "dry_run", False):
        return _dry_run(args)
    group = detect()
    if group is None:
        return _main(args)
    with group:
        return _main_rank(args, group) if group.is_main else _follow(args, group)
