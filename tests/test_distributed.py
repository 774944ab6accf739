"""Data-parallel ``ladder run`` (issue 15, item 4): launcher variables, shards, rank logs,
concurrent cache writers, and a real 2-process gloo run against a 1-process run.

What may differ between a data-parallel run directory and a single-process one, exactly:

* results.json: the keys in :data:`VARIABLE_HEADER_KEYS` (when, how and where it ran:
  ``environment`` gains ``world_size``), and ``items.path``, which names the run directory
  itself;
* numbers computed by the model: ``p_yes`` within :data:`P_TOL` and the log-probs in
  ``extra`` within :data:`LP_TOL` (and the metrics made from them within ``P_TOL``). A batched
  float32 forward pass rounds differently when the batch holds other prompts (padding,
  shared-prefix groups), and which prompts share a batch depends on the shard and on the
  chunk sizes the runner picks from timing, so two single-process runs differ the same way;
* nothing else: the same ids in the same order, the same predictions and every other field
  equal; ``items.jsonl`` byte for byte. (``cached`` is equal when both runs start from the
  same response-cache state, as here: each run has its own fresh cache.)
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ladder.cli import main
from ladder.core.errors import ModelLoadError
from ladder.generation.generate import dumps, generate_items
from ladder.generation.specs import load_suite
from ladder.harness.cache import ResponseCache
from ladder.harness.distributed import (
    DistributedError,
    Group,
    consolidate,
    detect,
    rank_log_path,
    rank_logs,
    shard,
    shard_bounds,
)
from ladder.harness.models.loading import load_model
from ladder.harness.models.scoring import score_options
from ladder.harness.predictors import Prediction
from ladder.harness.rundir import read_log

REPO = Path(__file__).resolve().parents[1]
#: results.json keys that say when, how and where a run was made, not what it measured.
VARIABLE_HEADER_KEYS = ("started", "finished", "command", "resumed", "environment")
P_TOL, LP_TOL = 1e-5, 1e-4
N_ITEMS = 24


# -- launcher variables and shards ---------------------------------------------------------


def test_detect_reads_the_launcher_variables() -> None:
    assert detect({}) is None and detect({"WORLD_SIZE": "1", "RANK": "0"}) is None
    group = detect({"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1"})
    assert (group.rank, group.world_size, group.local_rank, group.is_main) == (3, 4, 1, False)
    assert detect({"WORLD_SIZE": "2", "RANK": "1"}).local_rank == 1  # type: ignore[union-attr]
    for env, words in [
        ({"WORLD_SIZE": "two"}, "WORLD_SIZE='two'"),
        ({"WORLD_SIZE": "2"}, "RANK is not set"),
        ({"WORLD_SIZE": "2", "RANK": "-1"}, "RANK=-1"),
        ({"WORLD_SIZE": "0"}, "WORLD_SIZE=0"),
    ]:
        with pytest.raises(DistributedError) as info:
            detect(env)
        assert words in str(info.value) and "\n" not in str(info.value)


def test_shards_cover_every_unit_once_in_order_and_differ_by_at_most_one() -> None:
    for n in range(0, 23):
        units = [f"u{k}" for k in range(n)]
        for world in range(1, 6):
            blocks = [shard(units, r, world) for r in range(world)]
            assert [u for b in blocks for u in b] == units
            assert max(map(len, blocks)) - min(map(len, blocks)) <= 1
            assert all(
                shard_bounds(n, r, world)[1] - shard_bounds(n, r, world)[0] == len(b)
                for r, b in enumerate(blocks)
            )


def test_family_shards_cover_every_unit_once_and_never_split_a_family() -> None:
    rng = random.Random(0)
    for _ in range(200):
        keys = sorted(rng.choices("abcdefgh", k=rng.randint(0, 30)))  # families sit together
        units = list(enumerate(keys))
        world = rng.randint(1, 5)
        blocks = [shard(units, r, world, key=lambda u: u[1]) for r in range(world)]
        assert [u for b in blocks for u in b] == units
        owners = {k: {r for r, b in enumerate(blocks) for _, kk in b if kk == k} for k in keys}
        assert all(len(ranks) == 1 for ranks in owners.values())


def test_consolidate_merges_rank_logs_in_item_order_and_cuts_torn_lines(tmp_path: Path) -> None:
    log = tmp_path / "samples.jsonl"
    log.write_text('{"id": "b", "v": 1}\n')
    rank_log_path(log, 1).write_text('{"id": "e", "v": 4}\n{"id": "d", "v": 3}\n{"id": "f", "v')
    rank_log_path(log, 0).write_text('{"id": "a", "v": 0}\n{"id": "b", "v": 9}\n')
    (tmp_path / "samples.rankx.jsonl").write_text("not a rank log\n")
    written: list[list[dict[str, Any]]] = []

    def replace(records: list[dict[str, Any]]) -> None:
        written.append(records)
        log.write_text("".join(json.dumps(r) + "\n" for r in records))

    view = consolidate(log, list("abcdef"), replace, repair=False)  # read-only: nothing moves
    assert [r["id"] for r in view] == ["a", "b", "d", "e"] and not written
    assert len(rank_logs(log)) == 2
    records = consolidate(log, list("abcdef"), replace)
    # Item order; the main log's "b" (written first) wins over rank 0's repeat; torn "f" cut.
    assert [(r["id"], r["v"]) for r in records] == [("a", 0), ("b", 1), ("d", 3), ("e", 4)]
    assert read_log(log) == records and rank_logs(log) == []
    assert (tmp_path / "samples.rankx.jsonl").exists()
    assert consolidate(log, list("abcdef"), replace) == records and len(written) == 1


# -- the response cache under concurrent writers --------------------------------------------


def _write_cache(path: str, rank: int, rounds: int) -> None:
    cache = ResponseCache(path)
    for k in range(rounds):
        cache.put_many({f"r{rank}-{k}-{j}": Prediction(0.25, "no", {"k": k}) for j in range(20)})
    cache.close()


def test_two_processes_write_the_response_cache_at_once(tmp_path: Path) -> None:
    path = str(tmp_path / "responses.sqlite")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_write_cache, args=(path, r, 40)) for r in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("SELECT COUNT(*) FROM responses").fetchone() == (2 * 40 * 20,)
    db.close()


# -- a real 2-process run -------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory, tiny_model: Any) -> Path:
    folder = tmp_path_factory.mktemp("tiny")
    tiny_model.model.save_pretrained(folder)
    tiny_model.tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def items_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("items") / "items.jsonl"
    items = generate_items(load_suite("quick"), 5, N_ITEMS)
    path.write_text("".join(dumps(i) + "\n" for i in items))
    return path


def _single_env(monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    for var in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LADDER_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _torchrun(args: list[str], cache: Path, timeout: float = 120) -> None:
    """``torchrun --nproc_per_node 2 -m ladder.cli ARGS`` in its own session, killed whole
    (launcher and workers) if it overruns, so no process is left behind."""
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK")}
    env.update(LADDER_CACHE=str(cache), HF_HUB_OFFLINE="1", PYTHONPATH=str(REPO))
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += ["--nproc_per_node", "2", "-m", "ladder.cli", *args]
    proc = subprocess.Popen(
        command, cwd=REPO, env=env, start_new_session=True, stderr=subprocess.PIPE, text=True
    )
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    assert proc.returncode == 0, err[-3000:]


def _header(run_dir: Path) -> dict[str, Any]:
    data = json.loads((run_dir / "results.json").read_text())
    for key in VARIABLE_HEADER_KEYS:
        data.pop(key, None)
    assert data["items"]["path"] == str(run_dir / "items.jsonl")
    data["items"]["path"] = "RUN/items.jsonl"  # names the directory itself
    return data


def _close(a: Any, b: Any, tol: float, where: str = "") -> None:
    """``a == b`` with floats within ``tol`` (nested dicts and lists)."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            _close(a[key], b[key], tol, f"{where}.{key}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), where
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, tol, f"{where}[{k}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert abs(a - b) <= tol, f"{where}: {a} vs {b}"
    else:
        assert a == b, where


