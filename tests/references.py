"""Independent reference implementations, used only by the engine tests.

Nothing here imports :mod:`ladder.engine.inference`.  Each reference reads the SCM's plain data
(names, parents, cpt) and recomputes answers a different way:

* :func:`joint_table` — the observational (or graph-surgery) joint by looping over all
  ``2**n`` assignments and multiplying cpt entries;
* :func:`to_pgmpy` / :func:`pgmpy_probability` — the same model in pgmpy, queried with
  ``VariableElimination``;
* :func:`noise_units` / :func:`run_world` — abduction–action–prediction over the exogenous
  noise: every ``U_V`` is cut at the breakpoints of its sorted cpt values, each interval
  is one deterministic response function, and the product of interval lengths is the
  probability of a unit;
* :func:`ref_d_separated` / :func:`ref_is_backdoor` — d-separation and the back-door
  criterion by explicit path enumeration (Pearl's blocking rules).
"""

from __future__ import annotations

import itertools
import os
import random
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import pytest

from ladder.engine.graphs import CausalGraph
from ladder.engine.identification import latent_projection
from ladder.engine.scm import SCM, Variable

if TYPE_CHECKING:
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.inference import VariableElimination
    from pgmpy.models import DiscreteBayesianNetwork

__all__ = [
    "FromWorldRef",
    "bf_counterfactual",
    "bf_ett",
    "bf_multiworld",
    "bf_nde",
    "bf_nie",
    "cpt_row",
    "joint_table",
    "noise_units",
    "pgmpy_classes",
    "pgmpy_do",
    "pgmpy_probability",
    "raw_scm",
    "ref_d_separated",
    "ref_is_backdoor",
    "ref_probability",
    "run_world",
    "to_pgmpy",
    "with_hidden",
]


# -- brute-force enumeration of the joint ------------------------------------------------


def cpt_row(parents: Sequence[str], values: Mapping[str, int]) -> int:
    """Row of a cpt: the first parent is the most significant bit."""
    row = 0
    for k, p in enumerate(reversed(parents)):
        row += int(values[p]) << k
    return row


def joint_table(scm: SCM, do: Mapping[str, int] | None = None) -> np.ndarray:
    """``P(all variables)`` (axes in ``scm.names`` order) under graph surgery ``do``.

    A plain loop over every assignment, the product of one factor per variable.
    """
    do = dict(do or {})
    names = list(scm.names)
    n = len(names)
    table = np.zeros((2,) * n)
    for bits in itertools.product((0, 1), repeat=n):
        values = dict(zip(names, bits, strict=True))
        prob = 1.0
        for v in scm.variables:
            if v.name in do:
                factor = 1.0 if values[v.name] == do[v.name] else 0.0
            else:
                p1 = v.cpt[cpt_row(v.parents, values)]
                factor = p1 if values[v.name] == 1 else 1.0 - p1
            prob *= factor
            if prob == 0.0:
                break
        table[bits] = prob
    return table


def _mass(scm: SCM, table: np.ndarray, fixed: Mapping[str, int]) -> float:
    index = tuple(fixed.get(n, slice(None)) for n in scm.names)
    return float(np.sum(table[index]))


def ref_probability(
    scm: SCM,
    event: Mapping[str, int],
    given: Mapping[str, int] | None = None,
    do: Mapping[str, int] | None = None,
    table: np.ndarray | None = None,
) -> float | None:
    """``P(event | given)`` under ``do`` from the enumerated joint; None when P(given) = 0."""
    given = dict(given or {})
    if table is None:
        table = joint_table(scm, do)
    den = _mass(scm, table, given)
    if den <= 1e-12:
        return None
    for k, v in event.items():
        if k in given and given[k] != v:
            return 0.0
    return _mass(scm, table, {**given, **event}) / den


# -- pgmpy ----------------------------------------------------------------------------------


