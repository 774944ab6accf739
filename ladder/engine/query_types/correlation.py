"""``correlation`` (rung 1): is Y more (less) likely when X holds than when it does not?"""

from __future__ import annotations

import random

from ladder.engine.graphs import CausalGraph
from ladder.engine.query_types._base import Query, QueryType, Wording
from ladder.engine.query_types._common import associated, contrast
from ladder.engine.scm import SCM

#: Also the wording of ``explaining_away`` (the same question, given the collider).
WORDING = Wording(
    story="Is it {more} likely that {y1} when {x1} than when {x0}?",
    story_if={"given": "If {given}, is it {more} likely that {y1} when {x1} than when {x0}?"},
    symbolic="Is P({y}=1 | {x}=1) {cmp} P({y}=1 | {x}=0)?",
    symbolic_if={"given": "Is P({y}=1 | {x}=1, {given}) {cmp} P({y}=1 | {x}=0, {given})?"},
)


def build(g: CausalGraph, scm: SCM, rng: random.Random, want: str) -> Query:
    """The treatment–outcome contrast, without evidence."""
    return Query("correlation", treatment=g.treatment, outcome=g.outcome)


QUERY_TYPE = QueryType(
    name="correlation",
    rung=1,
    rule="difference",
    needs=("treatment", "outcome"),
    applies=associated,
    build=build,
    truth=contrast,
    wording=WORDING,
)