def _assert_same_run(reference: Path, other: Path) -> None:
    names = sorted(p.name for p in other.iterdir())
    assert names == ["items.jsonl", "results.json", "samples.jsonl"]
    assert (other / "items.jsonl").read_bytes() == (reference / "items.jsonl").read_bytes()
    ref, got = read_log(reference / "samples.jsonl"), read_log(other / "samples.jsonl")
    assert [s["id"] for s in got] == [s["id"] for s in ref]
    for a, b in zip(ref, got, strict=True):
        _close(a["p_yes"], b["p_yes"], P_TOL, a["id"])
        _close(a["extra"], b["extra"], LP_TOL, a["id"])
        assert {k: v for k, v in a.items() if k not in ("p_yes", "extra")} == {
            k: v for k, v in b.items() if k not in ("p_yes", "extra")
        }
    _close(_header(reference), _header(other), P_TOL)


def _kill_state(reference: Path, target: Path) -> None:
    """What ``kill -9`` of a 2-process run leaves: rank logs holding the first samples of each
    shard (one with a torn last line), nothing merged yet, results.json still running."""
    shutil.copytree(reference, target)
    samples = read_log(reference / "samples.jsonl")
    half = N_ITEMS // 2
    (target / "samples.jsonl").write_text("")
    rank_log_path(target / "samples.jsonl", 0).write_text(
        "".join(json.dumps(s) + "\n" for s in samples[:3]) + '{"id": "torn'
    )
    rank_log_path(target / "samples.jsonl", 1).write_text(
        "".join(json.dumps(s) + "\n" for s in samples[half : half + 2])
    )
    header = json.loads((target / "results.json").read_text())
    header.update(status="running", finished=None, metrics=None)
    (target / "results.json").write_text(json.dumps(header))


