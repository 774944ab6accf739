"""Runs: score a predictor on an item file, append samples as they come, resume, summarise.

A run directory ``runs/<model-slug>/<timestamp>/`` holds:

* ``items.jsonl`` — the exact items scored (copied or generated there);
* ``samples.jsonl`` — one line per scored item, written as each chunk is scored; chunks are
  sized to about ``flush_seconds`` of work, so a kill loses at most that much;
* ``results.json`` — identity, provenance, settings and metrics
  (:mod:`ladder.harness.results_schema` documents every key); ``status`` is ``running``
  while scoring, ``complete`` at the end, ``partial`` when stopped early (Ctrl-C).

The directory's lifecycle (lock, header, append, finish) is :class:`ladder.harness.rundir.
RunDir`. An interrupted run continues with :func:`run` and ``resume=True``: the recorded
items, ``limit`` and settings are kept (a different model, settings or limit is refused),
samples already on disk are kept (a torn last line is cut), the rest are scored; nothing
is lost or scored twice.

Under ``torchrun``/``accelerate launch`` (:mod:`ladder.harness.distributed`) rank 0 calls
:func:`run` with its :class:`~ladder.harness.distributed.Group` and the other ranks call
:func:`follow`: each scores its contiguous shard into its own rank log, and rank 0 merges
them into ``samples.jsonl`` in item order, so the directory is the one a single process
writes (only ``started``, ``finished``, ``command``, ``resumed`` and ``environment`` differ).
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ladder.core.errors import ItemFileError, RunError
from ladder.core.io import file_sha256
from ladder.core.records import Item, Sample
from ladder.generation.items import read_items
from ladder.harness.cache import ResponseCache
from ladder.harness.distributed import Group, consolidate, follower_plan, main_plan, shard
from ladder.harness.metrics import SLICE_FIELDS, slice_metrics, summarize
from ladder.harness.predictors import Prediction, Predictor
from ladder.harness.provenance import contamination, read_provenance
from ladder.harness.rundir import SYNC_SECONDS, LogWriter, RunDir, keep_recorded, read_log

__all__ = [
    "CHUNK",
    "HEADER",
    "ITEMS",
    "LOG",
    "RESULTS_VERSION",
    "ResponseCache",
    "RunError",
    "follow",
    "read_samples",
    "resume_limit",
    "run",
]

RESULTS_VERSION = 1
#: The most items handed to the predictor at once (fewer when it is slow: see _Pacer).
CHUNK = 256
HEADER, LOG, ITEMS = "results.json", "samples.jsonl", "items.jsonl"


def read_samples(path: str | Path, repair: bool = False) -> list[dict[str, Any]]:
    """Samples of a run: a torn final line (a killed write) is dropped (and cut if
    ``repair``); a repeated id is dropped with a warning, keeping the first."""
    return read_log(path, RunError, repair)


def _sample(item: Item, pred: Prediction, cached: bool) -> Sample:
    """One line of ``samples.jsonl``: the prediction beside the item's answer and slice fields.

    The item's ``association_answer`` travels with it, so reports never recompute it.
    """
    out: Sample = {
        "id": item["id"],
        "p_yes": pred.p_yes,
        "prediction": pred.prediction,
        "answer": item["answer"],
        "correct": pred.prediction == item["answer"],
        "truth": item["truth"],
        "query_type": item.get("query_type", item["query"]["type"]),
    }
    for key in (*SLICE_FIELDS, "association_answer"):
        if key in item and key not in out:
            out[key] = item[key]  # type: ignore[literal-required]
    if pred.extra:
        out["extra"] = pred.extra
    out["cached"] = cached
    return out


def _spec_info(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    tasks = sorted({str(i.get("task")) for i in items})
    seeds = sorted({i.get("seed") for i in items if i.get("seed") is not None})
    return {"tasks": tasks, "seeds": seeds}


class _Pacer:
    """Chunk sizes that make one chunk about ``seconds`` of predictor work (1 to ``most``).

    The first chunk is one item; later ones follow the measured time per fresh item, so a
    fast predictor still gets large batches and a slow one writes its samples every
    ``seconds`` or so.
    """

    def __init__(self, most: int, seconds: float) -> None:
        self.most, self.seconds, self.size = max(1, most), seconds, 1

    def take(self, todo: Sequence[dict[str, Any]], start: int) -> Sequence[dict[str, Any]]:
        end = min(len(todo), start + self.size)
        # Keep a family's questions in one chunk: the scorer runs their shared prompt prefix
        # once per predict call (HFPredictor passes family_id as prefix_groups).
        family = todo[end - 1].get("family_id") if end > start else None
        while family is not None and end < len(todo) and todo[end].get("family_id") == family:
            end += 1
        return todo[start:end]

    def measured(self, n_fresh: int, elapsed: float) -> None:
        if n_fresh:
            per_item = max(elapsed / n_fresh, 1e-9)
            self.size = max(1, min(self.most, int(self.seconds / per_item)))
        else:  # all served from the cache: no work, grow
            self.size = min(self.most, self.size * 4)


class _Keys:
    """Response-cache keys of a predictor: its cache identity and each item's scored text."""

    def __init__(self, predictor: Predictor) -> None:
        identity = getattr(predictor, "cache_identity", None)
        self.identity = (
            identity()
            if identity
            else {"fingerprint": predictor.fingerprint, "settings": predictor.settings()}
        )
        self.text = getattr(predictor, "scored_text", None) or (
            lambda item: json.dumps(item, sort_keys=True, ensure_ascii=False)
        )

    def __call__(self, items: Sequence[dict[str, Any]]) -> list[str]:
        return [ResponseCache.key(self.identity, self.text(i)) for i in items]


