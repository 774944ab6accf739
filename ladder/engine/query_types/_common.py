"""Checks and quantities that several query types share (graph conditions, contrasts)."""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx

from ladder.engine import inference
from ladder.engine.graphs import CausalGraph
from ladder.engine.query_types._base import Query
from ladder.engine.scm import SCM

__all__ = [
    "always",
    "associated",
    "contrast",
    "effect_path",
    "fully_observed",
    "has_collider",
    "mediator_of",
    "needs_mediator",
]


def always(g: CausalGraph) -> str | None:
    """Defined on every graph."""
    return None


def effect_path(g: CausalGraph) -> str | None:
    """Why the effect of the treatment on the outcome is structurally 0 (None: it is not)."""
    if not nx.has_path(g.dag, g.treatment, g.outcome):
        return f"{g.treatment} is not a cause of {g.outcome} (the effect is structurally 0)"
    return None


def fully_observed(g: CausalGraph) -> str | None:
    """Counterfactuals need every variable observed."""
    return "it has a hidden variable, so counterfactuals are not identified" if g.hidden else None


def has_collider(g: CausalGraph) -> str | None:
    """The graph must designate a collider."""
    return None if "collider" in g.roles else "it has no collider"


def associated(g: CausalGraph) -> str | None:
    """Treatment and outcome must not be d-separated (else the contrast is 0)."""
    if nx.is_d_separator(g.dag, {g.treatment}, {g.outcome}, set()):
        return f"{g.treatment} and {g.outcome} are independent (the contrast is structurally 0)"
    return None


def mediator_of(g: CausalGraph) -> str | None:
    """The graph's mediator; on a random DAG, the first child of X that causes Y."""
    if g.mediator:
        return g.mediator
    if g.family.startswith("random"):
        kids = [
            c
            for c in g.nodes
            if g.dag.has_edge(g.treatment, c)
            and c != g.outcome
            and nx.has_path(g.dag, c, g.outcome)
        ]
        return kids[0] if kids else None
    return None


def needs_mediator(g: CausalGraph) -> str | None:
    """The graph must have a mediator (see :func:`mediator_of`)."""
    return None if mediator_of(g) else "it has no mediator"


def contrast(scm: SCM, q: Query, given: Mapping[str, int] | None = None) -> float:
    """``P(Y=1 | X=1, given) − P(Y=1 | X=0, given)`` (default ``given``: the query's)."""
    assert q.treatment is not None and q.outcome is not None
    return inference.contrast(scm, q.treatment, q.outcome, q.given if given is None else given)
