"""Where it breaks: accuracy by query type × graph family, graph size, verbalization, evidence.

Slice values are read from the samples (filled from ``items.jsonl`` where a sample lacks
them, see :mod:`ladder.analysis.runfiles`). Comparisons between slices hold different
items and use the unpaired two-proportion z-test; slices under :data:`MIN_SLICE` items are
left out of "weakest / strongest" and size-trend sentences.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ladder.analysis import plots
from ladder.analysis.baselines import ASSOC, TRUTH
from ladder.analysis.markdown import ci, markdown_table, num, signed, sort_key
from ladder.analysis.sections.context import ReportContext
from ladder.analysis.slicing import groups, ids
from ladder.core import stats
from ladder.harness.metrics import summarize

__all__ = [
    "MIN_SLICE",
    "evidence_section",
    "extremes",
    "nodes_section",
    "query_family_section",
    "slice_table",
    "verbalization_section",
]

#: Slices with fewer items are left out of "weakest / strongest" and size-trend sentences.
MIN_SLICE = 5


def slice_table(
    ctx: ReportContext, key: str, title: str
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """A table of accuracy per value of ``key`` (with the association oracle's, when there
    is a run of it) and the summaries it shows."""
    by_value = groups(ctx.run.samples, key)
    found = {v: summarize(g) for v, g in by_value.items()}
    has_assoc = ASSOC in ctx.base.samples
    rows = []
    for value, m in found.items():
        row = [value, m["n"], num(m["accuracy"]), ci(m["ci_low"], m["ci_high"])]
        if has_assoc:
            row.append(num(ctx.base.accuracy(ASSOC, ids(by_value[value]))))
        rows.append(row)
    headers = [title, "items", "accuracy", "95% CI"] + (["association oracle"] if has_assoc else [])
    return markdown_table(headers, rows, "lrrl" + ("r" if has_assoc else "")), found


def extremes(summaries: Mapping[str, Mapping[str, Any]], what: str, min_n: int = MIN_SLICE) -> str:
    """The weakest and strongest slice (of at least ``min_n`` items) and an unpaired test."""
    big = {k: v for k, v in summaries.items() if v["n"] >= min_n}
    if len(big) < 2:
        return ""
    lo = min(big, key=lambda k: (big[k]["accuracy"], k))
    hi = max(big, key=lambda k: (big[k]["accuracy"], k))
    a, b = big[lo], big[hi]
    if a["accuracy"] == b["accuracy"]:
        return (
            f"Every {what} with at least {min_n} items scores {num(a['accuracy'])}: no difference."
        )
    test = stats.two_proportion_test(a["correct"], a["n"], b["correct"], b["n"])
    return (
        f"Weakest {what}: **{lo}** ({num(a['accuracy'])}, n = {a['n']}); strongest: "
        f"**{hi}** ({num(b['accuracy'])}, n = {b['n']}), among slices with at least "
        f"{min_n} items; {test.name}: {stats.format_p(test.p_value)} "
        f"({'significant' if test.significant else 'not significant'})."
    )


def _cross(
    qtypes: Mapping[str, Sequence[Mapping[str, Any]]], order: Sequence[str], families: list[str]
) -> tuple[list[list[float]], list[list[int]], list[list[str]]]:
    """Accuracy, counts and table cells of query type (rows) × graph family (columns)."""
    values, counts, cells = [], [], []
    for q in order:
        by_family = groups(qtypes[q], "graph_family")
        found = [by_family.get(f, []) for f in families]
        values.append([summarize(g)["accuracy"] if g else math.nan for g in found])
        counts.append([len(g) for g in found])
        cells.append(
            [
                f"{num(a, 2)} ({len(g)})" if g else "—"
                for a, g in zip(values[-1], found, strict=True)
            ]
        )
    return values, counts, cells


def query_family_section(ctx: ReportContext) -> list[str]:
    """``### By query type and graph family``: a heatmap, its table, and both margins."""
    lines = ["### By query type and graph family", ""]
    qtypes = groups(ctx.run.samples, "query_type")
    families = list(groups(ctx.run.samples, "graph_family"))
    if not qtypes or not families:
        return [*lines, "The samples carry no query type or graph family."]
    rung_of = {q: str(g[0].get("rung", "?")) for q, g in qtypes.items()}
    order = sorted(qtypes, key=lambda q: (sort_key(rung_of[q]), q))
    values, counts, cells = _cross(qtypes, order, families)
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
    rows = [[f"{q} (rung {rung_of[q]})", *row] for q, row in zip(order, cells, strict=True)]
    lines += ["Cells: accuracy (items).", ""]
    lines += markdown_table(["query type", *families], rows, "l" + "r" * len(families))
    for key, title in (("query_type", "query type"), ("graph_family", "graph family")):
        table, found = slice_table(ctx, key, title)
        ctx.data[key] = found
        lines += ["", *table, "", extremes(found, title)]
    return lines


