"""``identifiable`` on random DAGs with hidden nodes (the random cell's ``hidden`` field):
the graphs drawn, truth against y0 on each item's own graph, prompts that state every
unobserved common cause without naming it, determinism, the built-in ``identify`` suite and
one-line errors for bad ``hidden`` values."""

from __future__ import annotations

import random
import re
import subprocess
import sys

import networkx as nx
import pytest
from references import y0_identifiable

from ladder.engine.graphs import random_dag
from ladder.engine.scm import SCM
from ladder.generation.generate import generate_items
from ladder.generation.specs import load_spec, load_suite

SPEC = """\
name: idrandom
n: {n}
verbalizations: [nonsense, symbolic]
evidence: [probabilities, samples]
cells:
  random:
    nodes: [3, 6]
    density: 0.4
    hidden: {hidden}
    queries: [identifiable]
"""


def _spec(tmp_path, n: int = 80, hidden: str = "[1, 2]"):
    path = tmp_path / "idrandom.yaml"
    path.write_text(SPEC.format(n=n, hidden=hidden))
    return path


def test_random_dag_hidden_roots_confound_two_observed_nodes():
    for seed in range(200):
        k = 1 + seed % 3
        g = random_dag(3 + seed % 6, 0.4, rng=random.Random(seed), hidden=k)
        assert sorted(g.hidden) == [f"U{i + 1}" for i in range(k)]
        assert g.treatment not in g.hidden and g.outcome not in g.hidden
        assert nx.has_path(g.dag, g.treatment, g.outcome)
        pairs = set()
        for u in g.hidden:
            kids = frozenset(g.dag.successors(u))
            # A root with exactly two observed children: an unobserved common cause.
            assert g.dag.in_degree(u) == 0 and len(kids) == 2 and not kids & g.hidden
            pairs.add(kids)
        assert len(pairs) == k  # no two hidden nodes confound the same pair


def test_random_dag_without_hidden_is_unchanged():
    # The observed part of a hidden draw is the fully observed draw of the same rng state;
    # and a fully observed draw takes exactly the same random numbers as before.
    for seed in range(50):
        plain_rng, hidden_rng = random.Random(seed), random.Random(seed)
        plain = random_dag(6, 0.4, rng=plain_rng)
        after_plain = plain_rng.random()
        g = random_dag(6, 0.4, rng=hidden_rng, hidden=2)
        assert set(plain.dag.edges) == {e for e in g.dag.edges if e[0] not in g.hidden}
        assert (plain.treatment, plain.outcome) == (g.treatment, g.outcome)
        assert not plain.hidden
        assert random_dag(6, 0.4, rng=random.Random(seed), hidden=0).to_dict() == plain.to_dict()
        again = random.Random(seed)
        random_dag(6, 0.4, rng=again)
        assert again.random() == after_plain


def _confounded_pairs(scm: SCM) -> list[tuple[str, str]]:
    """The observed pairs each hidden node causes, in the graph's node order."""
    order = [v.name for v in scm.variables]
    out = []
    for h in scm.hidden_names:
        kids = sorted((v.name for v in scm.variables if h in v.parents), key=order.index)
        out.append((kids[0], kids[1]))
    return out


def test_items_truth_is_y0s_and_prompts_state_hidden_structure(tmp_path):
    items = list(generate_items(load_spec(_spec(tmp_path)), seed=3))
    assert len(items) == 80
    for item in items:
        scm = SCM.from_dict(item["scm"])
        assert item["graph_family"] == "random" and scm.hidden_names
        x, y = item["query"]["treatment"], item["query"]["outcome"]
        assert x not in scm.hidden_names and y not in scm.hidden_names
        expected = y0_identifiable(scm.graph, set(scm.hidden_names), x, y)
        assert item["truth"] == (1.0 if expected else 0.0)
        assert item["answer"] == ("yes" if expected else "no")
        prompt = item["prompt"]
        for h in scm.hidden_names:  # the hidden node is never named
            assert not re.search(rf"\b{h}\b", prompt)
        if item["verbalization"] == "symbolic":
            mentioned = set(re.findall(r"\b[UV]\d+\b", prompt))
            assert mentioned == set(scm.observed_names)
            for a, b in _confounded_pairs(scm):
                assert f"{a} and {b} are both affected by an unobserved common cause." in prompt
                # The question's fact restates it (the latent projection's a <-> b).
                assert f"; {a} and {b} share an unobserved" in prompt or f"as do {a} and {b}." in (
                    prompt
                )
        else:
            assert prompt.count("are both affected by unobserved factors they share.") == len(
                scm.hidden_names
            )
    assert {i["answer"] for i in items} == {"yes", "no"}
    assert {i["verbalization"] for i in items} == {"nonsense", "symbolic"}
    assert {i["evidence"] for i in items} == {"probabilities", "samples"}


