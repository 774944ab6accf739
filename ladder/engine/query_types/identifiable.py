"""``identifiable`` (rung 2): from the graph and the observed data, can the effect of X on Y
be computed? Truth 1 iff ``P(Y | do(X))`` is identifiable from the observed variables
(:func:`ladder.engine.identification.is_identifiable`, the ID algorithm), else 0.

Where it is asked: graphs with at least one hidden variable. On a fully observed graph every
effect is identifiable (adjust for the treatment's parents), so the answer would be "yes"
by a rule that needs no reasoning ("nothing is hidden"), and such cells could never hold a
"no"; with a hidden common cause the answer turns on the structure (front-door: yes; bow
and IV: no), which is what the question probes. Random DAGs have hidden nodes only when
the spec's random cell sets ``hidden`` (unobserved common causes of two observed nodes,
:func:`ladder.engine.graphs.random_dag`); such a cell asks only this type
(``ladder.generation.specs.HIDDEN_RANDOM_QUERIES``), and ``on_random`` rules out the
fully observed random cells. On each drawn graph ``applies`` decides, as on named ones.

The prompt must say where the unobserved common causes are, or the question is
unanswerable: the graph description already says that two variables "are both affected by"
unobserved factors, and this type's :class:`Fact` restates it in the vocabulary of the
question, from the latent projection (which observed pairs share an unobserved cause, and
which variables the data cover). Hidden variables are never named.

The rung-1 reasoner always answers "yes": association always computes *something*
(``P(y | x)``), so ``association`` is 1.
"""

from __future__ import annotations

import random

import networkx as nx

from ladder.engine.graphs import CausalGraph
from ladder.engine.identification import is_identifiable, latent_projection
from ladder.engine.query_types._base import Fact, ProbabilityFn, Query, QueryType, Wording
from ladder.engine.scm import SCM

NO_HIDDEN_ON_RANDOM = (
    "random DAGs have no hidden variables unless the random cell sets hidden "
    "(every effect on a fully observed DAG is identifiable)"
)


def applies(g: CausalGraph) -> str | None:
    """Graphs with a hidden variable, named or random (see the module docstring for why).

    >>> from ladder.engine.graphs import bow, chain, random_dag
    >>> applies(bow()) is None, applies(chain())
    (True, 'it has no hidden variable, so every effect is identifiable')
    >>> applies(random_dag(4, seed=0, hidden=1)) is None, applies(random_dag(4, seed=0)) is None
    (True, False)
    """
    return None if g.hidden else "it has no hidden variable, so every effect is identifiable"


def _pairs(g: CausalGraph) -> list[tuple[str, str]]:
    """Ordered observed pairs (a, b) where a causes b, the graph's own pair first."""
    others = [
        (a, b)
        for a in g.observed
        for b in g.observed
        if a != b and (a, b) != (g.treatment, g.outcome) and nx.has_path(g.dag, a, b)
    ]
    return [(g.treatment, g.outcome), *others]


def build(g: CausalGraph, scm: SCM, rng: random.Random, want: str) -> Query | None:
    """The effect of the graph's treatment on its outcome when its identifiability is
    ``want``; else another observed cause–effect pair whose identifiability is (drawn
    with ``rng``; in the IV graph, the instrument's effect on the outcome for "yes").

    A named family whose every pair has the other answer (bow: never identifiable;
    front-door: always) still asks its own pair, so that a cell of one family can be
    generated: balance then comes from mixing families. A random DAG draws another graph.

    >>> from ladder.engine.graphs import instrumental
    >>> q = build(instrumental(), None, random.Random(0), "yes")
    >>> q.treatment in ("Z",), q.outcome in ("X", "Y")
    (True, True)
    >>> build(instrumental(), None, random.Random(0), "no").treatment
    'X'
    """
    pairs = _pairs(g)
    wanted = want == "yes"
    fits = [p for p in pairs if is_identifiable(g.dag, g.hidden, *p) == wanted]
    if fits and fits[0] == pairs[0]:
        x, y = pairs[0]
    elif fits:
        x, y = rng.choice(fits)
    elif g.family.startswith("random"):
        return None
    else:
        x, y = pairs[0]
    return Query("identifiable", treatment=x, outcome=y)


def truth(scm: SCM, q: Query) -> float:
    """1 if ``P(Y | do(X))`` is identifiable from the observed variables, else 0."""
    assert q.treatment is not None and q.outcome is not None
    return 1.0 if is_identifiable(scm.graph, scm.hidden_names, q.treatment, q.outcome) else 0.0


def association(scm: SCM, q: Query) -> float:
    """A rung-1 reasoner always computes something (``P(y | x)``): it answers "yes"."""
    return 1.0


def _letters(prefix: str, count: int) -> list[str]:
    # Role keys end in a letter, so the clause keys ({key}1, {key}0) never collide.
    return [f"{prefix}{chr(ord('a') + i)}" for i in range(count)]


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def fact(scm: SCM, g: CausalGraph, q: Query, probability: ProbabilityFn | None = None) -> Fact:
    """Which variables the data cover and which of them share an unobserved common cause
    (the bidirected edges of the latent projection); hidden variables are not named.
    It states no numbers, so ``probability`` is not used.

    >>> from ladder.engine.graphs import frontdoor
    >>> f = fact(None, frontdoor(), Query("identifiable", treatment="X", outcome="Y"))
    >>> f.symbolic
    'Only {va}, {vb} and {vc} are observed; {pa} and {qa} share an unobserved common cause.'
    >>> [f.roles[k] for k in ("va", "vb", "vc", "pa", "qa")]
    ['X', 'M', 'Y', 'X', 'Y']
    """
    observed = list(g.observed)
    shared = sorted(
        tuple(sorted(e, key=observed.index))
        for e in latent_projection(g.dag, g.hidden).bidirected.edges
    )
    v_keys = _letters("v", len(observed))
    roles = {key: node for key, node in zip(v_keys, observed, strict=True)}
    pairs = []
    for key, (a, b) in zip(_letters("", len(shared)), shared, strict=True):
        roles.update({f"p{key}": a, f"q{key}": b})
        pairs.append(f"{{p{key}}} and {{q{key}}}")
    if not pairs:
        confounding = "no two of them share an unobserved common cause."
    elif len(pairs) == 1:
        confounding = f"{pairs[0]} share an unobserved common cause."
    else:
        confounding = f"{pairs[0]} share an unobserved common cause, as do {_join(pairs[1:])}."
    listed = _join([f"{{{k}}}" for k in v_keys])
    return Fact(
        story=f"The data record only {listed}; {confounding}",
        symbolic=f"Only {listed} are observed; {confounding}",
        roles=roles,
    )


QUERY_TYPE = QueryType(
    name="identifiable",
    rung=2,
    rule="indicator",
    needs=("treatment", "outcome"),
    applies=applies,
    on_random=NO_HIDDEN_ON_RANDOM,
    build=build,
    truth=truth,
    association=association,
    fact=fact,
    wording=Wording(
        story=(
            "Knowing only the causal structure described and the joint distribution of the "
            "variables the data record, could one compute the causal effect of {x} on {y}?"
        ),
        symbolic=(
            "Is P({y} | do({x})) identifiable from the joint distribution of the observed "
            "variables?"
        ),
    ),
)