def _nodes_figure(ctx: ReportContext, found: Mapping[str, Mapping[str, Any]]) -> list[str]:
    keys = list(found)
    by_size = groups(ctx.run.samples, "n_nodes")
    base = {
        n: [ctx.base.accuracy(n, ids(by_size[k])) for k in keys]
        for n in (ASSOC, TRUTH)
        if n in ctx.base.samples
    }
    curves = {n: [math.nan if v is None else v for v in vals] for n, vals in base.items()}
    return ctx.figure(
        "nodes",
        lambda p: plots.accuracy_curve(
            p,
            [float(k) for k in keys],
            [found[k]["accuracy"] for k in keys],
            [found[k]["ci_low"] for k in keys],
            [found[k]["ci_high"] for k in keys],
            curves,
            f"{ctx.run.name}: accuracy by number of nodes",
            "nodes in the graph",
        ),
        "accuracy by number of nodes",
    )


def _size_trend(ctx: ReportContext, found: Mapping[str, Mapping[str, Any]]) -> list[str]:
    sized = [k for k in found if found[k]["n"] >= MIN_SLICE]
    if len(sized) < 2:
        return []
    first, last = sized[0], sized[-1]
    a, b = found[first], found[last]
    test = stats.two_proportion_test(a["correct"], a["n"], b["correct"], b["n"])
    ctx.data["n_nodes_test"] = {"from": first, "to": last, "p_value": test.p_value}
    return [
        "",
        f"From {first} to {last} nodes (the extreme sizes with at least "
        f"{MIN_SLICE} items) accuracy goes from "
        f"{num(a['accuracy'])} (n = {a['n']}) to {num(b['accuracy'])} "
        f"(n = {b['n']}); {test.name}: {stats.format_p(test.p_value)} "
        f"({'significant' if test.significant else 'not significant'}).",
    ]


def _slice_section(
    ctx: ReportContext,
    key: str,
    title: str,
    heading: str,
    missing: str,
    body: Callable[[list[str], dict[str, dict[str, Any]]], list[str]],
) -> list[str]:
    """``### <heading>`` and what ``body`` makes of the table of ``key`` (a column ``title``)
    and its summaries, which go to ``ctx.data[key]``; without values, a line saying the
    samples carry no ``missing``."""
    lines = [f"### {heading}", ""]
    table, found = slice_table(ctx, key, title)
    if not found:
        return [*lines, f"The samples carry no {missing}."]
    ctx.data[key] = found
    return [*lines, *body(table, found)]


def nodes_section(ctx: ReportContext) -> list[str]:
    """``### By graph size``: a curve over node counts, its table and the size trend."""

    def body(table: list[str], found: dict[str, dict[str, Any]]) -> list[str]:
        drawn = all(sort_key(k)[0] == 0 for k in found) and len(found) >= 2
        return [*(_nodes_figure(ctx, found) if drawn else []), *table, *_size_trend(ctx, found)]

    return _slice_section(ctx, "n_nodes", "nodes", "By graph size", "node count", body)


def _world_knowledge(ctx: ReportContext, found: Mapping[str, Mapping[str, Any]]) -> str:
    cs, acs = found.get("commonsense"), found.get("anticommonsense")
    others = "; ".join(
        f"{k} {num(v['accuracy'])}"
        for k, v in found.items()
        if k not in ("commonsense", "anticommonsense")
    )
    if not (cs and acs):
        return (
            "World knowledge: this run lacks commonsense or anticommonsense items, so "
            "its effect cannot be measured" + (f" ({others})." if others else ".")
        )
    test = stats.two_proportion_test(cs["correct"], cs["n"], acs["correct"], acs["n"])
    diff = cs["accuracy"] - acs["accuracy"]
    ctx.data["world_knowledge"] = {"diff": diff, "p_value": test.p_value}
    if not test.significant:
        verdict = (
            "no significant difference, so no evidence here that world knowledge helps or misleads"
        )
    elif diff > 0:
        verdict = (
            "world knowledge helps when the story agrees with it and misleads when "
            "it contradicts it"
        )
    else:
        verdict = "the model does better when the story contradicts common sense"
    return (
        f"World knowledge: commonsense {num(cs['accuracy'])} vs anticommonsense "
        f"{num(acs['accuracy'])} ({signed(diff)}; {test.name}, "
        f"{stats.format_p(test.p_value)}): {verdict}"
        + (f" (for reference: {others})." if others else ".")
    )


def verbalization_section(ctx: ReportContext) -> list[str]:
    """``### By verbalization``: its table and the commonsense/anticommonsense comparison."""
    return _slice_section(
        ctx,
        "verbalization",
        "verbalization",
        "By verbalization",
        "verbalization",
        lambda table, found: [*table, "", _world_knowledge(ctx, found)],
    )


def _evidence_body(table: list[str], found: Mapping[str, Mapping[str, Any]]) -> list[str]:
    if len(found) == 1:
        return [*table, "", f"Only one evidence mode ({next(iter(found))}) is in this run."]
    return [*table, "", extremes(found, "evidence mode")]


def evidence_section(ctx: ReportContext) -> list[str]:
    """``### By evidence mode``: its table and the weakest / strongest mode."""
    return _slice_section(
        ctx, "evidence", "evidence", "By evidence mode", "evidence mode", _evidence_body
    )
