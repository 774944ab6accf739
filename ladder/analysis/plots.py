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
    "reliability_diagram",
    "roc_curves",
    "rung_accuracy",
]

DPI = 110
_COLORS = {
    "model": "#1f77b4",
    "association-oracle": "#d62728",
    "truth-oracle": "#2ca02c",
    "random": "#7f7f7f",
    "always-yes": "#ff7f0e",
}


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
    fig.savefig(path, format="png")
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
) -> Path:
    """Bars of the model's accuracy per rung (Wilson 95% error bars) with baseline markers."""
    fig = _new_figure(6.0, 3.8)
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
            color=_COLORS.get(name),
            label=name,
        )
    ax.set_xticks(xs, [f"rung {r}" for r in rungs])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("accuracy")
    ax.axhline(0.5, color="#bbbbbb", lw=0.8, ls=":")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="lower left", framealpha=0.9)
    return _save(fig, path)


def heatmap(
    path: str | Path,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    values: Sequence[Sequence[float]],
    counts: Sequence[Sequence[int]],
    title: str,
    xlabel: str,
    ylabel: str,
) -> Path:
    """An accuracy matrix, each cell annotated with accuracy and n (empty cells grey)."""
    data = np.array(values, dtype=float)
    fig = _new_figure(1.2 + 1.05 * max(3, len(col_labels)), 1.0 + 0.42 * max(3, len(row_labels)))
    ax = fig.add_subplot()
    masked = np.ma.masked_invalid(data)
    import matplotlib

    cmap = matplotlib.colormaps["RdYlGn"].with_extremes(bad="#e6e6e6")
    image = ax.imshow(masked, cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto")
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
            if counts[i][j]:
                ax.text(
                    j,
                    i,
                    f"{data[i, j]:.2f}\nn={counts[i][j]}",
                    ha="center",
                    va="center",
                    fontsize=7,
                )
    ax.set_xticks(range(len(col_labels)), col_labels, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(row_labels)), row_labels, fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, label="accuracy", fraction=0.04)
    return _save(fig, path)


def accuracy_curve(
    path: str | Path,
    xs: Sequence[float],
    accuracy: Sequence[float],
    low: Sequence[float],
    high: Sequence[float],
    baselines: Mapping[str, Sequence[float]],
    title: str,
    xlabel: str,
) -> Path:
    """Accuracy against a numeric slice (e.g. node count) with a Wilson 95% band."""
    fig = _new_figure(5.5, 3.6)
    ax = fig.add_subplot()
    ax.fill_between(xs, low, high, color=_COLORS["model"], alpha=0.18, lw=0)
    ax.errorbar(
        xs,
        accuracy,
        yerr=_yerr(accuracy, low, high),
        marker="o",
        capsize=4,
        color=_COLORS["model"],
        label="model (95% CI)",
    )
    for name, values in baselines.items():
        ax.plot(xs, values, ls="--", marker=".", color=_COLORS.get(name), label=name)
    ax.set_xticks(list(xs))
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy")
    ax.axhline(0.5, color="#bbbbbb", lw=0.8, ls=":")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="lower left")
    return _save(fig, path)


def reliability_diagram(path: str | Path, bins: Sequence[Mapping[str, float]], title: str) -> Path:
    """Observed yes-frequency against mean ``p_yes`` per bin; marker area ∝ bin count."""
    fig = _new_figure(4.6, 4.4)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="#999999", ls="--", lw=1, label="perfect calibration")
    if bins:
        total = sum(b["n"] for b in bins)
        xs = [b["mean_p_yes"] for b in bins]
        ys = [b["yes_rate"] for b in bins]
        sizes = [20 + 400 * b["n"] / total for b in bins]
        ax.plot(
            xs,
            ys,
            color=_COLORS["model"],
            lw=1,
            marker="o",
            ms=4,
            label="model (marker area ∝ items)",
        )
        ax.scatter(xs, ys, s=sizes, color=_COLORS["model"], alpha=0.5, zorder=3)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("mean predicted P(yes)")
    ax.set_ylabel("observed share of 'yes' answers")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    return _save(fig, path)


def roc_curves(
    path: str | Path,
    curves: Mapping[str, tuple[Sequence[float], Sequence[float], float]],
    title: str,
) -> Path:
    """ROC curves ``{name: (fpr, tpr, auc)}`` on one axis."""
    fig = _new_figure(4.6, 4.4)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="#999999", ls=":", lw=1)
    for name, (fpr, tpr, auc) in curves.items():
        label = f"{name} (AUC {auc:.2f})" if math.isfinite(auc) else name
        ax.plot(fpr, tpr, marker=".", label=label)  # ties give diagonal segments
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    return _save(fig, path)
