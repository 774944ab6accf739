"""``nde`` (rung 3): the natural direct effect of X on Y, not through the mediator M."""

from __future__ import annotations

import networkx as nx

from ladder.engine import inference
from ladder.engine.graphs import CausalGraph
from ladder.engine.query_types._base import Query, QueryType, Wording
from ladder.engine.query_types._common import (
    mediated,
    mediation_builder,
    mediation_roles,
    mediator_of,
    within_mediator_contrast,
)
from ladder.engine.scm import SCM


def applies(g: CausalGraph) -> str | None:
    """Fully observed, with a mediator, and a path from X to Y that avoids it."""
    reason = mediated(g)
    if reason:
        return reason
    m = mediator_of(g)
    cut = g.dag.copy()
    cut.remove_node(m)
    if not nx.has_path(cut, g.treatment, g.outcome):
        return f"every path from {g.treatment} to {g.outcome} passes {m} (NDE is structurally 0)"
    return None


def truth(scm: SCM, q: Query) -> float:
    """P(Y_{X=1, M=M_{X=0}}=1) − P(Y_{X=0}=1)."""
    return inference.nde(scm, *mediation_roles(q))


QUERY_TYPE = QueryType(
    name="nde",
    rung=3,
    rule="difference",
    needs=("treatment", "outcome", "mediator"),
    applies=applies,
    build=mediation_builder("nde"),
    truth=truth,
    # Rung 1 reads "the effect not through M" as the contrast among units with equal M.
    association=within_mediator_contrast,
    wording=Wording(
        story=(
            "Compare a world where {x1}, but {m} stays as it would naturally be if {x0}, "
            "with a world where {x0}. Is it {more} likely that {y1} in the first world "
            "than in the second?"
        ),
        symbolic="Is P({y}_{{{x}=1, {m}={m}_{{{x}=0}}}}=1) {cmp} P({y}_{{{x}=0}}=1)?",
    ),
)
