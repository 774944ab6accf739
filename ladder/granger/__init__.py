"""Granger probes: seeded series from known dynamic causal graphs, classical tests, the
model-implied transfer entropy (TE_M) with surrogate tests, and the comparison of both.

Example:
    >>> from ladder.granger import make_series, classical_verdicts
    >>> classical_verdicts(make_series("var", length=200, coupling=0.5, lag=1, seed=0))["lag"]
    1
    >>> from ladder.granger import LinearGaussianScorer, model_te
    >>> s = make_series("var", length=300, coupling=0.6, lag=1, seed=0)
    >>> model_te(LinearGaussianScorer(lag=1), s, n_surrogates=19)["p_value"]
    0.05
    >>> round(population_te("hidden_driver", {"coupling": 0.9, "lag": 1}), 4)
    0.1117

The submodules import statsmodels and torch only inside the functions that need them, so
importing this package pulls in neither until a test or a language model is used.
"""

from __future__ import annotations

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
    unit_root_decision,
    var_causality,
)
from ladder.granger.compare import (
    cell_inference,
    cohen_kappa,
    compare_cells,
    mean_interval,
    rate_interval,
    roc_auc,
    summarize_records,
    verbal_p_yes,
    verbal_prompt,
)
from ladder.granger.cost import estimate_run
from ladder.granger.grid import GridSpec, load_grid, parse_grid
from ladder.granger.model_side import (
    HFScorer,
    LinearGaussianScorer,
    Scorer,
    hf_scorer,
    model_te,
    prequential_logprobs,
    surrogate_p_value,
    surrogates,
    te_statistics,
    te_texts,
)
from ladder.granger.population import match_coupling, population_te, te_at_lags
from ladder.granger.probe import make_backend, read_records, run_granger
from ladder.granger.serialize import Scale, Serialized, parse_serialized, serialize
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
    "GridSpec",
    "HFScorer",
    "LinearGaussianScorer",
    "Scale",
    "Scorer",
    "Serialized",
    "Series",
    "cell_inference",
    "classical_verdicts",
    "cohen_kappa",
    "compare_cells",
    "estimate_run",
    "feedback_series",
    "ftest_fast",
    "ftest_fast_batch",
    "gaussian_te",
    "granger_test",
    "hf_scorer",
    "hidden_driver_series",
    "intervened_series",
    "load_grid",
    "make_backend",
    "make_series",
    "make_stationary",
    "match_coupling",
    "mean_interval",
    "model_te",
    "nonlinear_series",
    "parse_grid",
    "parse_serialized",
    "population_te",
    "prequential_logprobs",
    "random_walk_series",
    "rate_interval",
    "read_records",
    "roc_auc",
    "run_granger",
    "select_lag",
    "serialize",
    "summarize_records",
    "surrogate_p_value",
    "surrogates",
    "te_at_lags",
    "te_statistics",
    "te_texts",
    "unit_root_decision",
    "validate_series",
    "var_causality",
    "var_series",
    "verbal_p_yes",
    "verbal_prompt",
]
