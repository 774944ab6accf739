"""``ladder report`` on small synthetic runs whose numbers are known by construction.

The runs are written by hand (:func:`write_run`): 120 items, 40 per rung, with a model
right on 32 / 22 / 18 of rungs 1 / 2 / 3, an association oracle right on 40 / 30 / 28 and
a truth oracle right everywhere. Expected numbers are computed here independently (Wilson
by its formula, the pooled z-test by hand, McNemar with statsmodels).

Synthetic Granger format used by the Granger test: the shape ``ladder.granger.probe`` writes
(granger_version 1), reduced to the keys the report reads (``GRANGER_KEYS`` of the report module)::

    granger.json  {"status": "complete", "n_done": 7, "n_planned": 7,
                   "model": {"name": ...}, "settings": {"alpha": 0.05},
                   "cells": [{"condition": str, "coupling": float, "lag": int, "length": int,
                              "n": int, "truth_rate": float, "sm_reject_rate": float,
                              "model_reject_rate": float, "agree_model_sm": float,
                              "acc_model_truth": float, "auc": {"auc_sm": ...} | null}, ...],
                   "summary": {"fpr": {"hidden_driver": {"n", "sm", "model", "verbal"}}}}
    series.jsonl  {"id": str, "truth": bool, "te_m": float, "sm_p": float | null, ...}
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest
from statsmodels.stats.contingency_tables import mcnemar

from ladder.analysis import report as rep
from ladder.analysis.report import ReportError, build_report, write_report

PER_RUNG = 40
MODEL_RIGHT = {1: 32, 2: 22, 3: 18}
ASSOC_RIGHT = {1: 40, 2: 30, 3: 28}
VERBS = ("commonsense", "anticommonsense", "nonsense", "symbolic")
QTYPE = {1: "correlation", 2: "ate", 3: "ett"}
SCM_XY = {
    "variables": [
        {"name": "X", "parents": [], "cpt": [0.5]},
        {"name": "Y", "parents": ["X"], "cpt": [0.2, 0.7]},
    ]
}


def make_items(per_rung: int = PER_RUNG, task: str = "synthetic") -> list[dict[str, Any]]:
    """Items with every contract field; answers alternate yes/no within a rung.

    The association answer is right exactly where the association-oracle run of
    :func:`write_suite` is (``pattern(items, ASSOC_RIGHT, shift=5)``); the samples written by
    :func:`write_run` do not carry it, so reports take it from ``items.jsonl``.
    """
    items = []
    flip = {"yes": "no", "no": "yes"}
    for rung in (1, 2, 3):
        for k in range(per_rung):
            answer = "yes" if k % 2 == 0 else "no"
            assoc_right = (k - 5) % PER_RUNG < ASSOC_RIGHT[rung]
            items.append(
                {
                    "id": hashlib.sha256(f"{task}-{rung}-{k}".encode()).hexdigest()[:16],
                    "task": task,
                    "rung": rung,
                    "graph_family": ("chain", "confounding")[k % 2],
                    "verbalization": VERBS[k % 4],
                    "scm": SCM_XY,
                    "query": {"type": QTYPE[rung], "treatment": "X", "outcome": "Y"},
                    "query_type": QTYPE[rung],
                    "truth": 0.3,
                    "answer": answer,
                    "prompt": f"q{k}",
                    "seed": 0,
                    "n_nodes": 3 if k < per_rung // 2 else 4,
                    "evidence": "probabilities",
                    "association_answer": answer if assoc_right else flip[answer],
                    "discordant": not assoc_right,
                }
            )
    return items


def pattern(items: list[dict[str, Any]], right: dict[int, int], shift: int = 0) -> list[bool]:
    """Correctness: within each rung, items ``shift .. shift + right - 1`` (cyclic) are right."""
    out = []
    for item in items:
        k = int(item["prompt"][1:])
        out.append((k - shift) % PER_RUNG < right[item["rung"]])
    return out


def write_run(
    root: Path,
    name: str,
    items: list[dict[str, Any]],
    correct: list[bool],
    *,
    kind: str = "hf",
    stamp: str = "20260101T000000Z",
    status: str = "complete",
    results: bool = True,
    n_samples: int | None = None,
    p_right: float = 0.8,
    p_wrong: float = 0.3,
) -> Path:
    """A run directory ``root/name/stamp`` written by hand."""
    run = root / name / stamp
    run.mkdir(parents=True)
    text = "".join(json.dumps(i, sort_keys=True) + "\n" for i in items)
    (run / "items.jsonl").write_text(text)
    samples = []
    for item, ok in list(zip(items, correct, strict=True))[:n_samples]:
        flip = {"yes": "no", "no": "yes"}
        pred = item["answer"] if ok else flip[item["answer"]]
        conf = p_right if ok else p_wrong
        samples.append(
            {
                "id": item["id"],
                "p_yes": conf if pred == "yes" else 1 - conf,
                "prediction": pred,
                "answer": item["answer"],
                "correct": ok,
                "truth": item["truth"],
                "query_type": item["query_type"],
                **{
                    k: item[k]
                    for k in ("rung", "graph_family", "n_nodes", "verbalization", "evidence")
                },
            }
        )
    (run / "samples.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
    if results:
        data = {
            "results_version": 1,
            "status": status,
            "started": f"{stamp}",
            "finished": None,
            "ladder": {"version": "0.1.0", "git_commit": "abc123"},
            "command": f"ladder run --model {name}",
            "model": {"name": name, "kind": kind, "fingerprint": "f" * 64},
            "settings": {"mode": "loglik"},
            "items": {
                "path": str(run / "items.jsonl"),
                "sha256": hashlib.sha256(text.encode()).hexdigest(),
                "n": len(items),
                "limit": None,
                "tasks": ["synthetic"],
                "seeds": [0],
            },
            "environment": {"python": "3.11"},
            "metrics": None,
        }
        (run / "results.json").write_text(json.dumps(data))
    return run


def write_suite(root: Path, with_baselines: bool = True) -> Path:
    """A model run plus (optionally) truth- and association-oracle runs on the same items."""
    items = make_items()
    model = write_run(root, "tiny-model", items, pattern(items, MODEL_RIGHT))
    if with_baselines:
        write_run(
            root,
            "truth-oracle",
            items,
            [True] * len(items),
            kind="baseline",
            p_right=1.0,
            p_wrong=0.0,
        )
        write_run(
            root,
            "association-oracle",
            items,
            pattern(items, ASSOC_RIGHT, shift=5),
            kind="baseline",
            p_right=1.0,
            p_wrong=0.0,
        )
    return model


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval, by its formula."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def pooled_p(c1: int, n1: int, c2: int, n2: int) -> float:
    p1, p2, p = c1 / n1, c2 / n2, (c1 + c2) / (n1 + n2)
    z = (p1 - p2) / math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    return math.erfc(abs(z) / math.sqrt(2))


def is_png(path: Path) -> bool:
    data = path.read_bytes()
    return data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1024


def write_granger(folder: Path) -> None:
    """The synthetic granger.json + series.jsonl described in the module docstring."""

    def cell(condition, coupling, truth, sm, model, agree_sm, acc_truth, auc=None):
        return {
            "condition": condition,
            "coupling": coupling,
            "lag": 1,
            "length": 80,
            "n": 4,
            "truth_rate": truth,
            "sm_reject_rate": sm,
            "model_reject_rate": model,
            "agree_model_sm": agree_sm,
            "acc_model_truth": acc_truth,
            "auc": auc,
        }

    cells = [
        cell("var", 0.0, 0.0, 0.0, 0.25, 0.75, 0.75),
        cell("var", 0.5, 1.0, 1.0, 0.75, 0.70, 0.80, {"auc_sm": 1.0, "auc_te_m": 0.9}),
        cell("hidden_driver", 0.9, 0.0, 1.0, 0.75, 0.95, 0.25),
    ]
    data = {
        "granger_version": 1,
        "status": "complete",
        "n_done": 7,
        "n_planned": 7,
        "model": {"name": "tiny", "fingerprint": "0" * 64},
        "settings": {"alpha": 0.05},
        "cells": cells,
        "summary": {"fpr": {"hidden_driver": {"n": 4, "sm": 1.0, "model": 0.75, "verbal": None}}},
    }
    (folder / "granger.json").write_text(json.dumps(data))
    (folder / "series.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in GRANGER_SERIES) + '{"torn": '
    )


GRANGER_SERIES = [
    {"id": f"s{k}", "truth": y, "te_m": s, "sm_p": p}
    for k, (y, s, p) in enumerate(
        [
            (True, 0.9, 0.001),
            (True, 0.4, 0.01),
            (True, 0.7, None),
            (False, 0.5, 0.4),
            (False, 0.1, 0.8),
            (False, 0.8, 0.001),
            (False, 0.3, 0.03),
        ]
    )
]


def hand_auc(pos: list[float], neg: list[float]) -> float:
    return sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))


@pytest.fixture(scope="module")
def full(tmp_path_factory) -> rep.Report:
    """One report with figures and a Granger section (drawn once: figures are slow)."""
    root = tmp_path_factory.mktemp("runs")
    run = write_suite(root)
    write_granger(run)
    return write_report(run, command="ladder report test")


@pytest.fixture
def quick(tmp_path) -> tuple[Path, rep.Report]:
    run = write_suite(tmp_path)
    return run, build_report(run, figures=False)


def test_rung_accuracy_and_wilson(quick):
    _, report = quick
    for rung, right in MODEL_RIGHT.items():
        m = report.data["rungs"][str(rung)]
        low, high = wilson(right, PER_RUNG)
        assert m["accuracy"] == pytest.approx(right / PER_RUNG)
        assert (m["ci_low"], m["ci_high"]) == (pytest.approx(low), pytest.approx(high))
        boot = report.data["rung_measures"][str(rung)]["accuracy"]
        assert boot["estimate"] == pytest.approx(right / PER_RUNG)
        assert boot["low"] <= right / PER_RUNG <= boot["high"]
        row = f"| {rung} | {PER_RUNG} | — | {right / PER_RUNG:.3f} [{boot['low']:.3f}, "
        assert row in report.markdown
    total = sum(MODEL_RIGHT.values())
    assert f"**{total / 120:.3f} [" in report.markdown and "on 120 items" in report.markdown


def test_rung_drops_use_unpaired_test(quick):
    _, report = quick
    for (lo, hi), key in (((1, 2), "1->2"), ((2, 3), "2->3")):
        expected = pooled_p(MODEL_RIGHT[lo], PER_RUNG, MODEL_RIGHT[hi], PER_RUNG)
        assert report.data["drops"][key]["p_value"] == pytest.approx(expected)
    text = report.markdown
    assert "two-proportion z-test (pooled, unpaired), because the rungs hold different" in text
    p12 = pooled_p(32, 40, 22, 40)
    assert f"drops by {10 / 40:.3f} (0.800 → 0.550)" in text
    assert f"p = {p12:.3g}" in text


def test_ladder_gap_from_sibling_runs(quick):
    _, report = quick
    gap = report.data["gap"]
    assert gap["1"]["gap"] == pytest.approx(0.0) and gap["1"]["position"] is None
    for rung in (2, 3):
        assoc, model = ASSOC_RIGHT[rung] / PER_RUNG, MODEL_RIGHT[rung] / PER_RUNG
        assert gap[str(rung)]["association"] == pytest.approx(assoc)
        assert gap[str(rung)]["position"] == pytest.approx((model - assoc) / (1 - assoc))
    text = report.markdown
    assert "Rung 1: the ladder gap is ~0" in text
    assert "Rung 2: the ladder gap is 0.250 (truth oracle 1.000 − association oracle 0.750)" in text
    assert f"sits at {(0.55 - 0.75) / 0.25:.2f} of it" in text
    assert "association-oracle — run" in text or "association-oracle, truth-oracle — run" in text
    # random / always-yes have no runs: the report says how to make them
    assert "No run of random, always-yes on these items was found" in text
    assert "ladder run --model always-yes --items" in text


def test_gap_items_sentence(quick):
    _, report = quick
    assoc_wrong = 120 - sum(ASSOC_RIGHT.values())
    assert report.data["gap_items"]["wrong"]["n"] == assoc_wrong
    assert f"On the {assoc_wrong} items where the association answer is wrong" in report.markdown


def test_answer_bias_mcnemar_matches_statsmodels(quick):
    run, report = quick
    samples = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    said = [s["prediction"] == "yes" for s in samples]
    true = [s["answer"] == "yes" for s in samples]
    b = sum(x and not y for x, y in zip(said, true, strict=True))
    c = sum(y and not x for x, y in zip(said, true, strict=True))
    both = sum(x and y for x, y in zip(said, true, strict=True))
    ref = mcnemar([[both, b], [c, len(said) - both - b - c]], exact=b + c < 25)
    assert report.data["bias"]["p_value"] == pytest.approx(min(1.0, ref.pvalue))
    assert (report.data["bias"]["b"], report.data["bias"]["c"]) == (b, c)


def test_slices_and_verbalization_sentence(quick):
    _, report = quick
    data = report.data
    assert set(data["verbalization"]) == set(VERBS)
    cs, acs = data["verbalization"]["commonsense"], data["verbalization"]["anticommonsense"]
    # one planned comparison, a clustered Wald test (items are their own clusters here)
    import statsmodels.api as sm

    y = [1.0] * cs["correct"] + [0.0] * (cs["n"] - cs["correct"])
    y += [1.0] * acs["correct"] + [0.0] * (acs["n"] - acs["correct"])
    x = sm.add_constant([0.0] * cs["n"] + [1.0] * acs["n"])
    fit = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": list(range(len(y)))}, use_t=True)
    assert data["world_knowledge"]["p_value"] == pytest.approx(fit.pvalues[1])
    assert "World knowledge (one planned comparison): commonsense" in report.markdown
    assert "Only one evidence mode (probabilities)" in report.markdown
    assert data["query_family"]["cols"] == ["chain", "confounding"]
    assert sum(map(sum, data["query_family"]["counts"])) == 120
    assert "| correlation (rung 1) |" in report.markdown


def test_markdown_tables_are_well_formed(quick):
    """Every table: a header, a delimiter row, rows with as many cells as the header."""
    _, report = quick
    lines = report.markdown.splitlines()
    tables = 0
    for k in range(1, len(lines)):
        if lines[k].startswith("|:-") or lines[k].startswith("|--"):
            tables += 1
            assert lines[k - 1].startswith("| ") and (k < 2 or not lines[k - 2].startswith("|"))
            cells = lines[k - 1].replace("\\|", "").count("|")
            assert lines[k].count("|") == cells
            j = k + 1
            while j < len(lines) and lines[j].startswith("|"):
                assert lines[j].replace("\\|", "").count("|") == cells, lines[j]
                j += 1
    assert tables >= 10


def test_full_report_figures_and_footer(full):
    assert full.path is not None and full.path.name == "report.md"
    assert full.path.read_text() == full.markdown
    names = {p.name for p in full.figures}
    assert {
        "report-rungs.png",
        "report-query-family.png",
        "report-nodes.png",
        "report-reliability.png",
        "report-granger-roc.png",
    } <= names
    for path in full.figures:
        assert is_png(path), path
        assert f"]({path.name})" in full.markdown
    text = full.markdown
    assert "## Reproducibility" in text
    for needle in (
        "`ffffffff",
        "commit `abc123`",
        "ladder run --model tiny-model",
        "synthetic / 0",
        "ladder report test",
        "python 3.11",
    ):
        assert needle in text, needle


def test_granger_section(full):
    text = full.markdown
    assert "## Granger probes" in text
    assert "model name tiny; status complete; n done 7; n planned 7; alpha 0.050." in text
    assert (
        "| 3 | hidden_driver | 0.900 | 1 | 80 | 4 | 0.000 | 1.000 | 0.750 | 0.950 | 0.250 |" in text
    )
    assert (
        "The model agrees with statsmodels most in `condition=hidden_driver, "
        "coupling=0.900, lag=1, length=80` (agreement 0.950) and least in "
        "`condition=var, coupling=0.500, lag=1, length=80` (0.700)"
    ) in text
    assert (
        "agrees with the truth most in `condition=var, coupling=0.500, lag=1, length=80` "
        "(agreement 0.800) and least in `condition=hidden_driver"
    ) in text
    assert "statsmodels reports a link in 1.000 of 4 series and the model in 0.750" in text
    assert "the Granger run is of model tiny, not of this report's model tiny-model" in text
    te_pos = [r["te_m"] for r in GRANGER_SERIES if r["truth"]]
    te_neg = [r["te_m"] for r in GRANGER_SERIES if not r["truth"]]
    sm_pos = [-r["sm_p"] for r in GRANGER_SERIES if r["truth"] and r["sm_p"] is not None]
    sm_neg = [-r["sm_p"] for r in GRANGER_SERIES if not r["truth"] and r["sm_p"] is not None]
    auc = full.data["granger"]["auc"]
    assert auc["model TE_M"] == pytest.approx(hand_auc(te_pos, te_neg))
    assert auc["statsmodels (1 − p)"] == pytest.approx(hand_auc(sm_pos, sm_neg))
    assert f"model TE_M {hand_auc(te_pos, te_neg):.3f}" in text


def test_granger_tolerates_other_shapes(tmp_path):
    folder = tmp_path / "g"
    folder.mkdir()
    (folder / "granger.json").write_text(
        json.dumps(
            {
                "cells": [
                    {"label": "A", "rates": {"model": 0.2, "statsmodels": 0.3, "truth": 0.0}},
                    {"label": "B", "rates": {"model": 0.9, "statsmodels": 0.1, "truth": 1.0}},
                ]
            }
        )
    )
    lines = "\n".join(rep.granger_section(folder / "granger.json"))
    assert "| A | 0.200 | 0.300 | 0.000 |" in lines
    assert "closest to statsmodels's in `A` (0.200 vs 0.300) and farthest in `B`" in lines
    (folder / "granger.json").write_text(
        json.dumps({"status": "running", "n_done": 3, "n_planned": 36, "cells": []})
    )
    text = "\n".join(rep.granger_section(folder / "granger.json"))
    assert "the Granger run is running: 3 of 36 series" in text
    (folder / "granger.json").write_text(json.dumps({"results": []}))
    assert "has no list of cells under cells (keys found: results)" in "\n".join(
        rep.granger_section(folder / "granger.json")
    )
    (folder / "granger.json").write_text("{not json")
    assert "unreadable" in "\n".join(rep.granger_section(folder / "granger.json"))


def _commands(markdown: str) -> list[str]:
    """The shell commands of the report's ```sh block."""
    lines = markdown.splitlines()
    start = lines.index("```sh") + 1
    return lines[start : lines.index("```", start)]


