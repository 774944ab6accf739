"""Grid specs for Granger runs (YAML): which series to make and how to probe them.

A grid is the product ``conditions × couplings × lags × lengths``; each cell gets
``series_per_cell`` seeded series. Fields (all validated strictly; an unknown field is a
``ValueError`` naming it and the allowed ones)::

    name: granger_quick          # required
    description: ...             # optional text
    seed: 0                      # master seed (series seeds derive from it and the cell)
    conditions: [var, hidden_driver, random_walk]     # keys of series.CONDITIONS
    couplings: [0.0, 0.5]        # or per condition: {var: [0.0, 0.5], hidden_driver: [0.9]}
    lags: [1]                    # true lag of the link (every lag must fit every length)
    lengths: [80]
    series_per_cell: 6
    surrogates: 4                # S per series: TE_M's baseline; per-series test level 1/(S+1)
    surrogate_kind: circular     # or block
    digits: 3                    # digits per printed value
    order: yx                    # yx: y_t before x_t (transfer entropy); xy: directed info
    burn_in: 10                  # context-only steps at the start of each series
    alpha: 0.05                  # statsmodels' level and the cell-level tests' level
    unit_root: known             # known (random walks by construction) or adf_kpss (n >= 200)
    verbal: true                 # also ask the two yes/no questions in words
    verbal_per_cell: 20          # ... of the first N series of each cell only (default: all)
    condition_params: {var: {direction: x->y}}        # extra generator arguments

Example:
    >>> g = parse_grid({"name": "t", "conditions": ["var"], "couplings": [0.0, 0.5],
    ...                 "lags": [1], "lengths": [60], "series_per_cell": 2})
    >>> len(g.cells()), len(g.plan()), g.plan()[0]["id"]
    (2, 4, 'var/c=0/lag=1/n=60/0')
"""

from __future__ import annotations

import hashlib
import inspect
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ladder.core.errors import SpecError
from ladder.core.resources import builtin_task
from ladder.granger.classical import MIN_UNIT_ROOT_TEST_LENGTH, UNIT_ROOT_RULES, check_lag
from ladder.granger.model_side import SURROGATE_KINDS
from ladder.granger.serialize import MAX_DIGITS, ORDERS
from ladder.granger.series import CONDITIONS, MIN_LENGTH, make_series

__all__ = [
    "BUILTIN_GRIDS",
    "GridSpec",
    "load_grid",
    "parse_grid",
    "recorded_grid",
    "series_seed",
]

BUILTIN_GRIDS: tuple[str, ...] = ("quick", "full")
_REQUIRED = ("name", "conditions", "couplings", "lags", "lengths")
_CELL_ARGS = {"length", "coupling", "lag", "seed"}
MIN_SCORED_STEPS = 10


