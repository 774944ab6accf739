"""The ``identifiable`` query type: registry entry, truth on the families, builder, the fact
the prompt states, and items generated from a tiny spec."""

from __future__ import annotations

import random
import re

import networkx as nx
import pytest

from ladder.engine.graphs import CausalGraph, bow, chain, frontdoor, instrumental
from ladder.engine.identification import is_identifiable
from ladder.engine.queries import QUERY_TYPES, Query, answer, association_truth, truth
from ladder.engine.query_types import unsupported_reason
from ladder.engine.scm import SCM, random_scm
from ladder.generation.generate import generate_items
from ladder.generation.naming import symbolic_names
from ladder.generation.specs import load_spec
from ladder.generation.verbalize import question

KIND = QUERY_TYPES["identifiable"]


def test_registry_entry():
    assert (KIND.rung, KIND.rule, KIND.needs) == (2, "indicator", ("treatment", "outcome"))
    assert unsupported_reason("bow", "identifiable") is None
    assert unsupported_reason("iv", "identifiable") is None
    assert unsupported_reason("frontdoor", "identifiable") is None
    assert "no hidden variable" in unsupported_reason("chain", "identifiable")
    assert "no hidden variables" in unsupported_reason("random", "identifiable")


@pytest.mark.parametrize(("make", "expected"), [(bow, 0.0), (instrumental, 0.0), (frontdoor, 1.0)])
def test_truth_and_association_on_the_families(make, expected):
    g = make()
    scm = random_scm(g, random.Random(4))
    q = Query("identifiable", treatment="X", outcome="Y")
    assert truth(scm, q) == expected
    assert answer(q, truth(scm, q)) == ("yes" if expected else "no")
    assert association_truth(scm, q) == 1.0  # rung 1 always computes something


def test_builder_honours_want_where_the_graph_allows():
    rng = random.Random(0)
    iv = instrumental()
    for want, identifiable in (("yes", True), ("no", False)):
        for _ in range(10):
            q = KIND.build(iv, None, rng, want)
            assert is_identifiable(iv.dag, iv.hidden, q.treatment, q.outcome) is identifiable
            assert nx.has_path(iv.dag, q.treatment, q.outcome)
    # bow has one causal pair, never identifiable: a named family still asks it.
    assert KIND.build(bow(), None, rng, "yes") == Query("identifiable", treatment="X", outcome="Y")
    # A random-like graph without a pair of the wanted answer asks for another graph.
    dag = nx.DiGraph([("V1", "V2"), ("U", "V1"), ("U", "V2")])
    g = CausalGraph("random3", dag, "V1", "V2", hidden=frozenset({"U"}))
    assert KIND.build(g, None, rng, "yes") is None


def test_question_wording():
    q = Query("identifiable", treatment="X", outcome="Y")
    assert question(q, symbolic_names(["X", "Y"]), symbolic=True) == (
        "Is P(Y | do(X)) identifiable from the joint distribution of the observed variables?"
    )


def test_fact_lists_every_confounded_pair():
    """Two hidden causes (one reaching X through another hidden node): two pairs stated."""
    dag = nx.DiGraph([("X", "M"), ("M", "Y"), ("U1", "U2"), ("U2", "X"), ("U1", "Y"), ("U3", "M")])
    dag.add_edge("U3", "Y")
    g = CausalGraph("custom", dag, "X", "Y", hidden=frozenset({"U1", "U2", "U3"}))
    fact = KIND.fact(None, g, Query("identifiable", treatment="X", outcome="Y"), None)
    text = fact.symbolic.format(**fact.roles)
    assert text == (
        "Only X, M and Y are observed; M and Y share an unobserved common cause, as do X and Y."
    )
    assert "U" not in text


SPEC = """\
name: idtiny
n: 36
verbalizations: [nonsense, symbolic]
evidence: [probabilities, samples]
cells:
  bow: [identifiable]
  frontdoor: [identifiable]
  iv: [identifiable]
"""


def test_tiny_spec_items(tmp_path):
    path = tmp_path / "idtiny.yaml"
    path.write_text(SPEC)
    items = list(generate_items(load_spec(path), seed=2))
    assert len(items) == 36
    by_family: dict[str, set[str]] = {}
    for item in items:
        scm = SCM.from_dict(item["scm"])
        x, y = item["query"]["treatment"], item["query"]["outcome"]
        # The truth is the ID algorithm's, on the item's own SCM (hidden nodes: observed false).
        expected = 1.0 if is_identifiable(scm.graph, scm.hidden_names, x, y) else 0.0
        assert item["truth"] == expected
        assert item["answer"] == ("yes" if expected else "no")
        assert item["association_answer"] == "yes"
        assert item["discordant"] is (expected == 0.0)
        # The prompt states the unobserved common cause, never naming the hidden node.
        assert "share an unobserved common cause" in item["prompt"]
        assert not re.search(r"\bU\d*\b", item["prompt"])
        by_family.setdefault(item["graph_family"], set()).add(item["answer"])
        if (x, y) == ("X", "Y"):
            assert expected == (1.0 if item["graph_family"] == "frontdoor" else 0.0)
    # bow is never identifiable, front-door always; IV has identifiable pairs (Z's effects).
    assert by_family == {"bow": {"no"}, "frontdoor": {"yes"}, "iv": {"yes", "no"}}
    assert {i["answer"] for i in items} == {"yes", "no"}


def test_not_asked_on_fully_observed_graphs():
    assert KIND.applies(chain()) is not None
