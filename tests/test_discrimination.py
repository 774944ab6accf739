"""Youden's J tests: the slope equals 2 × balanced accuracy − 1 (sklearn), the clustered
standard error equals a hand-computed CR1 sandwich, answer bias is never above chance and
a real difference between slices is found."""

from __future__ import annotations

import numpy as np
import pytest

from ladder.analysis.discrimination import discrimination_test, joint_discrimination_test


def _rows(rng: np.random.Generator, n_fam: int, per: int, rule) -> list[dict]:
    rows = []
    for f in range(n_fam):
        for k in range(per):
            truth = "yes" if rng.random() < 0.45 else "no"
            rows.append({"family_id": f"f{f}", "answer": truth, "prediction": rule(rng, truth, k)})
    return rows


def _flip(rng, truth, alpha):
    if rng.random() < alpha:
        return truth
    return "yes" if rng.random() < 0.5 else "no"


def test_youden_is_twice_balanced_accuracy_minus_one() -> None:
    sklearn = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    rows = _rows(rng, 30, 5, lambda r, t, k: _flip(r, t, 0.4))
    out = discrimination_test(rows)
    ba = sklearn.balanced_accuracy_score(
        [s["answer"] for s in rows], [s["prediction"] for s in rows]
    )
    assert out["youden"] == pytest.approx(2 * ba - 1, abs=1e-12)
    assert out["balanced_accuracy"] == pytest.approx(ba, abs=1e-12)


def test_clustered_interval_matches_a_hand_sandwich() -> None:
    rng = np.random.default_rng(2)
    rows = _rows(rng, 25, 6, lambda r, t, k: _flip(r, t, 0.3))
    out = discrimination_test(rows)
    y = np.array([s["prediction"] == "yes" for s in rows], float)
    x = np.column_stack([np.ones(len(rows)), [s["answer"] == "yes" for s in rows]]).astype(float)
    beta = np.linalg.solve(x.T @ x, x.T @ y)
    u = y - x @ beta
    bread = np.linalg.inv(x.T @ x)
    meat = np.zeros((2, 2))
    fam = np.array([s["family_id"] for s in rows])
    for f in np.unique(fam):
        score = x[fam == f].T @ u[fam == f]
        meat += np.outer(score, score)
    g, n = len(np.unique(fam)), len(rows)
    cov = bread @ meat @ bread * g / (g - 1) * (n - 1) / (n - 2)
    from scipy import stats

    half = stats.t.ppf(0.975, g - 1) * np.sqrt(cov[1, 1])
    assert out["youden"] == pytest.approx(beta[1], abs=1e-12)
    assert out["low"] == pytest.approx(beta[1] - half, abs=1e-9)
    assert out["high"] == pytest.approx(beta[1] + half, abs=1e-9)


def test_answer_bias_is_not_above_chance_and_a_reasoner_is() -> None:
    rejections = 0
    for seed in range(40):
        rng = np.random.default_rng(100 + seed)
        rows = _rows(rng, 40, 5, lambda r, t, k: "yes" if r.random() < 0.85 else "no")
        rejections += discrimination_test(rows)["p_value"] < 0.05
    assert rejections <= 6  # 5% of 40 is 2; binomial 99.8% bound
    rng = np.random.default_rng(7)
    rows = _rows(rng, 40, 5, lambda r, t, k: _flip(r, t, 0.5))
    assert discrimination_test(rows)["p_value"] < 0.001
    always = [{**s, "prediction": "no"} for s in rows]
    assert discrimination_test(always)["youden"] == 0.0


def test_joint_test_holds_its_size_and_finds_a_real_difference() -> None:
    rejections = 0
    for seed in range(30):
        rng = np.random.default_rng(200 + seed)
        rows = _rows(rng, 40, 6, lambda r, t, k: _flip(r, t, 0.4))
        for s, k in zip(rows, range(len(rows)), strict=True):
            s["slice"] = "abc"[k % 3]
        rejections += joint_discrimination_test(rows, "slice")["p_value"] < 0.05
    assert rejections <= 5
    rng = np.random.default_rng(9)
    rows = _rows(rng, 40, 6, lambda r, t, k: t if k % 2 else ("yes" if r.random() < 0.5 else "no"))
    for k, s in enumerate(rows):
        s["slice"] = "even" if k % 2 == 0 else "odd"
    out = joint_discrimination_test(rows, "slice")
    assert out["p_value"] < 0.001 and out["df"][0] == 1


def test_slices_with_one_answer_class_are_left_out() -> None:
    rows = [{"family_id": str(k), "answer": "no", "prediction": "no", "s": "a"} for k in range(9)]
    out = joint_discrimination_test(rows, "s")
    assert out["left_out"] == ["a"] and out["p_value"] is None
    assert discrimination_test(rows)["youden"] is None
