"""The Granger run loop: series -> statsmodels + TE_gauss + TE_M (+ verbal) -> run files.

A run directory (its lifecycle is :class:`ladder.harness.rundir.RunDir`'s, shared with
``ladder run``: one lock per run, records flushed as written) holds

* ``series.jsonl`` — one record per series, appended (flushed at once, fsynced every few
  seconds and at the end) as each is done;
* ``granger.json`` — grid, model identity and fingerprint, settings, per-cell comparison
  table, summary, timing and ladder version; ``status`` is ``running`` until the last series
  is written, then ``complete`` (``partial`` when ``limit`` or an interruption stopped it).

``resume=True`` keeps the records already on disk (a torn last line is cut), checks that the
model, grid, settings and limit are the same, and does the rest; nothing is done twice. The
record keys are listed in :data:`RECORD_KEYS` and in ``docs/granger.md``.

Data-parallel runs (``torchrun``, :mod:`ladder.harness.distributed`): rank 0 runs
:func:`run_in` with its ``group`` (it alone opens the run directory and writes
``granger.json``) and hands the plan (grid, limit, series done) to the other ranks, which
run :func:`follow`. Every rank probes its contiguous :func:`~ladder.harness.distributed.shard`
of the series not yet done into its own ``series.rank<R>.jsonl``; after a barrier rank 0
folds them into ``series.jsonl`` in the grid's order, so the run files are those one
process writes (less the timing fields ``seconds`` and the header's ``environment``).

Example (the stand-in predictor needs no language model)::

    backend = make_backend("linear-oracle")
    results = run_granger(backend, load_grid("quick"), "runs/granger-oracle")
"""

from __future__ import annotations

import functools
import json
import sys
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ladder.core.errors import GrangerRunError
from ladder.granger.classical import (
    classical_verdicts,
    json_safe,
    select_lag,
    unit_root_decision,
)
from ladder.granger.compare import (
    VERBAL_QUESTIONS,
    compare_cells,
    summarize_records,
    verbal_p_yes,
    verbal_prompt,
)
from ladder.granger.grid import GridSpec, recorded_grid
from ladder.granger.model_side import (
    LinearGaussianScorer,
    Scorer,
    hf_scorer,
    score_texts,
    te_statistics,
    te_texts,
)
from ladder.granger.population import LINEAR_CONDITIONS, population_te, te_at_lags
from ladder.granger.serialize import serialize
from ladder.granger.series import Series, make_series
from ladder.harness.distributed import Group, consolidate, follower_plan, main_plan, shard
from ladder.harness.models.loading import digest, load_model
from ladder.harness.rundir import LogWriter, RunDir, keep_recorded, read_log

__all__ = [
    "GRANGER_VERSION",
    "HEADER_FILE",
    "LOG_FILE",
    "ORACLE_NAME",
    "RECORD_KEYS",
    "Backend",
    "check_resume",
    "follow",
    "make_backend",
    "open_run",
    "prepared_series",
    "probe_series",
    "read_records",
    "resume_limit",
    "run_granger",
    "run_in",
    "series_texts",
]