def test_without_baseline_runs_the_report_says_which_to_make(tmp_path, capsys):
    """No baseline is computed in-process: the report names the runs to make, with
    commands that work; once made, the report finds them and uses them."""
    import shlex

    from ladder import cli
    from ladder.generation.generate import dumps, generate_items
    from ladder.generation.specs import load_suite
    from ladder.harness.predictors import BASELINES

    items = list(generate_items(load_suite("quick"), 0, 24))
    right = [k % 3 != 0 for k in range(len(items))]
    run = write_run(tmp_path, "tiny-model", items, right)
    (run / "items.jsonl").write_text("".join(dumps(i) + "\n" for i in items))
    meta = json.loads((run / "results.json").read_text())
    meta["items"]["sha256"] = hashlib.sha256((run / "items.jsonl").read_bytes()).hexdigest()
    (run / "results.json").write_text(json.dumps(meta))
    report = build_report(run, figures=False)
    assert not any("sha256" in w for w in report.warnings)
    assert "computed in-process" not in report.markdown and "gap" not in report.data
    assert "No baseline is available, so the ladder gap cannot be computed." in report.markdown
    commands = _commands(report.markdown)
    names = ["random", "always-yes", "association-oracle", "truth-oracle"]
    assert commands == [
        shlex.join(
            ["ladder", "run", "--model", name, "--items", str(run / "items.jsonl"),
             "--run-dir", str(tmp_path / name / run.name)]
        )
        for name in names
    ]  # fmt: skip
    # the rest of the report is there: headline, slices, discordant items (from the items)
    assert report.data["overall"]["n"] == 24 and "query_type" in report.data
    discordant = [i["id"] for i in items if i["discordant"]]
    assert discordant and report.data["gap_items"]["wrong"]["n"] == len(discordant)
    assert cli.main(["report", str(run), "--no-figures"]) == 0
    assert "ladder report: note: no run of random, always-yes, association-oracle, " in (
        capsys.readouterr().err
    )
    for command in commands:
        assert cli.main([*shlex.split(command)[1:], "--quiet"]) == 0
    capsys.readouterr()
    report = build_report(run, figures=False)
    assert "```sh" not in report.markdown
    preds = BASELINES["association-oracle"].predict(items)
    for rung in ("1", "2", "3"):
        # Items without a rung-1 counterpart (association answer none) are not in the gap.
        idx = [
            k
            for k, i in enumerate(items)
            if str(i["rung"]) == rung and i.get("association_answer", "") is not None
        ]
        if not idx:
            continue
        expected = sum(preds[k].prediction == items[k]["answer"] for k in idx) / len(idx)
        assert report.data["gap"][rung]["association"] == pytest.approx(expected)
        assert report.data["gap"][rung]["truth"] == pytest.approx(1.0)


