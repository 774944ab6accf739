"""The committed results are what the tools compute from the committed runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from ladder.analysis.readme import readme_block
from ladder.harness.results_schema import validate_results

ROOT = Path(__file__).resolve().parent.parent
RUNS = sorted((ROOT / "reports" / "core600" / "runs").glob("*/"))

pytestmark = pytest.mark.skipif(not RUNS, reason="no committed runs")


def test_readme_quotes_the_computed_leaderboard_headline() -> None:
    import os

    cwd = os.getcwd()
    os.chdir(ROOT)  # the block names paths relative to the repository root
    try:
        block = readme_block("reports/leaderboard.md", [str(p.relative_to(ROOT)) for p in RUNS])
    finally:
        os.chdir(cwd)
    assert block in (ROOT / "README.md").read_text()


def test_committed_runs_are_complete_and_on_the_same_items() -> None:
    import json

    hashes = set()
    names = set()
    for run in RUNS:
        results = json.loads((run / "results.json").read_text())
        assert validate_results(results) == []
        assert results["status"] == "complete"
        hashes.add(results["items"]["sha256"])
        names.add(results["model"]["name"])
        assert (run / "report.md").is_file()
    assert len(hashes) == 1
    assert {
        "truth-oracle",
        "association-oracle",
        "always-yes",
        "random",
        "mixture-0.7",
        "biased-0.9",
        "smollm2-135m-instruct",
        "gemma-3-270m",
    } <= names


def test_committed_items_are_the_first_600_of_core_at_seed_0() -> None:
    """reports/core600/items.jsonl is what ``ladder generate --suite core --n 600 --seed 0``
    writes today (so a new generation rule cannot silently drift from the committed runs)."""
    from ladder.generation.generate import dumps, generate_items
    from ladder.generation.specs import load_suite

    committed = (ROOT / "reports" / "core600" / "items.jsonl").read_text()
    fresh = "".join(dumps(i) + "\n" for i in generate_items(load_suite("core"), 0, 600))
    assert committed == fresh


def test_committed_mixture_and_biased_reports_recover_their_weights() -> None:
    """The validation baselines: each report recovers its weight within its interval, and
    the biased baseline is not called an associational reasoner."""
    from ladder.analysis.association import FOLLOWS
    from ladder.analysis.report import build_report

    runs = ROOT / "reports" / "core600" / "runs"
    for name, weight in (("mixture-0.7", 0.7), ("biased-0.9", 0.9)):
        data = build_report(runs / name, figures=False).data
        got = data["recovered_weight"]
        assert got["low"] <= weight <= got["high"]
    biased = build_report(runs / "biased-0.9", figures=False).data
    assert biased["association_following"]["verdict"] != FOLLOWS


CLADDER_RUNS = sorted((ROOT / "reports" / "cladder" / "runs").glob("*/"))


@pytest.mark.skipif(not CLADDER_RUNS, reason="no committed CLadder runs")
def test_committed_cladder_runs_are_complete_on_the_imported_items() -> None:
    """The CLadder comparison: every run complete on the one imported item file, with its
    report; the truth oracle scores every imported item (ladder's exact labels)."""
    import json

    hashes, names = set(), set()
    for run in CLADDER_RUNS:
        results = json.loads((run / "results.json").read_text())
        assert validate_results(results) == [] and results["status"] == "complete"
        hashes.add(results["items"]["sha256"])
        names.add(results["model"]["name"])
        assert (run / "report.md").is_file()
    assert len(hashes) == 1
    assert {"truth-oracle", "smollm2-135m-instruct", "gemma-3-270m"} <= names
    truth = json.loads((ROOT / "reports/cladder/runs/truth-oracle/results.json").read_text())
    assert truth["metrics"]["overall"]["accuracy"] == 1.0
    assert truth["metrics"]["overall"]["n"] == 4006
