"""Item files: JSONL reading, every item validated up front, errors naming file and line.

An item file is refused at once, with one line ``FILE:LINE: what is wrong`` (an
:class:`ItemFileError`), when a line is not UTF-8 or not a JSON object, an item lacks a
contract field, its ``contract_version`` is newer than this ladder supports, its ``answer``
is not yes/no, its ``truth`` is not a finite number, its ``query`` or ``scm`` does not parse,
its ``rung`` disagrees with the query type, or an id repeats. Nothing is scored on a bad file.

>>> import tempfile, os
>>> from ladder.core.io import atomic_writer
>>> path = os.path.join(tempfile.mkdtemp(), "items.jsonl")
>>> with atomic_writer(path) as fh:
...     _ = fh.write('{"id": "a"}\\n')
>>> [item["id"] for item in read_items(path, require=("id",))]
['a']
>>> with atomic_writer(path) as fh:
...     _ = fh.write('{"id": "a", "answer": "maybe"}\\n')
>>> read_items(path, require=("id",))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ladder.core.errors.ItemFileError: ...items.jsonl:1: answer 'maybe' must be 'yes' or 'no'
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ladder.core.errors import ItemFileError, SCMError
from ladder.core.records import (
    ANSWER,
    ANSWERS,
    CONTRACT_FIELDS,
    CONTRACT_VERSION,
    CONTRACT_VERSION_KEY,
    ID,
    QUERY,
    QUERY_TYPE,
    RUNG,
    SCM_KEY,
    TRUTH,
    Item,
)
from ladder.engine.queries import Query
from ladder.engine.scm import SCM

__all__ = ["REQUIRED_FIELDS", "ItemFileError", "check_item", "read_items"]

#: Fields every item carries (item contract, version 1).
REQUIRED_FIELDS = CONTRACT_FIELDS


def _check_version(item: Mapping[str, Any]) -> None:
    version = item.get(CONTRACT_VERSION_KEY, CONTRACT_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ItemFileError(f"contract_version {version!r} must be a positive integer")
    if version > CONTRACT_VERSION:
        raise ItemFileError(
            f"contract_version {version} is newer than this ladder reads "
            f"(up to {CONTRACT_VERSION}); upgrade ladder"
        )


def _check_truth(item: Mapping[str, Any]) -> None:
    if TRUTH not in item:
        return
    value = item[TRUTH]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ItemFileError(f"truth {value!r} must be a finite number")


def _parse_scm(item: Mapping[str, Any]) -> SCM:
    try:
        return SCM.from_dict(item[SCM_KEY])
    except SCMError as exc:
        raise ItemFileError(f"scm: {exc}") from None


def _check_query(item: Mapping[str, Any]) -> None:
    try:
        query = Query.from_dict(item[QUERY])
    except SCMError as exc:
        raise ItemFileError(f"query: {exc}") from None
    if RUNG in item and item[RUNG] != query.rung:
        raise ItemFileError(
            f"rung {item[RUNG]!r} does not match query type {query.type!r} (rung {query.rung})"
        )
    if QUERY_TYPE in item and item[QUERY_TYPE] != query.type:
        raise ItemFileError(
            f"query_type {item[QUERY_TYPE]!r} differs from query.type {query.type!r}"
        )
    if SCM_KEY in item:
        scm = _parse_scm(item)
        try:
            _check_variables(scm, query)
        except SCMError as exc:
            raise ItemFileError(f"query: {exc}") from None


def _check_variables(scm: SCM, query: Query) -> None:
    """The query names only variables of the SCM, with binary values."""
    named = [query.treatment, query.outcome, query.mediator, *(query.adjust or ())]
    for name in [n for n in named if n is not None]:
        if name not in scm:
            raise SCMError(f"query {query.type} names {name!r}, which is not a variable")
    scm.check_assignment(query.given, "query.given")
    scm.check_assignment(query.do or {}, "query.do")


def check_item(item: Any, require: Sequence[str] = REQUIRED_FIELDS) -> Item:
    """``item`` if it is a valid item, else :class:`ItemFileError` saying what is wrong.

    Fields outside ``require`` are checked only where present.

    >>> check_item({"id": "a", "truth": float("nan")}, require=("id",))
    Traceback (most recent call last):
    ...
    ladder.core.errors.ItemFileError: truth nan must be a finite number
    """
    if not isinstance(item, dict):
        raise ItemFileError("an item must be a JSON object")
    missing = [f for f in require if f not in item]
    if missing:
        raise ItemFileError(f"item lacks required fields {missing}")
    if ID in item and not isinstance(item[ID], str):
        raise ItemFileError(f"id {item[ID]!r} must be a string")
    _check_version(item)
    if ANSWER in item and item[ANSWER] not in ANSWERS:
        raise ItemFileError(f"answer {item[ANSWER]!r} must be 'yes' or 'no'")
    _check_truth(item)
    if QUERY in item:
        _check_query(item)
    elif SCM_KEY in item:
        _parse_scm(item)
    return item  # type: ignore[return-value]


def _parse_line(raw: bytes) -> Any:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ItemFileError(f"not UTF-8 text (byte {exc.start + 1} of the line)") from None
    if not line.strip():
        return None
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise ItemFileError(f"malformed JSON ({exc.msg} at column {exc.colno})") from None


def read_items(path: str | Path, require: Sequence[str] = REQUIRED_FIELDS) -> list[Item]:
    """All items of a JSONL file, each validated (:func:`check_item`); blank lines are
    skipped, duplicate ids rejected. The first problem raises :class:`ItemFileError`
    naming the file and line."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ItemFileError(f"{path}: cannot read the item file ({exc.strerror or exc})") from None
    items: list[Item] = []
    seen: set[str] = set()
    for lineno, raw in enumerate(data.splitlines(), 1):
        try:
            parsed = _parse_line(raw)
            if parsed is None:
                continue
            item = check_item(parsed, require)
            if ID in item and item[ID] in seen:
                raise ItemFileError(f"duplicate item id {item[ID]!r}")
        except ItemFileError as exc:
            raise ItemFileError(f"{path}:{lineno}: {exc}") from None
        if ID in item:
            seen.add(item[ID])
        items.append(item)
    if not items:
        raise ItemFileError(f"{path}: the item file holds no items")
    return items
