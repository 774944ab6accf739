"""Readers of run files facing damaged runs: leaderboard left-outs, duplicate sample ids,
fields the samples lack (taken from items.jsonl), and baselines that are not there.

Runs are the hand-written ones of ``test_report`` (120 items, known correctness).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_report import (
    ASSOC_RIGHT,
    MODEL_RIGHT,
    _main,
    make_items,
    pattern,
    write_run,
    write_suite,
)

from ladder.analysis.leaderboard import LeaderboardError, build_leaderboard
from ladder.analysis.report import build_report
from ladder.analysis.runfiles import load_run

STRONG = {1: 36, 2: 30, 3: 26}


@pytest.fixture
def three(tmp_path) -> dict[str, Path]:
    items = make_items()
    return {
        "weak": write_run(tmp_path, "weak-model", items, pattern(items, MODEL_RIGHT)),
        "strong": write_run(tmp_path, "strong-model", items, pattern(items, STRONG)),
        "other": write_run(tmp_path, "other-model", items, pattern(items, STRONG, shift=3)),
    }


# -- leaderboard: missing or corrupt results.json (defect 11) --------------------------------------


def test_leaderboard_leaves_out_missing_and_corrupt_results(three, tmp_path):
    (three["other"] / "results.json").write_text('{"status": "compl')  # a torn write
    items = make_items()
    missing = write_run(tmp_path, "lost-model", items, pattern(items, STRONG), results=False)
    board = build_leaderboard([three["weak"], three["strong"], three["other"], missing])
    assert [e.run.name for e in board.entries] == ["strong-model", "weak-model"]
    left = [w for w in board.warnings if "left out" in w]
    assert len(left) == 2
    assert left[0].startswith(f"{three['other']} left out: results.json is unreadable")
    assert left[1].startswith(f"{missing} left out: no results.json")
    assert all("\n" not in w for w in board.warnings)
    assert f"> **Warning:** {left[0]}" in board.markdown


def test_leaderboard_results_json_that_is_not_an_object(three):
    (three["other"] / "results.json").write_text("[1, 2]")
    board = build_leaderboard([three["weak"], three["strong"], three["other"]])
    assert len(board.entries) == 2
    assert any("results.json is not a JSON object" in w for w in board.warnings)


def test_leaderboard_fails_with_one_line_under_two_usable_runs(three, tmp_path):
    (three["strong"] / "results.json").unlink()
    (tmp_path / "empty").mkdir()
    with pytest.raises(LeaderboardError) as info:
        build_leaderboard([three["weak"], three["strong"], tmp_path / "empty"])
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("a leaderboard needs at least 2 usable runs; 1 of 3 given")
    assert "no results.json" in message and "not a run directory" in message


def test_cli_leaderboard_warns_one_line_per_run_left_out(three, tmp_path, capsys):
    (three["other"] / "results.json").write_text("{not json")
    out = tmp_path / "lb.md"
    argv = ["leaderboard", str(three["weak"]), str(three["strong"]), str(three["other"])]
    assert _main([*argv, "--out", str(out)]) == 0
    err = capsys.readouterr().err.splitlines()
    left = [line for line in err if "left out" in line]
    assert left == [
        f"ladder leaderboard: warning: {three['other']} left out: results.json is unreadable "
        "(malformed JSON (Expecting property name enclosed in double quotes at line 1)): "
        "the model and its provenance are unknown"
    ]
    (three["strong"] / "results.json").write_text("")
    assert _main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "at least 2 usable runs" in err and "Traceback" not in err


# -- duplicate sample ids (defect 3 / 11) ---------------------------------------------------------


def _duplicate_first_samples(run: Path, k: int) -> None:
    """Append ``k`` repeats of the first samples with the opposite prediction."""
    lines = (run / "samples.jsonl").read_text().splitlines()
    flip = {"yes": "no", "no": "yes"}
    repeats = []
    for line in lines[:k]:
        s = json.loads(line)
        s.update(prediction=flip[s["prediction"]], correct=not s["correct"])
        repeats.append(json.dumps(s))
    (run / "samples.jsonl").write_text("\n".join(lines + repeats) + "\n")


def test_report_warns_about_duplicate_ids_and_counts_each_once(tmp_path, capsys):
    run = write_suite(tmp_path)
    _duplicate_first_samples(run, 3)
    report = build_report(run, figures=False)
    assert report.data["overall"]["n"] == 120
    assert report.data["overall"]["correct"] == sum(MODEL_RIGHT.values())  # first records kept
    dup = [w for w in report.warnings if "duplicate id" in w]
    assert len(dup) == 1 and "3 duplicate id(s) dropped" in dup[0]
    assert f"> **Warning:** {dup[0]}" in report.markdown
    assert _main(["report", str(run), "--no-figures", "--out", str(tmp_path / "r.md")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert any(
        line.startswith("ladder report: warning: ") and "3 duplicate id(s)" in line for line in err
    )


def test_leaderboard_repeats_duplicate_warning_and_counts_once(three):
    _duplicate_first_samples(three["weak"], 5)
    board = build_leaderboard([three["weak"], three["strong"]])
    weak = next(e for e in board.entries if e.run.name == "weak-model")
    assert weak.overall["n"] == 120 and weak.overall["correct"] == sum(MODEL_RIGHT.values())
    assert weak.vs_next is None or weak.vs_next.n == 120
    assert any(w.startswith(f"{three['weak']}: ") and "5 duplicate" in w for w in board.warnings)


# -- fields from the samples, else from items.jsonl -----------------------------------------------


def test_sample_fields_come_from_the_samples_first(tmp_path):
    """A field the sample carries wins over the item's; a missing one is filled."""
    items = make_items()
    run = write_run(tmp_path, "m", items, pattern(items, MODEL_RIGHT))
    samples = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    samples[0]["discordant"] = not items[0]["discordant"]
    del samples[1]["rung"]
    (run / "samples.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
    loaded = load_run(run)
    assert loaded.samples[0]["discordant"] is (not items[0]["discordant"])
    assert loaded.samples[1]["rung"] == items[1]["rung"]
    assert loaded.samples[2]["association_answer"] == items[2]["association_answer"]
    report = build_report(run, figures=False)
    wrong = sum(i["discordant"] for i in items) + (1 if samples[0]["discordant"] else -1)
    assert report.data["gap_items"]["wrong"]["n"] == wrong


def test_discordant_from_association_answer_when_nothing_carries_it(tmp_path):
    items = make_items()
    for item in items:
        del item["discordant"]
    run = write_run(tmp_path, "m", items, pattern(items, MODEL_RIGHT))
    report = build_report(run, figures=False)
    assert report.data["gap_items"]["wrong"]["n"] == 120 - sum(ASSOC_RIGHT.values())


def test_items_failing_todays_checks_still_fill_fields(tmp_path):
    items = make_items()
    run = write_run(tmp_path, "m", items, pattern(items, MODEL_RIGHT))
    items[4]["answer"] = "maybe"  # refused by read_items
    (run / "items.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items))
    loaded = load_run(run)
    assert any("fails today's item checks" in w and ":5:" in w for w in loaded.warnings)
    assert loaded.samples[0]["discordant"] == items[0]["discordant"]


def test_no_discordant_anywhere_is_said(tmp_path):
    items = make_items()
    for item in items:
        del item["discordant"], item["association_answer"]
    run = write_run(tmp_path, "m", items, pattern(items, MODEL_RIGHT))
    report = build_report(run, figures=False)
    assert "gap_items" not in report.data
    assert "carry no `discordant` field" in report.markdown


# -- baselines are runs; the leaderboard says which to make ---------------------------------------


def test_leaderboard_without_oracle_runs_names_the_commands(three):
    board = build_leaderboard([three["weak"], three["strong"]])
    assert all(e.gap_closed is None for e in board.entries)
    [warning] = [w for w in board.warnings if "ladder gap closed is n/a" in w]
    items = three["weak"] / "items.jsonl"
    for name in ("truth-oracle", "association-oracle"):
        target = three["weak"].parent.parent / name / three["weak"].name
        assert f"`ladder run --model {name} --items {items} --run-dir {target}`" in warning


def test_partial_baseline_run_gets_a_resume_hint(tmp_path):
    items = make_items()
    model = write_suite(tmp_path)
    write_run(
        tmp_path, "random", items, [True] * 120, kind="baseline", status="partial", n_samples=30
    )
    report = build_report(model, figures=False)
    assert "covers 30 of the 120 scored items; finish it with `ladder run --resume" in (
        report.markdown
    )
    assert "No run of random, always-yes on these items was found" in report.markdown


def test_malformed_neighbour_results_are_not_baselines(tmp_path):
    """A folder near the run whose results.json is odd JSON is skipped, not a traceback."""
    from ladder.analysis.baselines import _baseline_hash

    for i, text in enumerate(
        [
            '{"model": "x"}',
            "[1, 2]",
            '{"model": {"kind": "baseline", "name": "random"}, "items": "nope"}',
            "null",
        ]
    ):
        d = tmp_path / f"n{i}"
        d.mkdir()
        (d / "results.json").write_text(text)
    assert _baseline_hash(tmp_path / "n0") == (False, None)
    assert _baseline_hash(tmp_path / "n1") == (False, None)
    assert _baseline_hash(tmp_path / "n2") == (True, None)
    assert _baseline_hash(tmp_path / "n3") == (False, None)
