"""The association-following model (ladder.analysis.association) on generated items with
synthetic predictors of known behaviour, and against a direct statsmodels fit."""

from __future__ import annotations

import random

import numpy as np
import pytest

from ladder.analysis.association import (
    FOLLOWS,
    MIN_DISCORDANT_CLUSTERS,
    association_following,
    polarity,
)
from ladder.analysis.baselines import biased_answer, mixture_answer
from ladder.generation.generate import generate_items
from ladder.generation.specs import load_suite

KEEP = ("id", "answer", "association_answer", "discordant", "query_type", "verbalization")


@pytest.fixture(scope="module")
def items() -> list[dict]:
    return list(generate_items(load_suite("core"), seed=2, n=600))


def _samples(items: list[dict], rule) -> list[dict]:
    out = []
    for it in items:
        p_yes, prediction = rule(it)
        s = {k: it[k] for k in KEEP}
        s |= {"family_id": it["family_id"], "polarity": it["query"]["polarity"]}
        out.append(s | {"p_yes": p_yes, "prediction": prediction})
    return out


def test_mixture_of_truth_and_association_follows_association(items: list[dict]) -> None:
    alpha = 0.7
    r = association_following(_samples(items, lambda it: mixture_answer(it, alpha, seed=1)))
    assert r["verdict"] == FOLLOWS
    assert r["low"] > 0.1
    # the linear model is exact for the mixture: P(yes) = α·truth + (1 − α)·association
    assert r["low"] <= 1 - alpha <= r["high"]
    assert r["truth_weight"] == pytest.approx(alpha, abs=0.12)
    n_none = sum(it["association_answer"] is None for it in items)
    assert r["dropped"] == {"no_association": n_none, "unreadable": 0}
    assert r["n"] == len(items) - n_none and r["n_clusters"] > 50


def test_pure_answer_bias_is_never_called_associational(items: list[dict]) -> None:
    # The weight of a predictor that ignores the item is 0; a 95% interval excludes 0 from
    # above in 2.5% of draws. On these fixed seeds it never does (deterministic).
    verdicts = []
    for seed in range(20):
        r = association_following(_samples(items, lambda it, s=seed: biased_answer(it, 0.8, s)))
        verdicts.append(r["verdict"])
        assert r["low"] is not None
    assert FOLLOWS not in verdicts
    assert verdicts.count("no evidence of following association") >= 18


def test_noisy_truth_oracle_does_not_follow_association(items: list[dict]) -> None:
    for seed in range(5):
        rng = random.Random(seed)

        def noisy(it: dict, rng: random.Random = rng) -> tuple[float, str]:
            flip = rng.random() < 0.2
            answer = ("no" if it["answer"] == "yes" else "yes") if flip else it["answer"]
            return float(answer == "yes"), answer

        r = association_following(_samples(items, noisy))
        assert r["verdict"] != FOLLOWS
        assert r["low"] <= 0
        assert r["truth_weight"] == pytest.approx(0.6, abs=0.1)  # 1 − 2 · 0.2


def test_weight_and_interval_equal_a_direct_statsmodels_fit() -> None:
    smf = pytest.importorskip("statsmodels.formula.api")
    import pandas as pd

    rng = np.random.default_rng(3)
    rows = []
    for i in range(400):
        truth, assoc = int(rng.random() < 0.5), int(rng.random() < 0.5)
        qt, verb, pol = (
            rng.choice(["ate", "nde", "ett"]),
            rng.choice(["a", "b"]),
            rng.choice([1, -1]),
        )
        p = 0.2 + 0.4 * truth + 0.2 * assoc + 0.1 * (qt == "nde")
        rows.append(
            {
                "answer": "yes" if truth else "no",
                "association_answer": "yes" if assoc else "no",
                "prediction": "yes" if rng.random() < p else "no",
                "query_type": str(qt),
                "verbalization": str(verb),
                "polarity": int(pol),
                "family_id": f"f{i // 5}",
            }
        )
    got = association_following(rows)
    df = pd.DataFrame(rows)
    df["y"] = (df.prediction == "yes").astype(float)
    df["t"] = (df.answer == "yes").astype(float)
    df["a"] = (df.association_answer == "yes").astype(float)
    fit = smf.ols("y ~ t + a + C(query_type) + C(verbalization) + C(polarity)", df).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(df.family_id)[0]}, use_t=True
    )
    assert got["weight"] == pytest.approx(fit.params["a"])
    assert [got["low"], got["high"]] == pytest.approx(list(fit.conf_int().loc["a"]))
    assert got["p_value"] == pytest.approx(fit.pvalues["a"])
    assert got["n_clusters"] == 80 and got["verdict"] == FOLLOWS


