"""ladder.core.stats against hand formulas and statsmodels."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.contingency_tables import mcnemar

from ladder.core import stats


def pooled_z(c1: int, n1: int, c2: int, n2: int) -> tuple[float, float]:
    """Textbook pooled two-proportion z-test, by hand."""
    p1, p2, p = c1 / n1, c2 / n2, (c1 + c2) / (n1 + n2)
    z = (p1 - p2) / math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    return z, math.erfc(abs(z) / math.sqrt(2))


@pytest.mark.parametrize(
    "counts",
    [(30, 40, 20, 40), (32, 40, 22, 40), (5, 7, 90, 100), (0, 10, 3, 10), (40, 40, 39, 40)],
)
def test_two_proportion_matches_hand_formula(counts):
    z, p = pooled_z(*counts)
    res = stats.two_proportion_test(*counts)
    assert res.statistic == pytest.approx(z, rel=1e-9)
    assert res.p_value == pytest.approx(p, rel=1e-9)
    assert "unpaired" in res.name


def test_two_proportion_degenerate_and_empty():
    assert stats.two_proportion_test(10, 10, 7, 7).p_value == 1.0
    assert stats.two_proportion_test(0, 10, 0, 7).statistic == 0.0
    with pytest.raises(ValueError):
        stats.two_proportion_test(1, 0, 1, 2)


def test_mcnemar_exact_by_hand():
    # b = 6 (first right, second wrong), c = 1: p = 2 * P(Bin(7, 1/2) <= 1) = 2 * 8 / 128.
    first = [True] * 6 + [False] * 1 + [True] * 10 + [False] * 3
    second = [False] * 6 + [True] * 1 + [True] * 10 + [False] * 3
    res = stats.mcnemar_test(first, second)
    assert (res.b, res.c, res.n, res.method) == (6, 1, 20, "exact")
    assert res.p_value == pytest.approx(0.125)
    assert not res.significant


def test_mcnemar_chi2_matches_statsmodels():
    rng = np.random.default_rng(3)
    first = rng.random(300) < 0.7
    second = rng.random(300) < 0.55
    res = stats.mcnemar_test(first, second)
    b, c = int(np.sum(first & ~second)), int(np.sum(~first & second))
    assert b + c >= stats.MCNEMAR_EXACT_BELOW and res.method == "chi2"
    table = [[int(np.sum(first & second)), b], [c, int(np.sum(~first & ~second))]]
    ref = mcnemar(table, exact=False, correction=True)
    assert res.p_value == pytest.approx(ref.pvalue)
    assert res.statistic == pytest.approx((abs(b - c) - 1) ** 2 / (b + c))


def test_mcnemar_no_discordant_and_length_check():
    assert stats.mcnemar_test([True, False], [True, False]).p_value == 1.0
    with pytest.raises(ValueError):
        stats.mcnemar_test([True], [True, False])


def test_gap_position():
    assert stats.gap_position(0.55, 0.75, 1.0) == pytest.approx(-0.8)
    assert stats.gap_position(0.9, 0.98, 1.0) is None  # gap 0.02 < MIN_GAP
    assert stats.gap_position(1.0, 0.5, 1.0) == pytest.approx(1.0)


def test_roc_auc_and_curve():
    scores = [0.9, 0.8, 0.7, 0.6, 0.55, 0.5, 0.4, 0.3]
    labels = [True, True, False, True, False, False, True, False]
    # Mann-Whitney by hand: pairs (pos > neg) out of 4 * 4.
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    wins = sum(p > n for p in pos for n in neg)
    assert stats.roc_auc(scores, labels) == pytest.approx(wins / 16)
    fpr, tpr = stats.roc_curve(scores, labels)
    assert fpr[0] == 0 and tpr[0] == 0 and fpr[-1] == 1 and tpr[-1] == 1
    assert np.trapezoid(tpr, fpr) == pytest.approx(wins / 16)
    assert stats.roc_auc([1, 1], [True, False]) == 0.5


def test_format_p():
    assert stats.format_p(0.0001) == "p < 0.001"
    assert stats.format_p(0.04996) == "p = 0.04996"
    assert stats.format_p(0.2) == "p = 0.2"
    assert stats.p_cell(0.0001) == "< 0.001"


def _mann_whitney_by_hand(pos: list[float], neg: list[float]) -> float:
    """P(pos > neg) + ½ P(tie), over all pairs, by counting."""
    return sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))


@pytest.mark.parametrize(
    ("pos", "neg", "expected"),
    [
        ([0.9, 0.8, 0.4], [0.5, 0.3], 5 / 6),  # 5 of 6 pairs ordered
        ([1.0, 2.0], [0.0, 2.0], 0.625),  # pairs: 1 > 0, 1 < 2, 2 > 0, 2 = 2: 2.5 / 4
        ([3.0, 3.0], [3.0], 0.5),  # all tied
        ([0.1], [0.2, 0.3], 0.0),
        ([5, 4, 4, 1], [4, 2, 2], 8 / 12),  # 5: 3 wins; each 4: a tie and 2 wins; 1: none
    ],
)
def test_roc_auc_known_values_one_implementation(pos, neg, expected):
    """core.stats and granger.compare give the hand-counted Mann–Whitney value."""
    from ladder.granger import compare

    assert _mann_whitney_by_hand(pos, neg) == pytest.approx(expected)
    labels = [True] * len(pos) + [False] * len(neg)
    assert stats.roc_auc(pos + neg, labels) == pytest.approx(expected, abs=1e-15)
    assert compare.roc_auc(pos, neg) == pytest.approx(expected, abs=1e-15)


def test_roc_auc_matches_pairwise_counting_with_many_ties():
    rng = np.random.default_rng(7)
    scores = rng.integers(0, 6, 400).astype(float)  # heavy ties
    labels = rng.random(400) < 0.3
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    assert stats.roc_auc(scores, labels) == pytest.approx(_mann_whitney_by_hand(pos, neg))


def test_compare_roc_auc_none_on_degenerate_input():
    from ladder.granger import compare

    assert compare.roc_auc([], [0.1]) is None
    assert compare.roc_auc([0.3, None, float("nan")], [None]) is None
    assert compare.roc_auc([0.3, None, float("nan")], [0.1]) == 1.0  # None and NaN dropped
    with pytest.raises(ValueError):
        stats.roc_auc([0.3], [True])
    with pytest.raises(ValueError):
        stats.roc_auc([float("nan"), 0.1], [True, False])


def test_significance_is_p_below_alpha_for_both_results():
    # b = 8, c = 0: exact p = 2 / 2**8 (significant); b = 6, c = 1: p = 0.125 (not).
    strong = stats.mcnemar_test([True] * 8 + [False] * 2, [False] * 8 + [False] * 2)
    assert strong.p_value == pytest.approx(2 / 256) and strong.significant
    # 30/40 against 10/40: pooled z = 4.47, p ~ 8e-6; 30/40 against 28/40: p ~ 0.61.
    assert stats.two_proportion_test(30, 40, 10, 40).significant
    assert not stats.two_proportion_test(30, 40, 28, 40).significant
    # the boundary itself is not significant, for either kind of result
    assert not stats.UnpairedResult("z", 1.96, stats.ALPHA).significant
    assert not stats.McNemarResult(9, 2, 20, "exact", 0.0, stats.ALPHA).significant
    assert stats.McNemarResult(9, 2, 20, "exact", 0.0, stats.ALPHA / 2).significant
