"""The leaderboard's text: its computed headline, the markdown page and the CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from ladder.analysis.markdown import markdown_table, num, sort_key, warning_lines
from ladder.analysis.ranking import Entry, Leaderboard, compare_runs, test_text
from ladder.analysis.sections.bias_free import estimate
from ladder.analysis.slicing import groups
from ladder.core import stats
from ladder.harness.metrics import SLICE_FIELDS, summarize

__all__ = ["CSV_COLUMNS", "render_csv", "render_headline", "render_markdown"]


# -- headline -------------------------------------------------------------------------------------


def _contenders(board: Leaderboard) -> tuple[list[Entry], bool]:
    models = [e for e in board.entries if not e.run.is_baseline]
    return (models, True) if models else (list(board.entries), False)


def _auroc_text(e: Entry) -> str:
    return estimate(e.measures.get("auroc"))


def _lead_sentence(first: Entry, second: Entry) -> str:
    d = first.auroc_vs_next if first.rank + 1 == second.rank else None
    diff = (
        f"; paired difference {estimate(d)}"
        if d is not None and d.get("estimate") is not None
        else ""
    )
    clear = "clear" if first.lead_significant else "not clear (its interval includes 0)"
    return (
        f"**{first.label.replace('**', '')}** ranks first with AUROC {_auroc_text(first)} against "
        f"{second.label}'s {_auroc_text(second)}{diff}: the lead is {clear}. Accuracy "
        f"{num(first.overall['accuracy'])} vs {num(second.overall['accuracy'])}; "
        f"McNemar on correctness: {test_text(compare_runs(first.run, second.run, True))}."
    )


def _chance_sentence(entries: list[Entry]) -> str:
    at_chance = [e.label for e in entries if e.at_chance]
    if not at_chance:
        return "Every model ranked here separates yes- from no-items better than chance."
    if len(at_chance) == len(entries):
        return (
            "**No model here is distinguishable from chance**: every AUROC interval includes "
            "0.5 and no clustered test of Youden's J rejects, so the ranking among them says "
            "nothing about causal reasoning."
        )
    return f"Indistinguishable from chance: {', '.join(at_chance)}."


def render_headline(board: Leaderboard) -> str:
    """The headline paragraph: ranked by AUROC (why), whether the leader is above chance,
    its lead over the next, the ladder gap closed, and the baselines left out."""
    entries, excluded_baselines = _contenders(board)
    intro = (
        "Ranked by AUROC of P(yes) against the true answer, which an answer bias cannot "
        "raise (always yes, always no or yes at random all score 0.5)."
    )
    if len(entries) == 1:
        e = entries[0]
        return (
            f"{intro} Only one {'model' if excluded_baselines else 'run'} is ranked: "
            f"**{e.label}**, AUROC {_auroc_text(e)} on {e.overall['n']} items; "
            f"{_chance_sentence(entries)}"
        )
    parts = [intro, _chance_sentence(entries)]
    if not entries[0].at_chance:
        parts.append(_lead_sentence(entries[0], entries[1]))
    gaps = [e for e in entries if e.gap_interval.get("estimate") is not None]
    if gaps:
        parts.append(
            "Ladder gap closed (1 = the truth oracle, 0 = the association-only oracle, "
            "negative = below it; 95% cluster-bootstrap intervals): "
            + ", ".join(f"{e.label} {estimate(e.gap_interval, 2)}" for e in gaps)
            + "."
        )
    if excluded_baselines and len(entries) < len(board.entries):
        base = [e for e in board.entries if e.run.is_baseline]
        parts.append(
            "Baselines are ranked in the table but left out of these sentences ("
            + ", ".join(f"{e.run.name} AUROC {num(e.auroc)}" for e in base)
            + ")."
        )
    return " ".join(parts)


# -- markdown -------------------------------------------------------------------------------------


def _rank_text(e: Entry) -> str:
    if e.lead_significant is None or e.lead_significant:
        return str(e.rank)
    return f"{e.rank} (n.s.)"


def _vs_next_text(e: Entry) -> str:
    t = e.vs_next
    if t is None:
        return "—"
    diff = estimate(e.auroc_vs_next) if e.auroc_vs_next else "n/a"
    if isinstance(t, stats.McNemarResult):
        return f"{diff}; McNemar {stats.p_cell(t.p_value)} ({t.b}/{t.c})"
    return f"{diff}; z-test {stats.p_cell(t.p_value)}"


def _ranked_table(board: Leaderboard) -> list[str]:
    headers = [
        "rank",
        "model",
        "items",
        "AUROC [95% CI]",
        "chance?",
        "balanced accuracy [95% CI]",
        "accuracy [95% CI]",
        "majority baseline",
        *[f"AUROC rung {r}" for r in board.rungs],
        "yes-rate",
        "Brier",
        "ladder gap closed [95% CI]",
        "vs next: ΔAUROC [95% CI]; McNemar p (b/c)",
    ]
    rows = []
    for e in board.entries:
        o, m = e.overall, e.measures
        rows.append(
            [
                _rank_text(e),
                e.label,
                o["n"],
                estimate(m.get("auroc")),
                "≈ chance" if e.at_chance else "above" if (e.auroc or 0) > 0.5 else "below",
                estimate(m.get("balanced_accuracy")),
                estimate(m.get("accuracy")),
                num((m.get("majority") or {}).get("estimate")),
                *[num((e.rung_auroc.get(r) or {}).get("estimate")) for r in board.rungs],
                num(o["yes_rate"]),
                num(o["brier"]),
                estimate(e.gap_interval, 2) if e.gap_interval else "n/a",
                _vs_next_text(e),
            ]
        )
    return markdown_table(headers, rows, "rlrllllr" + "r" * len(board.rungs) + "rrll")


def _legend(board: Leaderboard) -> list[str]:
    test = (
        "McNemar's paired test on correctness: b = items this row got right and the next "
        "row wrong, c = the reverse"
        if board.paired
        else "an unpaired two-proportion z-test (the runs scored different items)"
    )
    truth_yes = [e.overall["truth_yes_rate"] for e in board.entries]
    yes_note = f" (the true yes-rate is {num(truth_yes[0])})" if board.paired and truth_yes else ""
    return [
        "**How to read this table**",
        "",
        "- **rank**: order by **AUROC** of P(yes) against the true answer: the chance that "
        "the model gives a random yes-item a higher P(yes) than a random no-item. It is "
        "threshold-free and immune to answer bias (a model that says yes, or no, regardless "
        "scores 0.5 whatever the labels' base rate), which accuracy is not. **(n.s.)**: the "
        "paired 95% interval of the AUROC difference to the row below includes 0.",
        "- **chance?**: *≈ chance* when the AUROC interval includes 0.5 and the clustered "
        "test of Youden's J = 0 (J = 2 × balanced accuracy − 1) does not reject.",
        "- **balanced accuracy**: mean of the recall on yes-items and on no-items (0.5 for any "
        "constant answer). **accuracy** beside the **majority baseline** (always giving the "
        "more common answer): accuracy above 0.5 means nothing unless it beats that.",
        "- Intervals: 95% cluster bootstrap over item families (over items when the items "
        "carry no families), 1,000 replicates.",
        f"- **yes-rate**: share of answers that are yes{yes_note}. **Brier**: mean squared "
        "error of P(yes), lower is better.",
        "- **ladder gap closed**: mean, over rungs where the truth oracle beats the "
        f"association-only oracle by at least {stats.MIN_GAP}, of (model − association) / "
        "(truth − association): 0 = a perfect rung-1 (associational) reasoner, 1 = the "
        "truth, negative = worse than association.",
        f"- **vs next**: the paired bootstrap AUROC difference to the row below, and {test}.",
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
    "auroc",
    "auroc_low",
    "auroc_high",
    "at_chance",
    "balanced_accuracy",
    "balanced_accuracy_low",
    "balanced_accuracy_high",
    "majority_baseline",
    "correct",
    "accuracy",
    "ci_low",
    "ci_high",
    "brier",
    "ece",
    "yes_rate",
    "truth_yes_rate",
    "ladder_gap_closed",
    "gap_low",
    "gap_high",
    "gap_rungs",
    "vs_next_auroc_diff",
    "vs_next_auroc_diff_low",
    "vs_next_auroc_diff_high",
    "vs_next_test",
    "vs_next_p",
    "vs_next_b",
    "vs_next_c",
    "items_sha256",
    "fingerprint",
)


def _interval_cells(name: str, m: Any) -> dict[str, Any]:
    """``{name, name_low, name_high}`` of an interval dict ("" where undefined)."""
    m = m or {}
    return {
        name: "" if m.get("estimate") is None else m["estimate"],
        f"{name}_low": "" if m.get("low") is None else m["low"],
        f"{name}_high": "" if m.get("high") is None else m["high"],
    }


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
        **_interval_cells("auroc", e.measures.get("auroc")),
        "at_chance": e.at_chance,
        **_interval_cells("balanced_accuracy", e.measures.get("balanced_accuracy")),
        "majority_baseline": (e.measures.get("majority") or {}).get("estimate", ""),
        **{
            k.replace("ladder_gap_closed", "gap"): v
            for k, v in _interval_cells("ladder_gap_closed", e.gap_interval).items()
            if k != "ladder_gap_closed"
        },
        **_interval_cells("vs_next_auroc_diff", e.auroc_vs_next),
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
    cut = CSV_COLUMNS.index("brier")
    columns = [*CSV_COLUMNS[:cut], *[f"rung_{r}" for r in board.rungs], *CSV_COLUMNS[cut:]]
    writer = csv.DictWriter(buf, columns, lineterminator="\n")
    writer.writeheader()
    for e in board.entries:
        writer.writerow(_csv_row(e, board.rungs))
    return buf.getvalue()