def pgmpy_classes() -> Any:
    """pgmpy's (DiscreteBayesianNetwork, TabularCPD, VariableElimination), imported lazily
    (the import takes seconds; tests that do not use pgmpy should not pay for it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        from pgmpy.factors.discrete import TabularCPD
        from pgmpy.inference import VariableElimination
        from pgmpy.models import DiscreteBayesianNetwork
    return DiscreteBayesianNetwork, TabularCPD, VariableElimination


def to_pgmpy(scm: SCM) -> DiscreteBayesianNetwork:
    """The SCM's Bayesian network in pgmpy.

    ``TabularCPD`` values have shape ``(2, 2**k)``: row = the variable's state (0 first),
    column = the evidence assignment with the FIRST evidence variable slowest-varying —
    the same order as the contract's cpt index, so column ``i`` is ``cpt[i]``.
    """
    model = pgmpy_classes()[0]()
    model.add_nodes_from(scm.names)
    model.add_edges_from((p, v.name) for v in scm.variables for p in v.parents)
    for v in scm.variables:
        model.add_cpds(_cpd(v.name, v.cpt, v.parents))
    model.check_model()
    return model


def _cpd(name: str, cpt: Sequence[float], parents: Sequence[str]) -> TabularCPD:
    tabular_cpd = pgmpy_classes()[1]
    values = [[1.0 - p for p in cpt], [float(p) for p in cpt]]
    if parents:
        return tabular_cpd(
            name, 2, values, evidence=list(parents), evidence_card=[2] * len(parents)
        )
    return tabular_cpd(name, 2, values)


def pgmpy_do(model: DiscreteBayesianNetwork, do: Mapping[str, int]) -> DiscreteBayesianNetwork:
    """Graph surgery in pgmpy with point-mass CPDs at the intervened values.

    pgmpy 1.1.2's ``model.do`` removes the incoming edges but leaves the intervened
    variable with its cpt *marginalised over its parents* (the normalised column sum),
    not a point mass; we replace it.
    """
    if not do:
        return model
    cut = model.do(list(do))
    for name, value in do.items():
        cut.remove_cpds(cut.get_cpds(name))
        cut.add_cpds(_cpd(name, [float(value)], ()))
    cut.check_model()
    return cut


def pgmpy_probability(
    model: DiscreteBayesianNetwork,
    event: Mapping[str, int],
    given: Mapping[str, int] | None = None,
    ve: VariableElimination | None = None,
) -> float:
    """``P(event | given)`` by pgmpy's variable elimination (given must have P > 0)."""
    given = dict(given or {})
    rest = {}
    for k, v in event.items():
        if k in given:
            if given[k] != v:
                return 0.0
        else:
            rest[k] = v
    if not rest:
        return 1.0
    ve = ve or pgmpy_classes()[2](model)
    factor = ve.query(variables=list(rest), evidence=given or None, joint=True, show_progress=False)
    return float(factor.get_value(**rest))


# -- abduction–action–prediction over the noise -------------------------------------------


def noise_units(scm: SCM, max_units: int = 3_000_000) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """All response-function units: a representative ``u`` per variable and its weight.

    ``U_V`` is cut at the distinct values of ``cpt`` (and 0, 1); inside one interval
    ``1[u < cpt[i]]`` is constant for every row ``i``, so the interval's midpoint stands for
    all of it, with probability equal to the interval's length.
    """
    mids: list[np.ndarray] = []
    lengths: list[np.ndarray] = []
    for v in scm.variables:
        cuts = np.array(sorted({0.0, 1.0, *map(float, v.cpt)}))
        a, b = cuts[:-1], cuts[1:]
        keep = b > a
        mids.append(((a + b) / 2)[keep])
        lengths.append((b - a)[keep])
    size = int(np.prod([len(m) for m in mids]))
    if size > max_units:
        raise ValueError(f"noise_units: {size} units is too many")
    grids = np.meshgrid(*mids, indexing="ij")
    weights = np.ones((), dtype=float)
    for k, length in enumerate(lengths):
        shape = [1] * len(lengths)
        shape[k] = len(length)
        weights = weights * length.reshape(shape)
    units = {v.name: g.ravel() for v, g in zip(scm.variables, grids, strict=True)}
    return units, np.broadcast_to(weights, grids[0].shape).ravel()


def run_world(
    scm: SCM, units: Mapping[str, np.ndarray], do: Mapping[str, int | np.ndarray] | None = None
) -> dict[str, np.ndarray]:
    """Every unit's values in the world ``do`` (values may be per-unit arrays)."""
    do = dict(do or {})
    n_units = len(next(iter(units.values())))
    out: dict[str, np.ndarray] = {}
    for v in scm.variables:
        if v.name in do:
            out[v.name] = np.broadcast_to(np.asarray(do[v.name], dtype=np.int64), (n_units,)).copy()
            continue
        row = np.zeros(n_units, dtype=np.int64)
        for p in v.parents:
            row = 2 * row + out[p]
        out[v.name] = (units[v.name] < np.asarray(v.cpt)[row]).astype(np.int64)
    return out