GRANGER_VERSION = 2
ORACLE_NAME = "linear-oracle"
RECORD_KEYS: dict[str, str] = {
    "id": "stable series id: condition/c=coupling/lag=L/n=length/replicate",
    "index": "position in the grid's plan",
    "condition": "generator (series.CONDITIONS key)",
    "coupling": "coupling of the cell (for hidden_driver: the hidden driver's strength)",
    "lag": "true lag of the cell",
    "length": "series length",
    "replicate": "replicate number within the cell",
    "seed": "generator seed",
    "params": "all generator parameters (Series.params)",
    "truth": "X -> Y really exists (Series.true_x_causes_y): changing X would change Y",
    "truth_predictive": "X's past helps predict Y (a link, or a hidden driver with coupling != 0)",
    "te_pop": "population transfer entropy X -> Y of the (transformed) process, nats/step",
    "te_pop_oracle_lag": "the process's TE with oracle_lag lags only (what the stand-in reaches)",
    "unit_root": "the unit-root decision: rule, n_diff, ADF/KPSS p-values (diagnostics)",
    "truth_y_causes_x": "Y -> X really exists",
    "hidden_driver": "a hidden common driver is present",
    "nonstationary": "the series are random walks (levels non-stationary)",
    "n_diff": "differences taken once, before statsmodels and the model saw the series",
    "testable": "statsmodels' test ran (false: InfeasibleTestError or a degenerate fit)",
    "reason": "why not testable (null when testable)",
    "sm_lag": "lag chosen by BIC for the statsmodels test",
    "sm_n_diff": "further differences statsmodels took (always 0: see n_diff)",
    "sm_p": "statsmodels Granger F-test p-value, X -> Y",
    "sm_reject": "sm_p < alpha (null when not testable)",
    "sm_p_yx": "statsmodels p-value, Y -> X",
    "te_gauss": "Gaussian transfer entropy X -> Y, nats/step (0.5 ln SSR_r/SSR_f)",
    "te_m": "model-implied transfer entropy X -> Y, nats/step",
    "model_p": "surrogate p-value of TE_M: (1 + #{T_j >= T_0}) / (S + 1)",
    "model_reject": "model_p <= series_alpha (the per-series level, 1/(S+1) with few surrogates)",
    "oracle_te_m": "the linear-Gaussian stand-in's TE_M on the same texts (power reference)",
    "oracle_p": "the stand-in's surrogate p-value",
    "oracle_reject": "oracle_p <= series_alpha",
    "p_yes_predict": "verbal: P(Yes) to 'does X's past help predict Y?' (null without words)",
    "p_yes_cause": "verbal: P(Yes) to 'would changing X change Y?' (null without words)",
    "model": "TE_M details: te_per_surrogate, step_gain, loglik_real/surrogate, n_steps...",
    "oracle": "the stand-in's TE_M details (same keys as model)",
    "model_error": "why TE_M could not be computed (null normally)",
    "oracle_lag": "lag the linear-oracle used (null for language models)",
    "seconds": "wall seconds spent on this series",
    "tokens": "tokens run through the model for this series",
}


# --------------------------------------------------------------------------- backends


@dataclass
class Backend:
    """What a run needs from a model: a scorer per series, optional words, an identity.

    ``scorer_for(series, classical)`` returns the :data:`Scorer` for one series (the
    linear-oracle's lag depends on it); ``verbal(prompts)`` returns ``p_yes`` per prompt or
    ``None`` when the backend has no words; ``tokens()`` counts tokens run so far.
    """

    name: str
    slug: str
    fingerprint: str
    identity: dict[str, Any]
    scorer_for: Callable[[Series, dict[str, Any]], Scorer]
    verbal: Callable[[list[str]], list[float] | None]
    tokens: Callable[[], int]
    extra: dict[str, Any] = field(default_factory=dict)


def _oracle_lag(series: Series, classical: dict[str, Any]) -> int:
    """The stand-in's lag: statsmodels' BIC lag on the series as prepared (n_diff is 0
    there: the unit-root decision came first), else BIC here, else 1."""
    if classical.get("lag"):
        return int(classical["lag"]) + int(classical.get("n_diff") or 0)
    try:
        return select_lag(series.x, series.y)
    except (ValueError, np.linalg.LinAlgError):
        return 1


class _CountingOracle(LinearGaussianScorer):
    """The stand-in scorer, adding the characters it reads to a shared counter."""

    def __init__(self, lag: int, counter: dict[str, int]) -> None:
        super().__init__(lag)
        self._counter = counter

    def __call__(self, texts: list[str], spans: list[list[tuple[int, int]]]) -> list[list[float]]:
        out = super().__call__(texts, spans)
        self._counter["n"] += sum(len(t) for t in texts)
        return out


def oracle_backend() -> Backend:
    """The in-context least-squares VAR (:class:`LinearGaussianScorer`); no words. Its
    "tokens" are characters (one token per character on the embedded tokenizers)."""
    counter = {"n": 0}
    fingerprint = digest("granger", ORACLE_NAME, f"v{GRANGER_VERSION}")
    return Backend(
        name=ORACLE_NAME,
        slug=ORACLE_NAME,
        fingerprint=fingerprint,
        identity={
            "name": ORACLE_NAME,
            "slug": ORACLE_NAME,
            "fingerprint": fingerprint,
            "source": "baseline",
            "description": "in-context least-squares VAR on the printed numbers",
        },
        scorer_for=lambda series, classical: _CountingOracle(
            _oracle_lag(series, classical), counter
        ),
        verbal=lambda prompts: None,
        tokens=lambda: counter["n"],
    )


