"""Identification of causal effects with hidden variables: the ID algorithm.

Whether ``P(Y | do(X))`` can be computed from the joint distribution of the observed
variables alone is a property of the graph. This module decides it with the ID algorithm
of Shpitser & Pearl (2006, "Identification of joint interventional distributions in
recursive semi-Markovian causal models", AAAI), which is complete: it fails exactly when
the effect is not identifiable, and then returns a *hedge* as the certificate.

The steps, one function each:

1. :func:`latent_projection` — the DAG with hidden nodes becomes an acyclic directed mixed
   graph (:class:`ADMG`) on the observed nodes: ``a → b`` where a directed path from ``a``
   to ``b`` passes through hidden nodes only, ``a ↔ b`` where some hidden node reaches both
   along such paths (they share an unobserved common cause);
2. :func:`ancestors_of` and :func:`c_components` — the two graph operations ID uses;
3. the lines of ID, each a function from one subproblem to the subproblems it leaves (or
   None when the line does not apply): :func:`line1_no_treatment`,
   :func:`line2_keep_ancestors`, :func:`line3_add_non_ancestors`,
   :func:`line4_split_districts`, :func:`line5_hedge`, :func:`line6_whole_district`,
   :func:`line7_enter_district`;
4. :func:`identify` runs them over a worklist; :func:`is_identifiable` is the question
   for one treatment and one outcome on a DAG with hidden nodes.

Only the graph matters for the decision, so the subproblems carry graphs and variable sets,
not the distributions the full algorithm would build; the estimand is not constructed.

Example
-------
The front-door graph is identifiable, the bow graph (X → Y with a hidden confounder) is not:

>>> import networkx as nx
>>> front = nx.DiGraph([("X", "M"), ("M", "Y"), ("U", "X"), ("U", "Y")])
>>> is_identifiable(front, {"U"}, "X", "Y")
True
>>> bow = nx.DiGraph([("X", "Y"), ("U", "X"), ("U", "Y")])
>>> is_identifiable(bow, {"U"}, "X", "Y")
False
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import networkx as nx

from ladder.core.errors import SCMError

__all__ = [
    "ADMG",
    "NotIdentifiable",
    "Problem",
    "ancestors_of",
    "c_components",
    "identify",
    "is_identifiable",
    "latent_projection",
    "line1_no_treatment",
    "line2_keep_ancestors",
    "line3_add_non_ancestors",
    "line4_split_districts",
    "line5_hedge",
    "line6_whole_district",
    "line7_enter_district",
]


@dataclass(frozen=True)
class ADMG:
    """An acyclic directed mixed graph: ``directed`` edges and ``bidirected`` ones (stored
    as an undirected graph), both over the same nodes.

    >>> g = ADMG.from_edges(["X", "Y"], [("X", "Y")], [("X", "Y")])
    >>> sorted(g.nodes), sorted(g.bidirected.edges)
    (['X', 'Y'], [('X', 'Y')])
    """

    directed: nx.DiGraph
    bidirected: nx.Graph

    @classmethod
    def from_edges(
        cls,
        nodes: Iterable[str],
        directed: Iterable[tuple[str, str]],
        bidirected: Iterable[tuple[str, str]] = (),
    ) -> ADMG:
        """The ADMG on ``nodes`` with the given edges (both kinds)."""
        d, b = nx.DiGraph(), nx.Graph()
        d.add_nodes_from(nodes)
        b.add_nodes_from(d.nodes)
        d.add_edges_from(directed)
        b.add_edges_from(bidirected)
        return cls(d, b)

    @property
    def nodes(self) -> frozenset[str]:
        """The graph's nodes."""
        return frozenset(self.directed.nodes)

    def subgraph(self, nodes: Iterable[str]) -> ADMG:
        """The induced subgraph ``G[nodes]`` (both kinds of edges among ``nodes``).

        >>> g = ADMG.from_edges("XMY", [("X", "M"), ("M", "Y")], [("X", "Y")])
        >>> sorted(g.subgraph({"X", "Y"}).bidirected.edges), list(g.subgraph("XY").directed.edges)
        ([('X', 'Y')], [])
        """
        keep = set(nodes)
        return ADMG(
            nx.DiGraph(self.directed.subgraph(keep)), nx.Graph(self.bidirected.subgraph(keep))
        )


class NotIdentifiable(Exception):
    """ID failed: ``hedge`` is the pair of node sets (F, F′) of Shpitser & Pearl's hedge.

    Internal to this module (a graph property, not bad input): :func:`is_identifiable`
    turns it into False.
    """

    def __init__(self, hedge: tuple[frozenset[str], frozenset[str]]) -> None:
        super().__init__(f"hedge {sorted(hedge[0])} ⊃ {sorted(hedge[1])}")
        self.hedge = hedge


@dataclass(frozen=True)
class Problem:
    """One call ``ID(y, x, G)``: the outcomes ``y``, the treatments ``x``, the graph ``g``."""

    y: frozenset[str]
    x: frozenset[str]
    g: ADMG


