"""Headline: overall and per-rung accuracy beside the bias-free measures, whether the model
beats chance, the rung-to-rung changes, and the smallest difference these sizes can detect.

Accuracy alone rewards an answer bias that happens to match the labels' base rate, so every
accuracy comes with balanced accuracy, AUROC of ``p_yes`` against the truth and against the
association answer, and the majority baseline (:mod:`.bias_free`). When the rungs hold
different items, a change from one rung to the next is tested with the unpaired pooled
two-proportion z-test (:func:`ladder.core.stats.two_proportion_test`); when the items come
in families spanning rungs, the paired section tests the rungs within families.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ladder.analysis import plots
from ladder.analysis.baselines import ASSOC, TRUTH
from ladder.analysis.markdown import markdown_table, num, signed
from ladder.analysis.multiplicity import minimal_detectable_difference, significance_wording
from ladder.analysis.sections.bias_free import (
    chance_sentence,
    estimate,
    measure_rows,
    measure_table,
    unit_sentence,
)
from ladder.analysis.sections.context import ReportContext
from ladder.analysis.slicing import groups, ids, summaries
from ladder.core import stats
from ladder.harness.metrics import summarize

__all__ = ["headline_section", "rung_step"]

STEPS = (("1", "2"), ("2", "3"))


def rung_step(
    lo: str, hi: str, rungs: Mapping[str, Mapping[str, Any]]
) -> tuple[dict[str, Any] | None, list[Any] | None, str]:
    """The change from rung ``lo`` to ``hi``: its numbers, table row and sentence
    (numbers and row are None when a rung has no scored item)."""
    if lo not in rungs or hi not in rungs:
        missing = [r for r in (lo, hi) if r not in rungs]
        return (
            None,
            None,
            f"Rung {lo} → {hi}: no comparison (rung {', '.join(missing)} has no scored items).",
        )
    a, b = rungs[lo], rungs[hi]
    test = stats.two_proportion_test(a["correct"], a["n"], b["correct"], b["n"])
    change = b["accuracy"] - a["accuracy"]
    numbers = {
        "from": a["accuracy"],
        "to": b["accuracy"],
        "change": change,
        "z": test.statistic,
        "p_value": test.p_value,
    }
    verdict = significance_wording(test.p_value, min(a["n"], b["n"])).split(" (")[0]
    row = [
        f"rung {lo} → {hi}",
        num(a["accuracy"]),
        num(b["accuracy"]),
        signed(change),
        f"{test.statistic:.2f}",
        stats.p_cell(test.p_value),
        verdict,
    ]
    direction = "drops" if change < 0 else "rises" if change > 0 else "stays"
    sentence = (
        f"From rung {lo} to rung {hi} accuracy {direction} by {num(abs(change))} "
        f"({num(a['accuracy'])} → {num(b['accuracy'])}); {test.name}, because the rungs "
        f"hold different items: z = {test.statistic:.2f}, {stats.format_p(test.p_value)} — "
        f"{verdict}."
    )
    return numbers, row, sentence


def _steps(ctx: ReportContext, rungs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    drops: dict[str, dict[str, Any]] = {}
    rows, sentences = [], []
    for lo, hi in STEPS:
        numbers, row, sentence = rung_step(lo, hi, rungs)
        if numbers is not None and row is not None:
            drops[f"{lo}->{hi}"] = numbers
            rows.append(row)
        sentences.append(sentence)
    ctx.data["drops"] = drops
    lines: list[str] = []
    if rows:
        headers = ["step", "from", "to", "change", "z", "p", f"at {stats.ALPHA}"]
        lines += [*markdown_table(headers, rows, "lrrrrrl"), ""]
    return [*lines, " ".join(sentences)]


def _rung_figure(ctx: ReportContext, found: Mapping[str, Mapping[str, Any]]) -> list[str]:
    by_rung = groups(ctx.run.samples, "rung")
    shown = {
        n: [ctx.base.accuracy(n, ids(by_rung[r])) for r in found]
        for n in (ASSOC, TRUTH, "random")
        if n in ctx.base.samples
    }
    lines = {n: [math.nan if v is None else v for v in vals] for n, vals in shown.items()}
    lines["majority baseline"] = [m["majority"]["estimate"] for m in found.values()]

    def _part(key: str, part: str) -> list[float]:
        return [math.nan if m[key][part] is None else m[key][part] for m in found.values()]

    return ctx.figure(
        "rungs",
        lambda p: plots.rung_accuracy(
            p,
            list(found),
            _part("balanced_accuracy", "estimate"),
            _part("balanced_accuracy", "low"),
            _part("balanced_accuracy", "high"),
            lines,
            f"{ctx.run.name}: balanced accuracy per rung (95% CI), baselines' accuracy",
            measure="balanced accuracy",
        ),
        "balanced accuracy per rung with baselines",
    )


def _mdd_line(rungs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    sizes = [m["n"] for m in rungs.values()]
    if len(sizes) < 2:
        return []
    a, b = sorted(sizes)[:2]
    mdd = minimal_detectable_difference(a, b)
    if mdd is None:
        return []
    return [
        "",
        f"At these sizes (the two smallest rungs: {a} and {b} items) the smallest accuracy "
        f"difference a two-sided test at 0.05 detects with 80% power is about {num(mdd, 2)} "
        "(treating items as independent; families make it larger): smaller true differences "
        "between rungs would usually go unseen.",
    ]


def headline_section(ctx: ReportContext) -> list[str]:
    """``## Headline``: overall measures, whether the model beats chance, the per-rung
    table, rung changes, the detectable difference and a figure."""
    samples = ctx.run.samples
    overall = summarize(samples)
    rungs = summaries(samples, "rung")
    ctx.data["overall"] = overall
    ctx.data["rungs"] = rungs
    _, found_all = measure_rows({"all": samples})
    m = ctx.data["measures"] = found_all["all"]
    table, found = measure_table(groups(samples, "rung"), "rung")
    ctx.data["rung_measures"] = found
    lines = [
        "## Headline",
        "",
        f"Accuracy **{estimate(m['accuracy'])}** on "
        f"{overall['n']} items ({overall['correct']} correct), against "
        f"{num(m['majority']['estimate'])} for always answering "
        f'"{m["majority"].get("answer")}" (the majority baseline). Balanced accuracy '
        f"**{estimate(m['balanced_accuracy'])}**; AUROC of P(yes) against the true answer "
        f"**{estimate(m['auroc'])}**, against the association answer "
        f"{estimate(m['auroc_association'])}. The model says yes to "
        f"{num(m['yes_rate'])} of items; the true share is {num(overall['truth_yes_rate'])}.",
        "",
        chance_sentence("Overall, the model", m),
        "",
        unit_sentence(samples) + " *J > 0* is the test that the model says yes more often to "
        "yes-items than to no-items (Youden's J = 2 × balanced accuracy − 1, least squares "
        "with family-clustered errors), Holm-corrected over the rows.",
        "",
        *table,
    ]
    lines += ["", *_steps(ctx, rungs), *_mdd_line(rungs)]
    if found:
        lines += _rung_figure(ctx, found)
    return lines
