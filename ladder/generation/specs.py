"""Task specs: which questions a suite asks, read from YAML and validated strictly.

A spec maps graph families to the query types asked on them::

    name: mini
    n: 40                      # items (the CLI's --n overrides)
    max_n: 100000              # cap on n and --n (default 100000; at most 10000000)
    margin: 0.05               # minimum distance of truth from the decision threshold
    verbalizations: [commonsense, symbolic]
    evidence: [probabilities]
    cells:
      confounding: [ate, backdoor_set]
      random:
        nodes: [3, 6]
        density: 0.4
        queries: [correlation, ett]

An optional ``families`` block turns the spec into *item families* (contract version 2): one
SCM per family, asked every query type of its cell that is defined on the drawn graph::

    families:
      questions: all           # or a list of query types (a subset of the cells' types)
      twins: true              # each question in both polarities (opposite answers)
      verbalizations: one      # or all: the same SCM and numbers in every verbalization
      discordant: {ate: 0.4}   # target share of discordant items per query type (or none)
      candidates: 24           # SCMs drawn per family to choose the one that serves them
      contrasts: false         # true: also state P(Y=1 | X=1) and P(Y=1 | X=0) for each X → Y
                               # asked; difference: state P(Y=1 | X=1) − P(Y=1 | X=0) instead

Every (family, query) pair must be defined (:func:`ladder.engine.query_types.supports`); any
unknown field, family, query type, verbalization or evidence mode is a
:class:`SpecError` naming the file, the field and the allowed values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ladder.core.errors import SpecError
from ladder.core.resources import builtin_task
from ladder.engine.graphs import FAMILIES
from ladder.engine.query_types import QUERY_TYPES, unsupported_reason
from ladder.generation.naming import VERBALIZATIONS
from ladder.generation.verbalize import EVIDENCE_MODES

__all__ = [
    "DEFAULT_CANDIDATES",
    "DEFAULT_DISCORDANT",
    "DEFAULT_MAX_N",
    "DISCORDANT_KEYS",
    "FAMILY_FIELDS",
    "HARD_MAX_N",
    "PAIR_KEY",
    "SUITES",
    "Families",
    "RandomDags",
    "SpecError",
    "TaskSpec",
    "load_spec",
    "load_suite",
]

SUITES = ("core", "quick", "paired", "identify")

#: Default cap on the items one generation may make (a spec's ``max_n`` changes it).
DEFAULT_MAX_N = 100_000
#: The highest ``max_n`` a spec may set.
HARD_MAX_N = 10_000_000

_TOP_FIELDS = {
    "name",
    "description",
    "n",
    "margin",
    "verbalizations",
    "evidence",
    "cells",
    "sample_size",
    "samples_max_nodes",
    "cpt_range",
    "min_effect",
    "max_n",
    "families",
}
#: The fields of a spec's ``families`` block.
FAMILY_FIELDS = ("questions", "twins", "verbalizations", "discordant", "candidates", "contrasts")
#: The ``families.discordant`` key of correlation-vs-ate pairs: a family whose correlation and
#: ate questions on the same X → Y have opposite answers (a Simpson-style reversal).
PAIR_KEY = "correlation_vs_ate"
#: Keys a discordance target may name: the types whose rung-1 counterpart can differ from the
#: truth (rung 2 and 3, ``backdoor_set`` has none and ``collider_bias`` none that varies), and
#: the correlation-vs-ate pairs.
DISCORDANT_KEYS = (
    "ate",
    "ett",
    "nde",
    "nie",
    "counterfactual",
    "identifiable",
    PAIR_KEY,
)
#: The targets of a ``families`` block without ``discordant``: a best effort (see Families).
DEFAULT_DISCORDANT = {k: 0.4 for k in ("ate", "ett", "nde", "nie", "counterfactual", PAIR_KEY)}
#: Default ``families.candidates``: the most SCMs drawn per family to choose from.
DEFAULT_CANDIDATES = 24
_RANDOM_FIELDS = {"nodes", "density", "queries", "hidden"}
#: The query types a random cell with hidden nodes may ask: the stated numbers of such a
#: graph (P(V | earlier observed) where V has a hidden parent) need not identify the other
#: types' quantities, so a prompt-only answer could disagree with the truth.
HIDDEN_RANDOM_QUERIES = ("identifiable",)
#: The most nodes a random DAG with hidden nodes may have: a variable with a hidden parent
#: is stated given every earlier observed variable, 2^(k-1) numbers.
HIDDEN_MAX_NODES = 8


@dataclass(frozen=True)
class RandomDags:
    """Random DAGs with a node count drawn uniformly from ``nodes`` (inclusive)."""

    nodes: tuple[int, int]
    density: float
    queries: tuple[str, ...]
    #: How many hidden common causes each DAG gets, drawn uniformly (None: fully observed).
    hidden: tuple[int, int] | None = None


@dataclass(frozen=True)
class Families:
    """A spec's ``families`` block: how each SCM's family of questions is asked.

    ``questions`` is None for every type of the cell (``all``), else the types asked;
    ``twins``: each question in both polarities; ``all_verbalizations``: every family is
    rendered in each of the spec's verbalizations (``verbalizations: all``), not one.
    ``discordant``: the target share of discordant items per query type (and of opposite
    correlation-vs-ate pairs, :data:`PAIR_KEY`); ``required`` when the spec sets it (an
    unreachable target is then an error), else the defaults are a best effort.
    ``candidates``: the most SCMs drawn per family to pick the one that serves the targets.
    ``contrasts``: ``probabilities`` mode also states the observational ``P(Y=1 | X=1)``
    and ``P(Y=1 | X=0)`` of each treatment–outcome pair the family's difference questions
    ask (``"pair"``, spec value ``true``), so that the rung-1 answer is a comparison of two
    printed numbers, or their difference as one signed number (``"difference"``), so that
    it is the printed sign; None (``false``) states neither. The association controls of
    ``tasks/control_contrasts.yaml`` and ``tasks/control_difference.yaml`` train on them.
    """

    questions: tuple[str, ...] | None = None
    twins: bool = True
    all_verbalizations: bool = False
    discordant: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_DISCORDANT))
    required: bool = False
    candidates: int = DEFAULT_CANDIDATES
    contrasts: str | None = None


@dataclass(frozen=True)
class TaskSpec:
    """A validated task spec. ``sha256`` is the hash of its canonical JSON form."""

    name: str
    n: int
    margin: float
    verbalizations: tuple[str, ...]
    evidence: tuple[str, ...]
    cells: Mapping[str, tuple[str, ...]]
    random_dags: RandomDags | None = None
    description: str = ""
    sample_size: int = 1000
    samples_max_nodes: int = 6
    cpt_range: tuple[float, float] = (0.05, 0.95)
    min_effect: float = 0.05
    max_n: int = 100_000
    families: Families | None = None
    source: str = "<memory>"
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def sha256(self) -> str:
        canon = yaml.safe_dump(dict(self.raw), sort_keys=True).encode()
        return hashlib.sha256(canon).hexdigest()


def _fail(source: str, field_name: str, problem: str) -> SpecError:
    return SpecError(f"{source}: field '{field_name}': {problem}")


def _list_of(
    source: str, name: str, value: Any, allowed: tuple[str, ...] | list[str]
) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise _fail(source, name, f"must be a non-empty list; allowed values: {', '.join(allowed)}")
    for item in value:
        if item not in allowed:
            raise _fail(source, name, f"unknown value {item!r}; allowed: {', '.join(allowed)}")
    if len(set(value)) != len(value):
        raise _fail(source, name, "lists a value twice")
    return tuple(value)


def _number(source: str, name: str, value: Any, kind: type, low: float, high: float) -> Any:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (kind is int and not isinstance(value, int))
    ):
        raise _fail(source, name, f"{value!r} is not a{'n integer' if kind is int else ' number'}")
    if not low <= value <= high:
        raise _fail(source, name, f"{value!r} is outside the allowed range [{low}, {high}]")
    return kind(value)


def _int_range(source: str, where: str, value: Any, low: int, high: int) -> tuple[int, int]:
    """``[min, max]`` (or one integer) with ``low <= min <= max <= high``."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value, value]
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(k, int) and not isinstance(k, bool) for k in value)
        or not low <= value[0] <= value[1] <= high
    ):
        raise _fail(
            source, where, f"{value!r} must be [min, max] with {low} <= min <= max <= {high}"
        )
    return value[0], value[1]