def hf_backend(
    loaded: Any, max_batch_tokens: int | None = None, use_chat_template: bool | None = None
) -> Backend:
    """A loaded Hugging Face model: span log-probs for TE_M, Yes/No scores for words."""
    scorer = hf_scorer(loaded, max_batch_tokens=max_batch_tokens)
    counter = {"verbal": 0}

    def verbal(prompts: list[str]) -> list[float]:
        enc = loaded.tokenizer(prompts, add_special_tokens=False)["input_ids"]
        counter["verbal"] += sum(len(ids) for ids in enc)
        return verbal_p_yes(loaded, prompts, use_chat_template)

    return Backend(
        name=loaded.name,
        slug=loaded.slug,
        fingerprint=loaded.fingerprint,
        identity={
            "name": loaded.name,
            "slug": loaded.slug,
            "fingerprint": loaded.fingerprint,
            "source": loaded.source,
            "dtype": loaded.dtype,
            "chat_template": loaded.chat_template,
        },
        scorer_for=lambda series, classical: scorer,
        verbal=verbal,
        tokens=lambda: scorer.n_tokens + counter["verbal"],
        extra={"loaded": loaded},
    )


def make_backend(
    model: str | None = None,
    *,
    device: str = "cpu",
    dtype: str = "float32",
    max_batch_tokens: int | None = None,
    gguf_file: str | None = None,
    revision: str | None = None,
    trust_remote_code: bool = False,
) -> Backend:
    """``"linear-oracle"`` -> :func:`oracle_backend`; anything else goes to
    :func:`ladder.harness.models.loading.load_model` (``None``: the embedded SmolLM2).

    The load options are recorded in the backend's identity (``load``), so that a resumed
    run can load the same model without being told again.
    """
    if model == ORACLE_NAME:
        return oracle_backend()
    options: dict[str, Any] = {
        "gguf_file": gguf_file,
        "dtype": dtype,
        "revision": revision,
        "trust_remote_code": trust_remote_code,
    }
    backend = hf_backend(load_model(model, device=device, **options), max_batch_tokens)
    backend.identity["load"] = {"model": model, **options}
    return backend


# --------------------------------------------------------------------------- one series


def _classical(series: Series, alpha: float) -> dict[str, Any]:
    try:
        return classical_verdicts(series, alpha=alpha, preprocess=False)
    except ValueError as exc:  # invalid data: recorded, never fatal
        return {
            "testable": False,
            "reason": f"invalid series: {exc}",
            "lag": None,
            "n_diff": None,
            "tests": {},
            "verdict": {"x->y": None, "y->x": None},
            "te_gauss": {"x->y": None, "y->x": None},
        }


def prepared_series(grid: GridSpec, entry: dict[str, Any]) -> tuple[Series, dict[str, Any]]:
    """Make one planned series and apply its unit-root decision (made once, here): the
    returned series is what statsmodels, the stand-in and the model all see.

    Example:
        >>> from ladder.granger.grid import parse_grid
        >>> g = parse_grid({"name": "t", "conditions": ["random_walk"], "couplings": [0.0],
        ...                 "lags": [1], "lengths": [60], "series_per_cell": 1})
        >>> s, info = prepared_series(g, g.plan()[0])
        >>> len(s), info["n_diff"]
        (59, 1)
    """
    raw = make_series(entry["condition"], **entry["params"])
    try:
        info = unit_root_decision(raw, grid.unit_root, grid.alpha)
    except (ValueError, np.linalg.LinAlgError) as exc:  # a degenerate series: tested as is
        info = {"rule": grid.unit_root, "n_diff": 0, "error": str(exc).splitlines()[0]}
    x, y = raw.x, raw.y
    for _ in range(info["n_diff"]):
        x, y = np.diff(x), np.diff(y)
    series = Series(x, y, raw.condition, raw.params, raw.true_x_causes_y, raw.true_y_causes_x)
    return series, json_safe(info)


