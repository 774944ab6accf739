"""Where it breaks: the bias-free measures by query type × graph family, graph size,
verbalization and evidence mode, each slicing tested once.

Slice values are read from the samples (filled from ``items.jsonl`` where a sample lacks
them, see :mod:`ladder.analysis.runfiles`). Each slicing gets one joint test of "accuracy is
the same in every slice" and one of "discrimination (Youden's J) is the same in every slice"
(clustered Wald tests, :mod:`ladder.analysis.multiplicity` and
:mod:`ladder.analysis.discrimination`) — never the two extreme slices against each other,
which fires far above its nominal rate when there is no difference. Per-slice "better than
chance" p-values are Holm-corrected within the slicing, and no group under
:data:`~ladder.analysis.multiplicity.MIN_GROUP` items is called significant or not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ladder.analysis import plots
from ladder.analysis.discrimination import joint_discrimination_test
from ladder.analysis.markdown import markdown_table, num, signed, sort_key
from ladder.analysis.measures import measures
from ladder.analysis.multiplicity import (
    MIN_CLUSTERS,
    MIN_GROUP,
    joint_slice_test,
    significance_wording,
)
from ladder.analysis.sections.bias_free import measure_table
from ladder.analysis.sections.context import ReportContext
from ladder.analysis.slicing import groups
from ladder.core.records import FAMILY_ID
from ladder.harness.metrics import summarize

__all__ = [
    "SIZE_BINS",
    "evidence_section",
    "joint_lines",
    "nodes_section",
    "query_family_section",
    "size_bin",
    "slice_table",
    "verbalization_section",
]

Record = Mapping[str, Any]
#: Node-count bins of the size plot and table: (label, smallest, largest).
SIZE_BINS = (("3", 3, 3), ("4", 4, 4), ("5–6", 5, 6), ("7–9", 7, 9), ("10+", 10, 10**6))


def size_bin(n_nodes: Any) -> str | None:
    """The :data:`SIZE_BINS` label of a node count (None when it has none).

    >>> size_bin(3), size_bin(6), size_bin(12), size_bin(None)
    ('3', '5–6', '10+', None)
    """
    if n_nodes is None:
        return None
    n = int(n_nodes)
    return next((label for label, lo, hi in SIZE_BINS if lo <= n <= hi), str(n))


def slice_table(
    ctx: ReportContext, parts: Mapping[str, Sequence[Record]], title: str
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """The bias-free table of ``parts`` and, per slice, :func:`summarize` with the
    measures under ``"measures"``."""
    table, found = measure_table(parts, title)
    out = {v: {**summarize(g), "measures": found[v]} for v, g in parts.items()}
    return table, out


def _test_words(test: Mapping[str, Any], what: str, few: str | None) -> str:
    if test.get("p_value") is None:
        return f"{what}: not testable ({test.get('note', 'undefined')})"
    if few:
        return f"{what}: not tested ({few})"
    smallest = min((test.get("sizes") or {"": test["n"]}).values())
    df = test["df"]
    words = significance_wording(test["p_value"], smallest).replace("adjusted p", "p")
    return f"{what}: F({df[0]}, {df[1]}) = {test['statistic']:.2f}, {words}"


def _few_clusters(samples: Sequence[Record], key: str) -> str | None:
    """Why a clustered joint test over ``key`` is not made: a slice with too few families."""
    if not any(s.get(FAMILY_ID) for s in samples):
        return None
    counts = {v: len({s.get(FAMILY_ID) for s in g}) for v, g in groups(samples, key).items()}
    if not counts or min(counts.values()) >= MIN_CLUSTERS:
        return None
    smallest = min(counts, key=lambda v: counts[v])
    return (
        f"the smallest slice, {smallest}, holds {counts[smallest]} families, fewer than "
        f"{MIN_CLUSTERS}: cluster-robust tests on so few are too liberal"
    )


def joint_lines(ctx: ReportContext, samples: Sequence[Record], key: str, what: str) -> list[str]:
    """One joint test per slicing, for accuracy and for discrimination (numbers go to
    ``ctx.data["joint_tests"][key]``); ``what`` is the slices' plural name."""
    acc = joint_slice_test(samples, key)
    disc = joint_discrimination_test(samples, key)
    few = _few_clusters(samples, key)
    caveat = (
        " Intervals of slices with so few families understate the uncertainty (a bootstrap "
        "cannot see more variation than its handful of families show)."
        if few
        else ""
    )
    ctx.data.setdefault("joint_tests", {})[key] = {
        "accuracy": acc,
        "discrimination": disc,
        "tested": few is None,
    }
    left = disc.get("left_out") or []
    note = f" ({', '.join(left)} left out: one answer class)" if left else ""
    return [
        "",
        f"One test per slicing, clustered by family, across {what}: "
        + _test_words(acc, "accuracy equal in every slice", few)
        + "; "
        + _test_words(disc, "discrimination (Youden's J) equal in every slice" + note, few)
        + ". Accuracy differences between slices can come from answer bias alone when the "
        "slices' yes-rates differ; the discrimination test cannot." + caveat,
    ]


