"""Against the baselines: the ladder gap per rung, and accuracy where association misleads.

*Ladder gap* = truth-oracle accuracy − association-oracle accuracy on the same items; the
model's *position* in it is ``(model − association) / (truth − association)``
(:func:`ladder.core.stats.gap_position`). Baseline accuracies come from baseline runs only
(:mod:`ladder.analysis.baselines`); missing runs are named with the commands that make them.

The items where association misleads are the samples' ``discordant`` items (written at
generation), so that comparison needs no baseline run. Discordance concentrates in some
query types, wordings and polarities, so raw accuracy there is confounded with answer bias;
whether the model *follows* the association answer is read from the adjusted, family-
clustered model of :func:`ladder.analysis.association.association_following`, never from
the raw discordant/concordant difference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ladder.analysis.association import FOLLOWS, association_following
from ladder.analysis.baselines import (
    ASSOC,
    BASELINE_NAMES,
    TRUTH,
    BaselineSet,
    parse_mixture,
    recover_alpha,
    recover_beta,
)
from ladder.analysis.markdown import ci, markdown_table, num
from ladder.analysis.measures import gap_closed_interval
from ladder.analysis.sections.context import ReportContext
from ladder.analysis.slicing import groups, ids
from ladder.core import stats
from ladder.harness.metrics import summarize

__all__ = ["baselines_section", "discordant_lines", "missing_lines", "position_words"]


def position_words(pos: float, low: float | None = None, high: float | None = None) -> str:
    """Where a gap position falls, in words; with an interval, only what it supports.

    >>> position_words(-0.3), position_words(0.25)
    ('below the association oracle (a perfect rung-1 reasoner does better)', \
'past the association oracle, closing 25% of the gap')
    >>> position_words(-0.3, -0.9, 0.2)
    'not distinguishable from the association oracle (the interval includes 0)'
    """
    if low is not None and high is not None:
        if low <= 0 <= high:
            return "not distinguishable from the association oracle (the interval includes 0)"
        if low <= 1 <= high:
            return "not distinguishable from the truth oracle (the interval includes 1)"
    if pos < 0:
        return "below the association oracle (a perfect rung-1 reasoner does better)"
    if pos >= 1:
        return "at or beyond the truth oracle"
    if pos == 0:
        return "at the association oracle"
    return f"past the association oracle, closing {pos:.0%} of the gap"


def _source_lines(base: BaselineSet) -> list[str]:
    lines: list[str] = []
    if base.sources:
        by_source: dict[str, list[str]] = {}
        for name, source in base.sources.items():
            by_source.setdefault(source, []).append(name)
        lines.append(
            "Baselines: "
            + "; ".join(f"{', '.join(names)} — {source}" for source, names in by_source.items())
            + "."
        )
    for note in base.warnings:
        lines += ["", f"> **Note:** {note}"]
    return lines


def missing_lines(base: BaselineSet) -> list[str]:
    """What to run when baseline runs are missing (nothing when none is)."""
    if not base.missing:
        return []
    return [
        "",
        f"No run of {', '.join(base.missing)} on these items was found. Baselines are "
        "runs like any other (no model is loaded; seconds each); make them with",
        "",
        "```sh",
        *base.commands,
        "```",
        "",
        "then build this report again (it finds runs beside this one, or pass them with "
        "`--baselines`).",
    ]


def _gap_numbers(group: Sequence[Mapping[str, Any]], base: BaselineSet) -> dict[str, Any]:
    names = [n for n in BASELINE_NAMES if n in base.samples]
    model_acc = summarize(group)["accuracy"]
    accs = {n: base.accuracy(n, ids(group)) for n in names}
    a, t = accs.get(ASSOC), accs.get(TRUTH)
    gap = pos = interval = None
    if a is not None and t is not None:
        gap, pos = t - a, stats.gap_position(model_acc, a, t)
        correct = {
            n: {i: bool(r["correct"]) for i, r in base.samples[n].items()} for n in (ASSOC, TRUTH)
        }
        if pos is not None:
            interval = gap_closed_interval(group, correct[ASSOC], correct[TRUTH])
    return {
        "model": model_acc,
        "association": a,
        "truth": t,
        "gap": gap,
        "position": pos,
        "interval": interval,
        **accs,
    }


def _gap_sentence(rung: str, g: Mapping[str, Any]) -> str:
    a, t, gap, pos = g["association"], g["truth"], g["gap"], g["position"]
    band = g.get("interval") or {}
    low, high = band.get("low"), band.get("high")
    if pos is None:
        return (
            f"Rung {rung}: the ladder gap is ~0 (truth oracle {num(t)} − association "
            f"oracle {num(a)} = {num(gap)} < {stats.MIN_GAP}): association alone answers "
            "these items, so this rung cannot tell causal from associational reasoning."
        )
    return (
        f"Rung {rung}: the ladder gap is {num(gap)} (truth oracle {num(t)} − "
        f"association oracle {num(a)}); the model ({num(g['model'])}) sits at "
        f"{num(pos, 2)} of it"
        + (f" [95% CI {num(low, 2)}, {num(high, 2)}]" if low is not None else "")
        + f" — {position_words(pos, low, high)}."
    )


def has_counterpart(sample: Mapping[str, Any]) -> bool:
    """Whether the item has a rung-1 counterpart: a sample whose item recorded
    ``association_answer: null`` (e.g. ``backdoor_set`` in contract 2) has none, so it
    cannot place a model in the ladder gap. Samples without the key (older runs) count.

    >>> has_counterpart({"association_answer": None}), has_counterpart({})
    (False, True)
    """
    return not ("association_answer" in sample and sample["association_answer"] is None)


def _gap_table(ctx: ReportContext) -> list[str]:
    names = [n for n in BASELINE_NAMES if n in ctx.base.samples]
    scored = [s for s in ctx.run.samples if has_counterpart(s)]
    by_rung = {**groups(scored, "rung"), "all": scored}
    rows, gaps, sentences = [], {}, []
    for rung, group in by_rung.items():
        g = gaps[rung] = _gap_numbers(group, ctx.base)
        if g["gap"] is None:
            pos_text = "n/a"
        else:
            pos_text = "gap ~0" if g["position"] is None else num(g["position"], 2)
        rows.append(
            [
                rung,
                len(group),
                num(g["model"]),
                *[num(g[n]) for n in names],
                num(g["gap"]),
                pos_text,
            ]
        )
        if rung != "all" and g["gap"] is not None:
            sentences.append(_gap_sentence(rung, g))
    ctx.data["gap"] = gaps
    headers = ["rung", "items", "model", *names, "ladder gap", "model's position in gap"]
    return [
        "",
        *markdown_table(headers, rows, "rrr" + "r" * len(names) + "rr"),
        "",
        "*Ladder gap* = truth-oracle accuracy − association-oracle accuracy; "
        "*position* = (model − association) / (truth − association): 0 is a perfect "
        "rung-1 reasoner, 1 is the truth, negative is below the association oracle "
        f"(not defined when the gap is under {stats.MIN_GAP}).",
        *_left_out_line(len(ctx.run.samples) - len(scored)),
        "",
        *[f"- {s}" for s in sentences],
    ]


def _left_out_line(n: int) -> list[str]:
    if not n:
        return []
    return [
        f"{n} items without a rung-1 counterpart (association answer recorded as none, "
        "e.g. back-door set questions) are left out of the ladder gap."
    ]


def baselines_section(ctx: ReportContext) -> list[str]:
    """``## Against the baselines``: sources, the gap table, missing runs, discordant items."""
    base = ctx.base
    lines = ["## Against the baselines (same items)", "", *_source_lines(base)]
    if not base.samples:
        lines += ["", "No baseline is available, so the ladder gap cannot be computed."]
    else:
        if ASSOC not in base.samples or TRUTH not in base.samples:
            lines += [
                "",
                "Without both the association oracle and the truth oracle the ladder gap "
                "cannot be computed.",
            ]
        lines += _gap_table(ctx)
    if base.missing:
        ctx.data["missing_baselines"] = {"names": base.missing, "commands": base.commands}
    return [*lines, *missing_lines(base), *discordant_lines(ctx)]


