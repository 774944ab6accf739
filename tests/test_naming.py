"""Tests for ladder.generation.naming: stories, the four verbalizations and the dispatcher."""

from __future__ import annotations

import random
import re

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ladder.engine.graphs import FAMILIES, get_family, random_dag
from ladder.generation import naming
from ladder.generation.naming import (
    NONSENSE_PATTERN,
    STOP_WORDS,
    VERBALIZATIONS,
    Story,
    VarText,
    anticommonsense_names,
    anticommonsense_permutation,
    commonsense_names,
    load_stories,
    names_for,
    nonsense_names,
    parse_stories,
    symbolic_names,
)

# Independent of the module's own pattern: 2–3 syllables of (consonant or consonant pair)
# + vowel, then at most one consonant.
CV_WORD = re.compile(r"^(?:[bdfgklmnprstvz]{1,2}[aeiou]){2,3}[bdfgklmnprstvz]?$")

STORIES = load_stories()
ALL_STORIES = [s for stories in STORIES.values() for s in stories]


# ------------------------------------------------------------------------- stories


def test_story_counts() -> None:
    assert len(ALL_STORIES) >= 36
    assert set(STORIES) == set(FAMILIES)
    for family, stories in STORIES.items():
        assert len(stories) >= 4, family


@pytest.mark.parametrize("story", ALL_STORIES, ids=lambda s: s.id)
def test_story_covers_exactly_observed_nodes(story: Story) -> None:
    graph = get_family(story.family)
    assert set(story.variables) == set(graph.observed)
    assert not set(story.variables) & set(graph.hidden)


@pytest.mark.parametrize("story", ALL_STORIES, ids=lambda s: s.id)
def test_story_phrases_unique_and_well_formed(story: Story) -> None:
    phrases = [p.lower() for p in story.phrases()]
    assert len(phrases) == len(set(phrases)) == 3 * len(story.variables)
    assert story.unit and story.setting
    subject = f"the {story.unit}"
    for text in story.variables.values():
        assert isinstance(text, VarText)
        assert 1 <= len(text.name.split()) <= 5, text.name  # short names
        for clause in (text.true, text.false):
            assert clause.startswith((subject + " ", subject + "'s ")), clause
            assert clause == clause.strip() and not clause.endswith(".")
            assert clause[0].islower()  # fits mid-sentence after "if" / "that"


def test_story_ids_unique_and_stories_distinct() -> None:
    ids = [s.id for s in ALL_STORIES]
    assert len(ids) == len(set(ids))
    contents = [frozenset(s.variables.items()) for s in ALL_STORIES]
    assert len(contents) == len(set(contents))


def test_domains_vary() -> None:
    assert len({s.domain for s in ALL_STORIES}) >= 6


def test_load_stories_returns_fresh_lists() -> None:
    first = load_stories()
    first["chain"].clear()
    assert load_stories()["chain"]


def test_story_variables_are_read_only() -> None:
    story = ALL_STORIES[0]
    with pytest.raises(TypeError):
        story.variables["X"] = VarText("a", "b", "c")  # type: ignore[index]


# ----------------------------------------------------------------- parse_stories


def _raw(**overrides: object) -> dict:
    story = {
        "id": "s",
        "unit": "cat",
        "setting": "a study of cats",
        "variables": {
            "X": ["x", "the cat is x", "the cat is not x"],
            "M": ["m", "the cat is m", "the cat is not m"],
            "Y": ["y", "the cat's tail is y", "the cat's tail is not y"],
        },
    }
    story.update(overrides)
    return {"chain": [story]}


