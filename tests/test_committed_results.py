"""The committed results are what the tools compute from the committed runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from ladder.analysis.readme import readme_block
from ladder.harness.results_schema import validate_results

ROOT = Path(__file__).resolve().parent.parent
RUNS = sorted((ROOT / "reports" / "core500" / "runs").glob("*/"))

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
        "smollm2-135m-instruct",
        "gemma-3-270m",
    } <= names
