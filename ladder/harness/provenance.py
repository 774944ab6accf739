"""Provenance of fine-tuned models, and the contamination check that reads it.

``ladder finetune`` writes ``ladder_provenance.json`` into the model folder it makes: the
base model's identity, the training item file's sha256, the (task, seed) pairs that made
the items, a short digest of every training prompt, the labels, the settings and the loss.
:func:`contamination` compares that record with an item file about to be scored and says
whether the model was trained on those very items:

* ``"same item file"`` — the scored file's sha256 is the training file's;
* ``"same spec and seed"`` — a (task, seed) pair of the scored items made training items:
  the same spec and seed give the same items (``id`` is a hash of task, seed and index),
  so a larger or smaller ``--n`` of that seed overlaps too.

A model fine-tuned from a fine-tuned model carries its base's record under
``base_model.provenance``; the check follows that chain.

>>> record = {"training_items": {"sha256": "ab", "task_seeds": [["quick", 1]]}}
>>> contamination(record, None, [{"task": "quick", "seed": 1, "prompt": "p"}])["reason"]
'same spec and seed'
>>> contamination(record, None, [{"task": "quick", "seed": 2, "prompt": "p"}]) is None
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ladder.core.errors import ItemFileError
from ladder.core.io import file_sha256, read_json, write_json

__all__ = [
    "PROVENANCE_FILE",
    "PROVENANCE_VERSION",
    "contamination",
    "finetune_summary",
    "item_summary",
    "prompt_digest",
    "prompt_overlap",
    "read_provenance",
    "write_provenance",
]

PROVENANCE_FILE = "ladder_provenance.json"
PROVENANCE_VERSION = 1
#: hex digits kept of each prompt's sha256: 48 bits, no accidental collision among 10^5 prompts
_DIGEST_HEX = 12
#: how deep a chain of fine-tunes is followed (a cycle cannot occur, but a hand-edited file...)
_MAX_CHAIN = 8


def prompt_digest(prompt: str) -> str:
    """The first 12 hex digits of the prompt's sha256.

    >>> prompt_digest("Is X a cause of Y?")
    'f6cf92b97fe2'
    """
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:_DIGEST_HEX]


def _task_seeds(items: Iterable[dict[str, Any]]) -> list[list[Any]]:
    """Sorted distinct ``[task, seed]`` pairs of items that carry both."""
    pairs = {
        (str(i["task"]), i["seed"])
        for i in items
        if i.get("task") is not None and i.get("seed") is not None
    }
    return [list(p) for p in sorted(pairs, key=lambda p: (p[0], str(p[1])))]


def item_summary(path: str | Path, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What a provenance record says about a training item file: path, sha256, size, the
    tasks and seeds that made it and the sorted digests of its prompts."""
    return {
        "path": str(Path(path).resolve()),
        "sha256": file_sha256(path),
        "n": len(items),
        "tasks": sorted({str(i.get("task")) for i in items}),
        "seeds": sorted({i["seed"] for i in items if i.get("seed") is not None}, key=str),
        "task_seeds": _task_seeds(items),
        "prompt_digests": sorted({prompt_digest(i["prompt"]) for i in items if "prompt" in i}),
    }


def write_provenance(folder: str | Path, record: dict[str, Any]) -> Path:
    """Write ``record`` (with ``provenance_version``) as the folder's provenance file."""
    path = Path(folder) / PROVENANCE_FILE
    write_json(path, {"provenance_version": PROVENANCE_VERSION, **record})
    return path


def read_provenance(model_path: str | Path | None) -> dict[str, Any] | None:
    """The provenance record of a model folder, or ``None`` when ``model_path`` is not a
    folder (an embedded name, a hub id, a GGUF file) or holds no record.

    Raises:
        ItemFileError: the record exists but is not a JSON object.
    """
    if model_path is None:
        return None
    folder = Path(model_path).expanduser()
    path = folder / PROVENANCE_FILE
    if not folder.is_dir() or not path.is_file():
        return None
    record = read_json(path)
    if not isinstance(record, dict):
        raise ItemFileError(f"{path}: a provenance record must be a JSON object")
    return record


