"""``backdoor_set`` (rung 2): is a proposed set a valid back-door adjustment set for X → Y?"""

from __future__ import annotations

import itertools
import random

import networkx as nx

from ladder.engine import inference
from ladder.engine.graphs import CausalGraph
from ladder.engine.query_types._base import Query, QueryType, Wording
from ladder.engine.query_types._common import always
from ladder.engine.scm import SCM


def _candidate_sets(g: CausalGraph, treatment: str, rng: random.Random) -> list[tuple[str, ...]]:
    others = [v for v in g.observed if v not in (treatment, g.outcome)]
    sets = {(), tuple(p for p in g.parents(treatment) if p not in g.hidden)}
    sets.update((v,) for v in others)
    for size in (2, 3):
        combos = list(itertools.combinations(others, size))
        rng.shuffle(combos)
        sets.update(combos[:6])
    return sorted(sets)


def build(g: CausalGraph, scm: SCM, rng: random.Random, want: str) -> Query | None:
    """A back-door question with the wanted validity (``want`` "yes": a valid set).

    The treatment–outcome pair is asked first; where no set of the wanted validity
    exists for it (a hidden confounder makes every set invalid), another observed cause
    of the outcome is asked about instead (e.g. the mediator in the front-door graph).
    """
    causes = [g.treatment] + [
        v
        for v in g.observed
        if v not in (g.treatment, g.outcome) and nx.has_path(g.dag, v, g.outcome)
    ]
    for treatment in causes:
        sets = _candidate_sets(g, treatment, rng)
        pool = [
            s
            for s in sets
            if inference.is_backdoor_set(g.dag, treatment, g.outcome, s) == (want == "yes")
        ]
        if pool:
            return Query(
                "backdoor_set", treatment=treatment, outcome=g.outcome, adjust=rng.choice(pool)
            )
    return None  # no set of the wanted validity on this graph: draw another graph


def truth(scm: SCM, q: Query) -> float:
    """1 if ``adjust`` is a valid back-door set for (X, Y), else 0."""
    assert q.treatment is not None and q.outcome is not None and q.adjust is not None
    return 1.0 if inference.is_backdoor_set(scm.graph, q.treatment, q.outcome, q.adjust) else 0.0


def association(scm: SCM, q: Query) -> float:
    """The version-1 heuristic: a rung-1 reasoner "adjusts for everything correlated with
    both X and Y" (it scores below always-no). Kept so that version-1 items regenerate as
    they were; contract 2 gives ``backdoor_set`` no rung-1 counterpart (its
    ``association_answer`` is null, see ``ladder.generation.generate.NO_COUNTERPART``)."""
    assert q.treatment is not None and q.outcome is not None and q.adjust is not None
    others = [v for v in scm.observed_names if v not in (q.treatment, q.outcome)]
    correlates = inference.associated(scm, q.treatment, others) & inference.associated(
        scm, q.outcome, others
    )
    return 1.0 if set(q.adjust) == correlates else 0.0


_ASK = "To estimate the causal effect of {x} on {y} from observational data, is it valid to "
_FORMAL = " a valid back-door adjustment set for the causal effect of {x} on {y}?"

QUERY_TYPE = QueryType(
    name="backdoor_set",
    rung=2,
    rule="indicator",
    needs=("treatment", "outcome", "adjust"),
    applies=always,
    build=build,
    truth=truth,
    association=association,
    wording=Wording(
        story=_ASK + "compare units directly, without adjusting for any other variable?",
        story_if={
            "adjust": _ASK + "adjust for {adjust} (compare units with the same values of "
            "these variables, then average)?"
        },
        symbolic="Is the empty set" + _FORMAL,
        symbolic_if={"adjust": "Is {{{adjust}}}" + _FORMAL},
    ),
)
