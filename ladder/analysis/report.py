"""``ladder report``: a markdown report (with PNG figures) of one run, from its files only.

The report reads ``items.jsonl``, ``samples.jsonl`` and ``results.json`` of a run directory
(never a model) and writes ``report.md`` with figures beside it:

* **headline** — accuracy per rung with Wilson 95% intervals, and the change from rung 1 to
  2 and from 2 to 3 with an unpaired two-proportion z-test (rungs hold different items);
* **baselines and the ladder gap** — the model against ``random``, ``always-yes``, the
  association-only oracle and the truth oracle on the *same items* (sibling runs with the
  same item-file hash, runs given with ``--baselines``, or computed in-process from the
  run's items), and where the model falls inside the gap between the two oracles;
* **where it breaks** — query type × graph family, graph size, verbalization, evidence mode,
  calibration and answer bias;
* **Granger** — when a ``granger.json`` is present (keys in :data:`GRANGER_KEYS`);
* **reproducibility** — model identity, versions, seeds, hashes, command, environment.

Every number in the text is computed here from the run's files.
"""

from __future__ import annotations

import json
import math
import shlex
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ladder.core import stats
from ladder.core.errors import ReportError
from ladder.harness.metrics import SLICE_FIELDS, reliability_bins, summarize

__all__ = [
    "BASELINE_NAMES",
    "GRANGER_KEYS",
    "BaselineSet",
    "Report",
    "ReportError",
    "Run",
    "baselines_for",
    "build_report",
    "compute_baseline_samples",
    "find_baseline_runs",
    "granger_section",
    "load_run",
    "markdown_table",
    "write_report",
]

#: The baselines every report compares against, in table order.
BASELINE_NAMES = ("random", "always-yes", "association-oracle", "truth-oracle")
ASSOC, TRUTH = "association-oracle", "truth-oracle"
RUN_FILES = ("items.jsonl", "samples.jsonl", "results.json")
#: Slices with fewer items are left out of "weakest / strongest" and size-trend sentences.
MIN_SLICE = 5


# -- formatting -------------------------------------------------------------------------------


def _num(x: float | None, nd: int = 3) -> str:
    """A number for text and tables; ``n/a`` for None or NaN."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.{nd}f}"


def _signed(x: float | None, nd: int = 3) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:+.{nd}f}"


def _ci(low: float, high: float) -> str:
    return f"[{_num(low)}, {_num(high)}]"


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], align: str | None = None
) -> list[str]:
    """A GitHub markdown table; ``align`` is one letter per column (``l``, ``r``, ``c``)."""
    align = align or "l" * len(headers)
    marks = {"l": ":--", "r": "--:", "c": ":-:"}
    lines = [
        "| " + " | ".join(_cell(h) for h in headers) + " |",
        "|" + "|".join(marks[a] for a in align) + "|",
    ]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


def _sort_key(value: str) -> tuple[int, float, str]:
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


# -- loading a run ----------------------------------------------------------------------------


@dataclass
class Run:
    """What a run directory holds; ``warnings`` say what is missing or partial."""

    path: Path
    results: dict[str, Any] | None
    items: list[dict[str, Any]] | None
    samples: list[dict[str, Any]]
    items_sha256: str | None
    warnings: list[str] = field(default_factory=list)

    @property
    def model(self) -> dict[str, Any]:
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
        return self.model.get("kind") == "baseline" and self.name in BASELINE_NAMES

    @property
    def status(self) -> str:
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

    def correct_by_id(self) -> dict[str, bool]:
        return {s["id"]: bool(s["correct"]) for s in self.samples}


def _read_results(path: Path, warnings_: list[str]) -> dict[str, Any] | None:
    file = path / "results.json"
    if not file.exists():
        warnings_.append(
            "no results.json: model identity, provenance and status are unknown; "
            "the numbers come from samples.jsonl"
        )
        return None
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        warnings_.append(
            f"results.json is unreadable ({exc}); model identity and provenance are unknown"
        )
        return None
    if not isinstance(data, dict):
        warnings_.append("results.json is not a JSON object; ignored")
        return None
    from ladder.harness.results_schema import validate_results

    problems = validate_results(data)
    if problems:
        warnings_.append("results.json does not match the schema: " + "; ".join(problems))
    return data


def _read_run_items(path: Path, warnings_: list[str]) -> list[dict[str, Any]] | None:
    from ladder.generation.items import ItemFileError, read_items

    file = path / "items.jsonl"
    if not file.exists():
        warnings_.append(
            "no items.jsonl: baselines can only come from other runs of the same items"
        )
        return None
    try:
        return read_items(file)
    except ItemFileError as exc:
        warnings_.append(f"items.jsonl cannot be used ({str(exc).splitlines()[0]})")
        return None


def load_run(path: str | Path, require_samples: bool = True) -> Run:
    """Read a run directory, tolerating missing or partial files (see ``Run.warnings``).

    Raises :class:`ReportError` when the directory does not exist, holds none of the run
    files, or (with ``require_samples``) holds no scored sample.
    """
    from ladder.core.io import file_sha256
    from ladder.harness.runner import read_samples

    path = Path(path)
    if not path.is_dir():
        raise ReportError(f"{path}: no such run directory")
    present = [f for f in RUN_FILES if (path / f).exists()]
    if not present:
        raise ReportError(
            f"{path}: not a run directory (none of {', '.join(RUN_FILES)} is "
            "there); nothing to report"
        )
    warnings_: list[str] = []
    results = _read_results(path, warnings_)
    items = _read_run_items(path, warnings_)
    try:
        samples = read_samples(path / "samples.jsonl")
    except ValueError as exc:
        raise ReportError(str(exc).splitlines()[0]) from None
    if not samples and require_samples:
        what = "missing" if not (path / "samples.jsonl").exists() else "empty"
        have = f"; items.jsonl holds {len(items)} items" if items else ""
        raise ReportError(
            f"{path}: no scored samples (samples.jsonl is {what}{have}); nothing to report yet"
        )
    by_id = {i["id"]: i for i in items} if items else {}
    for n, s in enumerate(samples, 1):
        missing = [k for k in ("id", "prediction", "answer") if k not in s]
        if missing:
            raise ReportError(f"{path / 'samples.jsonl'}: line {n} lacks {missing}")
        item = by_id.get(s["id"])
        if item is not None:
            for key in SLICE_FIELDS:
                if key not in s and key in item:
                    s[key] = item[key]
            if "query_type" not in s and "query" in item:
                s["query_type"] = item["query"]["type"]
        s["correct"] = s["prediction"] == s["answer"]
    if by_id:
        unknown = sum(1 for s in samples if s["id"] not in by_id)
        if unknown:
            warnings_.append(f"{unknown} samples have ids that are not in items.jsonl")
    sha = ((results or {}).get("items") or {}).get("sha256")
    if (path / "items.jsonl").exists():
        actual = file_sha256(path / "items.jsonl")
        if sha and actual != sha:
            warnings_.append(
                f"items.jsonl has sha256 {actual[:12]} but results.json records "
                f"{sha[:12]}: the items changed after the run"
            )
        sha = sha or actual
    run = Run(path, results, items, samples, sha, warnings_)
    expected = run.n_expected
    if run.status != "complete" or (expected is not None and len(samples) < expected):
        warnings_.append(
            f"run status is '{run.status}': {len(samples)} of "
            f"{expected if expected is not None else '?'} items scored; every "
            "number covers the scored items only"
        )
    return run


# -- baselines ----------------------------------------------------------------------------------


def compute_baseline_samples(name: str, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Score ``items`` with the baseline ``name`` in-process (exact, no model)."""
    from ladder.harness.predictors import BASELINES

    preds = BASELINES[name].predict(items)
    out = []
    for item, pred in zip(items, preds, strict=True):
        sample = {
            "id": item["id"],
            "p_yes": pred.p_yes,
            "prediction": pred.prediction,
            "answer": item["answer"],
            "correct": pred.prediction == item["answer"],
            "query_type": item.get("query_type", item["query"]["type"]),
        }
        for key in SLICE_FIELDS:
            if key in item and key not in sample:
                sample[key] = item[key]
        out.append(sample)
    return out


