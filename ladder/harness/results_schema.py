"""The schema of a run's ``results.json`` and ``samples.jsonl`` (results version 1).

Every key is typed and documented here; :func:`validate_results` checks a loaded file
against it, so reports can rely on it years later without loading a model.
"""

# No "from __future__ import annotations": TypedDict needs NotRequired evaluated to know
# which keys are optional.
from typing import Any, Literal, NotRequired, TypedDict, get_type_hints

from ladder.core.records import Sample

__all__ = [
    "ItemsInfo",
    "LadderInfo",
    "Metrics",
    "ModelIdentity",
    "Results",
    "ResumeRecord",
    "Sample",
    "SliceSummary",
    "validate_results",
]


class LadderInfo(TypedDict):
    version: str
    """ladder's package version."""
    git_commit: str | None
    """Commit of the ladder checkout that made the run (``-dirty`` when modified)."""


class ModelIdentity(TypedDict, total=False):
    name: str
    """What was asked for: hub id, path, embedded name or baseline name."""
    kind: Literal["hf", "baseline"]
    fingerprint: str
    """sha256 identifying the logits: weights hash (or hub id + revision) and dtype."""
    source: str
    """``hub``, ``local``, ``gguf`` or ``embedded`` (hf only)."""
    dtype: str
    architecture: str
    """The transformers model class."""
    load: dict[str, Any]
    finetune: dict[str, Any]
    """Present for a model made by ``ladder finetune``: ``labels``, ``base``,
    ``base_fingerprint``, ``training_items_sha256``, ``task_seeds``, ``steps``."""
    """The model argument and loading options, so ``--resume`` can reload it."""
    description: str
    """Baselines: what the rule is."""


class ItemsInfo(TypedDict, total=False):
    path: str
    """The run's own copy of the items (``<run>/items.jsonl``)."""
    sha256: str
    """sha256 of that file: runs are comparable only on equal hashes."""
    n: int
    """Items in the run (after ``limit``)."""
    limit: int | None
    tasks: list[str]
    """Task spec names found in the items."""
    seeds: list[int]
    """Generation seeds found in the items."""
    spec: dict[str, Any]
    """When the run generated its items: spec name, source, sha256, seed, n."""


class SliceSummary(TypedDict):
    n: int
    correct: int
    accuracy: float
    ci_low: float
    """Wilson 95% interval, lower bound."""
    ci_high: float
    brier: float
    """Mean (p_yes − truth)² over readable answers."""
    ece: float
    """Expected calibration error, 10 equal-width confidence bins."""
    yes_rate: float
    """Share of readable predictions that are "yes" (answer bias)."""
    truth_yes_rate: float
    """Share of items whose correct answer is "yes"."""
    unreadable: int
    """Generate mode: answers with no readable yes/no (counted wrong)."""


class Metrics(TypedDict):
    overall: SliceSummary
    slices: dict[str, dict[str, SliceSummary]]
    """``{field: {value: summary}}`` for rung, query_type, graph_family, n_nodes,
    verbalization, evidence and discordant."""


class ResumeRecord(TypedDict):
    at: str
    """ISO 8601 UTC time of the resume."""
    command: str
    """The command line that resumed the run."""


class Results(TypedDict):
    results_version: int
    status: Literal["running", "partial", "complete"]
    """``complete``: every item scored. ``partial``: stopped early (Ctrl-C, SIGTERM or an
    error), with metrics over the samples written. ``running`` after the process ended: it
    was killed hard; ``ladder run --resume`` continues either."""
    started: str
    """ISO 8601 UTC."""
    finished: str | None
    ladder: LadderInfo
    command: str | None
    """The command line that made the run; a resume never changes it (see ``resumed``)."""
    resumed: NotRequired[list[ResumeRecord]]
    """One entry per ``--resume``, oldest first (absent when never resumed)."""
    model: ModelIdentity
    settings: dict[str, Any]
    """Scoring settings: mode (loglik/generate), chat_template, options, max_new_tokens."""
    items: ItemsInfo
    contamination: NotRequired[dict[str, Any] | None]
    """Null when clean; for a fine-tuned model trained on these very items (same item-file
    hash) or on the same spec and seed: ``reason`` (``"same item file"`` or ``"same spec and
    seed"``), the matching ``sha256`` or ``task_seeds``, ``labels`` and ``shared_prompts``
    (:func:`ladder.harness.provenance.contamination`)."""
    environment: dict[str, Any]
    """Python, platform and library versions."""
    metrics: Metrics | None


def validate_results(data: dict[str, Any]) -> list[str]:
    """Problems with a loaded ``results.json`` (an empty list when it is well-formed)."""
    problems = []
    for key in sorted(Results.__required_keys__):
        if key not in data:
            problems.append(f"missing key {key!r}")
    if data.get("results_version") not in (None, 1):
        problems.append(f"unknown results_version {data.get('results_version')!r}")
    metrics = data.get("metrics")
    if metrics:
        for key in get_type_hints(SliceSummary):
            if key not in metrics.get("overall", {}):
                problems.append(f"metrics.overall lacks {key!r}")
    for key in ("name", "fingerprint"):
        if key not in data.get("model", {}):
            problems.append(f"model lacks {key!r}")
    for key in ("sha256", "n"):
        if key not in data.get("items", {}):
            problems.append(f"items lacks {key!r}")
    return problems
