"""``ladder granger`` as a user meets it: where runs go, what is checked before a model
loads, what a resume keeps, and what importing the CLI costs.

All runs here use the stand-in predictor (``linear-oracle``) or a tiny random model, so the
whole file takes a few seconds.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ladder.cli import main
from ladder.granger import probe
from ladder.granger.probe import open_run, read_records

_GRID = (
    "name: {name}\nconditions: [var]\ncouplings: [0.0, 0.6]\nlags: [1]\n"
    "lengths: [40]\nseries_per_cell: 2\nsurrogates: 19\ndigits: 2\n"
)


def _grid_file(folder: Path, name: str = "g") -> Path:
    path = folder / f"{name.replace('/', '_')}.yaml"
    path.write_text(_GRID.format(name=json.dumps(name)))
    return path


def _no_model_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any language-model load fail the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a model was loaded: {args} {kwargs}")

    monkeypatch.setattr(probe, "load_model", refuse)


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["granger", *argv])
    return code, capsys.readouterr().err.strip()


def _oracle_run(capsys: pytest.CaptureFixture[str], out: Path, grid: Path, *extra: str) -> None:
    code, err = _cli(capsys, "--model", "linear-oracle", "--grid", str(grid), "--out", str(out),
                     "--quiet", *extra)  # fmt: skip
    assert code == 0, err


def test_grid_name_cannot_write_outside_runs(tmp_path, monkeypatch, capsys) -> None:
    """Defect 4: the default run directory is built from the grid's name."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    grid = _grid_file(tmp_path, "x/../../../../escaped")
    code, err = _cli(capsys, "--model", "linear-oracle", "--grid", str(grid), "--limit", "1",
                     "--quiet")  # fmt: skip
    assert code == 0, err
    runs = [p for p in (cwd / "runs" / "granger").iterdir()]
    assert len(runs) == 1 and (runs[0] / "granger.json").is_file()
    assert len(read_records(runs[0] / "series.jsonl")) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cwd", grid.name]
    assert sorted(p.name for p in cwd.iterdir()) == ["runs"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--resume", "--out", "{tmp}/absent"], "no such run directory"),
        (["--resume", "--out", "{tmp}/file.txt"], "no such run directory"),
        (["--out", "{tmp}/file.txt"], "is a file, not a directory"),
        (["--out", "{tmp}/full"], "exists and is not empty"),
        (["--resume", "--out", "{tmp}/corrupt"], "malformed JSON"),
        (["--resume", "--out", "{tmp}/empty"], "no granger.json"),
    ],
)
def test_bad_out_or_resume_refused_before_any_model_loads(
    tmp_path, monkeypatch, capsys, argv, message
) -> None:
    """Defect 11: the default model used to load before a bad --resume was refused."""
    _no_model_load(monkeypatch)
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("x")
    (tmp_path / "corrupt").mkdir()
    (tmp_path / "corrupt" / "granger.json").write_text("{not json")
    (tmp_path / "empty").mkdir()
    code, err = _cli(capsys, *[a.format(tmp=tmp_path) for a in argv])
    assert code == 2
    assert err.startswith("ladder granger: error:") and "\n" not in err
    assert message in err


def test_resume_uses_the_recorded_model_grid_and_limit(tmp_path, monkeypatch, capsys) -> None:
    """A resume needs only --resume --out: the oracle run is not resumed with the default
    language model (which used to be loaded first, then refused), nor with the default grid."""
    out = tmp_path / "run"
    _oracle_run(capsys, out, _grid_file(tmp_path), "--limit", "3")
    lines = (out / "series.jsonl").read_text().splitlines(keepends=True)
    (out / "series.jsonl").write_text("".join(lines[:2]))  # killed after two series
    _no_model_load(monkeypatch)
    code, err = _cli(capsys, "--resume", "--out", str(out), "--quiet")
    assert code == 0, err
    header = json.loads((out / "granger.json").read_text())
    assert header["model"]["name"] == "linear-oracle" and header["limit"] == 3
    assert header["status"] == "partial" and header["n_done"] == 3  # the limit is kept
    assert [r["index"] for r in read_records(out / "series.jsonl")] == [0, 1, 2]
    code, err = _cli(capsys, "--resume", "--out", str(out), "--limit", "4")
    assert code == 2 and "the run was made with --limit 3" in err
    code, err = _cli(capsys, "--resume", "--out", str(out), "--grid", "quick")
    assert code == 2 and "grid differs" in err
    code, err = _cli(capsys, "--resume", "--out", str(out), "--model", "smollm2")
    assert code == 2 and "made with model 'linear-oracle'" in err


