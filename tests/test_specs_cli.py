"""``ladder generate`` (and ``ladder export``) on good and bad input.

Bad input must give exit status 2, ONE line on stderr (``ladder generate: error: ...``)
naming the file, the field and the allowed values where there are any, and leave no
output file and no temporary file behind; an existing output file stays as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

import ladder.commands.generate as generate_command
from ladder.cli import main
from ladder.core.io import atomic_writer
from ladder.generation.generate import dumps, generate_items, item_id
from ladder.generation.items import read_items
from ladder.generation.specs import load_suite

QUERY_TYPES = [
    "marginal",
    "correlation",
    "explaining_away",
    "ate",
    "collider_bias",
    "backdoor_set",
    "ett",
    "nde",
    "nie",
    "counterfactual",
]
FAMILIES = [
    "chain",
    "fork",
    "collider",
    "confounding",
    "mediation",
    "iv",
    "frontdoor",
    "diamond",
    "arrowhead",
    "random",
]
VERBALIZATIONS = ["commonsense", "anticommonsense", "nonsense", "symbolic"]
TOP_FIELDS = [
    "name",
    "description",
    "n",
    "margin",
    "verbalizations",
    "evidence",
    "cells",
    "sample_size",
    "samples_max_nodes",
    "cpt_range",
    "min_effect",
    "max_n",
]

GOOD = """\
name: mine
n: 8
cells:
  confounding: [ate]
"""


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def run(argv: list[str]) -> int:
    """``main(argv)``'s exit status, whether returned or raised (argparse exits)."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {err!r}"
    assert lines[0].startswith("ladder generate: error: ")
    return lines[0]


def _listing(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()}


BAD_SPECS = {
    "unknown family": (
        "name: bad\ncells:\n  pyramid: [ate]\n",
        ["'cells'", "'pyramid'", *FAMILIES],
    ),
    "unknown query type": (
        "name: bad\ncells:\n  chain: [ate, do_calculus]\n",
        ["'cells.chain'", "'do_calculus'", *QUERY_TYPES],
    ),
    "unknown random query type": (
        "name: bad\nverbalizations: [symbolic]\ncells:\n  random:\n    queries: [telepathy]\n",
        ["'cells.random.queries'", "'telepathy'", *QUERY_TYPES],
    ),
    "unknown verbalization": (
        "name: bad\nverbalizations: [symbolic, poetic]\ncells:\n  chain: [ate]\n",
        ["'verbalizations'", "'poetic'", *VERBALIZATIONS],
    ),
    "unknown evidence mode": (
        "name: bad\nevidence: [rumours]\ncells:\n  chain: [ate]\n",
        ["'evidence'", "'rumours'", "probabilities", "samples"],
    ),
    "unknown field": (
        "name: bad\nseeds: 3\ncells:\n  chain: [ate]\n",
        ["'seeds'", "unknown field", *TOP_FIELDS],
    ),
    "unknown random field": (
        "name: bad\nverbalizations: [symbolic]\ncells:\n  random:\n    edges: 3\n"
        "    queries: [ate]\n",
        ["'cells.random.edges'", "nodes", "density", "queries"],
    ),
    "nde on fork": (
        "name: bad\ncells:\n  fork: [marginal, nde]\n",
        ["'cells.fork'", "'nde'", "'fork'", "undefined", "mediator"],
    ),
    "ate on collider": (
        "name: bad\ncells:\n  collider: [ate]\n",
        ["'cells.collider'", "'ate'", "'collider'", "undefined", "not a cause"],
    ),
    "collider_bias on random": (
        "name: bad\nverbalizations: [symbolic]\ncells:\n  random:\n    queries: [collider_bias]\n",
        ["'cells.random.queries'", "'collider_bias'", "undefined"],
    ),
    "margin out of range": (
        "name: bad\nmargin: 0.7\ncells:\n  chain: [ate]\n",
        ["'margin'", "0.7", "[0.0, 0.49]"],
    ),
    "n not an integer": (
        "name: bad\nn: many\ncells:\n  chain: [ate]\n",
        ["'n'", "'many'", "integer"],
    ),
    "n above max_n": (
        "name: bad\nn: 50\nmax_n: 40\ncells:\n  chain: [ate]\n",
        ["'n'", "50", "max_n = 40"],
    ),
    "max_n above the hard cap": (
        "name: bad\nmax_n: 20000000\ncells:\n  chain: [ate]\n",
        ["'max_n'", "20000000", "10000000"],
    ),
    "missing cells": ("name: bad\n", ["'cells'", "required"]),
    "malformed YAML": ("name: [unclosed\ncells: {chain: [ate]}\n", ["not valid YAML", "line"]),
    "not a mapping": ("- chain\n- ate\n", ["mapping", *TOP_FIELDS]),
    "empty file": ("", ["mapping", *TOP_FIELDS]),
}