def _following_text(f: Mapping[str, Any]) -> str:
    """The association-following verdict in words, with its weight and interval."""
    if f["weight"] is None:
        return f" Association-following: {f['verdict']}."
    adjusted = ", ".join(f["adjusted_for"]) or "nothing"
    verdict = {
        FOLLOWS: "the model **follows association**: its answers move with the association "
        "answer beyond what the truth and the wording explain",
        "answers against association": "the model answers *against* the association answer "
        "more than the truth and the wording explain",
    }.get(f["verdict"], "no evidence that the model's answers follow the association answer")
    return (
        f" Adjusted for the truth and for {adjusted}, with errors clustered by "
        f"{'family' if f['n_clusters'] < f['n'] else 'item'}, the association weight (how much "
        f"more often the model says yes when the association answer is yes) is "
        f"{num(f['weight'])} [{num(f['low'])}, {num(f['high'])}] ({stats.format_p(f['p_value'])}; "
        f"n = {f['n']}, {f['n_clusters']} clusters): {verdict}. (Raw accuracy on discordant "
        "items is not compared with the rest: discordance concentrates in some query types and "
        "wordings, so that difference mixes answer bias with reasoning.)"
    )


def discordant_lines(ctx: ReportContext) -> list[str]:
    """Model accuracy where the association answer is wrong (``discordant``) vs right."""
    known = [s for s in ctx.run.samples if isinstance(s.get("discordant"), bool)]
    if not known:
        return [
            "",
            "The samples and items carry no `discordant` field, so the items where the "
            "association answer is wrong cannot be told apart.",
        ]
    wrong = [s for s in known if s["discordant"]]
    right = [s for s in known if not s["discordant"]]
    lines = []
    if len(known) < len(ctx.run.samples):
        lines += ["", f"{len(ctx.run.samples) - len(known)} samples carry no `discordant` field."]
    if not wrong:
        return [
            *lines,
            "",
            "The association oracle answers every scored item correctly: no item here "
            "separates causal from associational reasoning.",
        ]
    w, r = summarize(wrong), summarize(right)
    ctx.data["gap_items"] = {"wrong": w, "right": r}
    text = (
        f"On the {w['n']} items where the association answer is wrong, the model is right "
        f"on {w['correct']} ({num(w['accuracy'])} {ci(w['ci_low'], w['ci_high'])}); "
        f"on the {r['n']} where it is right, the model scores {num(r['accuracy'])}. "
        "A purely associational reasoner would score 0 and 1 there."
    )
    following = association_following(ctx.run.samples)
    ctx.data["association_following"] = following
    text += _following_text(following)
    return [*lines, "", text, *_recovered_weight(ctx)]


def _recovered_weight(ctx: ReportContext) -> list[str]:
    """For a mixture baseline's own report: its weight read back from the samples."""
    parsed = parse_mixture(ctx.run.name) if ctx.run.is_baseline else None
    if parsed is None:
        return []
    kind, weight = parsed
    if kind == "mixture":
        got, what = (
            recover_alpha(ctx.run.samples),
            "α (agreement with the truth on discordant items)",
        )
    else:
        got, what = recover_beta(ctx.run.samples), "β (share of yes answers)"
    ctx.data["recovered_weight"] = {"kind": kind, "set": weight, **got}
    inside = got["low"] is not None and got["low"] <= weight <= got["high"]
    verdict = "the set value lies inside" if inside else "**the set value lies outside**"
    return [
        "",
        f"This is the `{ctx.run.name}` baseline: its weight was set to {weight}; recovered "
        f"{what}: {num(got['estimate'])} [{num(got['low'])}, {num(got['high'])}] (Wilson 95%, "
        f"n = {got['n']}) — {verdict}.",
    ]