Step = Callable[[Problem], "list[Problem] | None"]


def _reach_through_hidden(dag: nx.DiGraph, start: str, hidden: frozenset[str]) -> set[str]:
    """Observed nodes reached from ``start`` by directed paths whose inner nodes are hidden."""
    found, stack, seen = set(), list(dag.successors(start)), set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if node in hidden:
            stack.extend(dag.successors(node))
        else:
            found.add(node)
    return found


def latent_projection(dag: nx.DiGraph, hidden: Iterable[str]) -> ADMG:
    """The latent projection of ``dag`` onto its observed nodes (Verma & Pearl).

    ``a → b`` when a directed path from ``a`` to ``b`` has only hidden inner nodes;
    ``a ↔ b`` when a hidden node reaches both ``a`` and ``b`` by such paths.

    >>> dag = nx.DiGraph([("U1", "U2"), ("U2", "X"), ("U1", "Y"), ("X", "H"), ("H", "Y")])
    >>> g = latent_projection(dag, {"U1", "U2", "H"})
    >>> list(g.directed.edges), list(g.bidirected.edges)
    ([('X', 'Y')], [('X', 'Y')])
    """
    hide = frozenset(hidden)
    unknown = hide - set(dag)
    if unknown:
        raise SCMError(f"latent projection: hidden nodes {sorted(unknown)} are not in the graph")
    observed = [n for n in dag if n not in hide]
    directed = [(a, b) for a in observed for b in sorted(_reach_through_hidden(dag, a, hide))]
    bidirected = [
        pair
        for h in hide
        for pair in itertools.combinations(sorted(_reach_through_hidden(dag, h, hide)), 2)
    ]
    return ADMG.from_edges(observed, directed, bidirected)


def ancestors_of(g: ADMG, nodes: Iterable[str]) -> frozenset[str]:
    """``An(nodes)_G``: the nodes with a directed path into ``nodes``, ``nodes`` included.

    >>> g = ADMG.from_edges("ZXY", [("Z", "X"), ("X", "Y")])
    >>> sorted(ancestors_of(g, {"X"}))
    ['X', 'Z']
    """
    out = set(nodes)
    for node in list(out):
        out |= nx.ancestors(g.directed, node)
    return frozenset(out)


def c_components(g: ADMG) -> list[frozenset[str]]:
    """The c-components (districts) of ``g``: connected components of its bidirected part,
    sorted for a deterministic order.

    >>> g = ADMG.from_edges("XMY", [("X", "M"), ("M", "Y")], [("X", "Y")])
    >>> [sorted(c) for c in c_components(g)]
    [['M'], ['X', 'Y']]
    """
    return sorted((frozenset(c) for c in nx.connected_components(g.bidirected)), key=sorted)


def line1_no_treatment(p: Problem) -> list[Problem] | None:
    """Line 1: with no treatment, ``P(y)`` is a margin of ``P(V)`` (solved).

    >>> g = ADMG.from_edges("XY", [("X", "Y")], [("X", "Y")])
    >>> line1_no_treatment(Problem(frozenset("Y"), frozenset(), g))
    []
    """
    return [] if not p.x else None


def line2_keep_ancestors(p: Problem) -> list[Problem] | None:
    """Line 2: drop the non-ancestors of ``y`` (they do not matter to ``P_x(y)``).

    >>> g = ADMG.from_edges("XYW", [("X", "Y"), ("Y", "W")])
    >>> (q,) = line2_keep_ancestors(Problem(frozenset("Y"), frozenset("X"), g))
    >>> sorted(q.g.nodes)
    ['X', 'Y']
    """
    keep = ancestors_of(p.g, p.y)
    if keep == p.g.nodes:
        return None
    return [Problem(p.y, p.x & keep, p.g.subgraph(keep))]


def line3_add_non_ancestors(p: Problem) -> list[Problem] | None:
    """Line 3: nodes that are not ancestors of ``y`` once ``x`` is cut off may be
    intervened on too (doing so does not change ``P_x(y)``).

    >>> g = ADMG.from_edges("XWY", [("X", "Y"), ("W", "X")])
    >>> [sorted(q.x) for q in line3_add_non_ancestors(Problem(frozenset("Y"), frozenset("X"), g))]
    [['W', 'X']]
    """
    rest = p.g.nodes - p.x
    w = rest - ancestors_of(p.g.subgraph(rest), p.y)
    return [Problem(p.y, p.x | w, p.g)] if w else None


def line4_split_districts(p: Problem) -> list[Problem] | None:
    """Line 4: if ``G[V∖x]`` has several c-components S₁…S_k, ``P_x(y)`` is a sum of the
    product of the ``P_{V∖Sᵢ}(Sᵢ)``: each must be identifiable.

    >>> g = ADMG.from_edges("XMY", [("X", "M"), ("M", "Y")], [("X", "Y")])
    >>> [sorted(q.y) for q in line4_split_districts(Problem(frozenset("Y"), frozenset("X"), g))]
    [['M'], ['Y']]
    """
    districts = c_components(p.g.subgraph(p.g.nodes - p.x))
    if len(districts) <= 1:
        return None
    return [Problem(s, p.g.nodes - s, p.g) for s in districts]


