"""The example family in docs/item-contract.md is what ``ladder generate`` makes today.

Run ``python tests/test_docs_examples.py`` to rewrite the example after a deliberate change
to generation; the test fails until the document matches.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from ladder.generation.generate import generate_items
from ladder.generation.specs import load_suite

DOC = Path(__file__).resolve().parent.parent / "docs" / "item-contract.md"
FAMILY = "89c01eb0c4bbe063"  # quick, seed 0: the first symbolic confounding family
KEYS = ("id", "index", "graph_family", "verbalization", "evidence", "query", "truth", "answer",
        "association_answer", "discordant", "contract_version", "family_id", "question_key",
        "twin_id")  # fmt: skip
START, END = "### An example family\n", "\n## Versions\n"


def example_section() -> str:
    """The section's markdown, computed from the generated family."""
    items = list(generate_items(load_suite("quick"), 0))
    family = [i for i in items if i.get("family_id") == FAMILY]
    first, last = family[0]["index"], family[-1]["index"]
    context = family[0]["prompt"].split("\n")[:3]
    rows = []
    for item in family:
        row = {k: item[k] for k in KEYS}
        row["prompt"] = "…" + "\n".join(item["prompt"].split("\n")[-2:])
        rows.append(json.dumps(row, ensure_ascii=False))
    kinds = len({i["question_key"] for i in family})
    return (
        f"{START}\nFamily `{FAMILY}` of `ladder generate --suite quick --seed 0` (items "
        f"{first}–{last}): the `{family[0]['graph_family']}` graph, symbolic, "
        f"`{family[0]['evidence']}` evidence, {kinds} questions in both polarities.\n"
        "Every prompt starts with the same three lines:\n\n```\n" + "\n".join(context) + "\n```\n\n"
        "and ends with its own question. The family's SCM (every item carries it):\n\n```json\n"
        + json.dumps(family[0]["scm"], indent=2)
        + "\n```\n\nIts items, with the contract fields common to all of them left out (`task`, "
        "`rung`,\n`scm`, `seed`, …) and each prompt abbreviated to its last two lines:\n\n```\n"
        + "\n".join(rows)
        + "\n```\n"
    )


def _current() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text[text.index(START) : text.index(END)]


def test_example_family_is_generated_not_typed() -> None:
    assert _current() == example_section()


if __name__ == "__main__":
    text = DOC.read_text(encoding="utf-8")
    DOC.write_text(text.replace(_current(), example_section()), encoding="utf-8")
    sys.exit(0 if re.search(FAMILY, DOC.read_text()) else 1)
