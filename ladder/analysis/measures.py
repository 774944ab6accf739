"""Bias-free measures beside accuracy, with intervals clustered by item family.

Accuracy alone rewards answer bias: a model that says "no" to everything scores well on a
slice whose answers are mostly "no". So every slice gets, beside accuracy,

* :func:`balanced_accuracy` — the mean of the recall on "yes" items and on "no" items;
* :func:`majority_baseline` — the better of always-yes and always-no on the slice;
* :func:`auroc` of ``p_yes`` against the truth answer (threshold-free: 0.5 is chance
  whatever the bias) and against the association answer (what a rung-1 reasoner says).

Items of one family (one SCM) are correlated, so intervals come from a **cluster
bootstrap**: whole families are drawn with replacement (:func:`cluster_bootstrap` for any
statistic; :func:`measures` / :func:`slice_measures` for the measures above, vectorised:
the family draws are made once as a replicate × family count matrix and every measure is
a ratio of weighted per-family sums). Without a family key each item is its own cluster,
which is the ordinary item bootstrap. Intervals are percentile intervals.

>>> s = [{"answer": "yes", "prediction": "no", "p_yes": 0.4, "family_id": "f1"},
...      {"answer": "no", "prediction": "no", "p_yes": 0.1, "family_id": "f1"},
...      {"answer": "no", "prediction": "no", "p_yes": 0.3, "family_id": "f2"}]
>>> m = measures(s, n_boot=200)
>>> m["n"], m["n_clusters"], round(m["accuracy"]["estimate"], 3), m["auroc"]["estimate"]
(3, 2, 0.667, 1.0)
>>> m["balanced_accuracy"]["estimate"], m["majority"]["answer"]
(0.5, 'no')
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ladder.analysis.slicing import groups
from ladder.core.records import ANSWER, ASSOCIATION_ANSWER, FAMILY_ID, YES
from ladder.core.stats import gap_position, roc_auc

__all__ = [
    "LEVEL",
    "N_BOOT",
    "auroc",
    "balanced_accuracy",
    "cluster_bootstrap",
    "cluster_codes",
    "cluster_mean",
    "gap_closed_interval",
    "majority_baseline",
    "measures",
    "paired_auroc_difference",
    "slice_measures",
    "unpaired_difference",
]

#: Bootstrap replicates by default.
N_BOOT = 1000
#: Coverage of every interval.
LEVEL = 0.95

Record = Mapping[str, Any]


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Mann–Whitney AUROC (ties count ½); None when a class is empty or nothing is scored.

    Pairs whose score is None or NaN are left out.

    >>> auroc([0.1, 0.4, 0.35, 0.8], [False, False, True, True])
    0.75
    >>> auroc([0.5, 0.5], [True, True]) is None
    True
    """
    s = np.array([np.nan if v is None else float(v) for v in scores], float)
    y = np.asarray(labels, bool)
    keep = np.isfinite(s)
    s, y = s[keep], y[keep]
    if not y.any() or y.all():
        return None
    return roc_auc(s, y)


def balanced_accuracy(pred: Sequence[Any], truth: Sequence[Any]) -> float | None:
    """Mean recall over the classes present in ``truth`` (sklearn's definition).

    A prediction that is neither class (``"unreadable"``) counts as wrong; with one class
    in ``truth`` it is that class's recall; None for no items.

    >>> balanced_accuracy(["yes", "yes", "yes", "no"], ["yes", "yes", "no", "no"])
    0.75
    >>> balanced_accuracy(["no", "unreadable"], ["no", "no"])
    0.5
    """
    if len(pred) != len(truth):
        raise ValueError("balanced_accuracy needs one prediction per truth")
    if not len(truth):
        return None
    p, t = np.asarray(pred, object), np.asarray(truth, object)
    recalls = [float(np.mean(p[t == c] == c)) for c in dict.fromkeys(t.tolist())]
    return float(np.mean(recalls))


