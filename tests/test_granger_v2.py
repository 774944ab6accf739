"""Granger probes v2 (issue 13): population TE and TE-matched cells, cell-level inference
held against scipy/statsmodels, the stand-in's coverage and false-positive rates on the
quick grid's cells, one unit-root decision shared by statsmodels and the model, two verbal
questions, the information-flow data, the dry-run estimate and the speed benchmark."""

from __future__ import annotations

import importlib.util
import json
import math
import time
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint
from statsmodels.tsa.stattools import grangercausalitytests

from ladder.granger.classical import unit_root_decision
from ladder.granger.compare import VERBAL_QUESTIONS, mean_interval, rate_interval, verbal_prompt
from ladder.granger.cost import estimate_run
from ladder.granger.grid import load_grid, parse_grid
from ladder.granger.model_side import HFScorer, span_positions, te_statistics, te_texts
from ladder.granger.population import match_coupling, population_te
from ladder.granger.probe import hf_backend, make_backend, prepared_series, run_granger
from ladder.granger.serialize import serialize
from ladder.granger.series import make_series
from ladder.harness.models.scoring import span_logprobs, span_token_positions

ROOT = Path(__file__).resolve().parent.parent
QUICK = load_grid("quick")


def _quick_cell(condition: str, coupling: float) -> dict:
    params = dict(QUICK.condition_params.get(condition, {}), coupling=coupling, lag=1)
    return params


# --------------------------------------------------------------------------- population TE


def test_te_matched_cells_of_the_quick_grid_agree_within_ten_percent() -> None:
    hidden = population_te("hidden_driver", _quick_cell("hidden_driver", 0.9))
    assert 0.0 in QUICK.couplings["var"] and 0.8 in QUICK.couplings["var"]
    for condition, coupling in [("var", 0.45), ("feedback", 0.45), ("intervened", 0.5)]:
        assert coupling in QUICK.couplings[condition]
        te = population_te(condition, _quick_cell(condition, coupling))
        assert abs(te / hidden - 1) < 0.10, (condition, te, hidden)
    # the matching coupling solves TE_pop(c) = TE_pop(hidden driver)
    c = match_coupling(hidden, "var", {"lag": 1})
    assert abs(c - 0.45) < 0.01


@pytest.mark.parametrize(
    "condition,coupling", [("var", 0.45), ("hidden_driver", 0.9), ("feedback", 0.45)]
)
def test_population_te_matches_statsmodels_on_a_long_series(condition, coupling) -> None:
    """TE_pop from the impulse responses vs ½ ln(SSR_r/SSR_f) of statsmodels' regressions
    at 8 lags on one series of 40,000 steps (sampling error ~0.004)."""
    s = make_series(condition, length=40_000, coupling=coupling, lag=1, seed=11)
    _, (res_r, res_f, _) = grangercausalitytests(np.column_stack([s.y, s.x]), [8])[8]
    sample = 0.5 * math.log(res_r.ssr / res_f.ssr)
    assert abs(sample - population_te(condition, {"coupling": coupling, "lag": 1})) < 0.012


# --------------------------------------------------------------------------- cell statistics


def test_mean_and_rate_intervals_match_scipy_and_statsmodels() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(0.05, 0.1, 40)
    block = mean_interval(values)
    lo, hi = stats.t.interval(0.95, 39, loc=values.mean(), scale=stats.sem(values))
    assert block["lo"] == pytest.approx(lo) and block["hi"] == pytest.approx(hi)
    assert block["p"] == pytest.approx(stats.ttest_1samp(values, 0).pvalue)
    r = rate_interval([True] * 7 + [False] * 43)
    ref = proportion_confint(7, 50, alpha=0.05, method="wilson")
    assert (r["lo"], r["hi"]) == pytest.approx(ref)