@dataclass
class BaselineSet:
    """Baseline samples keyed by baseline name then item id, and where each came from."""

    samples: dict[str, dict[str, dict[str, Any]]]
    sources: dict[str, str]
    warnings: list[str] = field(default_factory=list)

    def accuracy(self, name: str, ids: Iterable[str]) -> float | None:
        """Accuracy of baseline ``name`` on ``ids`` (None when absent or not covered)."""
        table = self.samples.get(name)
        ids = list(ids)
        if table is None or not ids or any(i not in table for i in ids):
            return None
        return sum(table[i]["correct"] for i in ids) / len(ids)


def _candidate_dirs(run_dir: Path) -> list[Path]:
    """Run directories near ``run_dir``: ``<root>/<slug>/<stamp>`` and ``<parent>/<stamp>``."""
    found: list[Path] = []
    root = run_dir.parent.parent
    for pattern_root, pattern in ((root, "*/*/results.json"), (run_dir.parent, "*/results.json")):
        try:
            found += [p.parent for p in sorted(pattern_root.glob(pattern))]
        except OSError:
            continue
    return found


def _expand_dirs(dirs: Iterable[str | Path]) -> list[Path]:
    """Each of ``dirs`` is a run directory or a folder holding runs (any depth ≤ 2)."""
    out: list[Path] = []
    for d in dirs:
        d = Path(d)
        if not d.is_dir():
            raise ReportError(f"--baselines {d}: no such directory")
        if (d / "results.json").exists() or (d / "samples.jsonl").exists():
            out.append(d)
        else:
            out += [p.parent for p in sorted(d.glob("*/results.json"))]
            out += [p.parent for p in sorted(d.glob("*/*/results.json"))]
    return out