def test_baselines_option_and_other_hash_ignored(tmp_path):
    items = make_items()
    model = write_run(tmp_path / "a", "tiny-model", items, pattern(items, MODEL_RIGHT))
    elsewhere = tmp_path / "b"
    write_run(elsewhere, "truth-oracle", items, [True] * 120, kind="baseline")
    other_items = make_items(task="other")
    write_run(elsewhere, "association-oracle", other_items, [True] * 120, kind="baseline")
    report = build_report(model, baselines=[elsewhere], figures=False)
    assert report.data["gap"]["2"]["truth"] == pytest.approx(1.0)
    assert report.data["gap"]["2"]["association"] is None  # other hash: not used
    assert "association-oracle/20260101T000000Z ignored: its items" in report.markdown
    assert "No run of random, always-yes, association-oracle on these items" in report.markdown
    assert "ladder run --model association-oracle --items" in report.markdown
    assert "the ladder gap cannot be computed" in report.markdown


# -- bad input ----------------------------------------------------------------------------------


def test_missing_and_empty_dirs(tmp_path):
    with pytest.raises(ReportError, match="no such run directory"):
        build_report(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReportError, match="not a run directory"):
        build_report(tmp_path / "empty")


def test_items_without_samples(tmp_path):
    items = make_items()
    run = write_run(tmp_path, "tiny-model", items, pattern(items, MODEL_RIGHT), n_samples=0)
    with pytest.raises(ReportError, match=r"no scored samples .*holds 120 items"):
        build_report(run)


