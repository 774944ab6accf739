"""``counterfactual`` (rung 3): had X been otherwise for this unit, would Y likely hold?"""

from __future__ import annotations

import random

from ladder.engine import inference
from ladder.engine.graphs import CausalGraph
from ladder.engine.query_types._base import Query, QueryType, Wording
from ladder.engine.query_types._common import fully_observed
from ladder.engine.scm import SCM


def build(g: CausalGraph, scm: SCM, rng: random.Random, want: str) -> Query:
    """A unit with observed X (and, three times in four, observed Y); X set to its opposite."""
    x, y = g.treatment, g.outcome
    xv = rng.randint(0, 1)
    given = {x: xv, y: rng.randint(0, 1)} if rng.random() < 0.75 else {x: xv}
    return Query("counterfactual", treatment=x, outcome=y, given=given, do={x: 1 - xv})


def truth(scm: SCM, q: Query) -> float:
    """P(Y_{do}=1 | given)."""
    assert q.outcome is not None and q.do is not None
    return inference.counterfactual(scm, q.outcome, q.do, q.given)


def association(scm: SCM, q: Query) -> float:
    """Read "had X been x'" as "among units with X = x'", keeping evidence on other causes."""
    assert q.outcome is not None and q.do is not None
    evidence = {k: v for k, v in q.given.items() if k not in q.do and k != q.outcome}
    evidence.update(q.do)
    return inference.marginal(scm, q.outcome, evidence)


QUERY_TYPE = QueryType(
    name="counterfactual",
    rung=3,
    rule="probability",
    needs=("outcome", "do"),
    applies=fully_observed,
    build=build,
    truth=truth,
    association=association,
    wording=Wording(
        story=(
            "Consider a unit for which {given}. Had it been that {do}, would it be {more} "
            "likely than not that {y1}?"
        ),
        symbolic="Is P({y}_{{{do}}}=1 | {given}) {cmp} 0.5?",
    ),
)
