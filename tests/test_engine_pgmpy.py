"""Rung 1 and 2 of the engine against pgmpy's variable elimination.

Every case is an SCM (named families, random DAGs of 3–10 nodes, raw cpts with exact 0/1
entries, hidden variables); every query is compared with pgmpy on the same Bayesian
network (``model.do`` plus point-mass CPDs for interventions) to 1e-9.  pgmpy's
``CausalInference.query(do=..., evidence=...)`` is deliberately NOT used (pgmpy issue 3543).
"""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest

from ladder.engine.graphs import FAMILIES, random_dag
from ladder.engine.inference import (
    ate,
    contrast,
    joint_distribution,
    marginal,
    probability,
)
from ladder.engine.scm import SCM, SCMError, random_scm

try:
    from tests.references import (
        joint_table,
        pgmpy_do,
        pgmpy_probability,
        raw_scm,
        ref_probability,
        to_pgmpy,
        with_hidden,
    )
except ImportError:  # tests/ itself on sys.path (rootdir without a tests package)
    from references import (
        joint_table,
        pgmpy_do,
        pgmpy_probability,
        raw_scm,
        ref_probability,
        to_pgmpy,
        with_hidden,
    )

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.inference import VariableElimination
    from pgmpy.models import DiscreteBayesianNetwork

TOL = 1e-9


def _cases() -> list[tuple[str, SCM, str, str]]:
    cases = []
    for family, make in FAMILIES.items():
        graph = make()
        for seed in range(3):
            cases.append(
                (f"{family}-s{seed}", random_scm(graph, seed), graph.treatment, graph.outcome)
            )
        cases.append((f"{family}-raw", raw_scm(graph, 100), graph.treatment, graph.outcome))
    for n in range(3, 11):
        for seed in range(5):
            graph = random_dag(n, seed=1000 * n + seed)
            cases.append(
                (f"random{n}-s{seed}", random_scm(graph, seed), graph.treatment, graph.outcome)
            )
        graph = random_dag(n, density=0.6, seed=77 + n)
        cases.append((f"random{n}-raw", raw_scm(graph, n), graph.treatment, graph.outcome))
        graph = random_dag(n, seed=500 + n)
        inner = [v for v in graph.nodes if v not in (graph.treatment, graph.outcome)]
        hidden = random.Random(n).sample(inner, min(2, len(inner)))
        cases.append(
            (
                f"random{n}-hidden",
                with_hidden(random_scm(graph, n), hidden),
                graph.treatment,
                graph.outcome,
            )
        )
    return cases


CASES = _cases()
IDS = [c[0] for c in CASES]


def _rng(label: str, salt: str) -> random.Random:
    return random.Random(f"{label}/{salt}")


def _random_assignment(rng: random.Random, names: list[str], k: int) -> dict[str, int]:
    return {n: rng.randint(0, 1) for n in rng.sample(names, min(k, len(names)))}


# -- the mapping itself, checked by hand ----------------------------------------------------