def test_parse_accepts_valid() -> None:
    (story,) = parse_stories(_raw())["chain"]
    assert story.variables["Y"].true == "the cat's tail is y"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"loop": []}, "unknown graph family"),
        (_raw(variables={"X": ["x", "the cat is x", "the cat is not x"]}), "observed nodes"),
        (
            _raw(
                variables={
                    "X": ["x", "the cat is x", "the cat is not x"],
                    "M": ["m", "the cat is m", "the cat is not m"],
                    "Y": ["y", "the cat is x", "the cat is not y"],
                }
            ),
            "more than once",
        ),
        (
            _raw(
                variables={
                    "X": ["x", "the cat is x", "the cat is not x"],
                    "M": ["m", "the cat is m", "the cat is not m"],
                    "Y": ["y", "a dog is y", "the cat is not y"],
                }
            ),
            "must start with",
        ),
        (
            _raw(
                variables={
                    "X": ["x", "the cat is x"],
                    "M": ["m", "the cat is m", "the cat is not m"],
                    "Y": ["y", "the cat is y", "the cat is not y"],
                }
            ),
            "three non-empty",
        ),
        (_raw(colour="red"), "unknown keys"),
        (_raw(unit=""), "'unit'"),
    ],
)
def test_parse_rejects(raw: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_stories(raw)


def test_parse_rejects_duplicate_ids() -> None:
    raw = _raw()
    raw["chain"].append(dict(raw["chain"][0]))
    with pytest.raises(ValueError, match="duplicate story id"):
        parse_stories(raw)


# ------------------------------------------------------------------- commonsense


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_commonsense_names(family: str) -> None:
    story_id, names = commonsense_names(family, random.Random(0))
    story = next(s for s in STORIES[family] if s.id == story_id)
    assert names == dict(story.variables)
    assert commonsense_names(family, random.Random(0)) == (story_id, names)


def test_commonsense_covers_all_stories() -> None:
    rng = random.Random(1)
    seen = {commonsense_names("chain", rng)[0] for _ in range(300)}
    assert seen == {s.id for s in STORIES["chain"]}


@pytest.mark.parametrize("family", ["random5", "loop", ""])
def test_commonsense_unknown_family(family: str) -> None:
    with pytest.raises(ValueError, match="families with stories: arrowhead, bow, chain"):
        commonsense_names(family, random.Random(0))
    with pytest.raises(ValueError, match="families with stories"):
        anticommonsense_names(family, random.Random(0))


# --------------------------------------------------------------- anticommonsense


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("seed", range(12))
def test_anticommonsense_is_derangement_of_story(family: str, seed: int) -> None:
    story_id, names = anticommonsense_names(family, random.Random(seed))
    plain_id, plain = commonsense_names(family, random.Random(seed))
    assert story_id == plain_id + "-anti"  # same story for the same seed
    assert set(names) == set(plain)
    assert sorted(map(repr, names.values())) == sorted(map(repr, plain.values()))
    for node in names:
        assert names[node] != plain[node], (family, node)
    assert anticommonsense_names(family, random.Random(seed)) == (story_id, names)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_anticommonsense_permutation_is_against_the_graph(family: str) -> None:
    """No best permutation keeps more graph edges than it turns around."""
    graph = get_family(family)
    for seed in range(20):
        src = anticommonsense_permutation(family, random.Random(seed))
        assert sorted(src) == sorted(src.values()) == sorted(graph.observed)
        assert all(k != v for k, v in src.items())
        edges = [(u, v) for u, v in graph.dag.edges if u in src and v in src]
        kept = sum(src[u] in nx.ancestors(graph.dag, src[v]) for u, v in edges)
        turned = sum(src[v] in nx.ancestors(graph.dag, src[u]) for u, v in edges)
        assert turned >= 1 and kept <= turned, (family, src)


def test_anticommonsense_diamond_reverses_every_edge() -> None:
    src = anticommonsense_permutation("diamond", random.Random(0))
    assert src == {"X": "Y", "Y": "X", "A": "B", "B": "A"}


def test_anticommonsense_fork_makes_the_common_cause_an_effect() -> None:
    for seed in range(10):
        src = anticommonsense_permutation("fork", random.Random(seed))
        # The original common cause Z now sits at X or Y, under the (new) cause Z.
        assert src["Z"] in {"X", "Y"}
        assert "Z" in (src["X"], src["Y"])


# ------------------------------------------------------------------------ nonsense


def test_nonsense_words_pronounceable_unique() -> None:
    rng = random.Random(3)
    for n in (2, 3, 4, 8, 26):
        nodes = [f"V{i + 1}" for i in range(n)]
        names = nonsense_names(nodes, rng)
        assert list(names) == nodes
        words = [v.name for v in names.values()]
        assert len(set(words)) == n
        for word, text in zip(words, names.values(), strict=True):
            assert CV_WORD.match(word), word
            assert NONSENSE_PATTERN.match(word), word
            assert word not in STOP_WORDS
            assert word.lower() not in {x.lower() for x in nodes}
            assert text == VarText(word, f"{word} is present", f"{word} is absent")


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 26))
def test_nonsense_reproducible(seed: int, n: int) -> None:
    nodes = [f"V{i + 1}" for i in range(n)]
    first = nonsense_names(nodes, random.Random(seed))
    assert first == nonsense_names(nodes, random.Random(seed))
    words = [v.name for v in first.values()]
    assert len(set(words)) == n
    assert all(CV_WORD.match(w) and w not in STOP_WORDS for w in words)