def _conditional(weights: np.ndarray, event: np.ndarray, given: np.ndarray) -> float | None:
    den = float(weights[given].sum())
    if den <= 1e-12:
        return None
    return float(weights[given & event].sum()) / den


def _holds(world: Mapping[str, np.ndarray], values: Mapping[str, int], n: int) -> np.ndarray:
    mask = np.ones(n, dtype=bool)
    for k, v in values.items():
        mask &= world[k] == v
    return mask


def bf_counterfactual(
    scm: SCM,
    outcome: str,
    do: Mapping[str, int],
    given: Mapping[str, int] | None = None,
    value: int = 1,
    units: tuple[dict[str, np.ndarray], np.ndarray] | None = None,
) -> float | None:
    """``P(Y_do = value | factual given)``; None when P(given) = 0."""
    u, w = units or noise_units(scm)
    factual = run_world(scm, u)
    world = run_world(scm, u, do)
    return _conditional(w, world[outcome] == value, _holds(factual, given or {}, len(w)))


def bf_ett(
    scm: SCM,
    treatment: str,
    outcome: str,
    given: Mapping[str, int],
    units: tuple[dict[str, np.ndarray], np.ndarray] | None = None,
) -> float | None:
    units = units or noise_units(scm)
    one = bf_counterfactual(scm, outcome, {treatment: 1}, given, units=units)
    zero = bf_counterfactual(scm, outcome, {treatment: 0}, given, units=units)
    return None if one is None or zero is None else one - zero


def bf_nde(
    scm: SCM,
    treatment: str,
    outcome: str,
    mediator: str,
    units: tuple[dict[str, np.ndarray], np.ndarray] | None = None,
) -> float:
    """``P(Y_{X=1, M=M_{X=0}} = 1) − P(Y_{X=0} = 1)``, unit by unit."""
    u, w = units or noise_units(scm)
    w0 = run_world(scm, u, {treatment: 0})
    w1 = run_world(scm, u, {treatment: 1, mediator: w0[mediator]})
    return float(w @ w1[outcome] - w @ w0[outcome])


def bf_nie(
    scm: SCM,
    treatment: str,
    outcome: str,
    mediator: str,
    units: tuple[dict[str, np.ndarray], np.ndarray] | None = None,
) -> float:
    """``P(Y_{X=0, M=M_{X=1}} = 1) − P(Y_{X=0} = 1)``, unit by unit."""
    u, w = units or noise_units(scm)
    w1 = run_world(scm, u, {treatment: 1})
    w10 = run_world(scm, u, {treatment: 0, mediator: w1[mediator]})
    w0 = run_world(scm, u, {treatment: 0})
    return float(w @ w10[outcome] - w @ w0[outcome])


@dataclass(frozen=True)
class FromWorldRef:
    """An intervention value taken from an earlier world (the reference's own marker)."""

    world: int


def bf_multiworld(
    scm: SCM,
    worlds: Sequence[Mapping[str, int | FromWorldRef]],
    event: Mapping[tuple[int, str], int],
    given: Mapping[tuple[int, str], int] | None = None,
    units: tuple[dict[str, np.ndarray], np.ndarray] | None = None,
) -> float | None:
    """``P(event | given)`` over several worlds sharing every unit's noise."""
    u, w = units or noise_units(scm)
    runs: list[dict[str, np.ndarray]] = []
    for spec in worlds:
        do = {k: (runs[v.world][k] if isinstance(v, FromWorldRef) else v) for k, v in spec.items()}
        runs.append(run_world(scm, u, do))

    def mask(values: Mapping[tuple[int, str], int]) -> np.ndarray:
        m = np.ones(len(w), dtype=bool)
        for (k, name), val in values.items():
            m &= runs[k][name] == val
        return m

    return _conditional(w, mask(event), mask(given or {}))


# -- graphical criteria by path enumeration --------------------------------------------------


