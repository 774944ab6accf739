"""Granger probes, model side: serialization, TE_M with the stand-in predictor, surrogate
p-values, comparison statistics, grids, the run loop and resume (no real language model)."""

from __future__ import annotations

import argparse
import json
import math

import numpy as np
import pytest
from scipy import stats

from ladder.granger import gaussian_te, make_series
from ladder.granger.compare import (
    agreement,
    cohen_kappa,
    compare_cells,
    rate,
    roc_auc,
    summarize_records,
    verbal_p_yes,
    verbal_prompt,
)
from ladder.granger.grid import load_grid, parse_grid
from ladder.granger.model_side import (
    LinearGaussianScorer,
    hf_scorer,
    model_te,
    prequential_logprobs,
    surrogate_p_value,
    surrogates,
)
from ladder.granger.probe import make_backend, read_records, run_granger
from ladder.granger.serialize import Scale, body_start, parse_serialized, serialize

# --------------------------------------------------------------------------- serialization


@pytest.mark.parametrize("digits", [1, 2, 3, 4])
@pytest.mark.parametrize("order", ["yx", "xy"])
def test_serialize_round_trip_and_spans(digits: int, order: str) -> None:
    rng = np.random.default_rng(digits)
    x, y = rng.normal(0, 3, 40), rng.normal(5, 1, 40)
    header = "Series:\n"
    ser = serialize(x, y, digits=digits, order=order, header=header)
    assert ser.text.startswith(header) and body_start(ser.text) == len(header)
    assert len(ser.text) == len(header) + 40 * (2 * digits + 2)
    xc, yc = parse_serialized(ser.text, order=order)
    np.testing.assert_array_equal(xc, ser.x_codes)
    np.testing.assert_array_equal(yc, ser.y_codes)
    assert xc.min() >= 0 and max(xc.max(), yc.max()) <= 10**digits - 1
    assert min(xc.min(), yc.min()) == 0 and max(xc.max(), yc.max()) == 10**digits - 1
    # the map inverts to within half a bin
    width = ser.scale.width
    assert np.all(np.abs(ser.scale.decode(yc) - y) <= width / 2 + 1e-12)
    assert np.all(np.abs(ser.scale.decode(xc) - x) <= width / 2 + 1e-12)
    for t in range(40):
        a, b = ser.y_spans[t]
        assert ser.text[a:b] == f"{yc[t]:0{digits}d}"
        a, b = ser.x_spans[t]
        assert ser.text[a:b] == f"{xc[t]:0{digits}d}"
        y_first = ser.y_spans[t][0] < ser.x_spans[t][0]
        assert y_first == (order == "yx")


def test_serialize_layout_and_errors() -> None:
    ser = serialize(np.array([0.0, 1.0]), np.array([1.0, 0.0]), digits=3)
    assert ser.text == "999,000;000,999;"
    assert ser.y_spans == [(0, 3), (8, 11)]
    with pytest.raises(ValueError, match="constant"):
        Scale.fit(np.ones(5), np.ones(5))
    with pytest.raises(ValueError, match="non-finite"):
        serialize(np.array([0.0, np.nan]), np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="digits"):
        serialize(np.arange(3.0), np.arange(3.0), digits=0)
    with pytest.raises(ValueError, match="order"):
        serialize(np.arange(3.0), np.arange(3.0), order="zz")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="header"):
        serialize(np.arange(3.0), np.arange(3.0), header="n=3")


def test_surrogate_scale_is_shared() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=50), rng.normal(size=50)
    sx, info = surrogates(x, 4, "circular", rng=rng)
    for row, k in zip(sx, info["offsets"], strict=True):
        assert 5 <= k <= 45
        np.testing.assert_array_equal(row, np.roll(x, k))
        assert Scale.fit(row, y) == Scale.fit(x, y)
    bx, binfo = surrogates(x, 4, "block", rng=rng, block_length=10)
    for row, perm in zip(bx, binfo["permutations"], strict=True):
        assert not any(p == i for i, p in enumerate(perm))  # a derangement
        np.testing.assert_array_equal(np.sort(row), np.sort(x))
    with pytest.raises(ValueError, match="kind"):
        surrogates(x, 3, "shuffle", rng=rng)


# --------------------------------------------------------------------------- stand-in predictor


