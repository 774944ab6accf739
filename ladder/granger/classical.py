"""Classical Granger tests (statsmodels) and the Gaussian transfer entropy.

Conventions: ``granger_test(x, y, lag)`` asks whether X's past improves the prediction of Y
beyond Y's own past (X -> Y). The two nested OLS regressions, over ``t = lag .. n-1``, are

* restricted: ``y_t ~ const + y_{t-1..t-lag}``
* full:       ``y_t ~ const + y_{t-1..t-lag} + x_{t-1..t-lag}``

and ``TE_gauss = 0.5 * ln(SSR_restricted / SSR_full)`` nats per step, so statsmodels'
likelihood-ratio statistic is ``lrtest = 2 * n_obs * TE_gauss`` with ``n_obs = n - lag``.

Example:
    >>> from ladder.granger.series import var_series
    >>> s = var_series(300, 0.5, 1, "x->y", seed=0)
    >>> granger_test(s.x, s.y, 1).p_value < 1e-6
    True
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

from ladder.granger.series import Series, validate_series

__all__ = [
    "DEFAULT_MAXLAGS",
    "FTestResult",
    "GrangerResult",
    "adf_pvalue",
    "check_lag",
    "classical_verdicts",
    "ftest_fast",
    "ftest_fast_batch",
    "gaussian_te",
    "granger_test",
    "kpss_pvalue",
    "make_stationary",
    "max_feasible_lag",
    "select_lag",
    "unit_root_decision",
    "var_causality",
]

DEFAULT_MAXLAGS = 8
_ICS = ("aic", "bic", "hqic", "fpe")
_GRANGER_DIRECTIONS = ("x->y", "y->x")


# --------------------------------------------------------------------------- helpers


def max_feasible_lag(n: int) -> int:
    """Largest lag statsmodels' Granger test accepts for length ``n`` (needs n > 3*lag + 1).

    Example:
        >>> max_feasible_lag(10)
        2
    """
    return max(0, (n - 2) // 3)


def check_lag(lag: int, n: int) -> int:
    """Return ``lag`` as int or raise ``ValueError`` naming lag and length.

    Example:
        >>> check_lag(5, 12)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: lag 5 is too long for a series of length 12: ... (longest usable lag: 3)
    """
    if isinstance(lag, bool) or int(lag) != lag or lag < 1:
        raise ValueError(f"lag must be an integer >= 1, got {lag!r}")
    lag = int(lag)
    if n <= 3 * lag + 1:
        raise ValueError(
            f"lag {lag} is too long for a series of length {n}: the Granger regressions need "
            f"length > 3*lag + 1 = {3 * lag + 1} (longest usable lag: {max_feasible_lag(n)})"
        )
    return lag


def _json_float(v: float | None) -> float | None:
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def json_safe(obj: Any) -> Any:
    """``obj`` with numpy scalars made plain and non-finite floats made None (for JSON)."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return _json_float(float(obj))
    return obj


# --------------------------------------------------------------------------- statsmodels test


