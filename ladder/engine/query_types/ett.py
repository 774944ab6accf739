"""``ett`` (rung 3): the effect of treatment on the treated (or untreated) units."""

from __future__ import annotations

import random

from ladder.core.errors import SCMError
from ladder.engine import inference
from ladder.engine.graphs import CausalGraph
from ladder.engine.query_types._base import Query, QueryType, Wording
from ladder.engine.query_types._common import contrast, effect_path, fully_observed
from ladder.engine.scm import SCM


def applies(g: CausalGraph) -> str | None:
    """Fully observed graphs where X causes Y."""
    return fully_observed(g) or effect_path(g)


def build(g: CausalGraph, scm: SCM, rng: random.Random, want: str) -> Query:
    """Among units with X = 0 or 1 (drawn)."""
    given = {g.treatment: rng.randint(0, 1)}
    return Query("ett", treatment=g.treatment, outcome=g.outcome, given=given)


def truth(scm: SCM, q: Query) -> float:
    """E[Y_{X=1} − Y_{X=0} | given] (given holds X)."""
    assert q.treatment is not None and q.outcome is not None
    if q.treatment not in q.given:
        raise SCMError(f"ett: given {dict(q.given)} must hold the treatment {q.treatment!r}")
    return inference.ett(scm, q.treatment, q.outcome, q.given)


def association(scm: SCM, q: Query) -> float:
    """The plain contrast, keeping evidence other than X."""
    assert q.treatment is not None
    rest = {k: v for k, v in q.given.items() if k != q.treatment}
    return contrast(scm, q, rest)


QUERY_TYPE = QueryType(
    name="ett",
    rung=3,
    rule="difference",
    needs=("treatment", "outcome"),
    applies=applies,
    build=build,
    truth=truth,
    association=association,
    wording=Wording(
        story=(
            "Consider the units for which {given}. For these units, would it be {more} likely "
            "that {y1} in a world where {x1} than in a world where {x0}?"
        ),
        symbolic="Is E[{y}_{{{x}=1}} - {y}_{{{x}=0}} | {given}] {cmp} 0?",
    ),
)
