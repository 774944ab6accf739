"""Item generation: spec → graph → SCM → query → truth → prompt, one item at a time.

Items follow the item contract (version 1) of DESIGN.md, with slicing fields added
(``query_type``, ``evidence``, ``n_nodes``, ``story``, ``margin``).  Item ``i`` of a run
draws everything from its own generator seeded by ``(spec name, seed, i)``, so the same
seed gives byte-identical files.

Balance: within each query type, the wanted answer alternates between yes and no
(whichever is behind) and the polarity (or, for ``backdoor_set``, the adjustment set) is
chosen to produce it, so yes and no are balanced wherever the type allows both
(``collider_bias`` is structurally "no").  Items whose truth lies within ``margin`` of the
decision threshold are redrawn, as are duplicate prompts and probability questions whose
answer is one of the stated numbers.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import networkx as nx

from ladder.core.errors import GenerationError, SCMError
from ladder.engine import inference
from ladder.engine.graphs import CausalGraph, get_family, random_dag
from ladder.engine.queries import QUERY_TYPES, Query, answer, association_truth, truth
from ladder.engine.scm import SCM, random_scm
from ladder.generation.naming import names_for
from ladder.generation.specs import TaskSpec
from ladder.generation.verbalize import render_prompt, stated_probabilities

__all__ = [
    "CONTRACT_VERSION",
    "GenerationError",
    "generate_items",
    "item_id",
    "supports",
    "unsupported_reason",
]

CONTRACT_VERSION = 1
MAX_ATTEMPTS = 200


# -- which query is defined on which graph ---------------------------------------------------


def _effect_path(g: CausalGraph) -> str | None:
    if not nx.has_path(g.dag, g.treatment, g.outcome):
        return f"{g.treatment} is not a cause of {g.outcome} (the effect is structurally 0)"
    return None


def _fully_observed(g: CausalGraph) -> str | None:
    return "it has a hidden variable, so counterfactuals are not identified" if g.hidden else None


def _mediator_of(g: CausalGraph) -> str | None:
    if g.mediator:
        return g.mediator
    if g.family.startswith("random"):
        kids = [
            c
            for c in g.nodes
            if g.dag.has_edge(g.treatment, c)
            and c != g.outcome
            and nx.has_path(g.dag, c, g.outcome)
        ]
        return kids[0] if kids else None
    return None


def _needs_mediator(g: CausalGraph) -> str | None:
    return None if _mediator_of(g) else "it has no mediator"


def _ate_reason(g: CausalGraph) -> str | None:
    if g.hidden and "instrument" in g.roles:
        return None  # asked about the instrument's effect, which is unconfounded
    if g.hidden and not (
        g.mediator and inference.is_frontdoor_set(g.dag, g.treatment, g.outcome, {g.mediator})
    ):
        return "the effect is not identified"
    return _effect_path(g)


def _nde_reason(g: CausalGraph) -> str | None:
    reason = _fully_observed(g) or _needs_mediator(g)
    if reason:
        return reason
    m = _mediator_of(g)
    cut = g.dag.copy()
    cut.remove_node(m)
    if not nx.has_path(cut, g.treatment, g.outcome):
        return f"every path from {g.treatment} to {g.outcome} passes {m} (NDE is structurally 0)"
    return None


def _associated(g: CausalGraph) -> str | None:
    if nx.is_d_separator(g.dag, {g.treatment}, {g.outcome}, set()):
        return f"{g.treatment} and {g.outcome} are independent (the contrast is structurally 0)"
    return None


_SUPPORT: dict[str, Callable[[CausalGraph], str | None]] = {
    "marginal": lambda g: None,
    "correlation": _associated,
    "explaining_away": lambda g: None if "collider" in g.roles else "it has no collider",
    "ate": _ate_reason,
    "collider_bias": lambda g: None if "collider" in g.roles else "it has no collider",
    "backdoor_set": lambda g: None,
    "ett": lambda g: _fully_observed(g) or _effect_path(g),
    "nde": _nde_reason,
    "nie": lambda g: _fully_observed(g) or _needs_mediator(g),
    "counterfactual": _fully_observed,
}


def supports(graph: CausalGraph, query_type: str) -> bool:
    """Whether ``query_type`` is asked on ``graph``."""
    return _SUPPORT[query_type](graph) is None


def unsupported_reason(family: str, query_type: str) -> str | None:
    """Why ``query_type`` is undefined on ``family`` (None when it is defined).

    Random DAGs are checked per drawn graph; at spec level only the roles they never
    have are ruled out.
    """
    if family == "random":
        if query_type in ("explaining_away", "collider_bias"):
            return "random DAGs have no designated collider"
        return None
    return _SUPPORT[query_type](get_family(family))


# -- query builders -----------------------------------------------------------------------------


def _candidate_sets(g: CausalGraph, treatment: str, rng: random.Random) -> list[tuple[str, ...]]:
    others = [v for v in g.observed if v not in (treatment, g.outcome)]
    sets = {(), tuple(p for p in g.parents(treatment) if p not in g.hidden)}
    sets.update((v,) for v in others)
    for size in (2, 3):
        combos = list(itertools.combinations(others, size))
        rng.shuffle(combos)
        sets.update(combos[:6])
    return sorted(sets)


def _backdoor_query(g: CausalGraph, rng: random.Random, want: str) -> Query | None:
    """A back-door question with the wanted validity.

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