@dataclass(frozen=True)
class GrangerResult:
    """One Granger F test (statsmodels ``ssr_ftest``) with its Gaussian transfer entropy.

    Numbers are NaN when ``testable`` is False; ``reason`` then says why.

    Example:
        >>> r = GrangerResult("x->y", 1, float("nan"), float("nan"), 1, 0, float("nan"),
        ...                   float("nan"), float("nan"), 0, False, "perfect fit")
        >>> r.to_dict()["F"] is None
        True
    """

    direction: str
    lag: int
    F: float
    p_value: float
    df_num: int
    df_den: int
    ssr_restricted: float
    ssr_full: float
    te_gauss: float
    n_obs: int
    testable: bool
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (NaN -> None)."""
        return json_safe(asdict(self))


def _untestable(direction: str, lag: int, n: int, reason: str) -> GrangerResult:
    nan = float("nan")
    return GrangerResult(
        direction,
        lag,
        nan,
        nan,
        lag,
        max(0, n - 3 * lag - 1),
        nan,
        nan,
        nan,
        max(0, n - lag),
        False,
        reason,
    )


def granger_test(x: Any, y: Any, lag: int, direction: str = "x->y") -> GrangerResult:
    """statsmodels' Granger F test of X -> Y (or Y -> X with ``direction="y->x"``) at one lag.

    Bad input (NaN/inf, constant series, unequal lengths, lag too long) raises
    ``ValueError``; degenerate regressions (statsmodels' ``InfeasibleTestError``, perfect fit,
    singular design) give ``testable=False`` with a ``reason`` instead of raising.

    Example:
        >>> from ladder.granger.series import var_series
        >>> s = var_series(200, 0.0, 1, "none", seed=4)
        >>> r = granger_test(s.x, s.y, 2)
        >>> r.testable, r.df_num, r.df_den, r.n_obs
        (True, 2, 193, 198)
    """
    # statsmodels is imported here, not at module level: it costs ~1 s at CLI start-up
    from statsmodels.tools.sm_exceptions import InfeasibleTestError
    from statsmodels.tsa.stattools import grangercausalitytests

    if direction not in _GRANGER_DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r}; allowed: x->y, y->x")
    xa, ya = validate_series(x, y)
    n = xa.shape[0]
    lag = check_lag(lag, n)
    cause, effect = (xa, ya) if direction == "x->y" else (ya, xa)
    try:
        out = grangercausalitytests(np.column_stack([effect, cause]), [lag])
    except InfeasibleTestError as exc:
        return _untestable(direction, lag, n, f"InfeasibleTestError: {exc}")
    except np.linalg.LinAlgError as exc:
        return _untestable(direction, lag, n, f"singular regression: {exc}")
    tests, (res_r, res_f, _) = out[lag]
    f_stat, p_value, df_den, df_num = tests["ssr_ftest"]
    ssr_r, ssr_f = float(res_r.ssr), float(res_f.ssr)
    if not (np.isfinite(f_stat) and np.isfinite(p_value) and ssr_f > 0):
        return _untestable(direction, lag, n, "non-finite F statistic (degenerate regression)")
    return GrangerResult(
        direction=direction,
        lag=lag,
        F=float(f_stat),
        p_value=float(p_value),
        df_num=int(df_num),
        df_den=int(df_den),
        ssr_restricted=ssr_r,
        ssr_full=ssr_f,
        te_gauss=0.5 * math.log(ssr_r / ssr_f),
        n_obs=int(res_f.nobs),
        testable=True,
        reason=None,
    )


# --------------------------------------------------------------------------- fast numpy test


@dataclass(frozen=True)
class FTestResult:
    """Result of :func:`ftest_fast_batch`; fields are arrays of shape ``(B,)``.

    ``F``/``p_value``/SSRs are NaN for rows whose design is rank deficient or fits perfectly
    (``testable`` False there).
    """

    F: np.ndarray
    p_value: np.ndarray
    ssr_restricted: np.ndarray
    ssr_full: np.ndarray
    testable: np.ndarray
    lag: int
    df_num: int
    df_den: int
    n_obs: int

    @property
    def te_gauss(self) -> np.ndarray:
        """``0.5 * ln(SSR_r / SSR_f)`` per row (nats per step)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return 0.5 * np.log(self.ssr_restricted / self.ssr_full)


