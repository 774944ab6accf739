"""The analysis layer reads run files only: what it imports, and what importing it loads."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ladder"
ANALYSIS = sorted((PACKAGE / "analysis").rglob("*.py"))
COMMANDS = [PACKAGE / "commands" / "report.py", PACKAGE / "commands" / "leaderboard.py"]
#: A report can be rebuilt years later without loading a model or re-running inference.
NEVER_REACHED = ("ladder.harness.runner", "ladder.harness.predictors", "ladder.harness.models")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _path_of(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _ladder_imports(path: Path) -> set[str]:
    """Every ladder module ``path`` imports, at any depth of the file (functions included);
    ``from ladder.x import y`` counts ``ladder.x.y`` when that is a module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("ladder")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ladder"):
            module = node.module or ""
            found.add(module)
            found |= {f"{module}.{a.name}" for a in node.names if _path_of(f"{module}.{a.name}")}
    return found


def _reachable(starts: list[Path]) -> dict[str, str]:
    """``{module: the module that first imported it}`` over the closure of ``starts``
    (the root package's own imports are not followed: every module pays those)."""
    seen = {_module_name(p): "" for p in starts}
    todo = list(starts)
    while todo:
        path = todo.pop()
        for module in _ladder_imports(path):
            target = _path_of(module)
            if module in seen or target is None or module == "ladder":
                continue
            seen[module] = _module_name(path)
            todo.append(target)
    return seen


def test_analysis_never_reaches_the_model_side():
    reached = _reachable([*ANALYSIS, *COMMANDS])
    bad = {m: by for m, by in reached.items() if m.startswith(NEVER_REACHED)}
    assert not bad, f"imported (module: by): {bad}"


def test_analysis_calls_no_engine_and_no_private_helper():
    """No exact inference from a report; leaderboard uses public functions only."""
    for path in [*ANALYSIS, *COMMANDS]:
        for module in _ladder_imports(path):
            assert not module.startswith("ladder.engine"), (path, module)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ladder"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, (path, node.module, private)


def test_no_long_functions_in_the_analysis_layer():
    for path in ANALYSIS:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                assert length <= 60, f"{path.name}:{node.lineno} {node.name} is {length} lines"


def _loaded_after(statement: str) -> dict[str, bool]:
    probe = (
        f"import sys, json\n{statement}\n"
        "print(json.dumps({m: m in sys.modules for m in "
        f"{['statsmodels', 'matplotlib', *NEVER_REACHED]!r}}}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    return json.loads(out.splitlines()[-1])


def test_importing_the_analysis_layer_loads_no_model_code_and_no_statsmodels():
    # (not ladder.commands.*: importing one imports the package, which lists every command)
    loaded = _loaded_after(
        "import ladder.analysis.report, ladder.analysis.leaderboard, ladder.analysis.readme, "
        "ladder.harness.metrics"
    )
    assert not any(loaded.values()), loaded


@pytest.mark.parametrize("deferred", ["statsmodels", "matplotlib"])
def test_import_cli_defers_statsmodels_and_matplotlib(deferred):
    assert not _loaded_after("import ladder.cli")[deferred]


def test_metrics_still_use_statsmodels_wilson():
    from statsmodels.stats.proportion import proportion_confint

    from ladder.harness.metrics import wilson_interval

    assert wilson_interval(7, 19) == pytest.approx(proportion_confint(7, 19, method="wilson"))
