"""``ladder leaderboard``: rank runs made on the same items, with paired tests.

Runs are comparable only on equal item-file hashes; :func:`build_leaderboard` refuses
others (one-line :class:`LeaderboardError`) unless ``per_slice`` is set, in which case it
compares per slice, uses unpaired tests and says so in a warning line.

A run directory whose ``results.json`` is missing or corrupt (or that cannot be read as a
run at all) is left out with one warning line; fewer than two usable runs is an error.

Each model is tested against the next one down with McNemar's test on the items both
scored (:func:`ladder.core.stats.mcnemar_test`); a rank whose lead is not significant is marked
``(n.s.)``. The "ladder gap closed" column needs truth-oracle and association-oracle runs
among the runs ranked (nothing is computed in-process); without them a warning gives the
commands that make them. :func:`leaderboard_headline` returns the computed headline
paragraph alone (for quoting in a README).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ladder.analysis.baselines import ASSOC, TRUTH, baseline_commands
from ladder.analysis.discrimination import discrimination_test
from ladder.analysis.leaderboard_render import render_csv, render_headline, render_markdown
from ladder.analysis.markdown import sort_key
from ladder.analysis.measures import (
    gap_closed_interval,
    measures,
    paired_auroc_difference,
    unpaired_difference,
)
from ladder.analysis.ranking import Entry, Leaderboard, compare_runs, labels
from ladder.analysis.runfiles import Run, load_run
from ladder.analysis.slicing import groups, summaries
from ladder.core import stats
from ladder.core.errors import LeaderboardError, ReportError
from ladder.core.io import atomic_writer
from ladder.harness.metrics import summarize
from ladder.harness.mixtures import is_baseline_name

__all__ = [
    "Entry",
    "Leaderboard",
    "LeaderboardError",
    "build_leaderboard",
    "contamination_checks",
    "leaderboard_headline",
    "load_runs",
    "suite_columns",
    "write_leaderboard",
    "write_suite_columns",
]


# -- loading --------------------------------------------------------------------------------------


def _usable(d: str | Path) -> tuple[Run | None, str | None]:
    """The run in ``d``, or None and why it is left out."""
    try:
        run = load_run(d)
    except ReportError as exc:
        return None, str(exc).splitlines()[0].removeprefix(f"{Path(d)}: ")
    if run.results is None:
        return None, f"{run.results_problem}: the model and its provenance are unknown"
    return run, None


def load_runs(run_dirs: Sequence[str | Path]) -> tuple[list[Run], list[str]]:
    """The usable runs of ``run_dirs`` and one warning line per run left out (missing or
    corrupt results.json, no samples, not a run directory) or with damaged data.

    Raises :class:`LeaderboardError` when a directory is given twice or fewer than two
    usable runs remain.
    """
    if not run_dirs:
        raise LeaderboardError("no run directories given")
    seen: set[Path] = set()
    runs: list[Run] = []
    warnings_: list[str] = []
    for d in run_dirs:
        key = Path(d).resolve()
        if key in seen:
            raise LeaderboardError(f"{d}: given twice")
        seen.add(key)
        run, why = _usable(d)
        if run is None:
            warnings_.append(f"{d} left out: {why}")
            continue
        runs.append(run)
        warnings_ += [f"{d}: {w}" for w in run.integrity]
    if len(runs) < 2:
        left_out = len(run_dirs) - len(runs)
        detail = f" ({left_out} left out: {'; '.join(warnings_)})" if left_out else ""
        raise LeaderboardError(
            f"a leaderboard needs at least 2 usable runs; {len(runs)} of {len(run_dirs)} "
            f"given are usable{detail}"
        )
    return runs, warnings_


def _check_hashes(runs: Sequence[Run], per_slice: bool) -> tuple[bool, list[str]]:
    """Whether all runs share one item-file hash; raises unless ``per_slice``."""
    first = runs[0]
    for other in runs[1:]:
        if first.items_sha256 and other.items_sha256 == first.items_sha256:
            continue
        if per_slice:
            return False, [
                f"**these runs were made on different item files** (e.g. {first.path}: "
                f"{(first.items_sha256 or 'no hash')[:12]}, {other.path}: "
                f"{(other.items_sha256 or 'no hash')[:12]}); overall ranks compare different "
                "items, neighbour tests are unpaired two-proportion z-tests, and the per-slice "
                "tables below are the fair comparison"
            ]
        ha = first.items_sha256 or "none (no results.json or items.jsonl)"
        hb = other.items_sha256 or "none (no results.json or items.jsonl)"
        raise LeaderboardError(
            f"runs were made on different item files: {first.path} (items sha256 {ha}) vs "
            f"{other.path} (items sha256 {hb}); rank runs of the same items, or pass "
            "--per-slice to compare them per slice"
        )
    return True, []


# -- the ladder gap closed, from oracle runs among those ranked -----------------------------------


def _oracle_tables(run: Run, given: Sequence[Run]) -> dict[str, dict[str, bool]]:
    """``{oracle: {id: correct}}`` for the association and truth oracles on ``run``'s items,
    from a ranked oracle run with the same hash that covers every scored id."""
    ids = [s["id"] for s in run.samples]
    out: dict[str, dict[str, bool]] = {}
    for name in (ASSOC, TRUTH):
        for other in given:
            if not (other.is_baseline and other.name == name and other.items_sha256):
                continue
            if other.items_sha256 != run.items_sha256:
                continue
            table = other.correct_by_id()
            if all(i in table for i in ids):
                out[name] = table
                break
    return out


def _gap_closed(
    run: Run, oracles: Mapping[str, Mapping[str, bool]]
) -> tuple[float | None, list[str]]:
    """Mean over rungs with a non-trivial ladder gap of (model − assoc) / (truth − assoc)."""
    if ASSOC not in oracles or TRUTH not in oracles:
        return None, []
    positions, used = [], []
    for rung, group in groups(run.samples, "rung").items():
        ids = [s["id"] for s in group]
        if any(i not in oracles[ASSOC] or i not in oracles[TRUTH] for i in ids):
            continue
        model = sum(bool(s["correct"]) for s in group) / len(group)
        assoc = sum(oracles[ASSOC][i] for i in ids) / len(ids)
        truth = sum(oracles[TRUTH][i] for i in ids) / len(ids)
        pos = stats.gap_position(model, assoc, truth)
        if pos is not None:
            positions.append(pos)
            used.append(rung)
    return (sum(positions) / len(positions) if positions else None), used


def _missing_oracles(runs: Sequence[Run]) -> list[str]:
    """A warning with the commands that make the oracle runs, when models are ranked
    without them (the "ladder gap closed" column is then n/a)."""
    models = [r for r in runs if not r.is_baseline]
    have = {r.name for r in runs if r.is_baseline}
    names = [n for n in (TRUTH, ASSOC) if n not in have]
    if not models or not names:
        return []
    commands = "; ".join(f"`{c}`" for c in baseline_commands(models[0], names))
    return [
        f"ladder gap closed is n/a: no {' or '.join(names)} run on these items is ranked; "
        f"make them with {commands} and rank them too"
    ]


# -- building -------------------------------------------------------------------------------------


def _entry(run: Run, label: str, runs: Sequence[Run]) -> Entry:
    oracles = _oracle_tables(run, runs)
    gap, used = _gap_closed(run, oracles)
    entry = Entry(run, label, summarize(run.samples), summaries(run.samples, "rung"), gap, used)
    entry.measures = {**measures(run.samples), "discrimination": discrimination_test(run.samples)}
    entry.rung_auroc = {
        rung: measures(group)["auroc"] for rung, group in groups(run.samples, "rung").items()
    }
    if ASSOC in oracles and TRUTH in oracles:
        entry.gap_interval = gap_closed_interval(run.samples, oracles[ASSOC], oracles[TRUTH])
    return entry


def _nan_last(x: float | None) -> float:
    return x if x is not None and math.isfinite(x) else math.inf


def _rank(entries: list[Entry], paired: bool) -> None:
    """Sort by AUROC of P(yes) against the truth (ties: balanced accuracy, then label) and
    compare each row with the next: paired AUROC difference and McNemar on correctness."""

    def key(e: Entry) -> tuple[float, float, str]:
        ba = (e.measures.get("balanced_accuracy") or {}).get("estimate")
        return (_nan_last(None if e.auroc is None else -e.auroc), _nan_last(ba and -ba), e.label)

    entries.sort(key=key)
    for k, e in enumerate(entries):
        e.rank = k + 1
        if k + 1 < len(entries):
            e.vs_next = compare_runs(e.run, entries[k + 1].run, paired)
            if paired:
                e.auroc_vs_next = paired_auroc_difference(e.run.samples, entries[k + 1].run.samples)


def build_leaderboard(run_dirs: Sequence[str | Path], per_slice: bool = False) -> Leaderboard:
    """Load, check and rank runs; render the headline, markdown and CSV."""
    runs, warnings_ = load_runs(run_dirs)
    paired, hash_warnings = _check_hashes(runs, per_slice)
    warnings_ += hash_warnings
    for r in runs:
        if r.is_partial:
            warnings_.append(
                f"{r.path} is {r.status}: {len(r.samples)} of "
                f"{r.n_expected if r.n_expected is not None else '?'} items "
                "scored; its numbers cover those items only"
            )
    entries = [_entry(run, label, runs) for run, label in zip(runs, labels(runs), strict=True)]
    _rank(entries, paired)
    if paired:
        warnings_ += _missing_oracles(runs)
    rungs = sorted({r for e in entries for r in e.rungs}, key=sort_key)
    board = Leaderboard(entries, rungs, paired, runs[0].items_sha256 if paired else None, warnings_)
    board.headline = render_headline(board)
    board.markdown = render_markdown(board, per_slice)
    board.csv = render_csv(board)
    return board


def leaderboard_headline(run_dirs: Sequence[str | Path], per_slice: bool = False) -> str:
    """The computed headline paragraph of the leaderboard of ``run_dirs`` (for quoting)."""
    return build_leaderboard(run_dirs, per_slice).headline


def write_leaderboard(
    run_dirs: Sequence[str | Path], out: str | Path, per_slice: bool = False
) -> Leaderboard:
    """Build the leaderboard and write ``out`` (markdown) and the CSV beside it, atomically."""
    board = build_leaderboard(run_dirs, per_slice)
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_writer(out) as fh:
            fh.write(board.markdown)
        with atomic_writer(out.with_suffix(".csv")) as fh:
            fh.write(board.csv)
    except OSError as exc:
        raise LeaderboardError(
            f"{out}: cannot write the leaderboard ({exc.strerror or exc})"
        ) from None
    return board


# -- several suites side by side ------------------------------------------------------------------


def _suite_name(run: Run, with_seed: bool = False) -> str:
    """A suite's name: the tasks its items record (and their seeds, when asked), else its
    item file's folder."""
    items = (run.results or {}).get("items") or {}
    tasks, seeds = items.get("tasks") or [], items.get("seeds") or []
    if tasks:
        name = "+".join(map(str, tasks))
        return f"{name} seed {'+'.join(map(str, seeds))}" if with_seed and seeds else name
    return run.path.parent.parent.name if run.path.parent.name == "runs" else run.path.name