def probe_series(backend: Backend, grid: GridSpec, entry: dict[str, Any]) -> dict[str, Any]:
    """Make one planned series (``grid.plan()`` entry) and return its record."""
    start = time.perf_counter()
    tokens0 = backend.tokens()
    series, unit_root = prepared_series(grid, entry)
    cl = _classical(series, grid.alpha)
    record = _base_record(entry, series, cl)
    record["n_diff"] = unit_root["n_diff"]
    record["unit_root"] = unit_root
    scorer = backend.scorer_for(series, cl)
    oracle_lag = _oracle_lag(series, cl)
    record.update(_model_fields(scorer, LinearGaussianScorer(oracle_lag), series, grid, entry))
    record["oracle_lag"] = oracle_lag
    record["te_pop_oracle_lag"] = _population_te(entry, oracle_lag)
    for key in ("p_yes_predict", "p_yes_cause"):
        record[key] = None
    if grid.verbal and (grid.verbal_per_cell is None or entry["replicate"] < grid.verbal_per_cell):
        answers, verbal_error = _verbal_answers(backend, series, grid)
        record.update(answers)
        if verbal_error is not None:
            record["verbal_error"] = verbal_error
    record["seconds"] = time.perf_counter() - start
    record["tokens"] = backend.tokens() - tokens0
    return json_safe(record)


def _base_record(entry: dict[str, Any], series: Series, cl: dict[str, Any]) -> dict[str, Any]:
    """The record's plan, truth and classical (statsmodels) fields, in their recorded order."""
    tests = cl.get("tests") or {}
    xy, yx = tests.get("x->y") or {}, tests.get("y->x") or {}
    testable = bool(cl.get("testable"))
    hidden = bool(series.params.get("hidden_driver", False))
    return {
        "id": entry["id"],
        "index": entry["index"],
        "condition": entry["condition"],
        "coupling": entry["coupling"],
        "lag": entry["lag"],
        "length": entry["length"],
        "replicate": entry["replicate"],
        "seed": entry["seed"],
        "params": series.params,
        "truth": series.true_x_causes_y,
        "truth_predictive": series.true_x_causes_y or (hidden and entry["coupling"] != 0),
        "truth_y_causes_x": series.true_y_causes_x,
        "hidden_driver": hidden,
        "nonstationary": series.condition == "random_walk",
        "te_pop": _population_te(entry),
        "testable": testable,
        "reason": cl.get("reason"),
        "sm_lag": cl.get("lag"),
        "sm_n_diff": cl.get("n_diff"),
        "sm_p": xy.get("p_value"),
        "sm_reject": (cl["verdict"]["x->y"] if testable else None),
        "sm_p_yx": yx.get("p_value"),
        "te_gauss": (cl.get("te_gauss") or {}).get("x->y"),
    }


@functools.lru_cache(maxsize=256)
def _population_te_cached(condition: str, params: str, lags: int | None) -> float | None:
    if lags is None:
        return population_te(condition, json.loads(params))
    if condition not in LINEAR_CONDITIONS:
        return None
    return te_at_lags(condition, json.loads(params), lags)


def _population_te(entry: dict[str, Any], lags: int | None = None) -> float | None:
    """TE_pop of a planned series' process (the same for every series of a cell); with
    ``lags``, ``TE_p`` at that many lags (what a lag-``p`` Granger predictor can reach)."""
    params = {k: v for k, v in entry["params"].items() if k != "seed"}
    try:
        return _population_te_cached(entry["condition"], json.dumps(params, sort_keys=True), lags)
    except ValueError:
        return None


def _te_fields(prefix: str, ll: np.ndarray | None, error: str | None, alpha: float) -> dict:
    """``{prefix}_te_m``, ``{prefix}_p``, ``{prefix}_reject`` and ``{prefix}`` (details)."""
    if ll is None:
        return {
            f"{prefix}_te_m": None,
            f"{prefix}_p": None,
            f"{prefix}_reject": None,
            prefix: None,
            f"{prefix}_error": error,
        }
    stats = te_statistics(ll)
    return {
        f"{prefix}_te_m": stats["te_m"],
        f"{prefix}_p": stats["p_value"],
        f"{prefix}_reject": stats["p_value"] <= alpha + 1e-12,
        prefix: stats,
        f"{prefix}_error": None,
    }