def majority_baseline(truth: Sequence[Any]) -> dict[str, Any]:
    """The better of always-yes and always-no on ``truth``: its answer and accuracy.

    Ties go to ``"no"``; ``accuracy`` is None for no items.

    >>> majority_baseline(["no", "yes", "no", "no"])
    {'answer': 'no', 'accuracy': 0.75}
    """
    if not len(truth):
        return {"answer": None, "accuracy": None}
    rate = sum(t == YES for t in truth) / len(truth)
    return {"answer": YES if rate > 0.5 else "no", "accuracy": max(rate, 1.0 - rate)}


def cluster_codes(samples: Sequence[Record], cluster_key: str | None) -> tuple[np.ndarray, int]:
    """Cluster number of each sample (0, 1, … by first appearance) and the cluster count.

    A sample without the key (or with None, or ``cluster_key=None``) is a cluster of its
    own, so singleton clusters number exactly like items.

    >>> cluster_codes([{"f": "a"}, {"f": "b"}, {"f": "a"}, {}], "f")
    (array([0, 1, 0, 2]), 3)
    """
    seen: dict[Any, int] = {}
    codes = []
    for i, s in enumerate(samples):
        value = s.get(cluster_key) if cluster_key is not None else None
        label = ("cluster", value) if value is not None else ("item", i)
        codes.append(seen.setdefault(label, len(seen)))
    return np.asarray(codes, dtype=np.int64), len(seen)


