"""``nie`` (rung 3): the natural indirect effect of X on Y, through the mediator M."""

from __future__ import annotations

from ladder.engine import inference
from ladder.engine.query_types._base import Query, QueryType, Wording
from ladder.engine.query_types._common import (
    contrast,
    mediated,
    mediation_builder,
    mediation_roles,
    within_mediator_contrast,
)
from ladder.engine.scm import SCM


def truth(scm: SCM, q: Query) -> float:
    """P(Y_{X=0, M=M_{X=1}}=1) − P(Y_{X=0}=1)."""
    return inference.nie(scm, *mediation_roles(q))


def association(scm: SCM, q: Query) -> float:
    """The plain contrast less the rung-1 "direct" part (the ``nde`` association)."""
    return contrast(scm, q, {}) - within_mediator_contrast(scm, q)


QUERY_TYPE = QueryType(
    name="nie",
    rung=3,
    rule="difference",
    needs=("treatment", "outcome", "mediator"),
    applies=mediated,
    build=mediation_builder("nie"),
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
