"""``ladder leaderboard`` on hand-written runs (builders shared with test_report)."""

from __future__ import annotations

import csv
import io
import math

import pytest
from sklearn.metrics import roc_auc_score
from statsmodels.stats.contingency_tables import mcnemar
from test_report import (
    ASSOC_RIGHT,
    MODEL_RIGHT,
    PER_RUNG,
    _main,
    make_items,
    pattern,
    wilson,
    write_run,
)

from ladder.analysis.leaderboard import (
    LeaderboardError,
    build_leaderboard,
    leaderboard_headline,
    write_leaderboard,
)

STRONG = {1: 36, 2: 30, 3: 26}  # 92 / 120
NEAR = {1: 35, 2: 29, 3: 26}  # 90 / 120: a lead of 2 items, not significant


@pytest.fixture
def runs(tmp_path):
    items = make_items()
    dirs = {
        "weak": write_run(tmp_path, "weak-model", items, pattern(items, MODEL_RIGHT)),
        "strong": write_run(tmp_path, "strong-model", items, pattern(items, STRONG)),
        "near": write_run(tmp_path, "near-model", items, pattern(items, NEAR)),
        "truth": write_run(tmp_path, "truth-oracle", items, [True] * 120, kind="baseline"),
        "assoc": write_run(
            tmp_path,
            "association-oracle",
            items,
            pattern(items, ASSOC_RIGHT, shift=5),
            kind="baseline",
        ),
    }
    return dirs


def test_ranking_accuracy_and_mcnemar(runs):
    d = runs
    board = build_leaderboard([d["weak"], d["near"], d["strong"], d["truth"], d["assoc"]])
    order = [e.run.name for e in board.entries]
    assert order == [
        "truth-oracle",
        "association-oracle",
        "strong-model",
        "near-model",
        "weak-model",
    ]  # 1.000, 0.817, 0.767, 0.750, 0.600
    by = {e.run.name: e for e in board.entries}
    strong = by["strong-model"]
    assert strong.overall["accuracy"] == pytest.approx(92 / 120)
    low, high = wilson(92, 120)
    assert (strong.overall["ci_low"], strong.overall["ci_high"]) == (
        pytest.approx(low),
        pytest.approx(high),
    )
    # each row is tested against the next with McNemar on the same items
    for upper, lower in zip(board.entries, board.entries[1:], strict=False):
        a = [s["correct"] for s in upper.run.samples]
        b = {s["id"]: s["correct"] for s in lower.run.samples}
        b = [b[s["id"]] for s in upper.run.samples]
        n10 = sum(x and not y for x, y in zip(a, b, strict=True))
        n01 = sum(y and not x for x, y in zip(a, b, strict=True))
        n11 = sum(x and y for x, y in zip(a, b, strict=True))
        if n10 + n01 == 0:
            assert upper.vs_next.p_value == 1.0
            continue
        ref = mcnemar([[n11, n10], [n01, len(a) - n11 - n10 - n01]], exact=n10 + n01 < 25)
        assert upper.vs_next.p_value == pytest.approx(min(1.0, ref.pvalue))
        assert (upper.vs_next.b, upper.vs_next.c) == (n10, n01)
    assert by["weak-model"].vs_next is None


def test_exact_binomial_case_and_ns_mark(runs):
    d = runs
    board = build_leaderboard([d["strong"], d["near"]])
    first = board.entries[0]
    assert first.run.name == "strong-model"
    # strong is right on a superset of near's items: b = 2 discordant, c = 0
    assert (first.vs_next.b, first.vs_next.c, first.vs_next.method) == (2, 0, "exact")
    assert first.vs_next.p_value == pytest.approx(2 * 0.5**2)  # 2 * P(Bin(2, ½) = 0)
    assert "| 1 (n.s.) | strong-model |" in board.markdown
    assert "| 2 | near-model |" in board.markdown


