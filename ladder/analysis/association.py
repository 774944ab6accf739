"""Does a model follow the association answer once the truth and the wording are held fixed?

On discordant items the truth and the association (rung-1) answer differ, but discordance
is not spread evenly: it concentrates in some query types, wordings and polarities, and a
model's answer bias on those alone would look like "failing where association misleads".
:func:`association_following` therefore regresses the model's answer on both answers at
once, adjusted for query type, verbalization and polarity, with errors clustered by family:

    yes_i = a + b · truth_yes_i + w · association_yes_i + adjustment dummies + e_i

The **association weight** ``w`` is how much more often the model says "yes" when the
association answer is "yes", the truth (and the adjustment cells) being equal. A model that
follows association has ``w > 0``; a biased model that says "yes" regardless has ``w = 0``
whatever its bias, since the bias sits in the intercept.

The outcome is the 0/1 "yes" (a linear probability model) rather than a logit: the
answers of oracle-like predictors are deterministic on concordant items (quasi-complete
separation), where the logit's maximum likelihood does not exist, while the linear model is
exact for the mixture baselines (answer the truth with probability α, the association
otherwise: ``P(yes) = α · truth + (1 − α) · association``, so ``w = 1 − α``). Standard errors
are cluster-robust (CR1, statsmodels OLS ``cov_type="cluster"``) with t(G − 1) reference
distribution for G families. ``outcome="logit_p_yes"`` models the clipped logit of
``p_yes`` instead, the same way (a model's graded belief).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ladder.analysis.measures import cluster_codes
from ladder.core.records import ANSWER, ASSOCIATION_ANSWER, FAMILY_ID, QUERY_TYPE, YES

__all__ = [
    "ADJUST",
    "FOLLOWS",
    "MIN_DISCORDANT_CLUSTERS",
    "P_CLIP",
    "association_following",
    "polarity",
]

#: The fields whose cells the model is adjusted for (dummies, first level as reference).
ADJUST = (QUERY_TYPE, "verbalization", "polarity")
#: The verdict when the weight's interval lies above zero.
FOLLOWS = "follows association"
#: ``p_yes`` is clipped to [P_CLIP, 1 − P_CLIP] before the logit (oracles give 0 and 1).
P_CLIP = 1e-3

Record = Mapping[str, Any]


def polarity(sample: Record) -> int | None:
    """The question's polarity: ``sample["polarity"]``, else ``sample["query"]["polarity"]``.

    >>> polarity({"query": {"polarity": -1}}), polarity({}) is None
    (-1, True)
    """
    if sample.get("polarity") is not None:
        return int(sample["polarity"])
    query = sample.get("query")
    if isinstance(query, Mapping) and query.get("polarity") is not None:
        return int(query["polarity"])
    return None


def _value(sample: Record, field: str) -> Any:
    return polarity(sample) if field == "polarity" else sample.get(field)


def _outcome(sample: Record, outcome: str) -> float | None:
    if outcome == "prediction":
        return {"yes": 1.0, "no": 0.0}.get(sample.get("prediction"))  # type: ignore[arg-type]
    p = sample.get("p_yes")
    if p is None or not math.isfinite(float(p)):
        return None
    p = min(max(float(p), P_CLIP), 1.0 - P_CLIP)
    return math.log(p / (1.0 - p))


def _independent_columns(x: np.ndarray) -> list[int]:
    """Columns kept left to right when each adds rank (so the first ones always stay)."""
    kept: list[int] = []
    for j in range(x.shape[1]):
        if np.linalg.matrix_rank(x[:, [*kept, j]]) == len(kept) + 1:
            kept.append(j)
    return kept


def _design(rows: Sequence[Record], adjust: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Constant, truth, association, then one dummy per non-reference level of each field
    in ``adjust`` (fields missing on some row, or one-valued, are left out)."""
    cols = [np.ones(len(rows)), [float(r[ANSWER] == YES) for r in rows]]
    cols.append([float(r[ASSOCIATION_ANSWER] == YES) for r in rows])
    names = ["const", "truth", "association"]
    for field in adjust:
        values = [_value(r, field) for r in rows]
        if any(v is None for v in values):
            continue
        for level in sorted({str(v) for v in values})[1:]:
            cols.append([float(str(v) == level) for v in values])
            names.append(f"{field}={level}")
    return np.column_stack(cols), names


def _usable(
    samples: Sequence[Record], outcome: str
) -> tuple[list[Record], list[float], dict[str, int]]:
    """Rows with an association answer and a readable outcome, and how many were dropped."""
    rows, y = [], []
    dropped = {"no_association": 0, "unreadable": 0}
    for s in samples:
        if s.get(ASSOCIATION_ANSWER) not in ("yes", "no"):
            dropped["no_association"] += 1
            continue
        value = _outcome(s, outcome)
        if value is None:
            dropped["unreadable"] += 1
            continue
        rows.append(s)
        y.append(value)
    return rows, y, dropped


#: The fewest clusters (families) holding a discordant item for a weight to be estimated.
#: Only discordant items separate w from the truth's weight; with a handful of them each has
#: leverage near 1, its residual near 0, and the clustered error collapses (a random
#: baseline with 2 discordant items, both answered yes, read as "follows association" at
#: p < 0.001).
MIN_DISCORDANT_CLUSTERS = 10