def test_prequential_matches_direct_least_squares() -> None:
    rng = np.random.default_rng(3)
    s = make_series("var", length=120, coupling=0.5, lag=2, seed=4)
    ser = serialize(s.x, s.y, digits=3)
    y, x = ser.y_codes.astype(float), ser.x_codes.astype(float)
    lag, t = 2, 70
    lp = prequential_logprobs(ser.y_codes[None], ser.x_codes[None], lag, 999)[0]
    rows = range(lag, t)
    F = np.array([[1, *(y[r - i] for i in (1, 2)), *(x[r - i] for i in (1, 2))] for r in rows])
    target = np.array([y[r] for r in rows])
    beta, *_ = np.linalg.lstsq(F, target, rcond=None)
    resid = target - F @ beta
    s2 = resid @ resid / (len(target) - F.shape[1])
    f = np.array([1, y[t - 1], y[t - 2], x[t - 1], x[t - 2]])
    var = s2 * (1 + f @ np.linalg.solve(F.T @ F, f))
    mu, sd = f @ beta, math.sqrt(var)
    expected = math.log(
        stats.norm.cdf((y[t] + 0.5 - mu) / sd) - stats.norm.cdf((y[t] - 0.5 - mu) / sd)
    )
    assert lp[t] == pytest.approx(expected, abs=1e-6)
    del rng


def test_oracle_scores_a_pmf() -> None:
    """The binned probabilities over every printable code sum to one."""
    mean, sd = np.full(100, 40.3), np.full(100, 7.0)
    from ladder.granger.model_side import _code_logprob

    codes = np.arange(100)
    assert np.exp(_code_logprob(codes, mean, sd, 99)).sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("coupling,lag", [(0.5, 1), (0.3, 2)])
def test_oracle_te_m_approaches_te_gauss(coupling: float, lag: int) -> None:
    """Long series: TE_M of the in-context VAR is within 10% of TE_gauss (both ~0.06-0.15
    nats/step here; the observed spread over seeds is ~3%)."""
    for seed in range(3):
        s = make_series("var", length=2000, coupling=coupling, lag=lag, seed=seed)
        r = model_te(LinearGaussianScorer(lag=lag), s, n_surrogates=5, seed=seed)
        te_g = gaussian_te(s.x, s.y, lag)
        assert te_g > 0.05
        assert abs(r["te_m"] / te_g - 1) < 0.10, (seed, r["te_m"], te_g)
        assert r["p_value"] == pytest.approx(1 / 6)


def test_oracle_null_p_values_are_uniform() -> None:
    """Under no link the surrogate p-value is uniform on {1/(S+1), ..., 1}. KS on the
    p-values made continuous by subtracting U/(S+1) (U uniform), over 240 null series."""
    S, n_series = 9, 240
    rng = np.random.default_rng(123)
    pvals, te = [], []
    for i in range(n_series):
        s = make_series("var", length=60, coupling=0.0, lag=1, seed=10_000 + i)
        r = model_te(LinearGaussianScorer(lag=1), s, n_surrogates=S, seed=i)
        pvals.append(r["p_value"])
        te.append(r["te_m"])
    p = np.array(pvals)
    assert set(np.round(p * (S + 1)).astype(int)) <= set(range(1, S + 2))
    jittered = p - rng.uniform(size=p.size) / (S + 1)
    assert stats.kstest(jittered, "uniform").pvalue > 0.01
    assert abs(np.mean(te)) < 0.02  # no information on average


def test_oracle_detects_a_link_and_order_xy() -> None:
    s = make_series("var", length=200, coupling=0.8, lag=1, seed=7)
    r = model_te(LinearGaussianScorer(lag=1), s, n_surrogates=19, seed=1)
    assert r["p_value"] == pytest.approx(0.05) and r["te_m"] > 0.1
    r_xy = model_te(LinearGaussianScorer(lag=1), s, n_surrogates=19, seed=1, order="xy")
    assert r_xy["order"] == "xy" and np.isfinite(r_xy["te_m"])
    rb = model_te(LinearGaussianScorer(lag=1), s, n_surrogates=19, kind="block", seed=1)
    assert rb["p_value"] == pytest.approx(0.05)


def test_surrogate_p_value_formula() -> None:
    assert surrogate_p_value([0.2, 0.1, 0.3]) == pytest.approx(0.25)
    assert surrogate_p_value([-0.1, 0.0, 0.3]) == pytest.approx(0.75)  # a tie counts
    assert surrogate_p_value([-1.0] * 19) == pytest.approx(1.0)


