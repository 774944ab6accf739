"""Paired analyses within item families: the same SCM asked at several rungs, in four
wordings, and in both polarities.

* :func:`rung_comparison` — rung against rung on the same SCMs. The unit is the family:
  for each pair of rungs, each family holding both rungs gives one matched pair, its
  accuracy at the one rung against its accuracy at the other; families where the first is
  higher count as ``b``, the reverse as ``c``, ties carry no information. The test is
  McNemar's on ``(b, c)`` (:func:`ladder.core.stats.mcnemar_test`: exact binomial below 25
  discordant families, the chi-square otherwise), i.e. a sign test over families. Families
  are independent, so no clustering correction is needed, and no model is assumed (a
  conditional logistic regression would also use within-family item counts but assumes
  items of a family independent given the family). The three rung pairs are corrected
  together (Holm).
* :func:`verbalization_invariance` — Cochran's Q (statsmodels ``cochrans_q``) over the
  wordings of each question (rows: questions answered in every wording; columns: the
  wordings; cells: correct), and the share of questions answered alike in all wordings.
* :func:`twin_consistency` — the two polarity twins of a question have opposite answers, so
  a coherent model's ``p_yes`` sum to 1 and its answers differ.

A question across wordings is ``(family_id, question_key, answer)``: ``question_key`` leaves
out the polarity (and the adjustment set), and the two twins of a question have opposite
answers, so the answer tells them apart while it is equal across the wordings of one SCM.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ladder.analysis.measures import cluster_mean
from ladder.analysis.multiplicity import corrected
from ladder.core.records import (
    ANSWER,
    ANSWERS,
    FAMILY_ID,
    QUESTION_KEY,
    RUNG,
    TWIN_ID,
    VERBALIZATION,
)
from ladder.core.stats import mcnemar_test

__all__ = ["rung_comparison", "twin_consistency", "verbalization_invariance"]

Record = Mapping[str, Any]
#: Twin answers that contradict each other (the twins' correct answers are opposite).
_CONTRADICTORY = (("yes", "yes"), ("no", "no"))


def _correct(s: Record) -> bool:
    return s["prediction"] == s[ANSWER]


def _family_accuracy(samples: Sequence[Record]) -> dict[Any, dict[int, float]]:
    """``{family: {rung: accuracy}}`` over samples that carry a family id."""
    hits: dict[Any, dict[int, list[bool]]] = {}
    for s in samples:
        if s.get(FAMILY_ID) is not None and s.get(RUNG) is not None:
            hits.setdefault(s[FAMILY_ID], {}).setdefault(int(s[RUNG]), []).append(_correct(s))
    return {f: {r: float(np.mean(v)) for r, v in by.items()} for f, by in hits.items()}


def rung_comparison(samples: Sequence[Record]) -> dict[str, dict[str, Any]]:
    """Each pair of rungs compared on the families that hold both (see the module text).

    ``{"1-2": {...}, "1-3": {...}, "2-3": {...}}`` for the pairs present, each with
    ``n_families``, ``accuracy_first`` / ``accuracy_second`` (means of the family
    accuracies), ``b`` (families better at the first rung), ``c``, ``ties``, ``method``,
    ``p_value`` and ``p_holm``.

    >>> s = [{"family_id": f, "rung": r, "answer": "yes", "prediction": p}
    ...      for f in range(6) for r, p in ((1, "yes"), (2, "no"))]
    >>> r = rung_comparison(s)["1-2"]
    >>> r["b"], r["c"], r["p_value"]
    (6, 0, 0.03125)
    """
    by_family = _family_accuracy(samples)
    rungs = sorted({r for by in by_family.values() for r in by})
    out: dict[str, dict[str, Any]] = {}
    for first, second in itertools.combinations(rungs, 2):
        pairs = [
            (by[first], by[second]) for by in by_family.values() if first in by and second in by
        ]
        if not pairs:
            continue
        a, z = np.array(pairs).T
        b, c = int(np.sum(a > z)), int(np.sum(a < z))
        test = mcnemar_test([True] * b + [False] * c, [False] * b + [True] * c)
        out[f"{first}-{second}"] = {
            "n_families": len(pairs),
            "accuracy_first": float(a.mean()),
            "accuracy_second": float(z.mean()),
            "b": b,
            "c": c,
            "ties": len(pairs) - b - c,
            "method": test.name,
            "p_value": test.p_value,
        }
    for result, p in zip(
        out.values(), corrected([r["p_value"] for r in out.values()]), strict=True
    ):
        result["p_holm"] = p
    return out


def _questions(samples: Sequence[Record]) -> dict[tuple[Any, ...], dict[str, Record]]:
    """``{(family, question key, answer): {verbalization: sample}}``; a wording seen twice
    for one question makes the question ambiguous, and it is left out."""
    out: dict[tuple[Any, ...], dict[str, Record]] = {}
    ambiguous = set()
    for s in samples:
        if s.get(FAMILY_ID) is None or s.get(QUESTION_KEY) is None:
            continue
        key = (s[FAMILY_ID], s[QUESTION_KEY], s[ANSWER])
        if s[VERBALIZATION] in out.setdefault(key, {}):
            ambiguous.add(key)
        out[key][s[VERBALIZATION]] = s
    return {k: v for k, v in out.items() if k not in ambiguous}


def _cochran(table: np.ndarray) -> tuple[float, float]:
    """Cochran's Q and its p-value; a table with no row varying gives Q = 0, p = 1."""
    if not np.any(table.min(axis=1) != table.max(axis=1)):
        return 0.0, 1.0
    from statsmodels.stats.contingency_tables import cochrans_q

    res = cochrans_q(table)
    return float(res.statistic), float(res.pvalue)