@pytest.mark.parametrize("case", sorted(BAD_SPECS))
def test_bad_spec_one_line_exit_2_no_output(case, tmp_path, capsys):
    text, wanted = BAD_SPECS[case]
    spec = write(tmp_path, "bad.yaml", text)
    before = _listing(tmp_path)
    assert run(["generate", "--spec", str(spec), "--out", str(tmp_path / "out.jsonl")]) == 2
    line = error_line(capsys)
    assert str(spec) in line, line
    for piece in wanted:
        assert piece in line, f"{piece!r} missing from {line!r}"
    assert _listing(tmp_path) == before  # no output file, no temporary file


def test_missing_spec_file(tmp_path, capsys):
    assert run(["generate", "--spec", "nowhere.yaml", "--out", "out.jsonl"]) == 2
    line = error_line(capsys)
    assert "nowhere.yaml" in line and "No such file" in line
    assert not (tmp_path / "out.jsonl").exists()


def test_unknown_suite(tmp_path, capsys):
    assert run(["generate", "--suite", "huge", "--out", "out.jsonl"]) == 2
    line = error_line(capsys)
    assert "--suite" in line and "'huge'" in line and "core" in line and "quick" in line
    assert _listing(tmp_path) == set()


@pytest.mark.parametrize("n", ["0", "-3"])
def test_n_must_be_positive(n, tmp_path, capsys):
    assert run(["generate", "--suite", "quick", "--n", n, "--out", "out.jsonl"]) == 2
    line = error_line(capsys)
    assert f"--n {n}" in line and "at least 1" in line
    assert _listing(tmp_path) == set()


@pytest.mark.parametrize("where", ["missing_dir/x.jsonl", "a_file/x.jsonl"])
def test_unwritable_output(where, tmp_path, capsys):
    # Tests run as root, so a read-only directory would not stop writes; a path below a
    # directory that does not exist, or below a regular file, does.
    (tmp_path / "a_file").write_text("not a directory\n")
    before = _listing(tmp_path)
    assert run(["generate", "--suite", "quick", "--out", where]) == 2
    line = error_line(capsys)
    assert "--out" in line and where in line and "cannot write" in line
    assert (
        ("does not exist" in line) if where.startswith("missing") else ("not a directory" in line)
    )
    assert _listing(tmp_path) == before
    assert (tmp_path / "a_file").read_text() == "not a directory\n"


IMPOSSIBLE = """\
name: impossible
margin: 0.3
cpt_range: [0.4, 0.6]
cells:
  chain: [marginal]
"""


@pytest.mark.parametrize("quiet", [True, False])
def test_generation_failure_keeps_existing_output(quiet, tmp_path, capsys):
    """cpt entries in [0.4, 0.6] cannot put P(Y=1) 0.3 away from 1/2: generation fails on
    the first item, after the output file was opened."""
    spec = write(tmp_path, "impossible.yaml", IMPOSSIBLE)
    out = tmp_path / "out.jsonl"
    out.write_text("precious\n")
    before = _listing(tmp_path)
    argv = ["generate", "--spec", str(spec), "--out", str(out)] + (["--quiet"] if quiet else [])
    assert run(argv) == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1].split("\r")[-1]
    assert last.startswith("ladder generate: error: ")
    assert str(spec) in last and "margin 0.3" in last and "'marginal'" in last
    if quiet:
        assert len(err.strip().splitlines()) == 1
    assert out.read_text() == "precious\n"
    assert _listing(tmp_path) == before


def test_bad_spec_keeps_existing_output(tmp_path, capsys):
    spec = write(tmp_path, "bad.yaml", BAD_SPECS["unknown family"][0])
    out = tmp_path / "out.jsonl"
    out.write_text("precious\n")
    assert run(["generate", "--spec", str(spec), "--out", str(out)]) == 2
    error_line(capsys)
    assert out.read_text() == "precious\n"