def test_model_te_rejects_bad_input() -> None:
    s = make_series("var", length=30, coupling=0.5, lag=1, seed=0)
    sc = LinearGaussianScorer(lag=1)
    with pytest.raises(ValueError, match="burn_in"):
        model_te(sc, s, n_surrogates=3, burn_in=29)
    with pytest.raises(ValueError, match="kind"):
        model_te(sc, s, n_surrogates=3, kind="nope")
    with pytest.raises(ValueError, match="constant"):
        model_te(sc, (np.ones(30), np.ones(30)), n_surrogates=3)

    def broken(texts, spans):
        return [[float("nan")] * len(sp) for sp in spans]

    with pytest.raises(ValueError, match="scorer returned"):
        model_te(broken, s, n_surrogates=3)


# --------------------------------------------------------------------------- HF scorer


def test_tiny_model_runs_through_hf_scorer(tiny_model) -> None:
    s = make_series("var", length=24, coupling=0.5, lag=1, seed=0)
    scorer = hf_scorer(tiny_model)
    for digits in (2, 3):
        r = model_te(scorer, s, n_surrogates=3, seed=0, digits=digits, burn_in=4)
        assert np.isfinite(r["te_m"]) and np.all(np.isfinite(r["te_per_surrogate"]))
        assert r["p_value"] in {0.25, 0.5, 0.75, 1.0}
        assert r["loglik_real"] < 0
    assert scorer.n_tokens > 0
    ser = serialize(s.x, s.y, digits=2)
    p = verbal_p_yes(tiny_model, [verbal_prompt(ser)])
    assert 0 < p[0] < 1


def test_hf_scorer_sums_digit_tokens(tiny_model) -> None:
    """The span log-prob equals the sum of the digit tokens' log-probs."""
    from ladder.harness.models.scoring import encode, token_logprobs

    ser = serialize(np.array([0.0, 5.0, 9.0, 3.0]), np.array([9.0, 1.0, 4.0, 7.0]), digits=2)
    ids = encode(tiny_model, ser.text)
    a, b = ser.y_spans[2]
    got = hf_scorer(tiny_model)([ser.text], [[(a, b)]])[0][0]
    enc = tiny_model.tokenizer(ser.text, add_special_tokens=False, return_offsets_mapping=True)
    shift = len(ids) - len(enc["input_ids"])
    pos = [j + shift for j, (s0, e0) in enumerate(enc["offset_mapping"]) if a <= s0 and e0 <= b]
    assert len(pos) == 2  # "0", "9" ... one token per digit for 2-digit values here
    want = token_logprobs(tiny_model, [ids], [pos], progress=False)[0].sum()
    assert got == pytest.approx(float(want), abs=1e-9)


# --------------------------------------------------------------------------- comparison


def test_kappa_and_auc_by_hand() -> None:
    # kappa: p_o = 4/6, p_e = 0.5*0.5 + 0.5*0.5 = 0.5 -> (2/3 - 1/2) / (1/2) = 1/3
    assert cohen_kappa([1, 1, 0, 0, 1, 0], [1, 0, 0, 0, 1, 1]) == pytest.approx(1 / 3)
    # p_o = 0.8, pa = 0.6, pb = 0.4, p_e = 0.24 + 0.24 = 0.48 -> 0.32 / 0.52
    a, b = [1, 1, 1, 0, 0], [1, 1, 0, 0, 0]
    assert cohen_kappa(a, b) == pytest.approx(0.32 / 0.52)
    assert cohen_kappa([1, 1], [1, 1]) is None  # chance agreement 1: undefined
    assert cohen_kappa([1, None, 0], [1, 1, 0]) == pytest.approx(1.0)
    assert cohen_kappa([], []) is None
    # AUC: pairs (0.9>0.5, 0.9>0.3, 0.8>0.5, 0.8>0.3, 0.4<0.5, 0.4>0.3) -> 5/6
    assert roc_auc([0.9, 0.8, 0.4], [0.5, 0.3]) == pytest.approx(5 / 6)
    assert roc_auc([0.5, 0.7], [0.5, 0.1]) == pytest.approx((0.5 + 1 + 1 + 1) / 4)  # tie = 1/2
    assert roc_auc([1.0], [2.0]) == 0.0
    assert roc_auc([], [1.0]) is None
    assert roc_auc([None, 1.0], [0.0]) == 1.0
    assert rate([True, None, False, False]) == pytest.approx(1 / 3)
    assert agreement([True, False], [True, True]) == 0.5


