"""Paired AUROC difference and the ladder-gap interval, against direct recomputation."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from ladder.analysis.measures import gap_closed_interval, paired_auroc_difference
from ladder.core import stats


def _runs(seed: int) -> tuple[list[dict], list[dict]]:
    rng = np.random.default_rng(seed)
    a, b = [], []
    for i in range(120):
        truth = "yes" if rng.random() < 0.5 else "no"
        base = {"id": f"q{i}", "family_id": f"f{i // 6}", "answer": truth, "rung": 1 + i % 3}
        signal = 1.0 if truth == "yes" else 0.0
        a.append({**base, "p_yes": float(0.6 * signal + 0.4 * rng.random())})
        b.append({**base, "p_yes": float(rng.random())})
    for s in a + b:
        s["prediction"] = "yes" if s["p_yes"] > 0.5 else "no"
    return a, b


def test_paired_difference_equals_sklearn_and_its_interval_is_paired() -> None:
    a, b = _runs(3)
    out = paired_auroc_difference(a, b)
    y = [s["answer"] == "yes" for s in a]
    ref = roc_auc_score(y, [s["p_yes"] for s in a]) - roc_auc_score(y, [s["p_yes"] for s in b])
    assert out["estimate"] == pytest.approx(ref)
    assert out["low"] < out["estimate"] < out["high"] and out["n"] == 120
    same = paired_auroc_difference(a, a)
    assert (same["estimate"], same["low"], same["high"]) == (0.0, 0.0, 0.0)  # paired: no noise


def test_gap_interval_estimate_is_the_mean_position() -> None:
    a, _ = _runs(4)
    rng = np.random.default_rng(5)
    assoc = {s["id"]: bool(s["rung"] == 1 or rng.random() < 0.7) for s in a}
    truth = {s["id"]: True for s in a}
    out = gap_closed_interval(a, assoc, truth)
    positions = []
    for rung in ("1", "2", "3"):
        rows = [s for s in a if str(s["rung"]) == rung]
        model = np.mean([s["prediction"] == s["answer"] for s in rows])
        pos = stats.gap_position(model, np.mean([assoc[s["id"]] for s in rows]), 1.0)
        if pos is not None:
            positions.append(pos)
    assert out["rungs"] == ["2", "3"]  # rung 1: association answers everything
    assert out["estimate"] == pytest.approx(np.mean(positions))
    assert out["low"] <= out["estimate"] <= out["high"]
