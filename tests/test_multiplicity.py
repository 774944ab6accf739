"""Joint slice tests, corrections, wording and detectable differences
(ladder.analysis.multiplicity) against statsmodels and hand formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ladder.analysis.multiplicity import (
    MIN_GROUP,
    corrected,
    joint_slice_test,
    minimal_detectable_difference,
    significance_wording,
)


@pytest.mark.parametrize("method", ["holm", "fdr_bh"])
@pytest.mark.parametrize("seed", range(4))
def test_corrected_matches_multipletests_exactly(method: str, seed: int) -> None:
    from statsmodels.stats.multitest import multipletests

    p = np.random.default_rng(seed).random(12) ** 3
    assert corrected(list(p), method) == list(multipletests(p, method=method)[1])


def test_corrected_by_hand_and_missing_values() -> None:
    # Holm: sorted 0.01, 0.03, 0.04 times 3, 2, 1, then running maximum
    assert corrected([0.04, 0.01, 0.03]) == pytest.approx([0.06, 0.03, 0.06])
    # missing p-values are not part of the family: the two others are corrected as two
    assert corrected([0.01, None, float("nan"), 0.04]) == [0.02, None, None, 0.04]
    with pytest.raises(ValueError, match="method"):
        corrected([0.1], "bonferroni")


def test_wording_never_says_significant_under_thirty() -> None:
    for p in (1e-9, 0.01, 0.2, None):
        for sizes in ([29, 100], 5, [MIN_GROUP - 1]):
            assert "significant" not in significance_wording(p, sizes)
    assert significance_wording(0.01, [30, 30]) == "significant (adjusted p = 0.01)"
    assert significance_wording(0.2, [30, 31]).startswith("not significant")


@pytest.mark.parametrize(("n1", "n2", "p"), [(100, 100, 0.5), (30, 200, 0.5), (500, 80, 0.2)])
def test_minimal_detectable_difference_has_the_asked_power(n1: int, n2: int, p: float) -> None:
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    d = minimal_detectable_difference(n1, n2, p)
    assert d is not None and d > 0
    power = NormalIndPower().power(proportion_effectsize(p + d, p), n1, 0.05, ratio=n2 / n1)
    # statsmodels adds the far tail (< 1e-3 here); otherwise the same normal approximation
    assert power == pytest.approx(0.8, abs=2e-3)
    solved = NormalIndPower().solve_power(nobs1=n1, alpha=0.05, power=0.8, ratio=n2 / n1)
    assert 2 * math.asin(math.sqrt(p + d)) - 2 * math.asin(math.sqrt(p)) == pytest.approx(
        solved, rel=2e-3
    )


def test_minimal_detectable_difference_edges() -> None:
    assert minimal_detectable_difference(0, 10) is None
    assert minimal_detectable_difference(2, 2, 0.5) is None  # nothing in [0, 1] far enough
    # larger groups detect smaller differences; a proportion above 0.5 steps down
    assert minimal_detectable_difference(400, 400) < minimal_detectable_difference(100, 100)
    assert minimal_detectable_difference(100, 100, 0.8) == pytest.approx(
        minimal_detectable_difference(100, 100, 0.2)
    )


def _slices(rates: dict[str, float], n: int, family_size: int, seed: int) -> list[dict]:
    """Samples per slice; each family is all right or all wrong (strong clustering)."""
    rng = np.random.default_rng(seed)
    out = []
    for name, rate in rates.items():
        for f in range(n // family_size):
            right = bool(rng.random() < rate)
            for _ in range(family_size):
                out.append(
                    {
                        "qt": name,
                        "family_id": f"{name}{f}",
                        "answer": "yes",
                        "prediction": "yes" if right else "no",
                    }
                )
    return out


def test_joint_test_matches_statsmodels_and_sees_a_real_difference() -> None:
    import pandas as pd
    import statsmodels.formula.api as smf

    samples = _slices({"a": 0.2, "b": 0.8, "c": 0.5}, 200, 4, seed=0)
    r = joint_slice_test(samples, "qt")
    df = pd.DataFrame(samples)
    df["y"] = (df.prediction == df.answer).astype(float)
    fit = smf.ols("y ~ C(qt)", df).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(df.family_id)[0]}, use_t=True
    )
    wald = fit.wald_test("C(qt)[T.b] = 0, C(qt)[T.c] = 0", use_f=True, scalar=True)
    assert r["statistic"] == pytest.approx(float(wald.statistic))
    assert r["p_value"] == pytest.approx(float(wald.pvalue)) and r["p_value"] < 1e-6
    assert (
        r["df"] == [2, 149] and r["n_slices"] == 3 and r["sizes"] == {"a": 200, "b": 200, "c": 200}
    )


def test_clustering_makes_the_joint_test_honest_under_no_difference() -> None:
    # equal rates; families of 10 perfectly correlated items. The unclustered chi-square
    # treats 10 copies as 10 items and fires far too often; the clustered test does not.
    fired_clustered = fired_chi2 = 0
    for seed in range(40):
        r = joint_slice_test(_slices({"a": 0.5, "b": 0.5, "c": 0.5}, 100, 10, seed), "qt")
        fired_clustered += r["p_value"] < 0.05
        fired_chi2 += r["chi2_p_value"] < 0.05
    assert fired_clustered <= 5
    assert fired_chi2 >= 15


def test_joint_test_undefined_cases() -> None:
    one = joint_slice_test(_slices({"a": 0.5}, 20, 1, 0), "qt")
    assert one["p_value"] is None and one["note"] == "one slice: nothing to compare"
    right = [
        {"qt": q, "family_id": str(i), "answer": "no", "prediction": "no"}
        for i, q in enumerate("ab" * 5)
    ]
    assert joint_slice_test(right, "qt")["note"].startswith("every item is right")
    flat = _slices({"a": 0.3, "b": 0.6, "c": 0.5}, 3, 3, 0)  # one family a slice
    assert (
        joint_slice_test(flat, "qt")["note"] == "no slice varies across families: nothing to test"
    )
    few = [  # 3 slices in 2 families
        {"qt": q, "family_id": f, "answer": "no", "prediction": p}
        for q, f, p in (("a", "f", "no"), ("b", "f", "yes"), ("c", "g", "no"))
    ]
    assert "clusters cannot test" in joint_slice_test(few, "qt")["note"]