def _record(cond: str, coupling: float, sm_p: float, model_p: float, truth: bool, **extra) -> dict:
    return {
        "condition": cond,
        "coupling": coupling,
        "lag": 1,
        "length": 50,
        "truth": truth,
        "testable": True,
        "sm_p": sm_p,
        "sm_reject": sm_p < 0.05,
        "model_p": model_p,
        "model_reject": model_p <= 0.05,
        "te_m": 0.1 * (1 - model_p),
        "te_gauss": 0.1,
        "p_yes": extra.pop("p_yes", None),
        "hidden_driver": cond == "hidden_driver",
        "nonstationary": cond == "random_walk",
        **extra,
    }


def test_compare_cells_and_summary() -> None:
    recs = [
        _record("var", 0.0, 0.50, 0.60, False, p_yes=0.4),
        _record("var", 0.0, 0.01, 0.30, False, p_yes=0.6),
        _record("var", 0.5, 0.001, 0.05, True, p_yes=0.7),
        _record("var", 0.5, 0.20, 0.05, True, p_yes=0.3),
        _record("hidden_driver", 0.9, 0.001, 0.05, False),
        _record("hidden_driver", 0.9, 0.30, 0.50, False),
        _record("random_walk", 0.0, 0.02, 0.05, False, testable=False),
    ]
    cells = compare_cells(recs)
    assert [(c["condition"], c["coupling"]) for c in cells] == [
        ("var", 0.0),
        ("var", 0.5),
        ("hidden_driver", 0.9),
        ("random_walk", 0.0),
    ]
    var5 = cells[1]
    assert var5["sm_reject_rate"] == 0.5 and var5["model_reject_rate"] == 1.0
    # positives sm scores 0.999, 0.8 vs negatives 0.5, 0.99 -> pairs won: 2 + 1 = 3 of 4
    assert var5["auc"]["auc_sm"] == pytest.approx(0.75)
    assert var5["auc"]["auc_model"] == pytest.approx(1.0)
    assert cells[0]["auc"] is None and cells[2]["auc"] is None
    assert cells[3]["n_testable"] == 0 and cells[3]["sm_reject_rate"] is None
    s = summarize_records(recs)
    assert s["fpr"]["hidden_driver"] == {
        "n": 2,
        "sm": 0.5,
        "model": 0.5,
        "oracle": None,
        "verbal": None,
    }
    assert s["fpr"]["nonstationary_null"]["model"] == 1.0
    assert s["fpr"]["nonstationary_null"]["sm"] is None  # untestable: not counted
    assert s["fpr"]["stationary_null"]["sm"] == 0.5
    assert s["te_ratio"]["n"] == 2
    # verbal vs model over var: yes/no = [F, T, T, F], model = [F, F, T, T]
    assert s["by_condition"]["var"]["agree_verbal_model"] == 0.5
    json.dumps(s)  # JSON-ready


# --------------------------------------------------------------------------- grids


_BASE = {
    "name": "t",
    "conditions": ["var"],
    "couplings": [0.0, 0.5],
    "lags": [1],
    "lengths": [40],
    "series_per_cell": 2,
    "surrogates": 19,
}