def _chain(provenance: dict[str, Any]) -> list[dict[str, Any]]:
    """The record and its bases' records, nearest first."""
    chain: list[dict[str, Any]] = []
    link: Any = provenance
    while isinstance(link, dict) and len(chain) < _MAX_CHAIN:
        chain.append(link)
        link = (link.get("base_model") or {}).get("provenance")
    return chain


def prompt_overlap(provenance: dict[str, Any], items: Sequence[dict[str, Any]]) -> int:
    """How many of ``items`` have a prompt that a model of the chain was trained on.

    A fresh seed of a small spec can repeat a prompt word for word; this counts them.

    >>> record = {"training_items": {"prompt_digests": [prompt_digest("a")]}}
    >>> prompt_overlap(record, [{"prompt": "a"}, {"prompt": "b"}])
    1
    """
    trained: set[str] = set()
    for link in _chain(provenance):
        trained.update((link.get("training_items") or {}).get("prompt_digests") or [])
    return sum(1 for i in items if "prompt" in i and prompt_digest(i["prompt"]) in trained)


def _match(
    record: dict[str, Any], sha: str | None, pairs: list[list[Any]]
) -> dict[str, Any] | None:
    """Why one record's training items are the scored ones, or ``None``."""
    trained = record.get("training_items") or {}
    if sha is not None and trained.get("sha256") == sha:
        return {"reason": "same item file", "sha256": sha}
    shared = [p for p in pairs if p in (trained.get("task_seeds") or [])]
    if shared:
        return {"reason": "same spec and seed", "task_seeds": shared}
    return None


def contamination(
    provenance: dict[str, Any] | None,
    items_path: str | Path | None,
    items: Sequence[dict[str, Any]],
) -> dict[str, Any] | None:
    """Whether a model with this ``provenance`` was trained on the items being scored.

    Returns ``None`` when it was not (or there is no record), else a dict: ``reason``
    (``"same item file"`` or ``"same spec and seed"``), what matched (``sha256`` or
    ``task_seeds``), ``depth`` (0: this model's own training, 1: its base's, ...),
    ``labels`` (what it was trained to answer), ``shared_prompts`` (scored items whose
    prompt was a training prompt) and ``n_items``. ``items_path`` may be ``None`` (then
    only the spec and seed are compared).
    """
    if not provenance:
        return None
    sha = file_sha256(items_path) if items_path is not None else None
    pairs = _task_seeds(items)
    for depth, record in enumerate(_chain(provenance)):
        found = _match(record, sha, pairs)
        if found is not None:
            return {
                **found,
                "depth": depth,
                "labels": record.get("labels"),
                "shared_prompts": prompt_overlap(provenance, items),
                "n_items": len(items),
            }
    return None


def finetune_summary(record: dict[str, Any]) -> dict[str, Any]:
    """What ``results.json`` records of a fine-tuned model (``model.finetune``): its labels,
    base model, training items and steps, read from its provenance ``record``.

    >>> finetune_summary({"labels": "truth", "steps": 3, "base_model": {"name": "b",
    ...     "fingerprint": "f"}, "training_items": {"sha256": "s", "task_seeds": [["q", 1]]}})
    {'labels': 'truth', 'base': 'b', 'base_fingerprint': 'f', 'training_items_sha256': 's', \
'task_seeds': [['q', 1]], 'steps': 3}
    """
    base = record.get("base_model") or {}
    trained = record.get("training_items") or {}
    return {
        "labels": record.get("labels"),
        "base": base.get("name"),
        "base_fingerprint": base.get("fingerprint"),
        "training_items_sha256": trained.get("sha256"),
        "task_seeds": trained.get("task_seeds"),
        "steps": record.get("steps"),
    }
