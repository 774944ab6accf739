"""``ladder leaderboard``: rank runs made on the same items, with paired tests.

Runs are comparable only on equal item-file hashes; :func:`build_leaderboard` refuses
others (one-line :class:`LeaderboardError`) unless ``per_slice`` is set, in which case it
compares per slice, uses unpaired tests and says so in a warning line.

Each model is tested against the next one down with McNemar's test on the items both
scored (:func:`ladder.core.stats.mcnemar_test`); a rank whose lead is not significant is marked
``(n.s.)``. :func:`leaderboard_headline` returns the computed headline paragraph alone (for
quoting in a README).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ladder.analysis.report import (
    ASSOC,
    TRUTH,
    Run,
    _ci,
    _groups,
    _num,
    _sort_key,
    compute_baseline_samples,
    load_run,
    markdown_table,
)
from ladder.core import stats
from ladder.core.errors import LeaderboardError
from ladder.harness.metrics import SLICE_FIELDS, summarize

__all__ = [
    "Entry",
    "Leaderboard",
    "LeaderboardError",
    "build_leaderboard",
    "leaderboard_headline",
    "write_leaderboard",
]


@dataclass
class Entry:
    """One ranked run."""

    run: Run
    label: str
    overall: dict[str, Any]
    rungs: dict[str, dict[str, Any]]
    gap_closed: float | None
    gap_rungs: list[str]
    rank: int = 0
    vs_next: stats.McNemarResult | stats.UnpairedResult | None = None

    @property
    def lead_significant(self) -> bool | None:
        """Whether this row's lead over the next row is significant (None for the last)."""
        return None if self.vs_next is None else self.vs_next.significant


@dataclass
class Leaderboard:
    """A ranked table of runs, its headline and the rendered markdown and CSV."""

    entries: list[Entry]
    rungs: list[str]
    paired: bool
    items_sha256: str | None
    warnings: list[str] = field(default_factory=list)
    headline: str = ""
    markdown: str = ""
    csv: str = ""


# -- comparing two runs ---------------------------------------------------------------------------


def _compare(
    a: Run,
    b: Run,
    paired: bool,
    rung: str | None = None,
) -> stats.McNemarResult | stats.UnpairedResult | None:
    """McNemar on the items both scored (paired), else a two-proportion z-test; None if
    there is nothing to compare. ``rung`` restricts both runs to that rung's items."""

    def correct(run: Run) -> dict[str, bool]:
        return {
            s["id"]: bool(s["correct"])
            for s in run.samples
            if rung is None or str(s.get("rung")) == rung
        }

    ca, cb = correct(a), correct(b)
    if paired:
        common = [i for i in ca if i in cb]
        if not common:
            return None
        return stats.mcnemar_test([ca[i] for i in common], [cb[i] for i in common])
    if not ca or not cb:
        return None
    return stats.two_proportion_test(sum(ca.values()), len(ca), sum(cb.values()), len(cb))


def _test_text(test: stats.McNemarResult | stats.UnpairedResult | None) -> str:
    if test is None:
        return "no common items to test"
    verdict = "significant" if test.significant else "not significant"
    detail = (
        f"; {test.b} vs {test.c} discordant items" if isinstance(test, stats.McNemarResult) else ""
    )
    return f"{verdict}: {test.name}, {stats.format_p(test.p_value)}{detail}"


# -- oracle accuracies for the "ladder gap closed" column -----------------------------------------


def _oracle_tables(
    run: Run, given: Sequence[Run], cache: dict[tuple[str, str], dict[str, bool]]
) -> dict[str, dict[str, bool]]:
    """``{oracle: {id: correct}}`` for the association and truth oracles on ``run``'s items:
    from a given run with the same hash that covers the scored ids, else computed."""
    ids = [s["id"] for s in run.samples]
    out: dict[str, dict[str, bool]] = {}
    for name in (ASSOC, TRUTH):
        for other in given:
            if (
                other.is_baseline
                and other.name == name
                and other.items_sha256
                and other.items_sha256 == run.items_sha256
            ):
                table = other.correct_by_id()
                if all(i in table for i in ids):
                    out[name] = table
                    break
        if name in out:
            continue
        key = (name, run.items_sha256 or str(run.path))
        if key not in cache and run.items is not None:
            try:
                cache[key] = {
                    s["id"]: s["correct"] for s in compute_baseline_samples(name, run.items)
                }
            except (ValueError, KeyError):
                continue
        if key in cache:
            out[name] = cache[key]
    return out


