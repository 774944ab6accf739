"""``ladder run`` reliability: cache identity, resume settings, lock, clean failures, flushing,
file modes, Ctrl-C and resume, the association oracle reading its field (issue 9)."""

from __future__ import annotations

import argparse
import copy
import json
import os
import shlex
import shutil
import signal
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ladder.cli import main
from ladder.core.io import DuplicateRecordWarning
from ladder.engine.queries import Query, answer, association_truth
from ladder.engine.scm import SCM
from ladder.generation.generate import dumps, generate_items
from ladder.generation.specs import load_suite
from ladder.harness.cache import ResponseCache
from ladder.harness.predictors import BASELINES, HFPredictor, Prediction, tokenizer_digest
from ladder.harness.rundir import RunDir
from ladder.harness.runner import read_samples, run

REPO = Path(__file__).resolve().parents[1]
OTHER_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}### {{ m['role'] }}: {{ m['content'] }}\n"
    "{% endfor %}{% if add_generation_prompt %}### answer:{% endif %}"
)


_RANDOM_RULE = BASELINES["random"].rule


@pytest.fixture(scope="module")
def items_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("items") / "items.jsonl"
    path.write_text("".join(dumps(i) + "\n" for i in generate_items(load_suite("quick"), 3)))
    return path


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LADDER_CACHE", str(tmp_path / "ladder-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _items(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = [
        line
        for line in capsys.readouterr().err.strip().splitlines()
        if not line.startswith(("Loading weights", "Writing model"))
    ]
    assert len(err) == 1 and err[0].startswith("ladder run: error: "), err
    return err[0]


def _save(folder: Path, model: Any, tokenizer: Any, template: str | None) -> Path:
    tokenizer = copy.deepcopy(tokenizer)
    tokenizer.chat_template = template
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


# -- defect 1: the cache key covers tokenizer, template and the formatted prompt --------------


def test_cache_never_shares_answers_between_chat_templates(
    _tiny_llama: Any, tiny_tokenizer: Any, items_file: Path, tmp_path: Path
) -> None:
    from conftest import TINY_CHAT_TEMPLATE

    a = HFPredictor(str(_save(tmp_path / "a", _tiny_llama, tiny_tokenizer, TINY_CHAT_TEMPLATE)))
    b = HFPredictor(str(_save(tmp_path / "b", _tiny_llama, tiny_tokenizer, OTHER_TEMPLATE)))
    cache = ResponseCache(tmp_path / "responses.sqlite")
    run(a, items_file, tmp_path / "ra", cache=cache, limit=6, progress=False)
    run(b, items_file, tmp_path / "rb", cache=cache, limit=6, progress=False)
    cache.close()
    sa = read_samples(tmp_path / "ra" / "samples.jsonl")
    sb = read_samples(tmp_path / "rb" / "samples.jsonl")
    assert not any(s["cached"] for s in sb)  # b was scored, not served a's answers
    direct = b.predict(_items(items_file)[:6])
    assert [s["p_yes"] for s in sb] == pytest.approx([p.p_yes for p in direct], abs=1e-6)
    assert any(abs(x["p_yes"] - y["p_yes"]) > 1e-6 for x, y in zip(sa, sb, strict=True))


def test_cache_never_shares_answers_between_tokenizers(
    _tiny_llama: Any, tiny_tokenizer: Any, items_file: Path, tmp_path: Path
) -> None:
    from tokenizers import processors

    plain = copy.deepcopy(tiny_tokenizer)
    plain.backend_tokenizer.post_processor = processors.TemplateProcessing(single="$A")
    a = HFPredictor(str(_save(tmp_path / "a", _tiny_llama, tiny_tokenizer, None)))
    b = HFPredictor(str(_save(tmp_path / "b", _tiny_llama, plain, None)))
    assert tokenizer_digest(a.loaded.tokenizer) != tokenizer_digest(b.loaded.tokenizer)
    cache = ResponseCache(tmp_path / "responses.sqlite")
    run(a, items_file, tmp_path / "ra", cache=cache, limit=4, progress=False)
    run(b, items_file, tmp_path / "rb", cache=cache, limit=4, progress=False)
    again = run(a, items_file, tmp_path / "ra2", cache=cache, limit=4, progress=False)
    cache.close()
    assert not any(s["cached"] for s in read_samples(tmp_path / "rb" / "samples.jsonl"))
    assert all(s["cached"] for s in read_samples(tmp_path / "ra2" / "samples.jsonl"))
    assert again["metrics"]["overall"]["n"] == 4


# -- defect 2 and item 4: Ctrl-C, the printed resume command, recorded settings -------------


def _interrupt_after(monkeypatch: pytest.MonkeyPatch, n: int) -> Counter[str]:
    """Make the random baseline raise KeyboardInterrupt after answering ``n`` items
    (``n == 0``: never); count the items it answers."""
    inner = _RANDOM_RULE
    calls: Counter[str] = Counter()

    def rule(item: dict[str, Any]) -> Prediction:
        if n and sum(calls.values()) >= n:
            raise KeyboardInterrupt
        calls[item["id"]] += 1
        return inner(item)

    monkeypatch.setattr(BASELINES["random"], "rule", rule)
    return calls


def _interrupted_run(
    items_file: Path, run_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> tuple[str, Counter[str]]:
    calls = _interrupt_after(monkeypatch, 7)
    argv = ["run", "--model", "random", "--items", str(items_file), "--limit", "20"]
    assert main([*argv, "--run-dir", str(run_dir), "--quiet"]) == 130
    err = capsys.readouterr().err
    assert "Continue with: " in err
    return err.split("Continue with: ")[1].strip(), calls


def test_ctrl_c_then_the_printed_command_finishes_the_same_20_items(
    items_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    run_dir = tmp_path / "r"
    command, first = _interrupted_run(items_file, run_dir, monkeypatch, capsys)
    assert command == shlex.join(["ladder", "run", "--resume", str(run_dir)])
    stopped = json.loads((run_dir / "results.json").read_text())
    assert stopped["status"] == "partial"
    on_disk = [s["id"] for s in read_samples(run_dir / "samples.jsonl")]
    # What was written is what was answered first, in order (the chunk cut by Ctrl-C is lost:
    # chunks are about two seconds of work, here microseconds).
    assert on_disk and on_disk == list(first)[: len(on_disk)]
    assert stopped["metrics"]["overall"]["n"] == len(on_disk)
    second = _interrupt_after(monkeypatch, 0)
    assert main(shlex.split(command)[1:]) == 0
    assert not set(second) & set(on_disk)  # nothing on disk is scored again
    assert all(v == 1 for v in second.values()) and len(second) == 20 - len(on_disk)
    results = json.loads((run_dir / "results.json").read_text())
    samples = read_samples(run_dir / "samples.jsonl")
    assert results["status"] == "complete" and results["items"]["limit"] == 20
    assert results["items"]["n"] == 20 and results["metrics"]["overall"]["n"] == 20
    assert [s["id"] for s in samples] == [i["id"] for i in _items(items_file)[:20]]
    assert results["command"] == stopped["command"]  # the recorded command is kept
    assert len(results["resumed"]) == 1 and results["resumed"][0]["at"] > stopped["started"]


@pytest.mark.parametrize(
    "extra",
    [
        ["--limit", "3"],
        ["--items", "x.jsonl"],
        ["--suite", "quick"],
        ["--spec", "s.yaml"],
        ["--run-dir", "elsewhere"],
        ["--out-dir", "elsewhere"],
        ["--n", "5"],
        ["--seed", "1"],
    ],
)
def test_resume_refuses_options_that_change_what_is_scored(
    extra: list[str], items_file: Path, tmp_path: Path, capsys: Any
) -> None:
    run_dir = tmp_path / "r"
    argv = ["run", "--model", "random", "--items", str(items_file), "--limit", "20"]
    assert main([*argv, "--run-dir", str(run_dir), "--quiet"]) == 0
    before = {p.name: p.read_bytes() for p in run_dir.iterdir()}
    capsys.readouterr()
    assert main(["run", "--resume", str(run_dir), *extra]) == 2
    line = _error_line(capsys)
    assert extra[0] in line
    assert {p.name: p.read_bytes() for p in run_dir.iterdir()} == before


def test_resume_with_the_recorded_limit_is_accepted(items_file: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "r"
    argv = ["run", "--model", "random", "--items", str(items_file), "--limit", "20"]
    assert main([*argv, "--run-dir", str(run_dir), "--quiet"]) == 0
    assert main(["run", "--resume", str(run_dir), "--limit", "20", "--quiet"]) == 0
    assert json.loads((run_dir / "results.json").read_text())["items"]["n"] == 20


def test_resume_refuses_a_different_model_option(
    _tiny_llama: Any, tiny_tokenizer: Any, items_file: Path, tmp_path: Path, capsys: Any
) -> None:
    folder = _save(tmp_path / "m", _tiny_llama, tiny_tokenizer, None)
    run_dir = tmp_path / "r"
    argv = ["run", "--model", str(folder), "--items", str(items_file), "--limit", "2"]
    assert main([*argv, "--run-dir", str(run_dir), "--quiet", "--no-cache"]) == 0
    capsys.readouterr()
    assert main(["run", "--resume", str(run_dir), "--dtype", "bfloat16"]) == 2
    assert "--dtype float32" in _error_line(capsys)
    assert main(["run", "--resume", str(run_dir), "--mode", "generate"]) == 2
    assert "--mode loglik" in _error_line(capsys)


# -- defect 3: the lock, and readers drop repeated ids ------------------------------------


def test_a_second_resume_is_refused_while_the_run_is_locked(
    items_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    run_dir = tmp_path / "r"
    _interrupted_run(items_file, run_dir, monkeypatch, capsys)
    _interrupt_after(monkeypatch, 0)
    samples_before = (run_dir / "samples.jsonl").read_bytes()
    with RunDir.resume(run_dir, "results.json", "samples.jsonl"):  # another process's lock
        assert main(["run", "--resume", str(run_dir), "--quiet"]) == 2
        assert "another ladder process is using this run directory" in _error_line(capsys)
    assert (run_dir / "samples.jsonl").read_bytes() == samples_before
    assert main(["run", "--resume", str(run_dir), "--quiet"]) == 0
    ids = [s["id"] for s in read_samples(run_dir / "samples.jsonl")]
    assert len(ids) == len(set(ids)) == 20


def test_read_samples_drops_repeated_ids_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    path.write_text('{"id": "a", "p_yes": 1}\n{"id": "b"}\n{"id": "a", "p_yes": 0}\n')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        samples = read_samples(path)
    assert [(s["id"], s.get("p_yes")) for s in samples] == [("a", 1), ("b", None)]
    assert [w.category for w in caught] == [DuplicateRecordWarning]


# -- defect 6: bad output places and a corrupt cache are one line, before any work ---------


def test_bad_run_dir_and_out_dir_are_one_line(
    items_file: Path, tmp_path: Path, capsys: Any
) -> None:
    afile = tmp_path / "file"
    afile.write_text("x")
    base = ["run", "--model", "random", "--items", str(items_file), "--quiet"]
    assert main([*base, "--run-dir", str(afile)]) == 2
    assert "--run-dir" in (line := _error_line(capsys)) and "is a file" in line
    assert main([*base, "--run-dir", str(afile / "sub")]) == 2
    assert "is a file, not a directory" in _error_line(capsys)
    assert main([*base, "--out-dir", str(afile)]) == 2
    assert "--out-dir" in _error_line(capsys)
    if Path("/proc/self").is_dir():
        assert main([*base, "--out-dir", "/proc/ladder-runs"]) == 2
        assert "not writable" in _error_line(capsys)
    assert afile.read_text() == "x"


def test_corrupt_response_cache_is_one_line_and_leaves_no_run_dir(
    items_file: Path, tmp_path: Path, capsys: Any
) -> None:
    db = tmp_path / "ladder-cache" / "models" / "responses.sqlite"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not a database" * 100)
    runs = tmp_path / "runs"
    # The model does not exist: the cache is checked first, before any model is loaded.
    argv = ["run", "--model", str(tmp_path / "no-model"), "--items", str(items_file)]
    assert main([*argv, "--out-dir", str(runs)]) == 2
    line = _error_line(capsys)
    assert "response cache" in line and str(db) in line and "--no-cache" in line
    assert not runs.exists()


# -- defect 8: samples reach the disk every few seconds of work, not per 64 items ---------


class _Slow:
    """A predictor taking ``delay`` s per item that is interrupted after ``stop`` items."""

    name = slug = "slow"
    fingerprint = "slow-v1"

    def __init__(self, delay: float, stop: int) -> None:
        self.delay, self.stop, self.scored, self.returned = delay, stop, 0, []

    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "kind": "test", "fingerprint": self.fingerprint}

    def settings(self) -> dict[str, Any]:
        return {}

    def predict(self, items: list[dict[str, Any]]) -> list[Prediction]:
        for _ in items:
            if self.scored == self.stop:
                raise KeyboardInterrupt
            time.sleep(self.delay)
            self.scored += 1
        self.returned += [i["id"] for i in items]
        return [Prediction(0.5, "no") for _ in items]


def test_a_slow_run_interrupted_keeps_what_it_scored(items_file: Path, tmp_path: Path) -> None:
    slow = _Slow(delay=0.01, stop=40)
    with pytest.raises(KeyboardInterrupt):
        run(slow, items_file, tmp_path / "r", progress=False, flush_seconds=0.05)
    on_disk = [s["id"] for s in read_samples(tmp_path / "r" / "samples.jsonl")]
    assert on_disk == slow.returned
    # Chunks were about 0.05 s (5 items) of work, extended to the end of a family (the
    # scorer shares a family's prefix): at most one such chunk's items were lost.
    sizes: dict[str, int] = {}
    for line in items_file.read_text().splitlines():
        family = json.loads(line).get("family_id")
        sizes[family] = sizes.get(family, 0) + 1
    assert len(on_disk) >= 40 - 5 - max(sizes.values())
    assert json.loads((tmp_path / "r" / "results.json").read_text())["status"] == "partial"


# -- defect 9: run files get the umask's modes ----------------------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_every_run_file_gets_the_umask_mode(umask: int, tmp_path: Path) -> None:
    old = os.umask(umask)
    try:
        run_dir = tmp_path / "r"
        argv = ["run", "--model", "random", "--suite", "quick", "--n", "12"]
        assert main([*argv, "--run-dir", str(run_dir), "--quiet"]) == 0
    finally:
        os.umask(old)
    files = sorted(run_dir.iterdir())
    assert {p.name for p in files} == {"items.jsonl", "samples.jsonl", "results.json"}
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask, path
    assert run_dir.stat().st_mode & 0o777 == 0o777 & ~umask


# -- defect 11: --max-batch-tokens must be positive -----------------------------------------


@pytest.mark.parametrize("value", ["-5", "0", "x"])
def test_max_batch_tokens_must_be_positive(
    value: str, items_file: Path, tmp_path: Path, capsys: Any
) -> None:
    runs = tmp_path / "runs"
    argv = ["run", "--model", "random", "--items", str(items_file), "--out-dir", str(runs)]
    assert main([*argv, "--max-batch-tokens", value]) == 2
    assert "--max-batch-tokens" in _error_line(capsys)
    assert not runs.exists()


# -- item 5: the association oracle reads association_answer --------------------------------


def test_association_oracle_answers_with_the_recorded_field(items_file: Path) -> None:
    item = next(i for i in _items(items_file) if i["association_answer"] is not None)
    query = Query.from_dict(item["query"])
    recomputed = answer(query, association_truth(SCM.from_dict(item["scm"]), query))
    assert recomputed == item["association_answer"]
    flipped = {**item, "association_answer": "no" if recomputed == "yes" else "yes"}
    pred = BASELINES["association-oracle"].predict([flipped])[0]
    assert pred.prediction == flipped["association_answer"] != recomputed
    assert pred.p_yes == (1.0 if pred.prediction == "yes" else 0.0)
    lacking = {k: v for k, v in flipped.items() if k != "association_answer"}
    assert BASELINES["association-oracle"].predict([lacking])[0].prediction == recomputed


# -- the committed core600 runs still resume ------------------------------------------------


def test_committed_run_resumes_without_rescoring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = REPO / "reports" / "core600" / "runs" / "random"
    if not (source / "results.json").is_file():
        pytest.skip("reports/core600 is not in this checkout")
    run_dir = tmp_path / "random"
    shutil.copytree(source, run_dir)  # follows the shared items.jsonl link
    calls = _interrupt_after(monkeypatch, 0)
    before = json.loads((run_dir / "results.json").read_text())
    samples = (run_dir / "samples.jsonl").read_bytes()
    assert main(["run", "--resume", str(run_dir), "--quiet"]) == 0
    after = json.loads((run_dir / "results.json").read_text())
    assert not calls and (run_dir / "samples.jsonl").read_bytes() == samples
    assert after["status"] == "complete" and after["metrics"] == before["metrics"]
    assert after["command"] == before["command"]


def test_sigterm_during_a_run_exits_143_with_the_resume_command(
    items_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """A real SIGTERM (sent to this process mid-run) ends ``ladder run`` as terminated, not
    as Ctrl-C: exit 143, the run left partial, the resume command printed."""
    inner = _RANDOM_RULE
    answered: list[str] = []

    def rule(item: dict[str, Any]) -> Prediction:
        if len(answered) == 7:
            os.kill(os.getpid(), signal.SIGTERM)
        answered.append(item["id"])
        return inner(item)

    monkeypatch.setattr(BASELINES["random"], "rule", rule)
    run_dir = tmp_path / "r"
    argv = ["run", "--model", "random", "--items", str(items_file), "--limit", "20"]
    assert main([*argv, "--run-dir", str(run_dir), "--quiet"]) == 143
    err = capsys.readouterr().err
    assert "ladder run: terminated; samples so far" in err and "interrupted" not in err
    assert json.loads((run_dir / "results.json").read_text())["status"] == "partial"


@pytest.mark.parametrize(("given", "expected"), [(None, False), (True, True)])
def test_resume_never_inherits_trust_remote_code(given: bool | None, expected: bool) -> None:
    """A run directory recording ``trust_remote_code: true`` does not switch it on: only
    this session's ``--trust-remote-code`` does."""
    from ladder.commands.run import _resume_model

    args = argparse.Namespace(
        resume=Path("r"), model=None, gguf_file=None, dtype=None, device=None, revision=None,
        trust_remote_code=given, chat_template=None, mode=None, max_batch_tokens=None,
        device_map=None,
    )  # fmt: skip
    recorded = {"model": {"name": "m", "load": {"model": "m", "options": {
        "trust_remote_code": True, "dtype": "float32"}}}}  # fmt: skip
    name, options = _resume_model(args, recorded)
    assert name == "m" and options["trust_remote_code"] is expected
    assert options["dtype"] == "float32"
