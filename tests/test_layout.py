"""The package layout keeps its promises: dependencies point one way, imports sit where the
rules say, and every command module has the shape the CLI expects.

Layers, lowest first (a module may import its own layer and lower ones, never a higher one)::

    0 ladder.core   1 ladder.engine   2 ladder.generation   3 ladder.harness
    4 ladder.granger   5 ladder.analysis   6 ladder.commands   7 ladder.cli

``ladder/__init__.py`` is the public facade: it is exempt as an importer, and a module that
imports it depends on the highest layer the facade itself imports. The imports are read with
:mod:`ast` (no module is executed except ``ladder.commands`` in the last test), so every
``import`` statement counts: module level, inside ``if TYPE_CHECKING:``, inside functions,
and ``importlib.import_module("ladder....")`` calls with a literal name.
"""

from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ladder"

LAYERS = {
    "core": 0,
    "engine": 1,
    "generation": 2,
    "harness": 3,
    "granger": 4,
    "analysis": 5,
    "commands": 6,
    "cli": 7,
    "__main__": 7,
}
FACADE = "ladder"
DEFERRABLE = {"torch", "transformers", "statsmodels", "matplotlib", "peft"}
"""The only top-level packages that may be imported inside a function (they are slow to import
or optional at run time)."""
ANALYSIS_FORBIDDEN = (
    "ladder.harness.runner",
    "ladder.harness.predictors",
    "ladder.harness.models",
    "ladder.engine.inference",
)
"""Reports read what runs wrote; they must not be able to load a model or re-run inference."""
COMMAND_ATTRIBUTES = ("NAME", "HELP", "configure", "run")


@dataclass(frozen=True)
class Import:
    """One imported name: who imports what, where, and whether inside a function."""

    importer: str
    target: str
    path: str
    line: int
    in_function: bool

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _module_files() -> dict[str, Path]:
    files = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        files[_module_name(path)] = path
    return files


MODULES = _module_files()


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    """The module each name of a ``from ... import ...`` statement refers to."""
    if node.level:
        base = importer.split(".") if is_package else importer.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        module = ".".join([*base, node.module] if node.module else base)
    else:
        module = node.module or ""
    targets = []
    for alias in node.names:
        sub = f"{module}.{alias.name}"
        targets.append(sub if sub in MODULES else module)
    return targets