def _gap_closed(
    run: Run,
    oracles: Mapping[str, Mapping[str, bool]],
) -> tuple[float | None, list[str]]:
    """Mean over rungs with a non-trivial ladder gap of (model − assoc) / (truth − assoc)."""
    if ASSOC not in oracles or TRUTH not in oracles:
        return None, []
    positions, used = [], []
    for rung, group in _groups(run.samples, "rung").items():
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


# -- building -------------------------------------------------------------------------------------


def _check_hashes(runs: Sequence[Run], per_slice: bool) -> tuple[bool, list[str]]:
    """Whether all runs share one item-file hash; raises unless ``per_slice``."""
    warnings_: list[str] = []
    first = runs[0]
    for other in runs[1:]:
        if first.items_sha256 and other.items_sha256 == first.items_sha256:
            continue
        if per_slice:
            warnings_.append(
                f"**these runs were made on different item files** (e.g. {first.path}: "
                f"{(first.items_sha256 or 'no hash')[:12]}, {other.path}: "
                f"{(other.items_sha256 or 'no hash')[:12]}); overall ranks compare different "
                "items, neighbour tests are unpaired two-proportion z-tests, and the per-slice "
                "tables below are the fair comparison"
            )
            return False, warnings_
        ha = first.items_sha256 or "none (no results.json or items.jsonl)"
        hb = other.items_sha256 or "none (no results.json or items.jsonl)"
        raise LeaderboardError(
            f"runs were made on different item files: {first.path} (items sha256 {ha}) vs "
            f"{other.path} (items sha256 {hb}); rank runs of the same items, or pass "
            "--per-slice to compare them per slice"
        )
    return True, warnings_


def _labels(runs: Sequence[Run]) -> list[str]:
    names = [r.name + (" (baseline)" if r.is_baseline else "") for r in runs]
    return [
        n if names.count(n) == 1 else f"{n} [{r.path.name}]"
        for n, r in zip(names, runs, strict=True)
    ]


def build_leaderboard(run_dirs: Sequence[str | Path], per_slice: bool = False) -> Leaderboard:
    """Load, check and rank runs; render the headline, markdown and CSV."""
    if not run_dirs:
        raise LeaderboardError("no run directories given")
    seen: set[Path] = set()
    runs: list[Run] = []
    for d in run_dirs:
        key = Path(d).resolve()
        if key in seen:
            raise LeaderboardError(f"{d}: given twice")
        seen.add(key)
        runs.append(load_run(d))
    paired, warnings_ = _check_hashes(runs, per_slice)
    for r in runs:
        if r.status != "complete" or (r.n_expected is not None and len(r.samples) < r.n_expected):
            warnings_.append(
                f"{r.path} is {r.status}: {len(r.samples)} of "
                f"{r.n_expected if r.n_expected is not None else '?'} items "
                "scored; its numbers cover those items only"
            )
    cache: dict[tuple[str, str], dict[str, bool]] = {}
    entries = []
    for run, label in zip(runs, _labels(runs), strict=True):
        gap, used = _gap_closed(run, _oracle_tables(run, runs, cache))
        entries.append(
            Entry(
                run,
                label,
                summarize(run.samples),
                {k: summarize(g) for k, g in _groups(run.samples, "rung").items()},
                gap,
                used,
            )
        )
    entries.sort(key=lambda e: (-e.overall["accuracy"], _nan_last(e.overall["brier"]), e.label))
    for k, e in enumerate(entries):
        e.rank = k + 1
        if k + 1 < len(entries):
            e.vs_next = _compare(e.run, entries[k + 1].run, paired)
    rungs = sorted({r for e in entries for r in e.rungs}, key=_sort_key)
    board = Leaderboard(entries, rungs, paired, runs[0].items_sha256 if paired else None, warnings_)
    board.headline = _headline(board)
    board.markdown = _markdown(board, per_slice)
    board.csv = _csv(board)
    return board