def test_spec_and_suite_are_mutually_exclusive(tmp_path, capsys):
    spec = write(tmp_path, "mine.yaml", GOOD)
    assert run(["generate", "--suite", "quick", "--spec", str(spec), "--out", "out.jsonl"]) == 2
    err = capsys.readouterr().err
    assert "--spec" in err and "--suite" in err and "not allowed" in err
    assert err.strip().splitlines()[-1].startswith("ladder generate: error: ")
    assert _listing(tmp_path) == {"mine.yaml"}


# -- a user-written spec, end to end --------------------------------------------------------------

USER_SPEC = """\
# A user's own spec: two named families, random DAGs, words and symbols.
name: my-probe
description: a small spec written by hand
n: 40
margin: 0.08
verbalizations: [commonsense, nonsense, symbolic]
evidence: [probabilities, samples]
sample_size: 500
cells:
  confounding: [ate, backdoor_set, counterfactual]
  mediation: [nde]
  random:
    nodes: [3, 5]
    density: 0.5
    queries: [correlation]
"""


def _parse_summary(stdout: str) -> dict[str, dict[str, tuple[int, int, int]]]:
    blocks = [b for b in stdout.split("\n\n") if b.strip()]
    tables: dict[str, dict[str, tuple[int, int, int]]] = {}
    for block in blocks[1:]:
        lines = block.strip().splitlines()
        title = lines[0].rsplit(maxsplit=3)[0].strip()
        if lines[0].split()[-3:] != ["yes", "no", "total"]:
            continue
        rows = {}
        for line in lines[1:]:
            value, yes, no, total = line.rsplit(maxsplit=3)
            rows[value.strip()] = (int(yes), int(no), int(total))
        tables[title] = rows
    return tables