def _build_query(
    kind: str, g: CausalGraph, scm: SCM, rng: random.Random, want: str
) -> Query | None:
    x, y = g.treatment, g.outcome
    if kind == "marginal":
        # Ask about the outcome, or about a non-root when the outcome is a root (its
        # probability would be a stated number).
        target = y if g.parents(y) else next(v for v in g.observed if g.parents(v))
        given = {x: rng.randint(0, 1)} if rng.random() < 0.5 and x != target else {}
        return Query(kind, treatment=None, outcome=target, given=given)
    if kind == "correlation":
        return Query(kind, treatment=x, outcome=y)
    if kind == "explaining_away":
        return Query(kind, treatment=x, outcome=y, given={g.roles["collider"]: rng.randint(0, 1)})
    if kind == "ate":
        treat = g.roles["instrument"] if g.hidden and "instrument" in g.roles else x
        return Query(kind, treatment=treat, outcome=y)
    if kind == "collider_bias":
        return Query(kind, treatment=x, outcome=y)
    if kind == "backdoor_set":
        return _backdoor_query(g, rng, want)
    if kind == "ett":
        return Query(kind, treatment=x, outcome=y, given={x: rng.randint(0, 1)})
    if kind in ("nde", "nie"):
        return Query(kind, treatment=x, outcome=y, mediator=_mediator_of(g))
    if kind == "counterfactual":
        xv = rng.randint(0, 1)
        given = {x: xv, y: rng.randint(0, 1)} if rng.random() < 0.75 else {x: xv}
        return Query(kind, treatment=x, outcome=y, given=given, do={x: 1 - xv})
    raise SCMError(f"unknown query type {kind!r}")


def _polarity_for(kind: str, value: float, want: str, rng: random.Random) -> int:
    rule = QUERY_TYPES[kind].rule
    if rule == "indicator":
        return 1
    if kind == "collider_bias":
        return rng.choice((1, -1))
    centred = value - 0.5 if rule == "probability" else value
    sign = 1 if centred > 0 else -1
    return sign if want == "yes" else -sign


def _clear_of_margin(kind: str, value: float, margin: float) -> bool:
    rule = QUERY_TYPES[kind].rule
    if rule == "indicator":
        return True
    if kind == "collider_bias":
        return abs(value) < 1e-12  # structural zero
    centred = value - 0.5 if rule == "probability" else value
    return abs(centred) >= max(margin, 1e-9)


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


def _make_item(
    spec: TaskSpec,
    seed: int,
    index: int,
    cell: _Cell,
    stratum: tuple[str, str],
    want: str,
    seen_prompts: set[str],
) -> dict[str, Any]:
    rng = random.Random(f"{spec.name}|{seed}|{index}")
    verbalization, evidence = stratum
    for _ in range(MAX_ATTEMPTS):
        graph = _draw_graph(spec, cell, evidence, rng)
        if not supports(graph, cell.query_type):
            continue
        scm = random_scm(
            graph, rng, low=spec.cpt_range[0], high=spec.cpt_range[1], min_effect=spec.min_effect
        )
        query = _build_query(cell.query_type, graph, scm, rng, want)
        if query is None:
            continue
        try:
            value = truth(scm, query)
        except ValueError:  # evidence of probability 0 under these parameters
            continue
        if not _clear_of_margin(cell.query_type, value, spec.margin):
            continue
        polarity = _polarity_for(cell.query_type, value, want, rng)
        query = Query(**{**query.__dict__, "polarity": polarity})
        mode = evidence
        stated = stated_probabilities(scm, graph) if mode == "probabilities" else None
        if (
            QUERY_TYPES[query.type].rule == "probability"
            and stated is not None
            and any(f"{p.value:.2f}" == f"{value:.2f}" for p in stated)
        ):
            continue  # the answer would be a stated number (as printed, to 2 decimals)
        family = "random" if cell.family == "random" else cell.family
        story, names = names_for(verbalization, family, graph.observed, rng)
        prompt = render_prompt(
            scm,
            graph,
            query,
            names,
            symbolic=verbalization == "symbolic",
            evidence=mode,
            rng=rng,
            sample_size=spec.sample_size,
            stated=stated,
        )
        if prompt in seen_prompts:
            continue
        seen_prompts.add(prompt)
        try:
            association = answer(query, association_truth(scm, query))
        except ValueError:  # the observational counterpart conditions on a null event
            association = None
        return {
            "id": item_id(spec.name, seed, index),
            "task": spec.name,
            "rung": query.rung,
            "graph_family": family,
            "verbalization": verbalization,
            "scm": scm.to_dict(),
            "query": query.to_dict(),
            "truth": value,
            "answer": answer(query, value),
            "prompt": prompt,
            "seed": seed,
            "index": index,
            "contract_version": CONTRACT_VERSION,
            "query_type": query.type,
            "evidence": mode,
            "n_nodes": len(graph.nodes),
            "story": story,
            "margin": spec.margin,
            "edges": [list(e) for e in sorted(graph.dag.edges)],
            # What the perfect rung-1 reasoner answers; "discordant" items are those it
            # gets wrong — the ladder gap lives there.
            "association_answer": association,
            "discordant": association is not None and association != answer(query, value),
        }
    raise GenerationError(
        f"{spec.source}: could not draw a valid {cell.query_type!r} item on "
        f"family {cell.family!r} in {MAX_ATTEMPTS} attempts "
        f"(margin {spec.margin} may be too large)"
    )


def generate_items(spec: TaskSpec, seed: int, n: int | None = None) -> Iterator[dict[str, Any]]:
    """Yield ``n`` (default ``spec.n``) items; cells are visited round-robin."""
    n = spec.n if n is None else n
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


def dumps(item: dict[str, Any]) -> str:
    """One JSONL line (stable key order, no trailing spaces)."""
    return json.dumps(item, ensure_ascii=False, separators=(",", ":"))
