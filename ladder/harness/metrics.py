"""Metrics over scored samples: accuracy with Wilson intervals, Brier, ECE, yes-rate.

A sample is a dict with at least ``answer`` ("yes"/"no"), ``prediction``
("yes"/"no"/"unreadable") and ``p_yes`` (float, or None when unreadable).
Unreadable answers count as wrong and are reported; they are never guessed.

>>> s = [{"answer": "yes", "prediction": "yes", "p_yes": 0.9},
...      {"answer": "no", "prediction": "yes", "p_yes": 0.6}]
>>> m = summarize(s)
>>> m["n"], m["accuracy"], round(m["brier"], 4)
(2, 0.5, 0.185)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "SLICE_FIELDS",
    "brier_score",
    "expected_calibration_error",
    "reliability_bins",
    "slice_metrics",
    "summarize",
    "wilson_interval",
]

#: Item fields that results are sliced by.
SLICE_FIELDS = (
    "rung",
    "query_type",
    "graph_family",
    "n_nodes",
    "verbalization",
    "evidence",
    "discordant",
)


def wilson_interval(successes: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (statsmodels' implementation).

    >>> [round(x, 4) for x in wilson_interval(8, 10)]
    [0.4902, 0.9433]
    """
    if n == 0:
        return (float("nan"), float("nan"))
    # statsmodels costs about a second to import: load it when an interval is first needed,
    # so that ``import ladder.cli`` stays fast
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(successes, n, alpha=alpha, method="wilson")
    return float(low), float(high)


def brier_score(p_yes: Sequence[float], outcomes: Sequence[int]) -> float:
    """Mean squared error of ``p_yes`` against the 0/1 truth."""
    p, y = np.asarray(p_yes, float), np.asarray(outcomes, float)
    return float(np.mean((p - y) ** 2)) if len(p) else float("nan")


def expected_calibration_error(
    p_yes: Sequence[float], outcomes: Sequence[int], bins: int = 10
) -> float:
    """ECE with equal-width bins on the confidence of the predicted answer.

    Confidence is ``max(p_yes, 1 − p_yes)``; a bin's gap is |accuracy − mean confidence|,
    weighted by its share of samples.
    """
    p, y = np.asarray(p_yes, float), np.asarray(outcomes, int)
    if not len(p):
        return float("nan")
    pred = (p > 0.5).astype(int)
    conf = np.where(pred == 1, p, 1 - p)
    correct = (pred == y).astype(float)
    edges = np.linspace(0.5, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - conf[mask].mean())
    return float(ece)


def reliability_bins(
    p_yes: Sequence[float], outcomes: Sequence[int], bins: int = 10
) -> list[dict[str, float]]:
    """Per-bin mean ``p_yes``, observed yes-frequency and count (for reliability diagrams)."""
    p, y = np.asarray(p_yes, float), np.asarray(outcomes, float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1], right=True), 0, bins - 1)
    out = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            out.append(
                {
                    "low": float(edges[b]),
                    "high": float(edges[b + 1]),
                    "mean_p_yes": float(p[mask].mean()),
                    "yes_rate": float(y[mask].mean()),
                    "n": int(mask.sum()),
                }
            )
    return out


def summarize(samples: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Accuracy (Wilson 95%), Brier, ECE, yes-rate and unreadable count of some samples."""
    rows = list(samples)
    n = len(rows)
    correct = sum(1 for s in rows if s["prediction"] == s["answer"])
    low, high = wilson_interval(correct, n)
    scored = [s for s in rows if s.get("p_yes") is not None]
    p = [float(s["p_yes"]) for s in scored]
    y = [1 if s["answer"] == "yes" else 0 for s in scored]
    readable = [s for s in rows if s["prediction"] in ("yes", "no")]
    return {
        "n": n,
        "correct": correct,
        "accuracy": correct / n if n else float("nan"),
        "ci_low": low,
        "ci_high": high,
        "brier": brier_score(p, y),
        "ece": expected_calibration_error(p, y),
        "yes_rate": (
            sum(s["prediction"] == "yes" for s in readable) / len(readable)
            if readable
            else float("nan")
        ),
        "truth_yes_rate": sum(s["answer"] == "yes" for s in rows) / n if n else float("nan"),
        "unreadable": n - len(readable),
    }


def slice_metrics(
    samples: Sequence[Mapping[str, Any]], fields: Sequence[str] = SLICE_FIELDS
) -> dict[str, dict[str, dict[str, Any]]]:
    """``{field: {value: summarize(samples with that value)}}`` for each slicing field."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for field in fields:
        groups: dict[str, list[Mapping[str, Any]]] = {}
        for s in samples:
            if field in s:
                groups.setdefault(str(s[field]), []).append(s)
        out[field] = {
            k: summarize(v) for k, v in sorted(groups.items(), key=lambda kv: (len(kv[0]), kv[0]))
        }
    return out