def _random_queries(
    source: str, where: str, value: Any, hidden: tuple[int, int] | None
) -> tuple[str, ...]:
    """The random cell's query types: defined on random DAGs, or with ``hidden`` nodes
    only :data:`HIDDEN_RANDOM_QUERIES`."""
    queries = _list_of(source, f"{where}.queries", value, tuple(QUERY_TYPES))
    for q in queries:
        if hidden is not None:
            reason = None if q in HIDDEN_RANDOM_QUERIES else "it is not asked with hidden nodes"
            allowed = f"; allowed with hidden: {', '.join(HIDDEN_RANDOM_QUERIES)}"
        else:
            reason, allowed = unsupported_reason("random", q), ""
        if reason:
            raise _fail(
                source,
                f"{where}.queries",
                f"query {q!r} is undefined on random DAGs: {reason}{allowed}",
            )
    return queries


def _random_cell(
    source: str, where: str, value: Any, verbalizations: tuple[str, ...]
) -> RandomDags:
    """The ``cells.random`` mapping: node range, density, hidden nodes and the queries."""
    if not isinstance(value, Mapping):
        raise _fail(source, where, "must be a mapping with nodes, density, queries")
    bad = set(value) - _RANDOM_FIELDS
    if bad:
        raise _fail(
            source,
            f"{where}.{sorted(bad)[0]}",
            f"unknown field; allowed: {', '.join(sorted(_RANDOM_FIELDS))}",
        )
    nodes = _int_range(source, f"{where}.nodes", value.get("nodes", [3, 12]), 3, 16)
    density = _number(source, f"{where}.density", value.get("density", 0.4), float, 0.05, 1.0)
    hidden = None
    if value.get("hidden") is not None:
        hidden = _int_range(source, f"{where}.hidden", value["hidden"], 1, 3)
        if nodes[1] > HIDDEN_MAX_NODES:
            raise _fail(
                source,
                f"{where}.nodes",
                f"{list(nodes)!r}: with hidden nodes the most is {HIDDEN_MAX_NODES} "
                "(a variable with a hidden parent is stated given every earlier one)",
            )
    queries = _random_queries(source, where, value.get("queries"), hidden)
    if not set(verbalizations) & {"nonsense", "symbolic"}:
        raise _fail(
            source,
            "verbalizations",
            "random DAGs have no commonsense stories; add nonsense or symbolic",
        )
    return RandomDags(nodes, density, queries, hidden)