def series_texts(
    series: Series, grid: GridSpec, entry: dict[str, Any]
) -> tuple[list[str], list[list[tuple[int, int]]], Any, dict[str, Any]]:
    """The texts TE_M scores for one planned series, with the grid's settings
    (:func:`ladder.granger.model_side.te_texts`): what the probe and the speed benchmark
    both score."""
    return te_texts(
        series,
        grid.surrogates,
        grid.surrogate_kind,
        entry["seed"],
        digits=grid.digits,
        order=grid.order,
        burn_in=grid.burn_in,
    )


def _model_fields(
    scorer: Scorer, oracle: Scorer, series: Series, grid: GridSpec, entry: dict[str, Any]
) -> dict[str, Any]:
    """TE_M of the model and of the stand-in on the same texts (same surrogates); a
    ValueError is recorded, never raised."""
    try:
        texts, spans, scale, info = series_texts(series, grid, entry)
    except ValueError as exc:
        error = str(exc).splitlines()[0]
        out = _te_fields("model", None, error, grid.series_alpha)
        out.update(_te_fields("oracle", None, error, grid.series_alpha))
        return {"te_m": None, "model_p": None, "model_reject": None, **out}
    n_steps = len(spans[0])
    out: dict[str, Any] = {}
    for prefix, sc in (("model", scorer), ("oracle", oracle)):
        try:
            out.update(
                _te_fields(prefix, score_texts(sc, texts, spans, n_steps), None, grid.series_alpha)
            )
            out[prefix].update(n_steps=n_steps, scale=scale.to_dict(), surrogates=info)
        except ValueError as exc:
            out.update(_te_fields(prefix, None, str(exc).splitlines()[0], grid.series_alpha))
    out["te_m"] = out.pop("model_te_m")
    return out


def _verbal_answers(
    backend: Backend, series: Series, grid: GridSpec
) -> tuple[dict[str, float | None], str | None]:
    """Ask both questions (:data:`VERBAL_QUESTIONS`) in one call (they share the series'
    text, so the model reads it once); ``({"p_yes_predict", "p_yes_cause"}, error)``."""
    empty: dict[str, float | None] = {"p_yes_predict": None, "p_yes_cause": None}
    try:
        ser = serialize(series.x, series.y, digits=grid.digits, order=grid.order)  # type: ignore[arg-type]
        prompts = [verbal_prompt(ser, q) for q in VERBAL_QUESTIONS]
        answers = backend.verbal(prompts)
    except ValueError as exc:
        return empty, str(exc).splitlines()[0]
    if not answers:
        return empty, None
    return {"p_yes_predict": answers[0], "p_yes_cause": answers[1]}, None


# --------------------------------------------------------------------------- run files

HEADER_FILE = "granger.json"
LOG_FILE = "series.jsonl"


def read_records(path: str | Path, repair: bool = False) -> list[dict[str, Any]]:
    """Records of ``series.jsonl``; a torn last line is dropped (and cut if ``repair``),
    repeated ids are dropped with a warning.

    A corrupt line anywhere else raises :class:`GrangerRunError`.
    """
    return read_log(path, GrangerRunError, repair)


def open_run(out_dir: str | Path, resume: bool = False) -> RunDir:
    """Create (or, with ``resume``, reopen) and lock the run directory ``out_dir``.

    Nothing is loaded: call it before loading a model, so a bad ``--out`` or ``--resume``
    is refused at once. Use the result as a context manager and pass it to :func:`run_in`.
    """
    if resume:
        return RunDir.resume(
            out_dir,
            HEADER_FILE,
            LOG_FILE,
            option="--resume --out",
            error=GrangerRunError,
            allow_nan=False,
        )
    out = Path(out_dir)
    # a `ladder run` directory without Granger probes yet takes them beside its results, so
    # its report gets a Granger section
    host = (out / "results.json").is_file() and not (out / HEADER_FILE).exists()
    return RunDir.create(
        out,
        HEADER_FILE,
        LOG_FILE,
        option="--out",
        error=GrangerRunError,
        allow_nan=False,
        host=host,
    )


def _settings(grid: GridSpec) -> dict[str, Any]:
    return {
        "alpha": grid.alpha,
        "surrogates": grid.surrogates,
        "surrogate_kind": grid.surrogate_kind,
        "digits": grid.digits,
        "order": grid.order,
        "burn_in": grid.burn_in,
        "verbal": grid.verbal,
        "verbal_per_cell": grid.verbal_per_cell,
        "header": "",
        "unit_root": grid.unit_root,
        "series_alpha": grid.series_alpha,
        "granger_version": GRANGER_VERSION,
    }


