"""Item families (contract version 2): twins, shared prompt prefixes, determinism, specs.

The ``core`` suite (families, one verbalization each) and the ``paired`` suite (every
family in all four verbalizations) are generated once per module. The checks recompute
what they assert from the items' own fields (answers by the contract's rule, prompts split
by lines), not from the generator's helpers.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from ladder.cli import main as cli_main
from ladder.core.errors import ItemFileError
from ladder.engine.queries import QUERY_TYPES
from ladder.generation.generate import dumps, generate_items
from ladder.generation.items import check_twins, read_items
from ladder.generation.specs import load_spec, load_suite

ROOT = Path(__file__).resolve().parent.parent
N = 2000
MONOTONE = "Each unit has a fixed susceptibility"


@pytest.fixture(scope="module")
def core() -> list[dict]:
    return list(generate_items(load_suite("core"), seed=0, n=N))


@pytest.fixture(scope="module")
def paired() -> list[dict]:
    return list(generate_items(load_suite("paired"), seed=1, n=900))


def _groups(items: list[dict], *keys: str) -> dict[tuple, list[dict]]:
    out: dict[tuple, list[dict]] = defaultdict(list)
    for it in items:
        out[tuple(it[k] for k in keys)].append(it)
    return out


def _rule_answer(it: dict) -> str:
    """The contract's decision rule, written out again."""
    q, t = it["query"], it["truth"]
    if q["type"] == "backdoor_set":
        return "yes" if t == 1 else "no"
    centred = t - 0.5 if q["type"] in ("marginal", "counterfactual") else t
    return "yes" if q["polarity"] * centred > 1e-12 else "no"


# -- twins ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("suite", ["core", "paired"])
def test_every_twin_pair_has_opposite_answers(suite, core, paired):
    items = core if suite == "core" else paired
    pairs = _groups([it for it in items if it["twin_id"] is not None], "twin_id")
    assert len(pairs) > len(items) // 3
    last_family = items[-1]["family_id"]
    for twin, group in pairs.items():
        if len(group) == 1:  # only the family cut at n may lose a twin
            assert group[0]["family_id"] == last_family, twin
            continue
        a, b = group
        assert {a["answer"], b["answer"]} == {"yes", "no"}, twin
        for key in ("family_id", "verbalization", "question_key", "scm", "evidence"):
            assert a[key] == b[key], (twin, key)
        assert a["answer"] == _rule_answer(a) and b["answer"] == _rule_answer(b)
    check_twins(items)


def test_twins_differ_only_in_polarity_or_adjustment_set(core):
    swap = {"more": "less", "less": "more", ">": "<", "<": ">"}
    for group in _groups([it for it in core if it["twin_id"]], "twin_id").values():
        if len(group) < 2:
            continue
        a, b = group
        qa, qb = dict(a["query"]), dict(b["query"])
        if qa["type"] == "backdoor_set":  # a valid and an invalid set (same outcome)
            assert {a["truth"], b["truth"]} == {0.0, 1.0}
            assert qa["outcome"] == qb["outcome"]
            # The same pair where the graph has both; else (a hidden confounder leaves no
            # valid set for X -> Y) the valid twin asks about another cause of Y.
            assert qa["adjust"] != qb["adjust"] or qa["treatment"] != qb["treatment"]
            if qa["treatment"] != qb["treatment"]:
                assert a["graph_family"] in ("iv", "frontdoor", "random")
            continue
        if qa["type"] == "identifiable":  # an identifiable and a non-identifiable effect
            assert {a["truth"], b["truth"]} == {0.0, 1.0}
            assert (qa["treatment"], qa["outcome"]) != (qb["treatment"], qb["outcome"])
            continue
        assert qa.pop("polarity") == -qb.pop("polarity") and qa == qb
        assert a["truth"] == b["truth"]
        # Same text but the polarity word.
        words_a, words_b = a["prompt"].split(" "), b["prompt"].split(" ")
        diffs = [(x, y) for x, y in zip(words_a, words_b, strict=True) if x != y]
        assert diffs and all(swap.get(x) == y for x, y in diffs), diffs


