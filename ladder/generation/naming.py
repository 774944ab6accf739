"""Variable names for prompts: the four verbalizations of an item.

Every node of a graph is a binary variable.  A verbalization gives each node a
:class:`VarText`: a short noun phrase (``name``) and two present-tense clauses for its
values (``true`` for 1, ``false`` for 0) that fit both "if <clause>" and
"the probability that <clause>".

* ``commonsense`` — a real-world story whose causal directions match the graph
  (``ladder/generation/data/stories.yaml``), e.g. a salty diet → high blood pressure → a stroke.
* ``anticommonsense`` — the same stories with their texts permuted over the nodes so that
  world knowledge points against the graph (see :func:`anticommonsense_names`).
* ``nonsense`` — invented pronounceable words ("blovin is present").
* ``symbolic`` — the node symbols themselves ("X = 1").

Example
-------
>>> import random
>>> story_id, names = commonsense_names("chain", random.Random(0))
>>> sorted(names) == ["M", "X", "Y"]
True
>>> symbolic_names(["X"])["X"]
VarText(name='X', true='X = 1', false='X = 0')
>>> names_for("symbolic", "chain", ["X", "M", "Y"], random.Random(0))[0] is None
True
"""

from __future__ import annotations

import functools
import itertools
import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import networkx as nx
import yaml

from ladder.core.errors import SpecError
from ladder.core.resources import stories_file
from ladder.engine.graphs import FAMILIES, get_family

__all__ = [
    "NONSENSE_PATTERN",
    "STOP_WORDS",
    "VERBALIZATIONS",
    "Story",
    "VarText",
    "anticommonsense_names",
    "anticommonsense_permutation",
    "commonsense_names",
    "load_stories",
    "names_for",
    "nonsense_names",
    "nonsense_word",
    "parse_stories",
    "symbolic_names",
]

VERBALIZATIONS: tuple[str, ...] = ("commonsense", "anticommonsense", "nonsense", "symbolic")


@dataclass(frozen=True)
class VarText:
    """How one binary variable reads in a prompt.

    >>> v = VarText("smoking", "the person smokes", "the person does not smoke")
    >>> v.clause(1), v.clause(0)
    ('the person smokes', 'the person does not smoke')
    """

    name: str
    true: str
    false: str

    def clause(self, value: int | bool) -> str:
        """The clause for ``value`` (truthy → ``true``, falsy → ``false``)."""
        return self.true if value else self.false


@dataclass(frozen=True)
class Story:
    """A commonsense story: real-world texts for every observed node of one graph family.

    ``unit`` is the subject every clause is about ("person" → "the person smokes");
    ``unobserved`` optionally says what a hidden node stands for (prompts do not use it
    by default).

    >>> s = load_stories()["chain"][0]
    >>> s.family, sorted(s.variables)
    ('chain', ['M', 'X', 'Y'])
    """

    id: str
    family: str
    unit: str
    setting: str
    variables: Mapping[str, VarText] = field(hash=False)
    domain: str = ""
    unobserved: str | None = None

    def texts(self) -> dict[str, VarText]:
        """A fresh, mutable ``node → VarText`` dict."""
        return dict(self.variables)

    def phrases(self) -> list[str]:
        """Every name and clause of the story (used to check they are all distinct)."""
        return [p for v in self.variables.values() for p in (v.name, v.true, v.false)]


# --------------------------------------------------------------------------- stories

_STORY_KEYS = {"id", "unit", "setting", "domain", "unobserved", "variables"}


def parse_stories(data: Any) -> dict[str, tuple[Story, ...]]:
    """Validate the parsed YAML of a stories file and build :class:`Story` objects.

    Checks: known family; the story names exactly the family's observed nodes; each
    variable is ``[name, true, false]`` of non-empty strings; all names and clauses of a
    story are distinct (case-insensitive); each clause starts with ``"the <unit>"``;
    story ids are unique across the file.  Raises ``ValueError`` naming the story.

    >>> raw = {"chain": [{"id": "a", "unit": "cat", "setting": "s", "variables": {
    ...     "X": ["x", "the cat x", "the cat not x"], "M": ["m", "the cat m", "the cat not m"],
    ...     "Y": ["y", "the cat y", "the cat not y"]}}]}
    >>> parse_stories(raw)["chain"][0].id
    'a'
    """
    if not isinstance(data, Mapping):
        raise SpecError("stories file: the top level must map graph families to story lists")
    seen_ids: set[str] = set()
    out: dict[str, tuple[Story, ...]] = {}
    for family, entries in data.items():
        if family not in FAMILIES:
            raise SpecError(
                f"stories file: unknown graph family {family!r}; "
                f"allowed: {', '.join(sorted(FAMILIES))}"
            )
        graph = get_family(family)
        observed = set(graph.observed)
        if not isinstance(entries, list):
            raise SpecError(f"stories file: family {family!r} must hold a list of stories")
        out[family] = tuple(_parse_story(family, observed, entry, seen_ids) for entry in entries)
    return out


