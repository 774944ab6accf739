"""Checks and quantities that several query types share (graph conditions, contrasts)."""

from __future__ import annotations

import random
from collections.abc import Mapping

import networkx as nx

from ladder.engine import inference
from ladder.engine.graphs import CausalGraph
from ladder.engine.query_types._base import BuildFn, Query
from ladder.engine.scm import SCM

__all__ = [
    "NO_COLLIDER_ON_RANDOM",
    "always",
    "associated",
    "contrast",
    "effect_path",
    "fully_observed",
    "has_collider",
    "mediated",
    "mediation_builder",
    "mediation_roles",
    "mediator_of",
    "needs_mediator",
    "within_mediator_contrast",
]

#: The ``on_random`` of the types that need :func:`has_collider`: random DAGs name no roles.
NO_COLLIDER_ON_RANDOM = "random DAGs have no designated collider"


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


def mediated(g: CausalGraph) -> str | None:
    """Natural effects need every variable observed and a mediator.

    >>> from ladder.engine.graphs import chain, fork
    >>> mediated(chain()) is None, mediated(fork())
    (True, 'it has no mediator')
    """
    return fully_observed(g) or needs_mediator(g)


def mediation_builder(name: str) -> BuildFn:
    """The ``build`` of a mediation type: a ``name`` query on the graph's X, Y and mediator.

    >>> from ladder.engine.graphs import chain
    >>> build = mediation_builder("nie")
    >>> q = build(chain(), None, None, "yes")  # the SCM and the rng are not used
    >>> q.type, q.treatment, q.outcome, q.mediator
    ('nie', 'X', 'Y', 'M')
    """

    def build(g: CausalGraph, scm: SCM, rng: random.Random, want: str) -> Query:
        """The treatment, outcome and mediator of the graph."""
        return Query(name, treatment=g.treatment, outcome=g.outcome, mediator=mediator_of(g))

    return build


def mediation_roles(q: Query) -> tuple[str, str, str]:
    """The treatment, outcome and mediator of a mediation query (all three are required)."""
    assert q.treatment and q.outcome and q.mediator
    return q.treatment, q.outcome, q.mediator


def within_mediator_contrast(scm: SCM, q: Query) -> float:
    """Rung-1 reading of "the effect not through M": the contrast among units with equal M,
    averaged over the observed distribution of M (``Σ_m P(m) · contrast | M=m``)."""
    _, _, mediator = mediation_roles(q)
    p_m1 = inference.marginal(scm, mediator)
    return sum(
        p_m * contrast(scm, q, {mediator: m}) for m, p_m in ((0, 1.0 - p_m1), (1, p_m1)) if p_m > 0
    )
