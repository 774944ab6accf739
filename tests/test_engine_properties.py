"""Property tests of the engine on random SCMs (hypothesis).

SCMs come from ``random_dag`` (3–7 nodes) with either ``random_scm`` (the generator's
0.01-grid cpts) or raw cpt entries drawn by hypothesis in [0, 1], exact 0 and 1 included
(deterministic mechanisms, impossible events).  Positivity of evidence is decided by the
brute-force reference joint, never by the engine under test.
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ladder.engine.graphs import random_dag
from ladder.engine.inference import (
    ate,
    counterfactual,
    ett,
    joint_distribution,
    marginal,
    nde,
    nie,
    probability,
    probability_of_necessity,
    probability_of_sufficiency,
)
from ladder.engine.scm import SCM, Variable, random_scm

try:
    from tests.references import joint_table, ref_probability
except ImportError:  # tests/ itself on sys.path
    from references import joint_table, ref_probability

TOL = 1e-9
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

PROBS = st.one_of(
    st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0, allow_nan=False, allow_subnormal=False)
)


@st.composite
def scms(draw, min_nodes: int = 3, max_nodes: int = 7) -> tuple[SCM, str, str]:
    """(scm, treatment, outcome) on a random DAG."""
    n = draw(st.integers(min_nodes, max_nodes))
    seed = draw(st.integers(0, 2**31 - 1))
    density = draw(st.sampled_from([0.3, 0.5, 0.8]))
    graph = random_dag(n, density=density, seed=seed)
    if draw(st.booleans()):
        scm = random_scm(graph, seed)
    else:
        variables = []
        for name in graph.nodes:
            parents = tuple(graph.parents(name))
            cpt = draw(st.lists(PROBS, min_size=2 ** len(parents), max_size=2 ** len(parents)))
            variables.append(Variable(name, parents, tuple(cpt)))
        scm = SCM(tuple(variables))
    return scm, graph.treatment, graph.outcome


def _possible(scm: SCM, given, do=None, table=None) -> bool:
    return ref_probability(scm, {}, given, do, table=table) is not None


def flip_coding(scm: SCM, x: str) -> SCM:
    """The same SCM with X's values relabelled (new X = 1 − old X).

    X's own cpt becomes 1 − cpt and every child reads the flipped bit.  Quantities in which
    X is intervened on in every world are unchanged up to the relabelling.
    """
    out = []
    for v in scm.variables:
        cpt = list(v.cpt)
        if v.name == x:
            cpt = [1.0 - p for p in cpt]
        elif x in v.parents:
            bit = len(v.parents) - 1 - v.parents.index(x)
            cpt = [v.cpt[i ^ (1 << bit)] for i in range(len(cpt))]
        out.append(Variable(v.name, v.parents, tuple(cpt), v.observed))
    return SCM(tuple(out))


# -- rung 3 ---------------------------------------------------------------------------------


@SETTINGS
@given(scms(), st.data())
def test_counterfactual_consistency(case, data):
    """P(V_x = v | X = x, V = v, E) = 1 for any V, x, v and extra evidence E."""
    scm, x, _ = case
    names = list(scm.names)
    v = data.draw(st.sampled_from([n for n in names if n != x]), label="V")
    extra = data.draw(
        st.dictionaries(st.sampled_from(names), st.integers(0, 1), max_size=2), label="E"
    )
    table = joint_table(scm)
    for xv, vv in itertools.product((0, 1), repeat=2):
        evidence = {**extra, x: xv, v: vv}
        if not _possible(scm, evidence, table=table):
            continue
        assert counterfactual(scm, v, {x: xv}, evidence, vv) == pytest.approx(1.0, abs=TOL)


@SETTINGS
@given(scms())
def test_total_effect_decomposition(case):
    """TE = NDE(0→1) − NIE(1→0), and TE = NIE(0→1) − NDE(1→0), for every mediator.

    With the contract's NDE = P(Y_{1,M_0}) − P(Y_0) and NIE = P(Y_{0,M_1}) − P(Y_0), the
    reverse-transition effects are NIE_r = P(Y_{1,M_0}) − P(Y_1) and NDE_r = P(Y_{0,M_1}) −
    P(Y_1).  They are computed by the engine on the SCM with X's coding flipped.
    """
    scm, x, y = case
    flipped = flip_coding(scm, x)
    te = ate(scm, x, y)
    assert ate(flipped, x, y) == pytest.approx(-te, abs=TOL)
    for m in scm.names:
        if m in (x, y):
            continue
        nde_, nie_ = nde(scm, x, y, m), nie(scm, x, y, m)
        nie_r, nde_r = nie(flipped, x, y, m), nde(flipped, x, y, m)
        assert te == pytest.approx(nde_ - nie_r, abs=TOL), m
        assert te == pytest.approx(nie_ - nde_r, abs=TOL), m
        for value in (nde_, nie_, nie_r, nde_r):
            assert -1.0 - TOL <= value <= 1.0 + TOL
        dag = scm.graph
        if m not in nx.descendants(dag, x) or y not in nx.descendants(dag, m):
            assert nie_ == pytest.approx(0.0, abs=TOL), m  # M_1 = M_0, or M does not act
        cut = dag.copy()
        cut.remove_node(m)
        if not nx.has_path(cut, x, y):
            assert nde_ == pytest.approx(0.0, abs=TOL), m  # M intercepts every X → Y path


@SETTINGS
@given(scms(), st.data())
def test_ett_equals_ate_for_a_root(case, data):
    scm, _, _ = case
    dag = scm.graph
    roots = [n for n in scm.names if dag.in_degree(n) == 0]
    x = data.draw(st.sampled_from(roots), label="root X")
    y = data.draw(st.sampled_from([n for n in scm.names if n != x]), label="Y")
    table = joint_table(scm)
    for xv in (0, 1):
        if _possible(scm, {x: xv}, table=table):
            assert ett(scm, x, y, {x: xv}) == pytest.approx(ate(scm, x, y), abs=TOL)


@SETTINGS
@given(scms(), st.data())
def test_counterfactual_reduces_to_rung2(case, data):
    """With no evidence, or evidence only on non-descendants of the intervened variables,
    P(Y_x | e) = P(Y | do(x), e)."""
    scm, _, _ = case
    names = list(scm.names)
    do = data.draw(
        st.dictionaries(st.sampled_from(names), st.integers(0, 1), min_size=1, max_size=2),
        label="do",
    )
    target = data.draw(st.sampled_from(names), label="target")
    assert counterfactual(scm, target, do) == pytest.approx(
        ref_probability(scm, {target: 1}, do=do), abs=TOL
    )
    dag = scm.graph
    downstream = set(do).union(*(nx.descendants(dag, d) for d in do))
    upstream = [n for n in names if n not in downstream]
    if upstream:
        evidence = data.draw(
            st.dictionaries(st.sampled_from(upstream), st.integers(0, 1), min_size=1, max_size=2),
            label="evidence",
        )
        want = ref_probability(scm, {target: 1}, evidence, do)
        if want is not None:
            assert counterfactual(scm, target, do, evidence) == pytest.approx(want, abs=TOL)


# -- rung 2 -----------------------------------------------------------------------------------


@SETTINGS
@given(scms(), st.data())
def test_do_on_a_root_is_conditioning(case, data):
    scm, _, _ = case
    dag = scm.graph
    root = data.draw(st.sampled_from([n for n in scm.names if dag.in_degree(n) == 0]))
    value = data.draw(st.integers(0, 1))
    if not _possible(scm, {root: value}):
        return
    for name in scm.names:
        assert marginal(scm, name, do={root: value}) == pytest.approx(
            marginal(scm, name, {root: value}), abs=TOL
        )
    names = list(scm.names)
    cond = joint_distribution(scm, names)
    index = tuple(value if n == root else slice(None) for n in names)
    conditioned = np.zeros_like(cond)
    conditioned[index] = cond[index] / cond[index].sum()
    np.testing.assert_allclose(
        joint_distribution(scm, names, do={root: value}), conditioned, atol=TOL, rtol=0
    )


@SETTINGS
@given(scms(), st.data())
def test_no_effect_without_a_directed_path(case, data):
    scm, _, _ = case
    dag = scm.graph
    pairs = [
        (a, b) for a in scm.names for b in scm.names if a != b and a not in nx.ancestors(dag, b)
    ]
    x, y = data.draw(st.sampled_from(pairs), label="(X, Y)")
    assert ate(scm, x, y) == pytest.approx(0.0, abs=1e-12)
    names = list(scm.names)
    evidence = data.draw(
        st.dictionaries(st.sampled_from(names), st.integers(0, 1), max_size=2), label="evidence"
    )
    for xv in (0, 1):
        want = ref_probability(scm, {y: 1}, evidence)
        if want is not None:
            # Y_x = Y for every unit when X does not cause Y.
            assert counterfactual(scm, y, {x: xv}, evidence) == pytest.approx(want, abs=TOL)


# -- everything is a probability ---------------------------------------------------------------


@SETTINGS
@given(scms(), st.data())
def test_results_are_probabilities(case, data):
    scm, x, y = case
    names = list(scm.names)
    assignment = st.dictionaries(st.sampled_from(names), st.integers(0, 1), max_size=3)
    table = joint_table(scm)
    for _ in range(4):
        event = data.draw(assignment, label="event")
        evidence = data.draw(assignment, label="given")
        do = data.draw(
            st.dictionaries(st.sampled_from(names), st.integers(0, 1), max_size=2), label="do"
        )
        do_table = joint_table(scm, do)
        if _possible(scm, evidence, do, table=do_table):
            p = probability(scm, event, evidence, do)
            assert 0.0 <= p <= 1.0
            want = ref_probability(scm, event, evidence, do, table=do_table)
            assert p == pytest.approx(want, abs=TOL)
        if do and _possible(scm, evidence, table=table):
            target = data.draw(st.sampled_from(names), label="target")
            assert 0.0 <= counterfactual(scm, target, do, evidence) <= 1.0
    for fn, ev in (
        (probability_of_necessity, {x: 1, y: 1}),
        (probability_of_sufficiency, {x: 0, y: 0}),
    ):
        if _possible(scm, ev, table=table):
            assert 0.0 <= fn(scm, x, y) <= 1.0
    for value in (ate(scm, x, y), nde(scm, x, y, names[0]) if names[0] != x else 0.0):
        assert -1.0 <= value <= 1.0


@SETTINGS
@given(scms(), st.data())
def test_joint_distribution_is_consistent(case, data):
    scm, _, _ = case
    names = list(scm.names)
    joint = joint_distribution(scm, names)
    assert joint.shape == (2,) * len(names)
    assert joint.min() >= 0.0
    assert joint.sum() == pytest.approx(1.0, abs=TOL)
    np.testing.assert_allclose(joint, joint_table(scm), atol=TOL, rtol=0)
    event = data.draw(
        st.dictionaries(st.sampled_from(names), st.integers(0, 1), min_size=1, max_size=3),
        label="event",
    )
    index = tuple(event.get(n, slice(None)) for n in names)
    assert probability(scm, event) == pytest.approx(float(joint[index].sum()), abs=TOL)
    evidence = data.draw(
        st.dictionaries(st.sampled_from(names), st.integers(0, 1), min_size=1, max_size=2),
        label="given",
    )
    den = float(joint[tuple(evidence.get(n, slice(None)) for n in names)].sum())
    if den > 1e-9 and all(event.get(k, v) == v for k, v in evidence.items()):
        num = float(joint[tuple({**evidence, **event}.get(n, slice(None)) for n in names)].sum())
        assert probability(scm, event, evidence) == pytest.approx(num / den, abs=1e-7)
