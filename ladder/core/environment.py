"""Where a result came from: ladder's version, its git commit and the software around it.

>>> {"ladder", "python", "numpy"} <= set(environment())
True
"""

from __future__ import annotations

import platform
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import numpy

__all__ = ["VERSION", "command_line", "environment", "git_commit"]

VERSION = "0.1.0"

_CODE_PATHS = ("ladder", "tasks", "pyproject.toml")
_GIT_STATUS = ("status", "--porcelain", "--untracked-files=no")  # after "git -C ROOT"

_LIBRARIES = ("torch", "transformers", "numpy", "scipy", "statsmodels", "pgmpy", "networkx")


@cache
def git_commit() -> str | None:
    """The commit of the ladder checkout, when it is one (``-dirty`` if its code is modified)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        sha = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            # Only the code and task files count: writing a report into reports/ must not
            # mark the commit that wrote it as modified.
            ["git", "-C", str(root), *_GIT_STATUS, "--", *_CODE_PATHS],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def environment() -> dict[str, Any]:
    """Versions of Python, the platform, ladder, numpy and the libraries a run has imported."""
    env: dict[str, Any] = {
        "ladder": VERSION,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": numpy.__version__,
    }
    for module in _LIBRARIES:
        mod = sys.modules.get(module)
        if mod is not None:
            env[module] = getattr(mod, "__version__", None)
    return env


def command_line(argv: list[str] | None = None) -> str:
    """The command as a user would retype it: ``ladder`` and the arguments, shell-quoted.

    >>> command_line(["run", "--model", "my model"])
    "ladder run --model 'my model'"
    """
    return shlex.join(["ladder", *(sys.argv[1:] if argv is None else argv)])
