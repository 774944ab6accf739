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
import itertools
import json
import random
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from ladder.core.errors import GenerationError
from ladder.core.records import ANSWERS, CONTRACT_VERSION, CONTRACT_VERSION_V1, Answer, Item
from ladder.engine.graphs import CausalGraph, get_family, random_dag
from ladder.engine.queries import Query, answer, association_truth, truth
from ladder.engine.query_types import QueryType, supports, unsupported_reason
from ladder.engine.query_types import get as get_query_type
from ladder.engine.scm import SCM, random_scm
from ladder.generation.naming import names_for
from ladder.generation.prompt_check import table_agrees
from ladder.generation.specs import PAIR_KEY, TaskSpec
from ladder.generation.verbalize import (
    Sample,
    Stated,
    StatedProbability,
    draw_sample,
    render_prompt,
    stated_contrasts,
    stated_probabilities,
)

__all__ = [
    "CONTRACT_VERSION",
    "NO_COUNTERPART",
    "GenerationError",
    "discordant_counts",
    "family_id",
    "generate_families",
    "generate_items",
    "item_count",
    "item_id",
    "question_key",
    "supports",
    "twin_id",
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


def _draw_graph(spec: TaskSpec, family: str, evidence: str, rng: random.Random) -> CausalGraph:
    if family != "random":
        return _family_graph(family)
    assert spec.random_dags is not None
    lo, hi = spec.random_dags.nodes
    if evidence == "samples":  # a count table lists every configuration: keep it short
        hi = min(hi, spec.samples_max_nodes)
    n_nodes = rng.randint(lo, hi)
    if spec.random_dags.hidden is None:  # no further draw: fully observed cells stay as before
        return random_dag(n_nodes, spec.random_dags.density, rng=rng)
    k = rng.randint(*spec.random_dags.hidden)
    return random_dag(n_nodes, spec.random_dags.density, rng=rng, hidden=k)


def _cell_verbalizations(spec: TaskSpec, family: str) -> list[str]:
    """The spec's verbalizations usable on ``family`` (random DAGs have no stories)."""
    if family == "random":
        return [v for v in spec.verbalizations if v in ("nonsense", "symbolic")]
    return list(spec.verbalizations)


def _cell_modes(spec: TaskSpec, family: str) -> list[str]:
    """The spec's evidence modes usable on ``family`` (no tables for large random DAGs)."""
    modes = list(spec.evidence)
    if (
        family == "random"
        and spec.random_dags
        and spec.random_dags.nodes[0] > spec.samples_max_nodes
    ):
        modes = [m for m in modes if m != "samples"] or ["probabilities"]
    return modes


def _stratum(spec: TaskSpec, family: str, visit: int) -> tuple[str, str]:
    """Verbalization and evidence mode of the ``visit``-th item of a cell (cycled evenly)."""
    verbalizations = _cell_verbalizations(spec, family)
    modes = _cell_modes(spec, family)
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
    graph = _draw_graph(spec, cell.family, evidence, rng)
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
        "contract_version": CONTRACT_VERSION_V1,
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
        if _states_answer(draw.query.kind, draw.value, stated):
            continue  # the answer would be a stated number (as printed, to 2 decimals)
        story, names = names_for(verbalization, cell.family, draw.graph.observed, rng)
        sample = None
        if evidence == "samples":
            sample = draw_sample(draw.scm, draw.graph, spec.sample_size, rng)
            if not table_agrees(draw.scm, draw.graph, draw.query, sample, spec.margin, draw.value):
                continue  # the table shown implies another answer, or sits inside the margin
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
            sample=sample,
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
    round-robin. A spec with a ``families`` block yields item families (contract 2, see
    :func:`generate_families`), one without it contract-1 items."""
    n = item_count(spec, n, "n")
    if spec.families is not None:
        yield from generate_families(spec, seed, n)
        return
    cells = _cells(spec)
    # Balance yes/no within every (cell, verbalization, evidence) stratum, so that no
    # slicing field predicts the answer; the order within a stratum is random.
    balance: dict[tuple[_Cell, str, str], Counter[str]] = {}
    order = random.Random(f"{spec.name}|{seed}|balance")
    seen: set[str] = set()
    for index in range(n):
        cell = cells[index % len(cells)]
        stratum = _stratum(spec, cell.family, index // len(cells))
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


# -- item families (contract version 2) -----------------------------------------------------------
#
# A family is one SCM with one naming per verbalization and one evidence rendering (the same
# stated numbers or the same sample table for every question). It asks every query type of
# its cell that is defined on the drawn graph, each in both polarities ("twins").

#: How often a question's builder is asked again (for types that draw their evidence) before
#: the question is left out of its family.
QUESTION_TRIES = 3


def family_id(task: str, seed: int, family: int) -> str:
    """Stable id of the ``family``-th family of a run: a hash of (task, seed, family index).

    >>> family_id("core", 0, 3) == family_id("core", 0, 3) != family_id("core", 1, 3)
    True
    """
    return hashlib.sha256(f"{task}|{seed}|family|{family}".encode()).hexdigest()[:16]


def twin_id(family: str, verbalization: str, key: str) -> str:
    """The id two twins share: a hash of (family id, verbalization, question key)."""
    return hashlib.sha256(f"{family}|{verbalization}|{key}".encode()).hexdigest()[:16]


def question_key(query: Query) -> str:
    """The question within its family, without polarity or adjustment set.

    >>> question_key(Query("counterfactual", treatment="X", outcome="Y", given={"X": 1},
    ...                    do={"X": 0}))
    'counterfactual:X->Y|given=X=1|do=X=0'
    >>> question_key(Query("nde", treatment="X", outcome="Y", mediator="M"))
    'nde:X->Y|mediator=M'
    """
    head = f"{query.treatment}->{query.outcome}" if query.treatment else f"{query.outcome}"
    parts = [f"{query.type}:{head}"]
    if query.mediator is not None:
        parts.append(f"mediator={query.mediator}")
    for name, values in (("given", query.given), ("do", query.do)):
        if values:
            parts.append(f"{name}=" + ",".join(f"{k}={v}" for k, v in values.items()))
    return "|".join(parts)


@dataclass(frozen=True)
class _GraphCell:
    """A graph family (or ``random``) and the query types its families ask."""

    family: str
    queries: tuple[str, ...]


def _graph_cells(spec: TaskSpec) -> list[_GraphCell]:
    assert spec.families is not None
    wanted = spec.families.questions

    def keep(queries: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(q for q in queries if wanted is None or q in wanted)

    cells = [_GraphCell(f, keep(qs)) for f, qs in spec.cells.items()]
    if spec.random_dags:
        cells.append(_GraphCell("random", keep(spec.random_dags.queries)))
    return [c for c in cells if c.queries]


@dataclass(frozen=True)
class _Question:
    """One question of a family: its key and its twins (or its single draw), with values."""

    key: str
    draws: tuple[tuple[Query, float], ...]


def _states_answer(kind: QueryType, value: float, stated: Sequence[Stated] | None) -> bool:
    """Whether a probability question's answer is one of the stated probabilities (as
    printed; a stated difference is not a probability, so it gives nothing away)."""
    if kind.rule != "probability" or stated is None:
        return False
    return any(
        f"{p.value:.2f}" == f"{value:.2f}" for p in stated if isinstance(p, StatedProbability)
    )


def _ask_indicator(
    spec: TaskSpec, kind: QueryType, graph: CausalGraph, scm: SCM, rng: random.Random
) -> _Question | None:
    """An indicator type's twins: the builder's "yes" and "no" questions on this graph
    (for ``backdoor_set``: a valid and an invalid adjustment set); one alone when the
    graph offers only one answer (its ``twin_id`` is null)."""
    draws = []
    for want in ANSWERS:
        query = kind.build(graph, scm, rng, want)
        if query is not None and answer(query, value := truth(scm, query)) == want:
            draws.append((query, value))
    if not draws:
        return None
    assert spec.families is not None
    if len(draws) == 1 or not spec.families.twins:
        draws = [rng.choice(draws)]
    return _Question(question_key(draws[0][0]), tuple(draws))


def _ask(
    spec: TaskSpec,
    kind: QueryType,
    graph: CausalGraph,
    scm: SCM,
    stated: Sequence[Stated] | None,
    rng: random.Random,
) -> _Question | None:
    """One question of ``kind`` on the SCM, clear of the margin, or None to leave it out."""
    assert spec.families is not None
    if kind.rule == "indicator":
        return _ask_indicator(spec, kind, graph, scm, rng)
    tried: list[Query] = []
    for _ in range(QUESTION_TRIES):
        query = kind.build(graph, scm, rng, "yes")
        if query is None:
            return None
        if query in tried:  # a builder without randomness gives the same query again
            continue
        tried.append(query)
        try:
            value = truth(scm, query)
        except ValueError:  # evidence of probability 0 under these parameters
            continue
        if not kind.clear_of_margin(value, spec.margin) or _states_answer(kind, value, stated):
            continue
        key = question_key(query)
        if kind.structural_zero or not spec.families.twins:
            polarity = kind.polarity_for(value, rng.choice(ANSWERS), rng)
            return _Question(key, ((dataclasses.replace(query, polarity=polarity), value),))
        twins = [(dataclasses.replace(query, polarity=p), value) for p in (1, -1)]
        return _Question(key, tuple(twins))
    return None


@dataclass(frozen=True)
class _Family:
    """A drawn family: graph, SCM, its evidence (stated numbers or one sample) and questions."""

    graph: CausalGraph
    scm: SCM
    stated: list[Stated] | None
    sample: Sample | None
    questions: list[_Question]
    kinds: tuple[QueryType, ...] = ()


def _enough(kinds: Sequence[QueryType], questions: Sequence[_Question]) -> bool:
    """A family is kept when at least half its candidate questions cleared the margin and
    every rung among the candidates kept a question; otherwise the SCM is drawn again."""
    rungs = {q.draws[0][0].rung for q in questions}
    return 2 * len(questions) >= len(kinds) and rungs == {k.rung for k in kinds}


def _draw_scm(
    spec: TaskSpec, cell: _GraphCell, evidence: str, rng: random.Random
) -> _Family | None:
    """Graph → SCM → stated numbers, no questions yet (None when no type applies)."""
    graph = _draw_graph(spec, cell.family, evidence, rng)
    kinds = [get_query_type(q) for q in cell.queries]
    kinds = [k for k in kinds if k.applies(graph) is None]
    if not kinds:
        return None
    scm = random_scm(
        graph, rng, low=spec.cpt_range[0], high=spec.cpt_range[1], min_effect=spec.min_effect
    )
    stated = stated_probabilities(scm, graph) if evidence == "probabilities" else None
    return _Family(graph, scm, stated, None, [], tuple(kinds))


def _ask_all(
    spec: TaskSpec, fam: _Family, rng: random.Random, asked: dict[str, _Question | None]
) -> _Family | None:
    """The family with every question of its cell (those in ``asked`` already drawn), or
    None when too few cleared the margin (see :func:`_enough`)."""
    questions = []
    for k in fam.kinds:
        q = asked[k.name] if k.name in asked else _ask(spec, k, fam.graph, fam.scm, fam.stated, rng)
        if q is not None:
            questions.append(q)
    if not _enough(fam.kinds, questions):
        return None
    fam = dataclasses.replace(fam, questions=questions)
    if spec.families is not None and spec.families.contrasts and fam.stated is not None:
        return _with_contrasts(fam, spec.families.contrasts)
    return fam


def _contrast_pairs(questions: Sequence[_Question]) -> list[tuple[str, str]]:
    """The (treatment, outcome) pairs of the difference questions asked without evidence
    other than the treatment: those whose rung-1 counterpart is the plain contrast."""
    pairs: list[tuple[str, str]] = []
    for q in questions:
        query = q.draws[0][0]
        if get_query_type(query.type).rule != "difference" or not query.treatment:
            continue
        if not query.outcome or set(query.given) - {query.treatment}:
            continue
        if (query.treatment, query.outcome) not in pairs:
            pairs.append((query.treatment, query.outcome))
    return pairs


def _with_contrasts(fam: _Family, form: str) -> _Family | None:
    """The family with its pairs' observational contrasts added to the stated numbers, as
    ``form`` (``pair`` or ``difference``, see :func:`stated_contrasts`), or None to draw
    again. A probability question whose answer is now printed would give itself away: it
    is dropped."""
    assert fam.stated is not None
    added = stated_contrasts(fam.scm, _contrast_pairs(fam.questions), fam.stated, form)
    if added is None:
        return None
    stated = [*fam.stated, *added]
    questions = [
        q
        for q in fam.questions
        if not _states_answer(get_query_type(q.draws[0][0].type), q.draws[0][1], stated)
    ]
    if not _enough(fam.kinds, questions):
        return None
    return dataclasses.replace(fam, stated=stated, questions=questions)


def _draw_family(
    spec: TaskSpec, cell: _GraphCell, evidence: str, rng: random.Random
) -> _Family | None:
    """Graph → SCM → every defined question of the cell, or None to draw again. The sample
    (``samples`` mode) is drawn later, by :func:`_sampled`."""
    fam = _draw_scm(spec, cell, evidence, rng)
    return None if fam is None else _ask_all(spec, fam, rng, {})


def _sampled(spec: TaskSpec, fam: _Family, evidence: str, rng: random.Random) -> _Family | None:
    """The family with its sample table (``samples`` mode), or None to draw again."""
    if evidence != "samples":
        return fam
    sample = draw_sample(fam.scm, fam.graph, spec.sample_size, rng)
    # Labels true to the prompt: keep only questions whose answer the table shown implies.
    # Twins differ only in polarity (back-door twins always agree), which does not change
    # the verdict: one check per question.
    questions = [
        q
        for q in fam.questions
        if table_agrees(fam.scm, fam.graph, q.draws[0][0], sample, spec.margin, q.draws[0][1])
    ]
    if not _enough(fam.kinds, questions):
        return None
    return dataclasses.replace(fam, sample=sample, questions=questions)


# -- discordant-rich sampling ---------------------------------------------------------------------
#
# An item is discordant when the perfect rung-1 reasoner's answer is wrong. The spec's
# ``families.discordant`` sets a target share per query type (and for correlation-vs-ate
# pairs). Each family draws up to ``families.candidates`` SCMs (all from the family's own
# generator) and keeps the one that makes the most below-target keys discordant.

#: Query types without a rung-1 counterpart in contract 2: their ``association_answer`` is
#: null and they are never discordant (version-1 items keep the heuristic they had).
NO_COUNTERPART = frozenset({"backdoor_set"})
#: Draws that look for a discordant question of a key on a cell before calling it impossible.
PROBE_DRAWS = 300
#: Families aim this far above each target, so that the share ends at or above it.
AIM_ABOVE = 0.03
#: A required target is checked after generation once its key has this many items (pairs).
CHECK_MIN = 100


def discordant_counts(items: Iterable[Item]) -> dict[str, list[int]]:
    """``{key: [discordant, total]}`` per query type, and for :data:`PAIR_KEY`: the
    correlation and ate questions on the same X → Y of one family and verbalization, counted
    once per pair, discordant when their truths have opposite signs.

    >>> a = {"query_type": "ate", "discordant": True, "family_id": "f", "verbalization": "v",
    ...      "query": {"type": "ate", "treatment": "X", "outcome": "Y"}, "truth": 0.2}
    >>> c = {**a, "query_type": "correlation", "discordant": False, "truth": -0.1,
    ...      "query": {**a["query"], "type": "correlation"}}
    >>> discordant_counts([a, a, c, c])
    {'ate': [2, 2], 'correlation': [0, 2], 'correlation_vs_ate': [1, 1]}
    """
    counts: dict[str, list[int]] = {}
    pairs: dict[tuple[object, ...], dict[str, float]] = {}
    for item in items:
        c = counts.setdefault(str(item.get("query_type")), [0, 0])
        c[0] += bool(item.get("discordant"))
        c[1] += 1
        q = item["query"]
        if q["type"] in ("correlation", "ate") and "family_id" in item and not q.get("given"):
            where = (item["family_id"], item["verbalization"], q.get("treatment"), q["outcome"])
            pairs.setdefault(where, {})[q["type"]] = item["truth"]
    for values in pairs.values():
        if len(values) == 2:
            c = counts.setdefault(PAIR_KEY, [0, 0])
            c[0] += (values["correlation"] > 0) != (values["ate"] > 0)
            c[1] += 1
    return counts


def _is_discordant(key: str, scm: SCM, draws: Sequence[tuple[Query, float]]) -> bool:
    """Whether the draws of ``key`` (the pair's correlation and ate, or one type's draws)
    are discordant on ``scm``."""
    if key == PAIR_KEY:
        (corr, c), (ate, a) = sorted(draws, key=lambda d: d[0].type != "correlation")
        same = (corr.treatment, corr.outcome) == (ate.treatment, ate.outcome)
        return same and (c > 0) != (a > 0)
    if draws and draws[0][0].kind.rule != "indicator":
        draws = draws[:1]  # twins flip answer and association answer together
    for query, value in draws:
        try:
            association = answer(query, association_truth(scm, query))
        except ValueError:  # the counterpart conditions on a null event: no answer
            continue
        if association != answer(query, value):
            return True
    return False


def _discordant_keys(scm: SCM, asked: dict[str, _Question | None], keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` the questions ``asked`` (by type) make discordant on ``scm``."""
    by_type = {t: q for t, q in asked.items() if q is not None}
    out = set()
    for key in keys:
        if key == PAIR_KEY:
            if "correlation" in by_type and "ate" in by_type:
                draws = [by_type[t].draws[0] for t in ("correlation", "ate")]
                if _is_discordant(key, scm, draws):
                    out.add(key)
        elif key in by_type and _is_discordant(key, scm, by_type[key].draws):
            out.add(key)
    return out


