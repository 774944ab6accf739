"""Data-parallel ``ladder granger`` (issue 15, item 4): a real 2-process gloo run of the
linear-oracle on a tiny grid against a 1-process run, and the shard plan.

What may differ between the two run directories, exactly:

* ``series.jsonl``: the per-record ``seconds`` (wall time the series took, measured);
  every other field, the ids and their order are equal (the linear-oracle is exact least
  squares, the series and surrogates are seeded per series, and ``tokens`` counts the
  characters of the series' own texts);
* ``granger.json``: the keys in :data:`VARIABLE_HEADER_KEYS` (when, how and where it ran:
  ``environment`` gains ``world_size``) and ``timing`` (sums of ``seconds``); ``cells``,
  ``summary`` and every other key are equal.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ladder.cli import main
from ladder.granger.grid import load_grid
from ladder.granger.probe import _mine
from ladder.harness.distributed import Group, rank_log_path, rank_logs
from ladder.harness.rundir import read_log

REPO = Path(__file__).resolve().parents[1]
#: granger.json keys that say when, how and where a run was made, or how long it took.
VARIABLE_HEADER_KEYS = ("started", "finished", "command", "environment", "timing")
#: series.jsonl fields measured by the clock, not computed from the series.
TIMING_FIELDS = ("seconds",)

GRID = """\
name: dp_tiny
description: two cells of three short series, for the data-parallel test
seed: 3
conditions: [var]
couplings:
  var: [0.0, 0.8]
lags: [1]
lengths: [40]
series_per_cell: 3
surrogates: 2
surrogate_kind: circular
digits: 2
order: yx
burn_in: 5
alpha: 0.05
unit_root: known
verbal: false
condition_params:
  var: {direction: x->y}
"""


@pytest.fixture(scope="module")
def grid_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("grid") / "dp_tiny.yaml"
    path.write_text(GRID)
    return path


def _args(grid_file: Path, out: Path) -> list[str]:
    model = ["--model", "linear-oracle", "--grid", str(grid_file)]
    return ["granger", *model, "--out", str(out), "--quiet"]


def _torchrun(args: list[str], cache: Path, timeout: float = 50) -> subprocess.CompletedProcess:
    """``torchrun --nproc_per_node 2 -m ladder.cli ARGS`` in its own session, killed whole
    (launcher and workers) if it overruns, so no process is left behind."""
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK")}
    env.update(LADDER_CACHE=str(cache), HF_HUB_OFFLINE="1", PYTHONPATH=str(REPO))
    env.update(OMP_NUM_THREADS="1")  # two workers on a small shared machine
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += ["--nproc_per_node", "2", "-m", "ladder.cli", *args]
    proc = subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return subprocess.CompletedProcess(command, proc.returncode, out, err)


def _records(run_dir: Path) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in r.items() if k not in TIMING_FIELDS}
        for r in read_log(run_dir / "series.jsonl")
    ]


def _header(run_dir: Path) -> dict[str, Any]:
    data = json.loads((run_dir / "granger.json").read_text())
    return {k: v for k, v in data.items() if k not in VARIABLE_HEADER_KEYS}


def test_shards_cut_what_is_left_in_plan_order() -> None:
    plan = [{"id": f"s{k}"} for k in range(7)]
    done = {"s0", "s1", "s5"}
    shards = [[e["id"] for e in _mine(plan, done, Group(r, 2, r))] for r in range(2)]
    assert shards == [["s2", "s3"], ["s4", "s6"]]
    assert [e["id"] for e in _mine(plan, done, None)] == ["s2", "s3", "s4", "s6"]


def test_two_process_granger_equals_one_process_granger(
    grid_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CI test of item 4 for granger: torchrun, gloo on CPU, the linear-oracle on
    2 cells x 3 series; one process writes the same series.jsonl and cell table."""
    for var in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LADDER_CACHE", str(tmp_path / "cache-1"))
    assert main(_args(grid_file, tmp_path / "one")) == 0
    proc = _torchrun(_args(grid_file, tmp_path / "two"), tmp_path / "cache-2")
    assert proc.returncode == 0, proc.stderr[-3000:]

    one, two = tmp_path / "one", tmp_path / "two"
    assert sorted(p.name for p in two.iterdir()) == ["granger.json", "series.jsonl"]
    ref = _records(one)
    planned = [e["id"] for e in load_grid(grid_file).plan()]
    assert [r["id"] for r in ref] == planned and len(planned) == 6
    assert _records(two) == ref
    assert _header(two) == _header(one)
    header = json.loads((two / "granger.json").read_text())
    assert header["status"] == "complete" and header["environment"]["world_size"] == 2
    assert len(header["cells"]) == 2 and header["n_done"] == 6
    single = json.loads((one / "granger.json").read_text())
    assert "world_size" not in single["environment"]
    # Both ranks worked: the session's tokens are the whole run's, summed across shards.
    assert header["timing"]["this_session_tokens"] == single["timing"]["tokens"] > 0
    _resume_killed(two, tmp_path / "killed", ref)


def _resume_killed(finished: Path, target: Path, ref: list[dict[str, Any]]) -> None:
    """What ``kill -9`` of a 2-process run leaves (rank logs with the first series of each
    shard, one torn line, nothing merged, status running), resumed by one process: the
    rank logs are folded in, only the missing series are probed, the records equal ``ref``."""
    shutil.copytree(finished, target)
    lines = (finished / "series.jsonl").read_text().splitlines(keepends=True)
    log = target / "series.jsonl"
    log.write_text("")
    rank_log_path(log, 0).write_text("".join(lines[:2]) + '{"id": "torn')
    rank_log_path(log, 1).write_text(lines[3])
    header = json.loads((target / "granger.json").read_text())
    header.update(status="running", finished=None, cells=None, summary=None)
    (target / "granger.json").write_text(json.dumps(header))
    assert main(["granger", "--resume", "--out", str(target), "--quiet"]) == 0
    assert _records(target) == ref and rank_logs(log) == []
    resumed = json.loads((target / "granger.json").read_text())
    assert resumed["status"] == "complete" and len(resumed["resumed"]) == 1
    # This session probed series 2, 4 and 5 only (0, 1 and 3 were in the rank logs).
    redone = [r["tokens"] for k, r in enumerate(ref) if k in (2, 4, 5)]
    assert resumed["timing"]["this_session_tokens"] == sum(redone)


def test_rank_zero_refusing_the_run_stops_the_other_rank(grid_file: Path, tmp_path: Path) -> None:
    """A non-empty --out on rank 0 is one line and ends rank 1 with rank 0's reason."""
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "x").write_text("")
    proc = _torchrun(_args(grid_file, taken), tmp_path / "cache")
    assert proc.returncode != 0
    assert "ladder granger: error: --out" in proc.stderr and "not empty" in proc.stderr
    assert "rank 1: rank 0 stopped: --out" in proc.stderr
    assert sorted(p.name for p in taken.iterdir()) == ["x"]