def test_ladder_gap_closed(runs):
    d = runs
    board = build_leaderboard([d["weak"], d["strong"], d["truth"], d["assoc"]])
    by = {e.run.name: e for e in board.entries}
    positions = []
    for rung in (2, 3):  # rung 1 has no gap (both oracles right everywhere)
        assoc = ASSOC_RIGHT[rung] / PER_RUNG
        positions.append((STRONG[rung] / PER_RUNG - assoc) / (1 - assoc))
    assert by["strong-model"].gap_rungs == ["2", "3"]
    assert by["strong-model"].gap_closed == pytest.approx(sum(positions) / 2)
    assert by["truth-oracle"].gap_closed == pytest.approx(1.0)
    assert by["association-oracle"].gap_closed == pytest.approx(0.0)


def test_headline_is_computed_and_quotable(runs):
    d = runs
    dirs = [d["weak"], d["strong"], d["truth"], d["assoc"]]
    text = leaderboard_headline(dirs)
    board = build_leaderboard(dirs)
    by = {e.run.name: e for e in board.entries}
    # AUROC recomputed from the samples by sklearn
    for name in ("strong-model", "weak-model"):
        samples = by[name].run.samples
        ref = roc_auc_score([s["answer"] == "yes" for s in samples], [s["p_yes"] for s in samples])
        assert by[name].auroc == pytest.approx(ref)
    assert text.startswith("Ranked by AUROC of P(yes) against the true answer")
    assert f"**strong-model** ranks first with AUROC {by['strong-model'].auroc:.3f}" in text
    assert f"against weak-model's {by['weak-model'].auroc:.3f}" in text
    assert "McNemar on correctness: significant" in text
    assert "Baselines are ranked in the table but left out" in text
    assert board.markdown.splitlines()[2] == text
    assert "**How to read this table**" in board.markdown


def test_write_markdown_and_csv(runs, tmp_path):
    d = runs
    out = tmp_path / "reports" / "leaderboard.md"
    write_leaderboard([d["weak"], d["strong"]], out)
    assert out.exists()
    rows = list(csv.DictReader(io.StringIO(out.with_suffix(".csv").read_text())))
    assert [r["model"] for r in rows] == ["strong-model", "weak-model"]
    assert float(rows[0]["accuracy"]) == pytest.approx(92 / 120)
    assert float(rows[1]["rung_2"]) == pytest.approx(22 / 40)
    assert rows[0]["significant_vs_next"] in ("True", "False")
    assert math.isfinite(float(rows[0]["vs_next_p"]))
    text = out.read_text()
    header = next(line for line in text.splitlines() if line.startswith("| rank |"))
    assert "| AUROC [95% CI] | chance? | balanced accuracy [95% CI] |" in header
    assert "AUROC rung 1 | AUROC rung 2 | AUROC rung 3 | yes-rate | Brier" in header
    assert rows[0]["at_chance"] in ("True", "False") and float(rows[0]["auroc_low"]) <= float(
        rows[0]["auroc"]
    )


def test_refuses_different_items(runs, tmp_path):
    d = runs
    other_items = make_items(task="other-suite")
    other = write_run(
        tmp_path / "elsewhere", "other-model", other_items, pattern(other_items, MODEL_RIGHT)
    )
    with pytest.raises(LeaderboardError) as info:
        build_leaderboard([d["strong"], other])
    message = str(info.value)
    assert "\n" not in message and "different item files" in message
    assert str(d["strong"]) in message and str(other) in message
    assert "--per-slice" in message
    board = build_leaderboard([d["strong"], other], per_slice=True)
    assert not board.paired
    assert "> **Warning:** **these runs were made on different item files**" in board.markdown
    assert "## Per slice" in board.markdown and "### verbalization" in board.markdown
    assert board.entries[0].vs_next.name.startswith("two-proportion z-test")


def test_partial_run_warning_and_duplicates(runs, tmp_path):
    d = runs
    items = make_items()
    partial = write_run(
        tmp_path,
        "weak-model",
        items,
        pattern(items, MODEL_RIGHT),
        stamp="20260102T000000Z",
        status="partial",
        n_samples=50,
    )
    board = build_leaderboard([d["weak"], partial])
    assert any("partial: 50 of 120 items scored" in w for w in board.warnings)
    labels = sorted(e.label for e in board.entries)
    assert labels == ["weak-model [20260101T000000Z]", "weak-model [20260102T000000Z]"]
    assert board.entries[0].vs_next.n == 50 or board.entries[1].vs_next is None
    with pytest.raises(LeaderboardError, match="given twice"):
        build_leaderboard([d["weak"], d["weak"]])