def verbalization_invariance(samples: Sequence[Record], seed: int = 0) -> dict[str, Any]:
    """Cochran's Q over the wordings of each question, and the share answered alike.

    Only questions answered in every wording present in ``samples`` count. Returns
    ``verbalizations`` (column order), ``n_questions``, ``n_families``, ``accuracy``
    (``{wording: accuracy}`` on those questions), ``q``, ``df``, ``p_value`` (Cochran's Q
    treats questions as independent; questions of one family are not quite), and
    ``same_answer``: the share of questions whose answer is identical in all wordings
    (an unreadable answer is never identical), with a family-clustered bootstrap interval.
    """
    wordings = sorted({str(s[VERBALIZATION]) for s in samples if s.get(VERBALIZATION)})
    full = [q for q in _questions(samples).values() if sorted(q) == wordings]
    out: dict[str, Any] = {"verbalizations": wordings, "n_questions": len(full)}
    out["n_families"] = len({next(iter(q.values()))[FAMILY_ID] for q in full})
    if len(wordings) < 2 or not full:
        none = dict.fromkeys(("q", "df", "p_value", "same_answer"))
        return {**out, "accuracy": {}, **none}
    table = np.array([[_correct(q[w]) for w in wordings] for q in full], dtype=int)
    out["accuracy"] = dict(zip(wordings, table.mean(axis=0).tolist(), strict=True))
    q, p = _cochran(table)
    alike = [
        len({s["prediction"] for s in q.values()}) == 1 and q[wordings[0]]["prediction"] in ANSWERS
        for q in full
    ]
    same = cluster_mean(alike, [q[wordings[0]][FAMILY_ID] for q in full], seed=seed)
    return {**out, "q": q, "df": len(wordings) - 1, "p_value": p, "same_answer": same}


def _mean_test_against(values: np.ndarray, groups: np.ndarray, target: float) -> float | None:
    """Two-sided p-value of mean(values) = target, cluster-robust (OLS on a constant)."""
    if len(values) < 2 or len(set(groups.tolist())) < 2:
        return None
    import statsmodels.api as sm

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        fit = sm.OLS(values - target, np.ones((len(values), 1))).fit(
            cov_type="cluster", cov_kwds={"groups": groups}, use_t=True
        )
    p = float(fit.pvalues[0])
    return p if math.isfinite(p) else (1.0 if np.allclose(values, target) else 0.0)


def twin_consistency(samples: Sequence[Record], seed: int = 0) -> dict[str, Any]:
    """How coherent the answers to the two polarity twins of each question are.

    Twins share a ``twin_id`` and have opposite answers. Returns ``n_pairs``,
    ``n_families``, ``p_sum`` (mean of ``p_yes(q) + p_yes(twin)`` over pairs with both
    ``p_yes``, with a family-clustered bootstrap interval; 1 is coherent, above 1 leans
    "yes"), ``p_value`` (the mean sum against 1, family-clustered), ``contradictory`` (the
    share of pairs answered "yes" twice or "no" twice, with interval), ``both_yes`` and
    ``both_no`` (counts).

    >>> s = [{"twin_id": "t", "family_id": "f", "p_yes": p, "prediction": "yes"} for p in (.9, .8)]
    >>> r = twin_consistency(s)
    >>> r["n_pairs"], round(r["p_sum"]["estimate"], 3), r["contradictory"]["estimate"]
    (1, 1.7, 1.0)
    """
    twins: dict[Any, list[Record]] = {}
    for s in samples:
        if s.get(TWIN_ID) is not None:
            twins.setdefault(s[TWIN_ID], []).append(s)
    pairs = [v for v in twins.values() if len(v) == 2]
    rows = [
        {
            FAMILY_ID: a.get(FAMILY_ID),
            "preds": (a["prediction"], b["prediction"]),
            "sum": None
            if a.get("p_yes") is None or b.get("p_yes") is None
            else float(a["p_yes"]) + float(b["p_yes"]),
        }
        for a, b in pairs
    ]
    both_yes = sum(r["preds"] == ("yes", "yes") for r in rows)
    both_no = sum(r["preds"] == ("no", "no") for r in rows)
    out: dict[str, Any] = {"n_pairs": len(rows), "both_yes": both_yes, "both_no": both_no}
    out["n_families"] = len({r[FAMILY_ID] for r in rows})
    if not rows:
        return {**out, "p_sum": None, "p_value": None, "contradictory": None}
    families = [r[FAMILY_ID] for r in rows]
    contra = cluster_mean([r["preds"] in _CONTRADICTORY for r in rows], families, seed=seed)
    summed = [r for r in rows if r["sum"] is not None]
    p_sum = cluster_mean([r["sum"] for r in summed], [r[FAMILY_ID] for r in summed], seed=seed)
    groups = np.array([str(r[FAMILY_ID]) for r in summed])
    p_value = _mean_test_against(np.array([r["sum"] for r in summed]), groups, 1.0)
    return {**out, "p_sum": p_sum, "p_value": p_value, "contradictory": contra}