def _dynamic_target(node: ast.Call) -> str | None:
    """``importlib.import_module("x")`` / ``__import__("x")`` with a literal name."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in ("import_module", "__import__") or not node.args:
        return None
    first = node.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


class _ImportCollector(ast.NodeVisitor):
    def __init__(self, module: str, path: Path) -> None:
        self.module = module
        self.is_package = path.name == "__init__.py"
        self.rel = str(path.relative_to(PACKAGE.parent))
        self.depth = 0
        self.found: list[Import] = []

    def _add(self, target: str, line: int) -> None:
        self.found.append(Import(self.module, target, self.rel, line, self.depth > 0))

    def _function(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for target in _resolve(self.module, self.is_package, node):
            self._add(target, node.lineno)

    def visit_Call(self, node: ast.Call) -> None:
        target = _dynamic_target(node)
        if target is not None:
            self._add(target, node.lineno)
        self.generic_visit(node)


def _imports_of(module: str) -> list[Import]:
    path = MODULES[module]
    collector = _ImportCollector(module, path)
    collector.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return collector.found


IMPORTS = [imp for module in MODULES for imp in _imports_of(module)]


def _is_ladder(target: str) -> bool:
    return target == FACADE or target.startswith(FACADE + ".")


def _layer(module: str) -> int | None:
    """Layer of a ladder module (``None`` for the facade and for unknown places)."""
    parts = module.split(".")
    if len(parts) < 2:
        return None
    return LAYERS.get(parts[1])


def _facade_layer() -> int:
    """The facade re-exports lower layers; importing it costs the highest of them."""
    layers = [_layer(i.target) for i in IMPORTS if i.importer == FACADE and _is_ladder(i.target)]
    return max((layer for layer in layers if layer is not None), default=0)


def _top(target: str) -> str:
    return target.split(".")[0]


def _report(rule: str, offenders: list[str]) -> str:
    """One line per offence (``path:line: ...``), duplicates from one statement merged."""
    unique = list(dict.fromkeys(offenders))
    return f"{rule} ({len(unique)}):\n  " + "\n  ".join(unique)


def test_every_module_belongs_to_a_layer() -> None:
    unplaced = [str(MODULES[m]) for m in MODULES if m != FACADE and _layer(m) is None]
    assert not unplaced, _report("modules outside every layer: put them in one", unplaced)


def test_no_module_imports_a_higher_layer() -> None:
    facade = _facade_layer()
    offenders = []
    for imp in IMPORTS:
        if imp.importer == FACADE or not _is_ladder(imp.target):
            continue
        own = _layer(imp.importer)
        theirs = facade if imp.target == FACADE else _layer(imp.target)
        if own is not None and theirs is not None and theirs > own:
            offenders.append(
                f"{imp.where}: {imp.importer} (layer {own}) imports {imp.target} (layer {theirs})"
            )
    assert not offenders, _report("imports that point up the layers", offenders)


def test_engine_imports_no_torch_or_transformers() -> None:
    offenders = [
        f"{imp.where}: {imp.importer} imports {imp.target}"
        for imp in IMPORTS
        if _layer(imp.importer) == LAYERS["engine"]
        and _top(imp.target) in {"torch", "transformers"}
    ]
    assert not offenders, _report("the causal engine must not import torch/transformers", offenders)


def test_analysis_cannot_load_models_or_run_inference() -> None:
    offenders = [
        f"{imp.where}: {imp.importer} imports {imp.target}"
        for imp in IMPORTS
        if _layer(imp.importer) == LAYERS["analysis"]
        and any(imp.target == f or imp.target.startswith(f + ".") for f in ANALYSIS_FORBIDDEN)
    ]
    assert not offenders, _report("analysis imports model or inference code", offenders)


def test_ladder_imports_sit_at_module_level() -> None:
    offenders = [
        f"{imp.where}: {imp.importer} imports {imp.target} inside a function"
        for imp in IMPORTS
        if imp.in_function and _is_ladder(imp.target)
    ]
    assert not offenders, _report("ladder imports inside functions", offenders)


def test_only_heavy_libraries_are_imported_inside_functions() -> None:
    offenders = [
        f"{imp.where}: {imp.importer} imports {imp.target} inside a function"
        for imp in IMPORTS
        if imp.in_function and not _is_ladder(imp.target) and _top(imp.target) not in DEFERRABLE
    ]
    allowed = ", ".join(sorted(DEFERRABLE))
    assert not offenders, _report(f"function-level imports other than {allowed}", offenders)


# Modules whose names start with "_" hold helpers shared by commands, not commands.
COMMAND_MODULES = sorted(
    p for p in (PACKAGE / "commands").glob("*.py") if not p.name.startswith("_")
)


def _module_level_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_command_modules_define_the_command_interface() -> None:
    offenders = []
    for path in COMMAND_MODULES:
        missing = [a for a in COMMAND_ATTRIBUTES if a not in _module_level_names(path)]
        if missing:
            rel = path.relative_to(PACKAGE.parent)
            offenders.append(f"{rel}:1: does not define {', '.join(missing)}")
    assert not offenders, _report("command modules lacking NAME/HELP/configure/run", offenders)


def test_every_command_module_is_registered() -> None:
    commands = importlib.import_module("ladder.commands")
    registered = {module.__name__: name for name, module in commands.COMMANDS.items()}
    offenders = []
    for path in COMMAND_MODULES:
        module = f"ladder.commands.{path.stem}"
        if module not in registered:
            offenders.append(f"{path.relative_to(PACKAGE.parent)}:1: not in COMMANDS")
        elif registered[module] != importlib.import_module(module).NAME:
            offenders.append(
                f"{path.relative_to(PACKAGE.parent)}:1: registered under "
                f"{registered[module]!r}, not its NAME"
            )
    assert not offenders, _report(
        "command modules missing from ladder.commands.COMMANDS", offenders
    )
    assert COMMAND_MODULES, "no command modules found"


@pytest.mark.parametrize(
    ("importer", "source", "expected"),
    [
        ("ladder.harness.runner", "from ladder.core import io", ["ladder.core.io"]),
        ("ladder.harness.runner", "from .models import loading", ["ladder.harness.models.loading"]),
        ("ladder.harness", "from .runner import run", ["ladder.harness.runner"]),
        ("ladder.granger.probe", "from ..engine.graphs import FAMILIES", ["ladder.engine.graphs"]),
        ("ladder.cli", "from ladder import SCM", ["ladder"]),
    ],
)
def test_relative_and_facade_imports_resolve(importer: str, source: str, expected: list[str]):
    """The resolver the rules rest on: names written four ways land on the right module."""
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.ImportFrom)
    is_package = importer in MODULES and MODULES[importer].name == "__init__.py"
    assert _resolve(importer, is_package, node) == expected


def test_the_walk_sees_function_level_and_dynamic_imports() -> None:
    """A function-level import and an ``import_module`` call are both found and flagged."""
    src = (
        "import json\n"
        "def f():\n"
        "    import torch\n"
        "    from ladder.harness import runner\n"
        "    return importlib.import_module('ladder.cli')\n"
    )
    path = PACKAGE / "engine" / "fake.py"
    collector = _ImportCollector("ladder.engine.fake", path)
    collector.visit(ast.parse(src))
    seen = [(i.target, i.line, i.in_function) for i in collector.found]
    assert seen == [
        ("json", 1, False),
        ("torch", 3, True),
        ("ladder.harness.runner", 4, True),
        ("ladder.cli", 5, True),
    ]
