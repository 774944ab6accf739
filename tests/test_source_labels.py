"""The report's "Scored both ways" section: accuracy against ladder's and the source's labels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from references import cladder_dir

from ladder.analysis.report import build_report
from ladder.cli import main
from ladder.harness.metrics import wilson_interval

DATA = cladder_dir()
QUESTIONS = DATA / "test-generate-easy.json"
MODELS = DATA / "test-model-meta.json"
# The first 410 imported easy items hold the file's first items whose CLadder label differs
# from ladder's (positions 390, 393 and 400), so the differing-labels table is exercised.
LIMIT = 410


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """CLadder's easy file imported, and the truth-oracle and random baselines run on it."""
    if not (QUESTIONS.exists() and MODELS.exists()):
        pytest.skip("CLadder files absent")
    root = tmp_path_factory.mktemp("source_labels")
    items = root / "items.jsonl"
    argv = ["import", "cladder", str(QUESTIONS), "--models", str(MODELS), "--out", str(items)]
    assert main(argv) == 0
    out = {"items": items}
    for name in ("truth-oracle", "random"):
        run_dir = root / "runs" / name
        argv = ["run", "--model", name, "--items", str(items), "--limit", str(LIMIT)]
        assert main([*argv, "--run-dir", str(run_dir), "--quiet"]) == 0
        out[name] = run_dir
    return out


def _scored(run_dir: Path) -> list[tuple[dict, dict]]:
    """``(sample, item)`` pairs of a run, read straight from its files."""
    items = {}
    for line in (run_dir / "items.jsonl").read_text().splitlines():
        item = json.loads(line)
        items[item["id"]] = item
    samples = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    return [(s, items[s["id"]]) for s in samples]


def test_truth_oracle_scored_both_ways(runs: dict[str, Path]) -> None:
    """Truth oracle: 1.000 against ladder; the agreeing share against CLadder."""
    report = build_report(runs["truth-oracle"], figures=False)
    assert "## Scored both ways" in report.markdown
    pairs = _scored(runs["truth-oracle"])
    assert len(pairs) == LIMIT
    agree = sum(item["source"]["label"] == item["answer"] for _, item in pairs)
    data = report.data["source_labels"]
    assert data["benchmark"] == "cladder"
    assert data["overall"]["exact"]["accuracy"] == 1.0
    assert data["overall"]["source"]["correct"] == agree
    assert data["overall"]["source"]["accuracy"] == pytest.approx(agree / LIMIT)
    assert data["overall"]["source"]["ci_low"] == pytest.approx(wilson_interval(agree, LIMIT)[0])
    assert data["differ"]["n"] == LIMIT - agree == 3
    # on the differing items the oracle is always right by ladder and always wrong by CLadder
    assert data["differ"]["exact"]["accuracy"] == 1.0
    assert data["differ"]["source"]["correct"] == 0
    assert f"The labels differ on **{LIMIT - agree}** items" in report.markdown
    assert "| labels differ |" in report.markdown


def test_random_per_rung_and_query_type(runs: dict[str, Path]) -> None:
    """Random baseline: per-rung and per-query-type counts recounted from the files."""
    report = build_report(runs["random"], figures=False)
    data = report.data["source_labels"]
    pairs = _scored(runs["random"])
    for key in ("rung", "query_type"):
        for value, both in data[key].items():
            group = [(s, i) for s, i in pairs if str(s[key]) == value]
            exact = sum(s["prediction"] == i["answer"] for s, i in group)
            source = sum(s["prediction"] == i["source"]["label"] for s, i in group)
            assert (both["exact"]["n"], both["exact"]["correct"]) == (len(group), exact)
            assert (both["source"]["n"], both["source"]["correct"]) == (len(group), source)
    assert sum(both["exact"]["n"] for both in data["rung"].values()) == LIMIT
    differ = [(s, i) for s, i in pairs if i["source"]["label"] != i["answer"]]
    assert data["differ"]["n"] == len(differ)
    assert data["differ"]["source"]["correct"] == sum(
        s["prediction"] == i["source"]["label"] for s, i in differ
    )


def test_ladder_run_has_no_section(tmp_path: Path) -> None:
    """A run of ladder's own suite (no ``source`` block) shows no such section."""
    run_dir = tmp_path / "runs" / "random"
    argv = ["run", "--model", "random", "--suite", "core", "--n", "20", "--seed", "3"]
    assert main([*argv, "--run-dir", str(run_dir), "--quiet"]) == 0
    report = build_report(run_dir, figures=False)
    assert "Scored both ways" not in report.markdown
    assert "source_labels" not in report.data