def find_baseline_runs(
    run: Run, extra: Sequence[str | Path] = (), skipped: list[str] | None = None
) -> dict[str, list[Run]]:
    """Baseline runs on the same items (equal ``items.sha256``): given dirs, then siblings.

    Returns ``{baseline name: [runs, newest first]}``; runs with another hash are skipped
    (those among ``extra`` are named in ``skipped``).
    """
    out: dict[str, list[Run]] = {}
    seen: set[Path] = {run.path.resolve()}
    given = _expand_dirs(extra)
    for d in [*given, *_candidate_dirs(run.path)]:
        key = d.resolve()
        if key in seen:
            continue
        seen.add(key)
        try:
            data = json.loads((d / "results.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        model = data.get("model") or {}
        if model.get("kind") != "baseline" or model.get("name") not in BASELINE_NAMES:
            continue
        sha = (data.get("items") or {}).get("sha256")
        if sha != run.items_sha256 or not run.items_sha256:
            if skipped is not None and d in given:
                skipped.append(
                    f"--baselines {d} ignored: its items (sha256 {str(sha)[:12]}) "
                    f"are not this run's ({str(run.items_sha256)[:12]})"
                )
            continue
        try:
            other = load_run(d)
        except ReportError:
            continue
        out.setdefault(other.name, []).append(other)
    for runs in out.values():
        runs.sort(key=lambda r: str((r.results or {}).get("started", "")), reverse=True)
    return out


def baselines_for(run: Run, extra: Sequence[str | Path] = ()) -> BaselineSet:
    """The four baselines on the run's scored items: from runs when they cover every scored
    item, otherwise computed in-process from the run's ``items.jsonl``."""
    ids = [s["id"] for s in run.samples]
    notes: list[str] = []
    found = find_baseline_runs(run, extra, notes)
    samples: dict[str, dict[str, dict[str, Any]]] = {}
    sources: dict[str, str] = {}
    for name in BASELINE_NAMES:
        for other in found.get(name, []):
            table = {s["id"]: s for s in other.samples}
            if all(i in table for i in ids):
                samples[name], sources[name] = table, f"run `{other.path}`"
                break
        if name in samples:
            continue
        if run.items is not None:
            try:
                computed = compute_baseline_samples(name, run.items)
            except (ValueError, KeyError) as exc:
                notes.append(f"baseline {name} could not be computed ({exc})")
                continue
            samples[name] = {s["id"]: s for s in computed}
            sources[name] = "computed in-process from this run's items.jsonl"
        else:
            notes.append(
                f"baseline {name}: no run on the same items and no items.jsonl to compute it from"
            )
    return BaselineSet(samples, sources, notes)


# -- grouping helpers -------------------------------------------------------------------------


def _groups(samples: Sequence[Mapping[str, Any]], key: str) -> dict[str, list[Mapping[str, Any]]]:
    out: dict[str, list[Mapping[str, Any]]] = {}
    for s in samples:
        if key in s and s[key] is not None:
            out.setdefault(str(s[key]), []).append(s)
    return dict(sorted(out.items(), key=lambda kv: _sort_key(kv[0])))


def _ids(samples: Iterable[Mapping[str, Any]]) -> list[str]:
    return [s["id"] for s in samples]


# -- the report -----------------------------------------------------------------------------------


@dataclass
class Report:
    """A built report: its markdown, figure files, warnings and the numbers it quotes."""

    markdown: str
    figures: list[Path]
    warnings: list[str]
    data: dict[str, Any]
    path: Path | None = None


@dataclass
class _Ctx:
    run: Run
    base: BaselineSet
    out: Path
    figures_on: bool
    figures: list[Path] = field(default_factory=list)
    figure_notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def figure(self, name: str, draw: Callable[[Path], Path], alt: str) -> list[str]:
        """Draw a figure beside the report; markdown lines embedding it (or nothing)."""
        if not self.figures_on:
            return []
        from ladder.analysis.plots import PlotBackendError

        path = self.out.parent / f"{self.out.stem}-{name}.png"
        try:
            draw(path)
        except PlotBackendError as exc:
            self.figures_on = False
            self.figure_notes.append(f"figures were not drawn: {exc}")
            return []
        except OSError as exc:
            raise ReportError(f"{path}: cannot write the figure ({exc.strerror or exc})") from None
        self.figures.append(path)
        return ["", f"![{alt}]({path.name})", ""]


def _rung_rows(samples: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r: summarize(g) for r, g in _groups(samples, "rung").items()}


def _headline(ctx: _Ctx) -> list[str]:
    samples = ctx.run.samples
    overall = summarize(samples)
    rungs = _rung_rows(samples)
    ctx.data["overall"] = overall
    ctx.data["rungs"] = rungs
    lines = [
        "## Headline",
        "",
        f"Overall accuracy **{_num(overall['accuracy'])}** "
        f"{_ci(overall['ci_low'], overall['ci_high'])} on {overall['n']} items "
        f"({overall['correct']} correct; 95% Wilson interval).",
        "",
    ]
    lines += markdown_table(
        ["rung", "items", "correct", "accuracy", "95% CI (Wilson)"],
        [
            [r, m["n"], m["correct"], _num(m["accuracy"]), _ci(m["ci_low"], m["ci_high"])]
            for r, m in rungs.items()
        ],
        "rrrrl",
    )
    lines.append("")
    drops: dict[str, dict[str, Any]] = {}
    rows, sentences = [], []
    for lo, hi in (("1", "2"), ("2", "3")):
        if lo not in rungs or hi not in rungs:
            missing = [r for r in (lo, hi) if r not in rungs]
            sentences.append(
                f"Rung {lo} → {hi}: no comparison (rung {', '.join(missing)} has no scored items)."
            )
            continue
        a, b = rungs[lo], rungs[hi]
        test = stats.two_proportion_test(a["correct"], a["n"], b["correct"], b["n"])
        change = b["accuracy"] - a["accuracy"]
        drops[f"{lo}->{hi}"] = {
            "from": a["accuracy"],
            "to": b["accuracy"],
            "change": change,
            "z": test.statistic,
            "p_value": test.p_value,
        }
        verdict = "significant" if test.significant else "not significant"
        rows.append(
            [
                f"rung {lo} → {hi}",
                _num(a["accuracy"]),
                _num(b["accuracy"]),
                _signed(change),
                f"{test.statistic:.2f}",
                stats.p_cell(test.p_value),
                verdict,
            ]
        )
        direction = "drops" if change < 0 else "rises" if change > 0 else "stays"
        sentences.append(
            f"From rung {lo} to rung {hi} accuracy {direction} by {_num(abs(change))} "
            f"({_num(a['accuracy'])} → {_num(b['accuracy'])}); {test.name}, because the rungs "
            f"hold different items: z = {test.statistic:.2f}, {stats.format_p(test.p_value)} — "
            f"{verdict} at {stats.ALPHA}."
        )
    ctx.data["drops"] = drops
    if rows:
        lines += markdown_table(
            ["step", "from", "to", "change", "z", "p", f"at {stats.ALPHA}"], rows, "lrrrrrl"
        )
        lines.append("")
    lines += [" ".join(sentences)]
    shown = {
        n: [ctx.base.accuracy(n, _ids(_groups(samples, "rung")[r])) for r in rungs]
        for n in (ASSOC, TRUTH, "random")
        if n in ctx.base.samples
    }
    shown = {n: [math.nan if v is None else v for v in vals] for n, vals in shown.items()}
    if rungs:
        from ladder.analysis import plots

        lines += ctx.figure(
            "rungs",
            lambda p: plots.rung_accuracy(
                p,
                list(rungs),
                [m["accuracy"] for m in rungs.values()],
                [m["ci_low"] for m in rungs.values()],
                [m["ci_high"] for m in rungs.values()],
                shown,
                f"{ctx.run.name}: accuracy per rung (95% Wilson CI)",
            ),
            "accuracy per rung with baselines",
        )
    return lines


def _position_words(pos: float) -> str:
    if pos < 0:
        return "below the association oracle (a perfect rung-1 reasoner does better)"
    if pos >= 1:
        return "at or beyond the truth oracle"
    return f"past the association oracle, closing {pos:.0%} of the gap"


def _baselines(ctx: _Ctx) -> list[str]:
    samples = ctx.run.samples
    base = ctx.base
    lines = ["## Against the baselines (same items)", ""]
    if base.sources:
        by_source: dict[str, list[str]] = {}
        for name, source in base.sources.items():
            by_source.setdefault(source, []).append(name)
        lines.append(
            "Baselines: "
            + "; ".join(f"{', '.join(names)} — {source}" for source, names in by_source.items())
            + "."
        )
    for note in base.warnings:
        lines += ["", f"> **Note:** {note}"]
    if ASSOC not in base.samples or TRUTH not in base.samples:
        lines += [
            "",
            "Without both the association oracle and the truth oracle the ladder gap "
            "cannot be computed.",
        ]
    if not base.samples:
        return [*lines, "", "No baseline is available, so the ladder gap cannot be computed."]
    names = [n for n in BASELINE_NAMES if n in base.samples]
    groups = {**_groups(samples, "rung"), "all": list(samples)}
    rows, gaps, sentences = [], {}, []
    for rung, group in groups.items():
        ids = _ids(group)
        model_acc = summarize(group)["accuracy"]
        accs = {n: base.accuracy(n, ids) for n in names}
        a, t = accs.get(ASSOC), accs.get(TRUTH)
        gap = None if a is None or t is None else t - a
        pos = None if gap is None else stats.gap_position(model_acc, a, t)
        gaps[rung] = {
            "model": model_acc,
            "association": a,
            "truth": t,
            "gap": gap,
            "position": pos,
            **{n: accs[n] for n in names},
        }
        if gap is None:
            pos_text = "n/a"
        elif pos is None:
            pos_text = "gap ~0"
        else:
            pos_text = _num(pos, 2)
        rows.append(
            [
                rung,
                len(group),
                _num(model_acc),
                *[_num(accs[n]) for n in names],
                _num(gap),
                pos_text,
            ]
        )
        if rung == "all" or gap is None:
            continue
        if pos is None:
            sentences.append(
                f"Rung {rung}: the ladder gap is ~0 (truth oracle {_num(t)} − association "
                f"oracle {_num(a)} = {_num(gap)} < {stats.MIN_GAP}): association alone answers "
                "these items, so this rung cannot tell causal from associational reasoning."
            )
        else:
            sentences.append(
                f"Rung {rung}: the ladder gap is {_num(gap)} (truth oracle {_num(t)} − "
                f"association oracle {_num(a)}); the model ({_num(model_acc)}) sits at "
                f"{_num(pos, 2)} of it — {_position_words(pos)}."
            )
    ctx.data["gap"] = gaps
    headers = ["rung", "items", "model", *names, "ladder gap", "model's position in gap"]
    lines += ["", *markdown_table(headers, rows, "rrr" + "r" * len(names) + "rr")]
    lines += [
        "",
        "*Ladder gap* = truth-oracle accuracy − association-oracle accuracy; "
        "*position* = (model − association) / (truth − association): 0 is a perfect "
        "rung-1 reasoner, 1 is the truth, negative is below the association oracle "
        f"(not defined when the gap is under {stats.MIN_GAP}).",
        "",
    ]
    lines += [f"- {s}" for s in sentences]
    lines += _gap_items(ctx)
    return lines


def _gap_items(ctx: _Ctx) -> list[str]:
    """Model accuracy where the association answer is wrong vs where it is right."""
    table = ctx.base.samples.get(ASSOC)
    if table is None:
        return []
    wrong = [s for s in ctx.run.samples if s["id"] in table and not table[s["id"]]["correct"]]
    right = [s for s in ctx.run.samples if s["id"] in table and table[s["id"]]["correct"]]
    if not wrong:
        return [
            "",
            "The association oracle answers every scored item correctly: no item here "
            "separates causal from associational reasoning.",
        ]
    w, r = summarize(wrong), summarize(right)
    ctx.data["gap_items"] = {"wrong": w, "right": r}
    text = (
        f"On the {w['n']} items where the association answer is wrong, the model is right "
        f"on {w['correct']} ({_num(w['accuracy'])} {_ci(w['ci_low'], w['ci_high'])}); "
        f"on the {r['n']} where it is right, the model scores {_num(r['accuracy'])}. "
        "A purely associational reasoner would score 0 and 1 there."
    )
    if r["n"]:
        test = stats.two_proportion_test(w["correct"], w["n"], r["correct"], r["n"])
        ctx.data["gap_items"]["p_value"] = test.p_value
        if test.significant and w["accuracy"] < r["accuracy"]:
            verdict = (
                "significant: the model fails where association misleads, the "
                "signature of associational reasoning"
            )
        elif test.significant:
            verdict = "significant: the model does better where association misleads"
        else:
            verdict = "not significant: no sign that the model's errors follow association"
        text += (
            f" Difference: {test.name}, z = {test.statistic:.2f}, "
            f"{stats.format_p(test.p_value)} — {verdict}."
        )
    return ["", text]


def _slice_table(ctx: _Ctx, key: str, title: str) -> tuple[list[str], dict[str, dict[str, Any]]]:
    groups = _groups(ctx.run.samples, key)
    summaries = {v: summarize(g) for v, g in groups.items()}
    has_assoc = ASSOC in ctx.base.samples
    rows = []
    for value, m in summaries.items():
        row = [value, m["n"], _num(m["accuracy"]), _ci(m["ci_low"], m["ci_high"])]
        if has_assoc:
            row.append(_num(ctx.base.accuracy(ASSOC, _ids(groups[value]))))
        rows.append(row)
    headers = [title, "items", "accuracy", "95% CI"] + (["association oracle"] if has_assoc else [])
    return markdown_table(headers, rows, "lrrl" + ("r" if has_assoc else "")), summaries


def _extremes(summaries: Mapping[str, Mapping[str, Any]], what: str, min_n: int = MIN_SLICE) -> str:
    """The weakest and strongest slice (of at least ``min_n`` items) and an unpaired test."""
    big = {k: v for k, v in summaries.items() if v["n"] >= min_n}
    if len(big) < 2:
        return ""
    lo = min(big, key=lambda k: (big[k]["accuracy"], k))
    hi = max(big, key=lambda k: (big[k]["accuracy"], k))
    a, b = big[lo], big[hi]
    if a["accuracy"] == b["accuracy"]:
        return (
            f"Every {what} with at least {min_n} items scores {_num(a['accuracy'])}: no difference."
        )
    test = stats.two_proportion_test(a["correct"], a["n"], b["correct"], b["n"])
    return (
        f"Weakest {what}: **{lo}** ({_num(a['accuracy'])}, n = {a['n']}); strongest: "
        f"**{hi}** ({_num(b['accuracy'])}, n = {b['n']}), among slices with at least "
        f"{min_n} items; {test.name}: {stats.format_p(test.p_value)} "
        f"({'significant' if test.significant else 'not significant'})."
    )


def _query_family(ctx: _Ctx) -> list[str]:
    from ladder.analysis import plots

    samples = ctx.run.samples
    lines = ["### By query type and graph family", ""]
    qtypes = _groups(samples, "query_type")
    families = list(_groups(samples, "graph_family"))
    if not qtypes or not families:
        return [*lines, "The samples carry no query type or graph family."]
    rung_of = {q: str(g[0].get("rung", "?")) for q, g in qtypes.items()}
    order = sorted(qtypes, key=lambda q: (_sort_key(rung_of[q]), q))
    values, counts, rows = [], [], []
    for q in order:
        by_family = _groups(qtypes[q], "graph_family")
        vrow, crow, cells = [], [], []
        for f in families:
            g = by_family.get(f, [])
            acc = summarize(g)["accuracy"] if g else math.nan
            vrow.append(acc)
            crow.append(len(g))
            cells.append(f"{_num(acc, 2)} ({len(g)})" if g else "—")
        values.append(vrow)
        counts.append(crow)
        rows.append([f"{q} (rung {rung_of[q]})", *cells])
    ctx.data["query_family"] = {
        "rows": order,
        "cols": families,
        "accuracy": values,
        "counts": counts,
    }
    lines += ctx.figure(
        "query-family",
        lambda p: plots.heatmap(
            p,
            [f"{q} (r{rung_of[q]})" for q in order],
            families,
            values,
            counts,
            f"{ctx.run.name}: accuracy by query type × graph family",
            "graph family",
            "query type",
        ),
        "accuracy by query type and graph family",
    )
    lines += ["Cells: accuracy (items).", ""]
    lines += markdown_table(["query type", *families], rows, "l" + "r" * len(families))
    table, summaries = _slice_table(ctx, "query_type", "query type")
    ctx.data["query_type"] = summaries
    lines += ["", *table, "", _extremes(summaries, "query type")]
    table, summaries = _slice_table(ctx, "graph_family", "graph family")
    ctx.data["graph_family"] = summaries
    lines += ["", *table, "", _extremes(summaries, "graph family")]
    return lines


def _nodes(ctx: _Ctx) -> list[str]:
    from ladder.analysis import plots

    lines = ["### By graph size", ""]
    groups = _groups(ctx.run.samples, "n_nodes")
    if not groups:
        return [*lines, "The samples carry no node count."]
    table, summaries = _slice_table(ctx, "n_nodes", "nodes")
    ctx.data["n_nodes"] = summaries
    keys = list(summaries)
    numeric = all(_sort_key(k)[0] == 0 for k in keys)
    if numeric and len(keys) >= 2:
        xs = [float(k) for k in keys]
        base = {
            n: [ctx.base.accuracy(n, _ids(groups[k])) for k in keys]
            for n in (ASSOC, TRUTH)
            if n in ctx.base.samples
        }
        base = {n: [math.nan if v is None else v for v in vals] for n, vals in base.items()}
        lines += ctx.figure(
            "nodes",
            lambda p: plots.accuracy_curve(
                p,
                xs,
                [summaries[k]["accuracy"] for k in keys],
                [summaries[k]["ci_low"] for k in keys],
                [summaries[k]["ci_high"] for k in keys],
                base,
                f"{ctx.run.name}: accuracy by number of nodes",
                "nodes in the graph",
            ),
            "accuracy by number of nodes",
        )
    lines += table
    sized = [k for k in keys if summaries[k]["n"] >= MIN_SLICE]
    if len(sized) >= 2:
        first, last = sized[0], sized[-1]
        a, b = summaries[first], summaries[last]
        test = stats.two_proportion_test(a["correct"], a["n"], b["correct"], b["n"])
        ctx.data["n_nodes_test"] = {"from": first, "to": last, "p_value": test.p_value}
        lines += [
            "",
            f"From {first} to {last} nodes (the extreme sizes with at least "
            f"{MIN_SLICE} items) accuracy goes from "
            f"{_num(a['accuracy'])} (n = {a['n']}) to {_num(b['accuracy'])} "
            f"(n = {b['n']}); {test.name}: {stats.format_p(test.p_value)} "
            f"({'significant' if test.significant else 'not significant'}).",
        ]
    return lines


def _verbalization(ctx: _Ctx) -> list[str]:
    lines = ["### By verbalization", ""]
    table, summaries = _slice_table(ctx, "verbalization", "verbalization")
    if not summaries:
        return [*lines, "The samples carry no verbalization."]
    ctx.data["verbalization"] = summaries
    lines += table
    cs, acs = summaries.get("commonsense"), summaries.get("anticommonsense")
    others = "; ".join(
        f"{k} {_num(v['accuracy'])}"
        for k, v in summaries.items()
        if k not in ("commonsense", "anticommonsense")
    )
    if cs and acs:
        test = stats.two_proportion_test(cs["correct"], cs["n"], acs["correct"], acs["n"])
        diff = cs["accuracy"] - acs["accuracy"]
        ctx.data["world_knowledge"] = {"diff": diff, "p_value": test.p_value}
        if not test.significant:
            verdict = (
                "no significant difference, so no evidence here that world knowledge "
                "helps or misleads"
            )
        elif diff > 0:
            verdict = (
                "world knowledge helps when the story agrees with it and misleads when "
                "it contradicts it"
            )
        else:
            verdict = "the model does better when the story contradicts common sense"
        sentence = (
            f"World knowledge: commonsense {_num(cs['accuracy'])} vs anticommonsense "
            f"{_num(acs['accuracy'])} ({_signed(diff)}; {test.name}, "
            f"{stats.format_p(test.p_value)}): {verdict}"
            + (f" (for reference: {others})." if others else ".")
        )
    else:
        sentence = (
            "World knowledge: this run lacks commonsense or anticommonsense items, so "
            "its effect cannot be measured" + (f" ({others})." if others else ".")
        )
    return [*lines, "", sentence]


def _evidence(ctx: _Ctx) -> list[str]:
    lines = ["### By evidence mode", ""]
    table, summaries = _slice_table(ctx, "evidence", "evidence")
    if not summaries:
        return [*lines, "The samples carry no evidence mode."]
    ctx.data["evidence"] = summaries
    lines += table
    if len(summaries) == 1:
        lines += ["", f"Only one evidence mode ({next(iter(summaries))}) is in this run."]
    else:
        lines += ["", _extremes(summaries, "evidence mode")]
    return lines


def _calibration(ctx: _Ctx) -> list[str]:
    from ladder.analysis import plots

    samples = ctx.run.samples
    overall = summarize(samples)
    scored = [s for s in samples if s.get("p_yes") is not None]
    bins = reliability_bins(
        [float(s["p_yes"]) for s in scored], [int(s["answer"] == "yes") for s in scored]
    )
    lines = [
        "### Calibration and answer bias",
        "",
        f"Brier score {_num(overall['brier'])} (0 is perfect; always answering "
        f"P(yes) = 0.5 gives 0.250); expected calibration error {_num(overall['ece'])} "
        "(10 equal-width confidence bins).",
    ]
    if overall["unreadable"]:
        lines.append(
            f"{overall['unreadable']} answers were unreadable (counted wrong, "
            "left out of Brier and ECE)."
        )
    if bins:
        lines += ctx.figure(
            "reliability",
            lambda p: plots.reliability_diagram(p, bins, f"{ctx.run.name}: reliability"),
            "reliability diagram",
        )
    rows = []
    for rung, group in {**_groups(samples, "rung"), "all": list(samples)}.items():
        m = summarize(group)
        rows.append(
            [
                rung,
                m["n"],
                _num(m["yes_rate"]),
                _num(m["truth_yes_rate"]),
                _signed(m["yes_rate"] - m["truth_yes_rate"]),
                _num(m["brier"]),
                _num(m["ece"]),
            ]
        )
    lines += [
        "",
        *markdown_table(
            ["rung", "items", "yes-rate", "truth yes-rate", "bias", "Brier", "ECE"], rows, "rrrrrrr"
        ),
    ]
    readable = [s for s in samples if s["prediction"] in ("yes", "no")]
    if readable:
        said = [s["prediction"] == "yes" for s in readable]
        true = [s["answer"] == "yes" for s in readable]
        test = stats.mcnemar_test(said, true)
        bias = sum(said) / len(said) - sum(true) / len(true)
        ctx.data["bias"] = {"bias": bias, "p_value": test.p_value, "b": test.b, "c": test.c}
        kind = "yes" if bias > 0 else "no"
        verdict = f"a significant {kind}-bias" if test.significant else "no significant answer bias"
        lines += [
            "",
            f"Answer bias: the model says yes on {_num(sum(said) / len(said))} of "
            f"readable items where {_num(sum(true) / len(true))} are yes "
            f"({_signed(bias)}); {test.name} of the two yes-rates, paired on items "
            f"({test.b} yes-for-no vs {test.c} no-for-yes): "
            f"{stats.format_p(test.p_value)} — {verdict}.",
        ]
    return lines


# -- Granger --------------------------------------------------------------------------------------

#: Where the Granger section looks for its data, in one place. Each role lists candidate keys,
#: first found wins; a dotted key ("summary.fpr.hidden_driver") looks inside nested dicts, and
#: a value that is a dict keyed by direction yields its :data:`GRANGER_DIRECTION` entry.
#: The first candidates are what ``ladder.granger.probe`` writes (granger_version 1).
GRANGER_KEYS: dict[str, tuple[str, ...]] = {
    # granger.json, top level
    "cells": ("cells",),
    "model_name": ("model.name", "model"),
    "status": ("status",),
    "n_done": ("n_done",),
    "n_planned": ("n_planned",),
    "grid_name": ("grid.name",),
    "alpha": ("settings.alpha", "grid.alpha", "alpha"),
    "fpr_hidden": ("summary.fpr.hidden_driver",),  # {"n", "sm", "model", "verbal"}
    # one cell (a dict in the cells list)
    "label": ("label", "cell", "name"),
    "params": (
        "condition",
        "coupling",
        "lag",
        "length",
        "nonlinearity",
        "hidden_driver",
        "feedback",
        "nonstationary",
        "intervened",
        "direction",
    ),
    "truth_rate": ("truth_rate", "rate_truth", "rates.truth"),
    "statsmodels_rate": (
        "sm_reject_rate",
        "statsmodels_rate",
        "rate_statsmodels",
        "rates.statsmodels",
    ),
    "model_rate": ("model_reject_rate", "model_rate", "rate_model", "rates.model"),
    "agree_statsmodels": (
        "agree_model_sm",
        "agreement_model_statsmodels",
        "agreement.model_statsmodels",
    ),
    "agree_truth": ("acc_model_truth", "agreement_model_truth", "agreement.model_truth"),
    # one line of series.jsonl
    "series_truth": ("truth", "true_link", "x_causes_y"),
    "series_coupling": ("coupling", "params.coupling"),
}
#: Cell columns shown, in order, when present (else every scalar key of the cells is shown).
GRANGER_COLUMNS: tuple[str, ...] = (
    "condition",
    "coupling",
    "lag",
    "length",
    "n",
    "truth_rate",
    "sm_reject_rate",
    "model_reject_rate",
    "verbal_yes_rate",
    "agree_model_sm",
    "acc_sm_truth",
    "acc_model_truth",
    "kappa_model_sm",
    "kappa_model_truth",
    "te_ratio_median",
    "auc.auc_sm",
    "auc.auc_te_m",
)
#: ROC scorers over series.jsonl: (name, candidate keys, +1 if larger means "X causes Y" or
#: -1 for a p-value). Series where a scorer's value is missing are left out of its curve.
GRANGER_SCORERS: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("statsmodels (1 − p)", ("sm_p", "statsmodels_p"), -1),
    ("model TE_M", ("te_m", "model_score"), 1),
    ("Gaussian TE", ("te_gauss",), 1),
    ("verbal P(yes)", ("p_yes",), 1),
)
#: When a value is a dict keyed by direction (``{"x->y": ..., "y->x": ...}``), this one is used.
GRANGER_DIRECTION = "x->y"
GRANGER_FILE = "granger.json"
GRANGER_SERIES_FILE = "series.jsonl"


def _dig(d: Any, key: str) -> Any:
    """``d["a"]["b"]`` for ``key = "a.b"`` (None when absent); direction dicts resolved."""
    value = d
    for part in key.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, Mapping) and GRANGER_DIRECTION in value:
        value = value[GRANGER_DIRECTION]
    return value


