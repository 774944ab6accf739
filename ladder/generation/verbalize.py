"""Prompts: the causal graph in words, the numbers the question needs, the question.

A prompt has four parts, each a plain function of plain data:

1. :func:`describe_graph` — the observed edges in words; a hidden common cause is
   described as "unobserved factors" and never named;
2. the evidence — :func:`stated_probabilities` (``probabilities`` mode: the
   observational factorisation of the observed variables, ``P(V | observed parents)``,
   or ``P(V | all earlier observed variables)`` where V has a hidden parent) or
   :func:`sample_table` (``samples`` mode: counts of a :func:`draw_sample` sample of the
   observed joint);
3. for rung 3, the monotonicity (comonotone noise) assumption in plain words;
4. :func:`question` — the query in words (or formal notation for ``symbolic``).

Stated numbers are observational only: never interventional quantities.
"""

from __future__ import annotations

import functools
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
    "Sample",
    "StatedDifference",
    "StatedProbability",
    "describe_graph",
    "draw_sample",
    "fact_sentence",
    "question",
    "render_prompt",
    "sample_table",
    "stated_contrasts",
    "stated_probabilities",
]

EVIDENCE_MODES = ("probabilities", "samples")

#: The first sentence of every prompt: the world is made up and closed (the suite's own words).
INTRO = (
    "Consider an invented, closed world in which nothing holds except the conditions stated "
    "below: no other factors or causal links exist, and nothing known about the real world "
    "applies."
)
#: The first sentence of contract-version-1 prompts made before it changed (committed runs).
INTRO_V1 = (
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


@dataclass(frozen=True)
class StatedDifference:
    """One observational contrast a prompt states as a single signed number:
    ``P(outcome=1 | treatment=1) − P(outcome=1 | treatment=0)``."""

    outcome: str
    treatment: str
    value: float


#: What a ``probabilities``-mode prompt states: probabilities, and (``families.contrasts:
#: difference``) signed contrasts.
Stated = StatedProbability | StatedDifference


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


def stated_contrasts(
    scm: SCM,
    pairs: Sequence[tuple[str, str]],
    stated: Sequence[Stated] = (),
    form: str = "pair",
) -> list[Stated] | None:
    """The observational contrast of each ``(X, Y)`` of ``pairs`` that a spec's
    ``families.contrasts`` adds to the evidence: ``form="pair"`` states ``P(Y=1 | X=1)`` and
    ``P(Y=1 | X=0)`` (those not in ``stated`` already), ``form="difference"`` their
    difference as one signed number. None when a contrast's direction cannot be read from
    what is printed (two decimals: the pair ties or prints in the opposite order to the
    exact values, or the difference prints as zero), or a condition has probability 0.

    >>> scm = SCM.from_dict({"variables": [
    ...     {"name": "X", "parents": [], "cpt": [0.5]},
    ...     {"name": "Y", "parents": ["X"], "cpt": [0.2, 0.7]}]})
    >>> [f"{p.target} {p.condition} {p.value:.2f}" for p in stated_contrasts(scm, [("X", "Y")])]
    ["Y (('X', 1),) 0.70", "Y (('X', 0),) 0.20"]
    >>> [(d.outcome, d.treatment, round(d.value, 2))
    ...  for d in stated_contrasts(scm, [("X", "Y")], form="difference")]
    [('Y', 'X', 0.5)]
    """
    shown = {(p.target, p.condition) for p in stated if isinstance(p, StatedProbability)}
    out: list[Stated] = []
    for treatment, outcome in pairs:
        values = {}
        for bit in (1, 0):
            try:
                values[bit] = inference.marginal(scm, outcome, {treatment: bit})
            except ValueError:
                return None
        if form == "difference":
            difference = values[1] - values[0]
            if float(f"{difference:.2f}") == 0:
                return None
            out.append(StatedDifference(outcome, treatment, difference))
            continue
        printed = {bit: float(f"{v:.2f}") for bit, v in values.items()}
        if printed[1] == printed[0] or (printed[1] > printed[0]) != (values[1] > values[0]):
            return None
        for bit in (1, 0):
            condition = ((treatment, bit),)
            if (outcome, condition) not in shown:
                shown.add((outcome, condition))
                out.append(StatedProbability(outcome, condition, values[bit]))
    return out


def _format_stated(p: Stated, names: Mapping[str, VarText], symbolic: bool) -> str:
    if isinstance(p, StatedDifference):
        return _format_difference(p, names, symbolic)
    if symbolic:
        cond = f" | {_formal(dict(p.condition))}" if p.condition else ""
        return f"P({p.target}=1{cond}) = {p.value:.2f}."
    clause = names[p.target].true
    if not p.condition:
        return f"The overall probability that {clause} is {p.value:.2f}."
    return (
        f"If {_clauses(names, dict(p.condition))}, the probability that {clause} is {p.value:.2f}."
    )


def _format_difference(d: StatedDifference, names: Mapping[str, VarText], symbolic: bool) -> str:
    # A true minus sign (U+2212), so the symbolic sign never reads as the ASCII hyphen of
    # other notation (E[Y_{X=1} - Y_{X=0}]).
    if symbolic:
        sign = "+" if d.value > 0 else "\u2212"
        return (
            f"P({d.outcome}=1 | {d.treatment}=1) \u2212 P({d.outcome}=1 | {d.treatment}=0) = "
            f"{sign}{abs(d.value):.2f}."
        )
    direction = "higher" if d.value > 0 else "lower"
    return (
        f"The probability that {names[d.outcome].true} is {abs(d.value):.2f} {direction} "
        f"if {names[d.treatment].clause(1)} than if {names[d.treatment].clause(0)}."
    )


@dataclass(frozen=True)
class Sample:
    """Counts of a random sample of the observed variables: ``counts[bits]`` units had the
    values ``bits`` (one axis per variable of ``variables``, in that order).

    >>> s = Sample(("X", "Y"), np.array([[10, 30], [20, 40]]))
    >>> s.size, s.probability("Y", {"X": 1})
    (100, 0.6666666666666666)
    """

    variables: tuple[str, ...]
    counts: np.ndarray

    @property
    def size(self) -> int:
        """The number of units in the sample."""
        return round(float(self.counts.sum()))

    def count(self, values: Mapping[str, int]) -> float:
        """How many units have ``values`` (a partial assignment of the variables).

        A float, so that ``counts`` may also hold exact probabilities (a population).
        """
        index = tuple(values.get(v, slice(None)) for v in self.variables)
        return float(np.sum(self.counts[index]))

    def probability(self, target: str, given: Mapping[str, int] | None = None) -> float:
        """The sample frequency of ``target = 1`` among units with ``given``.

        Raises ``ValueError`` when no unit has ``given`` (the frequency is undefined).
        """
        given = dict(given or {})
        base = self.count(given)
        if base == 0:
            raise ValueError(f"no unit of the sample has {_formal(given)}")
        return self.count({**given, target: 1}) / base


def draw_sample(scm: SCM, graph: CausalGraph, size: int, rng: random.Random) -> Sample:
    """A multinomial draw of ``size`` units from the exact joint of the observed variables.

    It takes one 64-bit number from ``rng`` (so the draw is reproducible per item).
    """
    observed = graph.observed
    joint = inference.joint_distribution(scm, observed).ravel()
    gen = np.random.default_rng(rng.getrandbits(64))
    counts = gen.multinomial(size, joint / joint.sum())
    return Sample(tuple(observed), counts.reshape((2,) * len(observed)))


def sample_table(sample: Sample, names: Mapping[str, VarText], symbolic: bool) -> str:
    """The prompt's count table of ``sample``: one row per configuration that occurs.

    >>> from ladder.generation.naming import symbolic_names
    >>> s = Sample(("X", "Y"), np.array([[10, 0], [20, 40]]))
    >>> print(sample_table(s, symbolic_names(["X", "Y"]), True).split(":", 1)[1])
    <BLANKLINE>
    | X | Y | count |
    |---|---|---|
    | 0 | 0 | 10 |
    | 1 | 0 | 20 |
    | 1 | 1 | 40 |
    """
    header = [names[v].name for v in sample.variables]
    yes, no = ("1", "0") if symbolic else ("yes", "no")
    flat = sample.counts.ravel()
    lines = ["| " + " | ".join([*header, "count"]) + " |", "|" + "---|" * (len(header) + 1)]
    for i, bits in enumerate(itertools.product((0, 1), repeat=len(sample.variables))):
        if flat[i]:
            cells = [yes if b else no for b in bits]
            lines.append("| " + " | ".join([*cells, str(int(flat[i]))]) + " |")
    return (
        f"A random sample of {sample.size} units was observed; each row counts the units "
        "with that combination of values:\n" + "\n".join(lines)
    )


def _placeholders(
    query: Query, names: Mapping[str, VarText], symbolic: bool, roles: Mapping[str, str]
) -> dict[str, str]:
    """The values a :class:`~ladder.engine.query_types.Wording` template may use."""
    values = {"more": "more" if query.polarity == 1 else "less"}
    values["cmp"] = ">" if query.polarity == 1 else "<"
    all_roles = {"x": query.treatment, "y": query.outcome, "m": query.mediator, **roles}
    for key, var in all_roles.items():
        if var is None:
            continue
        if symbolic:
            values[key] = var
        else:
            values.update({key: names[var].name, f"{key}1": names[var].true})
            values[f"{key}0"] = names[var].false
    for key in ("given", "do"):
        evidence = dict(getattr(query, key) or {})
        values[key] = _formal(evidence) if symbolic else _clauses(names, evidence)
    adjust = list(query.adjust or ())
    values["adjust"] = ", ".join(adjust) if symbolic else _join([names[a].name for a in adjust])
    return values


def _fill(template: str, values: Mapping[str, object], what: str) -> str:
    try:
        return template.format(**values)
    except (KeyError, IndexError) as exc:
        raise SCMError(f"{what}: the template uses {exc} which this query lacks") from None


def question(query: Query, names: Mapping[str, VarText], symbolic: bool) -> str:
    """The question in words (or formal notation when ``symbolic``), from the query
    type's declared :class:`~ladder.engine.query_types.Wording`.

    >>> from ladder.generation.naming import symbolic_names
    >>> q = Query("ate", treatment="X", outcome="Y", polarity=-1)
    >>> question(q, symbolic_names(["X", "Y"]), symbolic=True)
    'Is P(Y=1 | do(X=1)) < P(Y=1 | do(X=0))?'
    """
    template = query.kind.wording.template(query, symbolic)
    values = _placeholders(query, names, symbolic, {})
    return _fill(template, values, f"wording of {query.type}")


def fact_sentence(
    scm: SCM,
    graph: CausalGraph,
    query: Query,
    names: Mapping[str, VarText],
    symbolic: bool,
    sample: Sample | None = None,
) -> str | None:
    """The extra statement the query type makes before its question (None: it has none).

    Its numbers are exact observational probabilities, or, when the prompt shows
    ``sample``, that table's frequencies: a prompt never states numbers its own table
    contradicts. Where the table has no unit to compute one from, no fact is stated.
    """
    make = query.kind.fact
    if make is None:
        return None
    if sample is None:
        probability = functools.partial(inference.marginal, scm)
    else:
        probability = sample.probability
    try:
        fact = make(scm, graph, query, probability)
    except ValueError:  # a condition no unit of the sample meets
        return None
    values: dict[str, object] = {**_placeholders(query, names, symbolic, fact.roles)}
    values.update(fact.numbers)
    return _fill(fact.symbolic if symbolic else fact.story, values, f"fact of {query.type}")


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
    stated: Sequence[Stated] | None = None,
    sample: Sample | None = None,
) -> str:
    """The full prompt text of one item.

    ``stated``: precomputed :func:`stated_probabilities`, to avoid computing them twice;
    ``sample``: the sample ``samples`` mode shows (default: :func:`draw_sample` from
    ``rng``), so that a caller can check it before it is rendered.
    """
    parts = [INTRO, describe_graph(graph, names, symbolic)]
    if evidence == "probabilities":
        if stated is None:
            stated = stated_probabilities(scm, graph)
        parts.append(" ".join(_format_stated(p, names, symbolic) for p in stated))
        sample = None
    elif evidence == "samples":
        if sample is None:
            sample = draw_sample(scm, graph, sample_size, rng)
        parts.append(sample_table(sample, names, symbolic))
    else:
        raise SCMError(f"unknown evidence mode {evidence!r}; allowed: {EVIDENCE_MODES}")
    fact = fact_sentence(scm, graph, query, names, symbolic, sample)
    if fact is not None:
        parts.append(fact)
    if query.rung == 3:
        parts.append(MONOTONE_SENTENCE)
    parts.append(question(query, names, symbolic))
    parts.append(INSTRUCTION)
    return "\n".join(parts)
