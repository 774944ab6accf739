"""Acceptance tests of item generation against the item contract (version 1, DESIGN.md).

One set of 2,000 items of the version-1 core suite (``tests/data/core_v1.yaml``, seed 0) is
generated once per module; the tests read it. Item families (contract version 2, the
built-in ``core`` suite) are tested in ``tests/test_families.py``.
The contract's tables (rung and decision rule of each query type) are written out here
again, so that the tests do not trust ``ladder.engine.queries`` for what they check.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ladder.generation.generate import dumps, generate_items, item_id
from ladder.generation.naming import load_stories
from ladder.generation.specs import load_spec, parse_spec

N = 2000
SEED = 0

# The contract's query table: rung and decision rule ("yes" iff ...).
CONTRACT = {
    "marginal": (1, "probability"),
    "correlation": (1, "difference"),
    "explaining_away": (1, "difference"),
    "ate": (2, "difference"),
    "collider_bias": (2, "difference"),
    "backdoor_set": (2, "indicator"),
    "ett": (3, "difference"),
    "nde": (3, "difference"),
    "nie": (3, "difference"),
    "counterfactual": (3, "probability"),
}
VERBALIZATIONS = {"commonsense", "anticommonsense", "nonsense", "symbolic"}
INSTRUCTION = "Answer yes or no."


def contract_answer(query: Mapping[str, Any], truth: float) -> str:
    """The contract's rule, written from DESIGN.md's table."""
    rule = CONTRACT[query["type"]][1]
    pol = query["polarity"]
    if rule == "probability":
        return "yes" if pol * (truth - 0.5) > 0 else "no"
    if rule == "difference":
        return "yes" if pol * truth > 0 else "no"
    return "yes" if truth == 1 else "no"


def question_free(prompt: str) -> str:
    """The prompt without its last two lines (the question and the instruction)."""
    return "\n".join(prompt.split("\n")[:-2])


@pytest.fixture(scope="module")
def spec():
    return load_spec(Path(__file__).parent / "data" / "core_v1.yaml")


@pytest.fixture(scope="module")
def items(spec):
    return list(generate_items(spec, seed=SEED, n=N))


# -- coverage -------------------------------------------------------------------------------------


def test_every_contract_query_type_appears_in_core(items):
    assert {it["query_type"] for it in items} == set(CONTRACT)
    assert {it["query"]["type"] for it in items} == set(CONTRACT)


def test_every_cell_of_core_yaml_appears(items, spec):
    wanted = {(family, q) for family, qs in spec.cells.items() for q in qs}
    wanted |= {("random", q) for q in spec.random_dags.queries}
    got = Counter((it["graph_family"], it["query_type"]) for it in items)
    assert wanted == set(got), f"missing {wanted - set(got)}, extra {set(got) - wanted}"
    # Round-robin over cells: every cell gets N / #cells items, give or take one.
    assert max(got.values()) - min(got.values()) <= 1


def test_core_yaml_cells_as_written(spec):
    """The suite as loaded is the file as written (nothing silently dropped)."""
    import yaml

    raw = yaml.safe_load((Path(__file__).parent / "data" / "core_v1.yaml").read_text())
    written = {f: tuple(q) for f, q in raw["cells"].items() if f != "random"}
    assert dict(spec.cells) == written
    assert spec.random_dags.queries == tuple(raw["cells"]["random"]["queries"])


# -- balance ---------------------------------------------------------------------------------------


def _n_strata(spec, query_type: str) -> int:
    """How many (cell, verbalization, evidence) strata a query type has."""
    words = len(spec.verbalizations)
    symbols = len(set(spec.verbalizations) & {"nonsense", "symbolic"})
    n = sum(words for qs in spec.cells.values() if query_type in qs)
    if query_type in spec.random_dags.queries:
        n += symbols
    return n * len(spec.evidence)


def test_balance_per_query_type(items, spec):
    """Yes and no each 50% ± 2% per query type, or within one per stratum where the type
    has fewer items than that tolerance needs (collider_bias is structurally all "no")."""
    by_type: dict[str, Counter[str]] = defaultdict(Counter)
    for it in items:
        by_type[it["query_type"]][it["answer"]] += 1
    assert by_type["collider_bias"] == Counter(no=by_type["collider_bias"].total())
    for qt, counts in by_type.items():
        if qt == "collider_bias":
            continue
        total = counts.total()
        tolerance = max(0.04 * total, _n_strata(spec, qt))  # ±2% of the count each side
        assert abs(counts["yes"] - counts["no"]) <= tolerance, (qt, counts, tolerance)


def test_balance_within_every_stratum(items):
    """The generator's guarantee: within each (cell, verbalization, evidence) stratum,
    yes and no differ by at most one.  The recorded (family, query type, verbalization,
    evidence) is the stratum (random DAGs in a samples stratum are drawn small enough to
    be shown as samples)."""
    strata: dict[tuple, Counter[str]] = defaultdict(Counter)
    for it in items:
        if it["query_type"] == "collider_bias":
            continue
        key = (it["graph_family"], it["query_type"], it["verbalization"], it["evidence"])
        strata[key][it["answer"]] += 1
    bad = {k: dict(c) for k, c in strata.items() if abs(c["yes"] - c["no"]) > 1}
    assert not bad
    assert len(strata) > 300


def _backdoor_random_spec():
    return parse_spec(
        {
            "name": "bd3",
            "margin": 0.05,
            "verbalizations": ["symbolic"],
            "evidence": ["probabilities"],
            "cells": {"random": {"nodes": [3, 3], "density": 0.4, "queries": ["backdoor_set"]}},
        }
    )


def test_backdoor_balance_on_small_random_dags():
    """One stratum (random 3-node DAGs, symbolic, probabilities): |yes − no| ≤ 1, for
    every seed (with the bug, seed 1 at n=200 is off by more than one)."""
    spec = _backdoor_random_spec()
    for seed in range(5):
        counts = Counter(it["answer"] for it in generate_items(spec, seed, 200))
        assert abs(counts["yes"] - counts["no"]) <= 1, (seed, counts)


# -- margin and answer ----------------------------------------------------------------------


def test_margin(items, spec):
    for it in items:
        qt, value = it["query_type"], it["truth"]
        rule = CONTRACT[qt][1]
        assert it["margin"] == spec.margin
        if qt == "collider_bias":
            assert abs(value) < 1e-12, it["index"]
        elif rule == "indicator":
            assert value in (0.0, 1.0), it["index"]
        elif rule == "probability":
            assert abs(value - 0.5) >= spec.margin, (it["index"], value)
        else:
            assert abs(value) >= spec.margin, (it["index"], value)


def test_answer_follows_contract_rule(items):
    for it in items:
        assert it["answer"] == contract_answer(it["query"], it["truth"]), it["index"]


# -- the item contract ------------------------------------------------------------------------


def _check_scm(scm: Any) -> None:
    assert isinstance(scm, dict) and scm["noise"] == "comonotone"
    names = [v["name"] for v in scm["variables"]]
    assert len(set(names)) == len(names)
    for v in scm["variables"]:
        assert set(v) <= {"name", "parents", "cpt", "observed"}
        assert isinstance(v["name"], str) and isinstance(v["parents"], list)
        assert all(p in names for p in v["parents"])
        assert isinstance(v["cpt"], list) and len(v["cpt"]) == 2 ** len(v["parents"])
        assert all(isinstance(p, float) and 0 <= p <= 1 for p in v["cpt"])
        assert isinstance(v.get("observed", True), bool)


def _check_query(q: Any, scm: Mapping[str, Any]) -> None:
    names = {v["name"] for v in scm["variables"]}
    assert isinstance(q, dict) and q["type"] in CONTRACT
    assert q["polarity"] in (1, -1) and q["outcome"] in names
    given = q.get("given", {})
    assert isinstance(given, dict) and all(k in names and v in (0, 1) for k, v in given.items())
    if q["type"] != "marginal":
        assert q["treatment"] in names
    if q["type"] == "ett":
        assert q["treatment"] in given
    if q["type"] in ("nde", "nie"):
        assert q["mediator"] in names
    if q["type"] == "backdoor_set":
        assert isinstance(q["adjust"], list) and all(a in names for a in q["adjust"])
        assert q["polarity"] == 1
    if q["type"] == "counterfactual":
        assert isinstance(q["do"], dict) and q["do"]


def test_contract_fields_and_types(items, spec):
    types = {
        "id": str,
        "task": str,
        "rung": int,
        "graph_family": str,
        "verbalization": str,
        "scm": dict,
        "query": dict,
        "truth": float,
        "answer": str,
        "prompt": str,
        "seed": int,
    }
    for it in items:
        for name, kind in types.items():
            assert type(it[name]) is kind, (it.get("index"), name, type(it[name]))
        assert it["task"] == "core" and it["seed"] == SEED
        assert it["rung"] == CONTRACT[it["query"]["type"]][0]
        assert it["verbalization"] in VERBALIZATIONS
        assert it["graph_family"] in {*spec.cells, "random"}
        assert it["answer"] in ("yes", "no") and np.isfinite(it["truth"])
        _check_scm(it["scm"])
        _check_query(it["query"], it["scm"])
        assert json.loads(dumps(it)) == it  # survives the JSONL round trip


def test_slicing_fields_agree_with_the_item(items):
    """The fields added beyond the contract describe the item they sit on."""
    for it in items:
        scm = it["scm"]
        assert it["contract_version"] == 1
        assert it["query_type"] == it["query"]["type"]
        assert it["evidence"] in ("probabilities", "samples")
        assert it["n_nodes"] == len(scm["variables"])
        edges = sorted([p, v["name"]] for v in scm["variables"] for p in v["parents"])
        assert it["edges"] == edges
        assert (it["story"] is None) == (it["verbalization"] in ("nonsense", "symbolic"))
        if it["verbalization"] == "anticommonsense":
            assert it["story"].endswith("-anti")
        if "association_answer" in it:
            assert it["association_answer"] in ("yes", "no", None)
            assert it["discordant"] == (
                it["association_answer"] is not None and it["association_answer"] != it["answer"]
            )


def test_ids_unique_and_hash_of_task_seed_index(items):
    ids = [it["id"] for it in items]
    assert len(set(ids)) == len(ids)
    for i, it in enumerate(items):
        assert it["index"] == i
        assert it["id"] == item_id(it["task"], it["seed"], i)
    # Pinned: a stable id never changes between versions of the generator.
    assert item_id("core", 0, 0) == "08e1934a6a73f9fa"
    assert (
        len(
            {
                item_id("core", 0, 1),
                item_id("core", 1, 0),
                item_id("quick", 0, 0),
                item_id("core", 0, 0),
            }
        )
        == 4
    )


def test_regenerating_item_i_gives_the_same_item(items, spec):
    """Items do not depend on how many come after them: item i is stable."""
    k = 137
    again = list(generate_items(spec, seed=SEED, n=k))
    assert [dumps(it) for it in again] == [dumps(it) for it in items[:k]]


def test_no_duplicate_prompts(items):
    prompts = Counter(it["prompt"] for it in items)
    assert prompts.most_common(1)[0][1] == 1


# -- determinism ----------------------------------------------------------------------------------


def test_same_seed_byte_identical(items, spec):
    first = "".join(dumps(it) + "\n" for it in items).encode()
    second = "".join(dumps(it) + "\n" for it in generate_items(spec, seed=SEED, n=N)).encode()
    assert first == second


def test_other_seed_other_items(items, spec):
    other = list(generate_items(spec, seed=SEED + 1, n=300))
    assert not {it["id"] for it in other} & {it["id"] for it in items}
    assert not {it["prompt"] for it in other} & {it["prompt"] for it in items}
    assert all(it["seed"] == SEED + 1 for it in other)


# -- prompts --------------------------------------------------------------------------------------


def _word(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w]){re.escape(name)}(?![\w])")


def test_hidden_variables_never_named(items):
    stories = {s.id: s for family in load_stories().values() for s in family}
    checked_names = checked_stories = 0
    for it in items:
        hidden = [v["name"] for v in it["scm"]["variables"] if v.get("observed", True) is False]
        for name in hidden:
            assert not _word(name).search(it["prompt"]), (it["index"], name)
            checked_names += 1
        if it["verbalization"] in ("commonsense", "anticommonsense"):
            story = stories[it["story"].removesuffix("-anti")]
            if story.unobserved:
                assert story.unobserved.lower() not in it["prompt"].lower(), it["index"]
                checked_stories += 1
    assert checked_names >= 50 and checked_stories >= 20


def test_prompts_end_with_the_instruction(items):
    for it in items:
        assert it["prompt"].endswith("\n" + INSTRUCTION), it["index"]
        assert it["prompt"].count(INSTRUCTION) == 1


def test_rung3_prompts_state_monotonicity(items):
    for it in items:
        if it["rung"] == 3:
            assert "fixed susceptibility" in it["prompt"], it["index"]
            assert "less likely situation also has it in the more likely one" in it["prompt"]


def test_no_interventional_quantity_outside_the_question(items):
    for it in items:
        context = question_free(it["prompt"])
        assert "do(" not in context, it["index"]
        assert "interven" not in context.lower(), it["index"]


def _joint(scm: Mapping[str, Any]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """All 2**n assignments (rows) and their probabilities, by brute force."""
    names = [v["name"] for v in scm["variables"]]
    n = len(names)
    bits = (np.arange(2**n)[:, None] >> np.arange(n - 1, -1, -1)) & 1
    col = {name: bits[:, j] for j, name in enumerate(names)}
    prob = np.ones(2**n)
    for v in scm["variables"]:
        row = np.zeros(2**n, dtype=int)
        for p in v["parents"]:
            row = 2 * row + col[p]
        p1 = np.asarray(v["cpt"])[row]
        prob *= np.where(col[v["name"]] == 1, p1, 1 - p1)
    return names, bits, prob


_STATED = re.compile(r"P\((\w+)=1(?: \| ([^)]*))?\) = (\d\.\d\d)")


def _table_joint(prompt: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The symbolic sample table of a prompt: variable names, rows of bits, counts."""
    rows = [line.strip("| ").split(" | ") for line in prompt.split("\n") if line.startswith("| ")]
    names = rows[0][:-1]
    bits = np.array([[int(b) for b in row[:-1]] for row in rows[1:]])
    return names, bits, np.array([float(row[-1]) for row in rows[1:]])