def _score_chunk(
    predictor: Predictor,
    chunk: Sequence[dict[str, Any]],
    cache: ResponseCache | None,
    keys_of: _Keys | None,
) -> tuple[list[dict[str, Any]], int]:
    """Samples of ``chunk`` (cached answers reused, fresh ones stored), and how many were
    fresh."""
    keys = keys_of(chunk) if cache and keys_of else [None] * len(chunk)
    hits = cache.get_many([k for k in keys if k]) if cache else {}
    missing = [i for i, k in zip(chunk, keys, strict=True) if k not in hits]
    answers = predictor.predict(missing) if missing else []
    fresh = dict(zip([i["id"] for i in missing], answers, strict=True))
    if cache and fresh:
        cache.put_many(
            {k: fresh[i["id"]] for i, k in zip(chunk, keys, strict=True) if k and i["id"] in fresh}
        )
    samples = [
        _sample(i, fresh[i["id"]], cached=False) if i["id"] in fresh else _sample(i, hits[k], True)
        for i, k in zip(chunk, keys, strict=True)
    ]
    return samples, len(missing)


def _score_all(
    predictor: Predictor,
    todo: Sequence[dict[str, Any]],
    sink: RunDir | LogWriter,
    cache: ResponseCache | None,
    pacer: _Pacer,
    bar: Any,
) -> None:
    """Score ``todo`` chunk by chunk, appending each chunk's samples to ``sink`` (the run's
    log, or this rank's log) as soon as it is done."""
    keys_of = _Keys(predictor) if cache else None
    start = 0
    while start < len(todo):
        chunk = pacer.take(todo, start)
        began = time.monotonic()
        samples, n_fresh = _score_chunk(predictor, chunk, cache, keys_of)
        pacer.measured(n_fresh, time.monotonic() - began)
        sink.append(samples)
        bar.update(len(chunk))
        start += len(chunk)


def _check_resume(previous: dict[str, Any], predictor: Predictor, where: Path) -> None:
    model = previous.get("model") or {}
    if model.get("fingerprint") != predictor.fingerprint:
        raise RunError(
            f"{where}: the run was made with model {model.get('name')!r} (fingerprint "
            f"{str(model.get('fingerprint'))[:12]}); resume it with that model"
        )
    if previous.get("settings") != predictor.settings():
        raise RunError(
            f"{where}: settings differ from the run's ({previous.get('settings')}); "
            "resume with the same options"
        )