def _suites(runs: Sequence[Run]) -> dict[str, list[Run]]:
    """Runs grouped by item-file hash, keyed by a readable, unique suite name."""
    by_hash: dict[str, list[Run]] = {}
    for r in runs:
        by_hash.setdefault(r.items_sha256 or f"unknown:{r.path}", []).append(r)
    names = [_suite_name(group[0]) for group in by_hash.values()]
    # the same task at two seeds (a control's training seed and a fresh one) is told apart
    # by its seed first, by its hash only if that is not enough
    names = [
        _suite_name(group[0], with_seed=names.count(name) > 1)
        for name, group in zip(names, by_hash.values(), strict=True)
    ]
    out: dict[str, list[Run]] = {}
    for name, (sha, group) in zip(names, by_hash.items(), strict=True):
        out[name if names.count(name) == 1 else f"{name} ({sha[:8]})"] = group
    return out


def _fmt(d: Mapping[str, Any]) -> str:
    if d.get("estimate") is None:
        return "n/a"
    if d.get("low") is None:
        return f"{d['estimate']:.3f}"
    return f"{d['estimate']:.3f} [{d['low']:.3f}, {d['high']:.3f}]"


def contamination_checks(suites: Mapping[str, Sequence[Run]]) -> list[str]:
    """For each model scored both on items it was trained on (its run records
    ``contamination``) and on other items, one markdown bullet: AUROC and accuracy on each,
    and the trained-minus-fresh differences with independent cluster-bootstrap intervals
    (:func:`ladder.analysis.measures.unpaired_difference`). This is the fresh-items guard
    at work: a gap whose interval excludes 0 is what memorised items look like."""
    seen: dict[str, tuple[str, Run]] = {}
    fresh: dict[str, list[tuple[str, Run]]] = {}
    for suite, group in suites.items():
        for r in group:
            if (r.results or {}).get("contamination"):
                seen.setdefault(r.name, (suite, r))
            else:
                fresh.setdefault(r.name, []).append((suite, r))
    lines: list[str] = []
    for name, (seen_suite, seen_run) in sorted(seen.items()):
        for fresh_suite, fresh_run in fresh.get(name, []):
            acc = unpaired_difference(seen_run.samples, fresh_run.samples, "accuracy")
            auc = unpaired_difference(seen_run.samples, fresh_run.samples, "auroc")
            m_seen, m_fresh = measures(seen_run.samples), measures(fresh_run.samples)
            lines.append(
                f"- **{name}** on the items it was trained on ({seen_suite}): AUROC "
                f"{_fmt(m_seen['auroc'])}, accuracy {_fmt(m_seen['accuracy'])}; on fresh items "
                f"({fresh_suite}): AUROC {_fmt(m_fresh['auroc'])}, accuracy "
                f"{_fmt(m_fresh['accuracy'])}. Trained minus fresh: AUROC {_fmt(auc)}, "
                f"accuracy {_fmt(acc)}."
            )
    return lines