def test_symbolic_stated_numbers_are_observational(items):
    """Every ``P(V=1 | ...) = p`` a symbolic prompt states before its question is the
    observational conditional, rounded (so no interventional number is ever stated): the
    population's, or in ``samples`` mode the shown table's frequency."""
    checked = 0
    for it in items:
        if it["verbalization"] != "symbolic":
            continue
        if it["evidence"] == "samples":
            names, bits, prob = _table_joint(it["prompt"])
        else:
            names, bits, prob = _joint(it["scm"])
        col = {name: bits[:, j] for j, name in enumerate(names)}
        for target, cond, shown in _STATED.findall(question_free(it["prompt"])):
            mask = np.ones(len(prob), dtype=bool)
            for clause in filter(None, (cond or "").split(", ")):
                var, val = clause.split("=")
                mask &= col[var] == int(val)
            exact = prob[mask & (col[target] == 1)].sum() / prob[mask].sum()
            assert abs(exact - float(shown)) <= 0.005 + 1e-9, (it["index"], target, cond)
            checked += 1
    assert checked > 1000


def _joint_from_statements(prompt: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The observed joint rebuilt from a symbolic prompt's stated (rounded) numbers alone:
    each ``P(V=1 | conditions)`` is one factor of the chain rule in the stated order."""
    factors: dict[str, dict[tuple[tuple[str, int], ...], float]] = {}
    for target, cond, shown in _STATED.findall(question_free(prompt)):
        key = tuple((c.split("=")[0], int(c.split("=")[1])) for c in filter(None, cond.split(", ")))
        factors.setdefault(target, {})[key] = float(shown)
    names = list(factors)
    n = len(names)
    bits = (np.arange(2**n)[:, None] >> np.arange(n - 1, -1, -1)) & 1
    col = {name: bits[:, j] for j, name in enumerate(names)}
    prob = np.ones(2**n)
    for target, table in factors.items():
        p1 = np.full(2**n, np.nan)
        for key, value in table.items():
            mask = np.ones(2**n, dtype=bool)
            for var, val in key:
                mask &= col[var] == val
            p1[mask] = value
        assert not np.isnan(p1).any(), f"{target}: the prompt misses a condition"
        prob *= np.where(col[target] == 1, p1, 1 - p1)
    return names, bits, prob


def test_answer_recoverable_from_the_stated_numbers(items):
    """A reader of the prompt alone (symbolic, probabilities) gets the item's answer: every
    rung-1 question, and the identified effects of the hidden-confounder graphs (iv: the
    instrument's effect, an unconfounded contrast; front-door: the front-door formula),
    whose stated numbers are rounded conditionals rather than exact cpt entries."""
    checked = Counter()
    worst = 0.0
    for it in items:
        q = it["query"]
        if it["verbalization"] != "symbolic" or it["evidence"] != "probabilities":
            continue
        if not (
            it["rung"] == 1 or (q["type"] == "ate" and it["graph_family"] in ("iv", "frontdoor"))
        ):
            continue
        names, bits, prob = _joint_from_statements(it["prompt"])
        col = {name: bits[:, j] for j, name in enumerate(names)}

        def p(target, cond, col=col, prob=prob):
            mask = np.ones(len(prob), dtype=bool)
            for var, val in cond.items():
                mask &= col[var] == val
            return prob[mask & (col[target] == 1)].sum() / prob[mask].sum()

        y, x, given = q["outcome"], q.get("treatment"), q.get("given", {})
        if q["type"] == "marginal":
            value = p(y, given)
        elif it["graph_family"] == "frontdoor" and q["type"] == "ate":
            m = "M"
            value = sum(
                (p(m, {x: xv}) if mv else 1 - p(m, {x: xv}))
                * sum(p(y, {x: xp, m: mv}) * (p(x, {}) if xp else 1 - p(x, {})) for xp in (0, 1))
                * (1 if xv else -1)
                for xv in (0, 1)
                for mv in (0, 1)
            )
        else:  # a contrast: correlation, explaining_away, or the iv instrument's effect
            value = p(y, {**given, x: 1}) - p(y, {**given, x: 0})
        assert contract_answer(q, value) == it["answer"], (it["index"], value, it["truth"])
        worst = max(worst, abs(value - it["truth"]))
        checked[q["type"]] += 1
    assert worst < 0.02, worst
    assert checked["ate"] >= 5 and sum(checked.values()) >= 80, checked


def _stated_numbers(prompt: str) -> set[str]:
    return set(re.findall(r"(?<![\d.])\d\.\d\d(?!\d)", question_free(prompt)))


def _probability_items(items):
    return [
        it
        for it in items
        if CONTRACT[it["query_type"]][1] == "probability" and it["evidence"] == "probabilities"
    ]


def test_probability_truth_is_not_exactly_a_stated_number(items):
    pool = _probability_items(items)
    assert len(pool) > 200
    for it in pool:
        assert all(abs(it["truth"] - float(s)) > 1e-9 for s in _stated_numbers(it["prompt"])), it[
            "index"
        ]


def test_probability_truth_rounded_is_not_a_stated_number(items):
    clashes = [
        (it["index"], round(it["truth"], 4))
        for it in _probability_items(items)
        if f"{it['truth']:.2f}" in _stated_numbers(it["prompt"])
    ]
    assert not clashes, f"{len(clashes)} items: {clashes[:5]}"


# -- no slicing field predicts the answer ----------------------------------------------------


@pytest.mark.parametrize("field", ["verbalization", "evidence"])
def test_no_slicing_field_predicts_the_answer(items, field):
    """Within each (query type, family) with both answers, the yes-rate of every value of
    a slicing field stays in [0.3, 0.7] (groups of at least 8 items; balance within
    strata guarantees [0.375, 0.625] there).  Pooled over families too."""
    groups: dict[tuple, Counter[str]] = defaultdict(Counter)
    for it in items:
        if it["query_type"] == "collider_bias":
            continue
        groups[(it["query_type"], it["graph_family"], it[field])][it["answer"]] += 1
        groups[(it["query_type"], "*", it[field])][it["answer"]] += 1
    checked = 0
    for key, c in groups.items():
        if c.total() >= 8:
            assert 0.3 <= c["yes"] / c.total() <= 0.7, (key, dict(c))
            checked += 1
    assert checked >= 40


def test_polarity_does_not_predict_the_answer(items):
    """ "more likely" / "less likely" wording is not a shortcut to the answer."""
    groups: dict[tuple, Counter[str]] = defaultdict(Counter)
    for it in items:
        if CONTRACT[it["query_type"]][1] != "indicator" and it["query_type"] != "collider_bias":
            groups[(it["query_type"], it["query"]["polarity"])][it["answer"]] += 1
    for key, c in groups.items():
        if c.total() >= 30:
            assert 0.3 <= c["yes"] / c.total() <= 0.7, (key, dict(c))


def test_every_family_uses_every_spec_verbalization(items, spec):
    seen = defaultdict(set)
    for it in items:
        seen[it["graph_family"]].add(it["verbalization"])
    for family in spec.cells:
        assert seen[family] == set(spec.verbalizations), family
    assert seen["random"] == {"nonsense", "symbolic"}
