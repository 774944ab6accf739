"""Reading a run directory (``results.json``, ``samples.jsonl``, ``items.jsonl``) and nothing else.

A run directory is read as it was written: no model is loaded and nothing is scored again.
Missing or partial files are tolerated and described in :attr:`Run.warnings`; what makes a
run unusable raises :class:`~ladder.core.errors.ReportError` with one line.

Samples carry the item fields they are sliced by (:data:`ladder.harness.metrics.SLICE_FIELDS`)
and ``discordant``; fields a sample lacks are taken from the run's ``items.jsonl`` (older runs
wrote fewer), and ``discordant`` is derived from the item's ``association_answer`` as a last
resort. ``correct`` is always ``prediction == answer``, the definition the metrics use.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ladder.core.errors import LadderError, ReportError
from ladder.core.io import (
    DuplicateRecordWarning,
    drop_duplicate_ids,
    file_sha256,
    read_json,
    read_jsonl,
)
from ladder.generation.items import read_items
from ladder.harness.metrics import SLICE_FIELDS
from ladder.harness.mixtures import FIXED_BASELINES, is_baseline_name
from ladder.harness.results_schema import validate_results

__all__ = [
    "BASELINE_NAMES",
    "RUN_FILES",
    "SAMPLE_FIELDS",
    "Run",
    "complete_sample",
    "load_run",
    "read_results",
]

#: The baselines every report compares against, in table order.
BASELINE_NAMES = FIXED_BASELINES
RUN_FILES = ("items.jsonl", "samples.jsonl", "results.json")
#: Item fields a sample takes from ``items.jsonl`` when it lacks them.
SAMPLE_FIELDS = (*SLICE_FIELDS, "association_answer", "family_id", "question_key", "twin_id")


@dataclass
class Run:
    """What a run directory holds.

    ``warnings`` say what is missing or partial (every line a report shows);
    ``integrity`` is the subset about the data itself (dropped duplicate ids, changed items,
    schema problems), which every reader of the run repeats; ``results_problem`` says why
    ``results`` is None.
    """

    path: Path
    results: dict[str, Any] | None
    items: list[dict[str, Any]] | None
    samples: list[dict[str, Any]]
    items_sha256: str | None
    warnings: list[str] = field(default_factory=list)
    integrity: list[str] = field(default_factory=list)
    results_problem: str | None = None

    @property
    def model(self) -> dict[str, Any]:
        """The recorded model identity (empty without results.json)."""
        return (self.results or {}).get("model") or {}

    @property
    def name(self) -> str:
        """The model's name, or the directory's model slug when results.json is missing."""
        name = self.model.get("name")
        if name:
            return str(name)
        return self.path.parent.name if self.path.parent.name else self.path.name

    @property
    def is_baseline(self) -> bool:
        """Whether this is a baseline run (:data:`BASELINE_NAMES` or a mixture baseline)."""
        return self.model.get("kind") == "baseline" and is_baseline_name(self.name)

    @property
    def status(self) -> str:
        """The recorded status, else complete/partial by counting samples against items."""
        if self.results and self.results.get("status"):
            return str(self.results["status"])
        if self.items is not None:
            return "complete" if len(self.samples) >= len(self.items) else "partial"
        return "unknown"

    @property
    def n_expected(self) -> int | None:
        """Items the run was meant to score (results.json, else items.jsonl)."""
        n = ((self.results or {}).get("items") or {}).get("n")
        if isinstance(n, int):
            return n
        return len(self.items) if self.items is not None else None

    @property
    def is_partial(self) -> bool:
        """Whether fewer items were scored than planned (or the run is not complete)."""
        expected = self.n_expected
        return self.status != "complete" or (expected is not None and len(self.samples) < expected)

    def correct_by_id(self) -> dict[str, bool]:
        """``{id: correct}`` over the scored samples."""
        return {s["id"]: bool(s["correct"]) for s in self.samples}

    def note(self, text: str, integrity: bool = False) -> None:
        """Record a warning (and, with ``integrity``, an integrity warning)."""
        self.warnings.append(text)
        if integrity:
            self.integrity.append(text)


def read_results(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """``(results.json as a dict, None)``, or ``(None, why it cannot be used)``."""
    file = path / "results.json"
    if not file.exists():
        return None, "no results.json"
    try:
        data = read_json(file, ReportError)
    except ReportError as exc:
        return None, f"results.json is unreadable ({str(exc).removeprefix(f'{file}: ')})"
    if not isinstance(data, dict):
        return None, "results.json is not a JSON object"
    return data, None


def _load_results(run: Run) -> None:
    data, problem = read_results(run.path)
    run.results, run.results_problem = data, problem
    if problem == "no results.json":
        run.note(
            "no results.json: model identity, provenance and status are unknown; "
            "the numbers come from samples.jsonl"
        )
    elif problem:
        run.note(f"{problem}; model identity and provenance are unknown")
    elif problems := validate_results(data or {}):
        run.note("results.json does not match the schema: " + "; ".join(problems), True)


def _load_items(run: Run) -> None:
    file = run.path / "items.jsonl"
    if not file.exists():
        run.note("no items.jsonl: fields missing from the samples cannot be filled in")
        return
    try:
        run.items = read_items(file)
        return
    except LadderError as exc:
        problem = str(exc).splitlines()[0]
    # An old run's items may fail checks added since: their fields still describe the run.
    try:
        records = read_jsonl(file, error=ReportError)
    except ReportError as exc:
        run.note(f"items.jsonl cannot be used ({str(exc).splitlines()[0]})")
        return
    run.items = [r for r in records if "id" in r]
    run.note(f"items.jsonl fails today's item checks ({problem}); its fields are used as written")


def _read_samples(run: Run) -> list[dict[str, Any]]:
    """The samples, each id once (later repeats dropped with an integrity warning)."""
    file = run.path / "samples.jsonl"
    records = read_jsonl(file, error=ReportError)
    for n, s in enumerate(records, 1):
        missing = [k for k in ("id", "prediction", "answer") if k not in s]
        if missing:
            raise ReportError(f"{file}:{n}: a sample lacks {missing}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DuplicateRecordWarning)
        kept = drop_duplicate_ids(records, file)
    for w in caught:
        if issubclass(w.category, DuplicateRecordWarning):
            run.note(str(w.message), True)
        else:  # not ours: pass it on unchanged
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return kept


def complete_sample(sample: dict[str, Any], item: Mapping[str, Any] | None) -> None:
    """Fill the fields ``sample`` lacks from its ``item``; set ``correct``.

    >>> s = {"id": "a", "prediction": "no", "answer": "yes"}
    >>> complete_sample(s, {"query": {"type": "ate"}, "rung": 2, "association_answer": "no"})
    >>> s["query_type"], s["rung"], s["discordant"], s["correct"]
    ('ate', 2, True, False)
    """
    if item is not None:
        for key in SAMPLE_FIELDS:
            if key not in sample and key in item:
                sample[key] = item[key]
        query = item.get("query")
        if isinstance(query, Mapping):
            if "query_type" not in sample:
                sample["query_type"] = query.get("type")
            if "polarity" not in sample and "polarity" in query:
                sample["polarity"] = query["polarity"]
    if "discordant" not in sample and sample.get("association_answer") in ("yes", "no"):
        # items written before ``discordant`` existed: the same definition as generation's
        sample["discordant"] = sample["association_answer"] != sample["answer"]
    sample["correct"] = sample["prediction"] == sample["answer"]


def _check_items_hash(run: Run) -> None:
    recorded = ((run.results or {}).get("items") or {}).get("sha256")
    run.items_sha256 = recorded
    if not (run.path / "items.jsonl").exists():
        return
    actual = file_sha256(run.path / "items.jsonl")
    if recorded and actual != recorded:
        run.note(
            f"items.jsonl has sha256 {actual[:12]} but results.json records "
            f"{recorded[:12]}: the items changed after the run",
            True,
        )
    run.items_sha256 = recorded or actual


def _check_present(path: Path) -> None:
    if not path.is_dir():
        raise ReportError(f"{path}: no such run directory")
    if not any((path / f).exists() for f in RUN_FILES):
        raise ReportError(
            f"{path}: not a run directory (none of {', '.join(RUN_FILES)} is "
            "there); nothing to report"
        )


def load_run(path: str | Path, require_samples: bool = True) -> Run:
    """Read a run directory, tolerating missing or partial files (see :class:`Run`).

    Raises :class:`ReportError` when the directory does not exist, holds none of the run
    files, has a corrupt ``samples.jsonl``, or (with ``require_samples``) holds no sample.
    """
    path = Path(path)
    _check_present(path)
    run = Run(path, None, None, [], None)
    _load_results(run)
    _load_items(run)
    run.samples = _read_samples(run)
    if not run.samples and require_samples:
        what = "missing" if not (path / "samples.jsonl").exists() else "empty"
        have = f"; items.jsonl holds {len(run.items)} items" if run.items else ""
        raise ReportError(
            f"{path}: no scored samples (samples.jsonl is {what}{have}); nothing to report yet"
        )
    by_id = {i["id"]: i for i in run.items or []}
    for s in run.samples:
        complete_sample(s, by_id.get(s["id"]))
    if by_id and (unknown := sum(1 for s in run.samples if s["id"] not in by_id)):
        run.note(f"{unknown} samples have ids that are not in items.jsonl", True)
    _check_items_hash(run)
    if run.is_partial:
        expected = run.n_expected
        run.note(
            f"run status is '{run.status}': {len(run.samples)} of "
            f"{expected if expected is not None else '?'} items scored; every "
            "number covers the scored items only"
        )
    return run