def check_resume(
    previous: dict[str, Any], grid: GridSpec, where: Path, fingerprint: str | None = None
) -> None:
    """Refuse to resume the run recorded in ``previous`` with another grid, other settings
    or (when ``fingerprint`` is given) another model."""
    model = previous.get("model") or {}
    if fingerprint is not None and model.get("fingerprint") != fingerprint:
        raise GrangerRunError(
            f"{where}: the run was made with model {model.get('name')!r}; resume it with that model"
        )
    old_grid = dict(previous.get("grid") or {})
    new_grid = json_safe(grid.to_dict())
    for key in ("source", "sha256", "description"):
        old_grid.pop(key, None)
        new_grid.pop(key, None)
    if old_grid != new_grid:
        raise GrangerRunError(
            f"{where}: the grid differs from the run's grid "
            f"{(previous.get('grid') or {}).get('name')!r}; resume with the same grid"
        )
    if previous.get("settings") != _settings(grid):
        raise GrangerRunError(
            f"{where}: settings differ from the run's ({previous.get('settings')}); "
            "resume with the same options"
        )


def resume_limit(previous: dict[str, Any], limit: int | None, where: Path) -> int | None:
    """The resumed run's limit: the recorded one; an explicit different one is refused."""
    return keep_recorded("--limit", previous.get("limit"), limit, where, GrangerRunError)


def _check_limit(limit: int | None) -> None:
    if limit is not None and (isinstance(limit, bool) or int(limit) != limit or limit < 1):
        raise GrangerRunError(f"limit must be a positive integer, got {limit!r}")


def run_granger(
    backend: Backend,
    grid: GridSpec,
    out_dir: str | Path,
    *,
    resume: bool = False,
    limit: int | None = None,
    progress: bool = True,
    command: str | None = None,
) -> dict[str, Any]:
    """Probe every series of ``grid`` (the first ``limit``) and write the run files.

    Returns the content of ``granger.json``. Raises :class:`GrangerRunError` when
    ``out_dir`` already holds a run and ``resume`` is false, when there is nothing to
    resume, when another process holds the run, or when the model, grid, settings or
    limit differ from the run being resumed (a resumed run keeps its recorded limit).
    """
    _check_limit(limit)
    with open_run(out_dir, resume) as rd:
        return run_in(rd, backend, grid, limit=limit, progress=progress, command=command)


def _header(backend: Backend, grid: GridSpec, limit: int | None) -> dict[str, Any]:
    """granger.json before the results (lifecycle keys are placeholders RunDir.start fills)."""
    return {
        "granger_version": GRANGER_VERSION,
        "status": None,
        "started": None,
        "finished": None,
        "ladder": None,
        "command": None,
        "model": backend.identity,
        "grid": json_safe(grid.to_dict()),
        "settings": _settings(grid),
        "n_planned": len(grid.plan()),
        "limit": limit,
        "environment": None,
        "timing": None,
        "cells": None,
        "summary": None,
        "record_keys": RECORD_KEYS,
    }


def _planned(grid: GridSpec, limit: int | None) -> list[dict[str, Any]]:
    """The series the run covers: the grid's plan, its first ``limit`` entries if given."""
    return grid.plan()[:limit] if limit is not None else grid.plan()


def _mine(plan: list[dict[str, Any]], done: set[str], group: Group | None) -> list[dict[str, Any]]:
    """What this process probes: the planned series not done yet, or in a group its
    contiguous shard of them (cut from what is left, so the ranks get equal shares).

    Example:
        >>> plan = [{"id": k} for k in "abcde"]
        >>> [e["id"] for e in _mine(plan, {"a"}, Group(1, 2, 1))]
        ['d', 'e']
    """
    todo = [e for e in plan if e["id"] not in done]
    return shard(todo, group.rank, group.world_size) if group is not None else todo


def _probe_all(
    backend: Backend,
    grid: GridSpec,
    todo: list[dict[str, Any]],
    sink: RunDir | LogWriter,
    bar: Any,
) -> None:
    """Probe ``todo`` in order, appending each record to ``sink`` as soon as it is made."""
    for entry in todo:
        sink.append([probe_series(backend, grid, entry)])
        bar.update(1)


