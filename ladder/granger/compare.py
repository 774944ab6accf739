"""Hold statsmodels, the model's next-token behaviour and its words against the true graph.

Inputs are the per-series records of a Granger run (``series.jsonl``, written by
:mod:`ladder.granger.probe`); the functions here are plain computations over them, so a
report can be rebuilt from run files alone. The flat keys read are:

``condition``, ``coupling``, ``lag``, ``length`` (the grid cell), ``truth`` (X -> Y really
exists), ``testable``, ``sm_p``/``sm_reject`` (statsmodels' Granger F test X -> Y),
``te_gauss``, ``te_m``, ``model_p``/``model_reject`` (surrogate test of TE_M), ``p_yes``
(the verbal probe; ``None`` when the model has no words), ``hidden_driver`` and
``nonstationary``.

Statistics (written out by hand: scikit-learn is not a dependency):

* Cohen's kappa of two yes/no raters, ``(p_o - p_e) / (1 - p_e)`` (rounded to 12
  decimals); ``None`` when ``p_e == 1`` (both raters constant and equal: agreement by
  chance is certain). When only one rater is constant kappa is 0 by this formula, whatever
  the agreement: within a cell, where the truth is constant, read the accuracies instead;
* ROC AUC as the Mann–Whitney U statistic over ``n_pos * n_neg`` (ties count one half;
  :func:`ladder.core.stats.roc_auc`), with coupling-0 series of the same condition (and
  lag, length) as negatives.

The verbal probe asks the model, in words, about the very text it was scored on
(:func:`verbal_prompt`) and reads ``p_yes`` from the next-token probabilities of "Yes" and
"No" (:func:`verbal_p_yes`), so its stated answer can be held against its own TE_M test.

Example:
    >>> cohen_kappa([1, 1, 0, 0, 1, 0], [1, 0, 0, 0, 1, 1])
    0.333333333333
    >>> roc_auc([0.9, 0.8, 0.4], [0.5, 0.3])
    0.8333333333333334
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats as scipy_stats

from ladder.core import stats
from ladder.harness.models.scoring import format_prompt, score_options

if TYPE_CHECKING:
    from ladder.granger.serialize import Serialized
    from ladder.harness.models.loading import LoadedModel

__all__ = [
    "CELL_KEYS",
    "VERBAL_QUESTIONS",
    "cell_inference",
    "cohen_kappa",
    "compare_cells",
    "mean_interval",
    "rate",
    "rate_interval",
    "roc_auc",
    "summarize_records",
    "verbal_p_yes",
    "verbal_prompt",
]

CELL_KEYS: tuple[str, ...] = ("condition", "coupling", "lag", "length")
STATIONARY_NULL_CONDITIONS = ("var", "nonlinear", "feedback", "intervened")


# --------------------------------------------------------------------------- statistics


def _clean(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def rate(values: Iterable[Any]) -> float | None:
    """Share of true values among the non-``None`` ones (``None`` if there are none).

    Example:
        >>> rate([True, False, None, True])
        0.6666666666666666
    """
    kept = [bool(v) for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def cohen_kappa(a: Sequence[Any], b: Sequence[Any]) -> float | None:
    """Cohen's kappa of two binary raters over the pairs where neither is ``None``.

    ``None`` when no pair is left or chance agreement is 1 (both raters constant, same
    answer), where kappa is undefined.

    Example:
        >>> cohen_kappa([1, 1, 0, 0], [1, 1, 0, 0]), cohen_kappa([1, 0], [0, 1])
        (1.0, -1.0)
    """
    if len(a) != len(b):
        raise ValueError(f"raters have different lengths ({len(a)} vs {len(b)})")
    pairs = [
        (bool(x), bool(y)) for x, y in zip(a, b, strict=True) if x is not None and y is not None
    ]
    if not pairs:
        return None
    n = len(pairs)
    p_o = sum(x == y for x, y in pairs) / n
    pa = sum(x for x, _ in pairs) / n
    pb = sum(y for _, y in pairs) / n
    p_e = pa * pb + (1 - pa) * (1 - pb)
    if p_e >= 1.0 - 1e-12:
        return None
    return round((p_o - p_e) / (1 - p_e), 12)  # no 1e-17 residues of float arithmetic


def agreement(a: Sequence[Any], b: Sequence[Any]) -> float | None:
    """Share of pairs (neither ``None``) on which two binary raters agree.

    Example:
        >>> agreement([True, False, None], [True, True, False])
        0.5
    """
    pairs = [
        (bool(x), bool(y)) for x, y in zip(a, b, strict=True) if x is not None and y is not None
    ]
    return sum(x == y for x, y in pairs) / len(pairs) if pairs else None


def roc_auc(positives: Sequence[Any], negatives: Sequence[Any]) -> float | None:
    """ROC AUC = P(score_pos > score_neg) + ½ P(tie), by :func:`ladder.core.stats.roc_auc`.

    ``None`` and non-finite scores are dropped; ``None`` if either side is then empty.

    Example:
        >>> roc_auc([1.0, 2.0], [0.0, 2.0]), roc_auc([1.0, None], [None])
        (0.625, None)
    """
    pos = [v for v in (_clean(x) for x in positives) if v is not None]
    neg = [v for v in (_clean(x) for x in negatives) if v is not None]
    if not pos or not neg:
        return None
    return stats.roc_auc(pos + neg, [True] * len(pos) + [False] * len(neg))


def _median(values: Iterable[Any]) -> float | None:
    kept = [v for v in (_clean(x) for x in values) if v is not None]
    return float(np.median(kept)) if kept else None


def _ratios(records: Sequence[dict[str, Any]]) -> list[float]:
    """Per-series ``TE_M / TE_gauss`` where both exist and ``TE_gauss > 0``."""
    out = []
    for r in records:
        te_m, te_g = _clean(r.get("te_m")), _clean(r.get("te_gauss"))
        if te_m is not None and te_g is not None and te_g > 0:
            out.append(te_m / te_g)
    return out


def _one_minus(p: Any) -> float | None:
    p = _clean(p)
    return None if p is None else 1.0 - p


def _verbal_yes(r: dict[str, Any]) -> bool | None:
    p = _clean(r.get("p_yes"))
    return None if p is None else p > 0.5


# --------------------------------------------------------------------------- cell inference


def mean_interval(values: Iterable[Any], alpha: float = stats.ALPHA) -> dict[str, Any] | None:
    """Mean across series with a t interval and the two-sided one-sample t test against 0
    (``scipy.stats.ttest_1samp``); ``mde`` is the smallest true mean this many series
    would detect with 80% power (``(t_{1-alpha/2} + t_{0.8}) * se``). ``None`` under 2 values.

    Example:
        >>> r = mean_interval([0.1, 0.2, 0.3, 0.4])
        >>> round(r["mean"], 3), round(r["lo"], 3), round(r["hi"], 3), round(r["p"], 4)
        (0.25, 0.045, 0.455, 0.0305)
    """
    kept = np.array([v for v in (_clean(x) for x in values) if v is not None])
    n = int(kept.size)
    if n < 2:
        return None
    mean, sd = float(kept.mean()), float(kept.std(ddof=1))
    se = sd / math.sqrt(n)
    q = float(scipy_stats.t.ppf(1 - alpha / 2, n - 1))
    p = float(scipy_stats.ttest_1samp(kept, 0.0).pvalue) if sd > 0 else (0.0 if mean else 1.0)
    return {
        "n": n,
        "mean": mean,
        "sd": sd,
        "se": se,
        "lo": mean - q * se,
        "hi": mean + q * se,
        "p": p,
        "mde": (q + float(scipy_stats.t.ppf(0.8, n - 1))) * se,
    }


def rate_interval(values: Iterable[Any], alpha: float = stats.ALPHA) -> dict[str, Any] | None:
    """Share of true values (``None`` dropped) with its Wilson interval
    (``scipy.stats.binomtest(...).proportion_ci(method="wilson")``).

    Example:
        >>> r = rate_interval([True] * 3 + [False] * 7)
        >>> r["k"], r["n"], round(r["lo"], 3), round(r["hi"], 3)
        (3, 10, 0.108, 0.603)
    """
    kept = [bool(v) for v in values if v is not None]
    if not kept:
        return None
    k, n = sum(kept), len(kept)
    ci = scipy_stats.binomtest(k, n).proportion_ci(confidence_level=1 - alpha, method="wilson")
    return {"k": k, "n": n, "rate": k / n, "lo": float(ci.low), "hi": float(ci.high)}


def _first(records: Sequence[dict[str, Any]], key: str) -> Any:
    return next((r[key] for r in records if r.get(key) is not None), None)


def _verdict(block: dict[str, Any] | None) -> str | None:
    """``above 0`` / ``below 0`` when the interval excludes 0, else ``not distinguishable``."""
    if block is None:
        return None
    if block["lo"] > 0:
        return "above 0"
    if block["hi"] < 0:
        return "below 0"
    return "not distinguishable from 0"


def cell_inference(records: Sequence[dict[str, Any]], alpha: float = stats.ALPHA) -> dict:
    """The per-cell answer to "does the model use X's past to predict Y?" (granger_version 2
    records): mean TE_M across series with its t interval and test against 0, the stand-in's
    (the power reference) on the same series, TE_gauss, TE_pop, the model's efficiency
    ``TE_M / TE_pop``, per-series rejection rates (secondary) and both verbal questions.

    Example:
        >>> recs = [{"te_m": v, "oracle_te_m": 2 * v, "te_pop": 0.1} for v in (.04, .05, .06)]
        >>> c = cell_inference(recs)
        >>> round(c["te_m_cell"]["mean"], 3), c["te_m_verdict"], round(c["efficiency"], 2)
        (0.05, 'above 0', 0.5)
    """
    te_pop = _clean(_first(records, "te_pop"))
    model = mean_interval((r.get("te_m") for r in records), alpha)
    out: dict[str, Any] = {
        "te_pop": te_pop,
        "te_pop_oracle_lag": _mean(r.get("te_pop_oracle_lag") for r in records),
        "truth_predictive_rate": rate(r.get("truth_predictive") for r in records),
        "te_m_cell": model,
        "te_m_verdict": _verdict(model),
        "oracle_te_m_cell": mean_interval((r.get("oracle_te_m") for r in records), alpha),
        "te_gauss_cell": mean_interval((r.get("te_gauss") for r in records), alpha),
        "model_reject_ci": rate_interval((r.get("model_reject") for r in records), alpha),
        "oracle_reject_ci": rate_interval((r.get("oracle_reject") for r in records), alpha),
        "sm_reject_ci": rate_interval(
            (r.get("sm_reject") if r.get("testable") else None for r in records), alpha
        ),
    }
    out["oracle_te_m_verdict"] = _verdict(out["oracle_te_m_cell"])
    ok = model is not None and te_pop is not None and te_pop > 0
    out["efficiency"] = model["mean"] / te_pop if ok else None  # type: ignore[index]
    out["efficiency_lo"] = model["lo"] / te_pop if ok else None  # type: ignore[index]
    out["efficiency_hi"] = model["hi"] / te_pop if ok else None  # type: ignore[index]
    out.update(_verbal_block(records))
    return out


def _verbal_block(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Both verbal questions: mean P(yes), yes rate, and accuracy against each one's label."""
    out: dict[str, Any] = {}
    for question, label in (("predict", "truth_predictive"), ("cause", "truth")):
        p = [_clean(r.get(f"p_yes_{question}")) for r in records]
        yes = [None if v is None else v > 0.5 for v in p]
        out[f"p_yes_{question}_mean"] = _mean(p)
        out[f"verbal_{question}_yes_rate"] = rate(yes)
        out[f"acc_verbal_{question}"] = agreement(yes, [r.get(label) for r in records])
    return out