def _nan_last(x: float) -> float:
    return x if math.isfinite(x) else math.inf


# -- headline -------------------------------------------------------------------------------------


def _contenders(board: Leaderboard) -> tuple[list[Entry], bool]:
    models = [e for e in board.entries if not e.run.is_baseline]
    return (models, True) if models else (list(board.entries), False)


def _lead_sentence(
    first: Entry,
    second: Entry,
    acc1: float,
    acc2: float,
    what: str,
    test: stats.McNemarResult | stats.UnpairedResult | None,
) -> str:
    if acc1 == acc2:
        return f"{what}: **{first.label}** and **{second.label}** tie at {_num(acc1)}."
    return (
        f"{what}: **{first.label}** leads with {_num(acc1)} against {second.label}'s "
        f"{_num(acc2)} — {_test_text(test)}."
    )


def _headline(board: Leaderboard) -> str:
    entries, excluded_baselines = _contenders(board)
    if len(entries) == 1:
        e = entries[0]
        return (
            f"Only one {'model' if excluded_baselines else 'run'} is ranked: **{e.label}**, "
            f"accuracy {_num(e.overall['accuracy'])} "
            f"{_ci(e.overall['ci_low'], e.overall['ci_high'])} on {e.overall['n']} items; "
            "there is nothing to compare it with."
        )
    first, second = entries[0], entries[1]
    overall = (
        f"**{first.label}** leads overall with accuracy {_num(first.overall['accuracy'])} "
        f"{_ci(first.overall['ci_low'], first.overall['ci_high'])} against "
        f"{second.label}'s {_num(second.overall['accuracy'])}; the lead is "
        f"{_test_text(_compare(first.run, second.run, board.paired))}."
    )
    if first.overall["accuracy"] == second.overall["accuracy"]:
        overall = (
            f"**{first.label}** and **{second.label}** tie overall at accuracy "
            f"{_num(first.overall['accuracy'])}."
        )
    parts = [overall]
    for rung in board.rungs:
        having = [e for e in entries if rung in e.rungs]
        if len(having) < 2:
            continue
        having.sort(key=lambda e: (-e.rungs[rung]["accuracy"], e.rank))
        a, b = having[0], having[1]
        test = _compare(a.run, b.run, board.paired, rung)
        parts.append(
            _lead_sentence(
                a, b, a.rungs[rung]["accuracy"], b.rungs[rung]["accuracy"], f"Rung {rung}", test
            )
        )
    gaps = sorted(
        ((e.gap_closed, e.label) for e in entries if e.gap_closed is not None), reverse=True
    )
    if gaps:
        parts.append(
            "Ladder gap closed (1 = the truth oracle, 0 = the association-only "
            "oracle, negative = below it): "
            + ", ".join(f"{label} {_num(g, 2)}" for g, label in gaps)
            + "."
        )
    if excluded_baselines and len(entries) < len(board.entries):
        base = [e for e in board.entries if e.run.is_baseline]
        parts.append(
            "Baselines are ranked in the table but left out of these comparisons ("
            + ", ".join(f"{e.run.name} {_num(e.overall['accuracy'])}" for e in base)
            + ")."
        )
    return " ".join(parts)


def leaderboard_headline(run_dirs: Sequence[str | Path], per_slice: bool = False) -> str:
    """The computed headline paragraph of the leaderboard of ``run_dirs`` (for quoting)."""
    return build_leaderboard(run_dirs, per_slice).headline


# -- rendering ------------------------------------------------------------------------------------


def _rank_text(e: Entry) -> str:
    if e.vs_next is None or e.vs_next.significant:
        return str(e.rank)
    return f"{e.rank} (n.s.)"


