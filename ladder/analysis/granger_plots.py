"""Granger figures: the information-flow curve (cumulative TE_M gain against time).

Drawn with matplotlib's Agg canvas through :mod:`ladder.analysis.plots`' helpers (lazy
import; :class:`~ladder.core.errors.PlotBackendError` when matplotlib is missing). Colours
are Okabe–Ito, with a distinct dash per line, so the figure reads under the common
colour-vision deficiencies and in grey.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ladder.analysis.plots import new_figure, save_figure

__all__ = ["FlowCurve", "info_flow", "mean_band"]

_OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
_DASHES = ["-", "--", ":", "-."]

FlowCurve = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""``(t, mean, low, high)``: steps and the band of the mean cumulative gain."""


def mean_band(rows: Sequence[Sequence[float]], start: int = 0, z: float = 1.96) -> FlowCurve:
    """Mean cumulative sum of equal-length rows with a ``mean ± z·se`` band over rows.

    Rows of other lengths than the first are left out; ``t`` counts steps from ``start``.

    Example:
        >>> t, m, lo, hi = mean_band([[1.0, 1.0], [0.0, 1.0]], start=10)
        >>> t.tolist(), m.tolist(), bool(lo[0] < 0.5 < hi[0])
        ([11, 12], [0.5, 1.5], True)
    """
    width = len(rows[0]) if rows else 0
    data = np.array([r for r in rows if len(r) == width], dtype=np.float64)
    if data.size == 0:
        empty = np.zeros(0)
        return empty, empty, empty, empty
    cum = np.cumsum(data, axis=1)
    mean = cum.mean(axis=0)
    se = cum.std(axis=0, ddof=1) / np.sqrt(len(cum)) if len(cum) > 1 else np.zeros(width)
    t = np.arange(start + 1, start + width + 1)
    return t, mean, mean - z * se, mean + z * se


def info_flow(
    path: str | Path,
    curves: Mapping[str, FlowCurve],
    title: str,
    reference: Mapping[str, float] | None = None,
) -> Path:
    """One panel: a line with a band per curve ``{label: (t, mean, low, high)}``; for each
    label in ``reference`` (TE_pop, nats/step), a thin grey line of slope TE_pop from the
    curve's first step — what an ideal predictor gains on average."""
    fig = new_figure(6.0, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    for k, (label, (t, mean, low, high)) in enumerate(curves.items()):
        if not len(t):
            continue
        colour = _OKABE_ITO[k % len(_OKABE_ITO)]
        ax.plot(t, mean, color=colour, ls=_DASHES[k % len(_DASHES)], lw=1.6, label=label)
        ax.fill_between(t, low, high, color=colour, alpha=0.18, lw=0)
        slope = (reference or {}).get(label)
        if slope is not None:
            ax.plot(t, slope * (t - t[0] + 1), color="#777777", lw=0.8, ls=(0, (1, 2)))
    ax.axhline(0.0, color="#bbbbbb", lw=0.8)
    ax.set_xlabel("time step t of the series")
    ax.set_ylabel("cumulative log-lik gain (nats)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    return save_figure(fig, path)
