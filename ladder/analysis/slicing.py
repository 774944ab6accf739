"""Grouping scored samples by a field (rung, query type, ...) for tables and tests.

>>> samples = [{"id": "a", "rung": 2}, {"id": "b", "rung": 1}, {"id": "c", "rung": 2}]
>>> {k: ids(g) for k, g in groups(samples, "rung").items()}
{'1': ['b'], '2': ['a', 'c']}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ladder.analysis.markdown import sort_key
from ladder.harness.metrics import summarize

__all__ = ["groups", "ids", "summaries"]


def groups(samples: Iterable[Mapping[str, Any]], key: str) -> dict[str, list[Mapping[str, Any]]]:
    """Samples by ``str(sample[key])`` in :func:`~ladder.analysis.markdown.sort_key` order;
    samples without the key (or with None) are left out."""
    out: dict[str, list[Mapping[str, Any]]] = {}
    for s in samples:
        if key in s and s[key] is not None:
            out.setdefault(str(s[key]), []).append(s)
    return dict(sorted(out.items(), key=lambda kv: sort_key(kv[0])))


def ids(samples: Iterable[Mapping[str, Any]]) -> list[str]:
    """The sample ids, in order."""
    return [s["id"] for s in samples]


def summaries(samples: Sequence[Mapping[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    """:func:`ladder.harness.metrics.summarize` of each group of :func:`groups`.

    >>> s = [{"rung": 1, "answer": "yes", "prediction": "yes", "p_yes": 0.9}]
    >>> summaries(s, "rung")["1"]["accuracy"]
    1.0
    """
    return {value: summarize(group) for value, group in groups(samples, key).items()}
