"""Interop: write an item file as an lm-evaluation-harness task (YAML + JSONL).

The task scores ``Yes``/``No`` by log-likelihood after ``<prompt>\\nAnswer:``, the same
question ladder asks without a chat template, so numbers are comparable.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import yaml

from ladder.core.errors import UsageError
from ladder.core.io import atomic_writer
from ladder.core.records import ANSWER, GRAPH_FAMILY, ID, PROMPT, RUNG, VERBALIZATION, YES, Item
from ladder.generation.items import read_items

__all__ = ["TASK_NAME", "check_task_name", "export_lm_eval", "prepare_out_dir"]

#: What a task name may be: it names files inside the output folder, so no path parts.
TASK_NAME = re.compile(r"[A-Za-z0-9_]+")


def check_task_name(name: str) -> str:
    """``name`` if it is a safe task name ([A-Za-z0-9_]+), else :class:`UsageError`.

    >>> check_task_name("../../x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ladder.core.errors.UsageError: --task-name '../../x': only letters, digits and underscores...
    """
    if not TASK_NAME.fullmatch(name):
        raise UsageError(
            f"--task-name {name!r}: only letters, digits and underscores are allowed "
            "([A-Za-z0-9_]+)"
        )
    return name


def prepare_out_dir(out: Path) -> None:
    """Create the output folder, or :class:`UsageError` if it is a file or not writable."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: is a file, not a folder; give a folder for the task files")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot create the folder ({exc.strerror or exc})") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: the folder is not writable")


def _row(item: Item) -> dict[str, object]:
    return {
        "id": item[ID],
        "prompt": item[PROMPT],
        "label": 1 if item[ANSWER] == YES else 0,
        "rung": item[RUNG],
        "query_type": item["query"]["type"],
        "graph_family": item[GRAPH_FAMILY],
        "verbalization": item[VERBALIZATION],
    }


def export_lm_eval(
    items_path: str | Path, out_dir: str | Path, task_name: str | None = None
) -> list[Path]:
    """Write ``<task>.jsonl`` and ``<task>.yaml`` into ``out_dir``; return their paths."""
    if task_name is not None:
        check_task_name(task_name)
    items = read_items(items_path)
    task = task_name or "ladder_" + re.sub(r"[^a-z0-9_]+", "_", str(items[0]["task"]).lower())
    out = Path(out_dir)
    prepare_out_dir(out)
    data_path = out / f"{task}.jsonl"
    with atomic_writer(data_path) as fh:
        for item in items:
            fh.write(json.dumps(_row(item), ensure_ascii=False) + "\n")
    config = {
        "task": task,
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(data_path.resolve())}},
        "test_split": "test",
        "output_type": "multiple_choice",
        "doc_to_text": "{{prompt}}\nAnswer:",
        "doc_to_choice": ["No", "Yes"],
        "doc_to_target": "{{label}}",
        "target_delimiter": " ",
        "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True}],
        "metadata": {"version": 1.0, "source": f"ladder export of {Path(items_path).name}"},
    }
    yaml_path = out / f"{task}.yaml"
    with atomic_writer(yaml_path) as fh:
        yaml.safe_dump(config, fh, sort_keys=False, allow_unicode=True)
    return [yaml_path, data_path]