def test_structural_zeros_and_lone_questions_have_no_twin(core):
    collider_bias = [it for it in core if it["query_type"] == "collider_bias"]
    assert collider_bias and all(it["twin_id"] is None for it in collider_bias)
    assert all(it["answer"] == "no" for it in collider_bias)
    # Every other twinless item is an indicator question whose graph offers one answer.
    lone = [it for it in core if it["twin_id"] is None and it["query_type"] != "collider_bias"]
    assert all(QUERY_TYPES[it["query"]["type"]].rule == "indicator" for it in lone)


def test_check_twins_refuses_same_answers(core):
    twins = [it for it in core if it["twin_id"]][:2]
    assert twins[0]["twin_id"] == twins[1]["twin_id"]
    spoiled = [twins[0], {**twins[1], "answer": twins[0]["answer"]}]
    with pytest.raises(ItemFileError, match="have the same answer"):
        check_twins(spoiled)


def test_yes_and_no_balanced_per_query_type(core):
    for (qtype,), group in _groups(core, "query_type").items():
        c = Counter(it["answer"] for it in group)
        if qtype == "collider_bias":
            assert c["yes"] == 0
        else:
            assert abs(c["yes"] - c["no"]) <= max(2, 0.1 * len(group)), (qtype, c)


# -- shared prompt prefix ------------------------------------------------------------------------


def _context(it: dict) -> str:
    """The prompt before its question-specific lines: the question and the instruction,
    the monotonicity sentence at rung 3, and the fact line of a type that states one (the
    collider contrast of ``collider_bias``, the hidden structure of ``identifiable``)."""
    lines = it["prompt"].split("\n")
    has_fact = it["query_type"] in ("collider_bias", "identifiable")
    tail = 2 + (MONOTONE in it["prompt"]) + has_fact
    return "\n".join(lines[:-tail]) + "\n"


@pytest.mark.parametrize("suite", ["core", "paired"])
def test_questions_of_a_family_and_verbalization_share_the_prefix(suite, core, paired):
    items = core if suite == "core" else paired
    groups = _groups(items, "family_id", "verbalization")
    assert max(len(g) for g in groups.values()) >= 8
    for group in groups.values():
        context = _context(group[0])
        # The whole evidence (stated numbers or the count table) is in the shared part.
        assert "0." in context or "| count |" in context
        for it in group:
            assert it["prompt"].encode().startswith(context.encode()), it["id"]
            assert _context(it) == context


def test_paired_asks_every_scm_at_three_rungs_in_four_verbalizations(paired):
    families = _groups(paired, "family_id")
    complete = list(families.values())[:-1]  # the last one may be cut at n
    assert len(complete) >= 5
    for group in complete:
        assert {it["rung"] for it in group} == {1, 2, 3}
        assert {it["verbalization"] for it in group} == {
            "commonsense",
            "anticommonsense",
            "nonsense",
            "symbolic",
        }
        keys = _groups(group, "verbalization")
        assert len({tuple(sorted(it["question_key"] for it in g)) for g in keys.values()}) == 1
        assert len({json.dumps(it["scm"], sort_keys=True) for it in group}) == 1
        assert len({(it["evidence"], it["story"] is None) for it in group}) <= 2


def test_family_fields(core):
    families = _groups(core, "family_id")
    assert len(families) > 100
    for k, fid in enumerate(dict.fromkeys(it["family_id"] for it in core)):
        want = hashlib.sha256(f"core|0|family|{k}".encode()).hexdigest()[:16]
        assert fid == want
    for it in core:
        assert it["contract_version"] == 2
        assert it["question_key"].startswith(it["query_type"] + ":")
    for group in families.values():
        assert len({it["graph_family"] for it in group}) == 1
        per_key = Counter(it["question_key"] for it in group)
        assert all(c <= 2 for c in per_key.values())