def _family_cell(source: str, family: str, value: Any) -> tuple[str, ...]:
    """The query types asked on a named family, each defined there."""
    if family not in FAMILIES:
        raise _fail(
            source,
            "cells",
            f"unknown graph family {family!r}; allowed: {', '.join([*FAMILIES, 'random'])}",
        )
    where = f"cells.{family}"
    queries = _list_of(source, where, value, tuple(QUERY_TYPES))
    for q in queries:
        reason = unsupported_reason(family, q)
        if reason:
            defined = [t for t in QUERY_TYPES if not unsupported_reason(family, t)]
            raise _fail(
                source,
                where,
                f"query {q!r} is undefined on family {family!r}: "
                f"{reason}; defined there: {', '.join(defined)}",
            )
    return queries


def _cells(
    source: str, cells_raw: Any, verbalizations: tuple[str, ...]
) -> tuple[dict[str, tuple[str, ...]], RandomDags | None]:
    if not isinstance(cells_raw, Mapping) or not cells_raw:
        raise _fail(
            source,
            "cells",
            "must map graph families to lists of query types; "
            f"allowed families: {', '.join([*FAMILIES, 'random'])}",
        )
    cells: dict[str, tuple[str, ...]] = {}
    random_dags = None
    for family, value in cells_raw.items():
        if family == "random":
            random_dags = _random_cell(source, f"cells.{family}", value, verbalizations)
        else:
            cells[family] = _family_cell(source, family, value)
    return cells, random_dags


