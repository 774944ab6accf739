"""Significance tests and small statistics used by reports and leaderboards.

* :func:`two_proportion_test` — unpaired comparison of two accuracies (different items,
  e.g. rung 1 against rung 2): the pooled two-proportion z-test (statsmodels' score test
  without correction, which equals the textbook pooled z-test).
* :func:`mcnemar_test` — paired comparison of two predictors on the same items: exact
  binomial test on the discordant pairs when they are few (< :data:`MCNEMAR_EXACT_BELOW`),
  otherwise the chi-square test with continuity correction (statsmodels).
* :func:`gap_position` — where an accuracy falls between the association oracle and the
  truth oracle ("ladder gap").
* :func:`roc_curve` / :func:`roc_auc` — for Granger scores against the true graph.

>>> r = mcnemar_test([True, True, False, True], [False, True, False, False])
>>> (r.b, r.c, r.method, round(r.p_value, 3))
(2, 0, 'exact', 0.5)
>>> round(two_proportion_test(30, 40, 20, 40).p_value, 4)
0.0209
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as scipy_stats

__all__ = [
    "ALPHA",
    "MCNEMAR_EXACT_BELOW",
    "MIN_GAP",
    "McNemarResult",
    "UnpairedResult",
    "format_p",
    "gap_position",
    "mcnemar_test",
    "mean_difference",
    "p_cell",
    "roc_auc",
    "roc_curve",
    "two_proportion_test",
]

#: Significance level used in every sentence that says "significant".
ALPHA = 0.05
#: McNemar uses the exact binomial test when the discordant pairs are fewer than this.
MCNEMAR_EXACT_BELOW = 25
#: A rung's ladder gap (truth-oracle minus association-oracle accuracy) counts as
#: non-trivial from this size on; below it the gap position is not defined.
MIN_GAP = 0.05


class _Tested:
    """What both test results share: significance is ``p_value < ALPHA``, decided here once."""

    p_value: float  # a field of each subclass (dataclass fields are not inherited from here)

    @property
    def significant(self) -> bool:
        """``p < ALPHA``.

        >>> UnpairedResult("z", 2.0, 0.04).significant, UnpairedResult("z", 1.0, 0.05).significant
        (True, False)
        """
        return bool(self.p_value < ALPHA)


@dataclass(frozen=True)
class UnpairedResult(_Tested):
    """An unpaired test: its name, statistic and two-sided p-value."""

    name: str
    statistic: float
    p_value: float


@dataclass(frozen=True)
class McNemarResult(_Tested):
    """A paired test on two predictors' correctness over the same items.

    ``b``: items the first got right and the second wrong; ``c``: the reverse;
    ``n``: paired items.
    """

    b: int
    c: int
    n: int
    method: str
    statistic: float
    p_value: float

    @property
    def name(self) -> str:
        """How the p-value was computed, in words."""
        if self.method == "exact":
            return "McNemar exact binomial test"
        return "McNemar chi-square test (continuity-corrected)"


def two_proportion_test(count1: int, n1: int, count2: int, n2: int) -> UnpairedResult:
    """Pooled two-proportion z-test of ``count1/n1 == count2/n2`` (two-sided).

    Uses ``statsmodels.stats.proportion.test_proportions_2indep(method="score",
    correction=False)``. When the pooled proportion is 0 or 1 both groups agree exactly:
    the statistic is 0 and p = 1.
    """
    if n1 <= 0 or n2 <= 0:
        raise ValueError("two_proportion_test needs two non-empty groups")
    name = "two-proportion z-test (pooled, unpaired)"
    pooled = (count1 + count2) / (n1 + n2)
    if pooled in (0.0, 1.0):
        return UnpairedResult(name, 0.0, 1.0)
    from statsmodels.stats.proportion import test_proportions_2indep

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # odds-ratio side computation divides by zero at 0/1
        res = test_proportions_2indep(
            count1, n1, count2, n2, method="score", correction=False, return_results=True
        )
    return UnpairedResult(name, float(res.statistic), float(res.pvalue))


def mcnemar_test(first: Sequence[bool], second: Sequence[bool]) -> McNemarResult:
    """McNemar's test of equal accuracy for two predictors on the same items (in order).

    Exact binomial (``statsmodels.stats.contingency_tables.mcnemar(exact=True)``) when the
    discordant count ``b + c`` is below :data:`MCNEMAR_EXACT_BELOW`, chi-square with
    continuity correction otherwise; no discordant pair gives p = 1.
    """
    if len(first) != len(second):
        raise ValueError("mcnemar_test needs two sequences of equal length (paired items)")
    a = np.asarray(first, bool)
    s = np.asarray(second, bool)
    both = int(np.sum(a & s))
    b = int(np.sum(a & ~s))
    c = int(np.sum(~a & s))
    neither = int(np.sum(~a & ~s))
    exact = b + c < MCNEMAR_EXACT_BELOW
    if b + c == 0:
        return McNemarResult(b, c, len(a), "exact" if exact else "chi2", 0.0, 1.0)
    from statsmodels.stats.contingency_tables import mcnemar

    res = mcnemar([[both, b], [c, neither]], exact=exact, correction=True)
    return McNemarResult(
        b,
        c,
        len(a),
        "exact" if exact else "chi2",
        float(res.statistic),
        float(min(1.0, res.pvalue)),
    )


def gap_position(
    model: float, association: float, truth: float, min_gap: float = MIN_GAP
) -> float | None:
    """``(model − association) / (truth − association)``; None when the gap is below ``min_gap``.

    0 means "no better than the perfect rung-1 reasoner", 1 means "as good as the truth",
    negative means below the association oracle.

    >>> gap_position(0.75, 0.5, 1.0)
    0.5
    >>> gap_position(0.9, 1.0, 1.0) is None
    True
    """
    gap = truth - association
    if not math.isfinite(gap) or gap < min_gap or not math.isfinite(model):
        return None
    return (model - association) / gap


def roc_curve(scores: Sequence[float], labels: Sequence[bool]) -> tuple[np.ndarray, np.ndarray]:
    """False- and true-positive rates over all thresholds (higher score = more positive)."""
    s = np.asarray(scores, float)
    y = np.asarray(labels, bool)
    pos, neg = int(y.sum()), int((~y).sum())
    if pos == 0 or neg == 0:
        raise ValueError("roc_curve needs both positive and negative labels")
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    distinct = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
    tps = np.cumsum(y)[distinct]
    fps = (distinct + 1) - tps
    return np.r_[0.0, fps / neg], np.r_[0.0, tps / pos]


def roc_auc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """Area under the ROC curve (ties count one half), the Mann–Whitney probability.

    ``P(score of a positive > score of a negative) + ½ P(tie)``, computed from average
    ranks (``U = R_pos − n_pos(n_pos + 1)/2``), so it takes O(n log n) time. Scores must be
    finite; both labels must occur.

    >>> roc_auc([0.1, 0.4, 0.35, 0.8], [False, False, True, True])
    0.75
    >>> roc_auc([1.0, 2.0, 0.0, 2.0], [True, True, False, False])  # one tie: ½
    0.625
    """
    s = np.asarray(scores, float)
    y = np.asarray(labels, bool)
    if s.shape != y.shape or s.ndim != 1:
        raise ValueError("roc_auc needs one label per score")
    if not np.all(np.isfinite(s)):
        raise ValueError("roc_auc needs finite scores")
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if not n_pos or not n_neg:
        raise ValueError("roc_auc needs both positive and negative labels")
    _, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
    # the average 1-based rank of each distinct value: the middle of its run of ties
    mid_rank = np.cumsum(counts) - (counts - 1) / 2.0
    u = float(mid_rank[inverse][y].sum()) - n_pos * (n_pos + 1) / 2.0
    return u / (n_pos * n_neg)


def mean_difference(
    a: Mapping[str, Any], b: Mapping[str, Any], alpha: float = ALPHA
) -> dict[str, float] | None:
    """Welch's difference ``a − b`` of two cells' means, from their
    ``ladder.granger.compare.mean_interval`` blocks (``mean``, ``se``, ``n``): the
    estimate, its t interval on the Welch–Satterthwaite degrees of freedom and the
    two-sided p (what ``scipy.stats.ttest_ind(..., equal_var=False)`` gives on the raw
    values). ``None`` when either block is missing or both standard errors are 0.

    Example (the blocks of ``ladder.granger.compare.mean_interval`` over [0.3, 0.4, 0.5,
    0.6] and [0.1, 0.2, 0.2, 0.3]):
        >>> a = {"mean": 0.45, "se": 0.0645497, "n": 4}
        >>> b = {"mean": 0.2, "se": 0.0408248, "n": 4}
        >>> d = mean_difference(a, b)
        >>> round(d["diff"], 3), round(d["lo"], 3), round(d["hi"], 3), round(d["p"], 4)
        (0.25, 0.054, 0.446, 0.0217)
    """
    if not a or not b:
        return None
    va, vb = float(a["se"]) ** 2, float(b["se"]) ** 2
    if va + vb <= 0:
        return None
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (a["n"] - 1) + vb**2 / (b["n"] - 1))
    diff = float(a["mean"]) - float(b["mean"])
    q = float(scipy_stats.t.ppf(1 - alpha / 2, df))
    p = float(2 * scipy_stats.t.sf(abs(diff) / se, df))
    return {"diff": diff, "se": se, "df": df, "lo": diff - q * se, "hi": diff + q * se, "p": p}


def format_p(p: float) -> str:
    """A p-value for text, to 3 significant digits (never rounded across :data:`ALPHA`).

    >>> format_p(0.0004), format_p(0.0321), format_p(0.049996), format_p(1.0)
    ('p < 0.001', 'p = 0.0321', 'p = 0.04999', 'p = 1')
    """
    if not math.isfinite(p):
        return "p = n/a"
    if p < 0.001:
        return "p < 0.001"
    text = f"{p:.3g}"
    if p < ALPHA <= float(text):
        text = f"{math.floor(p * 1e5) / 1e5:.5f}".rstrip("0")
    return f"p = {text}"


def p_cell(p: float) -> str:
    """A p-value for a table cell: :func:`format_p` without ``p =``.

    >>> p_cell(0.0004), p_cell(0.25)
    ('< 0.001', '0.25')
    """
    return format_p(p).removeprefix("p = ").removeprefix("p ")