def _lookup(d: Mapping[str, Any], role: str) -> Any:
    """The first value found for ``role`` (see :data:`GRANGER_KEYS`), or None."""
    for key in GRANGER_KEYS[role]:
        value = _dig(d, key)
        if value is not None:
            return value
    return None


def _flat(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, Mapping):
            out.update(_flat(v, f"{prefix}{k}."))
        elif v is None or isinstance(v, str | int | float | bool):
            out[f"{prefix}{k}"] = v
    return out


def _gfmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return _num(v)
    return str(v)


def _real(v: Any) -> float | None:
    """``v`` as a finite float, else None (bools are not numbers here)."""
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        return None
    return float(v)


def _cell_label(cell: Mapping[str, Any], index: int) -> str:
    label = _lookup(cell, "label")
    if label is not None:
        return str(label)
    parts = [f"{k}={_gfmt(cell[k])}" for k in GRANGER_KEYS["params"] if k in cell]
    return ", ".join(parts) or f"cell {index + 1}"


def _granger_sentence(
    cells: Sequence[Mapping[str, Any]], other: str, agree_role: str, rate_role: str
) -> str:
    """Where the model agrees most and least with ``other`` (agreement, else rates)."""
    labels = [_cell_label(c, i) for i, c in enumerate(cells)]
    pairs = [
        (a, lab)
        for c, lab in zip(cells, labels, strict=True)
        if (a := _real(_lookup(c, agree_role))) is not None
    ]
    if pairs:
        hi = max(pairs, key=lambda p: p[0])
        lo = min(pairs, key=lambda p: p[0])
        if hi[0] == lo[0]:
            return (
                f"The model agrees with {other} equally in all {len(pairs)} cells "
                f"(agreement {_num(hi[0])})."
            )
        return (
            f"The model agrees with {other} most in `{hi[1]}` (agreement {_num(hi[0])}) "
            f"and least in `{lo[1]}` ({_num(lo[0])}), over {len(pairs)} cells."
        )
    diffs = []
    for c, lab in zip(cells, labels, strict=True):
        m, o = _real(_lookup(c, "model_rate")), _real(_lookup(c, rate_role))
        if m is not None and o is not None:
            diffs.append((abs(m - o), lab, m, o))
    if diffs:
        close = min(diffs, key=lambda d: d[0])
        far = max(diffs, key=lambda d: d[0])
        return (
            f"The model's rejection rate is closest to {other}'s in `{close[1]}` "
            f"({_num(close[2])} vs {_num(close[3])}) and farthest in `{far[1]}` "
            f"({_num(far[2])} vs {_num(far[3])}), over {len(diffs)} cells."
        )
    return f"No cell reports the model's agreement with {other} or both rejection rates."