def _cross(
    qtypes: Mapping[str, Sequence[Record]], order: Sequence[str], families: list[str]
) -> dict[str, list[list[Any]]]:
    """Accuracy with clustered intervals, counts and table cells of query type × family."""
    out: dict[str, list[list[Any]]] = {"values": [], "low": [], "high": [], "counts": []}
    out["cells"] = []
    for q in order:
        by_family = groups(qtypes[q], "graph_family")
        found = [by_family.get(f, []) for f in families]
        accs = [measures(g, n_boot=400)["accuracy"] if g else None for g in found]
        out["values"].append([a["estimate"] if a else math.nan for a in accs])
        out["low"].append([a["low"] if a else math.nan for a in accs])
        out["high"].append([a["high"] if a else math.nan for a in accs])
        out["counts"].append([len(g) for g in found])
        out["cells"].append(
            [
                f"{num(a['estimate'], 2)} ({len(g)})" if a else "—"
                for a, g in zip(accs, found, strict=True)
            ]
        )
    return out


def query_family_section(ctx: ReportContext) -> list[str]:
    """``### By query type and graph family``: a heatmap, its table, and both margins."""
    lines = ["### By query type and graph family", ""]
    samples = ctx.run.samples
    qtypes = groups(samples, "query_type")
    families = list(groups(samples, "graph_family"))
    if not qtypes or not families:
        return [*lines, "The samples carry no query type or graph family."]
    rung_of = {q: str(g[0].get("rung", "?")) for q, g in qtypes.items()}
    order = sorted(qtypes, key=lambda q: (sort_key(rung_of[q]), q))
    cross = _cross(qtypes, order, families)
    ctx.data["query_family"] = {
        "rows": order,
        "cols": families,
        "accuracy": cross["values"],
        "counts": cross["counts"],
    }
    lines += ctx.figure(
        "query-family",
        lambda p: plots.heatmap(
            p,
            [f"{q} (r{rung_of[q]})" for q in order],
            families,
            cross["values"],
            cross["counts"],
            f"{ctx.run.name}: accuracy by query type × graph family (95% CI, n)",
            "graph family",
            "query type",
            low=cross["low"],
            high=cross["high"],
        ),
        "accuracy by query type and graph family",
    )
    rows = [[f"{q} (rung {rung_of[q]})", *r] for q, r in zip(order, cross["cells"], strict=True)]
    lines += [
        "Cells: accuracy (items). Many cells hold one answer class or a handful of items, "
        "so read them against the majority baseline in the tables below, not as findings.",
        "",
    ]
    lines += markdown_table(["query type", *families], rows, "l" + "r" * len(families))
    for key, title in (("query_type", "query type"), ("graph_family", "graph family")):
        table, found = slice_table(ctx, groups(samples, key), title)
        ctx.data[key] = found
        lines += [
            "",
            *table,
            *joint_lines(ctx, samples, key, f"{title.replace('family', 'familie')}s"),
        ]
    return lines