def _parse_story(family: str, observed: set[str], entry: Any, seen_ids: set[str]) -> Story:
    """Validate one story mapping of ``family`` and build its :class:`Story`.

    ``seen_ids`` collects story ids across the whole file so duplicates are caught.
    """
    sid = _story_id(family, entry, seen_ids)
    where = f"story {sid!r} ({family})"
    extra = set(entry) - _STORY_KEYS
    if extra:
        raise SpecError(f"{where}: unknown keys {sorted(map(str, extra))}")
    for key in ("unit", "setting"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise SpecError(f"{where}: {key!r} must be a non-empty string")
    unit = entry["unit"].strip()
    variables = _story_variables(family, observed, entry.get("variables"), f"the {unit}", where)
    unobserved = entry.get("unobserved")
    if unobserved is not None and not isinstance(unobserved, str):
        raise SpecError(f"{where}: 'unobserved' must be a string")
    return Story(
        id=sid,
        family=family,
        unit=unit,
        setting=entry["setting"].strip(),
        variables=MappingProxyType(variables),
        domain=str(entry.get("domain") or ""),
        unobserved=unobserved,
    )


def _story_id(family: str, entry: Any, seen_ids: set[str]) -> str:
    """Check that ``entry`` is a mapping with a new, non-empty id; record and return the id."""
    if not isinstance(entry, Mapping):
        raise SpecError(f"stories file: family {family!r} has a story that is not a mapping")
    sid = entry.get("id")
    if not isinstance(sid, str) or not sid:
        raise SpecError(f"stories file: a {family!r} story lacks an id")
    if sid in seen_ids:
        raise SpecError(f"stories file: duplicate story id {sid!r}")
    seen_ids.add(sid)
    return sid


def _story_variables(
    family: str, observed: set[str], raw_vars: Any, subject: str, where: str
) -> dict[str, VarText]:
    """Parse a story's ``variables`` mapping (node -> [name, true, false]) into texts.

    The nodes must be exactly the family's observed nodes, every clause must start with
    ``subject`` and no phrase may be used twice.
    """
    if not isinstance(raw_vars, Mapping):
        raise SpecError(f"{where}: 'variables' must map nodes to [name, true, false]")
    if set(raw_vars) != observed:
        raise SpecError(
            f"{where}: names nodes {sorted(map(str, raw_vars))}, but the "
            f"{family!r} family's observed nodes are {sorted(observed)}"
        )
    variables = {node: _var_text(node, triple, subject, where) for node, triple in raw_vars.items()}
    phrases = [p.lower() for v in variables.values() for p in (v.name, v.true, v.false)]
    dupes = sorted({p for p in phrases if phrases.count(p) > 1})
    if dupes:
        raise SpecError(f"{where}: phrases used more than once: {dupes}")
    return variables


def _var_text(node: Any, triple: Any, subject: str, where: str) -> VarText:
    """Parse one node's ``[name, true, false]`` triple; both clauses must start with ``subject``."""
    if (
        not isinstance(triple, list)
        or len(triple) != 3
        or not all(isinstance(t, str) and t.strip() for t in triple)
    ):
        raise SpecError(
            f"{where}: node {node!r} must be [name, true, false] "
            f"(three non-empty strings), got {triple!r}"
        )
    name, true, false = (t.strip() for t in triple)
    for clause in (true, false):
        if not (clause == subject or clause.startswith((subject + " ", subject + "'s "))):
            raise SpecError(
                f"{where}: clause {clause!r} of node {node!r} must start "
                f"with {subject!r} so that every clause has one subject"
            )
    return VarText(name, true, false)


@functools.cache
def _stories() -> dict[str, tuple[Story, ...]]:
    text = stories_file().read_text(encoding="utf-8")
    return parse_stories(yaml.safe_load(text))


def load_stories() -> dict[str, list[Story]]:
    """All commonsense stories keyed by graph family, in file order.

    The YAML (``ladder/generation/data/stories.yaml``, package data) is read and validated once;
    each call returns fresh lists, so callers may modify them.

    >>> stories = load_stories()
    >>> all(len(v) >= 4 for v in stories.values())
    True
    """
    return {family: list(stories) for family, stories in _stories().items()}


def _family_stories(family: str) -> tuple[Story, ...]:
    stories = _stories().get(family)
    if not stories:
        raise SpecError(
            f"no commonsense stories for graph family {family!r}; "
            f"families with stories: {', '.join(sorted(_stories()))}"
        )
    return stories


def commonsense_names(family: str, rng: random.Random) -> tuple[str, dict[str, VarText]]:
    """A random story of ``family``: ``(story_id, node → VarText)``.

    Draws exactly one ``rng.choice`` over the family's stories (file order), so
    :func:`anticommonsense_names` with an equally seeded ``rng`` starts from the same story.
    Unknown families (random DAGs included) raise ``ValueError``.

    >>> sid, names = commonsense_names("collider", random.Random(3))
    >>> sorted(names)
    ['C', 'X', 'Y']
    """
    story = rng.choice(_family_stories(family))
    return story.id, story.texts()


# ------------------------------------------------------------------ anticommonsense


def _derangements(nodes: Sequence[str]) -> Iterable[tuple[str, ...]]:
    for perm in itertools.permutations(nodes):
        if all(a != b for a, b in zip(nodes, perm, strict=True)):
            yield perm


@functools.cache
def _anti_candidates(family: str) -> tuple[tuple[tuple[str, str], ...], ...]:
    """Best derangements for ``family``, each as sorted ``(node, source node)`` pairs."""
    graph = get_family(family)
    observed = graph.observed
    ancestors = {n: set(nx.ancestors(graph.dag, n)) for n in observed}
    edges = [(u, v) for u, v in graph.dag.edges if u in ancestors and v in ancestors]
    scored: list[tuple[tuple[int, int], tuple[tuple[str, str], ...]]] = []
    for perm in _derangements(observed):
        src = dict(zip(observed, perm, strict=True))
        kept = sum(src[u] in ancestors[src[v]] for u, v in edges)
        reversed_ = sum(src[v] in ancestors[src[u]] for u, v in edges)
        scored.append(((kept, -reversed_), tuple(sorted(src.items()))))
    best = min(score for score, _ in scored)
    return tuple(sorted(p for score, p in scored if score == best))


def anticommonsense_permutation(family: str, rng: random.Random) -> dict[str, str]:
    """The node permutation the anticommonsense verbalization uses: ``node → source node``.

    Rule: node ``n`` takes the text of node ``source[n]`` of the original story.  Among all
    permutations of the observed nodes that move every node (derangements), keep those that
    (1) make the fewest graph edges ``u → v`` read in a causal direction the story supports
    (``source[u]`` is an ancestor of ``source[v]`` in the original graph), then (2) make the
    most edges read against it (``source[v]`` an ancestor of ``source[u]``).  One of the
    kept permutations (sorted, so the list is deterministic) is drawn with ``rng.choice``.

    On a chain X → M → Y every derangement is a 3-cycle, so one edge still reads forwards
    and one backwards (e.g. "high blood pressure → a stroke → a salty diet"); a full
    reversal (swap X and Y) would leave M in place.

    >>> src = anticommonsense_permutation("fork", random.Random(0))
    >>> sorted(src) == sorted(src.values()) and all(k != v for k, v in src.items())
    True
    """
    _family_stories(family)  # a family without stories raises the standard error
    return dict(rng.choice(_anti_candidates(family)))


def anticommonsense_names(family: str, rng: random.Random) -> tuple[str, dict[str, VarText]]:
    """A story of ``family`` with its texts permuted against world knowledge.

    Draws the story exactly as :func:`commonsense_names` does, then a permutation from
    :func:`anticommonsense_permutation`; node ``n`` gets the original text of
    ``source[n]``.  Every clause of a story has the same subject, so any permutation reads
    grammatically.  Returns ``(story_id + "-anti", node → VarText)``.

    >>> sid, names = anticommonsense_names("chain", random.Random(0))
    >>> sid.endswith("-anti"), sorted(names)
    (True, ['M', 'X', 'Y'])
    """
    story = rng.choice(_family_stories(family))
    source = anticommonsense_permutation(family, rng)
    return story.id + "-anti", {node: story.variables[source[node]] for node in story.variables}


# ------------------------------------------------------------------------- nonsense

_SINGLE_ONSETS = tuple("bdfgklmnprstvz")
_CLUSTER_ONSETS = (
    "bl",
    "br",
    "dr",
    "fl",
    "fr",
    "gl",
    "gr",
    "kl",
    "kr",
    "pl",
    "pr",
    "sk",
    "sl",
    "sn",
    "sp",
    "st",
    "tr",
)
_VOWELS = tuple("aeiou")
_CODAS = ("", "", "", "n", "r", "l", "m", "s", "k", "t")
_CLUSTER_RATE = 0.3  # share of words that open with a cluster

#: Invented words match this: 2–3 consonant–vowel syllables (only the first may open with a
#: two-consonant cluster such as "bl" or "st") and an optional final consonant.
NONSENSE_PATTERN = re.compile(
    r"^(?:" + "|".join(_CLUSTER_ONSETS) + r"|[" + "".join(_SINGLE_ONSETS) + r"])[aeiou]"
    r"(?:[" + "".join(_SINGLE_ONSETS) + r"][aeiou]){1,2}[nrlmskt]?$"
)

_STOP_WORDS_TEXT = """
bagel baker banal banana baron basil baton began benefit beta bigot bikini bison bolero
boner bonus bosom boson bravo brutal data debut deli deliver demo demon denim deposit depot
digital dinar diner diva dodo domino donut dozen fatal federal felon feral feta fetal fetus
fever final finer floral gala gamut gelato general genesis genus given global gravel guru
kilo kimono komodo kudos label lager lapis later lava legal lego lemon lemur level lever
liberal libido lido lima limit limo liner lira liver logan logo loner lotus lunar lupus
madam maker mama manor marina medal mega melon memo menu merino meta metal miner mineral
mini minimal minus modal model modem molar monitor mono moral motel motor mural nada natal
natural naval nazi nemesis never nova novel numeral pagan pager pagoda panama panel papa
paper parasol patina pedal penal penis petal pilot piper pita pivot pivotal polar polo
popular potato primal proton puma pupil radar ramen raper raven rebel rebus rebut regal
regular renal repel resin retina riper rival river rivet robin robot rota rotor rumor rural
safari saga salami salon sari satin sedan semen senator seven sever several sinus sitar
sniper soda sofa solar solo sonar sonata stamen sudoku sugar sumo super tabu taken taker
talon tamer tapas tapir tarot tenet tenor tidal tiger tiki timer tofu toga token tomato
tonal toner total totem travel tribal tuba tumor tuna tutor tutu vagina vapor vegan venal
venom venus vigil viper visa visit visitor vital
"""
#: Real English words (and vulgar ones) of the invented-word shape, never produced.  Words
#: ending in a bare "e" are never produced either (that rules out "stone", "tile", ...).
STOP_WORDS: frozenset[str] = frozenset(_STOP_WORDS_TEXT.split())

_BLOCKED_SUBSTRINGS = (
    "rape",
    "nazi",
    "kike",
    "penis",
    "semen",
    "vagina",
    "slut",
    "anal",
    "fag",
    "nig",
)


def nonsense_word(rng: random.Random) -> str:
    """One invented word of the :data:`NONSENSE_PATTERN` shape, e.g. ``"blovin"``.

    May be a stop word; :func:`nonsense_names` filters those out.

    >>> w = nonsense_word(random.Random(1))
    >>> bool(NONSENSE_PATTERN.match(w))
    True
    """
    n_syllables = rng.choice((2, 3))
    first = rng.choice(_CLUSTER_ONSETS if rng.random() < _CLUSTER_RATE else _SINGLE_ONSETS)
    onsets = [first] + [rng.choice(_SINGLE_ONSETS) for _ in range(n_syllables - 1)]
    return "".join(o + rng.choice(_VOWELS) for o in onsets) + rng.choice(_CODAS)


def _first_syllable(word: str) -> str:
    onset = word[:2] if word[:2] in _CLUSTER_ONSETS else word[:1]
    return word[: len(onset) + 1]


def _acceptable(word: str, taken: set[str], first_syllables: set[str], symbols: set[str]) -> bool:
    if word.endswith("e") or word in STOP_WORDS or word in taken or word in symbols:
        return False
    if any(bad in word for bad in _BLOCKED_SUBSTRINGS):
        return False
    # Distinct first syllables keep the words of one item easy to tell apart.
    return _first_syllable(word) not in first_syllables


_MAX_NONSENSE_NODES = 60


def nonsense_names(nodes: Sequence[str], rng: random.Random) -> dict[str, VarText]:
    """Invented words for ``nodes``: ``"blovin"`` reads "blovin is present" / "... absent".

    Words are unique within the call, start with distinct syllables, avoid
    :data:`STOP_WORDS` and the node symbols, and depend only on ``rng``'s state.

    >>> names = nonsense_names(["X", "Y"], random.Random(7))
    >>> names == nonsense_names(["X", "Y"], random.Random(7))
    True
    >>> v = names["X"]
    >>> v.true == f"{v.name} is present" and v.false == f"{v.name} is absent"
    True
    """
    nodes = list(nodes)
    if len(set(nodes)) != len(nodes):
        raise SpecError(f"nonsense_names: node list {nodes} repeats a node")
    if len(nodes) > _MAX_NONSENSE_NODES:
        raise SpecError(
            f"nonsense_names: {len(nodes)} nodes exceed the limit of {_MAX_NONSENSE_NODES}"
        )
    symbols = {str(n).lower() for n in nodes}
    taken: set[str] = set()
    firsts: set[str] = set()
    out: dict[str, VarText] = {}
    for node in nodes:
        word = nonsense_word(rng)
        while not _acceptable(word, taken, firsts, symbols):
            word = nonsense_word(rng)
        taken.add(word)
        firsts.add(_first_syllable(word))
        out[node] = VarText(word, f"{word} is present", f"{word} is absent")
    return out


# ------------------------------------------------------------------------- symbolic


def symbolic_names(nodes: Sequence[str]) -> dict[str, VarText]:
    """The node symbols themselves: name ``"X"``, clauses ``"X = 1"`` and ``"X = 0"``.

    >>> symbolic_names(["V1"])["V1"].false
    'V1 = 0'
    """
    return {node: VarText(node, f"{node} = 1", f"{node} = 0") for node in nodes}


# ----------------------------------------------------------------------- dispatcher


def _story_names(
    draw: Callable[[str, random.Random], tuple[str, dict[str, VarText]]],
    family: str,
    nodes: Sequence[str],
    rng: random.Random,
) -> tuple[str | None, dict[str, VarText]]:
    story_id, names = draw(family, rng)
    hidden = get_family(family).hidden
    missing = [n for n in nodes if n not in names and n not in hidden]
    if missing:
        raise SpecError(
            f"story {story_id!r} ({family}) has no text for nodes {missing}; "
            f"it names {sorted(names)}"
        )
    return story_id, {n: names[n] for n in nodes if n in names}


_REGISTRY: dict[
    str, Callable[[str, Sequence[str], random.Random], tuple[str | None, dict[str, VarText]]]
] = {
    "commonsense": functools.partial(_story_names, commonsense_names),
    "anticommonsense": functools.partial(_story_names, anticommonsense_names),
    "nonsense": lambda family, nodes, rng: (None, nonsense_names(nodes, rng)),
    "symbolic": lambda family, nodes, rng: (None, symbolic_names(nodes)),
}


def names_for(
    verbalization: str, family: str, nodes: Sequence[str], rng: random.Random
) -> tuple[str | None, dict[str, VarText]]:
    """Texts for ``nodes`` under one verbalization: ``(story_id or None, node → VarText)``.

    Story-based verbalizations return texts for the requested nodes that the story names
    (hidden nodes such as the iv/front-door ``U`` are left out) and raise ``ValueError``
    for a node that is neither named nor hidden, or for a family without stories.
    ``nonsense`` and ``symbolic`` ignore ``family`` and return ``None`` as the story id.

    >>> names_for("symbolic", "random5", ["V1", "V2"], random.Random(0))[1]["V2"].true
    'V2 = 1'
    >>> names_for("commonsense", "iv", ["U", "Z", "X", "Y"], random.Random(0))[1].keys()
    dict_keys(['Z', 'X', 'Y'])
    """
    try:
        make = _REGISTRY[verbalization]
    except KeyError:
        raise SpecError(
            f"unknown verbalization {verbalization!r}; allowed: {', '.join(VERBALIZATIONS)}"
        ) from None
    return make(family, list(nodes), rng)
