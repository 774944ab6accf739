"""Every rung-1/2 ``truth`` of generated items, recomputed independently through pgmpy.

The item's ``scm`` (item contract, version 1) is rebuilt as a
``pgmpy.models.DiscreteBayesianNetwork`` — hidden variables included — and queried with
``VariableElimination``:

* ``marginal``                       P(Y=1 | given)
* ``correlation``, ``explaining_away`` P(Y=1 | X=1, given) − P(Y=1 | X=0, given)
* ``ate``, ``collider_bias``         P(Y=1 | do(X=1)) − P(Y=1 | do(X=0)), by graph surgery:
  ``model.do([X])`` and then X's CPD replaced by a point mass (pgmpy 1.1.2's ``do`` leaves
  the column average there, see :func:`test_pgmpy_do_leaves_column_average`).
  ``CausalInference.query(do=...)`` is deliberately not used (pgmpy issue 3543).
* ``backdoor_set``                   pgmpy's ``CausalInference.is_valid_backdoor_adjustment_set``
  (which checks only the blocking half of the criterion) plus a descendant check, and, as a
  second reference, ``networkx.is_d_separator`` on the graph without X's out-edges.

Nothing here imports ``ladder.engine.inference`` or ``ladder.engine.queries``.
"""

from __future__ import annotations

import json
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx
import pytest
from references import y0_identifiable

from ladder.generation.generate import generate_items
from ladder.generation.specs import load_suite

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.inference import CausalInference, VariableElimination
    from pgmpy.models import DiscreteBayesianNetwork

TOL = 1e-9
N_CORE = 1200  # 60 cells x 20 items: every cell of core.yaml, random DAGs of 3-12 nodes


# -- pgmpy model from an item's scm --------------------------------------------------------


def _cpd(name: str, cpt: Sequence[float], parents: Sequence[str]) -> TabularCPD:
    """values[state][column]; column i = evidence bits of i, FIRST parent slowest-varying."""
    values = [[1.0 - float(p) for p in cpt], [float(p) for p in cpt]]
    if parents:
        return TabularCPD(name, 2, values, evidence=list(parents), evidence_card=[2] * len(parents))
    return TabularCPD(name, 2, values)


def to_pgmpy(scm: Mapping[str, Any]) -> DiscreteBayesianNetwork:
    model = DiscreteBayesianNetwork()
    model.add_nodes_from(v["name"] for v in scm["variables"])
    model.add_edges_from((p, v["name"]) for v in scm["variables"] for p in v["parents"])
    model.add_cpds(*(_cpd(v["name"], v["cpt"], v["parents"]) for v in scm["variables"]))
    assert model.check_model()
    return model


def surgery(model: DiscreteBayesianNetwork, node: str, value: int) -> DiscreteBayesianNetwork:
    """do(node = value): pgmpy's edge removal, then a point-mass CPD at ``value``."""
    cut = model.do([node])
    cut.remove_cpds(cut.get_cpds(node))
    cut.add_cpds(_cpd(node, [float(value)], ()))
    assert cut.check_model()
    return cut


def p_one(model: DiscreteBayesianNetwork, target: str, evidence: Mapping[str, int]) -> float:
    """P(target = 1 | evidence) by variable elimination."""
    evidence = dict(evidence)
    if target in evidence:
        return float(evidence[target] == 1)
    factor = VariableElimination(model).query(
        [target], evidence=evidence or None, show_progress=False
    )
    return float(factor.get_value(**{target: 1}))


def backdoor_pgmpy(model: DiscreteBayesianNetwork, x: str, y: str, adjust: Sequence[str]) -> bool:
    """Pearl's back-door criterion: pgmpy's blocking check + no descendant of X adjusted.

    pgmpy 1.1.2's ``is_valid_backdoor_adjustment_set`` only checks that every parent of X
    is d-separated from Y given {X} ∪ Z; it accepts descendants of X (e.g. the mediator of a
    chain), so the descendant condition is added here.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        blocks = CausalInference(model).is_valid_backdoor_adjustment_set(x, y, list(adjust))
    return bool(blocks) and not (set(adjust) & nx.descendants(nx.DiGraph(model.edges()), x))


def backdoor_networkx(
    edges: Sequence[tuple[str, str]], nodes: Sequence[str], x: str, y: str, adjust: Sequence[str]
) -> bool:
    """No descendant of X in Z, and Z d-separates X and Y once X's out-edges are cut."""
    dag = nx.DiGraph()
    dag.add_nodes_from(nodes)
    dag.add_edges_from(edges)
    if set(adjust) & nx.descendants(dag, x):
        return False
    cut = dag.copy()
    cut.remove_edges_from(list(dag.out_edges(x)))
    return nx.is_d_separator(cut, {x}, {y}, set(adjust))


