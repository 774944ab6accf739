"""Reduced precision as a measured choice (issue 15, item 3): a bfloat16 model is keyed apart
from its float32 self, and the benchmark's comparison counts flips and |Δp_yes| right."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from ladder.harness.cache import ResponseCache
from ladder.harness.models.loading import load_model
from ladder.harness.predictors import HFPredictor, Prediction

REPO = Path(__file__).resolve().parents[1]


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_dtype", REPO / "bench" / "bench_dtype.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_compare_counts_flips_and_the_largest_probability_change() -> None:
    items = [{"answer": a} for a in ("yes", "no", "no", "yes")]
    f32 = [Prediction(p, "yes" if p > 0.5 else "no") for p in (0.70, 0.49, 0.20, 0.51)]
    bf16 = [Prediction(p, "yes" if p > 0.5 else "no") for p in (0.69, 0.52, 0.20, 0.40)]
    result = _bench().compare(items, f32, bf16)
    assert result["flips"] == 2  # items 2 and 4 change sides of 0.5
    assert result["max_abs_dp"] == pytest.approx(0.11)
    assert result["mean_abs_dp"] == pytest.approx((0.01 + 0.03 + 0.0 + 0.11) / 4)
    assert result["accuracy"] == (1.0, 0.5)


def test_bfloat16_is_its_own_model_for_the_cache_and_close_to_float32(
    tiny_model: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LADDER_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "tiny"
    tiny_model.model.save_pretrained(folder)
    tiny_model.tokenizer.save_pretrained(folder)
    f32 = HFPredictor(str(folder), dtype="float32")
    bf16 = HFPredictor(str(folder), dtype="bfloat16")
    assert str(next(bf16.loaded.model.parameters()).dtype) == "torch.bfloat16"
    assert f32.fingerprint != bf16.fingerprint
    text = "Question: Does smoking cause cancer?"
    assert ResponseCache.key(f32.cache_identity(), text) != ResponseCache.key(
        bf16.cache_identity(), text
    )
    items = [{"prompt": f"Is X{k} a cause of Y? Yes or no?"} for k in range(6)]
    a = [p.p_yes for p in f32.predict(items)]
    b = [p.p_yes for p in bf16.predict(items)]
    # bfloat16 keeps 8 bits of mantissa: close to float32, but not equal (it is measured).
    assert b == pytest.approx(a, abs=0.05) and a != b
    assert load_model(str(folder), dtype="bfloat16").dtype == "bfloat16"
