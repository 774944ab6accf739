"""``nde`` (rung 3): the natural direct effect of X on Y, not through the mediator M."""

from __future__ import annotations

import random

import networkx as nx

from ladder.engine import inference
from ladder.engine.graphs import CausalGraph
from ladder.engine.query_types._base import Query, QueryType, Wording
from ladder.engine.query_types._common import (
    contrast,
    fully_observed,
    mediator_of,
    needs_mediator,
)
from ladder.engine.scm import SCM


def applies(g: CausalGraph) -> str | None:
    """Fully observed, with a mediator, and a path from X to Y that avoids it."""
    reason = fully_observed(g) or needs_mediator(g)
    if reason:
        return reason
    m = mediator_of(g)
    cut = g.dag.copy()
    cut.remove_node(m)
    if not nx.has_path(cut, g.treatment, g.outcome):
        return f"every path from {g.treatment} to {g.outcome} passes {m} (NDE is structurally 0)"
    return None


def build(g: CausalGraph, scm: SCM, rng: random.Random, want: str) -> Query:
    """The treatment, outcome and mediator of the graph."""
    return Query("nde", treatment=g.treatment, outcome=g.outcome, mediator=mediator_of(g))


def truth(scm: SCM, q: Query) -> float:
    """P(Y_{X=1, M=M_{X=0}}=1) − P(Y_{X=0}=1)."""
    assert q.treatment and q.outcome and q.mediator
    return inference.nde(scm, q.treatment, q.outcome, q.mediator)


def association(scm: SCM, q: Query) -> float:
    """Rung-1 reading of "the effect not through M": the contrast among units with equal M,
    averaged over the observed distribution of M."""
    assert q.treatment and q.outcome and q.mediator
    p_m1 = inference.marginal(scm, q.mediator)
    return sum(
        p_m * contrast(scm, q, {q.mediator: m})
        for m, p_m in ((0, 1.0 - p_m1), (1, p_m1))
        if p_m > 0
    )


QUERY_TYPE = QueryType(
    name="nde",
    rung=3,
    rule="difference",
    needs=("treatment", "outcome", "mediator"),
    applies=applies,
    build=build,
    truth=truth,
    association=association,
    wording=Wording(
        story=(
            "Compare a world where {x1}, but {m} stays as it would naturally be if {x0}, "
            "with a world where {x0}. Is it {more} likely that {y1} in the first world "
            "than in the second?"
        ),
        symbolic="Is P({y}_{{{x}=1, {m}={m}_{{{x}=0}}}}=1) {cmp} P({y}_{{{x}=0}}=1)?",
    ),
)