def _top_fields(source: str, data: Any) -> None:
    if not isinstance(data, Mapping):
        raise SpecError(
            f"{source}: a spec must be a YAML mapping of fields; allowed fields: "
            f"{', '.join(sorted(_TOP_FIELDS))}"
        )
    unknown = set(data) - _TOP_FIELDS
    if unknown:
        raise _fail(
            source,
            sorted(unknown)[0],
            f"unknown field; allowed fields: {', '.join(sorted(_TOP_FIELDS))}",
        )
    for required in ("name", "cells"):
        if required not in data:
            raise _fail(source, required, "is required")
    name = data["name"]
    if not isinstance(name, str) or not name.strip():
        raise _fail(source, "name", "must be a non-empty string")


def _cpt_range(source: str, data: Mapping[str, Any]) -> tuple[float, float]:
    cpt_range = data.get("cpt_range", [0.05, 0.95])
    if (
        not isinstance(cpt_range, list)
        or len(cpt_range) != 2
        or not all(isinstance(v, (int, float)) for v in cpt_range)
        or not 0 <= cpt_range[0] < cpt_range[1] <= 1
    ):
        raise _fail(
            source, "cpt_range", f"{cpt_range!r} must be [low, high] with 0 <= low < high <= 1"
        )
    return float(cpt_range[0]), float(cpt_range[1])


def _targets(source: str, value: Any, asked: set[str]) -> dict[str, float]:
    """The ``families.discordant`` mapping: key → target share in [0, 1] (``none``: no targets).

    >>> _targets("s.yaml", {"ate": 0.5}, {"ate"})
    {'ate': 0.5}
    >>> _targets("s.yaml", {"ett": 0.5}, {"ate"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ladder.core.errors.SpecError: s.yaml: field 'families.discordant.ett': ett asked by no cell; ...
    """
    where = "families.discordant"
    if value in (None, "none"):
        return {}
    if not isinstance(value, Mapping):
        raise _fail(
            source,
            where,
            f"must map query types to shares or be none; keys: {', '.join(DISCORDANT_KEYS)}",
        )
    out = {}
    for key, share in value.items():
        if key not in DISCORDANT_KEYS:
            raise _fail(
                source, f"{where}.{key}", f"unknown key; allowed: {', '.join(DISCORDANT_KEYS)}"
            )
        needs = {"correlation", "ate"} if key == PAIR_KEY else {key}
        if not needs <= asked:
            raise _fail(
                source,
                f"{where}.{key}",
                f"{' and '.join(sorted(needs))} asked by no cell; "
                f"cells ask: {', '.join(sorted(asked))}",
            )
        out[str(key)] = _number(source, f"{where}.{key}", share, float, 0.0, 1.0)
    return out


def _questions(source: str, value: Any, asked: set[str]) -> tuple[str, ...] | None:
    """``families.questions``: None for ``all``, else the listed types (each asked by a cell)."""
    questions = value.get("questions", "all")
    if questions == "all":
        return None
    where = "families.questions"
    questions = _list_of(source, where, questions, tuple(QUERY_TYPES))
    missing = [q for q in questions if q not in asked]
    if missing:
        raise _fail(
            source,
            where,
            f"{missing[0]!r} is asked by no cell; cells ask: {', '.join(sorted(asked))}",
        )
    return questions