def test_samples_without_results(tmp_path):
    items = make_items()
    run = write_run(tmp_path, "tiny-model", items, pattern(items, MODEL_RIGHT), results=False)
    report = build_report(run, figures=False)
    assert any("no results.json" in w for w in report.warnings)
    assert "> **Warning:** no results.json" in report.markdown
    assert report.data["rungs"]["2"]["accuracy"] == pytest.approx(22 / 40)


def test_partial_run_warns_with_counts(tmp_path):
    items = make_items()
    run = write_run(
        tmp_path, "tiny-model", items, pattern(items, MODEL_RIGHT), status="running", n_samples=57
    )
    report = build_report(run, figures=False)
    assert "run status is 'running': 57 of 120 items scored" in report.markdown
    assert report.data["overall"]["n"] == 57


def test_unreadable_answers(tmp_path):
    items = make_items()
    run = write_suite(tmp_path)
    samples = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    for s in samples[:3]:
        s.update(prediction="unreadable", p_yes=None, correct=False)
    (run / "samples.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
    report = build_report(run, figures=False)
    right = sum(pattern(items, MODEL_RIGHT)[3:])
    assert report.data["overall"]["correct"] == right
    assert report.data["overall"]["unreadable"] == 3
    assert "3 answers were unreadable" in report.markdown


def test_torn_last_line_is_dropped(tmp_path):
    items = make_items()
    run = write_run(tmp_path, "tiny-model", items, pattern(items, MODEL_RIGHT))
    with (run / "samples.jsonl").open("a") as fh:
        fh.write('{"id": "torn", "predi')
    assert build_report(run, figures=False).data["overall"]["n"] == 120


def test_without_matplotlib(tmp_path, monkeypatch):
    run = write_suite(tmp_path)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    report = write_report(run)
    assert report.figures == []
    assert "![" not in report.markdown
    assert "figures were not drawn: matplotlib is not available" in report.markdown
    assert not list(run.glob("*.png"))


# -- command line --------------------------------------------------------------------------------


def _main(argv: list[str]) -> int:
    """``ladder.cli.main``."""
    from ladder import cli

    return cli.main(argv)


def test_cli_report(tmp_path, capsys):
    run = write_suite(tmp_path)
    out = tmp_path / "out" / "r.md"
    assert _main(["report", str(run), "--out", str(out), "--no-figures"]) == 0
    assert out.exists() and "wrote" in capsys.readouterr().out
    (tmp_path / "empty").mkdir()
    assert _main(["report", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a run directory" in err and "Traceback" not in err
    assert _main(["report", str(run), "--granger", str(tmp_path)]) == 2
    assert "no granger.json there" in capsys.readouterr().err


def test_configure_report_parses():
    from ladder.commands.report import configure as configure_report

    p = argparse.ArgumentParser()
    configure_report(p)
    args = p.parse_args(["r", "--baselines", "a", "b", "--out", "x.md"])
    assert args.baselines == [Path("a"), Path("b")] and args.out == Path("x.md")


def test_write_report_passes_every_option_on(tmp_path):
    run = write_suite(tmp_path)
    out = tmp_path / "elsewhere" / "r.md"
    report = write_report(run, out=out, figures=False, command="ladder report special")
    assert report.path == out and out.read_text() == report.markdown
    assert "ladder report special" in report.markdown and report.figures == []
    assert not list(out.parent.glob("*.png")) and not (run / "report.md").exists()
    built = build_report(run, out=out, figures=False, command="ladder report special")
    assert built.markdown == report.markdown


def test_slice_sections_without_their_fields(tmp_path):
    items = make_items()
    run = write_run(tmp_path, "tiny-model", items, pattern(items, MODEL_RIGHT))
    dropped = ("n_nodes", "verbalization", "evidence")
    for name in ("items.jsonl", "samples.jsonl"):  # neither may supply the fields
        rows = [json.loads(line) for line in (run / name).read_text().splitlines()]
        (run / name).write_text(
            "".join(
                json.dumps({k: v for k, v in r.items() if k not in dropped}) + "\n" for r in rows
            )
        )
    report = build_report(run, figures=False)
    for heading, missing in (
        ("By graph size", "node count"),
        ("By verbalization", "verbalization"),
        ("By evidence mode", "evidence mode"),
    ):
        assert f"### {heading}\n\nThe samples carry no {missing}." in report.markdown
    assert not set(dropped) & set(report.data)