def _bar(backend: Backend, total: int, initial: int, show: bool) -> Any:
    return tqdm(
        total=total,
        initial=initial,
        unit="series",
        desc=f"granger {backend.name}",
        disable=not show,
        file=sys.stderr,
        dynamic_ncols=True,
    )


def run_in(
    rd: RunDir,
    backend: Backend,
    grid: GridSpec,
    *,
    limit: int | None = None,
    progress: bool = True,
    command: str | None = None,
    group: Group | None = None,
) -> dict[str, Any]:
    """Run the Granger probes in the open run directory ``rd`` (see :func:`open_run`).

    On resume the run's grid, settings, model and limit are checked first, and the series
    already in ``series.jsonl`` (and in rank logs a killed data-parallel run left) are
    kept. With ``group`` (rank 0 of a data-parallel run) this process probes its shard, the
    other ranks theirs (:func:`follow`), and the records are merged in the grid's order at
    the end. Returns the final ``granger.json``.
    """
    _check_limit(limit)
    if rd.previous is not None:
        check_resume(rd.previous, grid, rd.path, fingerprint=backend.fingerprint)
        limit = resume_limit(rd.previous, limit, rd.path)
    plan = _planned(grid, limit)
    world = {"world_size": group.world_size} if group is not None else None
    rd.start(_header(backend, grid, limit), command=command, extra_environment=world)
    order = [e["id"] for e in grid.plan()]
    done, sink = main_plan(rd, order, group, grid=json_safe(grid.to_dict()), limit=limit)
    todo = _mine(plan, done, group)
    # One process: the whole run's bar; rank 0 of a group: its own shard's.
    total = len(todo) if group is not None else len(plan)
    try:
        with closing(_bar(backend, total, total - len(todo), progress)) as bar:
            _probe_all(backend, grid, todo, sink, bar)
    finally:
        if sink is not rd:
            sink.close()  # type: ignore[union-attr]
    if group is not None:
        group.barrier()  # every rank's records are on disk
    return _finish(rd, grid, plan, done)


def follow(backend: Backend, group: Group) -> int:
    """A rank other than 0 of a data-parallel run: take rank 0's plan (grid, limit, series
    done), probe this rank's shard into its rank log, wait for the others. Returns how many
    series it probed.

    Raises :class:`~ladder.harness.distributed.DistributedError` when rank 0 stopped before
    sharing a plan (its reason is in the message).
    """
    plan, sink = follower_plan(group)
    grid = recorded_grid(plan["grid"], "rank 0's plan")
    todo = _mine(_planned(grid, plan["limit"]), plan["done"], group)
    try:
        with closing(_bar(backend, len(todo), 0, False)) as bar:
            _probe_all(backend, grid, todo, sink, bar)
    finally:
        sink.close()
    group.barrier()
    return len(todo)


def _finish(
    rd: RunDir, grid: GridSpec, plan: list[dict[str, Any]], done: set[str]
) -> dict[str, Any]:
    """Fold any rank logs into ``series.jsonl`` (grid order), compare and summarize every
    record; write the final granger.json. This session's timing counts every record not
    in ``done`` (whichever rank made it)."""
    rd.sync()
    order = [e["id"] for e in grid.plan()]
    wanted = set(order)
    records = consolidate(rd.log_path, order, rd.replace_log, rd.error)
    ordered = [r for r in records if r["id"] in wanted]
    planned = {e["id"] for e in plan}
    session = [r for r in ordered if r["id"] not in done]
    total_seconds = sum(r.get("seconds") or 0.0 for r in ordered)
    total_tokens = sum(r.get("tokens") or 0 for r in ordered)
    updates = {
        "n_done": len(ordered),
        "n_in_limit": sum(1 for r in ordered if r["id"] in planned),
        "timing": {
            "series_seconds": total_seconds,
            "tokens": total_tokens,
            "tokens_per_second": total_tokens / total_seconds if total_seconds > 0 else None,
            "this_session_seconds": sum(r.get("seconds") or 0.0 for r in session),
            "this_session_tokens": sum(r.get("tokens") or 0 for r in session),
        },
        "cells": compare_cells(ordered),
        "summary": summarize_records(ordered),
    }
    return rd.finish(json_safe(updates), complete=len(ordered) == len(grid.plan()))
