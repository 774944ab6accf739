"""Binary structural causal models, exactly as the item contract (version 1) defines them.

A variable ``V`` with parents ``P1 … Pk`` has ``cpt[i] = P(V=1 | parents = bits of i)``,
the first parent being the most significant bit.  Under ``"comonotone"`` noise the
structural equation is ``V := 1 if U_V < cpt[index] else 0`` with independent
``U_V ~ Uniform(0, 1)``; this fixes every counterfactual uniquely.

Example
-------
>>> scm = SCM.from_dict({"noise": "comonotone", "variables": [
...     {"name": "Z", "parents": [], "cpt": [0.4]},
...     {"name": "X", "parents": ["Z"], "cpt": [0.3, 0.8]},
...     {"name": "Y", "parents": ["X", "Z"], "cpt": [0.1, 0.5, 0.6, 0.9]}]})
>>> scm.names
('Z', 'X', 'Y')
>>> scm.cpt_index("Y", {"X": 1, "Z": 0})
2
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from ladder.core.errors import SCMError
from ladder.engine.graphs import CausalGraph

__all__ = ["NOISE_MODELS", "SCM", "SCMError", "Variable", "random_scm"]

NOISE_MODELS = ("comonotone",)


@dataclass(frozen=True)
class Variable:
    """One binary variable: its parents (in cpt bit order) and ``P(V=1 | parents)``."""

    name: str
    parents: tuple[str, ...] = ()
    cpt: tuple[float, ...] = (0.5,)
    observed: bool = True

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "parents": list(self.parents),
            "cpt": list(self.cpt),
        }
        if not self.observed:
            out["observed"] = False
        return out


@dataclass(frozen=True)
class SCM:
    """A binary SCM. Variables are stored in a topological order.

    Construction validates everything and raises :class:`SCMError` naming the variable:
    duplicate names, unknown parents, cycles, a ``cpt`` of the wrong length, and
    probabilities outside [0, 1].
    """

    variables: tuple[Variable, ...]
    noise: str = "comonotone"
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.noise not in NOISE_MODELS:
            raise SCMError(f"noise {self.noise!r} is not supported; allowed: {NOISE_MODELS}")
        names = [v.name for v in self.variables]
        seen: set[str] = set()
        for v in self.variables:
            if not isinstance(v.name, str) or not v.name:
                raise SCMError(f"variable name {v.name!r} must be a non-empty string")
            if v.name in seen:
                raise SCMError(f"variable {v.name!r} is defined twice")
            seen.add(v.name)
        for v in self.variables:
            for p in v.parents:
                if p not in seen:
                    raise SCMError(f"variable {v.name!r} has unknown parent {p!r}")
            if len(set(v.parents)) != len(v.parents):
                raise SCMError(f"variable {v.name!r} lists a parent twice: {list(v.parents)}")
            want = 2 ** len(v.parents)
            if len(v.cpt) != want:
                raise SCMError(
                    f"variable {v.name!r}: cpt has {len(v.cpt)} entries, "
                    f"expected 2**{len(v.parents)} = {want}"
                )
            for i, p in enumerate(v.cpt):
                if not isinstance(p, (int, float)) or math.isnan(p) or not 0.0 <= p <= 1.0:
                    raise SCMError(
                        f"variable {v.name!r}: cpt[{i}] = {p!r} is not a probability in [0, 1]"
                    )
        pos = {n: i for i, n in enumerate(names)}
        if all(pos[p] < pos[v.name] for v in self.variables for p in v.parents):
            ordered = tuple(self.variables)  # already topological (the common case)
        else:
            dag = nx.DiGraph()
            dag.add_nodes_from(names)
            dag.add_edges_from((p, v.name) for v in self.variables for p in v.parents)
            if not nx.is_directed_acyclic_graph(dag):
                cycle = nx.find_cycle(dag)
                raise SCMError(
                    f"variable {cycle[0][0]!r} lies on a cycle: "
                    + " -> ".join([a for a, _ in cycle] + [cycle[0][0]])
                )
            # Canonical topological order: stable with respect to the given order.
            order = nx.lexicographical_topological_sort(dag, key=pos.__getitem__)
            by_name = {v.name: v for v in self.variables}
            ordered = tuple(by_name[n] for n in order)
        object.__setattr__(
            self,
            "variables",
            tuple(
                Variable(v.name, tuple(v.parents), tuple(float(p) for p in v.cpt), bool(v.observed))
                for v in ordered
            ),
        )
        object.__setattr__(self, "_index", {v.name: i for i, v in enumerate(self.variables)})

    # -- access ---------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables)

    @property
    def observed_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables if v.observed)

    @property
    def hidden_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables if not v.observed)

    def __getitem__(self, name: str) -> Variable:
        return self.variables[self.index(name)]

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def index(self, name: str) -> int:
        try:
            return self._index[name]
        except KeyError:
            raise SCMError(f"unknown variable {name!r}; the SCM has {list(self.names)}") from None

    @property
    def graph(self) -> nx.DiGraph:
        """The causal DAG (hidden variables included)."""
        dag = nx.DiGraph()
        dag.add_nodes_from(self.names)
        dag.add_edges_from((p, v.name) for v in self.variables for p in v.parents)
        return dag

    def cpt_index(self, name: str, parent_values: Mapping[str, int]) -> int:
        """Row of ``cpt`` for the given parent values (first parent = most significant bit)."""
        idx = 0
        for p in self[name].parents:
            idx = 2 * idx + int(parent_values[p])
        return idx

    def check_assignment(self, values: Mapping[str, int], what: str = "evidence") -> None:
        """Raise :class:`SCMError` unless ``values`` maps known variables to 0 or 1."""
        for k, v in values.items():
            self.index(k)
            if v not in (0, 1):
                raise SCMError(f"{what} {k}={v!r}: variables are binary, allowed values 0, 1")

    # -- serialisation ----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"noise": self.noise, "variables": [v.to_dict() for v in self.variables]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SCM:
        """Build an SCM from the item contract's ``scm`` object.

        >>> SCM.from_dict({"variables": [{"name": "X", "parents": "Z", "cpt": [0.5]}]})
        Traceback (most recent call last):
        ...
        ladder.core.errors.SCMError: variable 'X': parents must be a list of names, got 'Z'
        """
        if not isinstance(data, Mapping) or not isinstance(data.get("variables"), (list, tuple)):
            raise SCMError("scm must be an object with a 'variables' list")
        variables = [_variable_from_dict(i, v) for i, v in enumerate(data["variables"])]
        return cls(tuple(variables), data.get("noise", "comonotone"))

    def with_cpt(self, name: str, cpt: Iterable[float]) -> SCM:
        """A copy with one variable's cpt replaced."""
        self.index(name)
        return SCM(
            tuple(
                Variable(v.name, v.parents, tuple(cpt), v.observed) if v.name == name else v
                for v in self.variables
            ),
            self.noise,
        )


