"""Prompts: the causal graph in words, the numbers the question needs, the question.

A prompt has four parts, each a plain function of plain data:

1. :func:`describe_graph` — the observed edges in words; a hidden common cause is
   described as "unobserved factors" and never named;
2. the evidence — :func:`stated_probabilities` (``probabilities`` mode: the
   observational factorisation of the observed variables, ``P(V | observed parents)``,
   or ``P(V | all earlier observed variables)`` where V has a hidden parent) or
   :func:`sample_table` (``samples`` mode: counts from a sample of the observed joint);
3. for rung 3, the monotonicity (comonotone noise) assumption in plain words;
4. :func:`question` — the query in words (or formal notation for ``symbolic``).

Stated numbers are observational only: never interventional quantities.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ladder.core.errors import SCMError
from ladder.engine import inference
from ladder.engine.graphs import CausalGraph
from ladder.engine.queries import Query
from ladder.engine.scm import SCM
from ladder.generation.naming import VarText

__all__ = [
    "EVIDENCE_MODES",
    "MONOTONE_SENTENCE",
    "StatedProbability",
    "describe_graph",
    "question",
    "render_prompt",
    "sample_table",
    "stated_probabilities",
]

EVIDENCE_MODES = ("probabilities", "samples")

INTRO = (
    "Imagine a self-contained, hypothetical world with only the following conditions, "
    "and without any unmentioned factors or causal relationships."
)
MONOTONE_SENTENCE = (
    "Each unit has a fixed susceptibility to each variable: if one situation makes a "
    "variable more likely than another, every unit that has it in the less likely "
    "situation also has it in the more likely one."
)
INSTRUCTION = "Answer yes or no."


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _clauses(names: Mapping[str, VarText], values: Mapping[str, int]) -> str:
    return _join([names[k].clause(v) for k, v in values.items()])


def _formal(values: Mapping[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())


def describe_graph(graph: CausalGraph, names: Mapping[str, VarText], symbolic: bool) -> str:
    """The causal structure in words; hidden nodes appear only as "unobserved factors".

    >>> from ladder.engine.graphs import frontdoor
    >>> from ladder.generation.naming import symbolic_names
    >>> text = describe_graph(frontdoor(), symbolic_names(["X", "M", "Y"]), True)
    >>> text.split(". ")[-1]
    'X and Y are both affected by an unobserved common cause.'
    """
    sentences = []
    for node in graph.observed:
        children = [c for c in graph.nodes if graph.dag.has_edge(node, c) and c not in graph.hidden]
        if children:
            sentences.append(
                f"{_cap(names[node].name)} has a direct effect on "
                f"{_join([names[c].name for c in children])}."
            )
    for hidden in sorted(graph.hidden):
        kids = [c for c in graph.nodes if graph.dag.has_edge(hidden, c)]
        what = "an unobserved common cause" if symbolic else "unobserved factors they share"
        sentences.append(
            f"{_cap(_join([names[c].name for c in kids]))} are both affected by {what}."
        )
    return " ".join(sentences)


@dataclass(frozen=True)
class StatedProbability:
    """One number a prompt states: ``P(target = 1 | condition)``."""

    target: str
    condition: tuple[tuple[str, int], ...]
    value: float


def _conditioning_set(graph: CausalGraph, node: str) -> list[str]:
    parents = graph.parents(node)
    if any(p in graph.hidden for p in parents):
        # A hidden parent makes V depend on earlier observed variables beyond its parents.
        earlier = graph.observed[: graph.observed.index(node)]
        return earlier
    return parents


def stated_probabilities(scm: SCM, graph: CausalGraph) -> list[StatedProbability]:
    """The observational factorisation that ``probabilities`` mode states.

    Fully observed graphs get every ``P(V=1 | parents)`` (their cpts); a variable with a
    hidden parent gets ``P(V=1 | earlier observed variables)``, computed exactly.
    Conditions of probability 0 are skipped.
    """
    out = []
    for node in graph.observed:
        cond_vars = _conditioning_set(graph, node)
        for bits in itertools.product((1, 0), repeat=len(cond_vars)):
            cond = dict(zip(cond_vars, bits, strict=True))
            if cond_vars == graph.parents(node):
                value = scm[node].cpt[scm.cpt_index(node, cond)]
            else:
                try:
                    value = inference.marginal(scm, node, cond)
                except ValueError:
                    continue
            out.append(StatedProbability(node, tuple(cond.items()), value))
    return out


def _format_probability(p: StatedProbability, names: Mapping[str, VarText], symbolic: bool) -> str:
    if symbolic:
        cond = f" | {_formal(dict(p.condition))}" if p.condition else ""
        return f"P({p.target}=1{cond}) = {p.value:.2f}."
    clause = names[p.target].true
    if not p.condition:
        return f"The overall probability that {clause} is {p.value:.2f}."
    return (
        f"If {_clauses(names, dict(p.condition))}, the probability that {clause} is {p.value:.2f}."
    )


def sample_table(
    scm: SCM,
    graph: CausalGraph,
    names: Mapping[str, VarText],
    size: int,
    rng: random.Random,
    symbolic: bool,
) -> str:
    """Counts of each configuration of the observed variables in a random sample.

    The sample is a multinomial draw of ``size`` units from the exact observed joint.
    """
    observed = graph.observed
    joint = inference.joint_distribution(scm, observed).ravel()
    gen = np.random.default_rng(rng.getrandbits(64))
    counts = gen.multinomial(size, joint / joint.sum())
    header = [names[v].name for v in observed]
    yes, no = ("1", "0") if symbolic else ("yes", "no")
    lines = ["| " + " | ".join([*header, "count"]) + " |", "|" + "---|" * (len(header) + 1)]
    for flat, bits in enumerate(itertools.product((0, 1), repeat=len(observed))):
        if counts[flat]:
            cells = [yes if b else no for b in bits]
            lines.append("| " + " | ".join([*cells, str(int(counts[flat]))]) + " |")
    return (
        f"A random sample of {size} units was observed; each row counts the units "
        "with that combination of values:\n" + "\n".join(lines)
    )


def _more(polarity: int) -> str:
    return "more" if polarity == 1 else "less"


def _cmp(polarity: int) -> str:
    return ">" if polarity == 1 else "<"


def question(query: Query, names: Mapping[str, VarText], symbolic: bool) -> str:
    """The question in words (or formal notation when ``symbolic``)."""
    q = query
    x, y = q.treatment, q.outcome
    given = dict(q.given)
    if symbolic:
        return _symbolic_question(q)
    yv = names[y].true if y else ""
    if q.type == "marginal":
        lead = f"If {_clauses(names, given)}, is" if given else "Overall, is"
        bound = "more than 50%" if q.polarity == 1 else "less than 50%"
        return f"{lead} the probability that {yv} {bound}?"
    assert x is not None
    xv1, xv0 = names[x].true, names[x].false
    if q.type in ("correlation", "explaining_away"):
        lead = f"If {_clauses(names, given)}, is" if given else "Is"
        return f"{lead} it {_more(q.polarity)} likely that {yv} when {xv1} than when {xv0}?"
    if q.type in ("ate", "collider_bias"):
        lead = f"Among units for which {_clauses(names, given)}, if" if given else "If"
        return (
            f"{lead} we intervened so that {xv1}, would it be {_more(q.polarity)} likely "
            f"that {yv} than if we intervened so that {xv0}?"
        )
    if q.type == "backdoor_set":
        adjust = list(q.adjust or ())
        how = (
            f"adjust for {_join([names[a].name for a in adjust])} (compare units with "
            "the same values of these variables, then average)"
            if adjust
            else "compare units directly, without adjusting for any other variable"
        )
        return (
            f"To estimate the causal effect of {names[x].name} on {names[y].name} "
            f"from observational data, is it valid to {how}?"
        )
    if q.type == "ett":
        return (
            f"Consider the units for which {_clauses(names, given)}. For these units, "
            f"would it be {_more(q.polarity)} likely that {yv} in a world where {xv1} "
            f"than in a world where {xv0}?"
        )
    if q.type in ("nde", "nie"):
        m = names[q.mediator].name if q.mediator else ""
        if q.type == "nde":
            first = f"{xv1}, but {m} stays as it would naturally be if {xv0}"
        else:
            first = f"{xv0}, but {m} changes to what it would naturally be if {xv1}"
        return (
            f"Compare a world where {first}, with a world where {xv0}. Is it "
            f"{_more(q.polarity)} likely that {yv} in the first world than in the second?"
        )
    if q.type == "counterfactual":
        assert q.do is not None
        return (
            f"Consider a unit for which {_clauses(names, given)}. Had it been that "
            f"{_clauses(names, dict(q.do))}, would it be {_more(q.polarity)} likely than "
            f"not that {yv}?"
        )
    raise SCMError(f"no wording for query type {q.type!r}")


def _symbolic_question(q: Query) -> str:
    x, y, c = q.treatment, q.outcome, _cmp(q.polarity)
    given = dict(q.given)
    g = f", {_formal(given)}" if given else ""
    if q.type == "marginal":
        cond = f" | {_formal(given)}" if given else ""
        return f"Is P({y}=1{cond}) {c} 0.5?"
    if q.type in ("correlation", "explaining_away"):
        return f"Is P({y}=1 | {x}=1{g}) {c} P({y}=1 | {x}=0{g})?"
    if q.type in ("ate", "collider_bias"):
        return f"Is P({y}=1 | do({x}=1){g}) {c} P({y}=1 | do({x}=0){g})?"
    if q.type == "backdoor_set":
        adjust = list(q.adjust or ())
        what = "{" + ", ".join(adjust) + "}" if adjust else "the empty set"
        return f"Is {what} a valid back-door adjustment set for the causal effect of {x} on {y}?"
    if q.type == "ett":
        return f"Is E[{y}_{{{x}=1}} - {y}_{{{x}=0}} | {_formal(given)}] {c} 0?"
    if q.type == "nde":
        m = q.mediator
        return f"Is P({y}_{{{x}=1, {m}={m}_{{{x}=0}}}}=1) {c} P({y}_{{{x}=0}}=1)?"
    if q.type == "nie":
        m = q.mediator
        return f"Is P({y}_{{{x}=0, {m}={m}_{{{x}=1}}}}=1) {c} P({y}_{{{x}=0}}=1)?"
    if q.type == "counterfactual":
        assert q.do is not None
        sub = ", ".join(f"{k}={v}" for k, v in q.do.items())
        return f"Is P({y}_{{{sub}}}=1 | {_formal(given)}) {c} 0.5?"
    raise SCMError(f"no formal wording for query type {q.type!r}")


def collider_fact(
    scm: SCM, graph: CausalGraph, query: Query, names: Mapping[str, VarText], symbolic: bool
) -> str:
    """For ``collider_bias``: the (observational) contrast among units selected on the collider."""
    collider = graph.roles["collider"]
    x, y = query.treatment, query.outcome
    assert x is not None and y is not None
    p1 = inference.marginal(scm, y, {collider: 1, x: 1})
    p0 = inference.marginal(scm, y, {collider: 1, x: 0})
    if symbolic:
        return (
            f"P({y}=1 | {x}=1, {collider}=1) = {p1:.2f} and "
            f"P({y}=1 | {x}=0, {collider}=1) = {p0:.2f}."
        )
    return (
        f"Among units for which {names[collider].true}, the probability that "
        f"{names[y].true} is {p1:.2f} when {names[x].true} and {p0:.2f} when "
        f"{names[x].false}."
    )


def render_prompt(
    scm: SCM,
    graph: CausalGraph,
    query: Query,
    names: Mapping[str, VarText],
    *,
    symbolic: bool,
    evidence: str,
    rng: random.Random,
    sample_size: int = 1000,
    stated: Sequence[StatedProbability] | None = None,
) -> str:
    """The full prompt text of one item (``stated``: precomputed
    :func:`stated_probabilities`, to avoid computing them twice)."""
    parts = [INTRO, describe_graph(graph, names, symbolic)]
    if evidence == "probabilities":
        if stated is None:
            stated = stated_probabilities(scm, graph)
        parts.append(" ".join(_format_probability(p, names, symbolic) for p in stated))
    elif evidence == "samples":
        parts.append(sample_table(scm, graph, names, sample_size, rng, symbolic))
    else:
        raise SCMError(f"unknown evidence mode {evidence!r}; allowed: {EVIDENCE_MODES}")
    if query.type == "collider_bias":
        parts.append(collider_fact(scm, graph, query, names, symbolic))
    if query.rung == 3:
        parts.append(MONOTONE_SENTENCE)
    parts.append(question(query, names, symbolic))
    parts.append(INSTRUCTION)
    return "\n".join(parts)
