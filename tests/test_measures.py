"""Bias-free measures and clustered intervals (ladder.analysis.measures) against sklearn,
hand counts and the naive cluster bootstrap."""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import pytest

from ladder.analysis.measures import (
    auroc,
    balanced_accuracy,
    cluster_bootstrap,
    cluster_codes,
    cluster_mean,
    majority_baseline,
    measures,
    slice_measures,
    unpaired_difference,
)

sklearn_metrics = pytest.importorskip("sklearn.metrics")


def _samples(n: int, n_families: int, seed: int, ties: bool = False) -> list[dict]:
    """Random samples: p_yes (rounded to a coarse grid when ``ties``), answers, families."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        p = float(rng.random())
        p = round(p * 4) / 4 if ties else p
        answer = "yes" if rng.random() < 0.4 + 0.3 * p else "no"
        assoc = [None, "yes", "no"][int(rng.integers(0, 3))]
        pred = "unreadable" if rng.random() < 0.05 else ("yes" if p > 0.5 else "no")
        out.append(
            {
                "id": str(i),
                "p_yes": None if pred == "unreadable" else p,
                "prediction": pred,
                "answer": answer,
                "association_answer": assoc,
                "family_id": f"f{rng.integers(0, n_families)}",
                "rung": int(rng.integers(1, 4)),
            }
        )
    return out


@pytest.mark.parametrize("seed", range(6))
def test_auroc_matches_sklearn_with_and_without_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 60))
    scores = rng.integers(0, 4, n) / 3 if seed % 2 else rng.random(n)
    labels = rng.random(n) < 0.5
    if labels.all() or not labels.any():
        labels[0] = not labels[0]
    assert auroc(scores, labels) == pytest.approx(sklearn_metrics.roc_auc_score(labels, scores))


def test_auroc_hand_cases_and_undefined() -> None:
    # positives 0.8, 0.35; negatives 0.4, 0.1: pairs won 1+1+0+1 = 3 of 4
    assert auroc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == 0.75
    # all scores tied: ½
    assert auroc([0.5] * 4, [True, False, True, False]) == 0.5
    assert auroc([0.2, 0.9], [True, True]) is None
    assert auroc([None, 0.3, 0.7], [False, True, False]) == 0.0  # None dropped: 0.3 < 0.7
    assert auroc([float("nan"), 0.3], [False, True]) is None


@pytest.mark.parametrize("seed", range(6))
def test_balanced_accuracy_matches_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 50))
    truth = rng.choice(["yes", "no"], n, p=[0.3, 0.7]).tolist()
    pred = rng.choice(["yes", "no", "unreadable"], n, p=[0.45, 0.45, 0.1]).tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns about the class only in predictions
        expected = sklearn_metrics.balanced_accuracy_score(truth, pred)
    assert balanced_accuracy(pred, truth) == pytest.approx(expected)


def test_balanced_accuracy_and_majority_by_hand() -> None:
    # yes items: 1 of 3 right; no items: 1 of 1 right -> (1/3 + 1) / 2
    assert balanced_accuracy(["yes", "no", "no", "no"], ["yes", "yes", "yes", "no"]) == (
        pytest.approx(2 / 3)
    )
    assert balanced_accuracy([], []) is None
    assert majority_baseline(["yes", "yes", "no"]) == {"answer": "yes", "accuracy": 2 / 3}
    assert majority_baseline(["yes", "no"]) == {"answer": "no", "accuracy": 0.5}
    assert majority_baseline([]) == {"answer": None, "accuracy": None}


def _accuracy(g: list[dict]) -> float:
    return float(np.mean([s["prediction"] == s["answer"] for s in g]))


def _auroc_truth(g: list[dict]) -> float | None:
    scored = [s for s in g if s["p_yes"] is not None]
    return auroc([s["p_yes"] for s in scored], [s["answer"] == "yes" for s in scored])


def _auroc_assoc(g: list[dict]) -> float | None:
    scored = [s for s in g if s["p_yes"] is not None and s["association_answer"] is not None]
    return auroc([s["p_yes"] for s in scored], [s["association_answer"] == "yes" for s in scored])


def _balanced(g: list[dict]) -> float | None:
    return balanced_accuracy([s["prediction"] for s in g], [s["answer"] for s in g])


def _majority(g: list[dict]) -> float | None:
    return majority_baseline([s["answer"] for s in g])["accuracy"]


@pytest.mark.parametrize("ties", [False, True])
def test_vectorised_intervals_equal_the_naive_cluster_bootstrap(ties: bool) -> None:
    samples = _samples(150, 25, seed=3, ties=ties)
    got = measures(samples, n_boot=150, seed=11)
    for key, stat in [
        ("accuracy", _accuracy),
        ("balanced_accuracy", _balanced),
        ("majority", _majority),
        ("auroc", _auroc_truth),
        ("auroc_association", _auroc_assoc),
    ]:
        naive = cluster_bootstrap(samples, stat, n_boot=150, seed=11)
        assert got[key]["estimate"] == pytest.approx(naive["estimate"]), key
        assert got[key]["low"] == pytest.approx(naive["low"]), key
        assert got[key]["high"] == pytest.approx(naive["high"]), key
    assert got["n"] == 150 and got["n_clusters"] == 25 and got["clusters"] == "family_id"
    assert got["auroc"]["n_pos"] + got["auroc"]["n_neg"] == got["n_scored"]


def test_singleton_clusters_are_the_item_bootstrap() -> None:
    samples = _samples(80, 1, seed=4)
    singletons = [{**s, "family_id": s["id"]} for s in samples]
    plain = [{k: v for k, v in s.items() if k != "family_id"} for s in samples]
    a = cluster_bootstrap(singletons, _accuracy, n_boot=300, seed=2)
    b = cluster_bootstrap(plain, _accuracy, n_boot=300, seed=2)
    assert (a["low"], a["high"], a["n_clusters"]) == (b["low"], b["high"], b["n_clusters"])
    c, d = measures(singletons, seed=2), measures(plain, seed=2)
    assert c["auroc"] == d["auroc"] and c["accuracy"] == d["accuracy"]
    assert d["clusters"] == "items" and d["n_clusters"] == 80


def test_correlated_clusters_widen_the_interval() -> None:
    # 40 families of 10 items each; a family is all right or all wrong (perfect correlation):
    # the effective sample is 40 families, not 400 items, so the interval is ~√10 wider.
    rng = np.random.default_rng(0)
    samples = []
    for f in range(40):
        right = bool(rng.random() < 0.5)
        for _ in range(10):
            samples.append(
                {"family_id": f"f{f}", "answer": "yes", "prediction": "yes" if right else "no"}
            )
    clustered = cluster_bootstrap(samples, _accuracy, n_boot=400, seed=1)
    items = cluster_bootstrap(samples, _accuracy, cluster_key=None, n_boot=400, seed=1)
    width_c = clustered["high"] - clustered["low"]
    width_i = items["high"] - items["low"]
    assert width_c > 2.5 * width_i
    p = clustered["estimate"]
    # the clustered width is close to the binomial width of 40 families
    assert width_c == pytest.approx(2 * 1.96 * math.sqrt(p * (1 - p) / 40), rel=0.25)


def test_undefined_auroc_and_slices() -> None:
    samples = [
        {"answer": "yes", "prediction": "yes", "p_yes": 0.9, "association_answer": None, "rung": 1},
        {"answer": "yes", "prediction": "no", "p_yes": 0.2, "association_answer": None, "rung": 2},
    ]
    by_rung = slice_measures(samples, "rung", n_boot=50)
    assert list(by_rung) == ["1", "2"]
    assert by_rung["1"]["auroc"] == {
        "estimate": None,
        "low": None,
        "high": None,
        "n_pos": 1,
        "n_neg": 0,
    }
    assert by_rung["2"]["auroc_association"]["estimate"] is None
    assert by_rung["2"]["accuracy"]["estimate"] == 0.0
    assert slice_measures(samples, None, n_boot=50)["all"]["n"] == 2


def test_slice_measures_deterministic_and_independent_of_other_slices() -> None:
    samples = _samples(300, 40, seed=5)
    a = slice_measures(samples, "rung", seed=7, n_boot=200)
    b = slice_measures(samples, "rung", seed=7, n_boot=200)
    only_rung_1 = slice_measures([s for s in samples if s["rung"] == 1], "rung", seed=7, n_boot=200)
    assert a == b
    assert only_rung_1["1"] == a["1"]
    assert slice_measures(samples, "rung", seed=8, n_boot=200)["1"] != a["1"]


def test_slice_measures_is_fast_on_ten_thousand_samples() -> None:
    samples = _samples(10_000, 1200, seed=6)
    for s in samples:
        s["query_type"] = f"q{int(s['p_yes'] * 10) if s['p_yes'] is not None else 0}"
    start = time.process_time()
    for by in ("rung", "query_type"):
        slice_measures(samples, by)
    # about 0.3 s of CPU per slicing here; a generous bound for a loaded machine
    assert time.process_time() - start < 6.0


def test_cluster_mean_equals_the_naive_cluster_bootstrap() -> None:
    samples = _samples(200, 30, seed=9)
    values = [float(s["p_yes"] or 0.0) for s in samples]
    got = cluster_mean(values, [s["family_id"] for s in samples], n_boot=300, seed=4)
    rows = [{"x": v, "family_id": s["family_id"]} for v, s in zip(values, samples, strict=True)]
    naive = cluster_bootstrap(
        rows, lambda g: float(np.mean([r["x"] for r in g])), n_boot=300, seed=4
    )
    assert (got["low"], got["high"]) == pytest.approx((naive["low"], naive["high"]))
    assert got["estimate"] == pytest.approx(naive["estimate"]) and got["n_clusters"] == 30
    assert cluster_mean([])["estimate"] is None


def _naive_replicates(samples: list[dict], stat, n_boot: int, seed: int) -> np.ndarray:
    """Each replicate drawn as a list (families with replacement) and the statistic
    recomputed on it: the slow definition the vectorised difference must equal."""
    codes, k = cluster_codes(samples, "family_id")
    members = [[s for s, c in zip(samples, codes, strict=True) if c == j] for j in range(k)]
    draws = np.random.default_rng(seed).integers(0, k, size=(n_boot, k))
    out = []
    for row in draws:
        value = stat([s for j in row for s in members[j]])
        out.append(np.nan if value is None else value)
    return np.array(out)


@pytest.mark.parametrize("measure", ["auroc", "accuracy"])
def test_unpaired_difference_equals_two_naive_bootstraps(measure: str) -> None:
    """Trained-minus-fresh: two independent cluster bootstraps, replicate by replicate."""
    a, b = _samples(120, 20, seed=5), _samples(90, 15, seed=6)
    b = [{**s, "p_yes": None if s["p_yes"] is None else 1 - s["p_yes"]} for s in b]
    stat = _auroc_truth if measure == "auroc" else _accuracy
    got = unpaired_difference(a, b, measure, n_boot=200, seed=7)
    reps = _naive_replicates(a, stat, 200, 7) - _naive_replicates(b, stat, 200, 8)
    low, high = np.percentile(reps[np.isfinite(reps)], [2.5, 97.5])
    assert got["estimate"] == pytest.approx(stat(a) - stat(b))
    assert (got["low"], got["high"]) == pytest.approx((low, high))
    assert got["a"] == pytest.approx(stat(a)) and got["b"] == pytest.approx(stat(b))


def test_unpaired_difference_undefined_and_bad_measure() -> None:
    a = _samples(40, 8, seed=1)
    one_class = [{**s, "answer": "yes"} for s in a]
    assert unpaired_difference(a, one_class)["estimate"] is None
    with pytest.raises(ValueError, match="unknown measure"):
        unpaired_difference(a, a, "brier")
