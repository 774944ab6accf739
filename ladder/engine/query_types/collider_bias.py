"""``collider_bias`` (rung 2): an effect that is 0, asked after a contrast among units
selected on a common effect (the trap: that contrast is not 0)."""

from __future__ import annotations

import random

from ladder.engine import inference
from ladder.engine.graphs import CausalGraph
from ladder.engine.query_types._base import Fact, ProbabilityFn, Query, QueryType
from ladder.engine.query_types._common import NO_COLLIDER_ON_RANDOM, contrast, has_collider
from ladder.engine.query_types.ate import WORDING
from ladder.engine.scm import SCM


def build(g: CausalGraph, scm: SCM, rng: random.Random, want: str) -> Query:
    """The treatment's unconditional effect (structurally 0 on a collider graph)."""
    return Query("collider_bias", treatment=g.treatment, outcome=g.outcome)


def truth(scm: SCM, q: Query) -> float:
    """P(Y=1 | do(X=1)) − P(Y=1 | do(X=0)): conditioning on the collider is the trap."""
    assert q.treatment is not None and q.outcome is not None
    return inference.ate(scm, q.treatment, q.outcome)


def fact(scm: SCM, g: CausalGraph, q: Query, probability: ProbabilityFn) -> Fact:
    """The observational contrast among units selected on the collider (C=1), with the
    numbers of the prompt's evidence (``probability``: exact, or the table's frequencies)."""
    collider = g.roles["collider"]
    assert q.treatment is not None and q.outcome is not None
    return Fact(
        story=(
            "Among units for which {c1}, the probability that {y1} is {p1:.2f} when {x1} "
            "and {p0:.2f} when {x0}."
        ),
        symbolic="P({y}=1 | {x}=1, {c}=1) = {p1:.2f} and P({y}=1 | {x}=0, {c}=1) = {p0:.2f}.",
        roles={"c": collider},
        numbers={
            "p1": probability(q.outcome, {collider: 1, q.treatment: 1}),
            "p0": probability(q.outcome, {collider: 1, q.treatment: 0}),
        },
    )


QUERY_TYPE = QueryType(
    name="collider_bias",
    rung=2,
    rule="difference",
    needs=("treatment", "outcome"),
    applies=has_collider,
    on_random=NO_COLLIDER_ON_RANDOM,
    build=build,
    truth=truth,
    association=contrast,
    structural_zero=True,
    fact=fact,
    wording=WORDING,
)
