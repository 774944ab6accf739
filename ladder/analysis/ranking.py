"""Leaderboard records and the test between two runs: :class:`Entry`, :class:`Leaderboard`,
:func:`compare_runs` (McNemar on shared items, else an unpaired z-test)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ladder.analysis.runfiles import Run
from ladder.core import stats

__all__ = ["Entry", "Leaderboard", "Test", "compare_runs", "labels", "test_text"]

Test = stats.McNemarResult | stats.UnpairedResult


@dataclass
class Entry:
    """One ranked run."""

    run: Run
    label: str
    overall: dict[str, Any]
    rungs: dict[str, dict[str, Any]]
    gap_closed: float | None
    gap_rungs: list[str]
    rank: int = 0
    vs_next: Test | None = None
    measures: dict[str, Any] = field(default_factory=dict)
    """Overall bias-free measures (:func:`ladder.analysis.measures.measures`) plus
    ``discrimination`` (:func:`ladder.analysis.discrimination.discrimination_test`)."""
    rung_auroc: dict[str, Any] = field(default_factory=dict)
    gap_interval: dict[str, Any] = field(default_factory=dict)
    auroc_vs_next: dict[str, Any] | None = None
    """Paired cluster-bootstrap AUROC(this) − AUROC(next) (None for the last row)."""

    @property
    def auroc(self) -> float | None:
        """AUROC of P(yes) against the truth (None when undefined)."""
        return (self.measures.get("auroc") or {}).get("estimate")

    @property
    def at_chance(self) -> bool:
        """Whether this run is indistinguishable from chance: its AUROC interval includes
        0.5 (or is undefined) and its clustered test of Youden's J = 0 does not reject."""
        a = self.measures.get("auroc") or {}
        if a.get("low") is None or a.get("high") is None:
            covers = True
        else:
            covers = a["low"] <= 0.5 <= a["high"]
        p = (self.measures.get("discrimination") or {}).get("p_value")
        return covers and (p is None or p >= stats.ALPHA)

    @property
    def lead_significant(self) -> bool | None:
        """Whether this row's lead over the next is clear: the paired interval of the AUROC
        difference excludes 0 (None for the last row; McNemar's test when no AUROC)."""
        d = self.auroc_vs_next
        if d is not None and d.get("low") is not None:
            return bool(d["low"] > 0 or d["high"] < 0)
        return None if self.vs_next is None else self.vs_next.significant


@dataclass
class Leaderboard:
    """A ranked table of runs, its headline and the rendered markdown and CSV."""

    entries: list[Entry]
    rungs: list[str]
    paired: bool
    items_sha256: str | None
    warnings: list[str] = field(default_factory=list)
    headline: str = ""
    markdown: str = ""
    csv: str = ""


def _correct(run: Run, rung: str | None) -> dict[str, bool]:
    return {
        s["id"]: bool(s["correct"])
        for s in run.samples
        if rung is None or str(s.get("rung")) == rung
    }


def compare_runs(a: Run, b: Run, paired: bool, rung: str | None = None) -> Test | None:
    """McNemar on the items both scored (paired), else a two-proportion z-test; None if
    there is nothing to compare. ``rung`` restricts both runs to that rung's items."""
    ca, cb = _correct(a, rung), _correct(b, rung)
    if paired:
        common = [i for i in ca if i in cb]
        if not common:
            return None
        return stats.mcnemar_test([ca[i] for i in common], [cb[i] for i in common])
    if not ca or not cb:
        return None
    return stats.two_proportion_test(sum(ca.values()), len(ca), sum(cb.values()), len(cb))


def test_text(test: Test | None) -> str:
    """A test's verdict in words, with its p-value (and discordant counts for McNemar).

    >>> test_text(stats.mcnemar_test([True] * 3, [False] * 3))
    'not significant: McNemar exact binomial test, p = 0.25; 3 vs 0 discordant items'
    """
    if test is None:
        return "no common items to test"
    verdict = "significant" if test.significant else "not significant"
    detail = (
        f"; {test.b} vs {test.c} discordant items" if isinstance(test, stats.McNemarResult) else ""
    )
    return f"{verdict}: {test.name}, {stats.format_p(test.p_value)}{detail}"


def _marks(run: Run) -> str:
    """A fine-tuned control's labels, and "trained on these items" when it was."""
    marks = ""
    finetune = run.model.get("finetune")
    if isinstance(finetune, dict):
        marks += f" (control: trained on {finetune.get('labels')} labels)"
    if (run.results or {}).get("contamination"):
        marks += " **[trained on these items]**"
    return marks


def labels(runs: Sequence[Run]) -> list[str]:
    """Row labels: the model name (``(baseline)`` marked), with the run directory's name
    added where two runs share a name."""
    names = [r.name + (" (baseline)" if r.is_baseline else "") + _marks(r) for r in runs]
    return [
        n if names.count(n) == 1 else f"{n} [{r.path.name}]"
        for n, r in zip(names, runs, strict=True)
    ]
