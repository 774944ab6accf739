"""``ladder finetune`` on a tiny random-initialised Llama (a few steps each).

What is checked, each against a value computed another way:

* the training loop's option log-probs are the scorer's (``score_options``) to 1e-4, so the
  model is trained on exactly what ``ladder run`` scores;
* training lowers the option-probability loss on the chosen labels, measured with the
  harness's own predictor on the base folder and on the output folder;
* the output folder loads through ``ladder run --model DIR`` and scores as the predictor does;
* the provenance holds the item file's sha256, the (task, seed) pairs, the base fingerprint;
* the contamination flag fires for the same file and for the same spec and seed, not for a
  fresh seed;
* a run stopped after a checkpoint and rerun ends with the losses and weights of an
  uninterrupted run;
* bad input exits 2 with one line.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import TINY_CHAT_TEMPLATE, build_tiny_llama, build_tiny_tokenizer

from ladder.cli import main
from ladder.core.io import file_sha256
from ladder.generation.generate import dumps, generate_items
from ladder.generation.items import read_items
from ladder.generation.specs import load_spec
from ladder.harness import finetune as ft
from ladder.harness.models.scoring import score_options
from ladder.harness.predictors import HFPredictor
from ladder.harness.provenance import PROVENANCE_FILE, contamination, read_provenance

SPEC = """\
name: ft-test
n: 12
margin: 0.1
verbalizations: [symbolic]
evidence: [probabilities]
cells:
  chain: [ate, correlation]
  confounding: [ate]
"""
TRAIN_ARGS = ["--labels", "truth", "--batch-size", "4", "--max-steps", "12", "--epochs", "4"]
LORA_ARGS = ["--lr", "1e-2", "--lora-rank", "8", "--quiet"]


def _write_items(spec: Path, seed: int, n: int, out: Path) -> Path:
    out.write_text("".join(dumps(i) + "\n" for i in generate_items(load_spec(spec), seed, n)))
    return out


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """A tiny chat model folder and item files of seeds 1 (12 and 16 items) and 2."""
    root = tmp_path_factory.mktemp("finetune")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LADDER_CACHE", str(root / "cache"))  # sha256 memo, response cache
        tokenizer = build_tiny_tokenizer()
        tokenizer.chat_template = TINY_CHAT_TEMPLATE
        base = root / "base"
        build_tiny_llama(tokenizer).save_pretrained(base)
        tokenizer.save_pretrained(base)
        spec = root / "spec.yaml"
        spec.write_text(SPEC)
        paths = {
            "root": root,
            "base": base,
            "train": _write_items(spec, 1, 12, root / "train.jsonl"),
            "more": _write_items(spec, 1, 16, root / "seed1_more.jsonl"),
            "fresh": _write_items(spec, 2, 8, root / "fresh.jsonl"),
        }
        yield paths


@pytest.fixture(scope="module")
def trained(setup: dict[str, Path]) -> Path:
    """LoRA-trained for 12 steps on the truth of the seed-1 items (through the CLI)."""
    out = setup["root"] / "trained"
    argv = ["finetune", "--model", str(setup["base"]), "--items", str(setup["train"])]
    assert main([*argv, "--out", str(out), *TRAIN_ARGS, *LORA_ARGS]) == 0
    return out


def _option_loss(model: Path, items: list[dict[str, Any]]) -> float:
    """Mean -log p(answer) with p_yes from the harness's own predictor."""
    preds = HFPredictor(str(model)).predict(items)
    return -sum(
        math.log(p.p_yes if i["answer"] == "yes" else 1 - p.p_yes)
        for p, i in zip(preds, items, strict=True)
    ) / len(items)


def test_training_logprobs_are_the_scorers(setup: dict[str, Path]) -> None:
    import torch

    predictor = HFPredictor(str(setup["base"]))
    items = read_items(setup["train"])
    examples, _ = ft.build_examples(predictor, items, "truth")
    with torch.no_grad():
        lp, _ = ft.option_logprobs(predictor.loaded.model, examples[:5], 0, "cpu")
    prompts = [predictor.scored_text(i) for i in items[:5]]
    scored = score_options(predictor.loaded, prompts, progress=False)
    assert lp.flatten().tolist() == pytest.approx([x for s in scored for x in s.logprobs], abs=1e-4)


