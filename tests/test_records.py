"""The typed records (``ladder.core.records``) match what the stages really write, and
the contract in ``docs/item-contract.md``."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import get_type_hints

import pytest

from ladder.core import records
from ladder.core.records import CONTRACT_FIELDS, ITEM_FIELDS, SAMPLE_FIELDS, Item, Sample
from ladder.generation.generate import generate_items
from ladder.generation.items import read_items
from ladder.generation.specs import load_suite
from ladder.harness import results_schema

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def items() -> list[dict]:
    return list(generate_items(load_suite("core"), seed=1, n=200))


def test_generated_items_carry_exactly_the_item_fields_in_order(items):
    for item in items:
        assert tuple(item) == ITEM_FIELDS


def test_contract_fields_are_the_documented_example(items):
    """The JSON example of docs/item-contract.md has exactly the contract's keys."""
    text = (ROOT / "docs" / "item-contract.md").read_text()
    example = json.loads(re.search(r"```json\n(.*?)```", text, re.S).group(1))
    assert tuple(example) == CONTRACT_FIELDS
    assert ITEM_FIELDS[: len(CONTRACT_FIELDS)] == CONTRACT_FIELDS
    # Every extra field generate writes is documented in the doc's table.
    for key in ITEM_FIELDS[len(CONTRACT_FIELDS) :]:
        assert f"| `{key}` |" in text, key


def test_item_values_have_the_declared_types(items):
    simple = {"id": str, "task": str, "rung": int, "truth": float, "prompt": str, "seed": int}
    simple |= {"index": int, "contract_version": int, "n_nodes": int, "margin": float}
    simple |= {"discordant": bool, "edges": list, "scm": dict, "query": dict}
    for item in items:
        for key, kind in simple.items():
            assert isinstance(item[key], kind), (key, item[key])
        assert item["answer"] in records.ANSWERS
        assert item["association_answer"] in (*records.ANSWERS, None)
        assert item["contract_version"] == records.CONTRACT_VERSION
        assert item["query_type"] == item["query"]["type"]
        assert set(item["query"]) <= set(get_type_hints(records.QueryRecord))
        for var in item["scm"]["variables"]:
            assert set(var) <= set(get_type_hints(records.VariableRecord))


def test_key_constants_spell_the_keys():
    for name in ("ID", "TASK", "RUNG", "TRUTH", "ANSWER", "PROMPT", "SEED", "QUERY_TYPE"):
        assert getattr(records, name) == name.lower()
    assert records.SCM_KEY == "scm" and records.QUERY == "query"
    assert records.ASSOCIATION_ANSWER in ITEM_FIELDS and records.DISCORDANT in ITEM_FIELDS


def test_sample_record_matches_the_results_schema():
    assert set(SAMPLE_FIELDS) == set(get_type_hints(results_schema.Sample))


def _documented_keys(cls_name: str) -> dict[str, bool]:
    tree = ast.parse((ROOT / "ladder" / "core" / "records.py").read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls_name)
    out = {}
    for k, node in enumerate(cls.body):
        if isinstance(node, ast.AnnAssign):
            nxt = cls.body[k + 1] if k + 1 < len(cls.body) else None
            out[node.target.id] = isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
    return out


@pytest.mark.parametrize("cls", ["Item", "Sample", "QueryRecord", "SCMRecord", "VariableRecord"])
def test_every_key_has_a_docstring(cls):
    documented = _documented_keys(cls)
    assert documented and all(documented.values()), documented


def test_types_are_used_in_signatures():
    assert get_type_hints(read_items)["return"] == list[Item]
    assert get_type_hints(generate_items)["return"] == Iterator[Item]
    assert Sample.__total__ is False
