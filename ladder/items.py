"""Item files: JSONL reading with line-numbered errors, and atomic writing.

>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "items.jsonl")
>>> with atomic_writer(path) as fh:
...     _ = fh.write('{"id": "a"}\\n')
>>> [item["id"] for item in read_items(path, require=("id",))]
['a']
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

__all__ = ["REQUIRED_FIELDS", "ItemFileError", "atomic_writer", "file_sha256", "read_appended",
           "read_items"]

#: Fields every item carries (item contract, version 1).
REQUIRED_FIELDS = ("id", "task", "rung", "graph_family", "verbalization", "scm", "query",
                   "truth", "answer", "prompt", "seed")


class ItemFileError(ValueError):
    """An item file is missing or malformed; the message names the file and line."""


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
                raise ItemFileError(f"{path}:{lineno}: malformed JSON ({exc.msg} at column "
                                    f"{exc.colno})") from None
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


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def atomic_writer(path: str | Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Write to a temporary file beside ``path`` and rename it into place on success.

    On any error the temporary file is removed and ``path`` is left as it was.
    Raises ``OSError`` at once if the directory is not writable.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_appended(path: str | Path, repair: bool = False,
                  error: type[ValueError] = ItemFileError) -> list[dict[str, Any]]:
    """Records of a JSONL file written by appending (samples, series records).

    A torn last line (a write cut by a kill) is dropped, and cut from the file when
    ``repair``; a corrupt line anywhere else raises ``error``.
    """
    path = Path(path)
    if not path.exists():
        return []
    data = path.read_bytes()
    records: list[dict[str, Any]] = []
    good_end = offset = 0
    for raw in data.splitlines(keepends=True):
        offset += len(raw)
        if not raw.endswith(b"\n"):
            break  # torn write
        try:
            records.append(json.loads(raw))
        except json.JSONDecodeError:
            if offset == len(data):
                break
            raise error(f"{path}: line {len(records) + 1} is corrupt") from None
        good_end = offset
    if repair and good_end != len(data):
        with path.open("r+b") as fh:
            fh.truncate(good_end)
    return records
