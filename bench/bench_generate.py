"""Benchmark: generating the ``core`` suite (ground truth included).

Times ``generate_items(load_suite("core"), seed, n)`` (item families, contract version 2)
in-process, beside a baseline measured in the same run: the version-1 core suite
(``tests/data/core_v1.yaml``, one question per SCM), printing the ratio of the two. It times
each in-process (JSONL serialisation
included, nothing written), then once through the ``ladder generate`` console script in a
subprocess (interpreter start, imports and file writing included), and prints seconds,
items/s and the target (10,000 items in at most 30 s of wall time) as PASS/FAIL wording — a
figure, not an assert — together with the CPU time, which other processes on the machine
do not inflate.  A per-stage breakdown (graph + SCM sampling, query construction, exact truth,
prompt rendering, the association oracle's answer) comes from a separate instrumented run
over a sample of the items, whose stage functions are wrapped with timers; that run counts
redraws too.

Usage: ``python bench/bench_generate.py [--n 10000] [--seed 0] [--sample 1000] [--no-cli]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ladder.generation.generate as gen
from ladder.generation.specs import TaskSpec, load_spec, load_suite

TARGET_S = 30.0
TARGET_N = 10_000
#: The version-1 core suite, frozen: the baseline the families are compared with.
BASELINE_SPEC = Path(__file__).resolve().parent.parent / "tests" / "data" / "core_v1.yaml"

# Stage -> names in ladder.generation.generate whose calls make up that stage.
STAGES = {
    "graph + SCM sampling": ("_draw_graph", "supports", "random_scm"),
    "truth (exact inference)": ("truth",),
    "prompt rendering": (
        "names_for",
        "render_prompt",
        "stated_probabilities",
        "draw_sample",
    ),
    "association oracle": ("association_truth",),
}


def verdict(seconds: float, n: int) -> str:
    """PASS/FAIL against the target, scaled to ``n`` items when n differs from 10,000."""
    budget = TARGET_S * n / TARGET_N
    word = "PASS" if seconds <= budget else "FAIL"
    scaled = "" if n == TARGET_N else f" (scaled to {n} items: <= {budget:.1f} s)"
    return f"target {TARGET_N} items <= {TARGET_S:.0f} s{scaled}: {word}"


def time_in_process(spec: TaskSpec, n: int, seed: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of generating and serialising ``n`` items of ``spec``."""
    c0, t0 = time.process_time(), time.perf_counter()
    size = 0
    for item in gen.generate_items(spec, seed, n):
        size += len(gen.dumps(item)) + 1
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"  JSONL size {size / 1e6:.1f} MB")
    return elapsed, cpu


def _console_script() -> list[str]:
    exe = Path(sys.executable).parent / "ladder"
    found = str(exe) if exe.exists() else shutil.which("ladder")
    return [found] if found else [sys.executable, "-m", "ladder.cli"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_cli(n: int, seed: int) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, lines written) of one ``ladder generate`` subprocess."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "core.jsonl"
        cmd = [
            *_console_script(),
            "generate",
            "--suite",
            "core",
            "--n",
            str(n),
            "--seed",
            str(seed),
            "--out",
            str(out),
            "--quiet",
        ]
        c0, t0 = _children_cpu(), time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        elapsed, cpu = time.perf_counter() - t0, _children_cpu() - c0
        if proc.returncode != 0:
            raise SystemExit(f"CLI failed ({proc.returncode}): {proc.stderr.strip()}")
        with out.open("rb") as fh:
            lines = sum(1 for _ in fh)
    return elapsed, cpu, lines


def stage_breakdown(n_sample: int, seed: int) -> None:
    """Instrumented run: wrap the generator's stage functions with timers."""
    spent: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    originals: dict[str, Callable[..., Any]] = {}

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - t0
                calls[name] += 1

        return wrapper

    missing = []
    for names in STAGES.values():
        for name in names:
            fn = getattr(gen, name, None)
            if fn is None:
                missing.append(name)
                continue
            originals[name] = fn
            setattr(gen, name, timed(name, fn))
    try:
        spec = load_suite("core")
        t0 = time.perf_counter()
        for item in gen.generate_items(spec, seed, n_sample):
            gen.dumps(item)
        total = time.perf_counter() - t0
    finally:
        for name, fn in originals.items():
            setattr(gen, name, fn)

    draws = calls.get("_draw_graph", 0)
    print(
        f"\nper-stage breakdown: instrumented run over the first {n_sample} items "
        f"({total:.2f} s, {draws / n_sample:.2f} graph draws per item, i.e. "
        f"{max(draws - n_sample, 0)} redraws)"
    )
    print(f"  {'stage':<26}{'ms/item':>9}{'share':>8}   calls")
    accounted = 0.0
    for stage, names in STAGES.items():
        seconds = sum(spent[name] for name in names)
        accounted += seconds
        what = ", ".join(f"{name} x{calls[name]}" for name in names if name in originals)
        print(f"  {stage:<26}{1e3 * seconds / n_sample:>9.3f}{seconds / total:>8.1%}   {what}")
    rest = total - accounted
    print(f"  {'other (loop, checks, JSON)':<26}{1e3 * rest / n_sample:>9.3f}{rest / total:>8.1%}")
    if missing:
        print(f"  (not instrumented, absent from ladder.generation.generate: {', '.join(missing)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=TARGET_N, help="items (default 10000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--sample",
        type=int,
        default=1000,
        help="items in the instrumented per-stage run (default 1000)",
    )
    parser.add_argument("--no-cli", action="store_true", help="skip the subprocess run")
    args = parser.parse_args()

    print(
        f"ladder generate benchmark: suite core, n={args.n}, seed={args.seed}, "
        f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, load average "
        f"{os.getloadavg()[0]:.1f} (other processes slow every figure below)"
    )
    print("in-process (generate_items + dumps, ground truth included):")
    figures = {}
    for label, spec in (
        ("baseline: version-1 core (tests/data/core_v1.yaml)", load_spec(BASELINE_SPEC)),
        ("families: core (tasks/core.yaml)", load_suite("core")),
    ):
        print(f" {label}")
        seconds, cpu = time_in_process(spec, args.n, args.seed)
        figures[label.split(":")[0]] = (seconds, cpu)
        print(
            f"  {args.n} items in {seconds:.2f} s = {args.n / seconds:.0f} items/s   "
            f"[{verdict(seconds, args.n)}]"
        )
        print(
            f"  CPU time {cpu:.2f} s = {args.n / cpu:.0f} items/CPU-s "
            "(what the wall time would be on an otherwise idle core)"
        )
    (base_s, base_cpu), (fam_s, fam_cpu) = figures["baseline"], figures["families"]
    print(
        f"  families / baseline: wall {fam_s / base_s:.2f}x, CPU {fam_cpu / base_cpu:.2f}x "
        "(measured in this run)"
    )
    if not args.no_cli:
        print(
            "CLI (`ladder generate --suite core --quiet`, subprocess: start-up, imports, "
            "file writing included):"
        )
        cli_seconds, cli_cpu, lines = time_cli(args.n, args.seed)
        print(
            f"  {lines} items in {cli_seconds:.2f} s = {lines / cli_seconds:.0f} items/s   "
            f"[{verdict(cli_seconds, args.n)}]"
        )
        print(f"  CPU time {cli_cpu:.2f} s = {lines / cli_cpu:.0f} items/CPU-s")
    stage_breakdown(min(args.sample, args.n), args.seed)


if __name__ == "__main__":
    main()
