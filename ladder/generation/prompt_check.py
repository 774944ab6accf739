"""Labels true to the prompt: does the count table a ``samples`` prompt shows imply its label?

In ``samples`` mode the label comes from the population SCM while the prompt shows a
finite sample. A reader of the prompt can only estimate the model from the table: it
takes the stated graph and refits every mechanism to the table's conditional frequencies
(:func:`fitted_scm`), then computes the question exactly on that model. An item is kept
only when that table-implied answer equals the population answer and both clear the
margin (:func:`table_agrees`); otherwise the generator draws again.

Hidden variables. Samples mode counts only the observed variables, and the registry
asks a quantity on a graph with a hidden node only where it is identified from the
observed joint. The refit keeps it identified the same way:

* a hidden node with a child that has no other parent (the front-door ``U → X``) is
  refitted as a copy of that child: ``U ~ P̂(X)``, ``X := U``, and its other children
  condition on that child's value. This reproduces the table's joint and gives the
  front-door formula for ``do(X)``;
* otherwise (the IV graph) the hidden node is dropped and each of its children is
  conditioned on all earlier observed variables, as ``probabilities`` mode states them.
  The observed joint is then the table's; the interventional question asked there is the
  instrument's, which has no parent, so its effect is its observed contrast.

Example
-------
A chain whose table shows X and Y unrelated while the population effect is positive:

>>> import numpy as np
>>> from ladder.engine.graphs import chain
>>> from ladder.engine.queries import Query
>>> from ladder.engine.scm import SCM
>>> from ladder.generation.verbalize import Sample
>>> scm = SCM.from_dict({"variables": [
...     {"name": "X", "parents": [], "cpt": [0.5]},
...     {"name": "M", "parents": ["X"], "cpt": [0.2, 0.8]},
...     {"name": "Y", "parents": ["M"], "cpt": [0.3, 0.7]}]})
>>> q = Query("ate", treatment="X", outcome="Y")
>>> flat = Sample(("X", "M", "Y"), np.full((2, 2, 2), 10))  # every cell equally often
>>> round(table_truth(chain(), q, flat), 12), table_agrees(scm, chain(), q, flat, 0.05)
(0.0, False)
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from ladder.engine.graphs import CausalGraph
from ladder.engine.queries import Query, answer, truth
from ladder.engine.scm import SCM, Variable
from ladder.generation.verbalize import Sample

__all__ = ["fitted_scm", "table_agrees", "table_truth"]

#: Cpt rows of the saturated fit that no unit reaches: they carry probability 0, so any
#: value gives the same observed joint.
_UNREACHED = 0.5


def _frequencies(
    sample: Sample, node: str, parents: Sequence[str], *, strict: bool
) -> tuple[float, ...]:
    """``P̂(node=1 | parents = bits of i)`` for every row ``i`` (first parent most significant).

    A row no unit reaches raises ``ValueError`` when ``strict`` (the table does not
    determine it), else gets :data:`_UNREACHED`.
    """
    rows = []
    for bits in itertools.product((0, 1), repeat=len(parents)):
        try:
            rows.append(sample.probability(node, dict(zip(parents, bits, strict=True))))
        except ValueError:
            if strict:
                raise
            rows.append(_UNREACHED)
    return tuple(rows)


def _proxy(graph: CausalGraph, hidden: str) -> str | None:
    """The observed child whose only parent is ``hidden`` (None: there is none)."""
    for child in graph.dag.successors(hidden):
        if child not in graph.hidden and graph.parents(child) == [hidden]:
            return child
    return None


def _conditioning(
    graph: CausalGraph, node: str, proxies: dict[str, str]
) -> tuple[list[str], list[str]]:
    """``node``'s parents in the refitted SCM, and the observed variables of the table its
    cpt rows condition on (a hidden parent stands for its proxy), both in cpt bit order."""
    parents = graph.parents(node)
    if any(p in graph.hidden and p not in proxies for p in parents):
        earlier = graph.observed[: graph.observed.index(node)]
        return earlier, earlier
    return parents, [proxies.get(p, p) for p in parents]


def fitted_scm(graph: CausalGraph, sample: Sample, *, saturated: bool = False) -> SCM:
    """The SCM a reader of ``sample``'s table fits on the stated graph.

    Each observed variable gets the table's conditional frequencies given its parents
    (hidden nodes handled as the module says). ``saturated``: condition every variable on
    all earlier observed ones instead, which reproduces the table's joint exactly (the
    reading of an observational question straight off the table). A row the table does
    not determine raises ``ValueError`` (only without ``saturated``).
    """
    proxies = {h: c for h in sorted(graph.hidden) if (c := _proxy(graph, h)) is not None}
    copies = {c: h for h, c in proxies.items()}
    variables = []
    for node in graph.nodes:
        if node in graph.hidden:
            if node in proxies:  # U ~ P̂(X): the proxy X below copies it
                variables.append(Variable(node, (), (sample.probability(proxies[node]),), False))
            continue
        if saturated:
            parents = graph.observed[: graph.observed.index(node)]
            cpt = _frequencies(sample, node, parents, strict=False)
            variables.append(Variable(node, tuple(parents), cpt))
        elif node in copies:
            variables.append(Variable(node, (copies[node],), (0.0, 1.0)))
        else:
            parents, table_vars = _conditioning(graph, node, proxies)
            cpt = _frequencies(sample, node, table_vars, strict=True)
            variables.append(Variable(node, tuple(parents), cpt))
    return SCM(tuple(variables))


def table_truth(graph: CausalGraph, query: Query, sample: Sample) -> float:
    """The query's value on the SCM fitted to ``sample`` (see :func:`fitted_scm`).

    Raises ``ValueError`` when the table does not determine it (a needed row no unit
    reaches, or a condition no unit meets).
    """
    return truth(fitted_scm(graph, sample), query)


def table_agrees(
    scm: SCM,
    graph: CausalGraph,
    query: Query,
    sample: Sample,
    margin: float,
    population: float | None = None,
) -> bool:
    """Whether the table of ``sample`` implies the same answer as the population ``scm``,
    with both values clear of ``margin`` (the generator redraws when this is False).

    The table-implied value is :func:`table_truth`; for a rung-1 (observational) question
    the value read straight off the table's joint (the saturated fit) must agree as well,
    so either reading of the prompt gives the label. A back-door question depends on the
    stated graph alone, so every table agrees with it. A table that does not determine
    the value disagrees. ``population`` is the query's truth on ``scm`` when the caller
    already has it. The verdict does not depend on the query's polarity, so twins need
    one check.
    """
    kind = query.kind
    if kind.rule == "indicator":
        return True
    population = truth(scm, query) if population is None else population
    if not kind.clear_of_margin(population, margin):
        return False
    try:
        values = [table_truth(graph, query, sample)]
        if query.rung == 1:
            values.append(truth(fitted_scm(graph, sample, saturated=True), query))
    except ValueError:
        return False
    label = answer(query, population)
    return all(kind.clear_of_margin(v, margin) and answer(query, v) == label for v in values)