def _holm(rows: list[dict[str, Any]], key: str) -> None:
    """Holm-adjusted p-values of the cells' ``key`` t tests, written as ``key["p_holm"]``."""
    blocks = [row[key] for row in rows if row.get(key)]
    order = sorted(range(len(blocks)), key=lambda i: blocks[i]["p"])
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(blocks) - rank) * blocks[i]["p"]))
        blocks[i]["p_holm"] = running


# --------------------------------------------------------------------------- tables


def _rater_block(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Rates, agreements and kappas over one set of records."""
    testable = [r for r in records if r.get("testable")]
    truth = [bool(r["truth"]) for r in records]
    sm = [r.get("sm_reject") if r.get("testable") else None for r in records]
    model = [r.get("model_reject") for r in records]
    verbal = [_verbal_yes(r) for r in records]
    return {
        "n": len(records),
        "n_testable": len(testable),
        "truth_rate": rate(truth),
        "sm_reject_rate": rate(sm),
        "model_reject_rate": rate(model),
        "verbal_yes_rate": rate(verbal),
        "p_yes_mean": _mean([r.get("p_yes") for r in records]),
        "agree_model_sm": agreement(model, sm),
        "kappa_model_sm": cohen_kappa(model, sm),
        "acc_sm_truth": agreement(sm, truth),
        "kappa_sm_truth": cohen_kappa(sm, truth),
        "acc_model_truth": agreement(model, truth),
        "kappa_model_truth": cohen_kappa(model, truth),
        "acc_verbal_truth": agreement(verbal, truth),
        "agree_verbal_model": agreement(verbal, model),
        "kappa_verbal_model": cohen_kappa(verbal, model),
        "te_m_median": _median(r.get("te_m") for r in records),
        "te_gauss_median": _median(r.get("te_gauss") for r in records),
        "te_ratio_median": _median(_ratios(records)),
    }


def _mean(values: Iterable[Any]) -> float | None:
    kept = [v for v in (_clean(x) for x in values) if v is not None]
    return float(np.mean(kept)) if kept else None


def _aucs(pos: Sequence[dict[str, Any]], neg: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """AUCs of the four scores with ``pos`` as positives and ``neg`` as negatives."""

    def sm_score(r: dict[str, Any]) -> float | None:
        return _one_minus(r.get("sm_p")) if r.get("testable") else None

    return {
        "n_pos": len(pos),
        "n_neg": len(neg),
        "auc_sm": roc_auc([sm_score(r) for r in pos], [sm_score(r) for r in neg]),
        "auc_model": roc_auc(
            [_one_minus(r.get("model_p")) for r in pos], [_one_minus(r.get("model_p")) for r in neg]
        ),
        "auc_te_m": roc_auc([r.get("te_m") for r in pos], [r.get("te_m") for r in neg]),
        "auc_te_gauss": roc_auc([r.get("te_gauss") for r in pos], [r.get("te_gauss") for r in neg]),
        "auc_verbal": roc_auc([r.get("p_yes") for r in pos], [r.get("p_yes") for r in neg]),
    }


def _cell_key(r: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(r[k] for k in CELL_KEYS)


def compare_cells(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per grid cell (condition × coupling × lag × length), in first-seen order.

    Each row holds the cell keys, :func:`_rater_block`'s rates/agreements/kappas, and for
    cells with coupling ≠ 0 the AUCs against the coupling-0 cell with the same condition,
    lag and length (``auc`` is ``None`` where there is no such cell).

    Example:
        >>> recs = [dict(condition="var", coupling=c, lag=1, length=50, truth=c > 0,
        ...              testable=True, sm_p=p, sm_reject=p < .05, model_p=p,
        ...              model_reject=p <= .05, te_m=None, te_gauss=None, p_yes=None)
        ...         for c, p in [(0.0, .5), (0.0, .3), (0.5, .01), (0.5, .2)]]
        >>> [row["auc"]["auc_sm"] if row["auc"] else None for row in compare_cells(recs)]
        [None, 1.0]
    """
    cells: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in records:
        cells.setdefault(_cell_key(r), []).append(r)
    rows = []
    for key, members in cells.items():
        row: dict[str, Any] = dict(zip(CELL_KEYS, key, strict=True))
        row.update(_rater_block(members))
        negatives = cells.get((key[0], 0.0, key[2], key[3]))  # 0 == 0.0: same key
        has_neg = float(key[1]) != 0.0 and bool(negatives)
        row["auc"] = _aucs(members, negatives) if has_neg else None  # type: ignore[arg-type]
        if any("oracle_te_m" in r for r in members):  # granger_version 2 records
            row.update(cell_inference(members))
        rows.append(row)
    _holm(rows, "te_m_cell")
    _holm(rows, "oracle_te_m_cell")
    return rows


def summarize_records(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Overall and per-condition blocks, pooled AUCs, false-positive rates and TE ratio.

    * ``overall`` / ``by_condition[c]``: :func:`_rater_block` over those series;
      ``by_condition[c]["auc"]`` pools coupling ≠ 0 series against coupling-0 series of
      condition ``c`` (all lags and lengths);
    * ``fpr``: rejection (and verbal "yes") rates where X does not cause Y but something
      invites a false "yes": ``hidden_driver`` (coupling ≠ 0: a hidden common driver),
      ``nonstationary_null`` (random walks with coupling 0) and ``stationary_null``
      (coupling 0 in the stationary conditions: the nominal level);
    * ``te_ratio``: median of per-series ``TE_M / TE_gauss`` over series where X truly
      causes Y (``median``), with the number used (``n``).

    Example:
        >>> summarize_records([])["overall"]["n"]
        0
    """
    out: dict[str, Any] = {"overall": _rater_block(records), "by_condition": {}}
    conditions = list(dict.fromkeys(r["condition"] for r in records))
    for cond in conditions:
        members = [r for r in records if r["condition"] == cond]
        block = _rater_block(members)
        pos = [r for r in members if float(r["coupling"]) != 0.0]
        neg = [r for r in members if float(r["coupling"]) == 0.0]
        block["auc"] = _aucs(pos, neg) if pos and neg else None
        out["by_condition"][cond] = block

    def fpr_block(members: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "n": len(members),
            "sm": rate(r.get("sm_reject") if r.get("testable") else None for r in members),
            "model": rate(r.get("model_reject") for r in members),
            "oracle": rate(r.get("oracle_reject") for r in members),
            "verbal": rate(_verbal_yes(r) for r in members),
        }

    out["fpr"] = {
        "hidden_driver": fpr_block(
            [
                r
                for r in records
                if r.get("hidden_driver") and float(r["coupling"]) != 0.0 and not r["truth"]
            ]
        ),
        "nonstationary_null": fpr_block(
            [r for r in records if r.get("nonstationary") and not r["truth"]]
        ),
        "stationary_null": fpr_block(
            [
                r
                for r in records
                if r["condition"] in STATIONARY_NULL_CONDITIONS and float(r["coupling"]) == 0.0
            ]
        ),
    }
    causal = [r for r in records if r["truth"]]
    ratios = _ratios(causal)
    out["te_ratio"] = {"median": _median(ratios), "n": len(ratios)}
    return out


# --------------------------------------------------------------------------- verbal probe


VERBAL_QUESTIONS: tuple[str, ...] = ("predict", "cause")
"""The two questions: does X's past help predict Y (label ``truth_predictive``), and would
changing X change Y (label ``truth``). A hidden common driver makes the first "yes" and the
second "no"; an experimenter-set X makes both the same."""
_QUESTION_TEXT = {
    "predict": "Do X's past values help to predict Y's next value, beyond what Y's own past "
    "already tells? Answer Yes or No.",
    "cause": "Suppose someone reached in and set X's values themselves, leaving everything "
    "else as it is. Would changing X change Y's later values? Answer Yes or No.",
}


def verbal_prompt(ser: Serialized, question: str = "predict") -> str:
    """One yes/no question in words (:data:`VERBAL_QUESTIONS`) about a serialized series
    (the text the model was scored on, verbatim). Both questions share everything before
    the question itself, so a model reads the series once for the two.

    Example:
        >>> import numpy as np
        >>> from ladder.granger.serialize import serialize
        >>> ser = serialize(np.array([0., 1.]), np.array([1., 0.]), digits=1)
        >>> q = verbal_prompt(ser, "cause")
        >>> "9,0;0,9;" in q, "changing X change Y" in q, q.endswith("Answer Yes or No.")
        (True, True, True)
    """
    if question not in _QUESTION_TEXT:
        raise ValueError(f"unknown question {question!r}; allowed: {', '.join(VERBAL_QUESTIONS)}")
    n = len(ser)
    top = ser.scale.max_code
    first, second = ("Y", "X") if ser.order == "yx" else ("X", "Y")
    body = ser.text[len(ser.header) :]
    return (
        f"Here are two time series, X and Y, measured together at {n} time steps. Each "
        f'step is written as "{first},{second};" ({first}\'s value first, then '
        f"{second}'s), and both series are scaled together to whole numbers from 0 to "
        f"{top}.\n\n{body}\n\n{_QUESTION_TEXT[question]}"
    )


def verbal_p_yes(
    loaded: LoadedModel, prompts: Sequence[str], use_chat_template: bool | None = None
) -> list[float]:
    """``p_yes`` for each question via :func:`ladder.harness.models.scoring.score_options`.

    ``use_chat_template=None`` uses the tokenizer's chat template when it has one, and
    otherwise appends ``"\\nAnswer:"`` to the bare question.
    """

    chat = loaded.chat_template if use_chat_template is None else use_chat_template
    texts = [format_prompt(loaded, q, True) if chat else q + "\nAnswer:" for q in prompts]
    return [s.p_yes for s in score_options(loaded, texts, progress=False)]
