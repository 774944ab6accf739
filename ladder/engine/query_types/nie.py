"""``nie`` (rung 3): the natural indirect effect of X on Y, through the mediator M."""

from __future__ import annotations

import random

from ladder.engine import inference
from ladder.engine.graphs import CausalGraph
from ladder.engine.query_types import nde
from ladder.engine.query_types._base import Query, QueryType, Wording
from ladder.engine.query_types._common import (
    contrast,
    fully_observed,
    mediator_of,
    needs_mediator,
)
from ladder.engine.scm import SCM


def applies(g: CausalGraph) -> str | None:
    """Fully observed, with a mediator."""
    return fully_observed(g) or needs_mediator(g)


def build(g: CausalGraph, scm: SCM, rng: random.Random, want: str) -> Query:
    """The treatment, outcome and mediator of the graph."""
    return Query("nie", treatment=g.treatment, outcome=g.outcome, mediator=mediator_of(g))


def truth(scm: SCM, q: Query) -> float:
    """P(Y_{X=0, M=M_{X=1}}=1) − P(Y_{X=0}=1)."""
    assert q.treatment and q.outcome and q.mediator
    return inference.nie(scm, q.treatment, q.outcome, q.mediator)


def association(scm: SCM, q: Query) -> float:
    """The plain contrast less the rung-1 "direct" part (see ``nde``)."""
    return contrast(scm, q, {}) - nde.association(scm, q)


QUERY_TYPE = QueryType(
    name="nie",
    rung=3,
    rule="difference",
    needs=("treatment", "outcome", "mediator"),
    applies=applies,
    build=build,
    truth=truth,
    association=association,
    wording=Wording(
        story=(
            "Compare a world where {x0}, but {m} changes to what it would naturally be if "
            "{x1}, with a world where {x0}. Is it {more} likely that {y1} in the first world "
            "than in the second?"
        ),
        symbolic="Is P({y}_{{{x}=0, {m}={m}_{{{x}=1}}}}=1) {cmp} P({y}_{{{x}=0}}=1)?",
    ),
)