def resume_limit(previous: dict[str, Any], limit: int | None, where: Path) -> int | None:
    """The limit recorded in a run's results.json; an explicit different ``limit`` raises
    :class:`RunError` (a resumed run keeps its recorded settings).

    >>> resume_limit({"items": {"limit": 20}}, None, Path("r"))
    20
    """
    recorded = (previous.get("items") or {}).get("limit")
    return keep_recorded("--limit", recorded, limit, where)


def _resume_items(rd: RunDir, previous: dict[str, Any]) -> Path:
    """The run's item file: its own ``items.jsonl``, else the recorded path (a shared copy)."""
    local = rd.path / ITEMS
    recorded = (previous.get("items") or {}).get("path")
    if not local.exists() and recorded and Path(recorded).is_file():
        return Path(recorded)
    return local


def _prepare(
    rd: RunDir, predictor: Predictor, items_path: Path, limit: int | None
) -> tuple[Path, list[dict[str, Any]], int | None]:
    """Check a resume against the record, put the items in place; (file, items, limit)."""
    if rd.previous is not None:
        _check_resume(rd.previous, predictor, rd.path)
        limit = resume_limit(rd.previous, limit, rd.path)
        local = _resume_items(rd, rd.previous)
    else:
        local = rd.path / ITEMS
        if items_path.resolve() != local.resolve():
            shutil.copyfile(items_path, local)
    items = read_items(local)
    sha = rd.previous and (rd.previous.get("items") or {}).get("sha256")
    if sha and sha != file_sha256(local):
        raise ItemFileError(f"{local}: changed since the run started (sha256 differs)")
    return local, items[:limit] if limit is not None else items, limit


def _header(
    predictor: Predictor,
    local: Path,
    items: list[dict[str, Any]],
    limit: int | None,
    provenance: dict[str, Any],
) -> dict[str, Any]:
    """results.json before metrics (lifecycle keys are placeholders RunDir.start fills)."""
    ident = predictor.identity()
    record = read_provenance(ident.get("path")) if ident.get("source") == "local" else None
    return {
        "results_version": RESULTS_VERSION,
        "status": None,
        "started": None,
        "finished": None,
        "ladder": None,
        "command": None,
        "model": ident,
        "settings": predictor.settings(),
        "items": {
            "path": str(local),
            "sha256": file_sha256(local),
            "n": len(items),
            "limit": limit,
            **_spec_info(items),
            **provenance,
        },
        # a fine-tuned model scored on the items (or spec and seed) it was trained on
        "contamination": contamination(record, local, items),
        "environment": None,
        "metrics": None,
    }


def _metrics(
    rd: RunDir, items: Sequence[dict[str, Any]], final: bool
) -> tuple[dict[str, Any], bool]:
    """Metrics over every sample on disk (the run's log and any rank logs), and whether all
    items are scored. ``final``: fold the rank logs into the log first (every rank is done);
    otherwise only read them (after Ctrl-C other ranks may still be writing)."""
    ids = [i["id"] for i in items]
    ordered = consolidate(rd.log_path, ids, rd.replace_log, rd.error, repair=final)
    wanted = set(ids)
    ordered = [s for s in ordered if s["id"] in wanted]
    metrics = {"overall": summarize(ordered), "slices": slice_metrics(ordered)}
    return metrics, len(ordered) == len(items)


def _bar(predictor: Predictor, total: int, initial: int, show: bool) -> Any:
    return tqdm(
        total=total,
        initial=initial,
        unit="item",
        desc=f"score {predictor.name}",
        disable=not show,
        file=sys.stderr,
        dynamic_ncols=True,
    )


def _family(item: dict[str, Any]) -> Any:
    """What keeps items in one shard: their family (the shared prompt prefix); an item
    without one is its own."""
    return item.get("family_id") or item["id"]


def _plan(
    rd: RunDir, items: list[dict[str, Any]], local: Path, limit: int | None, group: Group | None
) -> tuple[list[dict[str, Any]], RunDir | LogWriter]:
    """What this process scores (a shard in a group), and where it appends."""
    done, sink = main_plan(rd, [i["id"] for i in items], group, items=str(local), limit=limit)
    mine = shard(items, group.rank, group.world_size, _family) if group else items
    return [i for i in mine if i["id"] not in done], sink


