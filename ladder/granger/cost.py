"""What a Granger grid costs on a backend, measured by a short warm-up, never guessed.

:func:`estimate_run` probes a few series of the grid itself (after one untimed warm-up
series, which pays for one-time set-up such as kernel selection and library imports): for
each distinct series length it times ``per_length`` planned series spread over the grid's
cells, then scales seconds and tokens by the number of planned series of that length. Every
series of a length costs about the same (same number of texts, same text length), so the
estimate is a sum over lengths. Nothing is written.

Example:
    >>> from ladder.granger.grid import parse_grid
    >>> from ladder.granger.probe import make_backend
    >>> g = parse_grid({"name": "t", "conditions": ["var"], "couplings": [0.0, 0.5],
    ...                 "lags": [1], "lengths": [60], "series_per_cell": 3, "verbal": False})
    >>> est = estimate_run(make_backend("linear-oracle"), g, per_length=1)
    >>> est["n_series"], est["measured_series"], est["seconds"] > 0
    (6, 1, True)
"""

from __future__ import annotations

import os
import time
from typing import Any

from ladder.granger.grid import GridSpec
from ladder.granger.probe import Backend, probe_series

__all__ = ["estimate_lines", "estimate_run"]


def _asks(grid: GridSpec, entry: dict[str, Any]) -> bool:
    """Whether the series is also asked the verbal questions."""
    return grid.verbal and (
        grid.verbal_per_cell is None or entry["replicate"] < grid.verbal_per_cell
    )


def _spread(entries: list[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    """``k`` entries evenly spaced over ``entries`` (so several cells are sampled)."""
    if k >= len(entries):
        return list(entries)
    step = len(entries) / k
    return [entries[int(i * step)] for i in range(k)]


def estimate_run(
    backend: Backend, grid: GridSpec, limit: int | None = None, per_length: int = 2
) -> dict[str, Any]:
    """Estimated seconds and tokens of running ``grid`` (its first ``limit`` series) on
    ``backend``, from timed probes of a few of its own series (module docstring)."""
    if per_length < 1:
        raise ValueError(f"per_length must be >= 1, got {per_length!r}")
    plan = grid.plan()[:limit] if limit is not None else grid.plan()
    by_length: dict[tuple[int, bool], list[dict[str, Any]]] = {}
    for entry in plan:  # series asked in words cost more: timed apart
        by_length.setdefault((entry["length"], _asks(grid, entry)), []).append(entry)
    probe_series(backend, grid, plan[0])  # untimed warm-up
    lengths: dict[str, dict[str, Any]] = {}
    for (length, words), entries in sorted(by_length.items()):
        seconds, tokens = [], []
        for entry in _spread(entries, per_length):
            t0, k0 = time.perf_counter(), backend.tokens()
            probe_series(backend, grid, entry)
            seconds.append(time.perf_counter() - t0)
            tokens.append(backend.tokens() - k0)
        lengths[f"{length}{' with words' if words else ''}"] = {
            "n_series": len(entries),
            "seconds_per_series": sum(seconds) / len(seconds),
            "tokens_per_series": sum(tokens) / len(tokens),
            "measured": len(seconds),
        }
    total_s = sum(v["n_series"] * v["seconds_per_series"] for v in lengths.values())
    total_t = sum(v["n_series"] * v["tokens_per_series"] for v in lengths.values())
    return {
        "grid": grid.name,
        "model": backend.name,
        "n_series": len(plan),
        "tokens": round(total_t),
        "seconds": total_s,
        "tokens_per_second": total_t / total_s if total_s > 0 else None,
        "measured_series": sum(v["measured"] for v in lengths.values()),
        "by_length": lengths,
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def estimate_lines(est: dict[str, Any]) -> list[str]:
    """The dry-run's printed lines.

    Example:
        >>> estimate_lines({"grid": "g", "model": "m", "n_series": 2, "tokens": 1000,
        ...                 "seconds": 7200.0, "tokens_per_second": 0.14,
        ...                 "measured_series": 1, "by_length": {}})[1]
        '  tokens: 1,000  estimated time: 7200 s (2.00 h) at 0 tokens/s'
    """
    rate = est["tokens_per_second"] or 0.0
    load = est.get("load_average")
    where = f"; {est.get('cpu_count')} CPUs, load average {load:.1f}" if load is not None else ""
    lines = [
        f"dry run: {est['model']} on {est['grid']}: {est['n_series']} series "
        f"(measured on {est['measured_series']} after one warm-up series{where})",
        f"  tokens: {est['tokens']:,}  estimated time: {est['seconds']:.0f} s "
        f"({est['seconds'] / 3600:.2f} h) at {rate:.0f} tokens/s",
    ]
    for length, block in est["by_length"].items():
        lines.append(
            f"  length {length}: {block['n_series']} series x "
            f"{block['seconds_per_series']:.2f} s, {block['tokens_per_series']:.0f} tokens each"
        )
    return lines