def _cache_rows(root: Path) -> int:
    db = sqlite3.connect(root / "models" / "responses.sqlite")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return int(db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])
    finally:
        db.close()


def _run_args(tiny_folder: Path, items_file: Path) -> list[str]:
    return ["run", "--model", str(tiny_folder), "--items", str(items_file), "--quiet"]


@pytest.fixture(scope="module")
def reference(
    tiny_folder: Path, items_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A single-process run of the tiny random-init Llama on the 24 items."""
    root = tmp_path_factory.mktemp("reference")
    with pytest.MonkeyPatch.context() as mp:
        _single_env(mp, root / "cache")
        assert main([*_run_args(tiny_folder, items_file), "--run-dir", str(root / "one")]) == 0
    return root / "one"


def test_two_process_run_equals_one_process_run(
    reference: Path, tiny_folder: Path, items_file: Path, tmp_path: Path
) -> None:
    """The CI test of item 4: torchrun, gloo on CPU, the tiny random-init Llama, 24 items;
    the two ranks also share one fresh response cache (concurrent writers)."""
    run = _run_args(tiny_folder, items_file)
    _torchrun([*run, "--run-dir", str(tmp_path / "two")], tmp_path / "cache")
    _assert_same_run(reference, tmp_path / "two")
    header = json.loads((tmp_path / "two" / "results.json").read_text())
    assert header["environment"]["world_size"] == 2 and header["status"] == "complete"
    assert "world_size" not in json.loads((reference / "results.json").read_text())["environment"]
    # The two ranks wrote one cache at once: intact, and holding what one process stores.
    assert _cache_rows(tmp_path / "cache") == _cache_rows(reference.parent / "cache") > 0


def test_a_killed_two_process_run_resumes_per_shard_with_two_or_one_process(
    reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rank logs left by a kill (one torn line) are folded in and each shard continues where
    it stopped: 2 processes and 1 process finish with the reference's samples."""
    _kill_state(reference, tmp_path / "killed-2")
    _kill_state(reference, tmp_path / "killed-1")
    _torchrun(["run", "--resume", str(tmp_path / "killed-2"), "--quiet"], tmp_path / "cache-2")
    _single_env(monkeypatch, tmp_path / "cache-1")
    assert main(["run", "--resume", str(tmp_path / "killed-1"), "--quiet"]) == 0
    for resumed in ("killed-2", "killed-1"):
        _assert_same_run(reference, tmp_path / resumed)
        header = json.loads((tmp_path / resumed / "results.json").read_text())
        assert header["status"] == "complete" and len(header["resumed"]) == 1


def test_rank_zero_failing_before_the_plan_stops_the_other_ranks(
    items_file: Path, tmp_path: Path
) -> None:
    """A refused option on rank 0 (here a non-empty --run-dir) is one line and ends every
    rank at once, instead of leaving rank 1 waiting for shards that never come."""
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "x").write_text("")
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK")}
    env.update(LADDER_CACHE=str(tmp_path / "c"), PYTHONPATH=str(REPO))
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += ["--nproc_per_node", "2", "-m", "ladder.cli", "run", "--model", "random"]
    command += ["--items", str(items_file), "--run-dir", str(taken)]
    proc = subprocess.run(
        command,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,
    )
    assert proc.returncode != 0
    assert "ladder run: error: --run-dir" in proc.stderr and "not empty" in proc.stderr
    assert "rank 1: rank 0 stopped: --run-dir" in proc.stderr
    assert sorted(p.name for p in taken.iterdir()) == ["x"]