def line5_hedge(p: Problem) -> list[Problem] | None:
    """Line 5: ``G`` is one c-component and ``G[V∖x]`` one too (S): (G, S) is a hedge.

    >>> g = ADMG.from_edges("XY", [("X", "Y")], [("X", "Y")])
    >>> line5_hedge(Problem(frozenset("Y"), frozenset("X"), g))
    Traceback (most recent call last):
    ...
    ladder.engine.identification.NotIdentifiable: hedge ['X', 'Y'] ⊃ ['Y']
    """
    if len(c_components(p.g)) == 1:
        raise NotIdentifiable((p.g.nodes, p.g.nodes - p.x))
    return None


def line6_whole_district(p: Problem) -> list[Problem] | None:
    """Line 6: the single c-component S of ``G[V∖x]`` is a c-component of ``G``: ``P_x(y)``
    is a product of conditionals ``P(vᵢ | v_{<i})`` over S (solved).

    >>> g = ADMG.from_edges("XMY", [("X", "M"), ("M", "Y")], [("X", "Y")])
    >>> line6_whole_district(Problem(frozenset("M"), frozenset("XY"), g))
    []
    """
    (s,) = c_components(p.g.subgraph(p.g.nodes - p.x))
    return [] if s in c_components(p.g) else None


def line7_enter_district(p: Problem) -> list[Problem] | None:
    """Line 7: S lies strictly inside a c-component S′ of ``G``: recurse on ``G[S′]``
    with the treatments in S′ (the distribution becomes ``P_{V∖S′}(S′)``).

    W → X → Y with W ↔ Y, after line 3 made W a treatment: S = {Y} lies in S′ = {W, Y}.

    >>> g = ADMG.from_edges("WXY", [("W", "X"), ("X", "Y")], [("W", "Y")])
    >>> (q,) = line7_enter_district(Problem(frozenset("Y"), frozenset("WX"), g))
    >>> sorted(q.g.nodes), sorted(q.x)
    (['W', 'Y'], ['W'])
    """
    (s,) = c_components(p.g.subgraph(p.g.nodes - p.x))
    outer = next(c for c in c_components(p.g) if s < c)
    return [Problem(p.y, p.x & outer, p.g.subgraph(outer))]


LINES: tuple[Step, ...] = (
    line1_no_treatment,
    line2_keep_ancestors,
    line3_add_non_ancestors,
    line4_split_districts,
    line5_hedge,
    line6_whole_district,
    line7_enter_district,
)


def identify(g: ADMG, treatments: Iterable[str], outcomes: Iterable[str]) -> None:
    """Run ID for ``P(outcomes | do(treatments))`` on ``g``; raise :class:`NotIdentifiable`
    with a hedge when it is not identifiable (return None when it is).

    Each subproblem goes to the first line that applies; the lines' subproblems join the
    worklist. Every line either solves, shrinks the graph, or grows ``x``, so it ends.

    >>> g = ADMG.from_edges("ZXY", [("Z", "X"), ("X", "Y")], [("X", "Y")])  # IV
    >>> identify(g, {"X"}, {"Y"})
    Traceback (most recent call last):
    ...
    ladder.engine.identification.NotIdentifiable: hedge ['X', 'Y'] ⊃ ['Y']
    >>> identify(g, {"Z"}, {"Y"}) is None
    True
    """
    work = [Problem(frozenset(outcomes), frozenset(treatments), g)]
    while work:
        problem = work.pop()
        for line in LINES:
            found = line(problem)
            if found is not None:
                work.extend(found)
                break


def is_identifiable(dag: nx.DiGraph, hidden: Iterable[str], treatment: str, outcome: str) -> bool:
    """Whether ``P(outcome | do(treatment))`` is identifiable from the observed variables
    of ``dag`` (every node not in ``hidden``).

    >>> iv = nx.DiGraph([("Z", "X"), ("X", "Y"), ("U", "X"), ("U", "Y")])
    >>> is_identifiable(iv, {"U"}, "X", "Y"), is_identifiable(iv, set(), "X", "Y")
    (False, True)
    """
    hide = set(hidden)
    for role, node in (("treatment", treatment), ("outcome", outcome)):
        if node not in dag or node in hide:
            raise SCMError(
                f"identification: {role} {node!r} must be an observed node of the graph "
                f"(observed: {sorted(n for n in dag if n not in hide)})"
            )
    if treatment == outcome:
        raise SCMError(f"identification: treatment and outcome are both {treatment!r}")
    try:
        identify(latent_projection(dag, hide), {treatment}, {outcome})
    except NotIdentifiable:
        return False
    return True