def test_step_gain_is_the_per_step_te_and_sums_to_te_m() -> None:
    rng = np.random.default_rng(1)
    ll = rng.normal(-2.0, 0.3, (5, 30))
    out = te_statistics(ll)
    assert np.mean(out["step_gain"]) == pytest.approx(out["te_m"], abs=1e-5)
    by_hand = ll[0] - ll[1:].mean(axis=0)
    assert out["step_gain"] == pytest.approx(list(by_hand), abs=1e-6)


# --------------------------------------------------------------------------- stand-in power


@pytest.fixture(scope="module")
def stand_in_run(tmp_path_factory):
    """The stand-in on quick-grid cells (50 series of length 200, the quick grid's own
    settings): two null cells (random walks included) and the TE-matched var cell."""
    data = {
        k: v
        for k, v in QUICK.to_dict().items()
        if k not in ("source", "sha256", "couplings", "conditions")
    }
    data.update(
        name="quick-subset",
        conditions=["var", "random_walk"],
        couplings={"var": [0.0, 0.45], "random_walk": [0.0]},
        verbal=False,
    )
    grid = parse_grid(data)
    assert grid.series_per_cell >= 50 and min(grid.lengths) >= 200
    out = tmp_path_factory.mktemp("stand-in") / "run"
    return grid, run_granger(make_backend("linear-oracle"), grid, out, progress=False)


def test_stand_in_interval_covers_te_pop_on_var_cells_and_zero_on_nulls(stand_in_run) -> None:
    _, results = stand_in_run
    for cell in results["cells"]:
        block = cell["oracle_te_m_cell"]
        if cell["coupling"] == 0.0:
            assert block["lo"] <= 0.0 <= block["hi"], cell["condition"]
            assert cell["te_m_verdict"] == "not distinguishable from 0"
        else:
            te_pop = population_te("var", {"coupling": cell["coupling"], "lag": 1})
            assert cell["te_pop"] == pytest.approx(te_pop)
            assert block["lo"] <= te_pop <= block["hi"], (cell["coupling"], block, te_pop)
            assert cell["te_m_verdict"] == "above 0"


def test_stand_in_false_positive_rate_on_each_null_cell_is_in_the_binomial_band(
    stand_in_run,
) -> None:
    grid, results = stand_in_run
    level = grid.series_alpha
    assert level == pytest.approx(1 / (grid.surrogates + 1))
    for cell in results["cells"]:
        if cell["coupling"] != 0.0:
            continue
        k, n = cell["oracle_reject_ci"]["k"], cell["oracle_reject_ci"]["n"]
        low, high = stats.binom.interval(0.99, n, level)
        assert low <= k <= high, (cell["condition"], k, n, level)


def test_random_walks_are_differenced_once_and_the_same_series_reaches_both() -> None:
    data = {k: v for k, v in QUICK.to_dict().items() if k not in ("source", "sha256")}
    grid = parse_grid({**json.loads(json.dumps(data)), "series_per_cell": 2})
    entry = next(e for e in grid.plan() if e["condition"] == "random_walk")
    series, info = prepared_series(grid, entry)
    raw = make_series("random_walk", **entry["params"])
    assert info == {"rule": "known", "n_diff": 1}
    assert unit_root_decision(raw, "adf_kpss")["n_diff"] == 1  # the test agrees at n = 200
    assert np.allclose(series.x, np.diff(raw.x)) and np.allclose(series.y, np.diff(raw.y))
    backend = make_backend("linear-oracle")
    from ladder.granger.probe import probe_series

    record = probe_series(backend, grid, entry)
    assert record["n_diff"] == 1 and record["sm_n_diff"] == 0
    assert record["model"]["n_steps"] == entry["length"] - 1 - grid.burn_in
    stationary = next(e for e in grid.plan() if e["condition"] == "var")
    assert prepared_series(grid, stationary)[1]["n_diff"] == 0


# --------------------------------------------------------------------------- verbal


