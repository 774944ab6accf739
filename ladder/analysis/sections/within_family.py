"""Within families: the paired analyses that items asked of one SCM make possible.

* rung 1 vs 2 vs 3 on the same SCMs (family-level sign test via McNemar, Holm over pairs);
* verbalization invariance (Cochran's Q over the wordings of one question, and the share of
  questions answered alike in all of them);
* twin consistency (P(yes) of a question plus P(yes) of its opposite-polarity twin, which a
  coherent model keeps near 1, and the share of twin pairs answered the same way).

Computed by :mod:`ladder.analysis.paired`; the section is left out when the samples carry
no families (version-1 items, imported benchmarks).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ladder.analysis.markdown import markdown_table, num
from ladder.analysis.multiplicity import significance_wording
from ladder.analysis.paired import rung_comparison, twin_consistency, verbalization_invariance
from ladder.analysis.sections.bias_free import estimate
from ladder.analysis.sections.context import ReportContext
from ladder.core import stats
from ladder.core.records import FAMILY_ID

__all__ = ["has_families", "within_family_section"]


def has_families(samples: list[Mapping[str, Any]]) -> bool:
    """Whether the samples carry item families (contract version 2)."""
    return any(s.get(FAMILY_ID) for s in samples)


def _rung_lines(result: Mapping[str, Mapping[str, Any]]) -> list[str]:
    if not result:
        return ["No family holds questions of two rungs, so rungs cannot be paired here."]
    rows = [
        [
            pair.replace("-", " vs "),
            r["n_families"],
            num(r["accuracy_first"]),
            num(r["accuracy_second"]),
            f"{r['b']} / {r['c']} / {r['ties']}",
            stats.p_cell(r["p_holm"]) if r["p_holm"] is not None else "n/a",
            significance_wording(r["p_holm"], r["n_families"]).split(" (")[0]
            if r["p_holm"] is not None
            else "n/a",
        ]
        for pair, r in result.items()
    ]
    headers = ["rungs", "families", "accuracy first", "accuracy second", "b / c / ties"]
    return [
        *markdown_table([*headers, "p (Holm)", "verdict"], rows, "lrrrlrl"),
        "",
        "Each family is one pair: b = families whose accuracy is higher on the first rung, "
        "c = higher on the second; McNemar's test on (b, c), Holm-corrected over the pairs. "
        "Accuracy here is per family, then averaged.",
    ]


def _invariance_line(v: Mapping[str, Any]) -> str:
    if v.get("p_value") is None:
        return (
            "Verbalization invariance: no question is asked in every wording here "
            f"({v.get('n_questions', 0)} complete questions)."
        )
    words = significance_wording(v["p_value"], v["n_questions"])
    return (
        f"Verbalization invariance: over {v['n_questions']} questions asked in all of "
        f"{', '.join(v['verbalizations'])} ({v['n_families']} families), the same answer is "
        f"given in every wording to {estimate(v['same_answer'])} of them; Cochran's Q = "
        f"{v['q']:.2f} (df {v['df']}) tests whether accuracy depends on the wording: {words}."
    )


def _twin_line(t: Mapping[str, Any]) -> str:
    if not t.get("n_pairs") or t.get("p_sum") is None:
        return "Twin consistency: no polarity twins among these samples."
    both = f"{t['both_yes']} answered yes twice, {t['both_no']} no twice"
    p = "n/a" if t["p_value"] is None else stats.format_p(t["p_value"])
    return (
        f"Twin consistency: over {t['n_pairs']} pairs of opposite-polarity twins, "
        f"P(yes) + P(yes of twin) averages {estimate(t['p_sum'])} (a coherent model keeps it "
        f"at 1; test against 1, family-clustered: {p}); "
        f"{estimate(t['contradictory'])} of pairs are answered contradictorily ({both})."
    )


def within_family_section(ctx: ReportContext) -> list[str]:
    """``## Within families``: the rung pairs, wording invariance and twin consistency."""
    samples = ctx.run.samples
    rungs = rung_comparison(samples)
    invariance = verbalization_invariance(samples)
    twins = twin_consistency(samples)
    ctx.data["within_family"] = {"rungs": rungs, "verbalization": invariance, "twins": twins}
    return [
        "## Within families (paired)",
        "",
        "Questions asked of the same SCM share its numbers and story, so comparisons inside "
        "a family hold the scenario fixed.",
        "",
        *_rung_lines(rungs),
        "",
        _invariance_line(invariance),
        "",
        _twin_line(twins),
    ]
