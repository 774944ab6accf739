"""Provenance records of fine-tuned models and the contamination check (no model needed)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from ladder.core.errors import ItemFileError, LadderError
from ladder.harness.provenance import (
    PROVENANCE_FILE,
    contamination,
    item_summary,
    prompt_overlap,
    read_provenance,
    write_provenance,
)


def _items(task: str, seed: int, n: int, prefix: str = "q") -> list[dict[str, Any]]:
    return [
        {"id": f"{seed}-{i}", "task": task, "seed": seed, "prompt": f"{prefix}{i}"}
        for i in range(n)
    ]


def _file(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_item_summary_hashes_the_file_and_lists_task_seeds(tmp_path: Path) -> None:
    path = _file(tmp_path / "train.jsonl", "anything\n")
    items = _items("b", 2, 2) + _items("a", 7, 1) + _items("b", 1, 1)
    summary = item_summary(path, items)
    assert summary["sha256"] == hashlib.sha256(b"anything\n").hexdigest()
    assert summary["task_seeds"] == [["a", 7], ["b", 1], ["b", 2]]
    assert summary["n"] == 4 and summary["tasks"] == ["a", "b"]
    assert len(summary["prompt_digests"]) == 2  # q0 and q1, each once


def test_read_provenance_none_for_names_and_plain_folders(tmp_path: Path) -> None:
    assert read_provenance(None) is None
    assert read_provenance("smollm2-135m-instruct") is None
    assert read_provenance(tmp_path) is None
    assert read_provenance(_file(tmp_path / "model.gguf", "x")) is None
    write_provenance(tmp_path, {"labels": "truth"})
    assert read_provenance(tmp_path) == {"provenance_version": 1, "labels": "truth"}


def test_read_provenance_refuses_a_bad_record(tmp_path: Path) -> None:
    _file(tmp_path / PROVENANCE_FILE, "[1, 2]")
    with pytest.raises(ItemFileError, match="must be a JSON object"):
        read_provenance(tmp_path)
    _file(tmp_path / PROVENANCE_FILE, "{not json")
    with pytest.raises(LadderError):
        read_provenance(tmp_path)


def test_contamination_reasons(tmp_path: Path) -> None:
    train = _file(tmp_path / "train.jsonl", "train\n")
    record = {"labels": "association", "training_items": item_summary(train, _items("s", 1, 3))}
    same_file = contamination(record, _file(tmp_path / "copy.jsonl", "train\n"), _items("x", 9, 2))
    assert same_file is not None and same_file["reason"] == "same item file"
    assert same_file["depth"] == 0 and same_file["labels"] == "association"
    other = _file(tmp_path / "other.jsonl", "other\n")
    seed = contamination(record, other, _items("s", 1, 5) + _items("s", 2, 5))
    assert seed is not None and seed["reason"] == "same spec and seed"
    assert seed["task_seeds"] == [["s", 1]] and seed["n_items"] == 10
    assert seed["shared_prompts"] == 6  # q0..q2 of both seeds: the prompts match
    assert contamination(record, other, _items("s", 2, 5, prefix="z")) is None
    assert contamination(record, other, _items("t", 1, 5)) is None  # another spec
    assert contamination(None, other, _items("s", 1, 5)) is None


def test_contamination_follows_the_base_chain(tmp_path: Path) -> None:
    first = {"labels": "truth", "training_items": {"sha256": "aa", "task_seeds": [["s", 1]]}}
    second = {
        "labels": "association",
        "base_model": {"provenance": first},
        "training_items": {"sha256": "bb", "task_seeds": [["s", 2]]},
    }
    found = contamination(second, None, _items("s", 1, 2))
    assert found is not None and found["depth"] == 1 and found["labels"] == "truth"
    assert contamination(second, None, _items("s", 3, 2)) is None


def test_prompt_overlap_counts_items_seen_in_training() -> None:
    record = {"training_items": item_summary(Path(__file__), _items("s", 1, 4))}
    assert prompt_overlap(record, _items("s", 5, 6)) == 4
    assert prompt_overlap(record, _items("s", 5, 6, prefix="z")) == 0
