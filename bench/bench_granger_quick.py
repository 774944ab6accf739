"""Time the quick Granger grid on a model against the 15-minute target, with a baseline.

Runs ``ladder granger`` the library way (model load + every series of the grid), prints the
wall time against the target, tokens/s, and the key comparison numbers; then runs the same
grid with the linear-oracle stand-in (no language model) as a baseline figure.

Usage::

    python bench/bench_granger_quick.py                    # embedded SmolLM2-135M-Instruct
    python bench/bench_granger_quick.py --model linear-oracle
    python bench/bench_granger_quick.py --grid tasks/granger_full.yaml --limit 10
    python bench/bench_granger_quick.py --threads 1        # torch threads (busy machines)
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 15 * 60


def _run(
    model: str | None, grid_name: str, out: Path, limit: int | None, progress: bool
) -> tuple[dict, float, float]:
    """Load the backend and run the grid; return (results, load seconds, total seconds)."""
    from ladder.granger.grid import load_grid
    from ladder.granger.probe import make_backend, run_granger

    start = time.perf_counter()
    grid = load_grid(grid_name)
    backend = make_backend(model)
    loaded = time.perf_counter()
    results = run_granger(
        backend, grid, out, limit=limit, progress=progress, command="bench/bench_granger_quick.py"
    )
    return results, loaded - start, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model (default: embedded SmolLM2)")
    parser.add_argument("--grid", default="quick", help="grid name or YAML path")
    parser.add_argument("--limit", type=int, default=None, help="first N series only")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--out", type=Path, default=None, help="keep run files here")
    parser.add_argument("--no-baseline", action="store_true", help="skip the oracle run")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args()

    import torch

    from ladder.commands.granger import summary_lines

    if args.threads:
        torch.set_num_threads(args.threads)
    root = args.out or Path(tempfile.mkdtemp(prefix="bench-granger-"))
    print(
        f"cpu cores: {os.cpu_count()}  torch threads: {torch.get_num_threads()}  "
        f"load average: {os.getloadavg()[0]:.1f}"
    )
    results, load_s, total_s = _run(
        args.model, args.grid, root / "model", args.limit, not args.quiet
    )
    timing = results["timing"]
    verdict = "within" if total_s <= TARGET_SECONDS else "OVER"
    print(
        f"\n{results['model']['name']} on {results['grid']['name']}: "
        f"{results['n_done']} series in {total_s:.0f} s wall (load {load_s:.0f} s) — "
        f"{verdict} the {TARGET_SECONDS // 60}-minute target"
    )
    print(
        f"tokens scored: {timing['tokens']}  tokens/s: "
        f"{(timing['tokens_per_second'] or 0):.0f}  s/series: "
        f"{timing['series_seconds'] / max(results['n_done'], 1):.1f}"
    )
    print("\n".join(summary_lines(results)))
    if not args.no_baseline and args.model != "linear-oracle":
        base, _, base_s = _run("linear-oracle", args.grid, root / "oracle", args.limit, False)
        print(f"\nbaseline linear-oracle: {base['n_done']} series in {base_s:.1f} s")
        print("\n".join(summary_lines(base)))
    print(f"\nrun files: {root}")
    summary = {
        "model": results["model"]["name"],
        "grid": results["grid"]["name"],
        "wall_seconds": total_s,
        "load_seconds": load_s,
        "tokens": timing["tokens"],
        "tokens_per_second": timing["tokens_per_second"],
        "target_seconds": TARGET_SECONDS,
        "within_target": total_s <= TARGET_SECONDS,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