def test_tabular_cpd_layout_hand_checked():
    """cpt index 2*A + B (first parent most significant) is pgmpy's column order."""
    scm = SCM.from_dict(
        {
            "variables": [
                {"name": "A", "parents": [], "cpt": [0.5]},
                {"name": "B", "parents": [], "cpt": [0.5]},
                {"name": "Y", "parents": ["A", "B"], "cpt": [0.1, 0.2, 0.3, 0.4]},
            ]
        }
    )
    model = to_pgmpy(scm)
    cpd = model.get_cpds("Y")
    assert cpd.variables == ["Y", "A", "B"]
    np.testing.assert_allclose(cpd.get_values(), [[0.9, 0.8, 0.7, 0.6], [0.1, 0.2, 0.3, 0.4]])
    ve = VariableElimination(model)
    expected = {(0, 0): 0.1, (0, 1): 0.2, (1, 0): 0.3, (1, 1): 0.4}
    for (a, b), p in expected.items():
        assert pgmpy_probability(model, {"Y": 1}, {"A": a, "B": b}, ve) == pytest.approx(p)
        assert marginal(scm, "Y", {"A": a, "B": b}) == pytest.approx(p, abs=TOL)
    # Hand-made pgmpy model, written independently of to_pgmpy: the same numbers.
    hand = DiscreteBayesianNetwork([("A", "Y"), ("B", "Y")])
    hand.add_cpds(
        TabularCPD("A", 2, [[0.5], [0.5]]),
        TabularCPD("B", 2, [[0.5], [0.5]]),
        TabularCPD(
            "Y",
            2,
            [[0.9, 0.8, 0.7, 0.6], [0.1, 0.2, 0.3, 0.4]],
            evidence=["A", "B"],
            evidence_card=[2, 2],
        ),
    )
    q = VariableElimination(hand).query(["Y"], evidence={"A": 1, "B": 0}, show_progress=False)
    assert q.get_value(Y=1) == pytest.approx(0.3)
    # Parents listed as [B, A] reverse the bit order.
    swapped = SCM.from_dict(
        {
            "variables": [
                {"name": "A", "parents": [], "cpt": [0.5]},
                {"name": "B", "parents": [], "cpt": [0.5]},
                {"name": "Y", "parents": ["B", "A"], "cpt": [0.1, 0.2, 0.3, 0.4]},
            ]
        }
    )
    assert marginal(swapped, "Y", {"A": 1, "B": 0}) == pytest.approx(0.2, abs=TOL)
    assert pgmpy_probability(to_pgmpy(swapped), {"Y": 1}, {"A": 1, "B": 0}) == pytest.approx(0.2)


def test_pgmpy_do_behaviour():
    """pgmpy 1.1.2's ``do`` cuts the edges but leaves X with its column-averaged cpt; both
    point-mass surgery and conditioning on X in the mutilated model give P(y | do(x))."""
    scm = SCM.from_dict(
        {
            "variables": [
                {"name": "Z", "parents": [], "cpt": [0.4]},
                {"name": "X", "parents": ["Z"], "cpt": [0.3, 0.8]},
                {"name": "Y", "parents": ["X", "Z"], "cpt": [0.1, 0.5, 0.6, 0.9]},
            ]
        }
    )
    model = to_pgmpy(scm)
    cut = model.do(["X"])
    assert set(cut.edges()) == {("X", "Y"), ("Z", "Y")}
    cpd = cut.get_cpds("X")
    assert cpd.variables == ["X"]
    np.testing.assert_allclose(cpd.get_values().ravel(), [(0.7 + 0.2) / 2, (0.3 + 0.8) / 2])
    for x, want in ((0, 0.1 * 0.6 + 0.5 * 0.4), (1, 0.6 * 0.6 + 0.9 * 0.4)):
        by_condition = pgmpy_probability(cut, {"Y": 1}, {"X": x})
        by_surgery = pgmpy_probability(pgmpy_do(model, {"X": x}), {"Y": 1})
        assert by_condition == pytest.approx(want)
        assert by_surgery == pytest.approx(want)
        assert marginal(scm, "Y", do={"X": x}) == pytest.approx(want, abs=TOL)
        assert pgmpy_do(model, {"X": x}).get_cpds("X").get_values().ravel()[x] == 1.0
    # The model itself is unchanged by do().
    assert set(model.edges()) == {("Z", "X"), ("Z", "Y"), ("X", "Y")}


# -- random cases ------------------------------------------------------------------------------


@pytest.mark.parametrize(("label", "scm", "treatment", "outcome"), CASES, ids=IDS)
def test_marginals_and_conditionals(label, scm, treatment, outcome):
    model = to_pgmpy(scm)
    ve = VariableElimination(model)
    table = joint_table(scm)
    names = list(scm.names)
    for name in names:
        assert marginal(scm, name) == pytest.approx(
            pgmpy_probability(model, {name: 1}, ve=ve), abs=TOL
        )
    rng = _rng(label, "cond")
    checked = 0
    for _ in range(12):
        event = _random_assignment(rng, names, rng.randint(1, 3))
        given = _random_assignment(rng, names, rng.randint(0, 3))
        if ref_probability(scm, {}, given, table=table) is None:
            with pytest.raises(SCMError, match="probability 0"):
                probability(scm, event, given)
            continue
        want = pgmpy_probability(model, event, given, ve)
        assert probability(scm, event, given) == pytest.approx(want, abs=TOL), (event, given)
        target = next(iter(event))
        if target not in given:
            assert marginal(scm, target, given) == pytest.approx(
                pgmpy_probability(model, {target: 1}, given, ve), abs=TOL
            )
        checked += 1
    assert checked >= 3