def test_stated_numbers_condition_on_earlier_observed_where_parent_hidden(tmp_path):
    # A variable with a hidden parent is stated given every earlier observed variable.
    items = list(generate_items(load_spec(_spec(tmp_path, n=40)), seed=5))
    checked = 0
    for item in items:
        if item["verbalization"] != "symbolic" or item["evidence"] != "probabilities":
            continue
        scm = SCM.from_dict(item["scm"])
        observed = list(scm.observed_names)
        for v in scm.variables:
            if not v.observed or not set(v.parents) & set(scm.hidden_names):
                continue
            earlier = observed[: observed.index(v.name)]
            cond = ", ".join(f"{e}=1" for e in earlier)
            stated = f"P({v.name}=1 | {cond}) = " if earlier else f"P({v.name}=1) = "
            assert stated in item["prompt"]
            checked += 1
    assert checked > 0


def test_deterministic_per_seed(tmp_path):
    spec = load_spec(_spec(tmp_path, n=24))
    first = list(generate_items(spec, seed=7))
    assert first == list(generate_items(spec, seed=7))
    assert [i["prompt"] for i in first] != [i["prompt"] for i in generate_items(spec, seed=8)]


def test_identify_suite_mixes_named_and_random_hidden_graphs():
    items = list(generate_items(load_suite("identify"), seed=0, n=80))
    assert {i["query_type"] for i in items} == {"identifiable"}
    assert {i["graph_family"] for i in items} == {"bow", "iv", "frontdoor", "random"}
    randoms = [i for i in items if i["graph_family"] == "random"]
    assert {i["answer"] for i in randoms} == {"yes", "no"}


@pytest.mark.parametrize(
    ("hidden", "extra", "needle"),
    [
        ("[0, 2]", "", "cells.random.hidden': [0, 2] must be [min, max] with 1 <= min"),
        ("[2, 1]", "", "cells.random.hidden': [2, 1] must be [min, max]"),
        ("[1, 4]", "", "cells.random.hidden': [1, 4] must be [min, max]"),
        ("many", "", "cells.random.hidden': 'many' must be [min, max]"),
        ("true", "", "cells.random.hidden': True must be [min, max]"),
        ("[1, 2]", "ate", "query 'ate' is undefined on random DAGs: it is not asked with hidden"),
        ("[1, 2]", "nodes12", "cells.random.nodes': [3, 12]: with hidden nodes the most is 8"),
    ],
)
def test_bad_hidden_exits_2_with_one_line(tmp_path, hidden, extra, needle):
    text = SPEC.format(n=10, hidden=hidden)
    if extra == "ate":
        text = text.replace("queries: [identifiable]", "queries: [identifiable, ate]")
    if extra == "nodes12":
        text = text.replace("nodes: [3, 6]", "nodes: [3, 12]")
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    out = tmp_path / "out.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "ladder.cli", "generate", "--spec", str(path), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ladder generate: error: "), proc.stderr
    assert needle in lines[0]
    assert not out.exists()


def test_identifiable_on_fully_observed_random_cell_still_refused(tmp_path):
    path = tmp_path / "plain.yaml"
    path.write_text(SPEC.format(n=10, hidden="null"))
    proc = subprocess.run(
        [sys.executable, "-m", "ladder.cli", "generate", "--spec", str(path), "--out", "o.jsonl"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "no hidden variables unless the random cell sets hidden" in proc.stderr