@dataclass(frozen=True)
class GridSpec:
    """A validated grid (see the module docstring for the fields)."""

    name: str
    conditions: tuple[str, ...]
    couplings: dict[str, tuple[float, ...]]
    lags: tuple[int, ...]
    lengths: tuple[int, ...]
    description: str = ""
    seed: int = 0
    series_per_cell: int = 4
    surrogates: int = 4
    surrogate_kind: str = "circular"
    digits: int = 3
    order: str = "yx"
    burn_in: int = 10
    alpha: float = 0.05
    unit_root: str = "known"
    verbal: bool = True
    verbal_per_cell: int | None = None
    condition_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = "<dict>"
    sha256: str | None = None

    @property
    def series_alpha(self) -> float:
        """Level of the per-series surrogate test: ``alpha``, or ``1/(S+1)`` (the smallest
        p-value ``S`` surrogates can give) when that is larger."""
        return max(self.alpha, 1.0 / (self.surrogates + 1))

    def cells(self) -> list[dict[str, Any]]:
        """Grid cells in a fixed order: condition, coupling, lag, length."""
        return [
            {"condition": c, "coupling": k, "lag": lag, "length": n}
            for c in self.conditions
            for k in self.couplings[c]
            for lag in self.lags
            for n in self.lengths
        ]

    def plan(self) -> list[dict[str, Any]]:
        """Every series of the run: ``id``, ``index``, cell keys, ``replicate``, ``seed`` and
        the generator ``params`` (cell values plus ``condition_params``)."""
        out = []
        for cell in self.cells():
            for rep in range(self.series_per_cell):
                seed = series_seed(self.seed, cell, rep)
                params = {
                    **self.condition_params.get(cell["condition"], {}),
                    "length": cell["length"],
                    "coupling": cell["coupling"],
                    "lag": cell["lag"],
                    "seed": seed,
                }
                out.append(
                    {
                        "id": _series_id(cell, rep),
                        "index": len(out),
                        **cell,
                        "replicate": rep,
                        "seed": seed,
                        "params": params,
                    }
                )
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for granger.json)."""
        data = asdict(self)
        data["conditions"] = list(self.conditions)
        data["couplings"] = {k: list(v) for k, v in self.couplings.items()}
        data["lags"], data["lengths"] = list(self.lags), list(self.lengths)
        return data


def _series_id(cell: dict[str, Any], rep: int) -> str:
    return f"{cell['condition']}/c={cell['coupling']:g}/lag={cell['lag']}/n={cell['length']}/{rep}"


def series_seed(master: int, cell: dict[str, Any], replicate: int) -> int:
    """A stable 31-bit seed for one series from the master seed, its cell and replicate.

    Example:
        >>> cell = {"condition": "var", "coupling": 0.5, "lag": 1, "length": 80}
        >>> series_seed(0, cell, 0) == series_seed(0, dict(cell), 0) != series_seed(1, cell, 0)
        True
    """
    key = (
        f"{master}|{cell['condition']}|{float(cell['coupling'])!r}|{cell['lag']}|"
        f"{cell['length']}|{replicate}"
    )
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) & 0x7FFFFFFF


# --------------------------------------------------------------------------- validation


def _fields() -> list[str]:
    return [f for f in GridSpec.__dataclass_fields__ if f not in ("source", "sha256")]


def _int(name: str, value: Any, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"{name} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f">= {low}"
        raise SpecError(f"{name} must be {bound}, got {value!r}")
    return int(value)


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SpecError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _list(name: str, value: Any) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise SpecError(f"{name} must be a non-empty list, got {value!r}")
    if len(set(map(repr, value))) != len(value):
        raise SpecError(f"{name} has repeated values: {value!r}")
    return value


def _couplings(value: Any, conditions: tuple[str, ...]) -> dict[str, tuple[float, ...]]:
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(conditions))
        if unknown:
            raise SpecError(
                f"couplings names condition(s) {unknown} not in conditions {list(conditions)}"
            )
        missing = [c for c in conditions if c not in value]
        if missing:
            raise SpecError(f"couplings gives no list for condition(s) {missing}")
        return {c: _coupling_values(f"couplings[{c}]", value[c]) for c in conditions}
    return dict.fromkeys(conditions, _coupling_values("couplings", value))


def _coupling_values(name: str, value: Any) -> tuple[float, ...]:
    values = tuple(_number(f"{name} entry", v) for v in _list(name, value))
    if len(set(values)) != len(values):
        raise SpecError(f"{name} has repeated values: {value!r}")
    return values


def _condition_params(value: Any, conditions: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SpecError(f"condition_params must be a mapping, got {value!r}")
    out = {}
    for cond, params in value.items():
        if cond not in conditions:
            raise SpecError(
                f"condition_params names condition {cond!r} not in conditions {list(conditions)}"
            )
        if not isinstance(params, dict):
            raise SpecError(f"condition_params[{cond}] must be a mapping, got {params!r}")
        accepted = set(inspect.signature(CONDITIONS[cond]).parameters) - _CELL_ARGS
        unknown = sorted(set(params) - accepted)
        if unknown:
            raise SpecError(
                f"unknown parameter(s) {unknown} in condition_params[{cond}]; "
                f"allowed: {', '.join(sorted(accepted))}"
            )
        out[cond] = dict(params)
    return out


def parse_grid(data: Any, source: str = "<dict>", sha256: str | None = None) -> GridSpec:
    """Validate a grid mapping and return a :class:`GridSpec`.

    Raises ``ValueError`` naming the field for: unknown or missing fields, wrong types or
    ranges, unknown conditions, a lag too long for a length (the Granger regressions need
    ``length > 3*lag + 1``), too few scored steps after ``burn_in``, too few surrogates for
    ``alpha``, and any generator error (e.g. an explosive VAR) on a probe series per cell.

    Example:
        >>> parse_grid({"name": "t", "conditions": ["var"], "couplings": [0.5],
        ...             "lags": [1], "lengths": [60], "colour": "red"})
        Traceback (most recent call last):
        ...
        ladder.core.errors.SpecError: unknown field 'colour' in grid <dict>; allowed: ...
    """
    if not isinstance(data, dict):
        raise SpecError(f"grid {source} must be a mapping of fields, got {type(data).__name__}")
    allowed = _fields()
    for key in data:
        if key not in allowed:
            raise SpecError(
                f"unknown field {key!r} in grid {source}; allowed: {', '.join(allowed)}"
            )
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise SpecError(f"grid {source} is missing required field(s): {', '.join(missing)}")
    try:
        spec = _build(data, source, sha256)
    except ValueError as exc:
        raise SpecError(f"grid {source}: {exc}") from None
    return spec


def _build(data: dict[str, Any], source: str, sha256: str | None) -> GridSpec:
    """Validate every field of a grid mapping (known keys, required present) into a GridSpec.

    Fields are checked in a fixed order so the first problem found is the one reported.
    """
    name = data["name"]
    if not isinstance(name, str) or not name.strip():
        raise SpecError(f"name must be a non-empty string, got {name!r}")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise SpecError(f"description must be a string, got {description!r}")
    conditions = tuple(_list("conditions", data["conditions"]))
    for cond in conditions:
        if cond not in CONDITIONS:
            raise SpecError(f"unknown condition {cond!r}; allowed: {', '.join(sorted(CONDITIONS))}")
    couplings = _couplings(data["couplings"], conditions)
    lags = tuple(_int("lags entry", v, 1) for v in _list("lags", data["lags"]))
    lengths = tuple(_int("lengths entry", v, MIN_LENGTH) for v in _list("lengths", data["lengths"]))
    alpha, surrogates = _alpha_and_surrogates(data)
    kind = _choice(data, "surrogate_kind", "circular", SURROGATE_KINDS)
    order = _choice(data, "order", "yx", ORDERS)
    verbal = data.get("verbal", True)
    if not isinstance(verbal, bool):
        raise SpecError(f"verbal must be true or false, got {verbal!r}")
    burn_in = _int("burn_in", data.get("burn_in", 10), 1)
    verbal_per_cell = data.get("verbal_per_cell")
    if verbal_per_cell is not None:
        verbal_per_cell = _int("verbal_per_cell", verbal_per_cell, 1)
    _check_lengths(lengths, lags, burn_in)
    unit_root = _choice(data, "unit_root", "known", UNIT_ROOT_RULES)
    if unit_root == "adf_kpss" and min(lengths) < MIN_UNIT_ROOT_TEST_LENGTH:
        raise SpecError(
            f"unit_root adf_kpss needs lengths >= {MIN_UNIT_ROOT_TEST_LENGTH} (ADF "
            f"over-differences shorter series), got {min(lengths)}; use unit_root: known"
        )
    spec = GridSpec(
        name=name.strip(),
        description=description,
        conditions=conditions,
        couplings=couplings,
        lags=lags,
        lengths=lengths,
        seed=_int("seed", data.get("seed", 0), 0),
        series_per_cell=_int("series_per_cell", data.get("series_per_cell", 4), 1),
        surrogates=surrogates,
        surrogate_kind=kind,
        digits=_int("digits", data.get("digits", 3), 1, MAX_DIGITS),
        order=order,
        burn_in=burn_in,
        alpha=alpha,
        unit_root=unit_root,
        verbal=verbal,
        verbal_per_cell=verbal_per_cell,
        condition_params=_condition_params(data.get("condition_params"), conditions),
        source=source,
        sha256=sha256,
    )
    _check_cells(spec)
    return spec


def _alpha_and_surrogates(data: dict[str, Any]) -> tuple[float, int]:
    """Read ``alpha`` (in (0, 1)) and ``surrogates`` (>= 1).

    A few surrogates suffice: the cell-level test is on the mean TE_M across series; the
    per-series surrogate test runs at :attr:`GridSpec.series_alpha` (``1/(S+1)`` when
    ``S < 1/alpha - 1``).
    """
    alpha = _number("alpha", data.get("alpha", 0.05))
    if not 0 < alpha < 1:
        raise SpecError(f"alpha must be between 0 and 1, got {alpha!r}")
    return alpha, _int("surrogates", data.get("surrogates", 4), 1)


def _choice(data: dict[str, Any], key: str, default: str, allowed: Sequence[str]) -> str:
    """Read ``data[key]`` (``default`` when absent), which must be one of ``allowed``."""
    value = data.get(key, default)
    if value not in allowed:
        raise SpecError(f"{key} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _check_lengths(lengths: tuple[int, ...], lags: tuple[int, ...], burn_in: int) -> None:
    """Every length must leave enough scored steps after ``burn_in`` and fit every lag."""
    for n in lengths:
        if n - burn_in < MIN_SCORED_STEPS:
            raise SpecError(
                f"length {n} leaves fewer than {MIN_SCORED_STEPS} scored steps "
                f"after burn_in {burn_in}"
            )
        for lag in lags:
            try:
                check_lag(lag, n)
            except ValueError as exc:
                raise SpecError(f"lags/lengths: {exc}") from None


def _check_cells(spec: GridSpec) -> None:
    """Generate one series per cell so generator errors (explosive VAR, bad kind) surface now."""
    for cell in spec.cells():
        params = {
            **spec.condition_params.get(cell["condition"], {}),
            "length": cell["length"],
            "coupling": cell["coupling"],
            "lag": cell["lag"],
        }
        try:
            make_series(cell["condition"], seed=0, **params)
        except (ValueError, TypeError) as exc:
            raise SpecError(f"cell {_series_id(cell, 0).rsplit('/', 1)[0]}: {exc}") from None


def _builtin_path(name: str) -> Path | None:
    """The packaged ``tasks/granger_<name>.yaml``, if present."""
    path = builtin_task(f"granger_{name}")
    return path if path.is_file() else None


def load_grid(name_or_path: str | Path) -> GridSpec:
    """Load a built-in grid (``quick``, ``full``) or a YAML file.

    Example:
        >>> load_grid("quick").name
        'granger_quick'
    """
    text_name = str(name_or_path)
    path: Path | None
    if text_name in BUILTIN_GRIDS:
        path = _builtin_path(text_name)
        if path is None:
            raise SpecError(
                f"built-in grid {text_name!r} not found (tasks/granger_"
                f"{text_name}.yaml is missing from this installation)"
            )
    else:
        path = Path(name_or_path).expanduser()
        if not path.is_file():
            raise SpecError(
                f"grid {text_name!r} is neither a built-in grid "
                f"({', '.join(BUILTIN_GRIDS)}) nor an existing YAML file"
            )
    raw = path.read_bytes()
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SpecError(f"grid {path}: not valid YAML ({first})") from None
    return parse_grid(data, source=str(path), sha256=hashlib.sha256(raw).hexdigest())


def recorded_grid(data: Any, where: str = "granger.json") -> GridSpec:
    """The grid a run recorded (the ``grid`` block of ``granger.json``), validated again.

    Example:
        >>> g = load_grid("quick")
        >>> recorded_grid(g.to_dict()) == g
        True
    """
    if not isinstance(data, dict):
        raise SpecError(f"{where}: the recorded grid is not a mapping of fields")
    fields = {k: v for k, v in data.items() if k not in ("source", "sha256")}
    source, sha = data.get("source"), data.get("sha256")
    return parse_grid(fields, source=str(source or where), sha256=sha)
