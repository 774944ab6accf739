"""Markdown helpers shared by reports and leaderboards: numbers, intervals, tables, blocks.

>>> num(0.51849), num(None), signed(-0.02), ci(0.25, 0.5)
('0.518', 'n/a', '-0.020', '[0.250, 0.500]')
>>> print("\\n".join(markdown_table(["a", "b"], [[1, "x|y"]], "rl")))
| a | b |
|--:|:--|
| 1 | x\\|y |
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "assemble",
    "cell",
    "ci",
    "code",
    "markdown_table",
    "num",
    "signed",
    "sort_key",
    "warning_lines",
]


def num(x: float | None, nd: int = 3) -> str:
    """A number for text and tables; ``n/a`` for None or a non-finite float.

    >>> num(1 / 3), num(float("nan")), num(2, 1)
    ('0.333', 'n/a', '2.0')
    """
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.{nd}f}"


def signed(x: float | None, nd: int = 3) -> str:
    """A difference with its sign; ``n/a`` for None or a non-finite float.

    >>> signed(0.005), signed(None)
    ('+0.005', 'n/a')
    """
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:+.{nd}f}"


def ci(low: float, high: float) -> str:
    """An interval ``[low, high]`` to 3 decimals.

    >>> ci(0.1, 0.2)
    '[0.100, 0.200]'
    """
    return f"[{num(low)}, {num(high)}]"


def cell(value: Any) -> str:
    """A table cell: None is empty; pipes escaped and newlines flattened (they break tables).

    >>> cell("a|b\\nc"), cell(None)
    ('a\\\\|b c', '')
    """
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], align: str | None = None
) -> list[str]:
    """A GitHub markdown table; ``align`` is one letter per column (``l``, ``r``, ``c``)."""
    align = align or "l" * len(headers)
    marks = {"l": ":--", "r": "--:", "c": ":-:"}
    lines = [
        "| " + " | ".join(cell(h) for h in headers) + " |",
        "|" + "|".join(marks[a] for a in align) + "|",
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines


def sort_key(value: str) -> tuple[int, float, str]:
    """Numbers first, in numeric order, then text: ``"3" < "10" < "chain"``.

    >>> sorted(["chain", "10", "3"], key=sort_key)
    ['3', '10', 'chain']
    """
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def code(value: Any) -> str:
    """A recorded value as inline code; ``not recorded`` when empty, ``none`` for ``{}``.

    >>> code("abc"), code(None), code({}), code({"b": 1, "a": 2})
    ('`abc`', 'not recorded', 'none', '`{"a": 2, "b": 1}`')
    """
    if value is None or value == "":
        return "not recorded"
    if value == {}:
        return "none"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return f"`{text}`"


def warning_lines(warnings: Iterable[str]) -> list[str]:
    """Each warning as its own ``> **Warning:**`` block.

    >>> warning_lines(["a"])
    ['', '> **Warning:** a']
    """
    out: list[str] = []
    for w in warnings:
        out += ["", f"> **Warning:** {w}"]
    return out


def assemble(sections: Iterable[Sequence[str]]) -> str:
    """Join sections (lists of lines) with one blank line between blocks, none at the ends
    and no trailing spaces; the text ends with one newline.

    >>> assemble([["# t", ""], ["", "a  ", "", "", "b"]])
    '# t\\n\\na\\n\\nb\\n'
    """
    body = "\n\n".join("\n".join(s).strip("\n") for s in sections)
    text = "\n".join(line.rstrip() for line in body.splitlines())
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text + "\n"