def test_group_fail_is_sent_once_and_only_by_rank_zero() -> None:
    sent: list[Any] = []

    class Fake(Group):
        def share(self, obj: Any = None) -> Any:
            sent.append(obj)
            self.shared = True
            return obj

    Fake(1, 2, 1).fail(ValueError("x"))
    main_rank = Fake(0, 2, 0)
    main_rank.fail(ValueError("bad thing\nmore"))
    main_rank.fail(ValueError("again"))
    assert sent == [{"error": "bad thing"}]


# -- big models: device_map ----------------------------------------------------------------


def test_device_map_auto_places_a_local_model_and_scores_like_a_plain_load(
    tiny_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    from transformers import AutoModelForCausalLM

    _single_env(monkeypatch, tiny_folder / "cache")
    calls: list[dict[str, Any]] = []
    real = AutoModelForCausalLM.from_pretrained

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", spy)
    mapped = load_model(str(tiny_folder), device_map="auto")
    plain = load_model(str(tiny_folder))
    assert [c.get("device_map") for c in calls] == ["auto", None]
    assert mapped.device.type == "cpu"  # no GPU here: accelerate places every layer on the CPU
    prompts = ["Question: Does smoking cause cancer? Answer:", "Is X a cause of Y?"]
    got = [s.p_yes for s in score_options(mapped, prompts)]
    want = [s.p_yes for s in score_options(plain, prompts)]
    assert got == pytest.approx(want, abs=1e-6)
    assert mapped.fingerprint == plain.fingerprint  # placement never changes the logits' key


def test_device_map_is_refused_where_it_cannot_work(
    tiny_folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:

    _single_env(monkeypatch, tiny_folder / "cache")
    for kwargs, words in [
        ({"model": str(tiny_folder), "device_map": "everywhere"}, "allowed values are auto"),
        ({"model": "smollm2-135m-instruct", "device_map": "auto"}, "hub and local models"),
    ]:
        with pytest.raises(ModelLoadError, match=words):
            load_model(**kwargs)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    with pytest.raises(ModelLoadError, match="data-parallel"):
        load_model(str(tiny_folder), device_map="auto")
    code = main(["run", "--model", str(tiny_folder), "--device-map", "auto", "--limit", "1"])
    assert code == 2 and "cannot be combined with a data-parallel run" in capsys.readouterr().err