def _hidden_driver_sentence(data: Mapping[str, Any]) -> str | None:
    """Rejection rates under a hidden common driver (no true link), when reported."""
    block = _lookup(data, "fpr_hidden")
    if not isinstance(block, Mapping) or not block.get("n"):
        return None
    sm, model = _real(block.get("sm")), _real(block.get("model"))
    if sm is None and model is None:
        return None
    alpha = _real(_lookup(data, "alpha")) or stats.ALPHA
    return (
        f"Hidden common driver (X does not cause Y): statsmodels reports a link in "
        f"{_num(sm)} of {block['n']} series and the model in {_num(model)}; a test that "
        f"saw only true links would do so in about {_num(alpha, 2)} of them."
    )


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn last line of a running probe
            if isinstance(row, dict):
                rows.append(row)
    return rows


def _series_curves(path: Path) -> dict[str, tuple[Any, Any, float]]:
    """ROC curves per scorer in :data:`GRANGER_SCORERS` (truth label, else coupling ≠ 0)."""
    rows = _read_jsonl(path)
    labels = []
    for r in rows:
        truth = _lookup(r, "series_truth")
        if truth is None:
            coupling = _real(_lookup(r, "series_coupling"))
            truth = None if coupling is None else coupling != 0.0
        labels.append(truth)
    curves = {}
    for name, keys, sign in GRANGER_SCORERS:
        pts = []
        for r, y in zip(rows, labels, strict=True):
            value = next((v for k in keys if (v := _real(_dig(r, k))) is not None), None)
            if y is not None and value is not None:
                pts.append((sign * value, bool(y)))
        ys = [y for _, y in pts]
        if any(ys) and not all(ys):
            scores = [s for s, _ in pts]
            fpr, tpr = stats.roc_curve(scores, ys)
            curves[name] = (fpr, tpr, stats.roc_auc(scores, ys))
    return curves