def _probe_draws(
    spec: TaskSpec, kinds: Sequence[QueryType], graph: CausalGraph, rng: random.Random
) -> tuple[SCM, list[tuple[Query, float]]] | None:
    """One SCM on ``graph`` and a margin-clearing question of each kind, or None."""
    scm = random_scm(
        graph, rng, low=spec.cpt_range[0], high=spec.cpt_range[1], min_effect=spec.min_effect
    )
    draws = []
    for kind in kinds:
        query = kind.build(graph, scm, rng, "yes")
        if query is None:
            return None
        try:
            value = truth(scm, query)
        except ValueError:
            return None
        if not kind.clear_of_margin(value, spec.margin):
            return None
        draws.append((query, value))
    return scm, draws


def _can_discord(spec: TaskSpec, cell: _GraphCell, key: str) -> bool:
    """Whether ``key`` can be discordant on the cell's graphs: found within
    :data:`PROBE_DRAWS` draws of a generator of its own (the run's draws are untouched)."""
    types = ("correlation", "ate") if key == PAIR_KEY else (key,)
    if not set(types) <= set(cell.queries):
        return False
    if cell.family == "random":
        return True  # some random DAGs are confounded every way: none is ruled out
    return _probe(spec.name, spec.margin, spec.cpt_range, spec.min_effect, cell.family, key)


