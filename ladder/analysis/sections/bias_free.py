"""Tables and sentences shared by the report sections: accuracy always beside the measures
an answer bias cannot fake (balanced accuracy, AUROC of ``p_yes``, the majority baseline),
each with a 95% interval clustered by item family where items come in families.

:func:`ladder.analysis.measures.measures` computes the numbers; this module only words and
lays them out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ladder.analysis.discrimination import discrimination_test
from ladder.analysis.markdown import markdown_table, num
from ladder.analysis.measures import measures
from ladder.analysis.multiplicity import (
    MIN_CLUSTERS,
    MIN_GROUP,
    corrected,
    significance_wording,
)
from ladder.core import stats
from ladder.core.records import FAMILY_ID

__all__ = [
    "HEADERS",
    "chance_sentence",
    "estimate",
    "measure_rows",
    "measure_table",
    "testable",
    "unit_sentence",
]

Record = Mapping[str, Any]

#: Columns of :func:`measure_table` after the slice label.
HEADERS = [
    "items",
    "clusters",
    "accuracy [95% CI]",
    "majority baseline",
    "balanced accuracy [95% CI]",
    "AUROC vs truth [95% CI]",
    "AUROC vs association",
    "J > 0: p (Holm)",
]


def estimate(m: Mapping[str, Any] | None, nd: int = 3) -> str:
    """An interval dict as ``0.512 [0.480, 0.545]``; ``n/a`` when undefined.

    >>> estimate({"estimate": 0.5, "low": 0.4, "high": 0.6}), estimate(None)
    ('0.500 [0.400, 0.600]', 'n/a')
    """
    if not m or m.get("estimate") is None:
        return "n/a"
    if m.get("low") is None or m.get("high") is None:
        return num(m["estimate"], nd)
    return f"{num(m['estimate'], nd)} [{num(m['low'], nd)}, {num(m['high'], nd)}]"


def measure_rows(
    parts: Mapping[str, Sequence[Record]], seed: int = 0
) -> tuple[list[list[Any]], dict[str, dict[str, Any]]]:
    """Table rows for ``{slice: samples}`` and the numbers behind them (``measures`` plus
    ``discrimination`` and ``p_holm``, the Holm-adjusted p of J = 0 over these slices)."""
    found: dict[str, dict[str, Any]] = {}
    for label, group in parts.items():
        found[label] = {**measures(group, seed=seed), "discrimination": discrimination_test(group)}
    adjusted = corrected(
        [found[k]["discrimination"]["p_value"] if testable(found[k]) else None for k in found]
    )
    rows = []
    for (label, m), p in zip(found.items(), adjusted, strict=True):
        m["p_holm"] = p
        majority = m["majority"]
        rows.append(
            [
                label,
                m["n"],
                m["n_clusters"] if m["clusters"] != "items" else "—",
                estimate(m["accuracy"]),
                f"{num(majority['estimate'])} ({majority.get('answer', '?')})",
                estimate(m["balanced_accuracy"]),
                estimate(m["auroc"]),
                estimate(m["auroc_association"]),
                "n/a" if p is None else stats.p_cell(p),
            ]
        )
    return rows, found


def testable(m: Mapping[str, Any]) -> bool:
    """Whether a clustered test of this group is trustworthy: at least
    :data:`~ladder.analysis.multiplicity.MIN_CLUSTERS` families (items count as their own
    families when the items carry none)."""
    return m["clusters"] == "items" or m["n_clusters"] >= MIN_CLUSTERS


def measure_table(
    parts: Mapping[str, Sequence[Record]], title: str, seed: int = 0
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """The markdown table of :func:`measure_rows` under a ``title`` column."""
    rows, found = measure_rows(parts, seed)
    return markdown_table([title, *HEADERS], rows, "lrrlllllr"), found


def unit_sentence(samples: Sequence[Record]) -> str:
    """Which unit the intervals resample: families when the items carry them."""
    if any(s.get(FAMILY_ID) for s in samples):
        return (
            "Intervals are 95% cluster-bootstrap intervals that resample whole item families "
            "(questions asked of one SCM share its numbers, so they are not independent)."
        )
    return "Intervals are 95% bootstrap intervals over items (these items carry no families)."


def chance_sentence(what: str, m: Mapping[str, Any], n_min: int | None = None) -> str:
    """Whether ``what`` separates yes-items from no-items better than chance, from the
    clustered test of Youden's J = 0 (J = 2 × balanced accuracy − 1)."""
    d = m["discrimination"]
    if d.get("youden") is None:
        return f"{what}: one answer class only, so chance cannot be told from skill here."
    n = n_min if n_min is not None else m["n"]
    if not testable(m):
        return f"{what}: {m['n_clusters']} families, too few to test (fewer than {MIN_CLUSTERS})."
    if d.get("p_value") is None:
        return f"{what} gives one answer to every item: balanced accuracy 0.5, no skill."
    if n < MIN_GROUP:
        return f"{what}: {significance_wording(d['p_value'], n)}."
    ba = f"balanced accuracy {estimate(m['balanced_accuracy'])}"
    if d["p_value"] < stats.ALPHA and d["youden"] > 0:
        return f"{what} separates yes- from no-items better than chance ({ba}; J > 0, " + (
            f"{stats.format_p(d['p_value'])})."
        )
    if d["p_value"] < stats.ALPHA:
        return f"{what} answers *against* the truth more often than chance ({ba})."
    return (
        f"{what} is not distinguishable from chance ({ba}; test of J = 0: "
        f"{stats.format_p(d['p_value'])})."
    )
