"""Seeded bivariate time series from known dynamic causal graphs.

Every generator returns a :class:`Series` that carries the data (``x``, ``y``) together with
the TRUE lagged graph (``true_x_causes_y``, ``true_y_causes_x``), so a test or a model can be
scored against it. All randomness comes from ``np.random.default_rng(seed)``; the first
``burn_in`` samples are simulated and thrown away so that stationary processes start near
their stationary distribution. ``seed`` is keyword-only everywhere.

Example:
    >>> s = make_series("var", length=200, coupling=0.4, lag=1, direction="x->y", seed=3)
    >>> s.true_x_causes_y, s.true_y_causes_x, len(s.x)
    (True, False, 200)
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "CONDITIONS",
    "DIRECTIONS",
    "MIN_LENGTH",
    "NONLINEAR_KINDS",
    "Series",
    "check_stable",
    "feedback_series",
    "hidden_driver_series",
    "intervened_series",
    "make_series",
    "nonlinear_series",
    "random_walk_series",
    "validate_series",
    "var_series",
]

DIRECTIONS: tuple[str, ...] = ("x->y", "y->x", "both", "none")
NONLINEAR_KINDS: tuple[str, ...] = ("tanh", "threshold")
MIN_LENGTH = 10
"""Shortest series that :func:`validate_series` accepts."""

DEFAULT_BURN_IN = 100


# --------------------------------------------------------------------------- the record


def _plain(obj: Any) -> Any:
    """Numpy scalars/arrays inside params -> plain Python values (JSON-friendly)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


