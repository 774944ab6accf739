"""The run-directory lifecycle: lock, header, append + fsync, finish, resume, clean failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from ladder.core.errors import GrangerRunError, RunError
from ladder.core.io import DuplicateRecordWarning
from ladder.harness import rundir
from ladder.harness.rundir import LOCK_NAME, RunDir, check_writable_dir, command_line, read_log

H, L = "results.json", "samples.jsonl"


def _started(path: Path, **kw: object) -> RunDir:
    rd = RunDir.create(path, H, L, **kw)  # type: ignore[arg-type]
    rd.start({"model": "m"}, command="ladder run --model m")
    return rd


def test_second_opener_is_refused_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    with _started(tmp_path / "r") as first:
        first.append([{"id": "a"}])
        with pytest.raises(RunError, match="another ladder process is using this run directory"):
            RunDir.resume(tmp_path / "r", H, L)
        with pytest.raises(GrangerRunError, match="another ladder process"):
            RunDir.resume(tmp_path / "r", H, L, error=GrangerRunError)
        first.finish({}, complete=True)
    # Released (and .lock removed) at close: a later resume gets it.
    assert not (tmp_path / "r" / LOCK_NAME).exists()
    with RunDir.resume(tmp_path / "r", H, L) as again:
        assert [r["id"] for r in again.done] == ["a"]


def test_lock_holds_across_processes(tmp_path: Path) -> None:
    run = tmp_path / "r"
    _started(run).close()
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from ladder.harness.rundir import RunDir\n"
            f"rd = RunDir.resume({str(run)!r}, 'results.json', 'samples.jsonl')\n"
            "print('locked', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "locked"
        with pytest.raises(RunError, match=f"{run}: another ladder process is using"):
            RunDir.resume(run, H, L)
    finally:
        child.kill()
        child.wait()
    RunDir.resume(run, H, L).close()  # the dead child's lock is gone with it


def test_create_refuses_a_file_a_non_empty_directory_and_a_read_only_place(
    tmp_path: Path,
) -> None:
    afile = tmp_path / "f"
    afile.write_text("x")
    with pytest.raises(RunError, match=r"^--run-dir .*/f: is a file, not a directory$"):
        RunDir.create(afile, H, L)
    with pytest.raises(RunError, match="f is a file, not a directory"):
        RunDir.create(afile / "sub", H, L)
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("x")
    with pytest.raises(RunError, match="exists and is not empty; continue it with --resume"):
        RunDir.create(full, H, L)
    assert sorted(p.name for p in full.iterdir()) == ["keep.txt"]
    if Path("/proc/self").is_dir():  # read-only even for root
        with pytest.raises(RunError, match="--out-dir /proc/ladder-x/y: not writable"):
            check_writable_dir("/proc/ladder-x/y", "--out-dir")


def test_header_lifecycle_and_resume_keeps_started_and_command(tmp_path: Path) -> None:
    run = tmp_path / "r"
    with RunDir.create(run, H, L) as rd:
        header = rd.start({"results_version": 1, "status": None, "model": "m"}, command="c1")
        assert list(header)[:2] == ["results_version", "status"]  # placeholders keep order
        on_disk = json.loads((run / H).read_text())
        assert on_disk["status"] == "running" and on_disk["finished"] is None
        assert on_disk["command"] == "c1" and "python" in on_disk["environment"]
        rd.append([{"id": "a"}, {"id": "b"}])
    assert json.loads((run / H).read_text())["status"] == "running"  # no exception, no finish
    with RunDir.resume(run, H, L) as rd:
        assert rd.previous is not None and [r["id"] for r in rd.done] == ["a", "b"]
        rd.start({"results_version": 1, "model": "m"}, command="c2")
        rd.append([{"id": "c"}])
        done = rd.finish({"metrics": {"n": 3}}, complete=True)
    assert done["started"] == on_disk["started"]
    assert done["command"] == "c1"  # the command that made the run is never overwritten
    assert [r["command"] for r in done["resumed"]] == ["c2"]
    assert done["status"] == "complete" and done["finished"] >= done["started"]
    assert json.loads((run / H).read_text()) == done
    assert [r["id"] for r in read_log(run / L)] == ["a", "b", "c"]


def test_fsync_is_time_based(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(rundir.os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    clock = [100.0]
    monkeypatch.setattr(rundir.time, "monotonic", lambda: clock[0])
    with _started(tmp_path / "r", sync_seconds=2.0) as rd:
        synced.clear()
        for k in range(5):  # 5 appends within 1 s of work: none fsynced yet
            clock[0] += 0.2
            rd.append([{"id": k}])
        assert synced == []
        assert len(read_log(tmp_path / "r" / L)) == 5  # but flushed: a killed process loses none
        clock[0] += 1.5  # now 2.5 s since the last sync
        rd.append([{"id": 5}])
        assert len(synced) == 1
        clock[0] += 0.1
        rd.append([{"id": 6}])
        assert len(synced) == 1
    assert len(synced) >= 2  # and once more at the end


def test_exception_before_start_removes_the_directory_it_made(tmp_path: Path) -> None:
    run = tmp_path / "deep" / "r"
    with pytest.raises(ValueError), RunDir.create(run, H, L):
        raise ValueError("model failed to load")
    assert not run.exists()
    existing = tmp_path / "empty"
    existing.mkdir()
    with pytest.raises(ValueError), RunDir.create(existing, H, L):
        raise ValueError("boom")
    assert existing.is_dir() and list(existing.iterdir()) == []  # not ours to remove


def test_exception_after_start_marks_the_run_partial(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), _started(tmp_path / "r") as rd:
        rd.append([{"id": "a"}])
        raise KeyboardInterrupt
    header = json.loads((tmp_path / "r" / H).read_text())
    assert header["status"] == "partial"
    assert [r["id"] for r in read_log(tmp_path / "r" / L)] == ["a"]


def test_resume_cuts_a_torn_line_and_drops_repeated_ids_with_a_warning(tmp_path: Path) -> None:
    _started(tmp_path / "r").close()
    log = tmp_path / "r" / L
    log.write_text('{"id": "a", "v": 1}\n{"id": "b"}\n{"id": "a", "v": 2}\n{"id": "c", "p')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with RunDir.resume(tmp_path / "r", H, L) as rd:
            assert [(r["id"], r.get("v")) for r in rd.done] == [("a", 1), ("b", None)]
    assert any(issubclass(w.category, DuplicateRecordWarning) for w in caught)
    assert log.read_text().endswith('{"id": "a", "v": 2}\n')  # torn line cut on disk


def test_resume_of_nothing_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="no such run directory"):
        RunDir.resume(tmp_path / "nope", H, L)
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunError, match=r"no results\.json; not a run to resume"):
        RunDir.resume(tmp_path / "empty", H, L)
    assert list((tmp_path / "empty").iterdir()) == []  # the lock file went with the refusal


def test_command_line_quotes_arguments() -> None:
    assert command_line(["run", "--items", "my items.jsonl"]) == (
        "ladder run --items 'my items.jsonl'"
    )
