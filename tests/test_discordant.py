"""Discordant-rich sampling: the ``core`` suite's discordant share per query type and for
correlation-vs-ate pairs, recomputed from the items' SCMs with the engine's association
functions (not read from the items' flags), plus margin, twins, determinism, an impossible
target and ``backdoor_set`` without a rung-1 counterpart."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from ladder.engine.queries import Query, answer, association_truth
from ladder.engine.scm import SCM
from ladder.generation.generate import generate_items
from ladder.generation.items import check_twins
from ladder.generation.specs import load_suite
from ladder.harness.predictors import get_predictor

ROOT = Path(__file__).resolve().parent.parent
N = 10_000  # the whole suite: it generates in about 13 s here
LISTED = ("ate", "ett", "nde", "nie", "counterfactual")


@pytest.fixture(scope="module")
def core() -> list[dict]:
    return list(generate_items(load_suite("core"), seed=0, n=N))


def _recomputed_discordant(it: dict) -> bool:
    query = Query.from_dict(it["query"])
    try:
        assoc = answer(query, association_truth(SCM.from_dict(it["scm"]), query))
    except ValueError:
        return False
    return assoc != it["answer"]


@pytest.mark.parametrize("qtype", LISTED)
def test_discordant_share_per_listed_type(core, qtype):
    group = [it for it in core if it["query_type"] == qtype]
    assert len(group) >= 150
    share = sum(_recomputed_discordant(it) for it in group) / len(group)
    assert share >= 0.4, (qtype, share)
    assert [it["discordant"] for it in group] == [_recomputed_discordant(it) for it in group]


def test_correlation_vs_ate_pairs_reverse(core):
    pairs: dict[tuple, dict[str, float]] = defaultdict(dict)
    for it in core:
        q = it["query"]
        if q["type"] in ("correlation", "ate") and not q.get("given"):
            pairs[(it["family_id"], q.get("treatment"), q["outcome"])][q["type"]] = it["truth"]
    full = [v for v in pairs.values() if len(v) == 2]
    assert len(full) >= 100
    opposite = sum((v["correlation"] > 0) != (v["ate"] > 0) for v in full)
    assert opposite / len(full) >= 0.4


def test_margin_and_twins_still_hold(core):
    for it in core:
        if it["query_type"] in ("backdoor_set", "identifiable", "collider_bias"):
            continue
        centred = (
            it["truth"] - 0.5 if it["query_type"] in ("marginal", "counterfactual") else it["truth"]
        )
        assert abs(centred) >= it["margin"] - 1e-12
    check_twins(core)
    twins = defaultdict(list)
    for it in core:
        if it.get("twin_id"):
            twins[it["twin_id"]].append(it["answer"])
    assert all(sorted(a) == ["no", "yes"] for a in twins.values() if len(a) == 2)


def test_backdoor_set_has_no_association_counterpart(core):
    items = [it for it in core if it["query_type"] == "backdoor_set"]
    assert items and all(it["association_answer"] is None for it in items)
    assert not any(it["discordant"] for it in items)
    oracle = get_predictor("association-oracle").predict(items[:4])
    assert {(p.p_yes, p.prediction) for p in oracle} == {(0.5, "no")}
    assert {p.extra["counterpart"] for p in oracle} == {"none"}
    # identifiable: the association answer is always "yes"
    ident = [it for it in core if it["query_type"] == "identifiable"]
    assert ident and {it["association_answer"] for it in ident} == {"yes"}


def test_determinism_per_seed():
    spec = load_suite("core")
    a = [json.dumps(i) for i in generate_items(spec, seed=5, n=400)]
    b = [json.dumps(i) for i in generate_items(spec, seed=5, n=400)]
    c = [json.dumps(i) for i in generate_items(spec, seed=6, n=400)]
    assert a == b and a != c


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ladder.cli", "generate", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_impossible_target_exits_2_with_one_line(tmp_path):
    spec = tmp_path / "chain.yaml"
    spec.write_text(
        "name: chain-only\nn: 40\nverbalizations: [symbolic]\n"
        "families: {discordant: {ate: 0.4}}\ncells:\n  chain: [correlation, ate]\n"
    )
    out = tmp_path / "out.jsonl"
    proc = _cli("--spec", str(spec), "--out", str(out), "--quiet")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "families.discordant.ate" in lines[0] and "0.4" in lines[0]
    assert not out.exists() and not list(tmp_path.glob("*.tmp*"))


def test_unknown_target_key_is_refused(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        "name: bad\nverbalizations: [symbolic]\nfamilies: {discordant: {marginal: 0.4}}\n"
        "cells:\n  confounding: [marginal, ate]\n"
    )
    proc = _cli("--spec", str(spec), "--out", str(tmp_path / "o.jsonl"), "--quiet")
    assert proc.returncode == 2 and "families.discordant.marginal" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
