"""Honest inference over many slices: one joint test per slicing, corrected p-values,
careful wording, and the smallest difference a report could have detected.

* :func:`joint_slice_test` — whether accuracy differs across the slices of one slicing, as
  one test (never the two extreme slices against each other). It is a Wald test of all
  slice effects at once in a linear probability model ``correct ~ slice`` with
  cluster-robust (family) covariance, referred to F(k − 1, G − 1) for k slices and G
  families. The linear model stays defined when a slice is all right or all wrong (a logit
  would not), and clustering keeps a family's correlated items from counting as independent
  evidence. The unclustered chi-square test of independence is given beside it.
* :func:`corrected` — Holm or Benjamini–Hochberg (statsmodels ``multipletests``).
* :func:`significance_wording` — never "significant" under :data:`MIN_GROUP` items a group.
* :func:`minimal_detectable_difference` — two-proportion, two-sided, by Cohen's arcsine h.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from statistics import NormalDist
from typing import Any

import numpy as np

from ladder.analysis.measures import cluster_codes
from ladder.analysis.slicing import groups
from ladder.core.records import ANSWER, FAMILY_ID
from ladder.core.stats import ALPHA, format_p

__all__ = [
    "MIN_CLUSTERS",
    "MIN_GROUP",
    "corrected",
    "joint_slice_test",
    "minimal_detectable_difference",
    "significance_wording",
]

#: No group smaller than this is called significant or not significant.
MIN_GROUP = 30
#: No clustered test is made of a slice with fewer families than this: cluster-robust
#: standard errors from a handful of clusters are too small, and the test too liberal.
MIN_CLUSTERS = 10

Record = Mapping[str, Any]


def corrected(pvalues: Sequence[float | None], method: str = "holm") -> list[float | None]:
    """Adjusted p-values (``method``: ``"holm"`` or ``"fdr_bh"``), in input order.

    None or NaN p-values stay None and do not count towards the family of tests.

    >>> [round(p, 3) for p in corrected([0.01, 0.04, 0.03])]
    [0.03, 0.06, 0.06]
    >>> corrected([0.01, None], "fdr_bh")
    [0.01, None]
    """
    if method not in ("holm", "fdr_bh"):
        raise ValueError(f"method {method!r}: allowed are 'holm', 'fdr_bh'")
    valid = [i for i, p in enumerate(pvalues) if p is not None and math.isfinite(p)]
    out: list[float | None] = [None] * len(pvalues)
    if not valid:
        return out
    from statsmodels.stats.multitest import multipletests

    adjusted = multipletests([float(pvalues[i]) for i in valid], method=method)[1]  # type: ignore[arg-type]
    for i, p in zip(valid, adjusted, strict=True):
        out[i] = float(p)
    return out


def significance_wording(
    p_adj: float | None, n_per_group: int | Sequence[int], alpha: float = ALPHA
) -> str:
    """Words for an adjusted p-value: "significant" only with every group of at least
    :data:`MIN_GROUP` items; smaller groups are "too few items to test", without the word.

    >>> significance_wording(0.0004, [40, 35])
    'significant (adjusted p < 0.001)'
    >>> significance_wording(0.001, [40, 9])
    'too few items to test (smallest group n = 9 < 30)'
    >>> significance_wording(0.2, 50)
    'not significant (adjusted p = 0.2)'
    """
    sizes = [n_per_group] if isinstance(n_per_group, int) else list(n_per_group)
    smallest = min(sizes) if sizes else 0
    if smallest < MIN_GROUP:
        return f"too few items to test (smallest group n = {smallest} < {MIN_GROUP})"
    if p_adj is None or not math.isfinite(p_adj):
        return "not tested (no p-value)"
    text = format_p(p_adj).replace("p ", "adjusted p ", 1)
    return f"significant ({text})" if p_adj < alpha else f"not significant ({text})"


def minimal_detectable_difference(
    n1: int, n2: int, p: float = 0.5, alpha: float = ALPHA, power: float = 0.8
) -> float | None:
    """The smallest difference from proportion ``p`` that a two-sided two-proportion test
    at ``alpha`` detects with ``power``, for groups of ``n1`` and ``n2``.

    Cohen's ``h = 2 asin √p₂ − 2 asin √p₁`` must reach ``(z₁₋α/₂ + z_power) √(1/n1 + 1/n2)``
    (the normal approximation of statsmodels' ``NormalIndPower``, without its far tail);
    the step is taken towards 0.5's far side (up from ``p ≤ 0.5``, down otherwise). None when
    a group is empty or no proportion in [0, 1] is far enough.

    >>> round(minimal_detectable_difference(100, 100), 3)
    0.193
    """
    if n1 <= 0 or n2 <= 0 or not 0.0 <= p <= 1.0:
        return None
    z = NormalDist().inv_cdf
    h = (z(1.0 - alpha / 2.0) + z(power)) * math.sqrt(1.0 / n1 + 1.0 / n2)
    phi = 2.0 * math.asin(math.sqrt(p))
    target = phi + h if p <= 0.5 else phi - h
    if not 0.0 <= target <= math.pi:
        return None
    return abs(math.sin(target / 2.0) ** 2 - p)


def _wald(y: np.ndarray, x: np.ndarray, clusters: np.ndarray) -> tuple[float, float, int, int]:
    """F statistic, p-value and degrees of freedom of "every slice effect is zero"; NaN
    when the clustered covariance of the slice effects vanishes (no slice varies across
    families). A rank-deficient covariance (two slices that never vary) is tested on the
    rank it has (statsmodels' pseudo-inverse), which ``df[0]`` then shows."""
    import statsmodels.api as sm

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        fit = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": clusters}, use_t=True)
        if np.abs(np.asarray(fit.cov_params())[1:, 1:]).max() < 1e-20:
            return math.nan, math.nan, 0, 0
        test = fit.wald_test(np.eye(x.shape[1])[1:], use_f=True, scalar=True)
    return float(test.statistic), float(test.pvalue), int(test.df_num), int(test.df_denom)


def _chi2(table: np.ndarray) -> float | None:
    """Unclustered chi-square test of independence of slice and correctness (p-value)."""
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return None
    from statsmodels.stats.contingency_tables import Table

    return float(Table(table).test_nominal_association().pvalue)


def joint_slice_test(
    samples: Sequence[Record], by: str, cluster_key: str | None = FAMILY_ID
) -> dict[str, Any]:
    """One test of whether accuracy differs across the slices of ``by`` (see module text).

    Returns ``by``, ``n``, ``n_slices``, ``n_clusters``, ``sizes`` (``{slice: n}``),
    ``method``, ``statistic`` (F), ``df`` (``[k − 1, G − 1]``), ``p_value`` and
    ``chi2_p_value``; ``p_value`` is None with a ``note`` when the test is not defined
    (one slice, fewer families than slice effects, no variation in correctness).
    """
    parts = groups(samples, by)
    # the largest slice is the reference: the one most likely to vary across families
    ref = max(parts, key=lambda lab: len(parts[lab])) if parts else None
    rows = [s for g in parts.values() for s in g]
    codes, k = cluster_codes(rows, cluster_key)
    y = np.array([s["prediction"] == s[ANSWER] for s in rows], float)
    labels = [lab for lab, g in parts.items() for _ in g]
    dummies = [[float(v == lab) for v in labels] for lab in parts if lab != ref]
    x = np.column_stack([np.ones(len(rows)), *dummies])
    right = [sum(s["prediction"] == s[ANSWER] for s in g) for g in parts.values()]
    table = np.array([[r, len(g) - r] for r, g in zip(right, parts.values(), strict=True)])
    out: dict[str, Any] = {"by": by, "n": len(rows), "n_slices": len(parts), "n_clusters": k}
    out |= {"sizes": {lab: len(g) for lab, g in parts.items()}, "chi2_p_value": _chi2(table)}
    clustered = cluster_key is not None and any(s.get(cluster_key) for s in rows)
    out["method"] = "Wald F test, linear probability model, cluster-robust by " + (
        str(cluster_key) if clustered else "item"
    )
    none = {"statistic": None, "df": None, "p_value": None}
    if len(parts) < 2:
        return {**out, **none, "note": "one slice: nothing to compare"}
    if k - 1 < len(parts) - 1:
        return {**out, **none, "note": f"{k} clusters cannot test {len(parts) - 1} slice effects"}
    if y.min() == y.max():
        return {**out, **none, "note": "every item is right (or every item wrong)"}
    stat, p, df1, df2 = _wald(y, x, codes)
    if not math.isfinite(p):
        return {**out, **none, "note": "no slice varies across families: nothing to test"}
    return {**out, "statistic": stat, "df": [df1, df2], "p_value": p}
