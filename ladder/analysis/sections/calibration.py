"""Calibration and answer bias: Brier, ECE, a reliability diagram, yes-rates per rung, and
McNemar's test of the model's yes-rate against the true yes-rate (paired on items)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ladder.analysis import plots
from ladder.analysis.markdown import markdown_table, num, signed
from ladder.analysis.sections.context import ReportContext
from ladder.analysis.slicing import groups
from ladder.core import stats
from ladder.harness.metrics import reliability_bins, summarize

__all__ = ["answer_bias", "calibration_section"]


def _bias_table(samples: Sequence[Mapping[str, Any]]) -> list[str]:
    rows = []
    for rung, group in {**groups(samples, "rung"), "all": list(samples)}.items():
        m = summarize(group)
        rows.append(
            [
                rung,
                m["n"],
                num(m["yes_rate"]),
                num(m["truth_yes_rate"]),
                signed(m["yes_rate"] - m["truth_yes_rate"]),
                num(m["brier"]),
                num(m["ece"]),
            ]
        )
    headers = ["rung", "items", "yes-rate", "truth yes-rate", "bias", "Brier", "ECE"]
    return markdown_table(headers, rows, "rrrrrrr")


def answer_bias(samples: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any] | None, str]:
    """The yes-bias over readable answers, McNemar-tested against the truth, and a sentence
    (``(None, "")`` when no answer is readable).

    >>> s = [{"prediction": "yes", "answer": a} for a in ("yes", "no", "no", "no")]
    >>> numbers, _ = answer_bias(s)
    >>> numbers["bias"], numbers["b"], numbers["c"]
    (0.75, 3, 0)
    """
    readable = [s for s in samples if s["prediction"] in ("yes", "no")]
    if not readable:
        return None, ""
    said = [s["prediction"] == "yes" for s in readable]
    true = [s["answer"] == "yes" for s in readable]
    test = stats.mcnemar_test(said, true)
    bias = sum(said) / len(said) - sum(true) / len(true)
    kind = "yes" if bias > 0 else "no"
    verdict = f"a significant {kind}-bias" if test.significant else "no significant answer bias"
    sentence = (
        f"Answer bias: the model says yes on {num(sum(said) / len(said))} of "
        f"readable items where {num(sum(true) / len(true))} are yes "
        f"({signed(bias)}); {test.name} of the two yes-rates, paired on items "
        f"({test.b} yes-for-no vs {test.c} no-for-yes): "
        f"{stats.format_p(test.p_value)} — {verdict}."
    )
    return {"bias": bias, "p_value": test.p_value, "b": test.b, "c": test.c}, sentence


def calibration_section(ctx: ReportContext) -> list[str]:
    """``### Calibration and answer bias``."""
    samples = ctx.run.samples
    overall = summarize(samples)
    scored = [s for s in samples if s.get("p_yes") is not None]
    bins = reliability_bins(
        [float(s["p_yes"]) for s in scored], [int(s["answer"] == "yes") for s in scored]
    )
    lines = [
        "### Calibration and answer bias",
        "",
        f"Brier score {num(overall['brier'])} (0 is perfect; always answering "
        f"P(yes) = 0.5 gives 0.250); expected calibration error {num(overall['ece'])} "
        "(10 equal-width confidence bins).",
    ]
    if overall["unreadable"]:
        lines.append(
            f"{overall['unreadable']} answers were unreadable (counted wrong, "
            "left out of Brier and ECE)."
        )
    if bins:
        lines += ctx.figure(
            "reliability",
            lambda p: plots.reliability_diagram(p, bins, f"{ctx.run.name}: reliability"),
            "reliability diagram",
        )
    lines += ["", *_bias_table(samples)]
    numbers, sentence = answer_bias(samples)
    if numbers is not None:
        ctx.data["bias"] = numbers
        lines += ["", sentence]
    return lines