def _granger_table(cells: Sequence[Mapping[str, Any]]) -> list[str]:
    flat = [_flat(c) for c in cells]
    present = {k for f in flat for k in f}
    columns = [k for k in GRANGER_COLUMNS if k in present]
    if not columns:
        for f in flat:
            columns += [k for k in f if k not in columns]
    labelled = any(_lookup(c, "label") is not None for c in cells)
    rows = [
        [_cell_label(c, i) if labelled else i + 1, *[_gfmt(f.get(k)) for k in columns]]
        for i, (c, f) in enumerate(zip(cells, flat, strict=True))
    ]
    return markdown_table(
        ["cell" if labelled else "#", *columns],
        rows,
        ("l" if labelled else "r") + "r" * len(columns),
    )


def granger_section(path: str | Path, ctx: _Ctx | None = None) -> list[str]:
    """Markdown lines for a ``granger.json`` (and ``series.jsonl`` beside it), tolerant of
    missing keys: a per-cell table, ROC curves and computed sentences."""
    path = Path(path)
    lines = ["## Granger probes", ""]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [*lines, f"> **Warning:** {path} is unreadable ({exc}); section skipped."]
    if not isinstance(data, Mapping):
        return [*lines, f"> **Warning:** {path} is not a JSON object; section skipped."]
    header = {
        role: _lookup(data, role)
        for role in ("model_name", "grid_name", "status", "n_done", "n_planned", "alpha")
    }
    shown = [
        f"{role.replace('_', ' ')} {_gfmt(v)}"
        for role, v in header.items()
        if v is not None and not isinstance(v, Mapping | list)
    ]
    if shown:
        lines += [f"From `{path}`: " + "; ".join(shown) + ".", ""]
    granger_fp = _dig(data, "model.fingerprint")
    if (
        ctx is not None
        and granger_fp
        and ctx.run.model.get("fingerprint") not in (None, granger_fp)
    ):
        lines += [
            f"> **Note:** the Granger run is of model {_gfmt(header['model_name'])}, "
            f"not of this report's model {ctx.run.name}.",
            "",
        ]
    if header["status"] not in (None, "complete"):
        lines += [
            f"> **Warning:** the Granger run is {header['status']}: "
            f"{_gfmt(header['n_done']) or '?'} of {_gfmt(header['n_planned']) or '?'} "
            "series; the numbers cover those only.",
            "",
        ]
    cells = None
    for key in GRANGER_KEYS["cells"]:
        if isinstance(data.get(key), list):
            cells = [c for c in data[key] if isinstance(c, Mapping)]
            break
    if not cells:
        return [
            *lines,
            f"{path.name} has no list of cells under "
            f"{' / '.join(GRANGER_KEYS['cells'])} (keys found: {', '.join(data) or 'none'}).",
        ]
    lines += _granger_table(cells)
    sentences = [
        _granger_sentence(cells, "statsmodels", "agree_statsmodels", "statsmodels_rate"),
        _granger_sentence(cells, "the truth", "agree_truth", "truth_rate"),
    ]
    hidden = _hidden_driver_sentence(data)
    if hidden:
        sentences.append(hidden)
    if ctx is not None:
        ctx.data["granger"] = {"cells": len(cells), "sentences": sentences}
    lines += ["", *[f"- {sentence}" for sentence in sentences]]
    series = path.parent / GRANGER_SERIES_FILE
    if series.exists() and ctx is not None:
        curves = _series_curves(series)
        if curves:
            from ladder.analysis import plots

            ctx.data["granger"]["auc"] = {k: v[2] for k, v in curves.items()}
            lines += [
                "",
                f"ROC AUC against the true graph over {series.name}: "
                + ", ".join(f"{k} {_num(v[2])}" for k, v in curves.items())
                + ".",
            ]
            lines += ctx.figure(
                "granger-roc",
                lambda p: plots.roc_curves(p, curves, "Granger: ROC against the true graph"),
                "Granger ROC curves",
            )
        else:
            lines += [
                "",
                f"{series.name} has no usable per-series scores with both true "
                "and false links; no ROC curve.",
            ]
    return lines