def _lag_design(X: np.ndarray, Y: np.ndarray, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Target ``(B, n)`` and design ``(B, n, 1 + 2*lag)`` = [const, y lags, x lags]."""
    wy = np.lib.stride_tricks.sliding_window_view(Y, lag + 1, axis=1)  # (B, n, lag+1)
    wx = np.lib.stride_tricks.sliding_window_view(X, lag + 1, axis=1)
    target = wy[..., lag]
    own = wy[..., lag - 1 :: -1][..., :lag]  # y_{t-1}, ..., y_{t-lag}
    other = wx[..., lag - 1 :: -1][..., :lag]
    const = np.ones((*target.shape, 1))
    return target, np.concatenate([const, own, other], axis=2)


def ftest_fast_batch(X: Any, Y: Any, lag: int) -> FTestResult:
    """Vectorised Granger F test of X -> Y for each row of 2-D arrays ``X``, ``Y`` (B, n).

    Same regressions and statistic as statsmodels' ``ssr_ftest``, done with one batched QR of
    the full design: the restricted design is its leading columns, so
    ``SSR_r - SSR_f = ||(Q^T y)[restricted:]||^2`` without cancellation.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> X, Y = rng.standard_normal((2, 50, 100))
        >>> r = ftest_fast_batch(X, Y, 2)
        >>> r.p_value.shape, r.df_num, r.df_den
        ((50,), 2, 93)
    """
    Xa = np.asarray(X, dtype=np.float64)
    Ya = np.asarray(Y, dtype=np.float64)
    if Xa.ndim != 2 or Xa.shape != Ya.shape:
        raise ValueError(
            f"X and Y must be 2-D arrays of the same shape, got {Xa.shape} and {Ya.shape}"
        )
    for name, arr in (("X", Xa), ("Y", Ya)):
        if not np.isfinite(arr).all():
            row, col = np.argwhere(~np.isfinite(arr))[0]
            raise ValueError(f"{name} contains a non-finite value at row {row}, index {col}")
    n_total = Xa.shape[1]
    lag = check_lag(lag, n_total)
    target, design = _lag_design(Xa, Ya, lag)
    n_obs, k = design.shape[1], design.shape[2]
    k_r = 1 + lag
    df_den = n_obs - k
    q, r = np.linalg.qr(design)
    qty = np.einsum("bnk,bn->bk", q, target)
    resid = target - np.einsum("bnk,bk->bn", q, qty)
    ssr_f = np.einsum("bn,bn->b", resid, resid)
    extra = np.einsum("bk,bk->b", qty[:, k_r:], qty[:, k_r:])
    ssr_r = ssr_f + extra
    centred = target - target.mean(axis=1, keepdims=True)
    tss = np.einsum("bn,bn->b", centred, centred)
    diag = np.abs(np.diagonal(r, axis1=1, axis2=2))
    scale = np.linalg.norm(design, axis=1)  # column norms, (B, k)
    full_rank = np.all(diag > 1e-10 * np.maximum(scale, 1e-300), axis=1)
    ok = full_rank & (tss > 0) & (ssr_f > np.finfo(float).eps * tss)
    with np.errstate(divide="ignore", invalid="ignore"):
        f_stat = np.where(ok, extra / lag / (ssr_f / df_den), np.nan)
    p_value = np.where(ok, stats.f.sf(f_stat, lag, df_den), np.nan)
    return FTestResult(
        F=f_stat,
        p_value=p_value,
        ssr_restricted=np.where(ok, ssr_r, np.nan),
        ssr_full=np.where(ok, ssr_f, np.nan),
        testable=ok,
        lag=lag,
        df_num=lag,
        df_den=df_den,
        n_obs=n_obs,
    )


def ftest_fast(x: Any, y: Any, lag: int) -> GrangerResult:
    """Single-series version of :func:`ftest_fast_batch` (X -> Y), as a :class:`GrangerResult`.

    Example:
        >>> from ladder.granger.series import var_series
        >>> s = var_series(200, 0.4, 1, "x->y", seed=1)
        >>> abs(ftest_fast(s.x, s.y, 1).p_value - granger_test(s.x, s.y, 1).p_value) < 1e-8
        True
    """
    xa, ya = validate_series(x, y)
    res = ftest_fast_batch(xa[None, :], ya[None, :], lag)
    if not bool(res.testable[0]):
        return _untestable("x->y", res.lag, xa.shape[0], "rank-deficient design or perfect fit")
    return GrangerResult(
        direction="x->y",
        lag=res.lag,
        F=float(res.F[0]),
        p_value=float(res.p_value[0]),
        df_num=res.df_num,
        df_den=res.df_den,
        ssr_restricted=float(res.ssr_restricted[0]),
        ssr_full=float(res.ssr_full[0]),
        te_gauss=float(res.te_gauss[0]),
        n_obs=res.n_obs,
        testable=True,
        reason=None,
    )


def gaussian_te(x: Any, y: Any, lag: int) -> float:
    """Gaussian transfer entropy X -> Y: ``0.5 * ln(SSR_restricted / SSR_full)`` nats/step.

    Same two OLS regressions as the Granger test; NaN when they are degenerate.

    Example:
        >>> from ladder.granger.series import var_series
        >>> s = var_series(2000, 0.5, 1, "x->y", seed=0)
        >>> 0.05 < gaussian_te(s.x, s.y, 1) < 0.2 and gaussian_te(s.y, s.x, 1) < 0.01
        True
    """
    return ftest_fast(x, y, lag).te_gauss


# --------------------------------------------------------------------------- preprocessing


def adf_pvalue(series: Any) -> float:
    """ADF unit-root p-value (``adfuller``, constant, AIC lag choice); large => unit root.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> adf_pvalue(rng.standard_normal(200)) < 0.01
        True
    """
    from statsmodels.tsa.stattools import adfuller

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # 0.15: tuple-vs-object return notice
        res = adfuller(np.asarray(series, dtype=np.float64), autolag="AIC")
    return float(res.pvalue if hasattr(res, "pvalue") else res[1])


def make_stationary(
    x: Any, y: Any, alpha: float = 0.05, max_diff: int = 2
) -> tuple[np.ndarray, np.ndarray, int]:
    """Difference x and y jointly while either has a unit root (ADF p > ``alpha``).

    At most ``max_diff`` differences; both series always get the same number. Returns
    ``(x, y, n_differences)``. Raises ``ValueError`` if differencing leaves a constant series.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x, y = rng.standard_normal((2, 300)).cumsum(axis=1)
        >>> _, _, d = make_stationary(x, y)
        >>> d
        1
    """
    xa, ya = validate_series(x, y)
    d = 0
    while d < max_diff and max(adf_pvalue(xa), adf_pvalue(ya)) > alpha:
        xa, ya = np.diff(xa), np.diff(ya)
        d += 1
        validate_series(xa, ya)  # e.g. a linear trend becomes constant
    return xa, ya, d


def kpss_pvalue(series: Any) -> float:
    """KPSS level-stationarity p-value (``kpss``, constant, automatic bandwidth); small =>
    not stationary. statsmodels reports p only within [0.01, 0.1] (outside: the bound).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> kpss_pvalue(rng.standard_normal(300).cumsum()) <= 0.01
        True
    """
    from statsmodels.tools.sm_exceptions import InterpolationWarning
    from statsmodels.tsa.stattools import kpss

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InterpolationWarning)
        warnings.simplefilter("ignore", FutureWarning)  # 0.15: tuple-vs-object return notice
        return float(kpss(np.asarray(series, dtype=np.float64), regression="c", nlags="auto")[1])


UNIT_ROOT_RULES: tuple[str, ...] = ("known", "adf_kpss")
MIN_UNIT_ROOT_TEST_LENGTH = 200
"""Shortest series the ``adf_kpss`` rule is used on (ADF over-differences at n = 50)."""


def unit_root_decision(series: Series, rule: str = "known", alpha: float = 0.05) -> dict[str, Any]:
    """How many differences a series gets, decided once, before any test or model sees it.

    ``known``: one difference exactly when the generator made random walks (the truth of
    the construction; sound at any length). ``adf_kpss``: one difference when ADF cannot
    reject a unit root (p > ``alpha``) in x or y, or KPSS rejects stationarity (p <
    ``alpha``) in x or y — a differenced stationary series keeps every null valid, a
    random walk left in levels does not, so doubt resolves towards differencing (on the
    quick grid's stationary var cells it differences about 15% of series, which is why
    ``known`` is the default). The ``adf_kpss`` record keeps both p-values.

    Example:
        >>> from ladder.granger.series import random_walk_series
        >>> rw = random_walk_series(200, 0.0, seed=0)
        >>> unit_root_decision(rw)["n_diff"], unit_root_decision(rw, "adf_kpss")["n_diff"]
        (1, 1)
    """
    if rule not in UNIT_ROOT_RULES:
        raise ValueError(f"unknown unit_root rule {rule!r}; allowed: {', '.join(UNIT_ROOT_RULES)}")
    if rule == "known":  # no test: ADF with its lag search costs more than the stand-in
        return {"rule": rule, "n_diff": int(series.condition == "random_walk")}
    adf = max(adf_pvalue(series.x), adf_pvalue(series.y))
    kp = min(kpss_pvalue(series.x), kpss_pvalue(series.y))
    return {
        "rule": rule,
        "n_diff": int(adf > alpha or kp < alpha),
        "adf_p_max": adf,
        "kpss_p_min": kp,
    }


def select_lag(x: Any, y: Any, maxlags: int = DEFAULT_MAXLAGS, ic: str = "bic") -> int:
    """Lag chosen by ``VAR(...).select_order(maxlags)`` under ``ic`` (default BIC), >= 1.

    ``maxlags`` is capped so that the largest VAR can be estimated (with at least 10 residual
    degrees of freedom per equation when the length allows) and the chosen lag is always
    feasible for :func:`granger_test`.

    Example:
        >>> from ladder.granger.series import var_series
        >>> s = var_series(500, 0.5, 3, "x->y", seed=0)
        >>> select_lag(s.x, s.y)
        3
    """
    from statsmodels.tsa.api import VAR

    if ic not in _ICS:
        raise ValueError(f"unknown information criterion {ic!r}; allowed: {', '.join(_ICS)}")
    xa, ya = validate_series(x, y)
    n = xa.shape[0]
    if int(maxlags) < 1:
        raise ValueError(f"maxlags must be >= 1, got {maxlags!r}")
    # VAR.select_order needs maxlags <= (n - 3) // 3; we also keep >= 10 residual degrees of
    # freedom per equation in the largest model when the series allows it.
    cap = min(int(maxlags), max(1, (n - 11) // 3), max_feasible_lag(n), (n - 3) // 3)
    if cap < 1:
        raise ValueError(f"series of length {n} is too short to choose a lag")
    order = VAR(np.column_stack([xa, ya])).select_order(cap).selected_orders[ic]
    return max(1, int(order))


# --------------------------------------------------------------------------- VAR systems


def _indices(which: str | Sequence[str], names: list[str], role: str) -> list[int]:
    items = [which] if isinstance(which, str) else list(which)
    if not items:
        raise ValueError(f"{role} must name at least one variable")
    for item in items:
        if item not in names:
            raise ValueError(f"unknown {role} variable {item!r}; names: {', '.join(names)}")
    return [names.index(item) for item in items]


def var_causality(
    data: Any,
    names: Sequence[str],
    caused: str | Sequence[str],
    causing: str | Sequence[str],
    lag: int,
) -> dict[str, Any]:
    """System Granger F test in a VAR(lag): do ``causing`` variables help predict ``caused``?

    Uses ``VAR(data).fit(lag).test_causality(caused=, causing=, kind="f")``. Returns a
    JSON-safe dict; a singular fit gives ``testable`` False instead of raising.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> r = var_causality(rng.standard_normal((200, 3)), ["a", "b", "c"], "a", ["b", "c"], 1)
        >>> r["df_num"], r["testable"]
        (2, True)
    """
    from statsmodels.tools.sm_exceptions import InfeasibleTestError
    from statsmodels.tsa.api import VAR

    arr, names, i_caused, i_causing = _var_inputs(data, names, caused, causing, lag)
    out: dict[str, Any] = {
        "caused": [names[i] for i in i_caused],
        "causing": [names[i] for i in i_causing],
        "lag": int(lag),
    }
    try:
        res = VAR(arr).fit(int(lag)).test_causality(caused=i_caused, causing=i_causing, kind="f")
    except (np.linalg.LinAlgError, InfeasibleTestError, ValueError) as exc:
        out.update(
            F=None,
            p_value=None,
            df_num=None,
            df_den=None,
            testable=False,
            reason=f"{type(exc).__name__}: {exc}",
        )
        return out
    f_stat, p_value = float(res.test_statistic), float(res.pvalue)
    testable = math.isfinite(f_stat) and math.isfinite(p_value)
    out.update(
        F=_json_float(f_stat),
        p_value=_json_float(p_value),
        df_num=int(res.df[0]),
        df_den=int(res.df[1]),
        testable=testable,
        reason=None if testable else "non-finite F statistic",
    )
    return out


def _var_inputs(
    data: Any,
    names: Sequence[str],
    caused: str | Sequence[str],
    causing: str | Sequence[str],
    lag: int,
) -> tuple[np.ndarray, list[str], list[int], list[int]]:
    """Validate :func:`var_causality` arguments; return (array, names, caused, causing indices).

    Raises ValueError on a misshapen or non-finite array, repeated or unknown names,
    overlapping variable sets, or a lag that is not an integer >= 1 or is too long.
    """
    arr = np.asarray(data, dtype=np.float64)
    names = [str(n) for n in names]
    if arr.ndim != 2 or arr.shape[1] != len(names):
        raise ValueError(
            f"data must be 2-D with one column per name ({len(names)}), got shape {arr.shape}"
        )
    if len(set(names)) != len(names):
        raise ValueError(f"names must be unique, got {names}")
    if not np.isfinite(arr).all():
        row, col = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"data column {names[col]!r} has a non-finite value at index {row}")
    i_caused = _indices(caused, names, "caused")
    i_causing = _indices(causing, names, "causing")
    if set(i_caused) & set(i_causing):
        raise ValueError("caused and causing variables must not overlap")
    k = arr.shape[1]
    if isinstance(lag, bool) or int(lag) != lag or lag < 1:
        raise ValueError(f"lag must be an integer >= 1, got {lag!r}")
    if arr.shape[0] - lag <= k * lag + 1:
        raise ValueError(f"lag {lag} is too long for {k} variables and length {arr.shape[0]}")
    return arr, names, i_caused, i_causing


# --------------------------------------------------------------------------- pipeline


def classical_verdicts(
    series: Series, alpha: float = 0.05, maxlags: int = DEFAULT_MAXLAGS, preprocess: bool = True
) -> dict[str, Any]:
    """Whole classical pipeline on one series, as a JSON-serialisable dict.

    validate -> ADF + joint differencing -> lag by BIC -> Granger F test X->Y and Y->X (with
    Gaussian TE). ``preprocess=False`` skips the ADF step: the series was already made
    stationary (:func:`unit_root_decision`) and is tested as given (``n_diff`` 0). Invalid
    input data raise ``ValueError``; anything degenerate later on (constant after
    differencing, infeasible test) is reported with ``testable`` False.

    Example:
        >>> from ladder.granger.series import var_series
        >>> v = classical_verdicts(var_series(300, 0.5, 1, "x->y", seed=0))
        >>> v["verdict"], v["truth"]
        ({'x->y': True, 'y->x': False}, {'x->y': True, 'y->x': False})
    """
    validate_series(series.x, series.y)
    out: dict[str, Any] = {
        "condition": series.condition,
        "params": json_safe(series.params),
        "truth": {"x->y": series.true_x_causes_y, "y->x": series.true_y_causes_x},
        "alpha": float(alpha),
        "length": len(series),
        "n_diff": None,
        "lag": None,
        "tests": {},
        "verdict": {"x->y": None, "y->x": None},
        "te_gauss": {"x->y": None, "y->x": None},
        "testable": False,
        "reason": None,
    }
    try:
        if preprocess:
            x, y, d = make_stationary(series.x, series.y, alpha=alpha)
        else:
            x, y, d = series.x, series.y, 0
        out["n_diff"] = d
        lag = select_lag(x, y, maxlags=maxlags)
        out["lag"] = lag
    except (ValueError, np.linalg.LinAlgError) as exc:
        out["reason"] = f"preprocessing failed: {exc}"
        return out
    reasons = []
    for direction in _GRANGER_DIRECTIONS:
        res = granger_test(x, y, lag, direction=direction)
        out["tests"][direction] = res.to_dict()
        if res.testable:
            out["verdict"][direction] = bool(res.p_value < alpha)
            out["te_gauss"][direction] = _json_float(res.te_gauss)
        else:
            reasons.append(f"{direction}: {res.reason}")
    out["testable"] = not reasons
    out["reason"] = "; ".join(reasons) or None
    return out
