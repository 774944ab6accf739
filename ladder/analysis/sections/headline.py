"""Headline: overall and per-rung accuracy with Wilson intervals, and the rung-to-rung changes.

The rungs hold different items, so a change from one rung to the next is tested with the
unpaired pooled two-proportion z-test (:func:`ladder.core.stats.two_proportion_test`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ladder.analysis import plots
from ladder.analysis.baselines import ASSOC, TRUTH
from ladder.analysis.markdown import ci, markdown_table, num, signed
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
    verdict = "significant" if test.significant else "not significant"
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
        f"{verdict} at {stats.ALPHA}."
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


def _rung_figure(ctx: ReportContext, rungs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    by_rung = groups(ctx.run.samples, "rung")
    shown = {
        n: [ctx.base.accuracy(n, ids(by_rung[r])) for r in rungs]
        for n in (ASSOC, TRUTH, "random")
        if n in ctx.base.samples
    }
    lines = {n: [math.nan if v is None else v for v in vals] for n, vals in shown.items()}
    return ctx.figure(
        "rungs",
        lambda p: plots.rung_accuracy(
            p,
            list(rungs),
            [m["accuracy"] for m in rungs.values()],
            [m["ci_low"] for m in rungs.values()],
            [m["ci_high"] for m in rungs.values()],
            lines,
            f"{ctx.run.name}: accuracy per rung (95% Wilson CI)",
        ),
        "accuracy per rung with baselines",
    )


def headline_section(ctx: ReportContext) -> list[str]:
    """``## Headline``: overall accuracy, the per-rung table, rung changes and a figure."""
    overall = summarize(ctx.run.samples)
    rungs = summaries(ctx.run.samples, "rung")
    ctx.data["overall"] = overall
    ctx.data["rungs"] = rungs
    lines = [
        "## Headline",
        "",
        f"Overall accuracy **{num(overall['accuracy'])}** "
        f"{ci(overall['ci_low'], overall['ci_high'])} on {overall['n']} items "
        f"({overall['correct']} correct; 95% Wilson interval).",
        "",
    ]
    lines += markdown_table(
        ["rung", "items", "correct", "accuracy", "95% CI (Wilson)"],
        [
            [r, m["n"], m["correct"], num(m["accuracy"]), ci(m["ci_low"], m["ci_high"])]
            for r, m in rungs.items()
        ],
        "rrrrl",
    )
    lines += ["", *_steps(ctx, rungs)]
    if rungs:
        lines += _rung_figure(ctx, rungs)
    return lines
