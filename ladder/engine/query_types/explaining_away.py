"""``explaining_away`` (rung 1): the X–Y contrast among units with a given collider value."""

from __future__ import annotations

import random

from ladder.engine.graphs import CausalGraph
from ladder.engine.query_types._base import Query, QueryType
from ladder.engine.query_types._common import NO_COLLIDER_ON_RANDOM, contrast, has_collider
from ladder.engine.query_types.correlation import WORDING
from ladder.engine.scm import SCM


def build(g: CausalGraph, scm: SCM, rng: random.Random, want: str) -> Query:
    """The contrast given the collider (0 or 1)."""
    given = {g.roles["collider"]: rng.randint(0, 1)}
    return Query("explaining_away", treatment=g.treatment, outcome=g.outcome, given=given)


QUERY_TYPE = QueryType(
    name="explaining_away",
    rung=1,
    rule="difference",
    needs=("treatment", "outcome"),
    applies=has_collider,
    on_random=NO_COLLIDER_ON_RANDOM,
    build=build,
    truth=contrast,
    wording=WORDING,
)