# -- footer -----------------------------------------------------------------------------------


def _code(value: Any) -> str:
    if value is None or value == "":
        return "not recorded"
    if value == {}:
        return "none"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return f"`{text}`"


def _footer(ctx: _Ctx, command: str | None) -> list[str]:
    from ladder.core.environment import VERSION as __version__
    from ladder.core.environment import git_commit

    res = ctx.run.results or {}
    model = ctx.run.model
    items = res.get("items") or {}
    lad = res.get("ladder") or {}
    env = res.get("environment") or {}
    details = ", ".join(
        f"{k} {model[k]}"
        for k in ("source", "dtype", "architecture", "package", "revision")
        if model.get(k)
    )
    spec = items.get("spec")
    rows = [
        [
            "model",
            f"{ctx.run.name} ({model.get('kind', 'unknown kind')})"
            + (f"; {details}" if details else ""),
        ],
        ["fingerprint", _code(model.get("fingerprint"))],
        ["settings", _code(res.get("settings"))],
        [
            "ladder (run)",
            f"version {lad.get('version', '?')}, commit {_code(lad.get('git_commit'))}",
        ],
        [
            "status",
            f"{ctx.run.status}; {len(ctx.run.samples)} of "
            f"{ctx.run.n_expected if ctx.run.n_expected is not None else '?'} items "
            f"scored; started {res.get('started', '?')}, finished "
            f"{res.get('finished') or '?'}",
        ],
        ["items", f"sha256 {_code(ctx.run.items_sha256)}"],
        [
            "tasks / seeds",
            f"{', '.join(map(str, items.get('tasks', []))) or '?'} / "
            f"{', '.join(map(str, items.get('seeds', []))) or '?'}",
        ],
        [
            "spec",
            (
                f"{spec.get('name')} ({spec.get('source')}), sha256 "
                f"{_code(spec.get('sha256'))}, seed {spec.get('seed')}, n {spec.get('n')}"
                if isinstance(spec, Mapping)
                else "not recorded (items given as a file)"
            ),
        ],
        ["command", _code(res.get("command"))],
        ["environment", "; ".join(f"{k} {v}" for k, v in env.items()) or "not recorded"],
        ["report", f"ladder {__version__}, commit {_code(git_commit())}, command {_code(command)}"],
    ]
    return ["## Reproducibility", "", *markdown_table(["what", "value"], rows, "ll")]


