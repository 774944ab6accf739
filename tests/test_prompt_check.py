"""The samples-mode check (:mod:`ladder.generation.prompt_check`) and the collider fact.

* Refitting on the population's exact joint gives back the population truth, for every
  numeric query type on every named family of ``core`` (hidden-variable graphs included);
* the check accepts a table that implies the label and rejects one that does not, or
  that falls inside the margin, or that leaves a needed row without units;
* in ``samples`` mode the collider_bias fact states the table's frequencies.
"""

from __future__ import annotations

import random
import re

import numpy as np
import pytest

from ladder.engine import inference
from ladder.engine.graphs import chain, collider, frontdoor, get_family
from ladder.engine.queries import Query, truth
from ladder.engine.query_types import get
from ladder.engine.scm import SCM, random_scm
from ladder.generation.naming import symbolic_names
from ladder.generation.prompt_check import fitted_scm, table_agrees, table_truth
from ladder.generation.specs import load_suite
from ladder.generation.verbalize import Sample, draw_sample, render_prompt

CHAIN = SCM.from_dict(
    {
        "variables": [
            {"name": "X", "parents": [], "cpt": [0.5]},
            {"name": "M", "parents": ["X"], "cpt": [0.2, 0.8]},
            {"name": "Y", "parents": ["M"], "cpt": [0.3, 0.7]},
        ]
    }
)  # ATE = 0.6 · 0.4 = 0.24
ATE = Query("ate", treatment="X", outcome="Y")


def _cells() -> list[tuple[str, str]]:
    spec = load_suite("core")
    return [(f, q) for f, qs in spec.cells.items() for q in qs if get(q).rule != "indicator"]


@pytest.mark.parametrize(("family", "query_type"), _cells())
def test_refit_on_the_population_joint_gives_the_population_truth(
    family: str, query_type: str
) -> None:
    graph, kind, rng = get_family(family), get(query_type), random.Random(family + query_type)
    for _ in range(10):
        scm = random_scm(graph, rng)
        query = kind.build(graph, scm, rng, "yes")
        assert query is not None
        exact = Sample(tuple(graph.observed), inference.joint_distribution(scm, graph.observed))
        assert table_truth(graph, query, exact) == pytest.approx(truth(scm, query), abs=1e-9)


def test_the_front_door_refit_is_the_front_door_formula() -> None:
    # Counts chosen by hand; the formula is Σ_m P(m|x) Σ_x' P(y|m,x') P(x').
    counts = np.array([[[30, 10], [20, 40]], [[5, 25], [15, 55]]], dtype=float)  # X, M, Y
    sample, g = Sample(("X", "M", "Y"), counts), frontdoor()
    n = counts.sum()
    p_x = counts.sum(axis=(1, 2)) / n
    p_m_x = counts.sum(axis=2) / counts.sum(axis=(1, 2))[:, None]
    p_y_mx = counts[:, :, 1] / counts.sum(axis=2)  # [x, m]

    def do(x: int) -> float:
        return sum(p_m_x[x, m] * sum(p_y_mx[xp, m] * p_x[xp] for xp in (0, 1)) for m in (0, 1))

    assert table_truth(g, ATE, sample) == pytest.approx(do(1) - do(0), abs=1e-12)
    # The refit reproduces the table's joint exactly.
    refit = fitted_scm(g, sample)
    assert inference.joint_distribution(refit, ["X", "M", "Y"]) == pytest.approx(counts / n)


def test_a_table_that_implies_the_label_is_accepted() -> None:
    sample = Sample(("X", "M", "Y"), np.array([[[240, 60], [35, 15]], [[35, 15], [60, 240]]]))
    # From the table: P(M=1|X) = 50/350 → 300/350 and P(Y=1|M) = 75/350 → 255/350.
    expected = (300 / 350 - 50 / 350) * (255 / 350 - 75 / 350)
    assert table_truth(chain(), ATE, sample) == pytest.approx(expected, abs=1e-12)
    assert table_agrees(CHAIN, chain(), ATE, sample, 0.05)


def test_a_table_with_the_other_answer_is_rejected() -> None:
    # In this table M makes Y less likely, so do(X=1) lowers Y: the opposite of the label.
    sample = Sample(("X", "M", "Y"), np.array([[[60, 240], [35, 15]], [[15, 35], [240, 60]]]))
    assert table_truth(chain(), ATE, sample) < -0.05
    assert not table_agrees(CHAIN, chain(), ATE, sample, 0.05)


