"""Exact inference on binary comonotone SCMs: the one place where answers are computed.

Every query, from an observational conditional to a nested counterfactual, is the
probability of an event in a *multi-world network*: one copy of the model per world
(the factual world, or a world under ``do(...)``), all worlds sharing the exogenous
noise ``U_V`` of each variable.  Copies whose parents coincide are the same random
variable and are merged (so non-descendants of an intervention are shared).  The copies
of one variable are jointly distributed by the comonotone coupling — ``V^w = 1`` iff
``U_V < p_w`` — so for bits ``b_w``::

    P(V^1 = b_1, …, V^k = b_k | parents) = max(0, min_{w: b_w=1} p_w − max_{w: b_w=0} p_w)

(an empty min is 1, an empty max is 0).  The product of these factors is contracted
with ``opt_einsum``; barren copies are dropped first.  With one world this is ordinary
exact inference in the Bayesian network (graph surgery for ``do``); with two or more it
is abduction–action–prediction done in one step (the twin network of Balke & Pearl).

Example
-------
>>> from ladder.engine.scm import SCM
>>> scm = SCM.from_dict({"variables": [
...     {"name": "Z", "parents": [], "cpt": [0.4]},
...     {"name": "X", "parents": ["Z"], "cpt": [0.3, 0.8]},
...     {"name": "Y", "parents": ["X", "Z"], "cpt": [0.1, 0.5, 0.6, 0.9]}]})
>>> round(ate(scm, "X", "Y"), 10)       # back-door: Σ_z [P(y|1,z) − P(y|0,z)] P(z)
0.46
>>> round(marginal(scm, "Y", do={"X": 1}), 10)
0.72
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import networkx as nx
import numpy as np
import opt_einsum

from ladder.engine.scm import SCM, SCMError

__all__ = [
    "FromWorld",
    "associated",
    "ate",
    "contrast",
    "counterfactual",
    "ett",
    "is_backdoor_set",
    "is_frontdoor_set",
    "joint_distribution",
    "marginal",
    "multiworld_probability",
    "nde",
    "nie",
    "probability",
    "probability_of_necessity",
    "probability_of_sufficiency",
]

#: Evidence with probability below this is treated as impossible.
ZERO = 1e-15


@dataclass(frozen=True)
class FromWorld:
    """An intervention value taken from another world: ``do(M = M^{world})``.

    Nested counterfactuals such as ``Y_{X=1, M=M_{X=0}}`` use it.
    """

    world: int


Intervention = Mapping[str, "int | FromWorld"]
WorldEvent = Mapping[tuple[int, str], int]

# A term is a node id (>= 0) or a constant: -1 for 0, -2 for 1.
_CONST = {0: -1, 1: -2}


def _const_bit(term: int) -> int:
    return 0 if term == -1 else 1


@dataclass
class _Network:
    var_of: list[int]  # variable index of each node
    parents_of: list[tuple[int, ...]]  # parent terms of each node
    terms: list[dict[str, int]]  # per world: variable name -> term


def _build_network(scm: SCM, worlds: Sequence[Intervention]) -> _Network:
    ids: dict[tuple[int, tuple[int, ...]], int] = {}
    var_of: list[int] = []
    parents_of: list[tuple[int, ...]] = []
    terms: list[dict[str, int]] = []
    for w, interventions in enumerate(worlds):
        for name, value in interventions.items():
            scm.index(name)
            if isinstance(value, FromWorld):
                if not 0 <= value.world < w:
                    raise SCMError(
                        f"do({name} = value in world {value.world}) in world {w}: "
                        "a world can only refer to an earlier world"
                    )
            elif value not in (0, 1):
                raise SCMError(f"do({name}={value!r}): variables are binary, allowed 0, 1")
        world_terms: dict[str, int] = {}
        for vi, v in enumerate(scm.variables):
            if v.name in interventions:
                value = interventions[v.name]
                term = (
                    terms[value.world][v.name]
                    if isinstance(value, FromWorld)
                    else _CONST[int(value)]
                )
            else:
                key = (vi, tuple(world_terms[p] for p in v.parents))
                term = ids.get(key, -3)
                if term == -3:
                    term = ids[key] = len(var_of)
                    var_of.append(vi)
                    parents_of.append(key[1])
            world_terms[v.name] = term
        terms.append(world_terms)
    return _Network(var_of, parents_of, terms)


@lru_cache(maxsize=64)
def _bit_table(n_axes: int) -> np.ndarray:
    rows = np.arange(2**n_axes)
    return ((rows[:, None] >> np.arange(n_axes - 1, -1, -1)) & 1).astype(np.int64)


def _coupling_factor(cpt: np.ndarray, copies: list[tuple[int, ...]], axes: list[int]) -> np.ndarray:
    """Joint probability table of one variable's copies given their parent nodes.

    ``axes`` lists the copies first, then the parent nodes; each copy's parent terms
    refer to nodes in ``axes`` or to constants.
    """
    k = len(copies)
    if k == 1:
        return _single_copy_factor(cpt, copies[0], axes)
    bits = _bit_table(len(axes))
    pos = {node: i for i, node in enumerate(axes)}
    probs = np.empty((bits.shape[0], k))
    for j, parent_terms in enumerate(copies):
        idx = np.zeros(bits.shape[0], dtype=np.int64)
        for t in parent_terms:
            idx = 2 * idx + (bits[:, pos[t]] if t >= 0 else _const_bit(t))
        probs[:, j] = cpt[idx]
    own = bits[:, :k].astype(bool)
    upper = np.where(own, probs, 1.0).min(axis=1)
    lower = np.where(own, 0.0, probs).max(axis=1)
    return np.clip(upper - lower, 0.0, None).reshape((2,) * len(axes))


def _single_copy_factor(
    cpt: np.ndarray, parent_terms: tuple[int, ...], axes: list[int]
) -> np.ndarray:
    """The ordinary CPT factor ``P(V | parents)`` (one copy: no coupling needed)."""
    n = len(parent_terms)
    table = np.stack([1.0 - cpt, cpt]).reshape((2,) * (n + 1))
    # Fix constant parents, then order the remaining parent axes as in ``axes``.
    index = (slice(None), *(_const_bit(t) if t < 0 else slice(None) for t in parent_terms))
    table = table[index]
    live = [t for t in parent_terms if t >= 0]
    want = axes[1:]
    if live != want:
        table = np.transpose(table, [0] + [1 + live.index(a) for a in want])
    return table


@lru_cache(maxsize=4096)
def _expression(subscripts: str, shapes: tuple[tuple[int, ...], ...]) -> object:
    return opt_einsum.contract_expression(subscripts, *shapes, optimize="greedy")


def _joint_over(scm: SCM, net: _Network, out_nodes: list[int]) -> np.ndarray:
    """P(out_nodes) as an array with one binary axis per node, in the given order."""
    needed: set[int] = set()
    stack = list(out_nodes)
    while stack:
        node = stack.pop()
        if node in needed:
            continue
        needed.add(node)
        stack.extend(t for t in net.parents_of[node] if t >= 0)
    by_var: dict[int, list[int]] = {}
    for node in sorted(needed):
        by_var.setdefault(net.var_of[node], []).append(node)
    operands: list[np.ndarray] = []
    inputs: list[str] = []
    symbol = opt_einsum.get_symbol
    for vi, nodes in by_var.items():
        parents = sorted({t for n in nodes for t in net.parents_of[n] if t >= 0})
        axes = nodes + parents
        cpt = np.asarray(scm.variables[vi].cpt)
        operands.append(_coupling_factor(cpt, [net.parents_of[n] for n in nodes], axes))
        inputs.append("".join(symbol(a) for a in axes))
    subscripts = ",".join(inputs) + "->" + "".join(symbol(a) for a in out_nodes)
    expr = _expression(subscripts, tuple(op.shape for op in operands))
    return np.asarray(expr(*operands))


def multiworld_probability(
    scm: SCM, worlds: Sequence[Intervention], event: WorldEvent, given: WorldEvent | None = None
) -> float:
    """``P(event | given)`` where both name ``(world, variable)`` pairs.

    ``worlds[w]`` is the intervention of world ``w`` (``{}`` for the factual world).
    Raises :class:`SCMError` when ``given`` has probability 0.

    >>> from ladder.engine.scm import SCM
    >>> scm = SCM.from_dict({"variables": [{"name": "X", "parents": [], "cpt": [0.5]},
    ...     {"name": "Y", "parents": ["X"], "cpt": [0.2, 0.6]}]})
    >>> # P(Y_{X=0} = 1 | X = 1, Y = 1) = min(0.2, 0.6) / 0.6 under comonotone noise
    >>> round(multiworld_probability(scm, [{}, {"X": 0}], {(1, "Y"): 1},
    ...                              {(0, "X"): 1, (0, "Y"): 1}), 10)
    0.3333333333
    """
    given = dict(given or {})
    for label, values in (("event", event), ("given", given)):
        for (w, name), value in values.items():
            if not 0 <= w < len(worlds):
                raise SCMError(f"{label} on {name!r} refers to world {w}; there are {len(worlds)}")
            scm.index(name)
            if value not in (0, 1):
                raise SCMError(f"{label} {name}={value!r}: variables are binary, allowed 0, 1")
    net = _build_network(scm, worlds)

    def split(values: Mapping[tuple[int, str], int]) -> tuple[dict[int, int], bool]:
        # Map each (world, variable) to its node; constants are checked directly.
        fixed: dict[int, int] = {}
        ok = True
        for (w, name), value in values.items():
            term = net.terms[w][name]
            if term < 0:
                ok = ok and _const_bit(term) == value
            elif fixed.get(term, value) != value:
                ok = False
            else:
                fixed[term] = value
        return fixed, ok

    given_nodes, given_ok = split(given)
    event_nodes, event_ok = split(event)
    if not given_ok:
        raise SCMError(f"the evidence {_describe(given)} is impossible (probability 0)")
    clash = any(given_nodes.get(n, v) != v for n, v in event_nodes.items())
    out = sorted(set(event_nodes) | set(given_nodes))
    joint = _joint_over(scm, net, out) if out else np.array(1.0)
    den = float(joint[tuple(given_nodes.get(n, slice(None)) for n in out)].sum())
    if den <= ZERO:
        raise SCMError(
            f"the evidence {_describe(given)} has probability 0; conditioning on it is undefined"
        )
    if clash or not event_ok:
        return 0.0
    both = {**given_nodes, **event_nodes}
    num = float(joint[tuple(both[n] for n in out)])
    return min(1.0, max(0.0, num / den))


def _describe(values: Mapping[tuple[int, str], int]) -> str:
    if not values:
        return "{}"
    return ", ".join(
        f"{name}={v}" + (f" (world {w})" if w else "") for (w, name), v in values.items()
    )


# -- rung 1 and 2 -----------------------------------------------------------------------


def probability(
    scm: SCM,
    event: Mapping[str, int],
    given: Mapping[str, int] | None = None,
    do: Mapping[str, int] | None = None,
) -> float:
    """``P(event | given)`` in the model under ``do(...)`` (graph surgery).

    >>> from ladder.engine.scm import SCM
    >>> scm = SCM.from_dict({"variables": [{"name": "X", "parents": [], "cpt": [0.25]}]})
    >>> probability(scm, {"X": 1})
    0.25
    """
    return multiworld_probability(
        scm,
        [dict(do or {})],
        {(0, k): v for k, v in event.items()},
        {(0, k): v for k, v in (given or {}).items()},
    )


def marginal(
    scm: SCM,
    target: str,
    given: Mapping[str, int] | None = None,
    do: Mapping[str, int] | None = None,
) -> float:
    """``P(target = 1 | given)`` under ``do(...)``."""
    return probability(scm, {target: 1}, given, do)


def contrast(
    scm: SCM, treatment: str, outcome: str, given: Mapping[str, int] | None = None
) -> float:
    """The rung-1 contrast ``P(Y=1 | X=1, given) − P(Y=1 | X=0, given)``."""
    g = dict(given or {})
    return marginal(scm, outcome, {**g, treatment: 1}) - marginal(scm, outcome, {**g, treatment: 0})


def ate(scm: SCM, treatment: str, outcome: str, given: Mapping[str, int] | None = None) -> float:
    """``P(Y=1 | do(X=1), given) − P(Y=1 | do(X=0), given)`` (given: in the intervened world)."""
    return marginal(scm, outcome, given, {treatment: 1}) - marginal(
        scm, outcome, given, {treatment: 0}
    )


def joint_distribution(
    scm: SCM, variables: Sequence[str] | None = None, do: Mapping[str, int] | None = None
) -> np.ndarray:
    """The joint table of ``variables`` (default: the observed ones), one axis per variable."""
    names = list(variables if variables is not None else scm.observed_names)
    for name in names:
        scm.index(name)
    if len(set(names)) != len(names):
        raise SCMError(f"joint_distribution: variables listed twice in {names}")
    net = _build_network(scm, [dict(do or {})])
    terms = [net.terms[0][n] for n in names]
    nodes = [t for t in terms if t >= 0]
    table = _joint_over(scm, net, nodes) if nodes else np.array(1.0)
    # Intervened variables are constants: their axis holds all mass at the set value.
    full = np.zeros((2,) * len(names))
    full[tuple(_const_bit(t) if t < 0 else slice(None) for t in terms)] = table
    return full


def associated(scm: SCM, variable: str, candidates: Sequence[str], tol: float = 1e-12) -> set[str]:
    """The candidates marginally dependent on ``variable`` (|P(c=1|v=1) − P(c=1|v=0)| > tol).

    One joint table serves all candidates, so this is cheap on large graphs.
    """
    names = [variable, *[c for c in candidates if c != variable]]
    table = joint_distribution(scm, names)
    p_v = table.sum(axis=tuple(range(1, table.ndim)))
    out = set()
    for axis, name in enumerate(names[1:], start=1):
        others = tuple(a for a in range(1, table.ndim) if a != axis)
        pair = table.sum(axis=others) if others else table  # P(v, c)
        if min(p_v) <= ZERO:
            continue
        if abs(pair[1, 1] / p_v[1] - pair[0, 1] / p_v[0]) > tol:
            out.add(name)
    return out


# -- rung 3 ---------------------------------------------------------------------------------


def counterfactual(
    scm: SCM,
    outcome: str,
    do: Mapping[str, int],
    given: Mapping[str, int] | None = None,
    value: int = 1,
) -> float:
    """``P(Y_{do} = value | given)``, ``given`` being factual evidence.

    >>> from ladder.engine.scm import SCM
    >>> scm = SCM.from_dict({"variables": [{"name": "X", "parents": [], "cpt": [0.5]},
    ...     {"name": "Y", "parents": ["X"], "cpt": [0.2, 0.6]}]})
    >>> counterfactual(scm, "Y", {"X": 1}, {"X": 0, "Y": 1})   # comonotone: 0.2 < 0.6
    1.0
    """
    return multiworld_probability(
        scm, [{}, dict(do)], {(1, outcome): value}, {(0, k): v for k, v in (given or {}).items()}
    )


def ett(scm: SCM, treatment: str, outcome: str, given: Mapping[str, int]) -> float:
    """Effect of treatment on the treated: ``E[Y_{X=1} − Y_{X=0} | given]``."""
    return counterfactual(scm, outcome, {treatment: 1}, given) - counterfactual(
        scm, outcome, {treatment: 0}, given
    )


def nde(scm: SCM, treatment: str, outcome: str, mediator: str) -> float:
    """Natural direct effect ``P(Y_{X=1, M=M_{X=0}}=1) − P(Y_{X=0}=1)``."""
    worlds = [{treatment: 0}, {treatment: 1, mediator: FromWorld(0)}]
    return multiworld_probability(scm, worlds, {(1, outcome): 1}) - multiworld_probability(
        scm, worlds, {(0, outcome): 1}
    )


def nie(scm: SCM, treatment: str, outcome: str, mediator: str) -> float:
    """Natural indirect effect ``P(Y_{X=0, M=M_{X=1}}=1) − P(Y_{X=0}=1)``."""
    worlds = [{treatment: 1}, {treatment: 0, mediator: FromWorld(0)}, {treatment: 0}]
    return multiworld_probability(scm, worlds, {(1, outcome): 1}) - multiworld_probability(
        scm, worlds, {(2, outcome): 1}
    )


def probability_of_necessity(scm: SCM, treatment: str, outcome: str) -> float:
    """``PN = P(Y_{X=0} = 0 | X = 1, Y = 1)``."""
    return counterfactual(scm, outcome, {treatment: 0}, {treatment: 1, outcome: 1}, value=0)


def probability_of_sufficiency(scm: SCM, treatment: str, outcome: str) -> float:
    """``PS = P(Y_{X=1} = 1 | X = 0, Y = 0)``."""
    return counterfactual(scm, outcome, {treatment: 1}, {treatment: 0, outcome: 0}, value=1)


# -- graphical criteria ------------------------------------------------------------------------


def _check_nodes(dag: nx.DiGraph, *names: str | Iterable[str]) -> None:
    for item in names:
        for n in [item] if isinstance(item, str) else item:
            if n not in dag:
                raise SCMError(f"unknown variable {n!r}; the graph has {sorted(dag)}")


def is_backdoor_set(dag: nx.DiGraph, treatment: str, outcome: str, adjust: Iterable[str]) -> bool:
    """Pearl's back-door criterion for ``adjust`` relative to (treatment, outcome).

    No member descends from the treatment, and ``adjust`` d-separates treatment and
    outcome once the treatment's outgoing edges are removed.

    >>> g = nx.DiGraph([("Z", "X"), ("Z", "Y"), ("X", "Y")])
    >>> is_backdoor_set(g, "X", "Y", {"Z"}), is_backdoor_set(g, "X", "Y", set())
    (True, False)
    """
    z = set(adjust)
    _check_nodes(dag, treatment, outcome, z)
    if treatment in z or outcome in z or z & nx.descendants(dag, treatment):
        return False
    cut = dag.copy()
    cut.remove_edges_from(list(dag.out_edges(treatment)))
    return nx.is_d_separator(cut, {treatment}, {outcome}, z)


def is_frontdoor_set(
    dag: nx.DiGraph, treatment: str, outcome: str, mediators: Iterable[str]
) -> bool:
    """Pearl's front-door criterion for ``mediators`` relative to (treatment, outcome).

    (i) the set intercepts every directed path from treatment to outcome; (ii) no
    unblocked back-door path from the treatment to the set; (iii) every back-door path
    from the set to the outcome is blocked by the treatment.

    >>> g = nx.DiGraph([("X", "M"), ("M", "Y"), ("U", "X"), ("U", "Y")])
    >>> is_frontdoor_set(g, "X", "Y", {"M"})
    True
    """
    m = set(mediators)
    _check_nodes(dag, treatment, outcome, m)
    if not m or treatment in m or outcome in m:
        return False
    without = dag.copy()
    without.remove_nodes_from(m)
    if nx.has_path(without, treatment, outcome):
        return False
    cut_x = dag.copy()
    cut_x.remove_edges_from(list(dag.out_edges(treatment)))
    if not nx.is_d_separator(cut_x, {treatment}, m, set()):
        return False
    cut_m = dag.copy()
    cut_m.remove_edges_from([e for node in m for e in dag.out_edges(node)])
    return nx.is_d_separator(cut_m, m, {outcome}, {treatment})
