"""``ladder run``: score a model or baseline on an item file (or a generated suite).

Under ``torchrun``/``accelerate launch`` (``WORLD_SIZE`` > 1) rank 0 runs the command as a
single process would (it alone checks the options, makes or locks the run directory and
writes results.json) and the other ranks load the same model and score the shards rank 0
hands them (:mod:`ladder.harness.distributed`).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from ladder.analysis.measures import measures
from ladder.analysis.runfiles import load_run
from ladder.analysis.sections.bias_free import estimate
from ladder.analysis.slicing import groups
from ladder.commands._arguments import add_model_arguments
from ladder.core.errors import RunError, UsageError, stop_reason
from ladder.core.io import atomic_writer, read_json
from ladder.generation.generate import dumps, generate_items, item_count
from ladder.generation.items import read_items
from ladder.generation.specs import TaskSpec, load_spec, load_suite
from ladder.harness.cache import ResponseCache
from ladder.harness.distributed import Group, detect
from ladder.harness.models.loading import DEVICE_MAPS, cache_root
from ladder.harness.predictors import BASELINES, Predictor, get_predictor
from ladder.harness.rundir import (
    LOCK_NAME,
    RunDir,
    check_writable_dir,
    command_line,
    new_run_path,
)
from ladder.harness.runner import HEADER, ITEMS, LOG, follow, resume_limit
from ladder.harness.runner import run as run_items

__all__ = ["HELP", "NAME", "configure", "run"]

NAME = "run"
HELP = "evaluate a model or baseline on an item file (or a generated suite)"


#: Model options a fresh run gets when they are not given.
_MODEL_DEFAULTS: dict[str, Any] = {
    "dtype": "float32",
    "device": "cpu",
    "mode": "loglik",
    "trust_remote_code": False,
}
#: Model options a resumed run may change: where and how fast it runs, and whether the
#: model's own code may run (asked again each session), not what it asks.
_RESUME_MAY_CHANGE = ("device", "device_map", "max_batch_tokens", "trust_remote_code")
#: Options that choose what a run scores; a resumed run keeps its recorded ones.
_NOT_WITH_RESUME = ("items", "suite", "spec", "run_dir", "out_dir", "n", "seed")


def configure(p: argparse.ArgumentParser) -> None:
    """Add the ``ladder run`` options to ``p``."""
    _configure_model(p.add_argument_group("model"))
    _configure_items_and_output(p)


def _configure_model(m: argparse._ArgumentGroup) -> None:
    add_model_arguments(
        m,
        model_help="hub id, local folder, .gguf file, embedded name (smollm2-135m-instruct, "
        "gemma-3-270m) or baseline (random, always-yes, association-oracle, "
        "truth-oracle); default: the embedded SmolLM2-135M-Instruct",
    )
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
        default=None,
        choices=["loglik", "generate"],
        help="loglik: option log-likelihood (default); generate: greedy decoding",
    )
    m.add_argument(
        "--device-map",
        default=None,
        choices=DEVICE_MAPS,
        help="spread a hub or local model too big for one GPU over all visible devices "
        "(transformers' device_map; not with torchrun)",
    )


def _configure_items_and_output(p: argparse.ArgumentParser) -> None:
    d = p.add_argument_group("items")
    src = d.add_mutually_exclusive_group()
    src.add_argument("--items", type=Path, default=None, help="an item file (JSONL)")
    src.add_argument("--suite", default=None, help="generate a built-in suite (default quick)")
    src.add_argument("--spec", type=Path, default=None, help="generate from a spec file")
    d.add_argument("--n", type=int, default=None, help="items to generate")
    d.add_argument("--seed", type=int, default=None, help="generation seed (default 0)")
    d.add_argument("--limit", type=int, default=None, help="score only the first N items")
    o = p.add_argument_group("output")
    o.add_argument("--out-dir", type=Path, default=None, help="runs root (default runs/)")
    o.add_argument("--run-dir", type=Path, default=None, help="exact run directory to create")
    o.add_argument(
        "--resume",
        type=Path,
        default=None,
        metavar="RUN_DIR",
        help="continue an interrupted run with its recorded items, limit and settings",
    )
    o.add_argument("--no-cache", action="store_true", help="do not use the response cache")
    o.add_argument("--quiet", action="store_true")


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def _given_model_options(args: argparse.Namespace) -> dict[str, Any]:
    """The model options given on the command line (``None`` = not given)."""
    given = {
        "gguf_file": args.gguf_file,
        "dtype": args.dtype,
        "device": args.device,
        "revision": args.revision,
        "trust_remote_code": args.trust_remote_code,
        "chat_template": args.chat_template,
        "mode": args.mode,
        "max_batch_tokens": args.max_batch_tokens,
        "device_map": args.device_map,
    }
    return {k: v for k, v in given.items() if v is not None}


def _check_args(args: argparse.Namespace) -> None:
    """Refuse bad numbers, and options a resumed run cannot take (it keeps its record)."""
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit {args.limit}: must be at least 1")
    if args.device_map is not None and detect() is not None:
        raise UsageError(
            "--device-map spreads one model over all devices, so it cannot be combined with "
            "a data-parallel run (WORLD_SIZE > 1): use one or the other"
        )
    if args.resume is None:
        return
    for key in _NOT_WITH_RESUME:
        if getattr(args, key) is not None:
            raise UsageError(
                f"--resume cannot be combined with {_flag(key)}: a resumed run keeps the "
                "items and settings it was started with"
            )


def _resume_model(
    args: argparse.Namespace, recorded: dict[str, Any]
) -> tuple[str | None, dict[str, Any]]:
    """The model and options recorded in a run; a different explicit option is refused."""
    model = recorded.get("model") or {}
    load = model.get("load") or {}
    options = dict(load.get("options") or {})
    for key, value in _given_model_options(args).items():
        if key in options and options[key] != value and key not in _RESUME_MAY_CHANGE:
            raise UsageError(
                f"--resume {args.resume}: the run was made with {_flag(key)} "
                f"{options[key]}; resume it without {_flag(key)} (or with the same value)"
            )
        options[key] = value
    # Running a model's own code is asked for again in each session, never taken from a
    # file (a run directory may come from someone else), as ``ladder granger`` does.
    options["trust_remote_code"] = bool(args.trust_remote_code)
    name = args.model if args.model is not None else load.get("model", model.get("name"))
    return name, options


def _open_cache(args: argparse.Namespace, model_name: str | None) -> ResponseCache | None:
    """The response cache (checked now: a corrupt file is one line, before any work)."""
    if args.no_cache or model_name in BASELINES:
        return None
    return ResponseCache(cache_root() / "responses.sqlite")


def _predictor(model_name: str | None, options: dict[str, Any]) -> Predictor:
    if model_name in BASELINES:
        return get_predictor(model_name)
    return get_predictor(model_name, progress=False, **{**_MODEL_DEFAULTS, **options})


def _holds_files(folder: Path) -> bool:
    """Whether ``folder`` holds anything besides a stale run lock."""
    return any(p.name != LOCK_NAME for p in folder.iterdir())


def _load_source(args: argparse.Namespace) -> TaskSpec | None:
    """Validate the item source before anything is loaded or created; the spec to generate."""
    target, option = (
        (args.run_dir, "--run-dir") if args.run_dir else (args.out_dir or Path("runs"), "--out-dir")
    )
    check_writable_dir(target, option)
    if args.run_dir and args.run_dir.is_dir() and _holds_files(args.run_dir):
        raise RunError(
            f"--run-dir {args.run_dir}: exists and is not empty; continue it with "
            f"--resume {args.run_dir} or choose a new directory"
        )
    if args.items is not None:
        read_items(args.items)
        return None
    spec = load_spec(args.spec) if args.spec else load_suite(args.suite or "quick")
    item_count(spec, args.n)  # refuse --n above the spec's cap before any model loads
    return spec


def _provenance(args: argparse.Namespace, spec: TaskSpec | None) -> dict[str, Any]:
    if spec is None:
        return {}
    seed = args.seed or 0
    return {
        "spec": {
            "name": spec.name,
            "source": spec.source,
            "sha256": spec.sha256,
            "seed": seed,
            "n": args.n or spec.n,
        }
    }


def _score(args: argparse.Namespace, predictor: Predictor, rd: RunDir, **kw: Any) -> int:
    """Score into the open run directory; print the resume command on Ctrl-C."""
    try:
        results = run_items(predictor, kw.pop("items_path"), rd, **kw)
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM as Terminated
        if not rd.header:  # stopped before the run started: RunDir removes what it made
            raise
        rd.close()
        again = ["ladder", "run", "--resume", str(rd.path)] + (
            ["--no-cache"] if args.no_cache else []
        )
        word, status = stop_reason(exc)
        print(
            f"ladder run: {word}; samples so far are in {rd.log_path}. "
            f"Continue with: {shlex.join(again)}",
            file=sys.stderr,
        )
        return status
    if not args.quiet:
        _print_summary(predictor, results, rd.path)
    return 0


def _print_summary(predictor: Predictor, results: dict[str, Any], run_dir: Path) -> None:
    """Accuracy beside the majority baseline, balanced accuracy and AUROC (family-clustered
    95% intervals), overall and per rung: accuracy alone would read answer bias as skill."""
    overall = results["metrics"]["overall"]
    samples = load_run(run_dir).samples
    m = measures(samples)
    print(
        f"{predictor.name}: accuracy {estimate(m['accuracy'])} on {overall['n']} items "
        f"(majority baseline {m['majority']['estimate']:.3f}); balanced accuracy "
        f"{estimate(m['balanced_accuracy'])}; AUROC {estimate(m['auroc'])}; "
        f"yes-rate {overall['yes_rate']:.3f}; Brier {overall['brier']:.3f}"
    )
    for rung, group in groups(samples, "rung").items():
        r = measures(group)
        print(
            f"  rung {rung}: accuracy {estimate(r['accuracy'])}, balanced accuracy "
            f"{estimate(r['balanced_accuracy'])}, AUROC {estimate(r['auroc'])} (n={r['n']})"
        )
    print(f"wrote {run_dir}  (ladder report {run_dir} says what these support)")


def _resume(args: argparse.Namespace, group: Group | None = None) -> int:
    """``--resume RUN_DIR``: lock the run, check the options against its record, continue."""
    with RunDir.resume(args.resume, HEADER, LOG) as rd:
        previous = rd.previous or {}
        resume_limit(previous, args.limit, args.resume)
        model_name, options = _resume_model(args, previous)
        cache = _open_cache(args, model_name)
        try:
            predictor = _predictor(model_name, options)
            return _score(
                args,
                predictor,
                rd,
                items_path=rd.path / ITEMS,
                cache=cache,
                limit=args.limit,
                progress=not args.quiet,
                command=command_line(),
                group=group,
            )
        finally:
            if cache:
                cache.close()


def _fresh(args: argparse.Namespace, group: Group | None = None) -> int:
    """A new run: check everything, load the model, make the run directory, score."""
    spec = _load_source(args)
    cache = _open_cache(args, args.model)
    try:
        predictor = _predictor(args.model, _given_model_options(args))
        run_dir = args.run_dir or new_run_path(args.out_dir or Path("runs"), predictor.slug)
        option = "--run-dir" if args.run_dir else "--out-dir"
        with RunDir.create(run_dir, HEADER, LOG, option=option) as rd:
            items_path = args.items if args.items is not None else rd.path / ITEMS
            if spec is not None:
                with atomic_writer(items_path) as fh:
                    for item in generate_items(spec, args.seed or 0, args.n):
                        fh.write(dumps(item) + "\n")
            return _score(
                args,
                predictor,
                rd,
                items_path=items_path,
                cache=cache,
                limit=args.limit,
                progress=not args.quiet,
                command=command_line(),
                provenance=_provenance(args, spec),
                group=group,
            )
    finally:
        if cache:
            cache.close()


def _follow(args: argparse.Namespace, group: Group) -> int:
    """A rank other than 0: load the model rank 0 loads, score the shard it hands over."""
    if args.resume is not None:
        model_name, options = _resume_model(args, read_json(args.resume / HEADER, RunError))
    else:
        model_name, options = args.model, _given_model_options(args)
    cache = _open_cache(args, model_name)
    try:
        follow(_predictor(model_name, options), group, cache=cache)
    finally:
        if cache:
            cache.close()
    return 0


def _main_rank(args: argparse.Namespace, group: Group) -> int:
    """Rank 0: the single-process command; if it stops before handing out the shards, the
    other ranks are told why (else they would wait for a plan that never comes)."""
    try:
        return _resume(args, group) if args.resume is not None else _fresh(args, group)
    except BaseException as exc:
        group.fail(exc)
        raise
    finally:
        group.fail(RunError("rank 0 stopped before scoring"))  # no-op once shared


def run(args: argparse.Namespace) -> int:
    """Score a model or baseline and write its run directory; returns the exit status."""
    _check_args(args)
    group = detect()
    if group is None:
        return _resume(args) if args.resume is not None else _fresh(args)
    with group:
        return _main_rank(args, group) if group.is_main else _follow(args, group)