def test_micro_batches_give_the_whole_batch_step(setup: dict[str, Path]) -> None:
    """A batch cut into one-example parts gives the gradient of the batch in one pass
    (gradients compared: Adam's first step is about lr·sign(g), which float rounding flips
    where g is near 0)."""
    predictor = HFPredictor(str(setup["base"]))
    examples, _ = ft.build_examples(predictor, read_items(setup["train"]), "truth")
    steps = []
    for budget in (1, 100_000):
        loaded = HFPredictor(str(setup["base"])).loaded
        settings = ft.TrainSettings(lora=False, batch_size=3, max_batch_tokens=budget)
        trainer = ft._Trainer(loaded, examples[:3], settings.resolved())
        trainer.optimizer.step = trainer.optimizer.zero_grad = lambda *a, **k: None  # keep grads
        loss = trainer.train_step()
        steps.append((loss, [p.grad.clone() for p in trainer.params]))
    (loss_a, grads_a), (loss_b, grads_b) = steps
    assert len(ft._micro_batches(examples[:3], 1)) == 3
    assert loss_a == pytest.approx(loss_b, abs=1e-6)
    assert all((a - b).abs().max() < 1e-5 for a, b in zip(grads_a, grads_b, strict=True))
    assert max(float(g.abs().max()) for g in grads_a) > 1e-3  # not all zero


def test_training_lowers_the_option_loss(setup: dict[str, Path], trained: Path) -> None:
    items = read_items(setup["train"])
    before, after = _option_loss(setup["base"], items), _option_loss(trained, items)
    assert after < before - 0.05, (before, after)


