"""Whether a model's answers separate yes-items from no-items: bias-free tests with
family-clustered errors.

Regressing the model's binary answer (yes = 1) on the true answer (yes = 1) gives the slope
P(says yes | truth yes) − P(says yes | truth no): Youden's J, which is 2 × balanced
accuracy − 1. A constant answer bias (always yes, always no, yes with probability β
regardless) has J = 0 whatever the base rate, so a test of J = 0 is the test of "better than
chance" that accuracy cannot give. Ordinary least squares with cluster-robust covariance
(statsmodels) keeps a family's correlated items from counting as independent evidence; the
p-value refers to t with G − 1 degrees of freedom for G families.

* :func:`discrimination_test` — J with its interval and the test of J = 0;
* :func:`joint_discrimination_test` — one Wald F test of "J is equal in every slice".
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ladder.analysis.measures import cluster_codes
from ladder.analysis.slicing import groups
from ladder.core.records import ANSWER, FAMILY_ID, NO, YES

__all__ = ["discrimination_test", "joint_discrimination_test"]

Record = Mapping[str, Any]


def _readable(samples: Sequence[Record]) -> list[Record]:
    return [s for s in samples if s.get("prediction") in (YES, NO) and s.get(ANSWER) in (YES, NO)]


def _fit(y: np.ndarray, x: np.ndarray, clusters: np.ndarray) -> Any:
    import statsmodels.api as sm

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": clusters}, use_t=True)


def discrimination_test(
    samples: Sequence[Record], cluster_key: str | None = FAMILY_ID, level: float = 0.95
) -> dict[str, Any]:
    """Youden's J of the answers against the truth, its clustered interval and the p-value
    of J = 0. Keys: ``youden``, ``low``, ``high``, ``p_value``, ``balanced_accuracy``,
    ``n``, ``n_clusters``; the numbers are None (with a ``note``) when J is undefined (one
    answer class) or untestable (fewer than two clusters, no variation).

    >>> rows = [{"prediction": a, "answer": a, "family_id": str(k)} for k, a in
    ...         enumerate(["yes", "no"] * 20)]
    >>> discrimination_test(rows)["youden"]
    1.0
    """
    rows = _readable(samples)
    codes, k = cluster_codes(rows, cluster_key)
    out: dict[str, Any] = {"n": len(rows), "n_clusters": k}
    none = {"youden": None, "low": None, "high": None, "p_value": None, "balanced_accuracy": None}
    truth = np.array([s[ANSWER] == YES for s in rows], float)
    said = np.array([s["prediction"] == YES for s in rows], float)
    if truth.size == 0 or truth.min() == truth.max():
        return {**out, **none, "note": "one answer class: J is undefined"}
    j = float(said[truth == 1].mean() - said[truth == 0].mean())
    out |= {"youden": j, "balanced_accuracy": (j + 1) / 2}
    if k < 2 or said.min() == said.max():
        # a constant answer has J = 0 exactly: nothing random to test
        return {**out, "low": j, "high": j, "p_value": None, "note": "constant answer"}
    fit = _fit(said, np.column_stack([np.ones_like(truth), truth]), codes)
    se = float(np.sqrt(np.asarray(fit.cov_params())[1, 1]))
    if not math.isfinite(se) or se < 1e-12:
        return {**out, "low": j, "high": j, "p_value": None, "note": "no variation to test"}
    low, high = (float(v) for v in np.asarray(fit.conf_int(alpha=1 - level))[1])
    return {**out, "low": low, "high": high, "p_value": float(np.asarray(fit.pvalues)[1])}


def _design(parts: Mapping[str, Sequence[Record]]) -> tuple[np.ndarray, np.ndarray, list[Record]]:
    """Per-slice intercept and per-slice truth slope columns; answer vector; rows."""
    rows = [s for g in parts.values() for s in g]
    labels = [lab for lab, g in parts.items() for _ in g]
    truth = np.array([s[ANSWER] == YES for s in rows], float)
    cols = []
    for lab in parts:
        here = np.array([v == lab for v in labels], float)
        cols += [here, here * truth]
    said = np.array([s["prediction"] == YES for s in rows], float)
    return said, np.column_stack(cols), rows


def joint_discrimination_test(
    samples: Sequence[Record], by: str, cluster_key: str | None = FAMILY_ID
) -> dict[str, Any]:
    """One Wald F test that Youden's J is the same in every slice of ``by`` (slices with
    one answer class have no J and are left out, listed in ``left_out``). Keys: ``by``,
    ``n``, ``n_slices``, ``n_clusters``, ``left_out``, ``statistic``, ``df``, ``p_value``
    (None with a ``note`` when untestable).
    """
    parts = {
        lab: g
        for lab, g in groups(_readable(samples), by).items()
        if len({s[ANSWER] for s in g}) == 2
    }
    left_out = sorted(set(groups(_readable(samples), by)) - set(parts))
    none = {"statistic": None, "df": None, "p_value": None}
    if len(parts) < 2:
        out = {"by": by, "n": sum(map(len, parts.values())), "n_slices": len(parts)}
        return {
            **out,
            "left_out": left_out,
            **none,
            "note": "fewer than two slices with both answers",
        }
    said, x, rows = _design(parts)
    codes, k = cluster_codes(rows, cluster_key)
    out: dict[str, Any] = {"by": by, "n": len(rows), "n_slices": len(parts), "n_clusters": k}
    out["left_out"] = left_out
    if k - 1 < len(parts) - 1 or said.min() == said.max():
        return {**out, **none, "note": "too few clusters or no variation in the answers"}
    fit = _fit(said, x, codes)
    # rows of R: slope of slice i minus slope of slice 0
    r = np.zeros((len(parts) - 1, x.shape[1]))
    for i in range(1, len(parts)):
        r[i - 1, 1] = -1.0
        r[i - 1, 2 * i + 1] = 1.0
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        test = fit.wald_test(r, use_f=True, scalar=True)
    p = float(test.pvalue)
    if not math.isfinite(p):
        return {**out, **none, "note": "the slopes' covariance vanishes: nothing to test"}
    df = [int(test.df_num), int(test.df_denom)]
    return {**out, "statistic": float(test.statistic), "df": df, "p_value": p}