@functools.cache
def _probe(
    name: str,
    margin: float,
    cpt_range: tuple[float, float],
    min_effect: float,
    family: str,
    key: str,
) -> bool:
    """:func:`_can_discord` on a named graph (cached: it depends on these fields only)."""
    spec = TaskSpec(name, 1, margin, ("symbolic",), ("probabilities",), {}, None)
    spec = dataclasses.replace(spec, cpt_range=cpt_range, min_effect=min_effect)
    types = ("correlation", "ate") if key == PAIR_KEY else (key,)
    cell = _GraphCell(family, types)
    kinds = [get_query_type(t) for t in types]
    rng = random.Random(f"{name}|probe|{family}|{key}")
    for _ in range(PROBE_DRAWS):
        graph = _draw_graph(spec, cell.family, "probabilities", rng)
        if any(k.applies(graph) is not None for k in kinds):
            continue
        drawn = _probe_draws(spec, kinds, graph, rng)
        if drawn is not None and _is_discordant(key, drawn[0], drawn[1]):
            return True
    return False


@dataclass
class _Targets:
    """The active discordance targets, the keys each cell can serve, and the running counts
    (``[discordant, total]``) over the items made so far."""

    share: dict[str, float]
    serves: dict[str, set[str]]
    required: bool
    counts: dict[str, list[int]] = field(default_factory=dict)

    def needy(self, cell: _GraphCell) -> set[str]:
        """The keys below target that ``cell`` can make discordant."""
        out = set()
        for key in self.serves.get(cell.family, ()):
            d, total = self.counts.get(key, (0, 0))
            if total == 0 or d < min(1.0, self.share[key] + AIM_ABOVE) * total:
                out.add(key)
        return out

    def weights(self, keys: Iterable[str]) -> dict[str, float]:
        """Each key's relative deficit (1 before any item): how far below target it is."""
        out = {}
        for key in keys:
            d, total = self.counts.get(key, (0, 0))
            aim = min(1.0, self.share[key] + AIM_ABOVE)
            out[key] = 1.0 if total == 0 else max(0.0, 1.0 - d / (total * aim))
        return out

    def add(self, items: Sequence[Item]) -> None:
        """Count a family's items (pairs never span families)."""
        for key, (d, total) in discordant_counts(items).items():
            c = self.counts.setdefault(key, [0, 0])
            c[0] += d
            c[1] += total


