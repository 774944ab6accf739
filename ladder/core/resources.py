"""Built-in files shipped as package data, found one way: ``ladder/tasks/<name>.yaml``.

``ladder/tasks`` is a link to the repository's top-level ``tasks/``, so a checkout and an
installed package read the same bytes.

>>> builtin_task("quick").name
'quick.yaml'
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["builtin_task", "stories_file"]


def builtin_task(name: str) -> Path:
    """Path of the packaged task file ``tasks/<name>.yaml`` (a suite or a Granger grid)."""
    return Path(str(resources.files("ladder") / "tasks" / f"{name}.yaml"))


def stories_file() -> Path:
    """Path of the packaged story list used to name variables."""
    return Path(str(resources.files("ladder") / "generation" / "data" / "stories.yaml"))
