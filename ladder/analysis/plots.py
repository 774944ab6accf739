"""PNG figures for reports, drawn with matplotlib's Agg canvas (no display, no pyplot state).

Every function takes plain numbers and an output path, writes one PNG and returns the path.
matplotlib is imported lazily; when it cannot be imported every function raises
:class:`PlotBackendError`, which the report turns into one visible line.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ladder.core.errors import PlotBackendError

__all__ = [
    "PlotBackendError",
    "accuracy_curve",
    "available",
    "heatmap",
    "new_figure",
    "reliability_diagram",
    "roc_curves",
    "rung_accuracy",
    "save_figure",
]

DPI = 110
# Okabe–Ito colours: distinguishable under the common colour-vision deficiencies.
_COLORS = {
    "model": "#0072B2",
    "association-oracle": "#D55E00",
    "truth-oracle": "#009E73",
    "random": "#999999",
    "always-yes": "#E69F00",
}
_CYCLE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
# Distinct dash patterns and markers, so curves that coincide stay visible.
_STYLES = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1, 1, 1)), "v")]
#: Sequential, colour-blind-safe map for values in [0, 1].
HEATMAP_CMAP = "cividis"


def _new_figure(width: float, height: float) -> Any:
    """A matplotlib ``Figure`` bound to an Agg canvas."""
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except Exception as exc:  # ImportError, or a broken installation
        raise PlotBackendError(f"matplotlib is not available ({exc})") from None
    del matplotlib
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def new_figure(width: float, height: float) -> Any:
    """A matplotlib ``Figure`` on an Agg canvas, for figure modules beside this one."""
    return _new_figure(width, height)


def save_figure(fig: Any, path: str | Path) -> Path:
    """Lay out and write ``fig`` as a PNG at ``path`` (folders made as needed)."""
    return _save(fig, path)


def available() -> bool:
    """Whether figures can be drawn here."""
    try:
        _new_figure(1, 1)
    except PlotBackendError:
        return False
    return True


def _save(fig: Any, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, format="png", bbox_inches="tight")  # keep legends outside the axes
    return path


def _yerr(acc: Sequence[float], low: Sequence[float], high: Sequence[float]) -> list[list[float]]:
    return [
        [max(0.0, a - lo) for a, lo in zip(acc, low, strict=True)],
        [max(0.0, hi - a) for a, hi in zip(acc, high, strict=True)],
    ]


def rung_accuracy(
    path: str | Path,
    rungs: Sequence[str],
    accuracy: Sequence[float],
    low: Sequence[float],
    high: Sequence[float],
    baselines: Mapping[str, Sequence[float]],
    title: str,
    measure: str = "accuracy",
) -> Path:
    """Bars of the model's ``measure`` per rung (95% error bars) with baseline markers."""
    fig = _new_figure(7.6, 3.8)
    ax = fig.add_subplot()
    xs = list(range(len(rungs)))
    ax.bar(
        xs,
        accuracy,
        width=0.55,
        color=_COLORS["model"],
        alpha=0.85,
        label="model",
        yerr=_yerr(accuracy, low, high),
        capsize=4,
    )
    for k, (name, values) in enumerate(baselines.items()):
        offset = (k - (len(baselines) - 1) / 2) * 0.12
        ax.scatter(
            [x + offset for x in xs],
            values,
            marker="D",
            s=28,
            zorder=3,
            color=_COLORS.get(name, _CYCLE[(k + 3) % len(_CYCLE)]),
            label=name,
        )
    ax.set_xticks(xs, [f"rung {r}" for r in rungs])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(measure)
    ax.axhline(0.5, color="#bbbbbb", lw=0.8, ls=":")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return _save(fig, path)


def _cell_text(value: float, n: int, low: float | None, high: float | None) -> str:
    if low is None or high is None or not math.isfinite(low):
        return f"{value:.2f}\nn={n}"
    return f"{value:.2f}\n[{low:.2f}, {high:.2f}]\nn={n}"


def heatmap(
    path: str | Path,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    values: Sequence[Sequence[float]],
    counts: Sequence[Sequence[int]],
    title: str,
    xlabel: str,
    ylabel: str,
    low: Sequence[Sequence[float]] | None = None,
    high: Sequence[Sequence[float]] | None = None,
    measure: str = "accuracy",
) -> Path:
    """A matrix of ``measure`` in [0, 1] on a colour-blind-safe sequential map; each cell
    shows the value, its 95% interval (when ``low``/``high`` are given) and n; empty cells
    are hatched grey."""
    import matplotlib

    data = np.array(values, dtype=float)
    fig = _new_figure(1.4 + 1.25 * max(3, len(col_labels)), 1.0 + 0.6 * max(3, len(row_labels)))
    ax = fig.add_subplot()
    cmap = matplotlib.colormaps[HEATMAP_CMAP].with_extremes(bad="#eeeeee")
    image = ax.imshow(np.ma.masked_invalid(data), cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto")
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
            if not counts[i][j]:
                continue
            lo = low[i][j] if low is not None else None
            hi = high[i][j] if high is not None else None
            # cividis is dark at 0 and light at 1: white text on the dark half.
            colour = "white" if data[i, j] < 0.55 else "black"
            text = _cell_text(float(data[i, j]), int(counts[i][j]), lo, hi)
            ax.text(j, i, text, ha="center", va="center", fontsize=6.5, color=colour)
    ax.set_xticks(range(len(col_labels)), col_labels, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(row_labels)), row_labels, fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, label=measure, fraction=0.04)
    return _save(fig, path)