def _draw_counts(n_clusters: int, n_boot: int, seed: int) -> np.ndarray:
    """``counts[b, k]``: how often replicate ``b`` drew cluster ``k`` (clusters drawn with
    replacement, as many as there are). The draw is the same for every statistic."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n_clusters, size=(n_boot, n_clusters))
    flat = (idx + np.arange(n_boot)[:, None] * n_clusters).ravel()
    counts = np.bincount(flat, minlength=n_boot * n_clusters).reshape(n_boot, n_clusters)
    return counts.astype(float)  # float: the matrix products below run on BLAS


def _interval(replicates: np.ndarray, level: float) -> tuple[float | None, float | None]:
    """Percentile interval of the finite replicates (None, None when there are none)."""
    finite = replicates[np.isfinite(replicates)]
    if not finite.size:
        return None, None
    tail = 50.0 * (1.0 - level)
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return float(low), float(high)


def cluster_bootstrap(
    samples: Sequence[Record],
    statistic: Callable[[list[Record]], float | None],
    cluster_key: str | None = FAMILY_ID,
    n_boot: int = N_BOOT,
    seed: int = 0,
    level: float = LEVEL,
) -> dict[str, Any]:
    """Percentile interval of ``statistic`` from resampling whole clusters with replacement.

    Returns ``estimate`` (on all samples), ``low``, ``high``, ``n``, ``n_clusters``,
    ``n_boot``. Replicates where the statistic is None or NaN are left out of the interval.
    Without the cluster key this is the item bootstrap (see :func:`cluster_codes`).
    Slow but general: :func:`measures` is the vectorised version for the standard measures.

    >>> mean = lambda g: sum(s["x"] for s in g) / len(g)
    >>> r = cluster_bootstrap([{"x": v} for v in range(10)], mean)
    >>> r["estimate"], r["low"] < 4.5 < r["high"], r["n_clusters"]
    (4.5, True, 10)
    """
    codes, k = cluster_codes(samples, cluster_key)
    estimate = statistic(list(samples))
    if not samples:
        return {"estimate": estimate, "low": None, "high": None, "n": 0, "n_clusters": 0}
    members: list[list[Record]] = [[] for _ in range(k)]
    for code, s in zip(codes, samples, strict=True):
        members[code].append(s)
    counts = _draw_counts(k, n_boot, seed)
    reps = np.empty(n_boot)
    for b in range(n_boot):
        drawn = [s for c in np.repeat(np.arange(k), counts[b].astype(int)) for s in members[c]]
        value = statistic(drawn)
        reps[b] = np.nan if value is None else float(value)
    low, high = _interval(reps, level)
    out = {"estimate": estimate, "low": low, "high": high, "n": len(samples), "n_clusters": k}
    return {**out, "n_boot": n_boot}


def cluster_mean(
    values: Sequence[float],
    clusters: Sequence[Any] | None = None,
    n_boot: int = N_BOOT,
    seed: int = 0,
    level: float = LEVEL,
) -> dict[str, Any]:
    """The mean of ``values`` with a cluster-bootstrap interval, vectorised: equal to
    :func:`cluster_bootstrap` of the mean with the same seed (None clusters: items).

    >>> r = cluster_mean([1.0, 0.0, 1.0, 1.0], ["a", "a", "b", "b"], n_boot=100)
    >>> r["estimate"], r["n"], r["n_clusters"]
    (0.75, 4, 2)
    """
    labels = [None] * len(values) if clusters is None else list(clusters)
    codes, k = cluster_codes([{"c": c} for c in labels], "c")
    if not len(values):
        return {"estimate": None, "low": None, "high": None, "n": 0, "n_clusters": 0}
    x = np.asarray(values, float)
    counts = _draw_counts(k, n_boot, seed)
    sums = counts @ np.vstack([_per_cluster(x, codes, k), np.bincount(codes, minlength=k)]).T
    low, high = _interval(_ratio(sums[:, 0], sums[:, 1]), level)
    out = {"estimate": float(x.mean()), "low": low, "high": high, "n": len(x), "n_clusters": k}
    return {**out, "n_boot": n_boot}


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _per_cluster(values: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(codes, weights=values.astype(float), minlength=k)


def _weighted_auroc(
    scores: np.ndarray, labels: np.ndarray, codes: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    """AUROC per replicate, the items weighted by their cluster's draw count (Mann–Whitney,
    ties ½): exactly what recomputing the AUROC on each resampled list gives.

    Sorted negatives' running weight ``cum`` is gathered at each positive's score, below and
    through its ties: ``U = Σ_pos w · (cum_below + cum_through) / 2``. Counts are small
    integers and halves, exact in float32, which halves the memory traffic.
    """
    n_boot, k = counts.shape
    weights = np.hstack([counts.astype(np.float32), np.zeros((n_boot, 1), np.float32)])
    neg_order = np.argsort(scores[~labels], kind="mergesort")
    neg_scores = scores[~labels][neg_order]
    # a leading column of a zero-weight cluster: cum[:, r] is the weight of the first r negatives
    cum = np.cumsum(weights[:, np.r_[k, codes[~labels][neg_order]]], axis=1)
    pos_scores, pos_codes = scores[labels], codes[labels]
    below = np.searchsorted(neg_scores, pos_scores, "left")
    through = np.searchsorted(neg_scores, pos_scores, "right")
    mid = cum[:, below] + cum[:, through]
    u = 0.5 * (weights[:, pos_codes] * mid).sum(axis=1, dtype=np.float64)
    per_cluster = np.vstack([np.bincount(c, minlength=k) for c in (pos_codes, codes[~labels])])
    n_pos, n_neg = (counts @ per_cluster.T.astype(float)).T
    return _ratio(u, n_pos * n_neg)


def _estimate(value: float | None, reps: np.ndarray, level: float) -> dict[str, Any]:
    if value is None or not math.isfinite(value):
        return {"estimate": None, "low": None, "high": None}
    low, high = _interval(reps, level)
    return {"estimate": float(value), "low": low, "high": high}


def _auroc_measure(
    samples: Sequence[Record], key: str, codes: np.ndarray, counts: np.ndarray, level: float
) -> dict[str, Any]:
    """AUROC of ``p_yes`` against ``sample[key] == "yes"`` over the samples where both are
    known, with its bootstrap interval and the positive / negative counts."""
    keep = np.array([s.get("p_yes") is not None and s.get(key) is not None for s in samples], bool)
    scored = [s for s, k in zip(samples, keep, strict=True) if k]
    labels = np.array([s[key] == YES for s in scored], bool)
    scores = np.array([float(s["p_yes"]) for s in scored], float)
    value = auroc(scores, labels)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    reps = np.empty(0)
    if value is not None:
        reps = _weighted_auroc(scores, labels, codes[keep], counts)
    out = _estimate(value, reps, level)
    return {**out, "n_pos": n_pos, "n_neg": n_neg}


def _rate_measures(
    samples: Sequence[Record], codes: np.ndarray, k: int, counts: np.ndarray, level: float
) -> dict[str, Any]:
    """Accuracy, balanced accuracy and the majority baseline with their intervals."""
    truth_yes = np.array([s[ANSWER] == YES for s in samples], bool)
    correct = np.array([s["prediction"] == s[ANSWER] for s in samples], bool)
    columns = (np.ones(len(samples)), truth_yes, correct, correct & truth_yes)
    per_cluster = np.vstack([_per_cluster(c, codes, k) for c in columns])
    n, yes, right, yes_right = (counts @ per_cluster.T).T
    recall_yes, recall_no = _ratio(yes_right, yes), _ratio(right - yes_right, n - yes)
    ba_reps = np.nanmean(np.vstack([recall_yes, recall_no]), axis=0)
    rate = _ratio(yes, n)
    truth = [s[ANSWER] for s in samples]
    majority = majority_baseline(truth)
    return {
        "accuracy": _estimate(float(correct.mean()), _ratio(right, n), level),
        "balanced_accuracy": _estimate(
            balanced_accuracy([s["prediction"] for s in samples], truth), ba_reps, level
        ),
        "majority": {
            "answer": majority["answer"],
            **_estimate(majority["accuracy"], np.maximum(rate, 1.0 - rate), level),
        },
    }


def measures(
    samples: Sequence[Record],
    cluster_key: str | None = FAMILY_ID,
    n_boot: int = N_BOOT,
    seed: int = 0,
    level: float = LEVEL,
) -> dict[str, Any]:
    """Accuracy, balanced accuracy, majority baseline and both AUROCs, each with a
    cluster-bootstrap interval (``{"estimate", "low", "high"}``; None where undefined).

    One draw of clusters serves every measure, so the intervals equal what
    :func:`cluster_bootstrap` gives with the same seed. Keys: ``n``, ``n_clusters``,
    ``clusters`` (the key, or ``"items"``), ``n_scored`` (samples with a ``p_yes``),
    ``yes_rate`` (share of "yes" predictions), ``accuracy``, ``balanced_accuracy``,
    ``majority`` (plus ``answer``), ``auroc`` and ``auroc_association`` (plus ``n_pos``,
    ``n_neg``).
    """
    if not samples:
        raise ValueError("measures needs at least one sample")
    with np.errstate(invalid="ignore"):
        codes, k = cluster_codes(samples, cluster_key)
        counts = _draw_counts(k, n_boot, seed)
        clustered = cluster_key is not None and any(s.get(cluster_key) for s in samples)
        return {
            "n": len(samples),
            "n_clusters": k,
            "clusters": cluster_key if clustered else "items",
            "n_scored": sum(s.get("p_yes") is not None for s in samples),
            "yes_rate": sum(s["prediction"] == YES for s in samples) / len(samples),
            **_rate_measures(samples, codes, k, counts, level),
            "auroc": _auroc_measure(samples, ANSWER, codes, counts, level),
            "auroc_association": _auroc_measure(samples, ASSOCIATION_ANSWER, codes, counts, level),
        }


def _slice_seed(seed: int, by: str | None, value: str) -> int:
    """A seed per slice that does not depend on which other slices exist."""
    return int(seed) * 2**32 + zlib.crc32(f"{by}|{value}".encode())


def slice_measures(
    samples: Sequence[Record],
    by: str | None,
    cluster_key: str | None = FAMILY_ID,
    n_boot: int = N_BOOT,
    seed: int = 0,
    level: float = LEVEL,
) -> dict[str, dict[str, Any]]:
    """:func:`measures` of each slice of ``samples`` by field ``by`` (``{value: measures}``
    in :func:`~ladder.analysis.slicing.groups` order); ``by=None`` gives ``{"all": …}``.

    Deterministic given ``seed``; each slice's draw depends only on the seed, ``by`` and its
    own value. Samples lacking ``by`` are left out.

    >>> s = [{"rung": r, "answer": "yes", "prediction": "yes", "p_yes": 0.9} for r in (1, 2)]
    >>> {k: v["accuracy"]["estimate"] for k, v in slice_measures(s, "rung", n_boot=50).items()}
    {'1': 1.0, '2': 1.0}
    """
    parts = {"all": list(samples)} if by is None else groups(samples, by)
    return {
        value: measures(group, cluster_key, n_boot, _slice_seed(seed, by, value), level)
        for value, group in parts.items()
        if group
    }


# -- comparing runs on the same items (one draw of families shared by both) ---------------------


def paired_auroc_difference(
    a: Sequence[Record],
    b: Sequence[Record],
    cluster_key: str | None = FAMILY_ID,
    n_boot: int = N_BOOT,
    seed: int = 0,
    level: float = LEVEL,
) -> dict[str, Any]:
    """AUROC of ``a``'s ``p_yes`` minus ``b``'s against the truth, on the items both scored
    with a ``p_yes``, with a paired cluster-bootstrap interval. Keys: ``estimate``, ``low``,
    ``high``, ``n``; ``estimate`` None when one answer class is missing.

    >>> a = [{"id": str(i), "answer": "yes" if i % 2 else "no", "p_yes": float(i % 2)}
    ...      for i in range(20)]
    >>> b = [{**s, "p_yes": 0.5} for s in a]
    >>> paired_auroc_difference(a, b)["estimate"]
    0.5
    """
    by_id = {s["id"]: s for s in b if s.get("p_yes") is not None}
    rows = [(s, by_id[s["id"]]) for s in a if s.get("p_yes") is not None and s["id"] in by_id]
    first = [r[0] for r in rows]
    labels = np.array([s[ANSWER] == YES for s in first], bool)
    score_a = np.array([float(s["p_yes"]) for s in first])
    score_b = np.array([float(r[1]["p_yes"]) for r in rows])
    va, vb = auroc(score_a, labels), auroc(score_b, labels)
    if va is None or vb is None:
        return {"estimate": None, "low": None, "high": None, "n": len(rows)}
    codes, k = cluster_codes(first, cluster_key)
    counts = _draw_counts(k, n_boot, seed)
    reps = _weighted_auroc(score_a, labels, codes, counts)
    reps = reps - _weighted_auroc(score_b, labels, codes, counts)
    low, high = _interval(reps, level)
    return {"estimate": va - vb, "low": low, "high": high, "n": len(rows)}


def _measure_replicates(
    samples: Sequence[Record], measure: str, cluster_key: str | None, n_boot: int, seed: int
) -> tuple[float | None, np.ndarray]:
    """A measure's estimate and its cluster-bootstrap replicates (``auroc`` or
    ``accuracy``)."""
    codes, k = cluster_codes(samples, cluster_key)
    counts = _draw_counts(k, n_boot, seed)
    if measure == "accuracy":
        correct = np.array([s["prediction"] == s[ANSWER] for s in samples], float)
        right = counts @ _per_cluster(correct, codes, k)
        n = counts @ _per_cluster(np.ones(len(samples)), codes, k)
        return float(correct.mean()), _ratio(right, n)
    if measure != "auroc":
        raise ValueError(f"unknown measure {measure!r}; allowed: 'auroc', 'accuracy'")
    keep = np.array([s.get("p_yes") is not None for s in samples], bool)
    scored = [s for s, k_ in zip(samples, keep, strict=True) if k_]
    labels = np.array([s[ANSWER] == YES for s in scored], bool)
    scores = np.array([float(s["p_yes"]) for s in scored], float)
    value = auroc(scores, labels)
    if value is None:
        return None, np.empty(0)
    return value, _weighted_auroc(scores, labels, codes[keep], counts)


def unpaired_difference(
    a: Sequence[Record],
    b: Sequence[Record],
    measure: str = "auroc",
    cluster_key: str | None = FAMILY_ID,
    n_boot: int = N_BOOT,
    seed: int = 0,
    level: float = LEVEL,
) -> dict[str, Any]:
    """``measure`` (``"auroc"`` against the truth, or ``"accuracy"``) on samples ``a`` minus
    the same on ``b``, where ``a`` and ``b`` are *different* items (say, the items a
    model was trained on and fresh ones). Each side is resampled by its own clusters,
    independently; the interval is the percentile interval of the replicate differences.
    Keys: ``estimate``, ``low``, ``high``, ``a``, ``b`` (each side's estimate);
    ``estimate`` None when a side has one answer class only.

    >>> a = [{"answer": "yes" if i % 2 else "no", "prediction": "yes" if i % 2 else "no",
    ...       "p_yes": float(i % 2)} for i in range(40)]
    >>> b = [{**s, "p_yes": 0.5, "prediction": "yes"} for s in a]
    >>> d = unpaired_difference(a, b)
    >>> d["estimate"], d["low"] > 0
    (0.5, True)
    >>> unpaired_difference(a, b, "accuracy")["estimate"]
    0.5
    """
    va, reps_a = _measure_replicates(a, measure, cluster_key, n_boot, seed)
    vb, reps_b = _measure_replicates(b, measure, cluster_key, n_boot, seed + 1)
    if va is None or vb is None:
        return {"estimate": None, "low": None, "high": None, "a": va, "b": vb}
    with np.errstate(invalid="ignore"):
        low, high = _interval(reps_a - reps_b, level)
    return {"estimate": va - vb, "low": low, "high": high, "a": va, "b": vb}


def gap_closed_interval(
    model: Sequence[Record],
    association: Mapping[str, bool],
    truth: Mapping[str, bool],
    cluster_key: str | None = FAMILY_ID,
    n_boot: int = N_BOOT,
    seed: int = 0,
    level: float = LEVEL,
) -> dict[str, Any]:
    """The model's mean position in the ladder gap over the rungs whose gap (truth-oracle
    minus association-oracle accuracy) is at least ``MIN_GAP``, with a cluster-bootstrap
    interval; ``association`` and ``truth`` map item id → correct. Keys: ``estimate``,
    ``low``, ``high``, ``rungs`` (those used).
    """
    rows = [s for s in model if s["id"] in association and s["id"] in truth]
    codes, k = cluster_codes(rows, cluster_key)
    counts = _draw_counts(k, n_boot, seed)
    rungs = sorted({str(s.get("rung")) for s in rows})
    positions, reps, used = [], [], []
    for rung in rungs:
        here = np.array([str(s.get("rung")) == rung for s in rows], float)
        cols = [
            here,
            here * np.array([s["prediction"] == s[ANSWER] for s in rows], float),
            here * np.array([association[s["id"]] for s in rows], float),
            here * np.array([truth[s["id"]] for s in rows], float),
        ]
        sums = np.vstack([_per_cluster(c, codes, k) for c in cols])
        n, m, a, t = sums.sum(axis=1)
        position = gap_position(m / n, a / n, t / n)
        if position is None:
            continue
        _, rm, ra, rt = (counts @ sums.T).T
        with np.errstate(invalid="ignore", divide="ignore"):
            reps.append(_ratio(rm - ra, rt - ra))
        positions.append(position)
        used.append(rung)
    if not positions:
        return {"estimate": None, "low": None, "high": None, "rungs": []}
    low, high = _interval(np.mean(np.vstack(reps), axis=0), level)
    estimate = float(np.mean(positions))
    return {"estimate": estimate, "low": low, "high": high, "rungs": used}
