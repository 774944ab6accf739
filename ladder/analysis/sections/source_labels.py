"""Scoring both ways: accuracy against ladder's exact labels and the source benchmark's own.

Imported items (e.g. ``ladder import cladder``) keep the benchmark's original yes/no label in
``source.label`` beside ladder's exact ``answer``. This section scores the same predictions
against both labels — overall, per rung and per query type, with Wilson 95% intervals
(:func:`ladder.harness.metrics.summarize`) — and on just the items where the labels differ.
Both columns cover the same items and predictions, so no test between them is made; a
benchmark's result is never paired with another suite's (different items).

A sample's source label is its own ``source.label`` when it carries one, else its item's in
the run's ``items.jsonl`` (samples written by ``ladder run`` do not copy the source block).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ladder.analysis.markdown import ci, markdown_table, num
from ladder.analysis.runfiles import Run
from ladder.analysis.sections.context import ReportContext
from ladder.analysis.slicing import groups
from ladder.harness.metrics import summarize

__all__ = ["has_source_labels", "source_label", "source_labels_section", "source_pairs"]

#: The groupings the section's tables show, with their column titles.
SLICES = (("rung", "rung"), ("query_type", "query type"))


def source_label(record: Mapping[str, Any] | None) -> str | None:
    """The source benchmark's yes/no label of a sample or item, or None.

    >>> source_label({"source": {"benchmark": "cladder", "label": "no"}})
    'no'
    >>> source_label({"source": {"label": "maybe"}}), source_label({"id": "a"}), source_label(None)
    (None, None, None)
    """
    source = (record or {}).get("source")
    if not isinstance(source, Mapping):
        return None
    label = source.get("label")
    return label if label in ("yes", "no") else None


def _benchmark(records: Iterable[Mapping[str, Any] | None]) -> str:
    """The first ``source.benchmark`` named among ``records`` ("source" when none is)."""
    for record in records:
        source = (record or {}).get("source")
        if isinstance(source, Mapping) and source.get("benchmark"):
            return str(source["benchmark"])
    return "source"


def source_pairs(run: Run) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """``(exact, original, benchmark)``: the samples that have a source label, scored as
    written and with ``answer`` replaced by the source label (same order), and the
    benchmark's name.

    >>> from pathlib import Path
    >>> s = {"id": "a", "prediction": "yes", "answer": "yes", "rung": 1}
    >>> item = {"id": "a", "source": {"benchmark": "cladder", "label": "no"}}
    >>> exact, original, name = source_pairs(Run(Path("."), None, [item], [s], None))
    >>> exact[0]["answer"], original[0]["answer"], name
    ('yes', 'no', 'cladder')
    """
    by_id = {i["id"]: i for i in run.items or [] if "id" in i}
    exact: list[dict[str, Any]] = []
    original: list[dict[str, Any]] = []
    used: list[Mapping[str, Any] | None] = []
    for sample in run.samples:
        # the sample's own source block wins; older or leaner samples fall back to the item
        record = sample if source_label(sample) else by_id.get(sample["id"])
        label = source_label(record)
        if label is None:
            continue
        exact.append(sample)
        original.append({**sample, "answer": label})
        used.append(record)
    return exact, original, _benchmark(used)


def has_source_labels(run: Run) -> bool:
    """Whether any scored sample has a source benchmark label (the section is shown then)."""
    return bool(source_pairs(run)[0])


def _both(exact: Sequence[Mapping[str, Any]], original: Sequence[Mapping[str, Any]]) -> dict:
    """``{"exact": summarize(exact), "source": summarize(original)}``."""
    return {"exact": summarize(exact), "source": summarize(original)}


def _row(name: Any, both: Mapping[str, Mapping[str, Any]]) -> list[Any]:
    """A table row: the group, its items, then accuracy and interval against each label."""
    e, s = both["exact"], both["source"]
    return [
        name,
        e["n"],
        num(e["accuracy"]),
        ci(e["ci_low"], e["ci_high"]),
        num(s["accuracy"]),
        ci(s["ci_low"], s["ci_high"]),
    ]


def _sliced(
    exact: Sequence[Mapping[str, Any]], original: Sequence[Mapping[str, Any]], key: str
) -> dict[str, dict[str, Any]]:
    """:func:`_both` for each value of ``key`` (the two lists are aligned sample by sample)."""
    by_id = {s["id"]: s for s in original}
    return {
        value: _both(group, [by_id[s["id"]] for s in group])
        for value, group in groups(exact, key).items()
    }


def _numbers(
    exact: Sequence[Mapping[str, Any]], original: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Every number the section quotes: overall, per slice and on the differing items."""
    differ = [
        i
        for i, (e, o) in enumerate(zip(exact, original, strict=True))
        if e["answer"] != o["answer"]
    ]
    numbers: dict[str, Any] = {"overall": _both(exact, original)}
    for key, _ in SLICES:
        numbers[key] = _sliced(exact, original, key)
    numbers["differ"] = {
        "n": len(differ),
        **_both([exact[i] for i in differ], [original[i] for i in differ]),
    }
    return numbers


def _differ_sentence(differ: Mapping[str, Any], benchmark: str) -> str:
    """The sentence on the items whose two labels differ.

    >>> _differ_sentence({"n": 0}, "cladder")
    'The two labels agree on every item.'
    """
    if not differ["n"]:
        return "The two labels agree on every item."
    return (
        f"The labels differ on **{differ['n']}** items, where accuracy is "
        f"{num(differ['exact']['accuracy'])} against ladder's and "
        f"{num(differ['source']['accuracy'])} against {benchmark}'s."
    )


def source_labels_section(ctx: ReportContext) -> list[str]:
    """``## Scored both ways``: accuracy against ladder's exact labels and against the
    source benchmark's original labels, side by side (stored as ``ctx.data["source_labels"]``).
    """
    exact, original, benchmark = source_pairs(ctx.run)
    numbers = _numbers(exact, original)
    ctx.data["source_labels"] = {"benchmark": benchmark, **numbers}
    columns = ["items", "ladder", "95% CI", benchmark, "95% CI"]
    tables = [("all items", {"all": numbers["overall"]})]
    tables += [(title, numbers[key]) for key, title in SLICES]
    differ = numbers["differ"]
    lines = [
        "## Scored both ways",
        "",
        f"The same {len(exact)} predictions scored against ladder's exact labels and against "
        f"{benchmark}'s original labels (`source.label`); 95% Wilson intervals. "
        + _differ_sentence(differ, benchmark),
    ]
    if len(exact) < len(ctx.run.samples):
        lines += ["", f"{len(ctx.run.samples) - len(exact)} scored items have no source label."]
    if differ["n"]:
        tables.append(("labels differ", {"differ": differ}))
    for title, rows in tables:
        table = markdown_table([title, *columns], [_row(k, v) for k, v in rows.items()], "lrrlrl")
        lines += ["", *table]
    return lines