def test_a_table_inside_the_margin_is_rejected() -> None:
    # Same sign as the population, but in the table P(M=1|X) moves only 0.50 → 0.55:
    # its effect is 0.05 · (P(Y=1|M=1) − P(Y=1|M=0)) = 0.05 · (0.600 − 0.221) ≈ 0.019.
    counts = np.array([[[200, 50], [100, 150]], [[170, 55], [110, 165]]])  # axes X, M, Y
    sample = Sample(("X", "M", "Y"), counts)
    value = table_truth(chain(), ATE, sample)
    assert value == pytest.approx(0.05 * (315 / 525 - 105 / 475), abs=1e-12)
    assert 0 < value < 0.05
    assert not table_agrees(CHAIN, chain(), ATE, sample, 0.05)
    assert table_agrees(CHAIN, chain(), ATE, sample, 0.001)


def test_a_row_without_units_is_undetermined_and_rejected() -> None:
    # No unit has M=1 and X=0 ... and none has M=0 at all, so P(Y | M=0) is unknown.
    sample = Sample(("X", "M", "Y"), np.array([[[0, 0], [40, 60]], [[0, 0], [30, 70]]]))
    with pytest.raises(ValueError):
        table_truth(chain(), ATE, sample)
    assert not table_agrees(CHAIN, chain(), ATE, sample, 0.05)


def test_an_observational_question_must_agree_read_both_ways() -> None:
    # X→M→Y chain: the graph fit says P(Y|X) via M, the table's joint says it directly.
    # Here X and Y are associated directly but not through M: the two readings differ.
    counts = np.array([[[200, 50], [200, 50]], [[50, 200], [50, 200]]])
    sample = Sample(("X", "M", "Y"), counts)
    corr = Query("correlation", treatment="X", outcome="Y")
    direct = inference.contrast(fitted_scm(chain(), sample, saturated=True), "X", "Y")
    assert direct == pytest.approx(0.6)
    assert table_truth(chain(), corr, sample) == pytest.approx(0.0, abs=1e-12)
    assert not table_agrees(CHAIN, chain(), corr, sample, 0.05)


def test_a_back_door_question_does_not_depend_on_the_table() -> None:
    q = Query("backdoor_set", treatment="X", outcome="Y", adjust=())
    empty = Sample(("X", "M", "Y"), np.zeros((2, 2, 2)))
    assert table_agrees(CHAIN, chain(), q, empty, 0.05)


_FACT = re.compile(r"P\(Y=1 \| X=1, C=1\) = ([0-9.]+) and P\(Y=1 \| X=0, C=1\) = ([0-9.]+)\.")


@pytest.mark.parametrize("seed", range(20))
def test_collider_fact_states_the_tables_frequencies(seed: int) -> None:
    g, rng = collider(), random.Random(seed)
    scm = random_scm(g, rng)
    q = Query("collider_bias", treatment="X", outcome="Y")
    sample = draw_sample(scm, g, 200, random.Random(seed))
    names = symbolic_names(g.observed)
    prompt = render_prompt(
        scm, g, q, names, symbolic=True, evidence="samples", rng=rng, sample=sample
    )
    assert "A random sample of 200 units" in prompt
    stated = _FACT.search(prompt)
    if min(sample.count({"C": 1, "X": x}) for x in (0, 1)) == 0:
        assert stated is None  # no unit to compute one of the numbers from: none stated
        return
    assert stated is not None
    for x, text in ((1, stated.group(1)), (0, stated.group(2))):
        counted = sample.count({"Y": 1, "X": x, "C": 1}) / sample.count({"X": x, "C": 1})
        assert text == f"{counted:.2f}"


def test_the_sample_given_is_the_sample_shown() -> None:
    g = collider()
    scm = random_scm(g, 3)
    sample = Sample(tuple(g.observed), np.arange(1, 9).reshape(2, 2, 2))
    prompt = render_prompt(
        scm,
        g,
        Query("collider_bias", treatment="X", outcome="Y"),
        symbolic_names(g.observed),
        symbolic=True,
        evidence="samples",
        rng=random.Random(0),
        sample=sample,
    )
    assert "A random sample of 36 units" in prompt
    # P(Y=1 | X=1, C=1) from the table: cells (X=1, Y=1, C=1) = 8 of (X=1, C=1) = 6 + 8.
    assert "P(Y=1 | X=1, C=1) = 0.57" in prompt


def test_probabilities_mode_states_the_population_numbers() -> None:
    g = collider()
    scm = random_scm(g, 5)
    prompt = render_prompt(
        scm,
        g,
        Query("collider_bias", treatment="X", outcome="Y"),
        symbolic_names(g.observed),
        symbolic=True,
        evidence="probabilities",
        rng=random.Random(0),
    )
    p1 = inference.marginal(scm, "Y", {"C": 1, "X": 1})
    assert f"P(Y=1 | X=1, C=1) = {p1:.2f}" in prompt
