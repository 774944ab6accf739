"""Causal graph families with named nodes and known roles.

Every family is a plain function that returns a :class:`CausalGraph`: a networkx
``DiGraph`` plus the roles a question needs (treatment, outcome, mediator, ...).
Hidden (unobserved) nodes are listed in ``hidden``; prompts never mention them by name.

Example
-------
>>> g = confounding()
>>> sorted(g.dag.edges)
[('X', 'Y'), ('Z', 'X'), ('Z', 'Y')]
>>> g.treatment, g.outcome, g.roles["confounder"]
('X', 'Y', 'Z')
"""

from __future__ import annotations

import random as _random
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import networkx as nx

from ladder.core.errors import SCMError

__all__ = [
    "FAMILIES",
    "CausalGraph",
    "arrowhead",
    "bow",
    "chain",
    "collider",
    "confounding",
    "diamond",
    "fork",
    "frontdoor",
    "get_family",
    "instrumental",
    "mediation",
    "random_dag",
]


@dataclass(frozen=True)
class CausalGraph:
    """A DAG with named nodes and the roles its questions use.

    ``roles`` maps a role name (``"mediator"``, ``"collider"``, ``"instrument"``,
    ``"confounder"``, ``"hidden"`` ...) to a node name; ``treatment`` and ``outcome``
    are always set.  ``hidden`` lists nodes that are never observed.
    """

    family: str
    dag: nx.DiGraph
    treatment: str
    outcome: str
    roles: Mapping[str, str] = field(default_factory=dict)
    hidden: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not nx.is_directed_acyclic_graph(self.dag):
            cycle = nx.find_cycle(self.dag)
            raise SCMError(f"graph {self.family!r}: edges {cycle} form a cycle")
        for role, node in {
            "treatment": self.treatment,
            "outcome": self.outcome,
            **self.roles,
        }.items():
            if node not in self.dag:
                raise SCMError(f"graph {self.family!r}: role {role!r} names unknown node {node!r}")
        unknown = set(self.hidden) - set(self.dag)
        if unknown:
            raise SCMError(
                f"graph {self.family!r}: hidden nodes {sorted(unknown)} are not in the graph"
            )

    # The graph is frozen after construction, so derived orders are computed once.
    @cached_property
    def nodes(self) -> list[str]:
        """Nodes in a deterministic topological order (ties broken by natural name order,
        so V2 comes before V10)."""
        return list(nx.lexicographical_topological_sort(self.dag, key=_natural_key))

    @cached_property
    def observed(self) -> list[str]:
        return [n for n in self.nodes if n not in self.hidden]

    @cached_property
    def _parents(self) -> dict[str, list[str]]:
        order = {n: i for i, n in enumerate(self.nodes)}
        return {n: sorted(self.dag.predecessors(n), key=order.__getitem__) for n in self.nodes}

    def parents(self, node: str) -> list[str]:
        """Parents of ``node`` in topological order (the order used for cpt indexing)."""
        return list(self._parents[node])

    @property
    def mediator(self) -> str | None:
        return self.roles.get("mediator")

    def to_dict(self) -> dict:
        return {
            "family": self.family,
            "edges": sorted(self.dag.edges),
            "treatment": self.treatment,
            "outcome": self.outcome,
            "roles": dict(self.roles),
            "hidden": sorted(self.hidden),
        }


def _natural_key(name: str) -> tuple[tuple[int, str], ...]:
    return tuple(
        (int(part), "") if part.isdigit() else (0, part)
        for part in re.split(r"(\d+)", name)
        if part
    )


def _make(
    family: str,
    edges: Iterable[tuple[str, str]],
    treatment: str,
    outcome: str,
    roles: Mapping[str, str] | None = None,
    hidden: Iterable[str] = (),
    nodes: Iterable[str] = (),
) -> CausalGraph:
    dag = nx.DiGraph()
    dag.add_nodes_from(nodes)
    dag.add_edges_from(edges)
    return CausalGraph(family, dag, treatment, outcome, dict(roles or {}), frozenset(hidden))


