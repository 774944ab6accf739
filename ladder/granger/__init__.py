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

Names load lazily (PEP 562): importing ``ladder.commands.granger`` does not pull in
statsmodels, and nothing here imports torch until a language model is used.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "CONDITIONS": "series",
    "Series": "series",
    "feedback_series": "series",
    "hidden_driver_series": "series",
    "intervened_series": "series",
    "make_series": "series",
    "nonlinear_series": "series",
    "random_walk_series": "series",
    "validate_series": "series",
    "var_series": "series",
    "FTestResult": "classical",
    "GrangerResult": "classical",
    "classical_verdicts": "classical",
    "ftest_fast": "classical",
    "ftest_fast_batch": "classical",
    "gaussian_te": "classical",
    "granger_test": "classical",
    "make_stationary": "classical",
    "select_lag": "classical",
    "var_causality": "classical",
    "Scale": "serialize",
    "Serialized": "serialize",
    "parse_serialized": "serialize",
    "serialize": "serialize",
    "HFScorer": "model_side",
    "LinearGaussianScorer": "model_side",
    "Scorer": "model_side",
    "hf_scorer": "model_side",
    "model_te": "model_side",
    "prequential_logprobs": "model_side",
    "surrogate_p_value": "model_side",
    "surrogates": "model_side",
    "cohen_kappa": "compare",
    "compare_cells": "compare",
    "roc_auc": "compare",
    "summarize_records": "compare",
    "verbal_p_yes": "compare",
    "verbal_prompt": "compare",
    "GridSpec": "grid",
    "load_grid": "grid",
    "parse_grid": "grid",
    "make_backend": "probe",
    "read_records": "probe",
    "run_granger": "probe",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ladder.granger' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"ladder.granger.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
