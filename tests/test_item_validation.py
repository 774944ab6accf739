"""Items are validated on read, up front: one ``FILE:LINE: what`` line per bad file.

Each case writes a good item file (made by the generator), spoils one field of the item
on line 3, and checks that ``read_items`` refuses it naming the file, the line and the
problem; and that the CLI (``ladder export``) turns that into one line with exit 2,
before writing anything.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ladder.cli import main
from ladder.core.errors import ItemFileError
from ladder.generation.generate import dumps, generate_items
from ladder.generation.items import read_items
from ladder.generation.specs import load_suite

LINE = 3


@pytest.fixture(scope="module")
def good() -> list[dict[str, Any]]:
    items = list(generate_items(load_suite("quick"), seed=0, n=12))
    # The cases below spoil line LINE: a rung-3 item of contract version 2 (quick's families).
    assert items[LINE - 1]["rung"] == 3 and items[LINE - 1]["contract_version"] == 2
    assert items[LINE - 1]["query_type"] != "ate"
    return items


def _write(path: Path, items: list[dict[str, Any]], raw_line: str | None = None) -> Path:
    lines = [dumps(it) for it in items]
    if raw_line is not None:
        lines[LINE - 1] = raw_line
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _spoiled(good: list[dict[str, Any]], change) -> list[dict[str, Any]]:
    items = json.loads(json.dumps(good))
    change(items[LINE - 1])
    return items


def _set(key: str, value: Any):
    def change(item: dict[str, Any]) -> None:
        item[key] = value

    return change


def _set_query(key: str, value: Any):
    def change(item: dict[str, Any]) -> None:
        item["query"][key] = value

    return change


def _drop(key: str):
    def change(item: dict[str, Any]) -> None:
        del item[key]

    return change


def _set_cpt(item: dict[str, Any]) -> None:
    item["scm"]["variables"][-1]["cpt"] = [0.5]  # wrong length for its parents


CASES = {
    "future contract_version": (_set("contract_version", 3), "contract_version 3 is newer"),
    "family_id not hex": (_set("family_id", "family-1"), "family_id 'family-1' must be 16 hex"),
    "question_key empty": (_set("question_key", ""), "question_key '' must be a non-empty"),
    "twin_id a number": (_set("twin_id", 7), "twin_id 7 must be 16 hex digits or null"),
    "family field on a v1 item": (
        _set("contract_version", 1),
        "family_id needs contract_version 2",
    ),
    "contract_version not an integer": (
        _set("contract_version", "1"),
        "contract_version '1' must be a positive integer",
    ),
    "answer maybe": (_set("answer", "maybe"), "answer 'maybe' must be 'yes' or 'no'"),
    "answer True": (_set("answer", True), "answer True must be 'yes' or 'no'"),
    "unknown query type": (_set_query("type", "telepathy"), "unknown query type 'telepathy'"),
    "missing truth": (_drop("truth"), "lacks required fields ['truth']"),
    "truth a string": (_set("truth", "0.4"), "truth '0.4' must be a finite number"),
    "truth a boolean": (_set("truth", True), "truth True must be a finite number"),
    "truth null": (_set("truth", None), "truth None must be a finite number"),
    "rung inconsistent": (_set("rung", 1), "rung 1 does not match query type"),
    "query_type differs": (_set("query_type", "ate"), "query_type 'ate' differs from query.type"),
    "query unknown field": (_set_query("colour", "red"), "query: unknown fields ['colour']"),
    "query polarity": (_set_query("polarity", 2), "polarity 2 must be +1 or -1"),
    "query not an object": (_set("query", "ate"), "query must be a JSON object"),
    "query names a missing variable": (
        _set_query("outcome", "Q"),
        "'Q', which is not a variable",
    ),
    "scm cpt length": (_set_cpt, "scm: variable"),
    "scm not an object": (_set("scm", [1, 2]), "scm: scm must be an object"),
    "id not a string": (_set("id", 7), "id 7 must be a string"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_item_is_refused_naming_file_and_line(case, good, tmp_path):
    change, message = CASES[case]
    path = _write(tmp_path / "items.jsonl", _spoiled(good, change))
    with pytest.raises(ItemFileError) as caught:
        read_items(path)
    text = str(caught.value)
    assert text.startswith(f"{path}:{LINE}: "), text
    assert message in text
    assert "\n" not in text


def test_truth_must_be_finite(good, tmp_path):
    for bad in ("NaN", "Infinity", "-Infinity"):
        line = dumps(good[LINE - 1]).replace(f'"truth":{good[LINE - 1]["truth"]}', f'"truth":{bad}')
        assert bad in line
        path = _write(tmp_path / "items.jsonl", good, raw_line=line)
        with pytest.raises(ItemFileError, match=rf"items.jsonl:{LINE}: truth .* finite number"):
            read_items(path)


def test_missing_needed_query_field(good, tmp_path):
    def no_treatment(item: dict[str, Any]) -> None:
        item.update(rung=2, query_type="ate")
        item["query"] = {"type": "ate", "outcome": "Y", "polarity": 1}

    path = _write(tmp_path / "items.jsonl", _spoiled(good, no_treatment))
    with pytest.raises(ItemFileError, match=rf":{LINE}: query: query ate needs a 'treatment'"):
        read_items(path)


def test_not_utf8_names_file_and_line(good, tmp_path):
    path = _write(tmp_path / "items.jsonl", good)
    data = path.read_bytes().split(b"\n")
    data[LINE - 1] = data[LINE - 1].replace(b"Consider", b"Consid\xe9r", 1)
    assert b"\xe9" in data[LINE - 1]  # the corruption really happened
    path.write_bytes(b"\n".join(data))
    with pytest.raises(ItemFileError, match=rf"items.jsonl:{LINE}: not UTF-8 text"):
        read_items(path)


def test_good_file_reads_back_unchanged(good, tmp_path):
    path = _write(tmp_path / "items.jsonl", good)
    assert read_items(path) == good


def test_third_party_items_without_generate_fields_are_accepted(good, tmp_path):
    contract = ["id", "task", "rung", "graph_family", "verbalization", "scm", "query"]
    contract += ["truth", "answer", "prompt", "seed"]
    bare = [{k: it[k] for k in contract} for it in good]
    assert read_items(_write(tmp_path / "bare.jsonl", bare)) == bare


def test_export_refuses_a_bad_item_file_in_one_line_before_writing(good, tmp_path, capsys):
    path = _write(tmp_path / "items.jsonl", _spoiled(good, _set("answer", "maybe")))
    out = tmp_path / "task"
    assert main(["export", "--items", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"ladder export: error: {path}:{LINE}: answer 'maybe' must be 'yes' or 'no'"]
    assert not out.exists()