def accuracy_curve(
    path: str | Path,
    xs: Sequence[str],
    accuracy: Sequence[float],
    low: Sequence[float],
    high: Sequence[float],
    baselines: Mapping[str, Sequence[float]],
    title: str,
    xlabel: str,
    counts: Sequence[int] | None = None,
    measure: str = "accuracy",
) -> Path:
    """``measure`` per bin of a numeric slice (e.g. node-count bins), as separate points
    with 95% error bars and n under each: bins are not joined by lines, which would suggest
    a trend the intervals do not support."""
    fig = _new_figure(7.4, 3.8)
    ax = fig.add_subplot()
    pos = list(range(len(xs)))
    ax.errorbar(
        pos,
        accuracy,
        yerr=_yerr(accuracy, low, high),
        fmt="o",
        capsize=4,
        color=_COLORS["model"],
        label="model (95% CI)",
    )
    for k, (name, values) in enumerate(baselines.items()):
        offset = (k + 1) * 0.08
        colour = _COLORS.get(name, _CYCLE[(k + 1) % len(_CYCLE)])
        ax.scatter([x + offset for x in pos], values, marker="_", s=120, color=colour, label=name)
    if counts is not None:
        for x, n in zip(pos, counts, strict=True):
            ax.annotate(f"n={n}", (x, 0.02), ha="center", fontsize=7, color="#444444")
    ax.set_xticks(pos, list(xs))
    ax.set_ylim(0, 1.05)
    ax.set_xlim(-0.5, len(xs) - 0.5)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(measure)
    ax.axhline(0.5, color="#bbbbbb", lw=0.8, ls=":")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return _save(fig, path)


def reliability_diagram(path: str | Path, bins: Sequence[Mapping[str, float]], title: str) -> Path:
    """Observed yes-frequency against mean ``p_yes`` per bin, each bin labelled with its item
    count; the legend sits outside the axes so it hides no point."""
    fig = _new_figure(5.8, 4.4)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="#999999", ls="--", lw=1, label="perfect calibration")
    if bins:
        total = sum(b["n"] for b in bins)
        xs = [b["mean_p_yes"] for b in bins]
        ys = [b["yes_rate"] for b in bins]
        sizes = [20 + 400 * b["n"] / total for b in bins]
        ax.plot(xs, ys, color=_COLORS["model"], lw=1, marker="o", ms=4, label="model")
        ax.scatter(xs, ys, s=sizes, color=_COLORS["model"], alpha=0.4, zorder=3)
        for x, y, b in zip(xs, ys, bins, strict=True):
            ax.annotate(
                f"{int(b['n'])}",
                (x, y),
                xytext=(4, 4),
                textcoords="offset points",
                fontsize=7,
                color="#333333",
            )
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("mean predicted P(yes)")
    ax.set_ylabel("observed share of 'yes' answers")
    ax.set_title(f"{title}\n(numbers: items per bin)", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return _save(fig, path)


def roc_curves(
    path: str | Path,
    curves: Mapping[str, tuple[Sequence[float], Sequence[float], float]],
    title: str,
    counts: Mapping[str, tuple[int, int]] | None = None,
) -> Path:
    """ROC curves ``{name: (fpr, tpr, auc)}`` on one axis, each with its own colour, dash
    pattern and marker (later curves drawn thinner on top), so coinciding curves stay
    visible; ``counts`` ``{name: (positives, negatives)}`` goes into the legend."""
    fig = _new_figure(6.2, 4.4)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="#bbbbbb", ls=":", lw=1)
    for k, (name, (fpr, tpr, auc)) in enumerate(curves.items()):
        label = f"{name} (AUC {auc:.2f})" if math.isfinite(auc) else name
        if counts is not None and name in counts:
            label += f", {counts[name][0]}+/{counts[name][1]}−"
        style, marker = _STYLES[k % len(_STYLES)]
        ax.plot(
            fpr,
            tpr,
            ls=style,
            marker=marker,
            ms=6 - k,
            lw=2.6 - 0.5 * min(k, 4),
            color=_CYCLE[k % len(_CYCLE)],
            zorder=2 + k,
            fillstyle="none" if k % 2 else "full",
            label=label,
        )
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return _save(fig, path)
