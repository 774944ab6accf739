"""``ate`` (rung 2): does do(X=1) make Y more (less) likely than do(X=0)?"""

from __future__ import annotations

import random

from ladder.engine import inference
from ladder.engine.graphs import CausalGraph
from ladder.engine.query_types._base import Query, QueryType, Wording
from ladder.engine.query_types._common import contrast, effect_path
from ladder.engine.scm import SCM

#: Also the wording of ``collider_bias`` (the same question, with a selection trap).
WORDING = Wording(
    story=(
        "If we intervened so that {x1}, would it be {more} likely that {y1} "
        "than if we intervened so that {x0}?"
    ),
    story_if={
        "given": (
            "Among units for which {given}, if we intervened so that {x1}, would it be "
            "{more} likely that {y1} than if we intervened so that {x0}?"
        )
    },
    symbolic="Is P({y}=1 | do({x}=1)) {cmp} P({y}=1 | do({x}=0))?",
    symbolic_if={"given": "Is P({y}=1 | do({x}=1), {given}) {cmp} P({y}=1 | do({x}=0), {given})?"},
)


def applies(g: CausalGraph) -> str | None:
    """Identified effects only: unconfounded, adjustable, or through a front-door mediator;
    with a hidden confounder and an instrument, the instrument's (unconfounded) effect."""
    if g.hidden and "instrument" in g.roles:
        return None
    if g.hidden and not (
        g.mediator and inference.is_frontdoor_set(g.dag, g.treatment, g.outcome, {g.mediator})
    ):
        return "the effect is not identified"
    return effect_path(g)


def build(g: CausalGraph, scm: SCM, rng: random.Random, want: str) -> Query:
    """The treatment's effect (the instrument's, where a hidden confounder has one)."""
    treat = g.roles["instrument"] if g.hidden and "instrument" in g.roles else g.treatment
    return Query("ate", treatment=treat, outcome=g.outcome)


def truth(scm: SCM, q: Query) -> float:
    """P(Y=1 | do(X=1), given) − P(Y=1 | do(X=0), given)."""
    assert q.treatment is not None and q.outcome is not None
    return inference.ate(scm, q.treatment, q.outcome, q.given or None)


QUERY_TYPE = QueryType(
    name="ate",
    rung=2,
    rule="difference",
    needs=("treatment", "outcome"),
    applies=applies,
    build=build,
    truth=truth,
    association=contrast,
    wording=WORDING,
)