def _why_not(
    x: np.ndarray, names: list[str], kept: list[int], codes: np.ndarray, n_clusters: int
) -> str | None:
    if x.shape[0] == 0:
        return "no item with both an association answer and a readable answer"
    if n_clusters < 2:
        return f"{n_clusters} cluster(s); clustered errors need at least 2"
    if names.index("association") not in kept or names.index("truth") not in kept:
        return "truth and association answers do not vary apart (no discordant item, or constant)"
    discordant = x[:, names.index("truth")] != x[:, names.index("association")]
    holding = len(np.unique(codes[discordant]))
    if holding < MIN_DISCORDANT_CLUSTERS:
        return (
            f"{int(discordant.sum())} discordant item(s) in {holding} cluster(s); the weight "
            f"needs discordant items in at least {MIN_DISCORDANT_CLUSTERS}"
        )
    if x.shape[0] <= len(kept):
        return f"{x.shape[0]} items for {len(kept)} coefficients"
    return None


def _verdict(low: float, high: float) -> str:
    if not (math.isfinite(low) and math.isfinite(high)):
        return "not estimable: the weight's interval is undefined (no variation in the answers)"
    if low > 0:
        return FOLLOWS
    if high < 0:
        return "answers against association"
    return "no evidence of following association"


#: Why a weight is not estimable when every family's clustered score sums to zero.
CANCELLED = (
    "the clustered standard error is zero although the answers do not fit exactly (each "
    "family's residuals cancel, as when a model gives both twins of a question the same answer)"
)


def _cancelled(fit: Any, j: int) -> bool:
    """A zero clustered standard error with a non-zero residual: the CR1 cluster scores all
    cancel (twin questions with opposite truth and association answers, answered alike), so
    the interval ``[w, w]`` would claim a certainty the data do not have. A perfect fit (the
    association oracle) also has a zero error, and there ``[w, w]`` is exact."""
    se = float(fit.bse[j])
    return (not math.isfinite(se) or se < 1e-7) and float(fit.ssr) > 1e-9


#: Coefficients of an exact fit are exact up to rounding: below this they are zero.
EXACT_TOLERANCE = 1e-9


def _exact_weight(fit: Any, j: int) -> float | None:
    """The weight of an exact fit (zero residual), rounding noise removed; None otherwise.
    A model whose answers the adjustment cells alone explain (say, "yes" on every ett
    question) fits exactly with ``w`` = 0, and the raw estimate and its interval are then
    ±1e-16 noise whose sign must not decide the verdict."""
    if float(fit.ssr) > EXACT_TOLERANCE:
        return None
    weight = float(fit.params[j])
    return 0.0 if abs(weight) < EXACT_TOLERANCE else weight


def _fit(y: np.ndarray, x: np.ndarray, groups: np.ndarray) -> Any:
    import statsmodels.api as sm

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # zero-variance fits warn; the verdict says so
        model = sm.OLS(y, x)
        return model.fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)


def association_following(
    samples: Sequence[Record],
    outcome: str = "prediction",
    cluster_key: str | None = FAMILY_ID,
    adjust: Sequence[str] = ADJUST,
    level: float = 0.95,
) -> dict[str, Any]:
    """The association weight of a model's answers, adjusted and family-clustered.

    ``outcome``: ``"prediction"`` (1 for "yes", 0 for "no"; unreadable answers dropped) or
    ``"logit_p_yes"``. Items without an association answer are dropped and counted.
    Returns ``weight``, ``low``, ``high``, ``p_value``, ``truth_weight``, ``n``,
    ``n_clusters``, ``dropped`` (``{"no_association", "unreadable"}``), ``adjusted_for``
    (the dummies kept), ``outcome`` and ``verdict``: :data:`FOLLOWS` only when the interval
    lies above zero, else ``"no evidence of following association"``, ``"answers against
    association"`` or ``"not estimable: <reason>"`` (numbers then None).

    >>> s = [{"answer": a, "association_answer": b, "prediction": b, "family_id": str(i)}
    ...      for i, (a, b) in enumerate([("yes", "no"), ("no", "yes"), ("yes", "yes"),
    ...                                  ("no", "no")] * 5)]
    >>> r = association_following(s)
    >>> round(r["weight"], 6), r["verdict"]
    (1.0, 'follows association')
    """
    if outcome not in ("prediction", "logit_p_yes"):
        raise ValueError(f"outcome {outcome!r}: allowed are 'prediction', 'logit_p_yes'")
    rows, y, dropped = _usable(samples, outcome)
    x, names = (
        _design(rows, adjust) if rows else (np.empty((0, 3)), ["const", "truth", "association"])
    )
    kept = _independent_columns(x) if rows else []
    codes, n_clusters = cluster_codes(rows, cluster_key)
    out: dict[str, Any] = {"outcome": outcome, "n": len(rows), "n_clusters": n_clusters}
    out |= {"dropped": dropped, "adjusted_for": [names[j] for j in kept[3:]]}
    none = dict.fromkeys(("weight", "low", "high", "p_value", "truth_weight"))
    if reason := _why_not(x, names, kept, np.asarray(codes), n_clusters):
        return {**out, **none, "verdict": f"not estimable: {reason}"}
    fit = _fit(np.asarray(y), x[:, kept], codes)
    j = kept.index(names.index("association"))
    if _cancelled(fit, j):
        return {**out, **none, "verdict": f"not estimable: {CANCELLED}"}
    if (exact := _exact_weight(fit, j)) is not None:
        # An exact fit has no sampling error: the weight is what it is, its p-value 0 or 1.
        out |= {"weight": exact, "low": exact, "high": exact, "p_value": float(exact == 0)}
        return {**out, "truth_weight": float(fit.params[1]), "verdict": _verdict(exact, exact)}
    low, high = (float(v) for v in fit.conf_int(alpha=1.0 - level)[j])
    out |= {"weight": float(fit.params[j]), "low": low, "high": high}
    out |= {"p_value": float(fit.pvalues[j]), "truth_weight": float(fit.params[1])}
    return {**out, "verdict": _verdict(low, high)}