def _targets(spec: TaskSpec, cells: Sequence[_GraphCell]) -> _Targets:
    """The spec's targets that some cell can serve; a required one that none can is refused
    before anything is generated."""
    assert spec.families is not None
    wanted = {k: v for k, v in spec.families.discordant.items() if v > 0}
    serves = {c.family: {k for k in wanted if _can_discord(spec, c, k)} for c in cells}
    reachable = set().union(*serves.values()) if serves else set()
    for key, share in wanted.items():
        if spec.families.required and key not in reachable:
            raise GenerationError(
                f"{spec.source}: field 'families.discordant.{key}': target {share} cannot be "
                f"met: {key} is never discordant on the spec's cells (association equals "
                "causation there); ask it on a confounded graph or drop the target"
            )
    share = {k: v for k, v in wanted.items() if k in reachable}
    return _Targets(share, serves, spec.families.required)


def _check_targets(spec: TaskSpec, targets: _Targets) -> None:
    """After generation: a required target missed by a key with enough items is an error."""
    if not targets.required:
        return
    for key, share in targets.share.items():
        d, total = targets.counts.get(key, (0, 0))
        if total >= CHECK_MIN and d < share * total:
            raise GenerationError(
                f"{spec.source}: field 'families.discordant.{key}': discordant share "
                f"{d / total:.3f} ({d} of {total}) is below the target {share}; raise "
                f"families.candidates or ask {key} on more graphs where association misleads"
            )


