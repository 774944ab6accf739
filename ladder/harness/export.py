"""Interop: write an item file as an lm-evaluation-harness task (YAML + JSONL).

The task scores ``Yes``/``No`` by log-likelihood after ``<prompt>\\nAnswer:``, the same
question ladder asks without a chat template, so numbers are comparable.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from ladder.core.io import atomic_writer
from ladder.generation.items import read_items

__all__ = ["export_lm_eval"]


def export_lm_eval(
    items_path: str | Path, out_dir: str | Path, task_name: str | None = None
) -> list[Path]:
    """Write ``<task>.jsonl`` and ``<task>.yaml`` into ``out_dir``; return their paths."""
    items = read_items(items_path)
    task = task_name or "ladder_" + re.sub(r"[^a-z0-9_]+", "_", str(items[0]["task"]).lower())
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data_path = out / f"{task}.jsonl"
    with atomic_writer(data_path) as fh:
        for item in items:
            row = {
                "id": item["id"],
                "prompt": item["prompt"],
                "label": 1 if item["answer"] == "yes" else 0,
                "rung": item["rung"],
                "query_type": item["query"]["type"],
                "graph_family": item["graph_family"],
                "verbalization": item["verbalization"],
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
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
