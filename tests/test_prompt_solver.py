"""A prompt-only solver: reads a symbolic item's prompt, not its SCM, and answers it.

The solver parses the graph sentence, the evidence (``probabilities`` mode: the stated
``P(V=1 | …)`` numbers; ``samples`` mode: the count table), rebuilds an SCM from those
numbers with ladder.engine, and computes the question (whose wording it checks against the
item's ``query``). Hidden common causes are handled by identification, written here
independently of :mod:`ladder.generation.prompt_check`: the front-door formula, or the
observed contrast for a treatment without parents.

Graph-only questions are answered by independent references (``ref_is_backdoor``, a
path-by-path d-separation check, and y0's identification), not by the engine. Numeric
questions use the engine's exact inference on the model rebuilt from the prompt's numbers:
what this tests is that the prompt states enough, and the right numbers, to recover the
label (the engine itself is held against pgmpy and brute force elsewhere).

2,000 symbolic items (seed 0, both evidence modes) are generated once per module; the
generator keeps only samples whose table implies the label (:func:`table_agrees`).
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections import Counter
from typing import Any

import networkx as nx
import numpy as np
import pytest
from references import ref_is_backdoor, y0_identifiable

from ladder.engine import inference
from ladder.engine.graphs import CausalGraph, get_family
from ladder.engine.queries import Query, answer, truth
from ladder.engine.scm import SCM, Variable
from ladder.generation.generate import generate_items
from ladder.generation.naming import symbolic_names
from ladder.generation.prompt_check import table_agrees
from ladder.generation.specs import load_suite
from ladder.generation.verbalize import Sample, question

N = 2000
SEED = 0
HIDDEN = "_U"  # the solver's name for an unobserved common cause (the prompt names none)

_EFFECT = re.compile(r"(\w+) has a direct effect on ([^.]+)\.")
_COMMON = re.compile(r"([^.]+?) are both affected by an unobserved common cause\.")
_STATED = re.compile(r"P\((\w+)=1(?: \| ([^)]*))?\) = ([0-9.]+)\.")


def _names(text: str) -> list[str]:
    return re.split(r", | and ", text.strip())


def parse_graph(line: str) -> nx.DiGraph:
    """The graph sentence: observed edges, and a hidden node per shared unobserved cause."""
    dag = nx.DiGraph()
    for parent, children in _EFFECT.findall(line):
        dag.add_edges_from((parent, c) for c in _names(children))
    for i, kids in enumerate(_COMMON.findall(line)):
        dag.add_edges_from((f"{HIDDEN}{i}", c) for c in _names(kids.strip()))
    return dag


def parse_stated(line: str) -> dict[str, dict[tuple[tuple[str, int], ...], float]]:
    """``probabilities`` mode: target → {condition: stated P(target=1 | condition)}."""
    out: dict[str, dict[tuple[tuple[str, int], ...], float]] = {}
    for target, cond, value in _STATED.findall(line):
        pairs = [c.split("=") for c in cond.split(", ")] if cond else []
        out.setdefault(target, {})[tuple((k, int(v)) for k, v in pairs)] = float(value)
    return out


def parse_table(lines: list[str]) -> Sample:
    """``samples`` mode: the count table as a :class:`Sample` (absent rows count 0)."""
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    header = rows[0][:-1]
    counts = np.zeros((2,) * len(header))
    for row in rows[2:]:
        counts[tuple(int(b) for b in row[:-1])] = int(row[-1])
    return Sample(tuple(header), counts)


def _cpt(freq, node: str, parents: list[str], fill: float | None) -> tuple[float, ...]:
    """Cpt rows from ``freq``; a row no unit reaches gets ``fill`` (None: undetermined)."""
    rows = []
    for bits in itertools.product((0, 1), repeat=len(parents)):
        try:
            rows.append(freq(node, dict(zip(parents, bits, strict=True))))
        except ValueError:
            if fill is None:
                raise
            rows.append(fill)
    return tuple(rows)


def _observational_scm(dag: nx.DiGraph, order: list[str], freq, saturated: bool) -> SCM:
    """Observed variables only; a variable conditions on its parents, or on every earlier
    variable when it has a hidden parent (or when ``saturated``)."""
    variables = []
    for i, node in enumerate(order):
        parents = [p for p in order if dag.has_edge(p, node)]
        if saturated or any(p.startswith(HIDDEN) for p in dag.predecessors(node)):
            parents = order[:i]
        # In the saturated model a row no unit reaches has probability 0: any value will do.
        cpt = _cpt(freq, node, parents, 0.5 if saturated else None)
        variables.append(Variable(node, tuple(parents), cpt))
    return SCM(tuple(variables))


def _frontdoor(obs: SCM, dag: nx.DiGraph, x: str, y: str) -> float:
    """Σ_m P(m|x) Σ_x' P(y|m,x') P(x'), for do(X=1) minus do(X=0), on the observed model."""
    (m,) = [c for c in dag.successors(x) if not c.startswith(HIDDEN)]
    assert inference.is_frontdoor_set(dag, x, y, {m})

    def do(value: int) -> float:
        total = 0.0
        for mv in (0, 1):
            p_m = inference.probability(obs, {m: mv}, {x: value})
            inner = sum(
                inference.probability(obs, {y: 1}, {m: mv, x: xv})
                * inference.probability(obs, {x: xv})
                for xv in (0, 1)
            )
            total += p_m * inner
        return total

    return do(1) - do(0)


def solve(item: dict[str, Any]) -> str | None:
    """The answer the prompt implies (None: the prompt does not determine it)."""
    lines = item["prompt"].split("\n")
    dag = parse_graph(lines[1])
    query = Query.from_dict(item["query"])
    table = [line for line in lines if line.startswith("|")]
    if table:
        sample = parse_table(table)
        order, freq = list(sample.variables), sample.probability
    else:
        stated = parse_stated(lines[2])
        order = list(stated)

        def freq(node: str, cond: dict[str, int]) -> float:
            return stated[node][tuple(cond.items())]

    assert question(query, symbolic_names(order), True) == lines[-2]  # the query it asks
    dag.add_nodes_from(order)
    hidden = any(n.startswith(HIDDEN) for n in dag)
    if query.type == "backdoor_set":  # a question about the stated graph alone
        assert query.treatment and query.outcome is not None and query.adjust is not None
        ok = ref_is_backdoor(dag, query.treatment, query.outcome, set(query.adjust))
        return "yes" if ok else "no"
    if query.type == "identifiable":  # also the stated graph alone: run ID on it
        assert query.treatment and query.outcome is not None
        unseen = {n for n in dag if n.startswith(HIDDEN)}
        ok = y0_identifiable(dag, unseen, query.treatment, query.outcome)
        return "yes" if ok else "no"
    try:
        # Observational questions are read straight off the table's joint.
        obs = _observational_scm(dag, order, freq, saturated=bool(table) and query.rung == 1)
        if not hidden or query.rung == 1:
            return answer(query, truth(obs, query))
        assert query.type == "ate" and query.treatment and query.outcome
        if not list(dag.predecessors(query.treatment)):  # an exogenous treatment (IV's Z)
            value = inference.contrast(obs, query.treatment, query.outcome)
        else:
            value = _frontdoor(obs, dag, query.treatment, query.outcome)
        return answer(query, value)
    except ValueError:  # a row or condition the table has no unit for
        return None


def item_graph(item: dict[str, Any]) -> CausalGraph:
    """The item's causal graph (hidden nodes included), from its family or its edges."""
    if item["graph_family"] != "random":
        return get_family(item["graph_family"])
    dag = nx.DiGraph([tuple(e) for e in item["edges"]])
    q = item["query"]
    return CausalGraph("random", dag, q.get("treatment", q["outcome"]), q["outcome"])


def table_check(item: dict[str, Any]) -> bool:
    """``table_agrees`` as the generator is to call it, on the table the prompt shows."""
    if item["evidence"] != "samples":
        return True
    table = [line for line in item["prompt"].split("\n") if line.startswith("|")]
    scm = SCM.from_dict(item["scm"])
    query = Query.from_dict(item["query"])
    return table_agrees(scm, item_graph(item), query, parse_table(table), item["margin"])


@pytest.fixture(scope="module")
def solved() -> list[tuple[dict[str, Any], str | None, bool]]:
    spec = dataclasses.replace(load_suite("core"), verbalizations=("symbolic",))
    items = list(generate_items(spec, SEED, N))
    return [(item, solve(item), table_check(item)) for item in items]


def test_items_are_symbolic_in_both_modes(solved) -> None:
    modes = Counter(item["evidence"] for item, _, _ in solved)
    assert len(solved) == N and all(i["verbalization"] == "symbolic" for i, _, _ in solved)
    assert modes["samples"] > 500 and modes["probabilities"] > 500


def test_probabilities_mode_has_no_disagreement(solved) -> None:
    wrong = [
        i["id"] for i, got, _ in solved if i["evidence"] == "probabilities" and got != i["answer"]
    ]
    assert wrong == []


def test_samples_mode_has_no_disagreement(solved) -> None:
    """Generation keeps only tables that imply the label (``table_agrees``), so a solver that
    reads nothing but the prompt's table agrees with every label."""
    samples = [(i, got, ok) for i, got, ok in solved if i["evidence"] == "samples"]
    assert [i["id"] for i, got, _ in samples if got != i["answer"]] == []
    assert all(ok for _, _, ok in samples)  # the check, rerun on the table shown, passes