def _row(truth: str, assoc: str | None, pred: str, fam: str, **extra) -> dict:
    base = {"answer": truth, "association_answer": assoc, "prediction": pred, "family_id": fam}
    return base | extra


def test_not_estimable_cases_are_reported_not_raised() -> None:
    concordant = [_row(a, a, a, str(i)) for i, a in enumerate(["yes", "no"] * 10)]
    r = association_following(concordant)
    assert r["verdict"].startswith("not estimable: truth and association")
    assert r["weight"] is None
    none = association_following([_row("yes", None, "yes", "f")] * 3)
    assert none["verdict"].startswith("not estimable: no item")
    assert none["dropped"]["no_association"] == 3
    mixed = [_row(a, b, b, "one") for a, b in [("yes", "no"), ("no", "yes"), ("yes", "yes")]]
    assert association_following(mixed)["verdict"] == (
        "not estimable: 1 cluster(s); clustered errors need at least 2"
    )
    unreadable = [_row("yes", "no", "unreadable", "f")]
    assert association_following(unreadable)["dropped"]["unreadable"] == 1


def test_collinear_and_one_valued_adjustments_are_dropped() -> None:
    rows = []
    for i, (a, b) in enumerate([("yes", "no"), ("no", "yes"), ("yes", "yes"), ("no", "no")] * 6):
        qt = "ate" if (i // 4) % 2 else "nde"
        # polarity is a copy of query type (collinear); verbalization never varies
        rows.append(
            _row(
                a,
                b,
                b if i % 3 else a,
                f"f{i}",
                query_type=qt,
                verbalization="s",
                polarity=1 if qt == "ate" else -1,
            )
        )
    r = association_following(rows)
    assert r["adjusted_for"] == ["query_type=nde"]
    assert r["weight"] is not None and r["verdict"] != "not estimable"


def test_logit_p_yes_outcome_and_polarity_lookup() -> None:
    rng = np.random.default_rng(1)
    rows = []
    for i in range(300):
        truth, assoc = rng.choice(["yes", "no"]), rng.choice(["yes", "no"])
        p = 1 / (1 + np.exp(-(1.5 * (assoc == "yes") - 0.7 + rng.normal(0, 0.5))))
        rows.append(
            _row(
                str(truth),
                str(assoc),
                "yes" if p > 0.5 else "no",
                f"f{i // 3}",
                p_yes=float(p),
                query={"polarity": 1},
            )
        )
    r = association_following(rows, outcome="logit_p_yes")
    assert r["verdict"] == FOLLOWS and r["weight"] == pytest.approx(1.5, abs=0.2)
    assert polarity(rows[0]) == 1
    with pytest.raises(ValueError, match="outcome"):
        association_following(rows, outcome="logit")


def test_twin_blind_answers_are_not_estimable_not_a_zero_width_interval() -> None:
    """A model that gives both twins the same answer: the clustered scores of all families
    point along the intercept, so the CR1 variance of the weight is exactly 0 while the fit
    is not exact. The sandwich is computed by hand here; the verdict must say "not
    estimable", not report [0, 0]."""
    rows = []
    for f in range(40):
        discordant = f % 3 == 0
        for pol, truth in ((1, "yes"), (-1, "no")):
            assoc = {"yes": "no", "no": "yes"}[truth] if discordant else truth
            rows.append(_row(truth, assoc, "yes" if f % 2 else "no", str(f), polarity=pol))
    # Polarity is collinear with the truth here, so the design is [1, truth, association].
    x = np.array([[1.0, r["answer"] == "yes", r["association_answer"] == "yes"] for r in rows])
    y = np.array([r["prediction"] == "yes" for r in rows], dtype=float)
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    bread = np.linalg.inv(x.T @ x)
    scores = np.array([x[2 * f : 2 * f + 2].T @ resid[2 * f : 2 * f + 2] for f in range(40)])
    n, k, g = len(rows), x.shape[1], 40
    cr1 = g / (g - 1) * (n - 1) / (n - k) * bread @ (scores.T @ scores) @ bread
    assert float(resid @ resid) > 1.0 and abs(cr1[2, 2]) < 1e-14 and cr1[0, 0] > 1e-3
    r = association_following(rows)
    assert r["verdict"].startswith("not estimable: the clustered standard error is zero")
    assert r["weight"] is None and r["low"] is None
    # The association oracle also has a zero error, but fits exactly: [1, 1] is exact there.
    exact = association_following([r | {"prediction": r["association_answer"]} for r in rows])
    assert (exact["weight"], exact["verdict"]) == (pytest.approx(1.0), FOLLOWS)


def test_an_exact_fit_with_zero_weight_is_no_evidence_not_noise() -> None:
    """Answers that the query type alone explains ("yes" on ett, "no" on ate) fit exactly
    with w = 0: the raw estimate and its interval are ±1e-16 rounding noise, whose sign once
    made the verdict "follows association" at [0.000, 0.000]."""
    rows = []
    for f in range(30):
        for qt in ("ate", "ett"):
            for pol, truth in ((1, "yes"), (-1, "no")):
                discordant = (f + (qt == "ett")) % 3 == 0
                assoc = {"yes": "no", "no": "yes"}[truth] if discordant else truth
                answer = "yes" if qt == "ett" else "no"
                rows.append(_row(truth, assoc, answer, str(f), polarity=pol) | {"query_type": qt})
    r = association_following(rows)
    assert (r["weight"], r["low"], r["high"], r["p_value"]) == (0.0, 0.0, 0.0, 1.0)
    assert r["verdict"] == "no evidence of following association"
    # The same design answered by the association oracle: exact, w = 1, follows.
    oracle = association_following([r | {"prediction": r["association_answer"]} for r in rows])
    assert (oracle["weight"], oracle["low"], oracle["verdict"]) == (
        pytest.approx(1.0),
        pytest.approx(1.0),
        FOLLOWS,
    )


def _random_answers(n_families: int, discordant_families: int, seed: int) -> list[dict]:
    """Four items per family (ate and ett, both polarities), the first item of the first
    ``discordant_families`` families discordant, answered yes or no by a fair coin."""
    rng = np.random.default_rng(seed)
    rows = []
    for f in range(n_families):
        for k in range(4):
            truth = "yes" if k % 2 == 0 else "no"
            flipped = {"yes": "no", "no": "yes"}[truth]
            assoc = flipped if f < discordant_families and k == 0 else truth
            coin = "yes" if rng.random() < 0.5 else "no"
            extra = {"query_type": ("ate", "ett")[k // 2], "polarity": 1 - 2 * (k % 2)}
            rows.append(_row(truth, assoc, coin, str(f), **extra))
    return rows


def test_too_few_discordant_families_are_not_estimable() -> None:
    """Only discordant items separate the weight from the truth's. With two, each has
    leverage near 1 and a residual near 0, so CR1 collapses: a coin that happened to say yes
    on both read as "follows association" at p < 0.001 (the committed random baseline on
    control-small seed 11 before this check)."""
    rows = _random_answers(50, 2, seed=0)
    for r in rows[:1] + rows[4:5]:
        r["prediction"] = "yes"  # both discordant items answered with the association
    r = association_following(rows)
    assert r["weight"] is None
    assert r["verdict"] == (
        "not estimable: 2 discordant item(s) in 2 cluster(s); the weight needs discordant "
        f"items in at least {MIN_DISCORDANT_CLUSTERS}"
    )


def test_a_coin_is_rarely_called_association_following_at_the_minimum() -> None:
    """At exactly the minimum (one discordant item in each of 10 families), a coin's weight
    interval excludes 0 in about 9% of 300 draws (CR1 with t(G - 1) is a little liberal
    there; 6-7% with 20 families), not in most of them."""
    outside = 0
    for seed in range(300):
        r = association_following(_random_answers(60, MIN_DISCORDANT_CLUSTERS, seed))
        assert r["weight"] is not None
        outside += r["low"] > 0 or r["high"] < 0
    assert outside / 300 < 0.12
