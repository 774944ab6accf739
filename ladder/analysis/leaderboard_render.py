"""The leaderboard's text: its computed headline, the markdown page and the CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from ladder.analysis.markdown import ci, markdown_table, num, sort_key, warning_lines
from ladder.analysis.ranking import Entry, Leaderboard, Test, compare_runs, test_text
from ladder.analysis.slicing import groups
from ladder.core import stats
from ladder.harness.metrics import SLICE_FIELDS, summarize

__all__ = ["CSV_COLUMNS", "render_csv", "render_headline", "render_markdown"]


# -- headline -------------------------------------------------------------------------------------


def _contenders(board: Leaderboard) -> tuple[list[Entry], bool]:
    models = [e for e in board.entries if not e.run.is_baseline]
    return (models, True) if models else (list(board.entries), False)


def _lead_sentence(first: Entry, second: Entry, rung: str, test: Test | None) -> str:
    acc1, acc2 = first.rungs[rung]["accuracy"], second.rungs[rung]["accuracy"]
    if acc1 == acc2:
        return f"Rung {rung}: **{first.label}** and **{second.label}** tie at {num(acc1)}."
    return (
        f"Rung {rung}: **{first.label}** leads with {num(acc1)} against {second.label}'s "
        f"{num(acc2)} — {test_text(test)}."
    )


def _overall_sentence(board: Leaderboard, first: Entry, second: Entry) -> str:
    a, b = first.overall, second.overall
    if a["accuracy"] == b["accuracy"]:
        return (
            f"**{first.label}** and **{second.label}** tie overall at accuracy "
            f"{num(a['accuracy'])}."
        )
    return (
        f"**{first.label}** leads overall with accuracy {num(a['accuracy'])} "
        f"{ci(a['ci_low'], a['ci_high'])} against {second.label}'s {num(b['accuracy'])}; "
        f"the lead is {test_text(compare_runs(first.run, second.run, board.paired))}."
    )


def _rung_sentences(board: Leaderboard, entries: list[Entry]) -> list[str]:
    parts = []
    for rung in board.rungs:
        having = [e for e in entries if rung in e.rungs]
        if len(having) < 2:
            continue
        having.sort(key=lambda e: (-e.rungs[rung]["accuracy"], e.rank))
        a, b = having[0], having[1]
        parts.append(_lead_sentence(a, b, rung, compare_runs(a.run, b.run, board.paired, rung)))
    return parts


def render_headline(board: Leaderboard) -> str:
    """The headline paragraph: who leads overall and per rung (tested), the ladder gap
    closed, and the baselines left out of the comparisons."""
    entries, excluded_baselines = _contenders(board)
    if len(entries) == 1:
        e = entries[0]
        return (
            f"Only one {'model' if excluded_baselines else 'run'} is ranked: **{e.label}**, "
            f"accuracy {num(e.overall['accuracy'])} "
            f"{ci(e.overall['ci_low'], e.overall['ci_high'])} on {e.overall['n']} items; "
            "there is nothing to compare it with."
        )
    parts = [_overall_sentence(board, entries[0], entries[1]), *_rung_sentences(board, entries)]
    gaps = sorted(
        ((e.gap_closed, e.label) for e in entries if e.gap_closed is not None), reverse=True
    )
    if gaps:
        parts.append(
            "Ladder gap closed (1 = the truth oracle, 0 = the association-only "
            "oracle, negative = below it): "
            + ", ".join(f"{label} {num(g, 2)}" for g, label in gaps)
            + "."
        )
    if excluded_baselines and len(entries) < len(board.entries):
        base = [e for e in board.entries if e.run.is_baseline]
        parts.append(
            "Baselines are ranked in the table but left out of these comparisons ("
            + ", ".join(f"{e.run.name} {num(e.overall['accuracy'])}" for e in base)
            + ")."
        )
    return " ".join(parts)


# -- markdown -------------------------------------------------------------------------------------


def _rank_text(e: Entry) -> str:
    if e.vs_next is None or e.vs_next.significant:
        return str(e.rank)
    return f"{e.rank} (n.s.)"


def _vs_next_text(e: Entry) -> str:
    t = e.vs_next
    if t is None:
        return "—"
    if isinstance(t, stats.McNemarResult):
        return f"{stats.p_cell(t.p_value)} ({t.b}/{t.c}, {t.method})"
    return f"{stats.p_cell(t.p_value)} (z-test)"


def _ranked_table(board: Leaderboard) -> list[str]:
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
                f"{num(o['accuracy'])} {ci(o['ci_low'], o['ci_high'])}",
                *[num(e.rungs[r]["accuracy"]) if r in e.rungs else "—" for r in board.rungs],
                num(o["brier"]),
                num(o["ece"]),
                num(o["yes_rate"]),
                num(e.gap_closed, 2),
                _vs_next_text(e),
            ]
        )
    return markdown_table(headers, rows, "rlrl" + "r" * len(board.rungs) + "rrrrl")


def _legend(board: Leaderboard) -> list[str]:
    test = (
        "McNemar's paired test on the items both runs scored: b = items this row got right "
        "and the next row wrong, c = the reverse; exact binomial when b + c < "
        f"{stats.MCNEMAR_EXACT_BELOW}, chi-square with continuity correction otherwise"
        if board.paired
        else "an unpaired two-proportion z-test (the runs scored different items)"
    )
    truth_yes = [e.overall["truth_yes_rate"] for e in board.entries]
    yes_note = f" (the true yes-rate is {num(truth_yes[0])})" if board.paired and truth_yes else ""
    gap_rungs = sorted({r for e in board.entries for r in e.gap_rungs}, key=sort_key)
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


def _slice_table(board: Leaderboard, key: str) -> list[str]:
    values = sorted(
        {str(s[key]) for e in board.entries for s in e.run.samples if key in s}, key=sort_key
    )
    if not values:
        return []
    rows = []
    for e in board.entries:
        by_value = groups(e.run.samples, key)
        cells = []
        for v in values:
            g = by_value.get(v, [])
            cells.append(f"{num(summarize(g)['accuracy'])} ({len(g)})" if g else "—")
        rows.append([e.label, *cells])
    return [
        "",
        f"### {key.replace('_', ' ')}",
        "",
        *markdown_table(["model", *values], rows, "l" + "r" * len(values)),
    ]


def _slice_tables(board: Leaderboard) -> list[str]:
    lines = [
        "",
        "## Per slice",
        "",
        "Cells: accuracy (items). Compare rows within a column: each column is one slice.",
    ]
    for key in SLICE_FIELDS:
        lines += _slice_table(board, key)
    return lines


def _runs_table(board: Leaderboard) -> list[str]:
    return markdown_table(
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


def render_markdown(board: Leaderboard, per_slice: bool) -> str:
    """The leaderboard page: headline, warnings, the ranked table, its legend, per-slice
    tables (with ``per_slice``) and the runs."""
    lines = ["# ladder leaderboard", "", board.headline]
    lines += [*warning_lines(board.warnings), ""]
    if board.items_sha256:
        first = board.entries[0].run
        tasks = ", ".join(map(str, ((first.results or {}).get("items") or {}).get("tasks", [])))
        lines += [
            f"All runs scored the same item file: sha256 `{board.items_sha256}` "
            f"({first.n_expected} items{'; tasks ' + tasks if tasks else ''}).",
            "",
        ]
    lines += [*_ranked_table(board), "", *_legend(board)]
    if per_slice:
        lines += _slice_tables(board)
    lines += ["", "## Runs", "", *_runs_table(board)]
    return "\n".join(lines).rstrip() + "\n"


# -- CSV ------------------------------------------------------------------------------------------

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


def _csv_row(e: Entry, rungs: list[str]) -> dict[str, Any]:
    o, t = e.overall, e.vs_next
    row: dict[str, Any] = {
        "rank": e.rank,
        "significant_vs_next": "" if t is None else t.significant,
        "model": e.run.name,
        "run_dir": str(e.run.path),
        "kind": e.run.model.get("kind", ""),
        **{k: o[k] for k in ("correct", "accuracy", "ci_low", "ci_high", "brier", "ece")},
        "items": o["n"],
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
    for r in rungs:
        row[f"rung_{r}"] = e.rungs[r]["accuracy"] if r in e.rungs else ""
    return row


def render_csv(board: Leaderboard) -> str:
    """One CSV row per ranked run (columns :data:`CSV_COLUMNS` with ``rung_<r>`` inserted)."""
    buf = io.StringIO()
    columns = [*CSV_COLUMNS[:10], *[f"rung_{r}" for r in board.rungs], *CSV_COLUMNS[10:]]
    writer = csv.DictWriter(buf, columns, lineterminator="\n")
    writer.writeheader()
    for e in board.entries:
        writer.writerow(_csv_row(e, board.rungs))
    return buf.getvalue()