def _vs_next_text(e: Entry) -> str:
    if e.vs_next is None:
        return "—"
    t = e.vs_next
    if isinstance(t, stats.McNemarResult):
        return f"{stats.p_cell(t.p_value)} ({t.b}/{t.c}, {t.method})"
    return f"{stats.p_cell(t.p_value)} (z-test)"


def _markdown(board: Leaderboard, per_slice: bool) -> str:
    lines = ["# ladder leaderboard", "", board.headline, ""]
    for w in board.warnings:
        lines += [f"> **Warning:** {w}", ""]
    if board.items_sha256:
        first = board.entries[0].run
        tasks = ", ".join(map(str, ((first.results or {}).get("items") or {}).get("tasks", [])))
        lines += [
            f"All runs scored the same item file: sha256 `{board.items_sha256}` "
            f"({first.n_expected} items{'; tasks ' + tasks if tasks else ''}).",
            "",
        ]
    headers = [
        "rank",
        "model",
        "items",
        "accuracy [95% CI]",
        *[f"rung {r}" for r in board.rungs],
        "Brier",
        "ECE",
        "yes-rate",
        "ladder gap closed",
        "vs next: p (b/c)",
    ]
    rows = []
    for e in board.entries:
        o = e.overall
        rows.append(
            [
                _rank_text(e),
                e.label,
                o["n"],
                f"{_num(o['accuracy'])} {_ci(o['ci_low'], o['ci_high'])}",
                *[_num(e.rungs[r]["accuracy"]) if r in e.rungs else "—" for r in board.rungs],
                _num(o["brier"]),
                _num(o["ece"]),
                _num(o["yes_rate"]),
                _num(e.gap_closed, 2),
                _vs_next_text(e),
            ]
        )
    lines += markdown_table(headers, rows, "rlrl" + "r" * len(board.rungs) + "rrrrl")
    lines += ["", *_legend(board)]
    if per_slice:
        lines += _slice_tables(board)
    lines += ["", "## Runs", ""]
    lines += markdown_table(
        ["model", "run directory", "status", "fingerprint", "items sha256"],
        [
            [
                e.label,
                f"`{e.run.path}`",
                e.run.status,
                f"`{str(e.run.model.get('fingerprint', 'unknown'))[:16]}`",
                f"`{(e.run.items_sha256 or 'unknown')[:16]}`",
            ]
            for e in board.entries
        ],
        "lllll",
    )
    return "\n".join(lines).rstrip() + "\n"


def _legend(board: Leaderboard) -> list[str]:
    test = (
        "McNemar's paired test on the items both runs scored: b = items this row got right "
        "and the next row wrong, c = the reverse; exact binomial when b + c < "
        f"{stats.MCNEMAR_EXACT_BELOW}, chi-square with continuity correction otherwise"
        if board.paired
        else "an unpaired two-proportion z-test (the runs scored different items)"
    )
    truth_yes = [e.overall["truth_yes_rate"] for e in board.entries]
    yes_note = f" (the true yes-rate is {_num(truth_yes[0])})" if board.paired and truth_yes else ""
    gap_rungs = sorted({r for e in board.entries for r in e.gap_rungs}, key=_sort_key)
    used = (
        f"; here rungs {', '.join(gap_rungs)} have a gap"
        if gap_rungs
        else "; here no rung has a gap, so the column is n/a"
    )
    return [
        "**How to read this table**",
        "",
        "- **rank**: order by overall accuracy (ties: lower Brier first). **(n.s.)** means "
        f"this row's lead over the row below is not significant (p ≥ {stats.ALPHA}): on "
        "another sample of items the two could swap.",
        "- **accuracy [95% CI]**: share of items answered correctly, with a Wilson 95% "
        "interval. **rung 1/2/3**: accuracy on association, intervention and counterfactual "
        "questions.",
        "- **Brier**: mean squared error of P(yes), lower is better (always 0.5 gives 0.250). "
        "**ECE**: expected calibration error over 10 confidence bins, lower is better.",
        f"- **yes-rate**: share of answers that are yes{yes_note}; far from the true rate "
        "means an answer bias.",
        "- **ladder gap closed**: mean, over rungs where the truth oracle beats the "
        f"association-only oracle by at least {stats.MIN_GAP}, of (model − association) / "
        "(truth − association). 0 = a perfect rung-1 (associational) reasoner, 1 = the truth, "
        f"negative = worse than association{used}.",
        f"- **vs next: p (b/c)**: {test}.",
    ]