def _run_in(
    rd: RunDir,
    predictor: Predictor,
    items_path: Path,
    options: dict[str, Any],
) -> dict[str, Any]:
    local, items, limit = _prepare(rd, predictor, items_path, options["limit"])
    provenance = dict(options["provenance"] or {})
    if rd.previous and (rd.previous.get("items") or {}).get("spec"):
        provenance.setdefault("spec", rd.previous["items"]["spec"])
    group: Group | None = options["group"]
    world = {"world_size": group.world_size} if group else None
    rd.start(_header(predictor, local, items, limit, provenance), options["command"], world)
    todo, sink = _plan(rd, items, local, limit, group)
    # One process: the whole run's bar; rank 0 of a group: its own shard's.
    total = len(todo) if group else len(items)
    bar = _bar(predictor, total, total - len(todo), options["progress"])
    pacer = _Pacer(options["chunk_size"], options["flush_seconds"])
    try:
        with closing(bar):
            _score_all(predictor, todo, sink, options["cache"], pacer, bar)
    except KeyboardInterrupt:
        metrics, _ = _metrics(rd, items, final=False)
        rd.finish({"metrics": metrics}, complete=False)
        raise
    finally:
        if sink is not rd:
            sink.close()  # type: ignore[union-attr]
    if group:
        group.barrier()  # every rank's samples are on disk
    metrics, complete = _metrics(rd, items, final=True)
    return rd.finish({"metrics": metrics}, complete=complete)


def follow(
    predictor: Predictor,
    group: Group,
    *,
    cache: ResponseCache | None = None,
    chunk_size: int = CHUNK,
    flush_seconds: float = SYNC_SECONDS,
) -> int:
    """A rank other than 0 of a data-parallel run: take rank 0's plan, score this rank's
    shard into its rank log, wait for the others. Returns how many items it scored.

    Raises :class:`~ladder.harness.distributed.DistributedError` when rank 0 stopped before
    sharing a plan (its error is in the message).
    """
    plan, sink = follower_plan(group)
    items = read_items(plan["items"])
    if plan["limit"] is not None:
        items = items[: plan["limit"]]
    mine = shard(items, group.rank, group.world_size, _family)
    todo = [i for i in mine if i["id"] not in plan["done"]]
    pacer = _Pacer(chunk_size, flush_seconds)
    try:
        with closing(_bar(predictor, len(todo), 0, False)) as bar:
            _score_all(predictor, todo, sink, cache, pacer, bar)
    finally:
        sink.close()
    group.barrier()
    return len(todo)


def run(
    predictor: Predictor,
    items_path: str | Path,
    run_dir: str | Path | RunDir,
    *,
    resume: bool = False,
    cache: ResponseCache | None = None,
    limit: int | None = None,
    chunk_size: int = CHUNK,
    flush_seconds: float = SYNC_SECONDS,
    progress: bool = True,
    command: str | None = None,
    provenance: dict[str, Any] | None = None,
    group: Group | None = None,
) -> dict[str, Any]:
    """Score ``predictor`` on the items and write the run directory; return results.json.

    ``run_dir`` is a path (opened here: created, or resumed when ``resume``) or a
    :class:`RunDir` the caller opened (and closes). On resume the recorded items and
    ``limit`` are used; a different ``limit``, model or settings raises :class:`RunError`.
    Samples are appended at least every ``flush_seconds`` of work (chunks of at most
    ``chunk_size`` items). Ctrl-C writes the metrics so far with status ``partial`` and
    re-raises ``KeyboardInterrupt``. With ``group`` (rank 0 of a data-parallel run) this
    process scores its shard, the other ranks theirs (:func:`follow`), and the samples are
    merged in item order at the end.
    """
    options = {
        "limit": limit,
        "chunk_size": chunk_size,
        "flush_seconds": flush_seconds,
        "progress": progress,
        "command": command,
        "provenance": provenance,
        "cache": cache,
        "group": group,
    }
    if isinstance(run_dir, RunDir):
        return _run_in(run_dir, predictor, Path(items_path), options)
    if not resume:
        read_items(items_path)  # refuse a bad item file before making a directory
    opener = RunDir.resume if resume else RunDir.create
    with opener(run_dir, HEADER, LOG) as rd:
        return _run_in(rd, predictor, Path(items_path), options)
