"""Item files: JSONL reading with line-numbered errors.

>>> import tempfile, os
>>> from ladder.core.io import atomic_writer
>>> path = os.path.join(tempfile.mkdtemp(), "items.jsonl")
>>> with atomic_writer(path) as fh:
...     _ = fh.write('{"id": "a"}\\n')
>>> [item["id"] for item in read_items(path, require=("id",))]
['a']
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ladder.core.errors import ItemFileError

__all__ = ["REQUIRED_FIELDS", "ItemFileError", "read_items"]

#: Fields every item carries (item contract, version 1).
REQUIRED_FIELDS = (
    "id",
    "task",
    "rung",
    "graph_family",
    "verbalization",
    "scm",
    "query",
    "truth",
    "answer",
    "prompt",
    "seed",
)


def read_items(path: str | Path, require: Sequence[str] = REQUIRED_FIELDS) -> list[dict[str, Any]]:
    """All items of a JSONL file; blank lines are skipped, duplicates ids rejected."""
    path = Path(path)
    try:
        fh = path.open(encoding="utf-8")
    except OSError as exc:
        raise ItemFileError(f"{path}: cannot read the item file ({exc.strerror or exc})") from None
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    with fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ItemFileError(
                    f"{path}:{lineno}: malformed JSON ({exc.msg} at column {exc.colno})"
                ) from None
            if not isinstance(item, dict):
                raise ItemFileError(f"{path}:{lineno}: an item must be a JSON object")
            missing = [f for f in require if f not in item]
            if missing:
                raise ItemFileError(f"{path}:{lineno}: item lacks required fields {missing}")
            if "id" in item:
                if item["id"] in seen:
                    raise ItemFileError(f"{path}:{lineno}: duplicate item id {item['id']!r}")
                seen.add(item["id"])
            items.append(item)
    if not items:
        raise ItemFileError(f"{path}: the item file holds no items")
    return items