@dataclass(frozen=True, eq=False)
class Series:
    """A bivariate series with its true lagged causal graph.

    ``x`` and ``y`` are stored as read-only float64 arrays of equal length. Equality compares
    the arrays element-wise (``np.array_equal``) and the other fields by value.

    Example:
        >>> s = Series(np.arange(3.0), np.ones(3), "demo", {"seed": 0}, False, False)
        >>> Series.from_dict(s.to_dict()) == s
        True
    """

    x: np.ndarray
    y: np.ndarray
    condition: str
    params: dict[str, Any] = field(default_factory=dict)
    true_x_causes_y: bool = False
    true_y_causes_x: bool = False

    def __post_init__(self) -> None:
        for name in ("x", "y"):
            arr = np.array(getattr(self, name), dtype=np.float64, copy=True)
            if arr.ndim != 1:
                raise ValueError(f"Series.{name} must be 1-D, got shape {arr.shape}")
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)
        if self.x.shape != self.y.shape:
            raise ValueError(
                f"Series.x and Series.y must have the same length ({len(self.x)} vs {len(self.y)})"
            )
        object.__setattr__(self, "params", _plain(dict(self.params)))
        object.__setattr__(self, "true_x_causes_y", bool(self.true_x_causes_y))
        object.__setattr__(self, "true_y_causes_x", bool(self.true_y_causes_x))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Series):
            return NotImplemented
        return (
            np.array_equal(self.x, other.x)
            and np.array_equal(self.y, other.y)
            and self.condition == other.condition
            and self.params == other.params
            and self.true_x_causes_y == other.true_x_causes_y
            and self.true_y_causes_x == other.true_y_causes_x
        )

    __hash__ = None  # type: ignore[assignment]  # mutable-looking payload: not hashable

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict (arrays become lists of floats).

        Example:
            >>> Series(np.zeros(2), np.ones(2), "c", {}).to_dict()["y"]
            [1.0, 1.0]
        """
        return {
            "condition": self.condition,
            "params": dict(self.params),
            "true_x_causes_y": self.true_x_causes_y,
            "true_y_causes_x": self.true_y_causes_x,
            "x": [float(v) for v in self.x],
            "y": [float(v) for v in self.y],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Series:
        """Inverse of :meth:`to_dict`.

        Example:
            >>> Series.from_dict({"x": [0.0, 1.0], "y": [1.0, 0.0], "condition": "c"}).condition
            'c'
        """
        return cls(
            x=np.asarray(data["x"], dtype=np.float64),
            y=np.asarray(data["y"], dtype=np.float64),
            condition=str(data["condition"]),
            params=dict(data.get("params", {})),
            true_x_causes_y=bool(data.get("true_x_causes_y", False)),
            true_y_causes_x=bool(data.get("true_y_causes_x", False)),
        )


# --------------------------------------------------------------------------- validation


def _check_finite(name: str, arr: np.ndarray) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = int(np.flatnonzero(bad)[0])
        kind = "NaN" if np.isnan(arr[idx]) else "inf"
        raise ValueError(
            f"{name} contains {kind} at index {idx} ({int(bad.sum())} non-finite value(s) in all)"
        )


def validate_series(x: Any, y: Any, min_length: int = MIN_LENGTH) -> tuple[np.ndarray, np.ndarray]:
    """Check a pair of series and return them as float64 arrays.

    Raises ``ValueError`` naming the variable (and index) for non-1-D input, unequal lengths,
    series shorter than ``min_length``, NaN/inf values, or a constant series.

    Example:
        >>> validate_series([1.0, 2.0, 3.0], [0.0, 1.0, float("nan")], min_length=3)
        Traceback (most recent call last):
        ...
        ValueError: y contains NaN at index 2 (1 non-finite value(s) in all)
    """
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    for name, arr in (("x", xa), ("y", ya)):
        if arr.ndim != 1:
            raise ValueError(f"{name} must be a 1-D series, got shape {arr.shape}")
    if xa.shape[0] != ya.shape[0]:
        raise ValueError(f"x and y have different lengths ({xa.shape[0]} vs {ya.shape[0]})")
    if xa.shape[0] < min_length:
        raise ValueError(f"series too short: length {xa.shape[0]} < minimum {min_length}")
    for name, arr in (("x", xa), ("y", ya)):
        _check_finite(name, arr)
    for name, arr in (("x", xa), ("y", ya)):
        if np.all(arr == arr[0]):
            raise ValueError(f"{name} is constant (every value equals {arr[0]!r})")
    return xa, ya


# --------------------------------------------------------------------------- param checks


def _check_common(length: int, lag: int, noise: float) -> None:
    if int(length) != length or length < MIN_LENGTH:
        raise ValueError(f"length must be an integer >= {MIN_LENGTH}, got {length!r}")
    if int(lag) != lag or lag < 1:
        raise ValueError(f"lag must be an integer >= 1, got {lag!r}")
    if not (math.isfinite(noise) and noise > 0):
        raise ValueError(f"noise must be a positive finite number, got {noise!r}")


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; allowed: {', '.join(allowed)}")


def _spectral_radius(ar: float, c_xy: float, c_yx: float, lag: int) -> float:
    """Spectral radius of the companion matrix of the bivariate VAR(lag) we simulate."""
    k = 2 * lag
    comp = np.zeros((k, k))
    a1 = np.array([[ar, 0.0], [0.0, ar]])  # state order: (x, y)
    al = np.array([[0.0, c_yx], [c_xy, 0.0]])
    comp[0:2, 0:2] += a1
    comp[0:2, 2 * (lag - 1) : 2 * lag] += al
    if lag > 1:
        comp[2:, :-2] = np.eye(k - 2)
    return float(np.max(np.abs(np.linalg.eigvals(comp))))


def check_stable(ar: float, c_xy: float, c_yx: float, lag: int) -> None:
    """Raise ``ValueError`` when the bivariate VAR(lag) with these coefficients is explosive.

    Example:
        >>> check_stable(0.5, 0.9, 0.9, 1)
        Traceback (most recent call last):
        ...
        ValueError: explosive VAR: ar=0.5, couplings x->y=0.9, y->x=0.9 at lag 1 give ... 1.400 >= 1
    """
    rho = _spectral_radius(ar, c_xy, c_yx, lag)
    if rho >= 1.0:
        raise ValueError(
            f"explosive VAR: ar={ar}, couplings x->y={c_xy}, y->x={c_yx} at lag {lag} give "
            f"spectral radius {rho:.3f} >= 1"
        )


# --------------------------------------------------------------------------- simulation


def _simulate_var(
    rng: np.random.Generator,
    total: int,
    ar: float,
    c_xy: float,
    c_yx: float,
    lag: int,
    noise: float,
) -> tuple[np.ndarray, np.ndarray]:
    """x_t = ar x_{t-1} + c_yx y_{t-lag} + e;  y_t = ar y_{t-1} + c_xy x_{t-lag} + e."""
    ex = rng.normal(0.0, noise, total)
    ey = rng.normal(0.0, noise, total)
    x = np.zeros(total)
    y = np.zeros(total)
    for t in range(lag, total):
        x[t] = ar * x[t - 1] + c_yx * y[t - lag] + ex[t]
        y[t] = ar * y[t - 1] + c_xy * x[t - lag] + ey[t]
    return x, y


def _ar1(rng: np.random.Generator, total: int, ar: float, noise: float) -> np.ndarray:
    e = rng.normal(0.0, noise, total)
    out = np.zeros(total)
    for t in range(1, total):
        out[t] = ar * out[t - 1] + e[t]
    return out


def _respond(
    rng: np.random.Generator, drive: np.ndarray, ar: float, coupling: float, lag: int, noise: float
) -> np.ndarray:
    """y_t = ar y_{t-1} + coupling * drive_{t-lag} + e_t (drive already transformed)."""
    e = rng.normal(0.0, noise, drive.shape[0])
    y = np.zeros(drive.shape[0])
    for t in range(lag, drive.shape[0]):
        y[t] = ar * y[t - 1] + coupling * drive[t - lag] + e[t]
    return y


def _check_below_one(name: str, value: float, why: str = "") -> None:
    """Reject an autoregressive coefficient that would make the process non-stationary."""
    if not abs(value) < 1:
        raise ValueError(f"{name} must satisfy |{name}| < 1{why}, got {value!r}")


def _keep_last(
    condition: str,
    x: np.ndarray,
    y: np.ndarray,
    params: dict[str, Any],
    x_causes_y: bool,
    y_causes_x: bool,
) -> Series:
    """The recorded series: the last ``params["length"]`` samples (the burn-in is dropped)."""
    n = params["length"]
    return Series(x[-n:], y[-n:], condition, params, x_causes_y, y_causes_x)


def _var_run(condition: str, c_xy: float, c_yx: float, params: dict[str, Any]) -> Series:
    """Simulate the bivariate VAR shared by :func:`var_series` and :func:`feedback_series`.

    ``params`` (the record) holds ``length``, ``lag``, ``ar``, ``noise``, ``burn_in``, ``seed``.
    """
    ar, lag = params["ar"], params["lag"]
    check_stable(ar, c_xy, c_yx, lag)
    rng = np.random.default_rng(params["seed"])
    total = params["length"] + params["burn_in"] + lag
    x, y = _simulate_var(rng, total, ar, c_xy, c_yx, lag, params["noise"])
    return _keep_last(condition, x, y, params, c_xy != 0, c_yx != 0)


def _driven_run(
    condition: str,
    params: dict[str, Any],
    draw_x: Callable[[np.random.Generator, int], np.ndarray],
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Series:
    """X from ``draw_x(rng, total)``; Y responds to ``transform(X)`` at ``params["lag"]``.

    The body shared by :func:`nonlinear_series` and :func:`intervened_series`; ``params``
    (the record) holds ``length``, ``coupling``, ``lag``, ``ar``, ``noise``, ``burn_in``,
    ``seed``.
    """
    ar, lag, coupling = params["ar"], params["lag"], params["coupling"]
    _check_below_one("ar", ar, " for a stationary series")
    rng = np.random.default_rng(params["seed"])
    x = draw_x(rng, params["length"] + params["burn_in"] + lag)
    drive = x if transform is None else transform(x)
    y = _respond(rng, drive, ar, coupling, lag, params["noise"])
    return _keep_last(condition, x, y, params, coupling != 0, False)


def var_series(
    length: int,
    coupling: float,
    lag: int,
    direction: str = "x->y",
    ar: float = 0.5,
    noise: float = 1.0,
    burn_in: int = DEFAULT_BURN_IN,
    *,
    seed: int,
) -> Series:
    """Stationary bivariate VAR(lag).

    ``y_t = ar*y_{t-1} + c*x_{t-lag} + e`` (and/or the mirror for x) according to
    ``direction`` in {"x->y", "y->x", "both", "none"}. ``coupling == 0`` means no link
    whatever the direction. Explosive parameter choices raise ``ValueError``.

    Example:
        >>> var_series(100, 0.0, 2, "both", seed=1).true_x_causes_y
        False
    """
    _check_common(length, lag, noise)
    _check_choice("direction", direction, DIRECTIONS)
    c_xy = coupling if direction in ("x->y", "both") else 0.0
    c_yx = coupling if direction in ("y->x", "both") else 0.0
    params = dict(
        length=length,
        coupling=coupling,
        lag=lag,
        direction=direction,
        ar=ar,
        noise=noise,
        burn_in=burn_in,
        seed=seed,
    )
    return _var_run("var", c_xy, c_yx, params)


def _nonlinearity(kind: str, v: np.ndarray) -> np.ndarray:
    if kind == "tanh":
        return np.tanh(2.0 * v)
    # threshold: a symmetric "big shock" indicator, centred; nearly uncorrelated with v itself
    ind = (np.abs(v) > 1.0).astype(np.float64)
    return 2.0 * (ind - ind.mean())


def nonlinear_series(
    length: int,
    coupling: float,
    lag: int,
    kind: str = "tanh",
    ar: float = 0.5,
    noise: float = 1.0,
    burn_in: int = DEFAULT_BURN_IN,
    *,
    seed: int,
) -> Series:
    """X is AR(1); ``y_t = ar*y_{t-1} + c*f(x_{t-lag}) + e`` with a nonlinear ``f``.

    ``kind="tanh"``: ``f(v) = tanh(2v)`` (saturating; still mostly visible to a linear test).
    ``kind="threshold"``: ``f(v) = 2*(1{|v|>1} - mean)`` — symmetric in v, so a *linear*
    Granger test has little power although X really causes Y.

    Example:
        >>> nonlinear_series(100, 0.8, 1, "threshold", seed=0).true_x_causes_y
        True
    """
    _check_common(length, lag, noise)
    _check_choice("kind", kind, NONLINEAR_KINDS)
    params = dict(
        length=length,
        coupling=coupling,
        lag=lag,
        kind=kind,
        ar=ar,
        noise=noise,
        burn_in=burn_in,
        seed=seed,
    )
    return _driven_run(
        "nonlinear",
        params,
        lambda rng, total: _ar1(rng, total, ar, noise),
        lambda x: _nonlinearity(kind, x),
    )


def hidden_driver_series(
    length: int,
    coupling: float,
    lag: int,
    ar: float = 0.5,
    noise: float = 1.0,
    driver_ar: float = 0.0,
    burn_in: int = DEFAULT_BURN_IN,
    *,
    seed: int,
) -> Series:
    """Hidden Z drives X at lag 1 and Y at lag ``lag + 1``; X does not cause Y.

    ``x_t = c*z_{t-1} + e``, ``y_t = ar*y_{t-1} + c*z_{t-lag-1} + e``, so ``x_{t-lag}``
    carries ``z_{t-lag-1}`` and X's past predicts Y: Granger "sees" X -> Y. Z itself is never
    returned (``params["hidden_driver"]`` only flags that there was one). With the default
    white-noise driver (``driver_ar=0``) Y's past carries nothing about X's future.

    Example:
        >>> s = hidden_driver_series(100, 0.8, 1, seed=0)
        >>> s.true_x_causes_y, s.params["hidden_driver"]
        (False, True)
    """
    _check_common(length, lag, noise)
    for name, val in (("ar", ar), ("driver_ar", driver_ar)):
        _check_below_one(name, val)
    rng = np.random.default_rng(seed)
    total = length + burn_in + lag + 1
    z = _ar1(rng, total, driver_ar, noise)
    x = _respond(rng, z, 0.0, coupling, 1, noise)
    y = _respond(rng, z, ar, coupling, lag + 1, noise)
    params = dict(
        length=length,
        coupling=coupling,
        lag=lag,
        ar=ar,
        noise=noise,
        driver_ar=driver_ar,
        burn_in=burn_in,
        seed=seed,
        hidden_driver=True,
    )
    return _keep_last("hidden_driver", x, y, params, False, False)


def feedback_series(
    length: int,
    coupling: float,
    lag: int,
    coupling_yx: float | None = None,
    ar: float = 0.5,
    noise: float = 1.0,
    burn_in: int = DEFAULT_BURN_IN,
    *,
    seed: int,
) -> Series:
    """Feedback loop: X -> Y with ``coupling`` and Y -> X with ``coupling_yx`` (default same).

    Example:
        >>> s = feedback_series(100, 0.3, 1, seed=0)
        >>> s.true_x_causes_y and s.true_y_causes_x
        True
    """
    _check_common(length, lag, noise)
    c_yx = coupling if coupling_yx is None else coupling_yx
    params = dict(
        length=length,
        coupling=coupling,
        coupling_yx=c_yx,
        lag=lag,
        ar=ar,
        noise=noise,
        burn_in=burn_in,
        seed=seed,
    )
    return _var_run("feedback", coupling, c_yx, params)


def random_walk_series(
    length: int,
    coupling: float,
    lag: int = 1,
    noise: float = 1.0,
    *,
    seed: int,
) -> Series:
    """Two random walks (non-stationary). ``dy_t = c*dx_{t-lag} + e``, ``dx_t = e``.

    ``coupling == 0`` gives two independent walks (no link); levels-based Granger tests
    report spurious links on them.

    Example:
        >>> random_walk_series(100, 0.0, seed=2).true_x_causes_y
        False
    """
    _check_common(length, lag, noise)
    rng = np.random.default_rng(seed)
    dx = rng.normal(0.0, noise, length + lag)
    dy = rng.normal(0.0, noise, length + lag)
    dy[lag:] += coupling * dx[:-lag]
    params = dict(length=length, coupling=coupling, lag=lag, noise=noise, seed=seed)
    return _keep_last("random_walk", np.cumsum(dx), np.cumsum(dy), params, coupling != 0, False)


def intervened_series(
    length: int,
    coupling: float,
    lag: int,
    ar: float = 0.5,
    noise: float = 1.0,
    burn_in: int = DEFAULT_BURN_IN,
    *,
    seed: int,
) -> Series:
    """Experimenter-set X: i.i.d. N(0, 1) draws (no own dynamics, no feedback from Y).

    ``y_t = ar*y_{t-1} + c*x_{t-lag} + e``.

    Example:
        >>> intervened_series(100, 0.5, 2, seed=0).params["intervened"]
        True
    """
    _check_common(length, lag, noise)
    params = dict(
        length=length,
        coupling=coupling,
        lag=lag,
        ar=ar,
        noise=noise,
        burn_in=burn_in,
        seed=seed,
        intervened=True,
    )
    return _driven_run("intervened", params, lambda rng, total: rng.normal(0.0, 1.0, total))


# --------------------------------------------------------------------------- dispatcher

CONDITIONS: dict[str, Callable[..., Series]] = {
    "var": var_series,
    "nonlinear": nonlinear_series,
    "hidden_driver": hidden_driver_series,
    "feedback": feedback_series,
    "random_walk": random_walk_series,
    "intervened": intervened_series,
}
"""Condition name -> generator. Each generator sets ``Series.condition`` to its key."""


def make_series(condition: str, **params: Any) -> Series:
    """Build a series for a named condition (see :data:`CONDITIONS`).

    Unknown conditions or parameters raise ``ValueError`` naming the offending value.

    Example:
        >>> make_series("random_walk", length=50, coupling=0.0, seed=1).condition
        'random_walk'
    """
    if condition not in CONDITIONS:
        raise ValueError(
            f"unknown condition {condition!r}; allowed: {', '.join(sorted(CONDITIONS))}"
        )
    fn = CONDITIONS[condition]
    accepted = set(inspect.signature(fn).parameters)
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {unknown} for condition {condition!r}; "
            f"accepted: {', '.join(sorted(accepted))}"
        )
    if "seed" not in params:
        raise ValueError(f"condition {condition!r} needs an explicit integer 'seed'")
    return fn(**params)
