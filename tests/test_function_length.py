"""No function or method in the ``ladder`` package may be longer than 60 lines.

Length is ``end_lineno - lineno + 1`` of the ``def`` node (docstring included, decorators
not), so long functions get split into named helpers instead of growing further.
"""

from __future__ import annotations

import ast
from pathlib import Path

import ladder

MAX_LINES = 60
PACKAGE = Path(ladder.__file__).resolve().parent
ROOT = PACKAGE.parent


def long_functions(source: str, path: str, limit: int = MAX_LINES) -> list[str]:
    """``path:line name length`` for each function or method in ``source`` over ``limit``."""
    out = []
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > limit:
                out.append(f"{path}:{node.lineno} {node.name} {length}")
    return out


def test_checker_finds_long_functions_and_methods() -> None:
    # 1 def line + 60 body lines = 61; the method: 1 + 60 + 1 (return) = 62, starting at line 66
    top = ["def long():"] + [f"    x{i} = {i}" for i in range(60)]
    cls = ["", "class C:", "    def ok(self):", "        pass"]
    meth = ["    async def meth(self):"] + [f"        y{i} = {i}" for i in range(60)]
    source = "\n".join([*top, *cls, *meth, "        return 1", ""])
    assert long_functions(source, "m.py") == ["m.py:1 long 61", "m.py:66 meth 62"]
    exactly_60 = "def f():\n" + "\n".join(["    pass"] * 59) + "\n"
    assert long_functions(exactly_60, "m.py") == []


def test_no_function_in_ladder_is_longer_than_limit() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 20, f"expected the package's modules under {PACKAGE}"
    offenders = []
    for module in modules:
        rel = module.relative_to(ROOT).as_posix()
        offenders += long_functions(module.read_text(encoding="utf-8"), rel)
    assert not offenders, f"functions over {MAX_LINES} lines:\n" + "\n".join(offenders)