def _choose_family(
    spec: TaskSpec, cell: _GraphCell, evidence: str, rng: random.Random, targets: _Targets
) -> _Family | None:
    """Up to ``candidates`` drawn SCMs, scored by the below-target keys their questions make
    discordant (each weighted by its relative deficit); the best that keeps enough
    questions and survives its sample is the family. Only the questions that the scores
    need are asked of every candidate; the others only of the one kept."""
    assert spec.families is not None
    needy = targets.needy(cell)
    if not needy:
        fam = _draw_family(spec, cell, evidence, rng)
        return None if fam is None else _sampled(spec, fam, evidence, rng)
    weight = targets.weights(needy)
    # Adaptive: a key far below its target gets up to three times the candidates.
    limit = spec.families.candidates * (1 + int(2 * max(weight.values())))
    types = {t for k in needy for t in (("correlation", "ate") if k == PAIR_KEY else (k,))}
    pool: list[tuple[float, int, _Family, dict[str, _Question | None]]] = []
    for _ in range(MAX_ATTEMPTS):
        fam = _draw_scm(spec, cell, evidence, rng)
        if fam is None:
            continue
        kinds = [k for k in fam.kinds if k.name in types]
        asked = {k.name: _ask(spec, k, fam.graph, fam.scm, fam.stated, rng) for k in kinds}
        hits = _discordant_keys(fam.scm, asked, needy)
        pool.append((-sum(weight[h] for h in hits), len(pool), fam, asked))
        if hits == needy or len(pool) >= limit:
            break
    for _, _, fam, asked in sorted(pool, key=lambda t: t[:2]):
        full = _ask_all(spec, fam, rng, asked)
        chosen = None if full is None else _sampled(spec, full, evidence, rng)
        if chosen is not None:
            return chosen
    return None


