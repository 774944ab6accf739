"""Benchmark: vectorised Granger F test vs statsmodels' grangercausalitytests.

Runs both on the same seeded VAR series and prints wall times and speed ratios (no asserts
on timing). Usage: ``python bench/bench_granger_ftest.py [--series 500] [--length 200]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from statsmodels.tsa.stattools import grangercausalitytests

from ladder.granger.classical import ftest_fast, ftest_fast_batch
from ladder.granger.series import var_series


def best_of(fn: Callable[[], object], repeats: int) -> float:
    """Smallest wall time of ``repeats`` calls, in seconds."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--series", type=int, default=500)
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--lags", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    series = [var_series(args.length, 0.2, 1, "x->y", seed=i) for i in range(args.series)]
    X = np.array([s.x for s in series])
    Y = np.array([s.y for s in series])
    print(f"{args.series} series of length {args.length}; best of {args.repeats} runs")
    print(
        f"{'lag':>3} {'statsmodels s':>14} {'fast loop s':>12} {'batch s':>9} "
        f"{'loop x':>8} {'batch x':>8} {'max |dp|':>10}"
    )
    for lag in args.lags:

        def run_sm(lag: int = lag) -> list[float]:
            return [
                grangercausalitytests(np.column_stack([s.y, s.x]), [lag])[lag][0]["ssr_ftest"][1]
                for s in series
            ]

        def run_loop(lag: int = lag) -> list[float]:
            return [ftest_fast(s.x, s.y, lag).p_value for s in series]

        def run_batch(lag: int = lag) -> np.ndarray:
            return ftest_fast_batch(X, Y, lag).p_value

        t_sm = best_of(run_sm, 1)
        t_loop = best_of(run_loop, args.repeats)
        t_batch = best_of(run_batch, args.repeats)
        max_dp = float(np.max(np.abs(np.array(run_sm()) - run_batch())))
        print(
            f"{lag:>3} {t_sm:>14.3f} {t_loop:>12.3f} {t_batch:>9.4f} "
            f"{t_sm / t_loop:>8.1f} {t_sm / t_batch:>8.1f} {max_dp:>10.1e}"
        )


if __name__ == "__main__":
    main()