def test_user_spec_end_to_end(tmp_path, capsys):
    spec = write(tmp_path, "mine.yaml", USER_SPEC)
    out = tmp_path / "items.jsonl"
    assert run(["generate", "--spec", str(spec), "--seed", "5", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    items = read_items(out)
    assert len(items) == 40
    assert {it["task"] for it in items} == {"my-probe"}
    assert [it["id"] for it in items] == [item_id("my-probe", 5, i) for i in range(40)]
    assert {(it["graph_family"], it["query_type"]) for it in items} == {
        ("confounding", "ate"),
        ("confounding", "backdoor_set"),
        ("confounding", "counterfactual"),
        ("mediation", "nde"),
        ("random", "correlation"),
    }
    assert {it["verbalization"] for it in items} == {"commonsense", "nonsense", "symbolic"}
    assert {it["evidence"] for it in items} == {"probabilities", "samples"}
    assert all(it["margin"] == 0.08 for it in items)
    assert all(3 <= it["n_nodes"] <= 5 for it in items if it["graph_family"] == "random")
    assert any("A random sample of 500 units" in it["prompt"] for it in items)
    assert _listing(tmp_path) == {"mine.yaml", "items.jsonl"}  # no temporary file left

    # The summary: counts per rung / query type / family / answer, matching the file.
    assert captured.out.startswith("40 items")
    tables = _parse_summary(captured.out)
    for title, key in (
        ("rung", "rung"),
        ("query type", "query_type"),
        ("graph family", "graph_family"),
        ("verbalization", "verbalization"),
        ("evidence", "evidence"),
    ):
        want: dict[str, Counter[str]] = {}
        for it in items:
            want.setdefault(str(it[key]), Counter())[it["answer"]] += 1
        assert tables[title] == {v: (c["yes"], c["no"], c.total()) for v, c in want.items()}
    assert f"wrote {out}" in captured.out

    # Same command, same bytes; --n overrides the spec's n; --quiet prints nothing.
    again = tmp_path / "again.jsonl"
    assert (
        run(["generate", "--spec", str(spec), "--seed", "5", "--out", str(again), "--quiet"]) == 0
    )
    assert again.read_bytes() == out.read_bytes()
    assert capsys.readouterr().out == ""
    assert (
        run(["generate", "--spec", str(spec), "--n", "7", "--out", "seven.jsonl", "--quiet"]) == 0
    )
    assert len(read_items(tmp_path / "seven.jsonl")) == 7


def test_suite_summary_counts(tmp_path, capsys):
    assert run(["generate", "--suite", "quick", "--out", "q.jsonl"]) == 0
    out = capsys.readouterr().out
    items = read_items(tmp_path / "q.jsonl")
    tables = _parse_summary(out)
    assert {"rung", "query type", "graph family"} <= set(tables)
    assert sum(t for _, _, t in tables["rung"].values()) == len(items) == 160
    answers = Counter(it["answer"] for it in items)
    assert sum(y for y, _, _ in tables["query type"].values()) == answers["yes"]
    assert sum(n for _, n, _ in tables["query type"].values()) == answers["no"]
    assert tables["query type"]["collider_bias"][0] == 0  # structurally "no"


# -- the console script --------------------------------------------------------------------------


def _console_script() -> list[str]:
    exe = Path(sys.executable).parent / "ladder"
    found = str(exe) if exe.exists() else shutil.which("ladder")
    assert found, "the `ladder` console script is not installed (pip install -e .)"
    return [found]


def test_console_script_bad_spec(tmp_path):
    spec = write(tmp_path, "bad.yaml", BAD_SPECS["nde on fork"][0])
    proc = subprocess.run(
        [*_console_script(), "generate", "--spec", str(spec), "--out", str(tmp_path / "out.jsonl")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ladder generate: error: ")
    assert str(spec) in lines[0] and "'cells.fork'" in lines[0] and "'nde'" in lines[0]
    assert proc.stdout == ""
    assert _listing(tmp_path) == {"bad.yaml"}


def test_console_script_generates(tmp_path):
    spec = write(tmp_path, "mine.yaml", GOOD)
    proc = subprocess.run(
        [
            *_console_script(),
            "generate",
            "--spec",
            str(spec),
            "--out",
            str(tmp_path / "out.jsonl"),
            "--seed",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("8 items")
    assert len(read_items(tmp_path / "out.jsonl")) == 8


def test_console_script_deterministic_across_processes(tmp_path):
    """Same seed, byte-identical files from separate processes with different string
    hashing (PYTHONHASHSEED), and identical to the in-process generator's lines."""
    outs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"core{hash_seed}.jsonl"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        proc = subprocess.run(
            [
                *_console_script(),
                "generate",
                "--suite",
                "core",
                "--n",
                "120",
                "--seed",
                "3",
                "--out",
                str(out),
                "--quiet",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert proc.returncode == 0, proc.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    here = "".join(dumps(it) + "\n" for it in generate_items(load_suite("core"), 3, 120))
    assert outs[0] == here.encode("utf-8")


# -- caps, output checks and kills ---------------------------------------------------------------


def _no_generation(*args, **kwargs):
    raise AssertionError("generation started although the command must be refused first")


def test_n_above_the_cap_is_refused_before_generating(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(generate_command, "generate_items", _no_generation)
    assert run(["generate", "--suite", "quick", "--n", "1000000000", "--out", "o.jsonl"]) == 2
    line = error_line(capsys)
    assert "--n 1000000000" in line and "max_n" in line and "100000" in line
    assert _listing(tmp_path) == set()


def test_spec_max_n_sets_the_cap(tmp_path, capsys):
    spec = write(tmp_path, "capped.yaml", "name: capped\nn: 5\nmax_n: 6\ncells:\n  chain: [ate]\n")
    assert run(["generate", "--spec", str(spec), "--n", "6", "--out", "six.jsonl", "--quiet"]) == 0
    assert len(read_items(tmp_path / "six.jsonl")) == 6
    assert run(["generate", "--spec", str(spec), "--n", "7", "--out", "seven.jsonl"]) == 2
    line = error_line(capsys)
    assert "--n 7" in line and "cap of 6" in line and str(spec) in line
    assert not (tmp_path / "seven.jsonl").exists()


def test_out_directory_is_refused_before_generating(tmp_path, capsys, monkeypatch):
    (tmp_path / "adir").mkdir()
    monkeypatch.setattr(generate_command, "generate_items", _no_generation)
    assert run(["generate", "--suite", "quick", "--out", "adir"]) == 2
    line = error_line(capsys)
    assert "--out adir" in line and "is a directory" in line
    assert _listing(tmp_path) == {"adir"} and not any((tmp_path / "adir").iterdir())


def test_spec_not_utf8_names_the_file(tmp_path, capsys):
    spec = tmp_path / "latin1.yaml"
    spec.write_bytes(b"name: caf\xe9\ncells:\n  chain: [ate]\n")
    assert run(["generate", "--spec", str(spec), "--out", "o.jsonl"]) == 2
    line = error_line(capsys)
    assert str(spec) in line and "not UTF-8" in line
    assert _listing(tmp_path) == {"latin1.yaml"}


def _start_generate(tmp_path: Path, out: str) -> subprocess.Popen:
    """A long ``python -m ladder.cli generate`` run, returned once it has begun writing."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ladder.cli",
            "generate",
            "--suite",
            "core",
            "--n",
            "50000",
            "--out",
            out,
            "--quiet",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        temps = list(tmp_path.glob(f".{out}.*.tmp"))
        if temps and temps[0].stat().st_size > 0:
            return proc
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("generate did not start writing within 60 s")


def test_sigterm_leaves_no_temporary_file(tmp_path):
    proc = _start_generate(tmp_path, "big.jsonl")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143
    assert err.strip().splitlines()[-1] == "ladder generate: terminated"
    assert _listing(tmp_path) == set()  # neither a temporary nor a half-written output


def test_temporary_of_a_killed_writer_is_removed_by_the_next_write(tmp_path):
    proc = _start_generate(tmp_path, "big.jsonl")
    proc.kill()  # SIGKILL: no handler runs, the temporary stays behind
    proc.communicate(timeout=60)
    left = list(tmp_path.glob(".big.jsonl.*.tmp"))
    assert len(left) == 1 and str(proc.pid) in left[0].name
    assert run(["generate", "--suite", "quick", "--n", "3", "--out", "big.jsonl", "--quiet"]) == 0
    assert _listing(tmp_path) == {"big.jsonl"}


def test_stale_temporaries_only_of_dead_writers_are_removed(tmp_path):
    target = tmp_path / "x.json"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    dead_tmp = tmp_path / f".x.json.{dead.stdout.strip()}.abcd1234.tmp"
    live_tmp = tmp_path / f".x.json.{os.getpid()}.efgh5678.tmp"  # a writer still at work
    legacy_fresh = tmp_path / ".x.json.ijkl9012.tmp"  # no PID, written just now
    other = tmp_path / ".y.json.1.abcd1234.tmp"  # another target's temporary
    for path in (dead_tmp, live_tmp, legacy_fresh, other):
        path.write_text("partial")
        os.utime(path, (time.time() - 60, time.time() - 60))
    os.utime(legacy_fresh, None)
    with atomic_writer(target) as fh:
        fh.write("{}")
    assert _listing(tmp_path) == {"x.json", live_tmp.name, legacy_fresh.name, other.name}


# -- ladder export ------------------------------------------------------------------------------


@pytest.fixture
def item_file(tmp_path: Path) -> Path:
    path = tmp_path / "items.jsonl"
    path.write_text("".join(dumps(i) + "\n" for i in generate_items(load_suite("quick"), 0, 6)))
    return path


def export_error(capsys) -> str:
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("ladder export: error: "), lines
    return lines[0]


@pytest.mark.parametrize("name", ["../../x", "a/b", "x.y", "", "tâche"])
def test_export_refuses_unsafe_task_names(name, item_file, tmp_path, capsys):
    out = tmp_path / "deep" / "out"
    before = {p for p in tmp_path.rglob("*")}
    assert run(["export", "--items", str(item_file), "--out", str(out), "--task-name", name]) == 2
    line = export_error(capsys)
    assert "--task-name" in line and "[A-Za-z0-9_]+" in line
    assert {p for p in tmp_path.rglob("*")} == before


def test_export_good_task_name(item_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(["export", "--items", str(item_file), "--out", str(out), "--task-name", "My_1"]) == 0
    assert {p.name for p in out.iterdir()} == {"My_1.jsonl", "My_1.yaml"}
    rows = [json.loads(line) for line in (out / "My_1.jsonl").read_text().splitlines()]
    assert [r["label"] for r in rows] == [
        1 if i["answer"] == "yes" else 0 for i in read_items(item_file)
    ]


@pytest.mark.parametrize("where", ["a_file", "a_file/below"])
def test_export_out_that_is_a_file(where, item_file, tmp_path, capsys):
    (tmp_path / "a_file").write_text("keep\n")
    assert run(["export", "--items", str(item_file), "--out", str(tmp_path / where)]) == 2
    line = export_error(capsys)
    assert "--out" in line and where in line
    assert (tmp_path / "a_file").read_text() == "keep\n"