def test_output_folder_scores_through_ladder_run(
    setup: dict[str, Path], trained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = setup["root"] / "run"
    argv = ["run", "--model", str(trained), "--items", str(setup["fresh"])]
    assert main([*argv, "--run-dir", str(run_dir), "--no-cache", "--quiet"]) == 0
    results = json.loads((run_dir / "results.json").read_text())
    assert results["model"]["source"] == "local"
    samples = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    expected = HFPredictor(str(trained)).predict(read_items(setup["fresh"]))
    assert [s["p_yes"] for s in samples] == pytest.approx([p.p_yes for p in expected], abs=1e-5)
    assert results["model"]["fingerprint"] != HFPredictor(str(setup["base"])).fingerprint
    assert results["contamination"] is None  # a fresh seed
    assert results["model"]["finetune"]["labels"] == "truth"
    assert results["model"]["finetune"]["training_items_sha256"] == file_sha256(setup["train"])


def test_run_on_the_training_seed_is_flagged_in_results_report_and_leaderboard(
    setup: dict[str, Path], trained: Path
) -> None:
    """Scoring the fine-tuned model on items of its training spec and seed records the
    contamination, and the report and leaderboard say "trained on these items"."""
    from ladder.analysis.leaderboard import build_leaderboard
    from ladder.analysis.report import build_report

    dirs = {}
    for name, model in (("ft", str(trained)), ("oracle", "truth-oracle")):
        dirs[name] = setup["root"] / f"seed1-{name}"
        argv = ["run", "--model", model, "--items", str(setup["more"])]
        assert main([*argv, "--run-dir", str(dirs[name]), "--no-cache", "--quiet"]) == 0
    results = json.loads((dirs["ft"] / "results.json").read_text())
    assert results["contamination"]["reason"] == "same spec and seed"
    assert results["contamination"]["task_seeds"] == [["ft-test", 1]]
    assert (
        "**Trained on these items** (same spec and seed"
        in build_report(dirs["ft"], figures=False).markdown
    )
    board = build_leaderboard([dirs["ft"], dirs["oracle"]])
    label = next(e.label for e in board.entries if not e.run.is_baseline)
    assert "(control: trained on truth labels)" in label and "[trained on these items]" in label


def test_provenance_records_items_model_and_settings(setup: dict[str, Path], trained: Path) -> None:
    record = read_provenance(trained)
    assert record is not None and (trained / PROVENANCE_FILE).is_file()
    assert record["training_items"]["sha256"] == file_sha256(setup["train"])
    assert record["training_items"]["task_seeds"] == [["ft-test", 1]]
    assert record["training_items"]["n_trained"] == 12
    assert record["base_model"]["fingerprint"] == HFPredictor(str(setup["base"])).fingerprint
    assert record["labels"] == "truth" and record["steps"] == 12
    assert record["settings"]["lr"] == 1e-2 and record["settings"]["lora"] is True
    assert len(record["loss_history"]) == 12
    assert not (trained / ft.CHECKPOINT).exists()


def test_contamination_same_file_same_seed_not_fresh(setup: dict[str, Path], trained: Path) -> None:
    record = read_provenance(trained)
    copy = shutil.copyfile(setup["train"], setup["root"] / "copy.jsonl")
    same = contamination(record, copy, read_items(copy))
    assert same is not None and same["reason"] == "same item file"
    assert same["shared_prompts"] == 12
    more = contamination(record, setup["more"], read_items(setup["more"]))
    assert more is not None and more["reason"] == "same spec and seed"
    assert more["task_seeds"] == [["ft-test", 1]]
    assert contamination(record, setup["fresh"], read_items(setup["fresh"])) is None


def test_association_labels_skip_items_without_one(setup: dict[str, Path]) -> None:
    predictor = HFPredictor(str(setup["base"]))
    items = [dict(i) for i in read_items(setup["train"])]
    items[0]["association_answer"] = None
    items[1]["association_answer"] = "no" if items[1]["answer"] == "yes" else "yes"
    examples, skipped = ft.build_examples(predictor, items, "association")
    assert skipped == 1 and len(examples) == 11
    assert [e.label for e in examples] == [
        0 if i["association_answer"] == "yes" else 1 for i in items[1:]
    ]
    assert examples[0].label != (0 if items[1]["answer"] == "yes" else 1)


def test_stopped_run_resumes_to_the_uninterrupted_result(
    setup: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from safetensors.torch import load_file

    argv = ["finetune", "--model", str(setup["base"]), "--items", str(setup["train"])]
    opts = ["--labels", "truth", "--full", "--lr", "1e-3", "--batch-size", "4", "--epochs", "2"]
    opts += ["--checkpoint-every", "2", "--quiet"]
    whole, parts = setup["root"] / "whole", setup["root"] / "parts"
    assert main([*argv, "--out", str(whole), *opts]) == 0
    original = ft._Trainer.train_step

    def stop_after_three(self: Any) -> float:
        loss = original(self)
        if self.step == 3:
            raise KeyboardInterrupt  # a kill after step 3; the checkpoint holds step 2
        return loss

    monkeypatch.setattr(ft._Trainer, "train_step", stop_after_three)
    assert main([*argv, "--out", str(parts), *opts]) == 130
    assert not (parts / PROVENANCE_FILE).exists()
    monkeypatch.setattr(ft._Trainer, "train_step", original)
    capsys.readouterr()
    assert main([*argv, "--out", str(parts), *opts]) == 0
    assert "resuming from step 2 of 6" in capsys.readouterr().err
    a, b = read_provenance(whole), read_provenance(parts)
    assert a and b and b["loss_history"] == pytest.approx(a["loss_history"], abs=1e-6)
    wa, wb = load_file(whole / "model.safetensors"), load_file(parts / "model.safetensors")
    assert all((wa[k] - wb[k]).abs().max() < 1e-6 for k in wa)
    assert main([*argv, "--out", str(parts), *opts]) == 0  # finished: nothing to do
    assert main([*argv, "--out", str(parts), *opts[:-1], "--seed", "5"]) == 2


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_bad_input_exits_2_with_one_line(
    setup: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = setup["root"]
    empty = root / "empty.jsonl"
    empty.write_text("")
    taken = root / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    base = ["finetune", "--model", str(setup["base"])]
    cases = [
        (
            ["--items", str(setup["train"]), "--labels", "rumour", "--out", str(root / "a")],
            "rumour",
        ),
        (["--items", str(empty), "--labels", "truth", "--out", str(root / "b")], "no items"),
        (
            ["--items", str(root / "nope.jsonl"), "--labels", "truth", "--out", str(root / "c")],
            "nope",
        ),
        (["--items", str(setup["train"]), "--labels", "truth", "--out", str(taken)], "neither"),
    ]
    for args, words in cases:
        assert main([*base, *args]) == 2
        line = _one_line(capsys)
        assert line.startswith("ladder finetune: error:") and words in line, line
    assert not (root / "b").exists() and not (root / "c").exists()
    assert [p.name for p in taken.iterdir()] == ["notes.txt"]
