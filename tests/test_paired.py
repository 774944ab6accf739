"""Within-family analyses (ladder.analysis.paired) against statsmodels and hand counts, and
the question grouping on generated paired-suite items."""

from __future__ import annotations

import random

import numpy as np
import pytest

from ladder.analysis.paired import rung_comparison, twin_consistency, verbalization_invariance
from ladder.generation.generate import generate_items
from ladder.generation.specs import load_suite

WORDINGS = ("anticommonsense", "commonsense", "nonsense", "symbolic")
FIELDS = ("id", "answer", "rung", "verbalization", "family_id", "question_key", "twin_id")


def _s(family: str, rung: int, right: bool, **extra) -> dict:
    return {
        "family_id": family,
        "rung": rung,
        "answer": "yes",
        "prediction": "yes" if right else "no",
    } | extra


def test_rung_comparison_by_hand_and_against_statsmodels() -> None:
    from statsmodels.stats.contingency_tables import mcnemar

    samples = []
    # 7 families better at rung 1 than rung 2, 2 worse, 3 tied; rung 3 only in 4 families
    for f in range(12):
        better, worse = f < 7, 7 <= f < 9
        samples += [_s(f"f{f}", 1, True), _s(f"f{f}", 1, not worse)]
        samples += [_s(f"f{f}", 2, not better), _s(f"f{f}", 2, True)]
        if f < 4:
            samples.append(_s(f"f{f}", 3, f % 2 == 0))
    samples.append(_s("lonely", 1, True))  # one rung only: paired with nothing
    r = rung_comparison(samples)
    assert list(r) == ["1-2", "1-3", "2-3"]
    one_two = r["1-2"]
    assert (one_two["n_families"], one_two["b"], one_two["c"], one_two["ties"]) == (12, 7, 2, 3)
    assert one_two["p_value"] == pytest.approx(mcnemar([[0, 7], [2, 0]], exact=True).pvalue)
    assert one_two["accuracy_first"] == pytest.approx((7 * 1 + 2 * 0.5 + 3) / 12)
    assert r["1-3"]["n_families"] == 4
    # Holm over the three rung pairs
    ps = sorted(v["p_value"] for v in r.values())
    assert min(v["p_holm"] for v in r.values()) == pytest.approx(min(1.0, 3 * ps[0]))


def _question(family: str, key: str, answers: dict[str, str], answer: str = "yes") -> list[dict]:
    return [
        {
            "family_id": family,
            "question_key": key,
            "answer": answer,
            "verbalization": w,
            "prediction": p,
        }
        for w, p in answers.items()
    ]


def test_verbalization_invariance_against_cochrans_q() -> None:
    from statsmodels.stats.contingency_tables import cochrans_q

    rng = np.random.default_rng(0)
    samples, table = [], []
    for q in range(30):
        row = rng.random(4) < [0.8, 0.6, 0.5, 0.3]
        table.append(row.astype(int))
        preds = {w: "yes" if r else "no" for w, r in zip(WORDINGS, row, strict=True)}
        samples += _question(f"f{q // 3}", f"k{q}", preds)
    # an incomplete question (two wordings) is left out
    samples += _question("fx", "kx", {"commonsense": "yes", "symbolic": "no"})
    r = verbalization_invariance(samples)
    expected = cochrans_q(np.array(table))
    assert r["n_questions"] == 30 and r["n_families"] == 10 and r["df"] == 3
    assert r["q"] == pytest.approx(expected.statistic)
    assert r["p_value"] == pytest.approx(expected.pvalue)
    same = sum(len(set(row)) == 1 for row in table) / 30
    assert r["same_answer"]["estimate"] == pytest.approx(same)
    assert r["accuracy"]["symbolic"] == pytest.approx(np.mean([row[3] for row in table]))


def test_twins_of_one_question_are_two_questions_across_wordings() -> None:
    # the twin with answer "no" is a separate question; all wordings agree within each
    samples = _question("f", "k", dict.fromkeys(WORDINGS, "yes"))
    samples += _question("f", "k", dict.fromkeys(WORDINGS, "yes"), answer="no")
    r = verbalization_invariance(samples)
    assert r["n_questions"] == 2 and r["same_answer"]["estimate"] == 1.0
    assert (r["q"], r["p_value"]) == (0.0, 1.0)  # no row varies: no evidence of a difference
    assert r["accuracy"] == dict.fromkeys(WORDINGS, 0.5)


def test_twin_consistency_by_hand() -> None:
    pairs = [
        (0.9, 0.2, "yes", "no"),
        (0.7, 0.6, "yes", "yes"),
        (0.1, 0.3, "no", "no"),
        (0.8, 0.1, "yes", "no"),
    ]
    samples = []
    for i, (p, q, a, b) in enumerate(pairs):
        for p_yes, pred in ((p, a), (q, b)):
            samples.append(
                {"twin_id": f"t{i}", "family_id": f"f{i // 2}", "p_yes": p_yes, "prediction": pred}
            )
    samples.append({"twin_id": "alone", "family_id": "f9", "p_yes": 0.5, "prediction": "no"})
    r = twin_consistency(samples)
    assert (r["n_pairs"], r["n_families"], r["both_yes"], r["both_no"]) == (4, 2, 1, 1)
    assert r["contradictory"]["estimate"] == 0.5
    assert r["p_sum"]["estimate"] == pytest.approx((1.1 + 1.3 + 0.4 + 0.9) / 4)
    assert r["p_value"] is not None and 0 < r["p_value"] <= 1


@pytest.fixture(scope="module")
def paired_items() -> list[dict]:
    return list(generate_items(load_suite("paired"), seed=3, n=300))


def test_generated_paired_items_group_into_four_wordings(paired_items: list[dict]) -> None:
    samples = [
        {k: it[k] for k in FIELDS} | {"prediction": it["answer"], "p_yes": 1.0}
        for it in paired_items
    ]
    r = verbalization_invariance(samples)
    complete = r["n_questions"] * 4
    # every item is in a complete question except those of the family cut off at n
    last = paired_items[-1]["family_id"]
    assert complete >= sum(it["family_id"] != last for it in paired_items)
    assert r["verbalizations"] == list(WORDINGS) and r["same_answer"]["estimate"] == 1.0
    # the truth oracle: every twin pair coherent
    for s in samples:
        s["p_yes"] = 1.0 if s["answer"] == "yes" else 0.0
    t = twin_consistency(samples)
    assert t["n_pairs"] > 50 and t["contradictory"]["estimate"] == 0.0
    assert t["p_sum"]["estimate"] == 1.0
    # every family holds all three rungs, so each rung pair is compared on every family
    rungs = rung_comparison(samples)
    n_fam = len({it["family_id"] for it in paired_items})
    assert (
        rungs["1-2"]["n_families"] >= n_fam - 1
        and rungs["1-2"]["ties"] == rungs["1-2"]["n_families"]
    )


def test_an_always_yes_model_contradicts_every_twin(paired_items: list[dict]) -> None:
    rng = random.Random(0)
    samples = [
        {k: it[k] for k in FIELDS} | {"prediction": "yes", "p_yes": 0.9 + 0.1 * rng.random()}
        for it in paired_items
    ]
    t = twin_consistency(samples)
    assert t["contradictory"]["estimate"] == 1.0 and t["both_yes"] == t["n_pairs"]
    assert t["p_sum"]["low"] > 1.5 and t["p_value"] < 1e-6