def chain() -> CausalGraph:
    """X → M → Y."""
    return _make("chain", [("X", "M"), ("M", "Y")], "X", "Y", {"mediator": "M"})


def fork() -> CausalGraph:
    """X ← Z → Y: a common cause and no effect of X on Y."""
    return _make("fork", [("Z", "X"), ("Z", "Y")], "X", "Y", {"confounder": "Z"})


def collider() -> CausalGraph:
    """X → C ← Y: independent causes of a common effect."""
    return _make("collider", [("X", "C"), ("Y", "C")], "X", "Y", {"collider": "C"})


def confounding() -> CausalGraph:
    """Z → X → Y with Z → Y: an observed confounder."""
    return _make("confounding", [("Z", "X"), ("Z", "Y"), ("X", "Y")], "X", "Y", {"confounder": "Z"})


def mediation() -> CausalGraph:
    """X → M → Y with a direct edge X → Y."""
    return _make("mediation", [("X", "M"), ("M", "Y"), ("X", "Y")], "X", "Y", {"mediator": "M"})


def instrumental() -> CausalGraph:
    """Z → X → Y with a hidden confounder U → X, U → Y (Z is the instrument)."""
    return _make(
        "iv",
        [("Z", "X"), ("X", "Y"), ("U", "X"), ("U", "Y")],
        "X",
        "Y",
        {"instrument": "Z", "hidden": "U"},
        hidden=["U"],
    )


def frontdoor() -> CausalGraph:
    """X → M → Y with a hidden confounder U → X, U → Y (front-door graph)."""
    return _make(
        "frontdoor",
        [("X", "M"), ("M", "Y"), ("U", "X"), ("U", "Y")],
        "X",
        "Y",
        {"mediator": "M", "hidden": "U"},
        hidden=["U"],
    )


def bow() -> CausalGraph:
    """X → Y with a hidden confounder U → X, U → Y (the bow graph: the effect of X on Y
    is not identifiable from the observed X and Y)."""
    return _make(
        "bow",
        [("X", "Y"), ("U", "X"), ("U", "Y")],
        "X",
        "Y",
        {"hidden": "U"},
        hidden=["U"],
    )


def diamond() -> CausalGraph:
    """X → A → Y and X → B → Y: two parallel mediators."""
    return _make("diamond", [("X", "A"), ("X", "B"), ("A", "Y"), ("B", "Y")], "X", "Y")


def arrowhead() -> CausalGraph:
    """X → M → Y, X → Y, with W → M and W → Y (a mediator–outcome confounder)."""
    return _make(
        "arrowhead",
        [("X", "M"), ("M", "Y"), ("X", "Y"), ("W", "M"), ("W", "Y")],
        "X",
        "Y",
        {"mediator": "M", "confounder": "W"},
    )