def pgmpy_truth(item: Mapping[str, Any]) -> float:
    """The item's truth, recomputed from its scm and query through pgmpy."""
    q = item["query"]
    model = to_pgmpy(item["scm"])
    y, x, given = q["outcome"], q.get("treatment"), dict(q.get("given", {}))
    kind = q["type"]
    if kind == "marginal":
        return p_one(model, y, given)
    if kind in ("correlation", "explaining_away"):
        return p_one(model, y, {**given, x: 1}) - p_one(model, y, {**given, x: 0})
    if kind in ("ate", "collider_bias"):
        return p_one(surgery(model, x, 1), y, given) - p_one(surgery(model, x, 0), y, given)
    if kind == "backdoor_set":
        adjust = q["adjust"]
        by_pgmpy = backdoor_pgmpy(model, x, y, adjust)
        names = [v["name"] for v in item["scm"]["variables"]]
        edges = [(p, v["name"]) for v in item["scm"]["variables"] for p in v["parents"]]
        assert by_pgmpy == backdoor_networkx(edges, names, x, y, adjust), (
            f"pgmpy and networkx disagree on back-door set {adjust} for {x}->{y}: {edges}"
        )
        return 1.0 if by_pgmpy else 0.0
    if kind == "identifiable":  # pgmpy has no identification algorithm: y0's is the reference
        edges = [(p, v["name"]) for v in item["scm"]["variables"] for p in v["parents"]]
        hidden = {v["name"] for v in item["scm"]["variables"] if v.get("observed") is False}
        return 1.0 if y0_identifiable(nx.DiGraph(edges), hidden, x, y) else 0.0
    raise AssertionError(f"not a rung-1/2 query type: {kind}")


# -- the conventions, hand-checked ------------------------------------------------------------

CONTRACT_SCM = {
    "noise": "comonotone",
    "variables": [
        {"name": "Z", "parents": [], "cpt": [0.4], "observed": True},
        {"name": "X", "parents": ["Z"], "cpt": [0.3, 0.8]},
        {"name": "Y", "parents": ["X", "Z"], "cpt": [0.1, 0.5, 0.6, 0.9]},
    ],
}


def test_tabular_cpd_layout_hand_checked():
    """cpt index 2*X + Z (first parent most significant) = pgmpy column, X slowest-varying."""
    model = to_pgmpy(CONTRACT_SCM)
    for xv in (0, 1):
        for zv in (0, 1):
            # Conditioning on all parents reads the cpt entry back.
            want = CONTRACT_SCM["variables"][2]["cpt"][2 * xv + zv]
            assert p_one(model, "Y", {"X": xv, "Z": zv}) == pytest.approx(want, abs=1e-12)
    # By hand: P(Z=1 | X=1) = .4*.8 / (.4*.8 + .6*.3) = .64; P(Y=1 | X=1) = .36*.6 + .64*.9.
    assert p_one(model, "Z", {"X": 1}) == pytest.approx(0.64, abs=1e-12)
    assert p_one(model, "Y", {"X": 1}) == pytest.approx(0.792, abs=1e-12)
    # P(Y=1 | do(X=1)) = .6*.6 + .4*.9 = .72; do(X=0): .6*.1 + .4*.5 = .26 (ATE .46, as in
    # the contract's example).
    assert p_one(surgery(model, "X", 1), "Y", {}) == pytest.approx(0.72, abs=1e-12)
    assert p_one(surgery(model, "X", 0), "Y", {}) == pytest.approx(0.26, abs=1e-12)


