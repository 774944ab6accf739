"""``marginal`` (rung 1): is P(Y=1 | given) above (or below) one half?"""

from __future__ import annotations

import random

from ladder.engine import inference
from ladder.engine.graphs import CausalGraph
from ladder.engine.query_types._base import Query, QueryType, Wording
from ladder.engine.query_types._common import always
from ladder.engine.scm import SCM


def build(g: CausalGraph, scm: SCM, rng: random.Random, want: str) -> Query:
    """Ask about the outcome (or a non-root when the outcome is a root, whose probability
    would be a stated number), given the treatment half of the time."""
    x = g.treatment
    target = g.outcome if g.parents(g.outcome) else next(v for v in g.observed if g.parents(v))
    given = {x: rng.randint(0, 1)} if rng.random() < 0.5 and x != target else {}
    return Query("marginal", treatment=None, outcome=target, given=given)


def truth(scm: SCM, q: Query) -> float:
    """P(Y=1 | given)."""
    assert q.outcome is not None
    return inference.marginal(scm, q.outcome, q.given)


QUERY_TYPE = QueryType(
    name="marginal",
    rung=1,
    rule="probability",
    needs=("outcome",),
    applies=always,
    build=build,
    truth=truth,
    wording=Wording(
        story="Overall, is the probability that {y1} {more} than 50%?",
        story_if={"given": "If {given}, is the probability that {y1} {more} than 50%?"},
        symbolic="Is P({y}=1) {cmp} 0.5?",
        symbolic_if={"given": "Is P({y}=1 | {given}) {cmp} 0.5?"},
    ),
)