def test_resume_reloads_the_recorded_language_model(
    tmp_path, monkeypatch, capsys, tiny_chat_model
) -> None:
    """The load options of a language-model run are recorded and reused on --resume."""
    calls: list[dict[str, object]] = []

    def fake_load(model: object = None, **kwargs: object) -> object:
        calls.append({"model": model, **kwargs})
        return tiny_chat_model

    monkeypatch.setattr(probe, "load_model", fake_load)
    grid = tmp_path / "g.yaml"
    grid.write_text(
        "name: g\nconditions: [var]\ncouplings: [0.5]\nlags: [1]\nlengths: [20]\n"
        "burn_in: 5\nseries_per_cell: 2\nsurrogates: 19\ndigits: 2\nverbal: false\n"
    )
    out = tmp_path / "run"
    argv = ["--model", "some/folder", "--dtype", "bfloat16", "--grid", str(grid)]
    code, err = _cli(capsys, *argv, "--revision", "v1", "--out", str(out), "--quiet")
    assert code == 0, err
    (out / "series.jsonl").write_text((out / "series.jsonl").read_text().splitlines()[0] + "\n")
    code, err = _cli(capsys, "--resume", "--out", str(out), "--quiet")
    assert code == 0, err
    assert calls[0] == calls[1]
    assert calls[1]["model"] == "some/folder" and calls[1]["dtype"] == "bfloat16"
    assert calls[1]["revision"] == "v1"
    assert len(read_records(out / "series.jsonl")) == 2


def test_gguf_file_option_reaches_the_loader(tmp_path, capsys) -> None:
    """Defect 11: the not-found hint names --gguf-file, so ladder granger must take it."""
    out = tmp_path / "run"
    code, err = _cli(capsys, "--model", str(tmp_path), "--gguf-file", "absent.gguf",
                     "--grid", str(_grid_file(tmp_path)), "--out", str(out))  # fmt: skip
    assert code == 2 and "GGUF file not found" in err and str(tmp_path / "absent.gguf") in err
    assert not out.exists()  # a failed load leaves no run directory behind
    code, err = _cli(capsys, "--model", "linear-oracle", "--gguf-file", "x.gguf")
    assert code == 2 and "not a language model" in err


def test_locked_run_is_refused(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    grid = _grid_file(tmp_path)
    _oracle_run(capsys, out, grid, "--limit", "1")
    with open_run(out, resume=True):
        code, err = _cli(capsys, "--resume", "--out", str(out))
    assert code == 2 and "another ladder process" in err


@pytest.mark.parametrize(
    "modules",
    [
        "ladder.cli, ladder.granger.probe, ladder.granger.grid",
        # the packages re-export every public name eagerly: that must not pull them in either
        "ladder.granger",
        "ladder.harness.models",
    ],
)
def test_import_loads_no_heavy_library(modules: str) -> None:
    """statsmodels (~1 s of imports) loads only when a classical test runs, torch and
    transformers only when a model is used: ``ladder --help`` starts fast."""
    code = (
        f"import sys, {modules}; print(sorted(m for m in "
        "('statsmodels', 'torch', 'transformers', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("package", ["ladder.granger", "ladder.harness.models"])
def test_package_exports_are_the_submodules_objects(package: str) -> None:
    """Every name in ``__all__`` is bound at import time (no lazy module ``__getattr__``)."""
    module = importlib.import_module(package)
    assert "__getattr__" not in vars(module)
    missing = [name for name in module.__all__ if name not in vars(module)]
    assert missing == []
    assert module.__all__ == sorted(set(module.__all__))


def test_a_ladder_run_directory_takes_its_first_granger_run(tmp_path, capsys) -> None:
    """`ladder granger --out RUN_DIR` on a `ladder run` directory (results.json, no
    granger.json) adds the probes beside the run's files and changes none of them; a second
    fresh start there is refused (resume it instead), and any other non-empty folder still
    is."""
    run = tmp_path / "run"
    run.mkdir()
    files = {"results.json": '{"status": "complete"}', "samples.jsonl": "{}\n", "report.md": "r"}
    for name, text in files.items():
        (run / name).write_text(text)
    grid = _grid_file(tmp_path)
    _oracle_run(capsys, run, grid, "--limit", "2")
    assert (run / "granger.json").is_file() and len(read_records(run / "series.jsonl")) == 2
    assert {n: (run / n).read_text() for n in files} == files
    code, err = _cli(capsys, "--model", "linear-oracle", "--grid", str(grid), "--out", str(run))
    assert code == 2 and "exists and is not empty" in err
    _oracle_run(capsys, run, grid, "--resume")
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("x")
    code, err = _cli(capsys, "--model", "linear-oracle", "--grid", str(grid), "--out", str(other))
    assert code == 2 and "exists and is not empty" in err and (other / "notes.txt").exists()
