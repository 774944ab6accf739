"""Runs: score a predictor on an item file, append samples as they come, resume, summarise.

A run directory ``runs/<model-slug>/<timestamp>/`` holds:

* ``items.jsonl`` — the exact items scored (copied or generated there);
* ``samples.jsonl`` — one line per scored item, appended and flushed chunk by chunk;
* ``results.json`` — identity, provenance, settings and metrics
  (:mod:`ladder.harness.results_schema` documents every key); ``status`` is ``running`` until
  the last sample is written, then ``complete``.

An interrupted run continues with :func:`run` and ``resume=True``: samples already on
disk are kept (a torn last line is cut), the rest are scored; nothing is lost or
scored twice.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ladder.core.environment import VERSION, environment, git_commit
from ladder.core.errors import ItemFileError, RunError
from ladder.core.io import file_sha256, read_jsonl, write_json
from ladder.generation.items import read_items
from ladder.harness.metrics import SLICE_FIELDS, slice_metrics, summarize
from ladder.harness.predictors import Prediction, Predictor

__all__ = ["RESULTS_VERSION", "ResponseCache", "RunError", "new_run_dir", "read_samples", "run"]

RESULTS_VERSION = 1
CHUNK = 64


class ResponseCache:
    """A persistent map (model fingerprint, settings, prompt) → prediction, in SQLite.

    The key always includes the model fingerprint, so two models never share answers.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
        )
        self._db.commit()

    @staticmethod
    def key(fingerprint: str, settings: dict[str, Any], prompt: str) -> str:
        blob = json.dumps([fingerprint, settings, prompt], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()

    def get_many(self, keys: Sequence[str]) -> dict[str, Prediction]:
        out: dict[str, Prediction] = {}
        for start in range(0, len(keys), 500):
            part = list(keys[start : start + 500])
            marks = ",".join("?" * len(part))
            for key, value in self._db.execute(
                f"SELECT key, value FROM responses WHERE key IN ({marks})", part
            ):
                data = json.loads(value)
                out[key] = Prediction(data["p_yes"], data["prediction"], data.get("extra", {}))
        return out

    def put_many(self, entries: dict[str, Prediction]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO responses (key, value) VALUES (?, ?)",
            [
                (k, json.dumps({"p_yes": p.p_yes, "prediction": p.prediction, "extra": p.extra}))
                for k, p in entries.items()
            ],
        )
        self._db.commit()

    def close(self) -> None:
        self._db.close()


def new_run_dir(root: str | Path, slug: str) -> Path:
    """A fresh ``root/slug/<UTC timestamp>`` directory (suffixed if it exists)."""
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    base = Path(root) / slug / stamp
    path, k = base, 1
    while path.exists():
        k += 1
        path = base.with_name(f"{stamp}-{k}")
    path.mkdir(parents=True)
    return path


def read_samples(path: str | Path, repair: bool = False) -> list[dict[str, Any]]:
    """Samples of a run; a torn final line (a killed write) is dropped (and cut if ``repair``)."""
    return read_jsonl(path, repair, RunError)


def _sample(item: dict[str, Any], pred: Prediction, cached: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": item["id"],
        "p_yes": pred.p_yes,
        "prediction": pred.prediction,
        "answer": item["answer"],
        "correct": pred.prediction == item["answer"],
        "truth": item["truth"],
        "query_type": item.get("query_type", item["query"]["type"]),
    }
    for key in SLICE_FIELDS:
        if key in item and key not in out:
            out[key] = item[key]
    if pred.extra:
        out["extra"] = pred.extra
    out["cached"] = cached
    return out


def _chunks(items: Sequence[dict[str, Any]], size: int) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _spec_info(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    tasks = sorted({str(i.get("task")) for i in items})
    seeds = sorted({i.get("seed") for i in items if i.get("seed") is not None})
    return {"tasks": tasks, "seeds": seeds}


def run(
    predictor: Predictor,
    items_path: str | Path,
    run_dir: str | Path,
    *,
    resume: bool = False,
    cache: ResponseCache | None = None,
    limit: int | None = None,
    chunk_size: int = CHUNK,
    progress: bool = True,
    command: str | None = None,
    provenance: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Score ``predictor`` on the items and write the run directory; return results."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    results_path = run_dir / "results.json"
    local_items = run_dir / "items.jsonl"
    if resume:
        if not results_path.exists():
            raise RunError(f"{run_dir}: no results.json; not a run directory to resume")
        previous = json.loads(results_path.read_text())
        if previous["model"]["fingerprint"] != predictor.fingerprint:
            raise RunError(
                f"{run_dir}: the run was made with model "
                f"{previous['model']['name']!r} (fingerprint "
                f"{previous['model']['fingerprint'][:12]}); resume it with that model"
            )
        if previous["settings"] != predictor.settings():
            raise RunError(
                f"{run_dir}: settings differ from the run's "
                f"({previous['settings']}); resume with the same options"
            )
        items_path = local_items
    else:
        if Path(items_path).resolve() != local_items.resolve():
            shutil.copyfile(items_path, local_items)
        previous = None
    items = read_items(local_items)
    if limit is not None:
        items = items[:limit]
    item_hash = file_sha256(local_items)
    if previous and previous["items"]["sha256"] != item_hash:
        raise ItemFileError(f"{local_items}: changed since the run started (sha256 differs)")

    samples_path = run_dir / "samples.jsonl"
    done = {s["id"]: s for s in read_samples(samples_path, repair=True)} if resume else {}
    if not resume and samples_path.exists():
        samples_path.unlink()
    todo = [i for i in items if i["id"] not in done]
    started = previous["started"] if previous else _dt.datetime.now(_dt.UTC).isoformat()
    results: dict[str, Any] = {
        "results_version": RESULTS_VERSION,
        "status": "running",
        "started": started,
        "finished": None,
        "ladder": {"version": VERSION, "git_commit": git_commit()},
        "command": command,
        "model": predictor.identity(),
        "settings": predictor.settings(),
        "items": {
            "path": str(local_items),
            "sha256": item_hash,
            "n": len(items),
            "limit": limit,
            **_spec_info(items),
            **(provenance or {}),
        },
        "environment": environment(),
        "metrics": None,
    }
    if previous and previous.get("items", {}).get("spec"):
        results["items"].setdefault("spec", previous["items"]["spec"])
    write_json(results_path, results, allow_nan=True)

    settings = predictor.settings()
    bar = tqdm(
        total=len(items),
        initial=len(items) - len(todo),
        unit="item",
        desc=f"score {predictor.name}",
        disable=not progress,
        file=sys.stderr,
        dynamic_ncols=True,
    )
    with samples_path.open("a", encoding="utf-8") as out, closing(bar):
        for chunk in _chunks(todo, chunk_size):
            keys = (
                [ResponseCache.key(predictor.fingerprint, settings, i["prompt"]) for i in chunk]
                if cache
                else []
            )
            hits = cache.get_many(keys) if cache else {}
            missing = [
                i for i, k in zip(chunk, keys or [None] * len(chunk), strict=True) if k not in hits
            ]
            fresh = (
                dict(zip([i["id"] for i in missing], predictor.predict(missing), strict=True))
                if missing
                else {}
            )
            if cache and fresh:
                cache.put_many(
                    {
                        k: fresh[i["id"]]
                        for i, k in zip(chunk, keys, strict=True)
                        if i["id"] in fresh
                    }
                )
            lines = []
            for n, item in enumerate(chunk):
                if item["id"] in fresh:
                    lines.append(_sample(item, fresh[item["id"]], cached=False))
                else:
                    lines.append(_sample(item, hits[keys[n]], cached=True))
            out.write("".join(json.dumps(s, ensure_ascii=False) + "\n" for s in lines))
            out.flush()
            os.fsync(out.fileno())
            bar.update(len(chunk))

    samples = read_samples(samples_path)
    by_id = {s["id"]: s for s in samples}
    ordered = [by_id[i["id"]] for i in items if i["id"] in by_id]
    results["status"] = "complete" if len(ordered) == len(items) else "partial"
    results["finished"] = _dt.datetime.now(_dt.UTC).isoformat()
    results["metrics"] = {"overall": summarize(ordered), "slices": slice_metrics(ordered)}
    write_json(results_path, results, allow_nan=True)
    return results