def test_two_questions_share_the_series_and_differ_in_what_they_ask() -> None:
    ser = serialize(np.arange(12.0), np.arange(12.0)[::-1], digits=2)
    predict, cause = (verbal_prompt(ser, q) for q in VERBAL_QUESTIONS)
    shared = len(predict) - len(predict.split("\n\n")[-1])
    assert predict[:shared] == cause[:shared] and ser.text in predict[:shared]
    assert "help to predict" in predict and "changing X change Y" in cause
    with pytest.raises(ValueError, match="unknown question"):
        verbal_prompt(ser, "why")


def test_labels_separate_prediction_from_causation(tmp_path) -> None:
    grid = parse_grid(
        {
            "name": "labels",
            "conditions": ["hidden_driver", "intervened", "var"],
            "couplings": {"hidden_driver": [0.9], "intervened": [0.5], "var": [0.0]},
            "lags": [1],
            "lengths": [40],
            "series_per_cell": 1,
            "verbal": False,
        }
    )
    run_granger(make_backend("linear-oracle"), grid, tmp_path / "r", progress=False)
    rows = [json.loads(line) for line in (tmp_path / "r" / "series.jsonl").open()]
    labels = {r["condition"]: (r["truth_predictive"], r["truth"]) for r in rows}
    assert labels == {
        "hidden_driver": (True, False),
        "intervened": (True, True),
        "var": (False, False),
    }


# --------------------------------------------------------------------------- speed and cost


def test_fast_span_lookup_gives_span_logprobs_values(tiny_model) -> None:
    s = make_series("var", length=30, coupling=0.5, lag=1, seed=0)
    texts, spans, _, _ = te_texts(s, 2, digits=2, burn_in=5)
    for text, sp in zip(texts, spans, strict=True):
        assert span_positions(tiny_model, text, sp) == span_token_positions(tiny_model, text, sp)
    fast = HFScorer(tiny_model)(texts, spans)
    ref = span_logprobs(tiny_model, texts, spans, progress=False)
    assert np.allclose(fast, np.array(ref), atol=1e-5)


def test_dry_run_estimate_is_within_a_factor_of_1_5_of_the_run(tiny_chat_model, tmp_path):
    grid = parse_grid(
        {
            "name": "cost",
            "conditions": ["var", "random_walk"],
            "couplings": {"var": [0.0, 0.5], "random_walk": [0.0]},
            "lags": [1],
            "lengths": [120],
            "series_per_cell": 2,
            "surrogates": 2,
            "digits": 2,
        }
    )
    ratios = []
    for attempt in range(3):  # a shared machine's load can change between the two timings
        backend = hf_backend(tiny_chat_model)
        est = estimate_run(backend, grid, per_length=3)
        start = time.perf_counter()
        results = run_granger(backend, grid, tmp_path / f"run{attempt}", progress=False)
        ratios.append(est["seconds"] / (time.perf_counter() - start))
        assert est["n_series"] == results["n_done"] == 6
        assert est["tokens"] == pytest.approx(results["timing"]["tokens"], rel=0.1)
        if 1 / 1.5 <= ratios[-1] <= 1.5:
            break
    assert 1 / 1.5 <= ratios[-1] <= 1.5, ratios