def _nodes_figure(ctx: ReportContext, found: Mapping[str, Mapping[str, Any]]) -> list[str]:
    keys = list(found)

    def part(k: str, p: str) -> float:
        v = found[k]["measures"]["balanced_accuracy"][p]
        return math.nan if v is None else v

    majority = [found[k]["measures"]["majority"]["estimate"] for k in keys]
    return ctx.figure(
        "nodes",
        lambda p: plots.accuracy_curve(
            p,
            keys,
            [part(k, "estimate") for k in keys],
            [part(k, "low") for k in keys],
            [part(k, "high") for k in keys],
            {"majority baseline (accuracy)": majority},
            f"{ctx.run.name}: balanced accuracy by graph size (95% CI)",
            "nodes in the graph (bins)",
            counts=[found[k]["n"] for k in keys],
            measure="balanced accuracy",
        ),
        "balanced accuracy by graph size",
    )


def nodes_section(ctx: ReportContext) -> list[str]:
    """``### By graph size``: node counts binned, a point plot (no lines across bins), its
    table and one joint test."""
    lines = ["### By graph size", ""]
    binned = [{**s, "size_bin": size_bin(s.get("n_nodes"))} for s in ctx.run.samples]
    parts = groups(binned, "size_bin")
    parts = {label: parts[label] for label, _, _ in SIZE_BINS if label in parts}
    if not parts:
        return [*lines, "The samples carry no node count."]
    table, found = slice_table(ctx, parts, "nodes")
    ctx.data["n_nodes"] = found
    small = [k for k, v in found.items() if v["n"] < MIN_GROUP]
    caveat = (
        f" Bins with fewer than {MIN_GROUP} items ({', '.join(small)}) are shown but carry "
        "no claim."
        if small
        else ""
    )
    figure = _nodes_figure(ctx, found) if len(found) >= 2 else []
    return [
        *lines,
        *figure,
        *table,
        *joint_lines(ctx, binned, "size_bin", "size bins"),
        "",
        "No trend is read off the bins: the joint tests above are the claim." + caveat,
    ]


def _world_knowledge(ctx: ReportContext, found: Mapping[str, Mapping[str, Any]]) -> str:
    cs, acs = found.get("commonsense"), found.get("anticommonsense")
    if not (cs and acs):
        return (
            "World knowledge: this run lacks commonsense or anticommonsense items, so "
            "its effect cannot be measured."
        )
    pair = [
        s for s in ctx.run.samples if s.get("verbalization") in ("commonsense", "anticommonsense")
    ]
    test = joint_slice_test(pair, "verbalization")
    diff = cs["accuracy"] - acs["accuracy"]
    ctx.data["world_knowledge"] = {"diff": diff, "p_value": test["p_value"]}
    if test["p_value"] is None:
        return f"World knowledge: commonsense vs anticommonsense not testable ({test['note']})."
    words = significance_wording(test["p_value"], min(cs["n"], acs["n"])).replace("adjusted p", "p")
    return (
        f"World knowledge (one planned comparison): commonsense {num(cs['accuracy'])} vs "
        f"anticommonsense {num(acs['accuracy'])} ({signed(diff)}; clustered Wald test: {words})."
    )


def verbalization_section(ctx: ReportContext) -> list[str]:
    """``### By verbalization``: its table, the joint tests and commonsense vs
    anticommonsense."""
    lines = ["### By verbalization", ""]
    parts = groups(ctx.run.samples, "verbalization")
    if not parts:
        return [*lines, "The samples carry no verbalization."]
    table, found = slice_table(ctx, parts, "verbalization")
    ctx.data["verbalization"] = found
    joint = joint_lines(ctx, ctx.run.samples, "verbalization", "verbalizations")
    return [*lines, *table, *joint, "", _world_knowledge(ctx, found)]


def evidence_section(ctx: ReportContext) -> list[str]:
    """``### By evidence mode``: its table and one joint test."""
    lines = ["### By evidence mode", ""]
    parts = groups(ctx.run.samples, "evidence")
    if not parts:
        return [*lines, "The samples carry no evidence mode."]
    table, found = slice_table(ctx, parts, "evidence")
    ctx.data["evidence"] = found
    if len(found) == 1:
        return [*lines, *table, "", f"Only one evidence mode ({next(iter(found))}) is in this run."]
    return [*lines, *table, *joint_lines(ctx, ctx.run.samples, "evidence", "evidence modes")]