def _families(source: str, value: Any, asked: set[str]) -> Families:
    """The ``families`` block; ``asked`` holds the query types the cells ask.

    >>> f = _families("s.yaml", {"twins": False, "verbalizations": "all"}, {"ate"})
    >>> f.twins, f.all_verbalizations, f.required, f.candidates
    (False, True, False, 24)
    >>> _families("s.yaml", {"pairs": 2}, {"ate"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ladder.core.errors.SpecError: s.yaml: field 'families.pairs': unknown field; allowed: ...
    """
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        raise _fail(source, "families", f"must be a mapping of {', '.join(FAMILY_FIELDS)}")
    unknown = sorted(set(value) - set(FAMILY_FIELDS), key=str)
    if unknown:
        raise _fail(
            source, f"families.{unknown[0]}", f"unknown field; allowed: {', '.join(FAMILY_FIELDS)}"
        )
    questions = _questions(source, value, asked)
    twins = value.get("twins", True)
    if not isinstance(twins, bool):
        raise _fail(source, "families.twins", f"{twins!r} must be true or false")
    verbalizations = value.get("verbalizations", "one")
    if verbalizations not in ("one", "all"):
        raise _fail(source, "families.verbalizations", f"{verbalizations!r}; allowed: one, all")
    required = "discordant" in value
    targets = _targets(source, value.get("discordant"), asked) if required else DEFAULT_DISCORDANT
    candidates = _number(
        source, "families.candidates", value.get("candidates", DEFAULT_CANDIDATES), int, 1, 1000
    )
    contrasts = _contrast_form(source, value.get("contrasts", False))
    return Families(
        questions, twins, verbalizations == "all", dict(targets), required, candidates, contrasts
    )


def _contrast_form(source: str, value: Any) -> str | None:
    """``families.contrasts`` → the form stated: None (``false``), ``pair`` (``true``) or
    ``difference``."""
    if value is False:
        return None
    if value is True:
        return "pair"
    if value == "difference":
        return "difference"
    raise _fail(source, "families.contrasts", f"{value!r}; allowed: true, false, difference")


def parse_spec(data: Any, source: str = "<spec>") -> TaskSpec:
    """Validate a spec's parsed YAML (a mapping) and return a :class:`TaskSpec`."""
    _top_fields(source, data)
    max_n = _number(source, "max_n", data.get("max_n", DEFAULT_MAX_N), int, 1, HARD_MAX_N)
    n = _number(source, "n", data.get("n", 100), int, 1, HARD_MAX_N)
    if n > max_n:
        raise _fail(source, "n", f"{n} is above the cap max_n = {max_n}; raise max_n to allow it")
    margin = _number(source, "margin", data.get("margin", 0.05), float, 0.0, 0.49)
    verbalizations = _list_of(
        source, "verbalizations", data.get("verbalizations", list(VERBALIZATIONS)), VERBALIZATIONS
    )
    evidence = _list_of(source, "evidence", data.get("evidence", ["probabilities"]), EVIDENCE_MODES)
    sample_size = _number(source, "sample_size", data.get("sample_size", 1000), int, 10, 10**7)
    samples_max = _number(source, "samples_max_nodes", data.get("samples_max_nodes", 6), int, 2, 8)
    min_effect = _number(source, "min_effect", data.get("min_effect", 0.05), float, 0.0, 0.5)
    cpt_range = _cpt_range(source, data)
    cells, random_dags = _cells(source, data["cells"], verbalizations)
    families = None
    if "families" in data:
        asked = {q for qs in cells.values() for q in qs}
        asked |= set(random_dags.queries if random_dags else ())
        families = _families(source, data["families"], asked)
    return TaskSpec(
        name=data["name"],
        n=n,
        margin=margin,
        verbalizations=verbalizations,
        evidence=evidence,
        cells=cells,
        random_dags=random_dags,
        description=str(data.get("description", "")),
        sample_size=sample_size,
        samples_max_nodes=samples_max,
        cpt_range=cpt_range,
        min_effect=min_effect,
        max_n=max_n,
        families=families,
        source=source,
        raw=dict(data),
    )


def load_spec(path: str | Path) -> TaskSpec:
    """Read and validate a spec file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"{path}: not UTF-8 text (byte {exc.start}); a spec must be UTF-8 YAML"
        ) from None
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the spec file ({exc.strerror or exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise SpecError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    return parse_spec(data, str(path))


def load_suite(name: str) -> TaskSpec:
    """A built-in suite (``core``, ``quick``, ``paired`` or ``identify``):
    ``ladder/tasks/<name>.yaml``."""
    if name not in SUITES:
        raise SpecError(f"--suite: unknown suite {name!r}; allowed: {', '.join(SUITES)}")
    data = yaml.safe_load(builtin_task(name).read_text(encoding="utf-8"))
    return parse_spec(data, f"tasks/{name}.yaml")
