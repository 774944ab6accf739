"""The harness: baselines, resumable runs, response cache, metrics, export, CLI bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from ladder.cli import main
from ladder.engine.queries import Query, answer
from ladder.generation.generate import dumps, generate_items
from ladder.generation.specs import load_suite
from ladder.harness.metrics import expected_calibration_error, summarize
from ladder.harness.predictors import BASELINES, Prediction
from ladder.harness.runner import ResponseCache, read_samples, run


@pytest.fixture(scope="module")
def items_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("items") / "items.jsonl"
    path.write_text("".join(dumps(i) + "\n" for i in generate_items(load_suite("quick"), 3)))
    return path


def _items(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_truth_oracle_scores_100_and_always_yes_scores_yes_rate(
    items_file: Path, tmp_path: Path
) -> None:
    items = _items(items_file)
    truth = run(BASELINES["truth-oracle"], items_file, tmp_path / "t", progress=False)
    assert truth["metrics"]["overall"]["accuracy"] == 1.0
    assert truth["status"] == "complete"
    yes = run(BASELINES["always-yes"], items_file, tmp_path / "y", progress=False)
    yes_rate = sum(i["answer"] == "yes" for i in items) / len(items)
    assert yes["metrics"]["overall"]["accuracy"] == pytest.approx(yes_rate, abs=1e-12)
    assert yes["metrics"]["overall"]["yes_rate"] == 1.0


def test_association_oracle_equals_truth_on_rung_1(items_file: Path) -> None:
    # On rung-1 questions the observational counterpart is the question itself.
    items = [i for i in _items(items_file) if i["rung"] == 1]
    assert items
    preds = BASELINES["association-oracle"].predict(items)
    assert [p.prediction for p in preds] == [i["answer"] for i in items]


def test_association_oracle_answers_ate_with_the_conditional_contrast() -> None:
    # Confounding SCM where P(y|x1) − P(y|x0) > 0 but the ATE < 0 (hand-computed).
    scm = {
        "noise": "comonotone",
        "variables": [
            {"name": "Z", "parents": [], "cpt": [0.5]},
            {"name": "X", "parents": ["Z"], "cpt": [0.1, 0.9]},
            {"name": "Y", "parents": ["X", "Z"], "cpt": [0.2, 0.9, 0.1, 0.8]},
        ],
    }
    # ATE = 0.5*(0.1-0.2) + 0.5*(0.8-0.9) = -0.1
    # P(y|x1) = (0.5*0.1*0.1 + 0.5*0.9*0.8)/0.5 = 0.73
    # P(y|x0) = (0.5*0.9*0.2 + 0.5*0.1*0.9)/0.5 = 0.27
    item = {
        "id": "c",
        "scm": scm,
        "truth": -0.1,
        "answer": "no",
        "query": {"type": "ate", "treatment": "X", "outcome": "Y", "polarity": 1},
    }
    pred = BASELINES["association-oracle"].predict([item])[0]
    assert pred.extra["association"] == pytest.approx(0.73 - 0.27, abs=1e-12)
    assert pred.prediction == "yes"
    assert BASELINES["truth-oracle"].predict([item])[0].prediction == "no"


class _Interrupting:
    """Wraps a baseline and raises KeyboardInterrupt on the n-th predict call."""

    def __init__(self, inner: Any, fail_on: int) -> None:
        self.inner, self.fail_on, self.calls = inner, fail_on, 0
        self.returned: list[str] = []
        self.name, self.slug, self.fingerprint = inner.name, inner.slug, inner.fingerprint

    def identity(self) -> dict[str, Any]:
        return self.inner.identity()

    def settings(self) -> dict[str, Any]:
        return self.inner.settings()

    def predict(self, items: list[dict[str, Any]]) -> list[Prediction]:
        self.calls += 1
        if self.calls == self.fail_on:
            raise KeyboardInterrupt
        self.returned += [i["id"] for i in items]
        return self.inner.predict(items)


def test_interrupted_run_resumes_without_loss_or_duplicates(
    items_file: Path, tmp_path: Path
) -> None:
    full = run(BASELINES["random"], items_file, tmp_path / "full", progress=False, chunk_size=16)
    interrupted = _Interrupting(BASELINES["random"], fail_on=3)
    with pytest.raises(KeyboardInterrupt):
        run(interrupted, items_file, tmp_path / "cut", progress=False, chunk_size=16)
    partial = read_samples(tmp_path / "cut" / "samples.jsonl")
    # Every item the predictor answered before Ctrl-C is on disk, and nothing else.
    assert [s["id"] for s in partial] == interrupted.returned
    assert len(partial) >= 2
    stopped = json.loads((tmp_path / "cut" / "results.json").read_text())
    assert stopped["status"] == "partial"
    assert stopped["metrics"]["overall"]["n"] == len(partial)
    # A write torn by a kill leaves half a line: resume must cut it, not keep or crash.
    with (tmp_path / "cut" / "samples.jsonl").open("a") as fh:
        fh.write('{"id": "torn", "p_y')
    resumed = run(
        BASELINES["random"],
        items_file,
        tmp_path / "cut",
        resume=True,
        progress=False,
        chunk_size=16,
    )
    a = read_samples(tmp_path / "full" / "samples.jsonl")
    b = read_samples(tmp_path / "cut" / "samples.jsonl")
    key = lambda s: (s["id"], s["prediction"], s["p_yes"])  # noqa: E731
    assert sorted(map(key, a)) == sorted(map(key, b))
    assert len({s["id"] for s in b}) == len(b)
    assert resumed["metrics"]["overall"] == full["metrics"]["overall"]
    assert resumed["status"] == "complete"


def test_resume_refuses_another_model(items_file: Path, tmp_path: Path) -> None:
    run(BASELINES["random"], items_file, tmp_path / "r", progress=False, limit=5)
    with pytest.raises(ValueError, match="resume it with that model"):
        run(BASELINES["always-yes"], items_file, tmp_path / "r", resume=True, progress=False)


def test_cache_is_keyed_by_model_fingerprint(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c.sqlite")
    k1 = ResponseCache.key({"fingerprint": "model-a", "settings": {"mode": "loglik"}}, "prompt")
    k2 = ResponseCache.key({"fingerprint": "model-b", "settings": {"mode": "loglik"}}, "prompt")
    k3 = ResponseCache.key({"fingerprint": "model-a", "settings": {"mode": "generate"}}, "prompt")
    assert len({k1, k2, k3}) == 3
    cache.put_many({k1: Prediction(0.7, "yes", {"lp_yes": -0.1})})
    assert cache.get_many([k1, k2, k3]).keys() == {k1}
    assert cache.get_many([k1])[k1].p_yes == 0.7
    cache.close()


def test_second_run_is_served_from_cache(items_file: Path, tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c.sqlite")
    first = run(BASELINES["random"], items_file, tmp_path / "a", cache=cache, progress=False)
    second = run(BASELINES["random"], items_file, tmp_path / "b", cache=cache, progress=False)
    s1 = read_samples(tmp_path / "a" / "samples.jsonl")
    s2 = read_samples(tmp_path / "b" / "samples.jsonl")
    assert not any(s["cached"] for s in s1) and all(s["cached"] for s in s2)
    assert first["metrics"]["overall"] == second["metrics"]["overall"]
    cache.close()


def _wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_metrics_against_hand_computation() -> None:
    samples = [
        {"answer": "yes", "prediction": "yes", "p_yes": 0.95},
        {"answer": "yes", "prediction": "no", "p_yes": 0.30},
        {"answer": "no", "prediction": "no", "p_yes": 0.10},
        {"answer": "no", "prediction": "yes", "p_yes": 0.65},
        {"answer": "no", "prediction": "unreadable", "p_yes": None},
    ]
    m = summarize(samples)
    assert m["n"] == 5 and m["correct"] == 2 and m["accuracy"] == 0.4
    low, high = _wilson(2, 5)
    assert m["ci_low"] == pytest.approx(low, abs=1e-12)
    assert m["ci_high"] == pytest.approx(high, abs=1e-12)
    brier = ((0.95 - 1) ** 2 + (0.30 - 1) ** 2 + 0.10**2 + 0.65**2) / 4
    assert m["brier"] == pytest.approx(brier, abs=1e-12)
    assert m["unreadable"] == 1
    assert m["yes_rate"] == pytest.approx(2 / 4)
    # ECE by hand: confidences 0.95 (right), 0.70 (wrong), 0.90 (right), 0.65 (wrong);
    # bins of width 0.05 on [0.5, 1]: each sample alone in its bin.
    ece = (abs(1 - 0.95) + abs(0 - 0.70) + abs(1 - 0.90) + abs(0 - 0.65)) / 4
    assert expected_calibration_error([0.95, 0.30, 0.10, 0.65], [1, 1, 0, 0]) == pytest.approx(
        ece, abs=1e-12
    )


def test_samples_carry_slicing_fields(items_file: Path, tmp_path: Path) -> None:
    run(BASELINES["always-yes"], items_file, tmp_path / "s", progress=False)
    sample = read_samples(tmp_path / "s" / "samples.jsonl")[0]
    for key in (
        "id",
        "p_yes",
        "prediction",
        "correct",
        "rung",
        "query_type",
        "graph_family",
        "n_nodes",
        "verbalization",
        "evidence",
    ):
        assert key in sample
    results = json.loads((tmp_path / "s" / "results.json").read_text())
    from ladder.harness.results_schema import validate_results

    assert validate_results(results) == []


def test_export_lm_eval(items_file: Path, tmp_path: Path) -> None:
    assert (
        main(
            [
                "export",
                "--format",
                "lm-eval",
                "--items",
                str(items_file),
                "--out",
                str(tmp_path / "lm"),
            ]
        )
        == 0
    )
    config = yaml.safe_load((tmp_path / "lm" / "ladder_quick.yaml").read_text())
    assert config["output_type"] == "multiple_choice"
    assert config["doc_to_choice"] == ["No", "Yes"]
    rows = [
        json.loads(x) for x in (tmp_path / "lm" / "ladder_quick.jsonl").read_text().split("\n") if x
    ]
    items = _items(items_file)
    assert len(rows) == len(items)
    assert all(r["label"] == (i["answer"] == "yes") for r, i in zip(rows, items, strict=True))
    assert Path(config["dataset_kwargs"]["data_files"]["test"]).exists()


# -- CLI bad input ---------------------------------------------------------------------------------


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    # Progress bars of a model load may precede it; the error itself is one line.
    err = [
        line
        for line in capsys.readouterr().err.strip().splitlines()
        if not line.startswith(("Loading weights", "Writing model"))
    ]
    assert len(err) == 1 and err[0].startswith("ladder run: error: "), err
    assert "Traceback" not in err[0]
    return err[0]


def test_malformed_item_line_names_its_line(
    items_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    lines = items_file.read_text().splitlines()
    lines[4] = lines[4][:-5]
    bad.write_text("\n".join(lines) + "\n")
    runs = tmp_path / "runs"
    assert main(["run", "--model", "random", "--items", str(bad), "--out-dir", str(runs)]) == 2
    assert f"{bad}:5: malformed JSON" in _one_error_line(capsys)
    assert not runs.exists()


def test_missing_gguf_and_unknown_model(
    items_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    runs = tmp_path / "runs"
    earlier = runs / "keep" / "results.json"
    earlier.parent.mkdir(parents=True)
    earlier.write_text("{}")
    assert (
        main(
            [
                "run",
                "--model",
                str(tmp_path / "nope.gguf"),
                "--items",
                str(items_file),
                "--out-dir",
                str(runs),
            ]
        )
        == 2
    )
    assert "nope.gguf" in _one_error_line(capsys)
    assert (
        main(
            [
                "run",
                "--model",
                "no-such-org/no-such-model",
                "--items",
                str(items_file),
                "--out-dir",
                str(runs),
            ]
        )
        == 2
    )
    line = _one_error_line(capsys)
    assert "no-such-org/no-such-model" in line and "gguf" in line.lower()
    assert "smollm2" in line.lower()
    assert sorted(p.name for p in runs.iterdir()) == ["keep"]
    assert earlier.read_text() == "{}"


def test_chat_template_required_but_missing(
    tiny_model: Any, items_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "tiny"
    tiny_model.model.save_pretrained(folder)
    tiny_model.tokenizer.save_pretrained(folder)
    runs = tmp_path / "runs"
    capsys.readouterr()
    code = main(
        [
            "run",
            "--model",
            str(folder),
            "--chat-template",
            "--items",
            str(items_file),
            "--out-dir",
            str(runs),
            "--no-cache",
        ]
    )
    assert code == 2
    assert "chat template" in _one_error_line(capsys)
    assert not runs.exists()


def test_local_folder_model_end_to_end(
    tiny_model: Any, items_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "tiny"
    tiny_model.model.save_pretrained(folder)
    tiny_model.tokenizer.save_pretrained(folder)
    run_dir = tmp_path / "run"
    assert (
        main(
            [
                "run",
                "--model",
                str(folder),
                "--items",
                str(items_file),
                "--limit",
                "12",
                "--run-dir",
                str(run_dir),
                "--no-cache",
                "--quiet",
            ]
        )
        == 0
    )
    samples = read_samples(run_dir / "samples.jsonl")
    assert len(samples) == 12
    assert all(0.0 <= s["p_yes"] <= 1.0 for s in samples)
    results = json.loads((run_dir / "results.json").read_text())
    assert results["status"] == "complete" and results["model"]["source"] == "local"
    assert results["settings"]["chat_template"] is False


def test_answer_rule_of_truth_oracle_matches_contract(items_file: Path) -> None:
    for item in _items(items_file):
        assert answer(Query.from_dict(item["query"]), item["truth"]) == item["answer"]


def test_chunks_never_split_a_family(tmp_path: Path) -> None:
    """The runner hands the scorer whole families (their shared prefix is computed once per
    call), even when the chunk size would cut one."""
    path = tmp_path / "items.jsonl"
    items = list(generate_items(load_suite("core"), 2, 60))
    path.write_text("".join(dumps(i) + "\n" for i in items))
    calls: list[list[str]] = []

    class Recording:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def predict(self, batch: Any) -> list[Prediction]:
            calls.append([i["family_id"] for i in batch])
            return self.inner.predict(batch)

    run(Recording(BASELINES["random"]), path, tmp_path / "r", progress=False, chunk_size=2)
    seen: dict[str, int] = {}
    for k, call in enumerate(calls):
        for family in call:
            assert seen.setdefault(family, k) == k, "a family was split across calls"
    assert sum(map(len, calls)) == 60 and max(map(len, calls)) > 2


def test_run_summary_puts_bias_free_measures_beside_accuracy(
    items_file: Path, tmp_path: Path, capsys: Any
) -> None:
    """The printed summary shows the majority baseline, balanced accuracy and AUROC: for
    always-yes they are the labels' majority share, 0.5 and 0.5 whatever its accuracy."""
    argv = ["run", "--model", "always-yes", "--items", str(items_file), "--no-cache"]
    assert main([*argv, "--run-dir", str(tmp_path / "r")]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    answers = [i["answer"] for i in _items(items_file)]
    yes = answers.count("yes") / len(answers)
    assert f"accuracy {yes:.3f} [" in first
    assert f"(majority baseline {max(yes, 1 - yes):.3f})" in first
    assert "balanced accuracy 0.500 [0.500, 0.500]; AUROC 0.500 [0.500, 0.500]" in first