@dataclass(frozen=True)
class _Rendered:
    """One item of a family before it is numbered: its question, draw, naming and prompt."""

    question: _Question
    query: Query
    value: float
    verbalization: str
    story: str | None
    prompt: str


def _render_family(
    spec: TaskSpec,
    cell: _GraphCell,
    fam: _Family,
    stratum: tuple[tuple[str, ...], str],
    rng: random.Random,
) -> list[_Rendered]:
    """Every item of the family: per verbalization one naming, then each question's twins
    (in random order). All prompts of one verbalization share the context (graph and
    evidence) byte for byte, since they render the same names, numbers and sample."""
    verbalizations, evidence = stratum
    out = []
    for verbalization in verbalizations:
        story, names = names_for(verbalization, cell.family, fam.graph.observed, rng)
        for question in fam.questions:
            draws = list(question.draws)
            rng.shuffle(draws)
            for query, value in draws:
                prompt = render_prompt(
                    fam.scm,
                    fam.graph,
                    query,
                    names,
                    symbolic=verbalization == "symbolic",
                    evidence=evidence,
                    rng=rng,
                    sample_size=spec.sample_size,
                    stated=fam.stated,
                    sample=fam.sample,
                )
                out.append(_Rendered(question, query, value, verbalization, story, prompt))
    return out