def random_dag(
    n_nodes: int,
    density: float = 0.4,
    seed: int | None = None,
    rng: _random.Random | None = None,
    max_parents: int = 4,
    hidden: int = 0,
) -> CausalGraph:
    """A random connected DAG on ``n_nodes`` nodes named ``V1 … Vn`` (topological order).

    Each forward pair (i < j) becomes an edge with probability ``density``, keeping at
    most ``max_parents`` parents per node; the graph is then made weakly connected.
    The treatment is drawn among nodes that have a directed path to the last node,
    which is the outcome, so every graph asks about a real causal path.

    ``hidden`` > 0 then adds that many hidden nodes ``U1 … Uk`` (see :func:`_add_hidden`):
    each an unobserved common cause of two observed nodes. With ``hidden=0`` nothing more
    is drawn from ``rng``, so such graphs are exactly those of earlier versions.

    >>> g = random_dag(5, seed=1)
    >>> len(g.nodes), g.outcome
    (5, 'V5')
    >>> h = random_dag(5, seed=1, hidden=2)
    >>> sorted(h.hidden), len(h.observed), all(h.dag.out_degree(u) == 2 for u in h.hidden)
    (['U1', 'U2'], 5, True)
    """
    if not 3 <= n_nodes <= 26:
        raise SCMError(f"random_dag: n_nodes={n_nodes} is outside the allowed range 3..26")
    if not 0.0 < density <= 1.0:
        raise SCMError(f"random_dag: density={density} must lie in (0, 1]")
    rng = rng or _random.Random(seed)
    names = [f"V{i + 1}" for i in range(n_nodes)]
    dag = nx.DiGraph()
    dag.add_nodes_from(names)
    for j in range(1, n_nodes):
        candidates = [i for i in range(j) if rng.random() < density]
        rng.shuffle(candidates)
        for i in candidates[:max_parents]:
            dag.add_edge(names[i], names[j])
    _connect(dag, names, rng, max_parents)
    outcome = names[-1]
    if not nx.ancestors(dag, outcome):
        dag.add_edge(names[-2], outcome)
    treatment = rng.choice(sorted(nx.ancestors(dag, outcome), key=names.index))
    if hidden <= 0:  # the fully observed graph, drawn exactly as before
        return CausalGraph(f"random{n_nodes}", dag, treatment, outcome)
    latent = _add_hidden(dag, names, hidden, rng, max_parents)
    return CausalGraph(f"random{n_nodes}", dag, treatment, outcome, hidden=frozenset(latent))


def _connect(dag: nx.DiGraph, names: list[str], rng: _random.Random, max_parents: int) -> None:
    """Make ``dag`` weakly connected: join each component that lacks the last node to the
    rest by one forward edge whose head still has room for a parent."""
    index = {v: i for i, v in enumerate(names)}
    while not nx.is_weakly_connected(dag):
        comp = next(c for c in nx.weakly_connected_components(dag) if names[-1] not in c)
        links = [
            (a, b)
            for a in names
            for b in names
            if index[a] < index[b]
            and ((a in comp) != (b in comp))
            and dag.in_degree(b) < max_parents
        ]
        if not links:  # every head is full (tiny max_parents): allow one more parent
            last = max(comp, key=index.__getitem__)
            links = [(last, names[index[last] + 1])]
        dag.add_edge(*rng.choice(links))


def _add_hidden(
    dag: nx.DiGraph, names: list[str], k: int, rng: _random.Random, max_parents: int
) -> list[str]:
    """Add ``k`` hidden roots ``U1 … Uk`` to ``dag``, each with exactly two observed
    children, no two on the same pair: unobserved common causes, the structure that makes
    an effect unidentifiable. Exactly two, because the prompt says the pair "are both
    affected by" an unobserved common cause. Children are drawn among the pairs whose
    nodes still have room for a parent (all pairs when none has), so the treatment and
    the outcome can be confounded too.
    """
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
    if k > len(pairs):
        raise SCMError(
            f"random_dag: hidden={k} exceeds the {len(pairs)} pairs of {len(names)} nodes"
        )
    added: list[str] = []
    for i in range(k):
        roomy = [p for p in pairs if all(dag.in_degree(v) < max_parents for v in p)] or pairs
        a, b = rng.choice(roomy)
        pairs.remove((a, b))
        node = f"U{i + 1}"
        dag.add_edges_from([(node, a), (node, b)])
        added.append(node)
    return added


FAMILIES: dict[str, Callable[[], CausalGraph]] = {
    "chain": chain,
    "fork": fork,
    "collider": collider,
    "confounding": confounding,
    "mediation": mediation,
    "iv": instrumental,
    "frontdoor": frontdoor,
    "diamond": diamond,
    "arrowhead": arrowhead,
    "bow": bow,
}


def get_family(name: str) -> CausalGraph:
    """Return the graph of a named family (``random`` DAGs are made by :func:`random_dag`)."""
    try:
        return FAMILIES[name]()
    except KeyError:
        raise SCMError(
            f"unknown graph family {name!r}; allowed: {', '.join(sorted(FAMILIES))}, random"
        ) from None