@pytest.mark.parametrize(("label", "scm", "treatment", "outcome"), CASES, ids=IDS)
def test_interventional_queries(label, scm, treatment, outcome):
    model = to_pgmpy(scm)
    names = list(scm.names)
    rng = _rng(label, "do")
    checked = 0
    for _ in range(5):
        do = _random_assignment(rng, names, rng.randint(1, 2))
        cut = pgmpy_do(model, do)
        ve = VariableElimination(cut)
        table = joint_table(scm, do)
        for _ in range(3):
            event = _random_assignment(rng, names, rng.randint(1, 3))
            given = _random_assignment(rng, [n for n in names if n not in do], rng.randint(0, 2))
            if ref_probability(scm, {}, given, do, table=table) is None:
                continue
            want = pgmpy_probability(cut, event, given, ve)
            got = probability(scm, event, given, do)
            assert got == pytest.approx(want, abs=TOL), (do, event, given)
            checked += 1
    assert checked >= 5


@pytest.mark.parametrize(("label", "scm", "treatment", "outcome"), CASES, ids=IDS)
def test_contrast_and_ate(label, scm, treatment, outcome):
    model = to_pgmpy(scm)
    ve = VariableElimination(model)
    x, y = treatment, outcome
    table = joint_table(scm)
    others = [n for n in scm.names if n not in (x, y)]
    rng = _rng(label, "ate")
    givens = [{}, *(_random_assignment(rng, others, rng.randint(1, 2)) for _ in range(3))]

    def possible(given, do=None, tab=table):
        return all(
            ref_probability(scm, {}, {**given, **extra}, do, table=tab) is not None
            for extra in ({x: 0}, {x: 1})
        )

    for given in givens:
        if possible(given):
            want = pgmpy_probability(model, {y: 1}, {**given, x: 1}, ve) - pgmpy_probability(
                model, {y: 1}, {**given, x: 0}, ve
            )
            assert contrast(scm, x, y, given) == pytest.approx(want, abs=TOL), given
    do_models = {v: pgmpy_do(model, {x: v}) for v in (0, 1)}
    do_tables = {v: joint_table(scm, {x: v}) for v in (0, 1)}
    checked = 0
    for given in givens:
        if any(ref_probability(scm, {}, given, {x: v}, table=do_tables[v]) is None for v in (0, 1)):
            continue
        want = pgmpy_probability(do_models[1], {y: 1}, given) - pgmpy_probability(
            do_models[0], {y: 1}, given
        )
        assert ate(scm, x, y, given) == pytest.approx(want, abs=TOL), given
        checked += 1
    assert checked >= 1  # given = {} is always possible


@pytest.mark.parametrize(("label", "scm", "treatment", "outcome"), CASES, ids=IDS)
def test_joint_distribution(label, scm, treatment, outcome):
    model = to_pgmpy(scm)
    rng = _rng(label, "joint")

    def pgmpy_joint(m, names):
        factor = VariableElimination(m).query(
            variables=list(names), joint=True, show_progress=False
        )
        assert all(factor.state_names[n] == [0, 1] for n in names)
        return np.transpose(factor.values, [factor.variables.index(n) for n in names])

    observed = list(scm.observed_names)
    got = joint_distribution(scm)
    assert got.shape == (2,) * len(observed)
    np.testing.assert_allclose(got, pgmpy_joint(model, observed), atol=TOL, rtol=0)
    # An explicit, shuffled subset (hidden variables allowed): axes follow the given order.
    subset = rng.sample(list(scm.names), rng.randint(1, len(scm.names)))
    np.testing.assert_allclose(
        joint_distribution(scm, subset), pgmpy_joint(model, subset), atol=TOL, rtol=0
    )
    # Under an intervention; the intervened variable's axis holds all mass at its value.
    do = {treatment: rng.randint(0, 1)}
    names = list(scm.names)
    rng.shuffle(names)
    got = joint_distribution(scm, names, do=do)
    np.testing.assert_allclose(got, pgmpy_joint(pgmpy_do(model, do), names), atol=TOL, rtol=0)
    assert got.sum() == pytest.approx(1.0, abs=TOL)
