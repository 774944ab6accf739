"""Files: atomic writes, JSON and append-only JSONL, hashes and file-safe names.

Every file ladder writes goes through :func:`atomic_writer` (or is an append-only JSONL
log read back by :func:`read_jsonl`), so a kill never leaves a half-written file.

>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "x.json")
>>> write_json(path, {"a": 1})
>>> read_json(path)
{'a': 1}
>>> slugify("HuggingFaceTB/SmolLM2-135M")
'huggingfacetb--smollm2-135m'
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import re
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ladder.core.errors import ItemFileError, LadderError

__all__ = [
    "DuplicateRecordWarning",
    "atomic_writer",
    "drop_duplicate_ids",
    "file_sha256",
    "read_json",
    "read_jsonl",
    "remove_stale_temporaries",
    "slugify",
    "write_json",
]


class DuplicateRecordWarning(UserWarning):
    """A run file holds the same id twice; all but the first record were dropped."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: A temporary file older than this whose name carries no PID (older ladder) is stale.
_LEGACY_TMP_AGE_S = 24 * 3600


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but belongs to someone else
        return True
    return True


def remove_stale_temporaries(path: str | Path, before: float | None = None) -> list[Path]:
    """Remove ``.NAME.PID.XXXX.tmp`` files beside ``path`` left by dead processes.

    A temporary is stale when it was last written before ``before`` (default: now) and
    the process named in it is gone; one without a PID (older ladder) is stale after a
    day. Returns the removed paths; what cannot be removed is left alone.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> dead = os.path.join(d, ".x.json.999999999.abcd1234.tmp")
    >>> open(dead, "w").close()
    >>> [p.name for p in remove_stale_temporaries(os.path.join(d, "x.json"))]
    ['.x.json.999999999.abcd1234.tmp']
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    before = time.time() if before is None else before
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(?:(\d+)\.)?[A-Za-z0-9_]+\.tmp")
    removed = []
    for candidate in directory.glob(f".{glob.escape(path.name)}.*.tmp"):
        match = pattern.fullmatch(candidate.name)
        if not match:
            continue
        with contextlib.suppress(OSError):
            age_limit = before if match.group(1) else before - _LEGACY_TMP_AGE_S
            if candidate.stat().st_mtime >= age_limit:
                continue
            if match.group(1) and _pid_alive(int(match.group(1))):
                continue
            candidate.unlink()
            removed.append(candidate)
    return removed


@contextlib.contextmanager
def atomic_writer(path: str | Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Write to a temporary file beside ``path`` and rename it into place on success.

    On any error (a kill included, via the signal's exception: the CLI turns SIGTERM into
    one) the temporary file is removed and ``path`` is left as it was. The temporary's
    name carries the writer's PID (``.NAME.PID.XXXX.tmp``), so temporaries left by a
    process killed without warning (SIGKILL) are removed by the next write of ``path``.
    The file gets the permissions an ordinary ``open`` would give it (0666 less the
    umask), not ``mkstemp``'s 0600. Raises ``OSError`` at once if the directory is not
    writable.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    started = time.time()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=directory)
    try:
        remove_stale_temporaries(path, before=started)
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_json(path: str | Path, data: Any, allow_nan: bool = False) -> None:
    """Write ``data`` as indented UTF-8 JSON, atomically (NaN refused unless ``allow_nan``)."""
    with atomic_writer(path) as fh:
        json.dump(data, fh, indent=2, ensure_ascii=False, allow_nan=allow_nan)
        fh.write("\n")


def read_json(path: str | Path, error: type[LadderError] = ItemFileError) -> Any:
    """Parse a JSON file; a missing, unreadable or malformed file raises ``error``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise error(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{path}: malformed JSON ({exc.msg} at line {exc.lineno})") from None


def read_jsonl(
    path: str | Path, repair: bool = False, error: type[LadderError] = ItemFileError
) -> list[dict[str, Any]]:
    """Records of a JSONL file written by appending (samples, series records).

    A missing file has no records. A torn last line (a write cut by a kill) is dropped,
    and cut from the file when ``repair``; a corrupt line anywhere else raises ``error``.
    """
    path = Path(path)
    if not path.exists():
        return []
    data = path.read_bytes()
    records: list[dict[str, Any]] = []
    good_end = offset = 0
    for lineno, raw in enumerate(data.splitlines(keepends=True), 1):
        offset += len(raw)
        if not raw.endswith(b"\n"):
            break  # torn write
        try:
            record = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            if offset == len(data):
                break
            raise error(f"{path}:{lineno}: corrupt line (not JSON)") from None
        if not isinstance(record, dict):
            raise error(f"{path}:{lineno}: a record must be a JSON object")
        records.append(record)
        good_end = offset
    if repair and good_end != len(data):
        with path.open("r+b") as fh:
            fh.truncate(good_end)
    return records


def drop_duplicate_ids(
    records: list[dict[str, Any]], source: str | Path, key: str = "id"
) -> list[dict[str, Any]]:
    """``records`` with later repeats of an id dropped, warning once if any were.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     kept = drop_duplicate_ids([{"id": "a"}, {"id": "b"}, {"id": "a"}], "s.jsonl")
    >>> [r["id"] for r in kept], str(caught[0].message)
    (['a', 'b'], "s.jsonl: 1 duplicate id(s) dropped (first: 'a'); kept the first record of each")
    """
    seen: set[Any] = set()
    kept: list[dict[str, Any]] = []
    dupes: list[Any] = []
    for record in records:
        ident = record.get(key)
        if ident in seen:
            dupes.append(ident)
            continue
        seen.add(ident)
        kept.append(record)
    if dupes:
        warnings.warn(
            f"{source}: {len(dupes)} duplicate id(s) dropped (first: {dupes[0]!r}); "
            "kept the first record of each",
            DuplicateRecordWarning,
            stacklevel=2,
        )
    return kept


def file_sha256(path: str | Path) -> str:
    """sha256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def slugify(name: str) -> str:
    """A filesystem-safe, lower-case slug that cannot leave its folder (no ``/``, no ``..``)."""
    text = name.strip().lower().replace("/", "--")
    text = re.sub(r"[^a-z0-9._-]+", "-", text).strip("-.")
    text = re.sub(r"\.{2,}", ".", text)
    return text or "model"
