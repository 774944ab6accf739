"""Item generation: spec → graph → SCM → query → truth → prompt, one item at a time.

Items follow the item contract, version 1 (``docs/item-contract.md``; the record type is
:class:`ladder.core.records.Item`), with slicing fields added (``query_type``, ``evidence``,
``n_nodes``, ``story``, ``margin``, ``association_answer``, ``discordant``). What each query
type asks, and how, is declared in its module of :mod:`ladder.engine.query_types`.
Item ``i`` of a run draws everything from its own generator seeded by
``(spec name, seed, i)``, so the same seed gives byte-identical files.

Balance: within each query type, the wanted answer alternates between yes and no
(whichever is behind) and the polarity (or, for ``backdoor_set``, the adjustment set) is
chosen to produce it, so yes and no are balanced wherever the type allows both
(``collider_bias`` is structurally "no").  Items whose truth lies within ``margin`` of the
decision threshold are redrawn, as are duplicate prompts and probability questions whose
answer is one of the stated numbers.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from ladder.core.errors import GenerationError
from ladder.core.records import CONTRACT_VERSION, Answer, Item
from ladder.engine.graphs import CausalGraph, get_family, random_dag
from ladder.engine.queries import Query, answer, association_truth, truth
from ladder.engine.query_types import get as get_query_type
from ladder.engine.query_types import supports, unsupported_reason
from ladder.engine.scm import SCM, random_scm
from ladder.generation.naming import names_for
from ladder.generation.specs import TaskSpec
from ladder.generation.verbalize import render_prompt, stated_probabilities

__all__ = [
    "CONTRACT_VERSION",
    "GenerationError",
    "generate_items",
    "item_count",
    "item_id",
    "supports",
    "unsupported_reason",
]

MAX_ATTEMPTS = 200


# -- items ----------------------------------------------------------------------------------------


def item_id(task: str, seed: int, index: int) -> str:
    """Stable id: a hash of (task, seed, index)."""
    return hashlib.sha256(f"{task}|{seed}|{index}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class _Cell:
    family: str  # a named family or "random"
    query_type: str


def _cells(spec: TaskSpec) -> list[_Cell]:
    cells = [_Cell(f, q) for f, qs in spec.cells.items() for q in qs]
    if spec.random_dags:
        cells += [_Cell("random", q) for q in spec.random_dags.queries]
    return cells


@functools.cache
def _family_graph(family: str) -> CausalGraph:
    # Named families are fixed graphs: build each once (nothing mutates them).
    return get_family(family)


def _draw_graph(spec: TaskSpec, cell: _Cell, evidence: str, rng: random.Random) -> CausalGraph:
    if cell.family != "random":
        return _family_graph(cell.family)
    assert spec.random_dags is not None
    lo, hi = spec.random_dags.nodes
    if evidence == "samples":  # a count table lists every configuration: keep it short
        hi = min(hi, spec.samples_max_nodes)
    return random_dag(rng.randint(lo, hi), spec.random_dags.density, rng=rng)


def _stratum(spec: TaskSpec, cell: _Cell, visit: int) -> tuple[str, str]:
    """Verbalization and evidence mode of the ``visit``-th item of a cell (cycled evenly)."""
    verbalizations = list(spec.verbalizations)
    if cell.family == "random":
        verbalizations = [v for v in verbalizations if v in ("nonsense", "symbolic")]
    modes = list(spec.evidence)
    if (
        cell.family == "random"
        and spec.random_dags
        and spec.random_dags.nodes[0] > spec.samples_max_nodes
    ):
        modes = [m for m in modes if m != "samples"] or ["probabilities"]
    verbalization = verbalizations[visit % len(verbalizations)]
    evidence = modes[(visit // len(verbalizations)) % len(modes)]
    return verbalization, evidence


@dataclass(frozen=True)
class _Draw:
    """One drawn question: its graph, SCM, query (polarity set) and exact value."""

    graph: CausalGraph
    scm: SCM
    query: Query
    value: float


def _draw_question(
    spec: TaskSpec, cell: _Cell, evidence: str, want: str, rng: random.Random
) -> _Draw | None:
    """Graph → SCM → query → truth → polarity, or None when this attempt must be redrawn."""
    kind = get_query_type(cell.query_type)
    graph = _draw_graph(spec, cell, evidence, rng)
    if kind.applies(graph) is not None:
        return None
    scm = random_scm(
        graph, rng, low=spec.cpt_range[0], high=spec.cpt_range[1], min_effect=spec.min_effect
    )
    query = kind.build(graph, scm, rng, want)
    if query is None:
        return None
    try:
        value = truth(scm, query)
    except ValueError:  # evidence of probability 0 under these parameters
        return None
    if not kind.clear_of_margin(value, spec.margin):
        return None
    polarity = kind.polarity_for(value, want, rng)
    return _Draw(graph, scm, dataclasses.replace(query, polarity=polarity), value)


def _association_answer(draw: _Draw) -> Answer | None:
    """What the perfect rung-1 reasoner answers: computed here, once, and stored."""
    try:
        return answer(draw.query, association_truth(draw.scm, draw.query))
    except ValueError:  # the observational counterpart conditions on a null event
        return None


def _record(
    spec: TaskSpec,
    seed: int,
    index: int,
    draw: _Draw,
    prompt: str,
    *,
    family: str,
    verbalization: str,
    evidence: str,
    story: str,
) -> Item:
    """The item (contract fields first, then the slicing fields)."""
    query, graph, correct = draw.query, draw.graph, answer(draw.query, draw.value)
    association = _association_answer(draw)
    return {
        "id": item_id(spec.name, seed, index),
        "task": spec.name,
        "rung": query.rung,  # type: ignore[typeddict-item]
        "graph_family": family,
        "verbalization": verbalization,  # type: ignore[typeddict-item]
        "scm": draw.scm.to_dict(),  # type: ignore[typeddict-item]
        "query": query.to_dict(),
        "truth": draw.value,
        "answer": correct,
        "prompt": prompt,
        "seed": seed,
        "index": index,
        "contract_version": CONTRACT_VERSION,
        "query_type": query.type,
        "evidence": evidence,  # type: ignore[typeddict-item]
        "n_nodes": len(graph.nodes),
        "story": story,
        "margin": spec.margin,
        "edges": [list(e) for e in sorted(graph.dag.edges)],
        # What the perfect rung-1 reasoner answers; "discordant" items are those it
        # gets wrong — the ladder gap lives there.
        "association_answer": association,
        "discordant": association is not None and association != correct,
    }


def _make_item(
    spec: TaskSpec,
    seed: int,
    index: int,
    cell: _Cell,
    stratum: tuple[str, str],
    want: str,
    seen_prompts: set[str],
) -> Item:
    rng = random.Random(f"{spec.name}|{seed}|{index}")
    verbalization, evidence = stratum
    for _ in range(MAX_ATTEMPTS):
        draw = _draw_question(spec, cell, evidence, want, rng)
        if draw is None:
            continue
        stated = stated_probabilities(draw.scm, draw.graph) if evidence == "probabilities" else None
        if (
            draw.query.kind.rule == "probability"
            and stated is not None
            and any(f"{p.value:.2f}" == f"{draw.value:.2f}" for p in stated)
        ):
            continue  # the answer would be a stated number (as printed, to 2 decimals)
        story, names = names_for(verbalization, cell.family, draw.graph.observed, rng)
        prompt = render_prompt(
            draw.scm,
            draw.graph,
            draw.query,
            names,
            symbolic=verbalization == "symbolic",
            evidence=evidence,
            rng=rng,
            sample_size=spec.sample_size,
            stated=stated,
        )
        if prompt in seen_prompts:
            continue
        seen_prompts.add(prompt)
        return _record(
            spec,
            seed,
            index,
            draw,
            prompt,
            family=cell.family,
            verbalization=verbalization,
            evidence=evidence,
            story=story,
        )
    raise GenerationError(
        f"{spec.source}: could not draw a valid {cell.query_type!r} item on "
        f"family {cell.family!r} in {MAX_ATTEMPTS} attempts "
        f"(margin {spec.margin} may be too large)"
    )


def item_count(spec: TaskSpec, n: int | None, option: str = "--n") -> int:
    """``n`` (default ``spec.n``), refused when below 1 or above the spec's ``max_n`` cap.

    >>> from ladder.generation.specs import load_suite
    >>> item_count(load_suite("quick"), 10**9)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ladder.core.errors.GenerationError: --n 1000000000: above the cap of 100000 items ...
    """
    n = spec.n if n is None else n
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise GenerationError(f"{option} {n!r}: the number of items must be at least 1")
    if n > spec.max_n:
        raise GenerationError(
            f"{option} {n}: above the cap of {spec.max_n} items (max_n of spec {spec.name}, "
            f"{spec.source}); set max_n in a spec to generate more"
        )
    return n


def generate_items(spec: TaskSpec, seed: int, n: int | None = None) -> Iterator[Item]:
    """Yield ``n`` (default ``spec.n``, at most ``spec.max_n``) items; cells are visited
    round-robin."""
    n = item_count(spec, n, "n")
    cells = _cells(spec)
    # Balance yes/no within every (cell, verbalization, evidence) stratum, so that no
    # slicing field predicts the answer; the order within a stratum is random.
    balance: dict[tuple[_Cell, str, str], Counter[str]] = {}
    order = random.Random(f"{spec.name}|{seed}|balance")
    seen: set[str] = set()
    for index in range(n):
        cell = cells[index % len(cells)]
        stratum = _stratum(spec, cell, index // len(cells))
        counts = balance.setdefault((cell, *stratum), Counter())
        if counts["yes"] == counts["no"]:
            want = order.choice(("yes", "no"))
        else:
            want = "yes" if counts["yes"] < counts["no"] else "no"
        item = _make_item(spec, seed, index, cell, stratum, want, seen)
        counts[item["answer"]] += 1
        yield item


def dumps(item: Item) -> str:
    """One JSONL line (stable key order, no trailing spaces)."""
    return json.dumps(item, ensure_ascii=False, separators=(",", ":"))