def _bench():
    spec = importlib.util.spec_from_file_location(
        "bench_granger_speed", ROOT / "bench" / "bench_granger_speed.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_prints_both_throughputs(tiny_model) -> None:
    bench = _bench()
    s = make_series("var", length=60, coupling=0.5, lag=1, seed=0)
    texts, spans, _, _ = te_texts(s, 2, digits=2, burn_in=5)
    result = bench.measure(tiny_model, texts, spans, repeats=1)
    lines = bench.report_lines(result)
    assert lines[0].startswith("bare forward: ") and lines[1].startswith("TE_M scoring: ")
    assert result["bare_tokens_per_s"] > 0 and result["te_m_tokens_per_s"] > 0
    assert result["ratio"] == pytest.approx(
        result["te_m_tokens_per_s"] / result["bare_tokens_per_s"]
    )


# --------------------------------------------------------------------------- report


def test_report_section_v2_table_claims_and_flow_figures(tmp_path) -> None:
    from types import SimpleNamespace

    from ladder.analysis.sections.context import ReportContext
    from ladder.analysis.sections.granger import V1_NOTE, granger_section

    grid = parse_grid(
        {
            "name": "report",
            "conditions": ["var", "hidden_driver"],
            "couplings": {"var": [0.0, 0.45], "hidden_driver": [0.9]},
            "lags": [1],
            "lengths": [200],
            "series_per_cell": 6,
            "surrogates": 4,
            "digits": 2,
            "verbal": False,
        }
    )
    run_granger(make_backend("linear-oracle"), grid, tmp_path, progress=False)
    ctx = ReportContext(
        run=SimpleNamespace(model={}, name="x"), base=None, out=tmp_path / "r.md", figures_on=True
    )
    text = "\n".join(granger_section(tmp_path / "granger.json", ctx))
    rows = [json.loads(line) for line in (tmp_path / "series.jsonl").open()]
    linked = [r["te_m"] for r in rows if r["condition"] == "var" and r["coupling"] == 0.45]
    assert f"{np.mean(linked):.4f} [" in text and "model TE_M [95% CI]" in text
    assert "4 surrogates" in text and "level 0.20" in text
    # the hidden driver against its TE-matched var link: Welch's difference, as scipy has it
    hidden = [r["te_m"] for r in rows if r["condition"] == "hidden_driver"]
    welch = stats.ttest_ind(linked, hidden, equal_var=False).confidence_interval()
    diff = f"{np.mean(linked) - np.mean(hidden):.4f} [{welch.low:.4f}, {welch.high:.4f}]"
    assert f"the model's mean TE_M there minus here is {diff}" in text
    assert sorted(p.name for p in ctx.figures) == [
        "r-granger-flow-hidden-driver.png",
        "r-granger-flow-var.png",
    ]
    assert V1_NOTE not in text
    # a granger_version 1 file (the formerly committed core500 run) still renders, with its note
    old = ROOT / "tests" / "data" / "granger_v1.json"
    assert V1_NOTE in "\n".join(granger_section(old))


def test_adf_kpss_rule_differences_every_random_walk_at_length_200() -> None:
    """Under-differencing is what breaks a null (a walk left in levels); at n = 200 the
    ADF-or-KPSS rule leaves none of 10 independent walks in levels."""
    from ladder.granger.series import random_walk_series

    decisions = [
        unit_root_decision(random_walk_series(200, 0.0, seed=s), "adf_kpss")["n_diff"]
        for s in range(10)
    ]
    assert decisions == [1] * 10


def test_verbal_sentence_auroc_matches_mann_whitney() -> None:
    from ladder.analysis.sections.granger import _verbal_sentence

    rng = np.random.default_rng(3)
    rows = []
    for i in range(60):
        predictive, causal = i % 2 == 0, i % 3 == 0
        rows.append(
            {
                "p_yes_predict": float(rng.normal(0.6 if predictive else 0.4, 0.1)),
                "truth_predictive": predictive,
                "p_yes_cause": float(rng.normal(0.5, 0.1)),
                "truth": causal,
            }
        )
    text = _verbal_sentence(rows)
    for key, label in (("p_yes_predict", "truth_predictive"), ("p_yes_cause", "truth")):
        pos = [r[key] for r in rows if r[label]]
        neg = [r[key] for r in rows if not r[label]]
        u = stats.mannwhitneyu(pos, neg).statistic / (len(pos) * len(neg))
        assert f"AUROC against its label {u:.3f} [" in text
    assert text.count("not distinguishable from chance") == 1  # the cause answers only
    assert _verbal_sentence([{"p_yes_predict": None, "truth_predictive": True}]) is None