def _suite_cell(run: Run) -> tuple[str, dict[str, Any]]:
    m = measures(run.samples)
    a, acc = m["auroc"], m["accuracy"]
    mark = " **[trained on these items]**" if (run.results or {}).get("contamination") else ""
    if a["estimate"] is None:
        return f"AUROC n/a · acc {acc['estimate']:.3f} (n = {m['n']}){mark}", m
    return (
        f"AUROC {a['estimate']:.3f} [{a['low']:.3f}, {a['high']:.3f}] · acc "
        f"{acc['estimate']:.3f} (n = {m['n']}){mark}",
        m,
    )


def suite_columns(run_dirs: Sequence[str | Path]) -> tuple[str, str, list[str]]:
    """Runs on different item files (suites) side by side: per suite, a ranked board when
    it has two runs or more; then one table, a row per model and a column per suite.
    Suites hold different items, so nothing is tested across columns. Returns (markdown,
    CSV, warnings)."""
    runs, warnings_ = load_runs(run_dirs)
    suites = _suites(runs)
    models = sorted({r.name for r in runs}, key=lambda n: (is_baseline_name(n), n))
    cells: dict[tuple[str, str], str] = {}
    rows_csv = ["model,suite,items,auroc,auroc_low,auroc_high,accuracy,accuracy_low,accuracy_high"]
    for suite, group in suites.items():
        for r in group:
            text, m = _suite_cell(r)
            cells[(r.name, suite)] = text
            a, acc = m["auroc"], m["accuracy"]
            values = [a["estimate"], a["low"], a["high"], acc["estimate"], acc["low"], acc["high"]]
            rows_csv.append(
                ",".join(
                    [r.name, suite, str(m["n"]), *("" if v is None else repr(v) for v in values)]
                )
            )
    header = "| model | " + " | ".join(suites) + " |"
    lines = [
        "# ladder leaderboard: suites side by side",
        "",
        "Each column is a different item set, so columns are not compared with a test; within "
        "a column, see that suite's ranked board below. Cells: AUROC of P(yes) against the "
        "truth [95% bootstrap interval over item families, or over items where the items "
        "carry no families] · accuracy (items). Models first, then baselines.",
        *(["", *[f"> **Warning:** {w}" for w in warnings_]] if warnings_ else []),
        "",
        header,
        "|:--|" + "|".join(":--" for _ in suites) + "|",
        *[f"| {m} | " + " | ".join(cells.get((m, s), "—") for s in suites) + " |" for m in models],
    ]
    checks = contamination_checks(suites)
    if checks:
        lines += [
            "",
            "## Trained items against fresh items",
            "",
            "Models scored both on items they were trained on and on fresh items of other "
            "suites. Each side's interval resamples its own item families; the difference's "
            "interval combines two independent resamplings (95%).",
            "",
            *checks,
        ]
    for suite, group in suites.items():
        if len(group) < 2:
            continue
        board = build_leaderboard([r.path for r in group])
        body = board.markdown.split("\n", 1)[1]
        lines += ["", f"## Suite: {suite}", body.rstrip()]
    return "\n".join(lines) + "\n", "\n".join(rows_csv) + "\n", warnings_


def write_suite_columns(run_dirs: Sequence[str | Path], out: str | Path) -> list[str]:
    """Write :func:`suite_columns` as ``out`` (markdown) and its CSV beside it; the
    warnings."""
    markdown, table, warnings_ = suite_columns(run_dirs)
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_writer(out) as fh:
            fh.write(markdown)
        with atomic_writer(out.with_suffix(".csv")) as fh:
            fh.write(table)
    except OSError as exc:
        raise LeaderboardError(
            f"{out}: cannot write the leaderboard ({exc.strerror or exc})"
        ) from None
    return warnings_