def _blocked(dag: nx.DiGraph, path: Sequence[str], given: set[str]) -> bool:
    """Pearl's rule: a path is blocked by ``given`` when some interior node blocks it."""
    for i in range(1, len(path) - 1):
        a, b, c = path[i - 1], path[i], path[i + 1]
        collider = dag.has_edge(a, b) and dag.has_edge(c, b)
        if collider:
            if b not in given and not (nx.descendants(dag, b) & given):
                return True
        elif b in given:
            return True
    return False


def ref_d_separated(dag: nx.DiGraph, xs: set[str], ys: set[str], given: set[str]) -> bool:
    """d-separation by enumerating every simple path of the skeleton."""
    skeleton = dag.to_undirected()
    for x in xs:
        for y in ys:
            for path in nx.all_simple_paths(skeleton, x, y):
                if not _blocked(dag, path, given):
                    return False
    return True


def ref_is_backdoor(dag: nx.DiGraph, treatment: str, outcome: str, adjust: set[str]) -> bool:
    """Pearl's back-door criterion, literally: no descendant of X in Z, and Z blocks every
    path between X and Y that starts with an arrow into X."""
    adjust = set(adjust)
    if treatment in adjust or outcome in adjust:
        return False
    if adjust & nx.descendants(dag, treatment):
        return False
    skeleton = dag.to_undirected()
    for path in nx.all_simple_paths(skeleton, treatment, outcome):
        if dag.has_edge(path[1], treatment) and not _blocked(dag, path, adjust):
            return False
    return True


# -- model builders for tests ------------------------------------------------------------------


def raw_scm(graph: CausalGraph, rng: random.Random | int, extreme: float = 0.3) -> SCM:
    """An SCM on ``graph`` with unrounded cpt entries in [0, 1]; a share ``extreme`` of the
    entries is exactly 0 or 1 (deterministic mechanisms, zero-probability events)."""
    rng = rng if isinstance(rng, random.Random) else random.Random(rng)
    variables = []
    for name in graph.nodes:
        parents = tuple(graph.parents(name))
        cpt = tuple(
            float(rng.choice((0.0, 1.0))) if rng.random() < extreme else rng.random()
            for _ in range(2 ** len(parents))
        )
        variables.append(Variable(name, parents, cpt, name not in graph.hidden))
    return SCM(tuple(variables))


def with_hidden(scm: SCM, hidden: Sequence[str]) -> SCM:
    """A copy of ``scm`` with the named variables marked unobserved."""
    return SCM(
        tuple(
            Variable(v.name, v.parents, v.cpt, v.observed and v.name not in hidden)
            for v in scm.variables
        ),
        scm.noise,
    )


def y0_identifiable(dag: nx.DiGraph, hidden: set[str], x: str, y: str) -> bool:
    """y0's ID implementation on our latent projection (y0 is the reference for ID only)."""
    y0_graph = pytest.importorskip("y0.graph")
    identify_mod = pytest.importorskip("y0.algorithm.identify")
    dsl = pytest.importorskip("y0.dsl")
    g = latent_projection(dag, hidden)
    mixed = y0_graph.NxMixedGraph()
    for node in sorted(g.nodes):
        mixed.add_node(dsl.Variable(node))
    for a, b in g.directed.edges:
        mixed.add_directed_edge(dsl.Variable(a), dsl.Variable(b))
    for a, b in g.bidirected.edges:
        mixed.add_undirected_edge(dsl.Variable(a), dsl.Variable(b))
    found = identify_mod.identify_outcomes(mixed, {dsl.Variable(x)}, {dsl.Variable(y)})
    return found is not None


def cladder_dir() -> Path:
    """Where CLadder's generator test files are: ``$LADDER_CLADDER_DIR``, else the first
    ``shared/external/cladder`` beside the checkout or one of its parents, else the
    workplace's copy (tests that need them skip when none holds the model file)."""
    env = os.environ.get("LADDER_CLADDER_DIR")
    repo = Path(__file__).resolve().parents[1]
    candidates = [Path(env)] if env else []
    candidates += [p / "shared" / "external" / "cladder" for p in repo.parents]
    candidates.append(Path("/work/shared/external/cladder"))
    for folder in candidates:
        if (folder / "test-model-meta.json").is_file():
            return folder
    return candidates[0]