def _family_stratum(spec: TaskSpec, family: str, visit: int) -> tuple[tuple[str, ...], str]:
    """The verbalizations and the evidence mode of the ``visit``-th family of a cell."""
    assert spec.families is not None
    if not spec.families.all_verbalizations:
        verbalization, evidence = _stratum(spec, family, visit)
        return (verbalization,), evidence
    modes = _cell_modes(spec, family)
    return tuple(_cell_verbalizations(spec, family)), modes[visit % len(modes)]


def _family_items(
    spec: TaskSpec,
    seed: int,
    index: int,
    fid: str,
    cell: _GraphCell,
    fam: _Family,
    rendered: Sequence[_Rendered],
    evidence: str,
) -> list[Item]:
    """The family's items (contract version 2), numbered from ``index``."""
    items = []
    for j, r in enumerate(rendered):
        draw = _Draw(fam.graph, fam.scm, r.query, r.value)
        item = _record(
            spec,
            seed,
            index + j,
            draw,
            r.prompt,
            family=cell.family,
            verbalization=r.verbalization,
            evidence=evidence,
            story=r.story,
        )
        item["contract_version"] = CONTRACT_VERSION
        if r.query.type in NO_COUNTERPART:  # no rung-1 counterpart: never discordant
            item["association_answer"] = None
            item["discordant"] = False
        item["family_id"] = fid
        item["question_key"] = r.question.key
        twin = len(r.question.draws) == 2
        item["twin_id"] = twin_id(fid, r.verbalization, r.question.key) if twin else None
        items.append(item)
    return items


def _make_family(
    spec: TaskSpec,
    seed: int,
    k: int,
    cell: _GraphCell,
    visit: int,
    index: int,
    seen: set[str],
    targets: _Targets,
) -> list[Item]:
    """The ``k``-th family's items; all its randomness comes from its own generator (which
    SCM is kept also depends on the discordance counts of the families before it)."""
    rng = random.Random(f"{spec.name}|{seed}|family|{k}")
    stratum = _family_stratum(spec, cell.family, visit)
    for _ in range(MAX_ATTEMPTS):
        fam = _choose_family(spec, cell, stratum[1], rng, targets)
        if fam is None:
            continue
        rendered = _render_family(spec, cell, fam, stratum, rng)
        prompts = [r.prompt for r in rendered]
        if len(set(prompts)) < len(prompts) or not seen.isdisjoint(prompts):
            continue  # a file never holds the same prompt twice
        seen.update(prompts)
        fid = family_id(spec.name, seed, k)
        return _family_items(spec, seed, index, fid, cell, fam, rendered, stratum[1])
    raise GenerationError(
        f"{spec.source}: could not draw a family on {cell.family!r} whose questions clear "
        f"margin {spec.margin} in {MAX_ATTEMPTS} attempts; lower the margin or ask fewer types"
    )


def generate_families(spec: TaskSpec, seed: int, n: int) -> Iterator[Item]:
    """The first ``n`` items of the spec's families; graph cells are visited round-robin.

    The last family is cut at ``n`` items (so ``--n`` is exact and a shorter run is a
    prefix of a longer one); a twin cut off there has no partner in the file. A required
    discordance target that no cell can serve is refused before the first item, one still
    missed after the last item raises :class:`GenerationError` then.
    """
    cells = _graph_cells(spec)
    targets = _targets(spec, cells)
    seen: set[str] = set()
    index = 0
    for k in itertools.count():
        cell = cells[k % len(cells)]
        items = _make_family(spec, seed, k, cell, k // len(cells), index, seen, targets)
        items = items[: n - index]
        targets.add(items)
        for item in items:
            yield item
            index += 1
        if index == n:
            _check_targets(spec, targets)
            return