def _slice_tables(board: Leaderboard) -> list[str]:
    lines = [
        "",
        "## Per slice",
        "",
        "Cells: accuracy (items). Compare rows within a column: each column is one slice.",
    ]
    for key in SLICE_FIELDS:
        values = sorted(
            {str(s[key]) for e in board.entries for s in e.run.samples if key in s}, key=_sort_key
        )
        if not values:
            continue
        rows = []
        for e in board.entries:
            groups = _groups(e.run.samples, key)
            cells = []
            for v in values:
                g = groups.get(v, [])
                cells.append(f"{_num(summarize(g)['accuracy'])} ({len(g)})" if g else "—")
            rows.append([e.label, *cells])
        lines += [
            "",
            f"### {key.replace('_', ' ')}",
            "",
            *markdown_table(["model", *values], rows, "l" + "r" * len(values)),
        ]
    return lines


CSV_COLUMNS = (
    "rank",
    "significant_vs_next",
    "model",
    "run_dir",
    "kind",
    "items",
    "correct",
    "accuracy",
    "ci_low",
    "ci_high",
    "brier",
    "ece",
    "yes_rate",
    "truth_yes_rate",
    "ladder_gap_closed",
    "gap_rungs",
    "vs_next_test",
    "vs_next_p",
    "vs_next_b",
    "vs_next_c",
    "items_sha256",
    "fingerprint",
)


def _csv(board: Leaderboard) -> str:
    buf = io.StringIO()
    columns = [*CSV_COLUMNS[:10], *[f"rung_{r}" for r in board.rungs], *CSV_COLUMNS[10:]]
    writer = csv.DictWriter(buf, columns, lineterminator="\n")
    writer.writeheader()
    for e in board.entries:
        o, t = e.overall, e.vs_next
        row: dict[str, Any] = {
            "rank": e.rank,
            "significant_vs_next": "" if t is None else t.significant,
            "model": e.run.name,
            "run_dir": str(e.run.path),
            "kind": e.run.model.get("kind", ""),
            "items": o["n"],
            "correct": o["correct"],
            "accuracy": o["accuracy"],
            "ci_low": o["ci_low"],
            "ci_high": o["ci_high"],
            "brier": o["brier"],
            "ece": o["ece"],
            "yes_rate": o["yes_rate"],
            "truth_yes_rate": o["truth_yes_rate"],
            "ladder_gap_closed": "" if e.gap_closed is None else e.gap_closed,
            "gap_rungs": " ".join(e.gap_rungs),
            "vs_next_test": "" if t is None else t.name,
            "vs_next_p": "" if t is None else t.p_value,
            "vs_next_b": t.b if isinstance(t, stats.McNemarResult) else "",
            "vs_next_c": t.c if isinstance(t, stats.McNemarResult) else "",
            "items_sha256": e.run.items_sha256 or "",
            "fingerprint": e.run.model.get("fingerprint", ""),
        }
        for r in board.rungs:
            row[f"rung_{r}"] = e.rungs[r]["accuracy"] if r in e.rungs else ""
        writer.writerow(row)
    return buf.getvalue()


def write_leaderboard(
    run_dirs: Sequence[str | Path], out: str | Path, per_slice: bool = False
) -> Leaderboard:
    """Build the leaderboard and write ``out`` (markdown) and the CSV beside it."""
    board = build_leaderboard(run_dirs, per_slice)
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(board.markdown, encoding="utf-8")
        out.with_suffix(".csv").write_text(board.csv, encoding="utf-8")
    except OSError as exc:
        raise LeaderboardError(
            f"{out}: cannot write the leaderboard ({exc.strerror or exc})"
        ) from None
    return board