@pytest.mark.parametrize(
    "change,message",
    [
        ({"colour": "red"}, "unknown field 'colour'.*allowed: name, conditions"),
        ({"conditions": ["var", "magic"]}, "unknown condition 'magic'"),
        ({"lags": [13]}, "lag 13 is too long for a series of length 40"),
        ({"surrogates": 0}, "surrogates must be >= 1"),
        ({"unit_root": "adf_kpss"}, "unit_root adf_kpss needs lengths >= 200"),
        ({"burn_in": 35}, "fewer than 10 scored steps"),
        ({"couplings": [0.0, float("nan")]}, "finite number"),
        ({"couplings": {"nope": [0.1]}}, "not in conditions"),
        ({"couplings": [0, 0.0]}, "repeated values"),
        ({"lengths": [5]}, "lengths entry must be >= 10"),
        ({"digits": 9}, "digits must be from 1 to 6"),
        ({"surrogate_kind": "shuffle"}, "surrogate_kind"),
        ({"condition_params": {"var": {"flavour": 1}}}, r"unknown parameter\(s\) \['flavour'\]"),
        ({"couplings": [0.9], "condition_params": {"var": {"direction": "both"}}}, "explosive"),
        ({"series_per_cell": 0}, "series_per_cell must be >= 1"),
        ({"alpha": 1.5}, "alpha"),
        ({"verbal": "yes"}, "verbal"),
    ],
)
def test_grid_validation_errors(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_grid({**_BASE, **change})


def test_grid_missing_fields_and_files(tmp_path) -> None:
    with pytest.raises(ValueError, match="missing required field"):
        parse_grid({"name": "t", "conditions": ["var"]})
    with pytest.raises(ValueError, match="neither a built-in grid"):
        load_grid(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_grid(bad)


def test_builtin_grids_load() -> None:
    quick, full = load_grid("quick"), load_grid("full")
    # v2: the cell-level test needs many series of length >= 200, not many surrogates
    assert quick.surrogates >= 1 and len(quick.plan()) >= 50 * len(quick.cells())
    assert min(quick.lengths) >= 200
    assert len(full.plan()) > len(quick.plan())
    ids = [e["id"] for e in full.plan()]
    assert len(set(ids)) == len(ids)
    assert len({e["seed"] for e in full.plan()}) == len(ids)


# --------------------------------------------------------------------------- runs


def _small_grid() -> object:
    return parse_grid(
        {
            "name": "tiny",
            "conditions": ["var", "hidden_driver"],
            "couplings": {"var": [0.0, 0.6], "hidden_driver": [0.9]},
            "lags": [1],
            "lengths": [40],
            "series_per_cell": 2,
            "surrogates": 19,
            "digits": 2,
            "verbal": True,
        }
    )


def _strip(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in ("seconds", "tokens")} for r in records]


def test_resume_gives_the_same_records(tmp_path) -> None:
    grid = _small_grid()
    full = run_granger(make_backend("linear-oracle"), grid, tmp_path / "a", progress=False)
    assert full["status"] == "complete" and full["n_done"] == 6
    reference = _strip(read_records(tmp_path / "a" / "series.jsonl"))

    # a run killed while writing its third series: torn last line, header still "running"
    run_granger(make_backend("linear-oracle"), grid, tmp_path / "b", progress=False)
    path = tmp_path / "b" / "series.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:2]) + lines[2][: len(lines[2]) // 2])
    header = json.loads((tmp_path / "b" / "granger.json").read_text())
    (tmp_path / "b" / "granger.json").write_text(json.dumps({**header, "status": "running"}))
    assert len(read_records(path)) == 2
    with pytest.raises(ValueError, match="exists and is not empty"):
        run_granger(make_backend("linear-oracle"), grid, tmp_path / "b", progress=False)
    done = run_granger(
        make_backend("linear-oracle"), grid, tmp_path / "b", resume=True, progress=False
    )
    assert done["status"] == "complete" and len(done["resumed"]) == 1
    resumed = _strip(read_records(path))
    assert sorted(resumed, key=lambda r: r["id"]) == sorted(reference, key=lambda r: r["id"])
    assert done["cells"] == full["cells"]
    other = parse_grid({**_BASE, "name": "other"})
    with pytest.raises(ValueError, match="grid differs"):
        run_granger(
            make_backend("linear-oracle"), other, tmp_path / "b", resume=True, progress=False
        )
    with pytest.raises(ValueError, match="no such run directory"):
        run_granger(
            make_backend("linear-oracle"), grid, tmp_path / "c", resume=True, progress=False
        )


def test_run_files_schema(tmp_path) -> None:
    grid = _small_grid()
    results = run_granger(make_backend("linear-oracle"), grid, tmp_path, progress=False)
    on_disk = json.loads((tmp_path / "granger.json").read_text())
    assert on_disk["status"] == "complete" and on_disk["model"]["name"] == "linear-oracle"
    for key in ("grid", "settings", "cells", "summary", "ladder", "timing", "record_keys"):
        assert key in on_disk
    records = read_records(tmp_path / "series.jsonl")
    assert set(on_disk["record_keys"]) <= set(records[0])
    for r in records:
        assert r["p_yes_predict"] is None and r["p_yes_cause"] is None  # no words
        assert r["oracle_lag"] >= 1 and r["tokens"] > 0
        assert r["model_p"] in {k / 20 for k in range(1, 21)} or math.isclose(
            r["model_p"] * 20, round(r["model_p"] * 20)
        )
        assert r["truth"] == (r["condition"] == "var" and r["coupling"] > 0)
    assert results["summary"]["fpr"]["hidden_driver"]["n"] == 2


def test_untestable_series_is_recorded(tmp_path, monkeypatch) -> None:
    from ladder.granger import probe

    def infeasible(series, alpha=0.05, preprocess=True):
        return {
            "testable": False,
            "reason": "x->y: InfeasibleTestError: singular",
            "lag": None,
            "n_diff": 0,
            "tests": {},
            "verdict": {"x->y": None, "y->x": None},
            "te_gauss": {"x->y": None, "y->x": None},
        }

    monkeypatch.setattr(probe, "classical_verdicts", infeasible)
    results = run_granger(
        make_backend("linear-oracle"), _small_grid(), tmp_path, progress=False, limit=2
    )
    records = read_records(tmp_path / "series.jsonl")
    assert all(not r["testable"] and r["sm_reject"] is None for r in records)
    assert all("InfeasibleTestError" in r["reason"] for r in records)
    assert all(r["te_m"] is not None for r in records)
    assert results["summary"]["overall"]["n_testable"] == 0


def test_command_handle(tmp_path) -> None:
    from ladder.commands.granger import configure
    from ladder.commands.granger import run as handle

    parser = argparse.ArgumentParser()
    configure(parser)
    grid_file = tmp_path / "g.yaml"
    grid_file.write_text(
        "name: g\nconditions: [var]\ncouplings: [0.0, 0.6]\nlags: [1]\n"
        "lengths: [40]\nseries_per_cell: 1\nsurrogates: 19\ndigits: 2\n"
    )
    out = tmp_path / "run"
    args = parser.parse_args(
        ["--model", "linear-oracle", "--grid", str(grid_file), "--out", str(out), "--quiet"]
    )
    assert handle(args) == 0
    assert (out / "granger.json").is_file() and len(read_records(out / "series.jsonl")) == 2
    with pytest.raises(ValueError, match="exists and is not empty"):
        handle(args)
    assert (
        handle(
            parser.parse_args(
                [
                    "--model",
                    "linear-oracle",
                    "--grid",
                    str(grid_file),
                    "--out",
                    str(out),
                    "--resume",
                    "--quiet",
                ]
            )
        )
        == 0
    )
    with pytest.raises(ValueError, match="--limit"):
        handle(parser.parse_args(["--model", "linear-oracle", "--limit", "0"]))
    with pytest.raises(ValueError, match="neither a built-in grid"):
        handle(parser.parse_args(["--model", "linear-oracle", "--grid", "nope"]))
    with pytest.raises(ValueError, match="no such run directory"):
        handle(
            parser.parse_args(
                [
                    "--model",
                    "linear-oracle",
                    "--grid",
                    str(grid_file),
                    "--out",
                    str(tmp_path / "none"),
                    "--resume",
                ]
            )
        )


def test_hf_backend_run_with_tiny_model(tmp_path, tiny_chat_model) -> None:
    from ladder.granger.probe import hf_backend

    grid = parse_grid(
        {
            "name": "t",
            "conditions": ["var"],
            "couplings": [0.5],
            "lags": [1],
            "lengths": [20],
            "burn_in": 5,
            "series_per_cell": 1,
            "surrogates": 19,
            "digits": 2,
        }
    )
    results = run_granger(hf_backend(tiny_chat_model), grid, tmp_path, progress=False)
    (record,) = read_records(tmp_path / "series.jsonl")
    assert 0 < record["p_yes_predict"] < 1 and 0 < record["p_yes_cause"] < 1
    assert record["p_yes_predict"] != record["p_yes_cause"]  # two different questions
    assert np.isfinite(record["te_m"])
    assert record["tokens"] > 20 * 20 * 6
    assert results["model"]["fingerprint"] == tiny_chat_model.fingerprint


def test_invalid_series_is_recorded_not_fatal() -> None:
    """NaN/constant data are caught by series.validate_series; the run records them."""
    from ladder.granger.probe import _classical
    from ladder.granger.series import Series

    const = Series(np.arange(30.0), np.ones(30), "var", {"seed": 0})
    out = _classical(const, 0.05)
    assert out["testable"] is False and "y is constant" in out["reason"]
    nan = Series(np.r_[np.arange(29.0), np.nan], np.arange(30.0), "var", {"seed": 0})
    assert "NaN" in _classical(nan, 0.05)["reason"]


def test_verbal_prompt_wording() -> None:
    ser = serialize(
        np.array([0.0, 1.0, 2.0]), np.array([2.0, 0.0, 1.0]), digits=2, order="xy", header="S:\n"
    )
    q = verbal_prompt(ser)
    assert ser.text[len("S:\n") :] in q and '"X,Y;"' in q and "0 to 99" in q
    assert "3 time steps" in q and q.endswith("Answer Yes or No.")