def test_nonsense_words_differ_across_seeds() -> None:
    a = nonsense_names(["X", "Y", "Z"], random.Random(1))
    b = nonsense_names(["X", "Y", "Z"], random.Random(2))
    assert a != b


def test_nonsense_rejects_stop_words_taken_and_confusable(monkeypatch: pytest.MonkeyPatch) -> None:
    # stop word, bare final e, accepted, taken, same first syllable "ke", accepted
    draws = iter(["banana", "stone", "kelomat", "kelomat", "kevi", "vorin"])
    monkeypatch.setattr(naming, "nonsense_word", lambda rng: next(draws))
    names = nonsense_names(["X", "Y"], random.Random(0))
    assert names["X"].name == "kelomat"
    assert names["Y"].name == "vorin"


def test_nonsense_avoids_node_symbols(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter(["bolu", "kavi", "mesi"])
    monkeypatch.setattr(naming, "nonsense_word", lambda rng: next(draws))
    names = nonsense_names(["BOLU", "Y"], random.Random(0))
    assert names["BOLU"].name == "kavi" and names["Y"].name == "mesi"


def test_nonsense_rejects_repeated_nodes() -> None:
    with pytest.raises(ValueError, match="repeats"):
        nonsense_names(["X", "X"], random.Random(0))


def test_stop_words_have_the_word_shape() -> None:
    assert len(STOP_WORDS) >= 100
    assert all(NONSENSE_PATTERN.match(w) for w in STOP_WORDS)


# ------------------------------------------------------------------------ symbolic


def test_symbolic_names() -> None:
    names = symbolic_names(["Z", "X", "V12"])
    assert names["X"] == VarText("X", "X = 1", "X = 0")
    assert names["V12"].true == "V12 = 1" and names["V12"].false == "V12 = 0"
    assert list(names) == ["Z", "X", "V12"]
    assert names["Z"].clause(1) == "Z = 1" and names["Z"].clause(0) == "Z = 0"


# ---------------------------------------------------------------------- dispatcher


def test_dispatcher_registry_matches_verbalizations() -> None:
    assert VERBALIZATIONS == ("commonsense", "anticommonsense", "nonsense", "symbolic")
    assert set(naming._REGISTRY) == set(VERBALIZATIONS)


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("verbalization", VERBALIZATIONS)
def test_dispatcher_all_families(verbalization: str, family: str) -> None:
    graph = get_family(family)
    story_id, names = names_for(verbalization, family, graph.nodes, random.Random(4))
    assert set(names) == set(graph.observed) | (
        set() if verbalization.endswith("commonsense") else set(graph.hidden)
    )
    if verbalization in ("commonsense", "anticommonsense"):
        assert isinstance(story_id, str)
        assert story_id.endswith("-anti") == (verbalization == "anticommonsense")
    else:
        assert story_id is None


def test_dispatcher_matches_direct_calls() -> None:
    nodes = ["X", "M", "Y"]
    assert names_for("commonsense", "chain", nodes, random.Random(9)) == commonsense_names(
        "chain", random.Random(9)
    )
    assert names_for("anticommonsense", "chain", nodes, random.Random(9)) == anticommonsense_names(
        "chain", random.Random(9)
    )
    assert names_for("nonsense", "chain", nodes, random.Random(9)) == (
        None,
        nonsense_names(nodes, random.Random(9)),
    )
    assert names_for("symbolic", "chain", nodes, random.Random(9)) == (None, symbolic_names(nodes))


def test_dispatcher_random_dags() -> None:
    graph = random_dag(6, seed=2)
    _, names = names_for("nonsense", graph.family, graph.nodes, random.Random(0))
    assert set(names) == set(graph.nodes)
    with pytest.raises(ValueError, match="no commonsense stories"):
        names_for("commonsense", graph.family, graph.nodes, random.Random(0))


def test_dispatcher_unknown_verbalization() -> None:
    with pytest.raises(
        ValueError,
        match=r"'poetic'.*commonsense, anticommonsense, nonsense, "
        r"symbolic",
    ):
        names_for("poetic", "chain", ["X", "M", "Y"], random.Random(0))


def test_dispatcher_unknown_node_for_story() -> None:
    with pytest.raises(ValueError, match=r"no text for nodes \['Q'\]"):
        names_for("commonsense", "chain", ["X", "Q"], random.Random(0))
