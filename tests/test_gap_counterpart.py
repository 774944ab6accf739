"""Items whose association answer is recorded as none stay out of the ladder gap."""

from __future__ import annotations

import json

from ladder.cli import main

SPEC = """\
name: gapcheck
n: 60
margin: 0.05
verbalizations: [symbolic]
evidence: [probabilities]
families:
  questions: all
  twins: true
  verbalizations: one
cells:
  confounding: [correlation, ate, backdoor_set]
"""


def test_no_counterpart_items_are_left_out_of_the_gap(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    items = tmp_path / "items.jsonl"
    assert main(["generate", "--spec", str(spec), "--out", str(items), "--quiet"]) == 0
    rows = [json.loads(line) for line in items.open()]
    none = [r for r in rows if r["association_answer"] is None]
    assert none and all(r["query_type"] == "backdoor_set" for r in none)
    for model in ("truth-oracle", "association-oracle", "random"):
        run = tmp_path / "runs" / model
        assert (
            main(["run", "--model", model, "--items", str(items), "--run-dir", str(run), "--quiet"])
            == 0
        )
    report = tmp_path / "runs" / "random" / "report.md"
    assert main(["report", str(tmp_path / "runs" / "random"), "--no-figures"]) == 0
    text = report.read_text()
    assert f"{len(none)} items without a rung-1 counterpart" in text
    # The "all" row counts only items with a counterpart, and the association oracle's
    # accuracy there is computed over those items alone.
    kept = [r for r in rows if r["association_answer"] is not None]
    expected = sum(r["association_answer"] == r["answer"] for r in kept) / len(kept)
    lines = text.splitlines()
    start = next(k for k, line in enumerate(lines) if "| ladder gap |" in line)
    header = lines[start]
    row = next(line for line in lines[start:] if line.startswith("| all |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    columns = [c.strip() for c in header.strip("|").split("|")]
    assert int(cells[columns.index("items")]) == len(kept)
    assert cells[columns.index("association-oracle")] == f"{expected:.3f}"
    assert cells[columns.index("truth-oracle")] == "1.000"
    # The gap is truth − association on the same items.
    assert cells[columns.index("ladder gap")] == f"{1.0 - expected:.3f}"
    capsys.readouterr()