# -- entry points ---------------------------------------------------------------------------------


def build_report(
    run_dir: str | Path,
    *,
    baselines: Sequence[str | Path] = (),
    out: str | Path | None = None,
    granger: str | Path | None = None,
    figures: bool = True,
    command: str | None = None,
) -> Report:
    """Build the report of ``run_dir`` and draw its figures beside ``out``.

    ``out`` defaults to ``run_dir/report.md`` (the markdown itself is written by
    :func:`write_report`). ``granger`` is a directory or file; by default the run
    directory's ``granger.json`` is used when present.
    """
    run = load_run(run_dir)
    gpath = Path(granger) if granger is not None else run.path / GRANGER_FILE
    if gpath.is_dir():
        gpath = gpath / GRANGER_FILE
    if granger is not None and not gpath.exists():
        raise ReportError(f"--granger {granger}: no {GRANGER_FILE} there")
    out_path = Path(out) if out is not None else run.path / "report.md"
    ctx = _Ctx(run, baselines_for(run, baselines), out_path, figures)
    sections = [
        _headline(ctx),
        _baselines(ctx),
        ["## Where it breaks"],
        _query_family(ctx),
        _nodes(ctx),
        _verbalization(ctx),
        _evidence(ctx),
        _calibration(ctx),
    ]
    if gpath.exists():
        sections.append(granger_section(gpath, ctx))
    sections.append(_footer(ctx, command))
    warnings_ = [*run.warnings, *ctx.figure_notes]
    head = [
        f"# ladder report: {run.name}",
        "",
        f"Run `{run.path}` — {len(run.samples)} scored items, status {run.status}.",
    ]
    for w in warnings_:
        head += ["", f"> **Warning:** {w}"]
    body = "\n\n".join("\n".join(s).strip("\n") for s in [head, *sections])
    text = "\n".join(line.rstrip() for line in body.splitlines())
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return Report(text + "\n", ctx.figures, warnings_, ctx.data, out_path)


def write_report(
    run_dir: str | Path,
    *,
    baselines: Sequence[str | Path] = (),
    out: str | Path | None = None,
    granger: str | Path | None = None,
    figures: bool = True,
    command: str | None = None,
) -> Report:
    """Build the report and write its markdown (figures are written while building)."""
    report = build_report(
        run_dir, baselines=baselines, out=out, granger=granger, figures=figures, command=command
    )
    assert report.path is not None
    try:
        report.path.parent.mkdir(parents=True, exist_ok=True)
        report.path.write_text(report.markdown, encoding="utf-8")
    except OSError as exc:
        raise ReportError(
            f"{report.path}: cannot write the report ({exc.strerror or exc})"
        ) from None
    return report


def command_line() -> str:
    """The current process's command line, for the reproducibility footer."""
    return shlex.join(["ladder", *sys.argv[1:]])
