"""Population (true-process) Gaussian transfer entropy of the linear conditions, computed
exactly from their impulse responses, and the coupling that matches a target TE.

Every linear condition of :mod:`ladder.granger.series` is a linear filter of independent
Gaussian white-noise sources, so its auto- and cross-covariances follow from the impulse
responses (truncated where they have decayed below 1e-14). For ``p`` lags,

    TE_p = ½ ln( Var(y_t | y_{t-1..t-p}) / Var(y_t | y_{t-1..t-p}, x_{t-1..t-p}) )

nats per step, by Gaussian conditioning on the exact covariance matrix; ``TE_pop`` is
``TE_p`` at ``p = POPULATION_LAGS`` (30), where it has converged for every grid condition
(the restricted regression of an ARMA series needs many lags; the full one rarely does).
It is what a consistent Granger estimate tends to as the series grows. Random walks are
described after one difference (the series the probes score). ``nonlinear`` has no closed
form here (``None``).

Example:
    >>> round(population_te("var", {"coupling": 0.0, "lag": 1}), 12)
    0.0
    >>> te = population_te("hidden_driver", {"coupling": 0.9, "lag": 1})
    >>> c = match_coupling(te, "var", {"lag": 1})
    >>> abs(population_te("var", {"coupling": c, "lag": 1}) / te - 1) < 1e-6
    True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from scipy.optimize import brentq

from ladder.granger.series import check_stable

__all__ = [
    "LINEAR_CONDITIONS",
    "POPULATION_LAGS",
    "match_coupling",
    "population_te",
    "te_at_lags",
]

POPULATION_LAGS = 30
_HORIZON = 4000  # impulse-response length; every stable grid process has decayed by then
_DEFAULTS = {"ar": 0.5, "noise": 1.0, "driver_ar": 0.0, "direction": "x->y"}


def _var_system(p: Mapping[str, Any], c_xy: float, c_yx: float) -> Callable[..., Any]:
    """x_t = ar x_{t-1} + c_yx y_{t-L} + ex;  y_t = ar y_{t-1} + c_xy x_{t-L} + ey."""
    ar, lag = p["ar"], p["lag"]

    def run(ex: np.ndarray, ey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = np.zeros(ex.size), np.zeros(ex.size)
        for t in range(ex.size):
            x[t] = ex[t] + (ar * x[t - 1] if t else 0.0) + (c_yx * y[t - lag] if t >= lag else 0)
            y[t] = ey[t] + (ar * y[t - 1] if t else 0.0) + (c_xy * x[t - lag] if t >= lag else 0)
        return x, y

    return run


def _hidden_system(p: Mapping[str, Any]) -> Callable[..., Any]:
    """z_t = d z_{t-1} + ez;  x_t = c z_{t-1} + ex;  y_t = ar y_{t-1} + c z_{t-L-1} + ey."""
    ar, lag, c, d = p["ar"], p["lag"], p["coupling"], p["driver_ar"]

    def run(ex: np.ndarray, ey: np.ndarray, ez: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = np.zeros(ex.size)
        for t in range(ex.size):
            z[t] = ez[t] + (d * z[t - 1] if t else 0.0)
        x = ex + c * np.concatenate([[0.0], z[:-1]])
        drive = c * np.concatenate([np.zeros(lag + 1), z[: -lag - 1]])
        y = np.zeros(ex.size)
        for t in range(ex.size):
            y[t] = ey[t] + drive[t] + (ar * y[t - 1] if t else 0.0)
        return x, y

    return run


def _driven_system(p: Mapping[str, Any]) -> Callable[..., Any]:
    """x_t = ex (i.i.d.);  y_t = ar y_{t-1} + c x_{t-L} + ey (intervened; differenced walks
    have ar = 0)."""
    ar, lag, c = p["ar"], p["lag"], p["coupling"]

    def run(ex: np.ndarray, ey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        drive = c * np.concatenate([np.zeros(lag), ex[:-lag]])
        y = np.zeros(ex.size)
        for t in range(ex.size):
            y[t] = ey[t] + drive[t] + (ar * y[t - 1] if t else 0.0)
        return ex.copy(), y

    return run


def _system(condition: str, p: dict[str, Any]) -> tuple[Callable[..., Any], list[float]]:
    """The linear filter of ``condition`` and the standard deviation of each noise source."""
    s = p["noise"]
    if condition in ("var", "feedback"):
        c = p["coupling"]
        if condition == "var":
            c_xy = c if p["direction"] in ("x->y", "both") else 0.0
            c_yx = c if p["direction"] in ("y->x", "both") else 0.0
        else:
            c_xy, c_yx = c, (c if p.get("coupling_yx") is None else p["coupling_yx"])
        check_stable(p["ar"], c_xy, c_yx, p["lag"])  # an explosive VAR has no population TE
        return _var_system(p, c_xy, c_yx), [s, s]
    if condition == "hidden_driver":
        return _hidden_system(p), [s, s, s]
    if condition == "intervened":
        return _driven_system(p), [1.0, s]
    if condition == "random_walk":  # after one difference: dx = ex, dy = c dx_{t-L} + ey
        return _driven_system({**p, "ar": 0.0}), [s, s]
    raise ValueError(
        f"no population TE for condition {condition!r}; allowed: {', '.join(LINEAR_CONDITIONS)}"
    )


LINEAR_CONDITIONS: tuple[str, ...] = (
    "var",
    "feedback",
    "hidden_driver",
    "intervened",
    "random_walk",
)


def _covariances(condition: str, params: Mapping[str, Any], max_lag: int) -> np.ndarray:
    """``G[k] = E[v_t v_{t-k}^T]`` for ``v = (x, y)``, ``k = 0..max_lag``, shape (K, 2, 2)."""
    p = {**_DEFAULTS, **dict(params)}
    run, sds = _system(condition, p)
    G = np.zeros((max_lag + 1, 2, 2))
    for i, sd in enumerate(sds):
        impulses = [np.zeros(_HORIZON) for _ in sds]
        impulses[i][0] = sd
        h = np.stack(run(*impulses))  # (2, H): response of (x, y) to this source
        for k in range(max_lag + 1):
            G[k] += h[:, k:] @ h[:, : _HORIZON - k].T
    return G


def te_at_lags(condition: str, params: Mapping[str, Any], lags: int) -> float:
    """``TE_p`` X -> Y of the process (module docstring) with ``p = lags``, in nats/step.

    Example:
        >>> te_at_lags("intervened", {"coupling": 0.5, "lag": 1, "ar": 0.0}, 1)  # ½ln(1.25)
        0.11157177565710...
    """
    if isinstance(lags, bool) or int(lags) != lags or lags < 1:
        raise ValueError(f"lags must be an integer >= 1, got {lags!r}")
    G = _covariances(condition, params, lags)

    def cov(a: int, i: int, b: int, j: int) -> float:
        """Cov(v_a at t-i, v_b at t-j)."""
        return float(G[j - i][a, b]) if j >= i else float(G[i - j][b, a])

    own = [(1, i) for i in range(1, lags + 1)]
    other = [(0, i) for i in range(1, lags + 1)]

    def residual(cond: list[tuple[int, int]]) -> float:
        S = np.array([[cov(a, i, b, j) for b, j in cond] for a, i in cond])
        c = np.array([cov(1, 0, b, j) for b, j in cond])
        return cov(1, 0, 1, 0) - float(c @ np.linalg.solve(S, c))

    return 0.5 * math.log(residual(own) / residual(own + other))


def population_te(condition: str, params: Mapping[str, Any]) -> float | None:
    """``TE_pop`` X -> Y (``TE_p`` at :data:`POPULATION_LAGS`), or ``None`` for a condition
    without a linear closed form (``nonlinear``).

    Example:
        >>> population_te("nonlinear", {"coupling": 0.5, "lag": 1}) is None
        True
    """
    if condition not in LINEAR_CONDITIONS:
        return None
    return te_at_lags(condition, params, POPULATION_LAGS)


def match_coupling(
    target_te: float,
    condition: str = "var",
    params: Mapping[str, Any] | None = None,
    bracket: tuple[float, float] = (1e-4, 0.99),
) -> float:
    """The coupling in ``bracket`` whose ``TE_pop`` equals ``target_te`` (brentq; TE_pop
    rises with the coupling on these conditions).

    Example:
        >>> round(match_coupling(0.5 * math.log(1.25), "intervened", {"lag": 1, "ar": 0.0}), 6)
        0.5
    """
    base = dict(params or {})

    def gap(c: float) -> float:
        return float(population_te(condition, {**base, "coupling": c})) - target_te

    lo, hi = bracket
    for _ in range(60):  # pull the upper end inside the stable region (explosive VARs raise)
        try:
            gap(hi)
            break
        except ValueError:
            hi = lo + 0.95 * (hi - lo)
    if gap(lo) > 0 or gap(hi) < 0:
        raise ValueError(
            f"target TE {target_te!r} is outside what couplings {lo}..{hi} of {condition} give"
        )
    return float(brentq(gap, lo, hi, xtol=1e-10))