def test_cli_leaderboard(runs, tmp_path, capsys):
    d = runs
    out = tmp_path / "lb.md"
    assert _main(["leaderboard", str(d["weak"]), str(d["strong"]), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "strong-model ranks first" in printed and out.with_suffix(".csv").exists()
    other_items = make_items(task="x")
    other = write_run(tmp_path / "x", "x-model", other_items, pattern(other_items, STRONG))
    assert _main(["leaderboard", str(d["weak"]), str(other), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "different item files" in err and "Traceback" not in err


def test_suites_side_by_side(runs, tmp_path, capsys):
    """Runs on two item files: one column per suite, a board per suite with two runs or
    more, the cells equal to each run's own AUROC and accuracy, no test across suites."""
    d = runs
    other_items = make_items(task="other-suite")
    other = write_run(
        tmp_path / "elsewhere", "strong-model", other_items, pattern(other_items, MODEL_RIGHT)
    )
    out = tmp_path / "suites.md"
    argv = ["leaderboard", "--suites", str(d["strong"]), str(d["weak"]), str(other)]
    assert _main([*argv, "--out", str(out)]) == 0
    text = out.read_text()
    header = next(line for line in text.splitlines() if line.startswith("| model |"))
    assert header.count("|") == 4  # model + two suites
    board = build_leaderboard([d["strong"], d["weak"]])
    strong = next(e for e in board.entries if e.run.name == "strong-model")
    assert f"AUROC {strong.auroc:.3f}" in text and "## Suite:" in text
    assert text.count("## Suite:") == 1  # the other suite has one run: no board
    rows = list(csv.DictReader(io.StringIO(out.with_suffix(".csv").read_text())))
    assert len(rows) == 3 and {r["model"] for r in rows} == {"strong-model", "weak-model"}


def test_suites_compare_trained_items_with_fresh_ones(tmp_path):
    """A control scored on the items it was trained on (its run records contamination) and
    on fresh items: the cell is marked, and a section gives both sides and the difference
    as :func:`unpaired_difference` computes it from the two runs' samples."""
    import json

    from ladder.analysis.measures import unpaired_difference
    from ladder.analysis.runfiles import load_run

    trained_items, fresh_items = make_items(task="control"), make_items(task="control")
    for item in fresh_items:
        item["id"] += "-fresh"
    seen = write_run(tmp_path / "a", "ctl", trained_items, [True] * len(trained_items))
    fresh = write_run(tmp_path / "b", "ctl", fresh_items, pattern(fresh_items, MODEL_RIGHT))
    data = json.loads((seen / "results.json").read_text())
    data["contamination"] = {"reason": "same item file", "depth": 0, "labels": "truth"}
    data["items"]["seeds"] = [11]
    (seen / "results.json").write_text(json.dumps(data))
    out = tmp_path / "suites.md"
    assert _main(["leaderboard", "--suites", str(seen), str(fresh), "--out", str(out)]) == 0
    text = out.read_text()
    header = next(line for line in text.splitlines() if line.startswith("| model |"))
    assert "synthetic seed 11" in header and "synthetic seed 0" in header
    assert text.count("**[trained on these items]**") == 1
    line = next(x for x in text.splitlines() if x.startswith("- **ctl** on the items"))
    diff = unpaired_difference(load_run(seen).samples, load_run(fresh).samples, "accuracy")
    assert diff["estimate"] == pytest.approx(1.0 - 72 / 120)  # pattern: 72 of 120 right
    assert f"accuracy {diff['estimate']:.3f} [{diff['low']:.3f}, {diff['high']:.3f}]" in line
    assert "(synthetic seed 11)" in line and "(synthetic seed 0)" in line