def test_pgmpy_do_leaves_column_average():
    """pgmpy 1.1.2: ``do`` cuts X's in-edges but leaves the (unweighted, normalised) average
    of X's cpt columns, not a point mass — hence :func:`surgery` replaces it."""
    model = to_pgmpy(CONTRACT_SCM)
    cut = model.do(["X"])
    assert set(cut.get_parents("X")) == set()
    left = cut.get_cpds("X").get_values().ravel()
    assert left[1] == pytest.approx((0.3 + 0.8) / 2, abs=1e-12)
    assert set(model.get_parents("X")) == {"Z"}  # the original is untouched
    assert surgery(model, "X", 1).get_cpds("X").get_values().ravel().tolist() == [0.0, 1.0]


def test_backdoor_references_hand_checked():
    chain_edges = [("X", "M"), ("M", "Y")]
    chain = DiscreteBayesianNetwork(chain_edges)
    # pgmpy's own check accepts the mediator (a descendant of X); the criterion does not.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        assert CausalInference(chain).is_valid_backdoor_adjustment_set("X", "Y", ["M"])
    assert not backdoor_pgmpy(chain, "X", "Y", ["M"])
    assert not backdoor_networkx(chain_edges, ["X", "M", "Y"], "X", "Y", ["M"])
    conf_edges = [("Z", "X"), ("Z", "Y"), ("X", "Y")]
    conf = DiscreteBayesianNetwork(conf_edges)
    for adjust, valid in (([], False), (["Z"], True)):
        assert backdoor_pgmpy(conf, "X", "Y", adjust) is valid
        assert backdoor_networkx(conf_edges, ["Z", "X", "Y"], "X", "Y", adjust) is valid
    # Hidden confounder (front-door graph): no observed set is valid for X -> Y.
    fd_edges = [("U", "X"), ("U", "Y"), ("X", "M"), ("M", "Y")]
    fd = DiscreteBayesianNetwork(fd_edges)
    assert not backdoor_pgmpy(fd, "X", "Y", [])
    assert not backdoor_networkx(fd_edges, ["U", "X", "M", "Y"], "X", "Y", [])
    # ... but for M -> Y, {X} blocks M <- X <- U -> Y.
    assert backdoor_pgmpy(fd, "M", "Y", ["X"])
    assert backdoor_networkx(fd_edges, ["U", "X", "M", "Y"], "M", "Y", ["X"])


# -- generated items ------------------------------------------------------------------------------


def _rung12(items):
    return [it for it in items if it["rung"] in (1, 2)]


@pytest.fixture(scope="module")
def core_items():
    items = _rung12(generate_items(load_suite("core"), seed=11, n=N_CORE))
    # Every family and random DAGs are covered, and every rung-1/2 query type of core.
    assert {it["graph_family"] for it in items} == {*load_suite("core").cells, "random"}
    assert {it["query_type"] for it in items} == {
        "marginal",
        "correlation",
        "explaining_away",
        "ate",
        "collider_bias",
        "backdoor_set",
        "identifiable",
    }
    return items


@pytest.fixture(scope="module")
def quick_items():
    return _rung12(generate_items(load_suite("quick"), seed=0))


def _check(items):
    bad = []
    for it in items:
        want = pgmpy_truth(it)
        if abs(want - it["truth"]) > TOL:
            bad.append(
                f"item {it['index']} ({it['graph_family']}, {json.dumps(it['query'])}): "
                f"truth {it['truth']!r}, pgmpy {want!r}"
            )
    assert not bad, f"{len(bad)} of {len(items)} truths disagree with pgmpy:\n" + "\n".join(
        bad[:10]
    )
    return Counter(it["query_type"] for it in items)


def test_core_truths_agree_with_pgmpy(core_items):
    counts = _check(core_items)
    assert sum(counts.values()) == len(core_items) > 250


def test_core_random_dag_truths_agree_with_pgmpy(core_items):
    random_items = [it for it in core_items if it["graph_family"] == "random"]
    assert len(random_items) >= 30
    assert max(it["n_nodes"] for it in random_items) >= 8  # larger DAGs are exercised too
    _check(random_items)


def test_quick_truths_agree_with_pgmpy(quick_items):
    counts = _check(quick_items)
    assert {"explaining_away", "collider_bias", "backdoor_set", "ate"} <= set(counts)


def test_backdoor_items_cover_both_validities(core_items):
    """The back-door references above are exercised on valid and invalid sets alike."""
    truths = Counter(it["truth"] for it in core_items if it["query_type"] == "backdoor_set")
    assert truths[1.0] >= 10 and truths[0.0] >= 10
