"""Granger probes: seeded series from known dynamic causal graphs and classical tests.

Example:
    >>> from ladder.granger import make_series, classical_verdicts
    >>> classical_verdicts(make_series("var", length=200, coupling=0.5, lag=1, seed=0))["lag"]
    1
"""

from ladder.granger.classical import (
    FTestResult,
    GrangerResult,
    classical_verdicts,
    ftest_fast,
    ftest_fast_batch,
    gaussian_te,
    granger_test,
    make_stationary,
    select_lag,
    var_causality,
)
from ladder.granger.series import (
    CONDITIONS,
    Series,
    feedback_series,
    hidden_driver_series,
    intervened_series,
    make_series,
    nonlinear_series,
    random_walk_series,
    validate_series,
    var_series,
)

__all__ = [
    "CONDITIONS",
    "FTestResult",
    "GrangerResult",
    "Series",
    "classical_verdicts",
    "feedback_series",
    "ftest_fast",
    "ftest_fast_batch",
    "gaussian_te",
    "granger_test",
    "hidden_driver_series",
    "intervened_series",
    "make_series",
    "make_stationary",
    "nonlinear_series",
    "random_walk_series",
    "select_lag",
    "validate_series",
    "var_causality",
    "var_series",
]