def test_margin_holds_for_every_question(core):
    for it in core:
        q = it["query"]["type"]
        if QUERY_TYPES[q].rule == "indicator" or q == "collider_bias":
            continue
        centred = it["truth"] - 0.5 if q in ("marginal", "counterfactual") else it["truth"]
        assert abs(centred) >= it["margin"] - 1e-12, it["id"]


# -- determinism and versions --------------------------------------------------------------------


def test_same_seed_same_file_and_shorter_run_is_a_prefix(tmp_path, monkeypatch, core):
    monkeypatch.chdir(tmp_path)
    for name in ("a.jsonl", "b.jsonl"):
        argv = ["generate", "--suite", "core", "--n", "300", "--seed", "0", "--out", name]
        assert cli_main([*argv, "--quiet"]) == 0
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    lines = (tmp_path / "a.jsonl").read_text().splitlines()
    assert lines == [dumps(it) for it in core[:300]]
    other = [dumps(it) for it in generate_items(load_suite("core"), seed=5, n=300)]
    assert not set(other) & set(lines)


def test_v2_file_reads_back_and_v1_files_still_load(tmp_path, core):
    path = tmp_path / "v2.jsonl"
    path.write_text("".join(dumps(it) + "\n" for it in core[:200]))
    assert read_items(path) == core[:200]
    committed = read_items(ROOT / "reports" / "core500" / "items.jsonl")  # contract 1
    assert {it["contract_version"] for it in committed} == {1}
    assert not any("family_id" in it for it in committed)
    v1 = list(generate_items(load_spec(ROOT / "tests" / "data" / "core_v1.yaml"), 0, 50))
    assert {it["contract_version"] for it in v1} == {1}
    assert not any("twin_id" in it for it in v1)


def test_summary_prints_families_and_discordant_share(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli_main(["generate", "--suite", "quick", "--out", "q.jsonl"]) == 0
    out = capsys.readouterr().out
    items = read_items(tmp_path / "q.jsonl")
    sizes = Counter(it["family_id"] for it in items)
    assert f"{len(sizes)} families, {len(items) / len(sizes):.3g} items per family" in out
    block = out.split("\ndiscordant")[1].split("\n\n")[0].strip().splitlines()[1:]
    table = {row.split()[0]: row.split()[1:] for row in block}
    for qtype, group in _groups(items, "query_type").items():
        k = sum(it["discordant"] for it in group)
        assert table[qtype[0]] == [str(k), str(len(group)), f"{k / len(group):.2f}"]


# -- bad family specs ----------------------------------------------------------------------------

BASE = "name: bad\nn: 10\ncells:\n  confounding: [ate, ett]\n"


@pytest.mark.parametrize(
    ("block", "needle"),
    [
        ("families: {pairs: 2}", "field 'families.pairs': unknown field; allowed: questions"),
        ("families: {twins: maybe}", "field 'families.twins': 'maybe' must be true or false"),
        ("families: {verbalizations: some}", "'some'; allowed: one, all"),
        ("families: {questions: [nde]}", "'nde' is asked by no cell"),
        ("families: {questions: [telepathy]}", "unknown value 'telepathy'"),
        ("families: 3", "field 'families': must be a mapping"),
    ],
)
def test_bad_family_spec_exits_2_with_one_line(block, needle, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text(BASE + block + "\n")
    assert cli_main(["generate", "--spec", "bad.yaml", "--out", "o.jsonl"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("ladder generate: error: bad.yaml:")
    assert needle in err
    assert not (tmp_path / "o.jsonl").exists()


def test_questions_subset_and_no_twins(tmp_path):
    spec_text = BASE + "families: {questions: [ate], twins: false}\n"
    (tmp_path / "s.yaml").write_text(spec_text)
    items = list(generate_items(load_spec(tmp_path / "s.yaml"), 0, 40))
    assert {it["query_type"] for it in items} == {"ate"}
    assert all(it["twin_id"] is None for it in items)
    assert len({it["family_id"] for it in items}) == 40
