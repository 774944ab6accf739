"""Measure how long a cached embedded model takes to load (target: SmolLM2 ≤ 1 s).

Usage::

    PYTHONPATH=. python bench/bench_load.py [--model smollm2-135m-instruct] [--rounds 5]
    PYTHONPATH=. python bench/bench_load.py --profile   # cProfile of one load, top 25

The first load in a process pays one-off costs (importing transformers, building the
tokenizer's Rust object the first time); they are reported apart as "first", and the
median of the later rounds is the figure that counts: what a second ``ladder run`` in the
same interpreter, or the load inside a warm worker, costs. ``--fresh-process`` also times a
whole ``python -c 'load_model(...)'`` (interpreter start and imports included) for the view
from the shell.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import subprocess
import sys
import time

from ladder.harness.models.loading import load_model


def _time_load(model: str, dtype: str) -> float:
    began = time.perf_counter()
    loaded = load_model(model, dtype=dtype)
    elapsed = time.perf_counter() - began
    del loaded
    return elapsed


def _fresh_process(model: str, dtype: str) -> float:
    """Wall time of a new interpreter that imports ladder and loads the model."""
    code = (
        "import time; t=time.perf_counter(); "
        "from ladder.harness.models.loading import load_model; "
        f"load_model({model!r}, dtype={dtype!r}); print(time.perf_counter()-t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return float(out.strip().splitlines()[-1])


def main() -> None:
    """Print the first and the median warm load time of a cached embedded model."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile one warm load")
    parser.add_argument("--fresh-process", action="store_true", help="also time python -c")
    args = parser.parse_args()

    first = _time_load(args.model, args.dtype)  # may convert the GGUF on a cold cache
    times = [_time_load(args.model, args.dtype) for _ in range(args.rounds)]
    median = statistics.median(times)
    print(f"model {args.model} ({args.dtype}), cached copy")
    print(f"first load in this process: {first:.3f} s (imports and one-off set-up)")
    print(f"warm loads: {', '.join(f'{t:.3f}' for t in times)} s; median {median:.3f} s")
    print(f"target <= 1 s: {'met' if median <= 1.0 else 'NOT met'}")
    if args.fresh_process:
        fresh = [_fresh_process(args.model, args.dtype) for _ in range(3)]
        print(f"fresh process (imports + load): median {statistics.median(fresh):.3f} s")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        load_model(args.model, dtype=args.dtype)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