def _variable_from_dict(i: int, v: Any) -> Variable:
    """One ``scm.variables[i]`` object, its field types checked."""
    if not isinstance(v, Mapping) or "name" not in v:
        raise SCMError(f"scm.variables[{i}] must be an object with a 'name'")
    unknown = set(v) - {"name", "parents", "cpt", "observed"}
    if unknown:
        raise SCMError(
            f"variable {v['name']!r}: unknown fields {sorted(unknown)}; "
            "allowed: name, parents, cpt, observed"
        )
    parents = v.get("parents", [])
    if not isinstance(parents, (list, tuple)) or not all(isinstance(p, str) for p in parents):
        raise SCMError(f"variable {v['name']!r}: parents must be a list of names, got {parents!r}")
    cpt = v.get("cpt", [])
    if not isinstance(cpt, (list, tuple)):
        raise SCMError(f"variable {v['name']!r}: cpt must be a list of probabilities")
    observed = v.get("observed", True)
    if not isinstance(observed, bool):
        raise SCMError(f"variable {v['name']!r}: observed must be true or false, got {observed!r}")
    return Variable(str(v["name"]), tuple(parents), tuple(cpt), observed)


def _grid_value(rng: random.Random, low: float, high: float) -> float:
    # Two-decimal values, so that numbers printed in prompts are the model's exact numbers.
    return rng.randint(round(low * 100), round(high * 100)) / 100


def random_scm(
    graph: CausalGraph,
    rng: random.Random | int | None = None,
    *,
    low: float = 0.05,
    high: float = 0.95,
    min_effect: float = 0.05,
    tries: int = 50,
) -> SCM:
    """Sample a binary SCM on ``graph`` with cpt entries on the 0.01 grid in [low, high].

    Bounds away from 0 and 1 avoid near-deterministic mechanisms; ``min_effect`` keeps
    every parent's effect at least that large in every context (entries whose indices
    differ in one bit differ by ≥ min_effect), which avoids near-ties and unfaithful
    cancellations at the mechanism level.

    >>> from ladder.engine.graphs import chain
    >>> scm = random_scm(chain(), 7)
    >>> [v.name for v in scm.variables]
    ['X', 'M', 'Y']
    """
    if not 0.0 <= low < high <= 1.0:
        raise SCMError(f"random_scm: need 0 <= low < high <= 1, got low={low}, high={high}")
    rng = rng if isinstance(rng, random.Random) else random.Random(rng)
    variables = []
    for name in graph.nodes:
        parents = tuple(graph.parents(name))
        k = len(parents)
        cpt: list[float] = []
        for i in range(2**k):
            neighbours = [cpt[i ^ (1 << b)] for b in range(k) if (i ^ (1 << b)) < i]
            value = _grid_value(rng, low, high)
            for _ in range(tries):
                if all(abs(value - n) >= min_effect - 1e-12 for n in neighbours):
                    break
                value = _grid_value(rng, low, high)
            cpt.append(value)
        variables.append(Variable(name, parents, tuple(cpt), name not in graph.hidden))
    return SCM(tuple(variables))
