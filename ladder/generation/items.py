"""Item files: JSONL reading, every item validated up front, errors naming file and line.

An item file is refused at once, with one line ``FILE:LINE: what is wrong`` (an
:class:`ItemFileError`), when a line is not UTF-8 or not a JSON object, an item lacks a
contract field, its ``contract_version`` is newer than this ladder supports, its ``answer``
is not yes/no, its ``truth`` is not a finite number, its ``query`` or ``scm`` does not parse,
its ``rung`` disagrees with the query type, a family field (contract version 2) has the
wrong type, or an id repeats. Nothing is scored on a bad file. :func:`check_twins` checks a
whole file's twin pairs (each ``twin_id`` held by two items with opposite answers).

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
    FAMILY_ID,
    ID,
    QUERY,
    QUERY_TYPE,
    QUESTION_KEY,
    RUNG,
    SCM_KEY,
    TRUTH,
    TWIN_ID,
    Item,
)
from ladder.engine.queries import Query
from ladder.engine.scm import SCM

__all__ = ["REQUIRED_FIELDS", "ItemFileError", "check_item", "check_twins", "read_items"]

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


def _is_hex16(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 16 and all(c in _HEX for c in value)


_HEX = frozenset("0123456789abcdef")


def _check_family(item: Mapping[str, Any]) -> None:
    """The contract-2 family fields, where present: hex ids and a non-empty key."""
    if FAMILY_ID in item and not _is_hex16(item[FAMILY_ID]):
        raise ItemFileError(f"family_id {item[FAMILY_ID]!r} must be 16 hex digits")
    if QUESTION_KEY in item and (not isinstance(item[QUESTION_KEY], str) or not item[QUESTION_KEY]):
        raise ItemFileError(f"question_key {item[QUESTION_KEY]!r} must be a non-empty string")
    if TWIN_ID in item and item[TWIN_ID] is not None and not _is_hex16(item[TWIN_ID]):
        raise ItemFileError(f"twin_id {item[TWIN_ID]!r} must be 16 hex digits or null")
    present = [k for k in (FAMILY_ID, QUESTION_KEY, TWIN_ID) if k in item]
    if present and item.get(CONTRACT_VERSION_KEY, 1) < 2:
        raise ItemFileError(f"{present[0]} needs contract_version 2 (item families)")


def check_twins(items: Sequence[Mapping[str, Any]]) -> None:
    """Every ``twin_id`` is held by at most two items, of one family, with opposite answers.

    A twin whose partner is missing (a file cut short inside a family) is allowed.

    >>> a = {"id": "a", "family_id": "f", "twin_id": "t", "answer": "yes"}
    >>> check_twins([a, {**a, "id": "b", "answer": "no"}])
    >>> check_twins([a, {**a, "id": "b"}])
    Traceback (most recent call last):
    ...
    ladder.core.errors.ItemFileError: twins 'a' and 'b' (twin_id 't') have the same answer 'yes'
    """
    first: dict[str, Mapping[str, Any]] = {}
    paired: set[str] = set()
    for item in items:
        twin = item.get(TWIN_ID)
        if twin is None:
            continue
        if twin in paired:
            raise ItemFileError(f"twin_id {twin!r} is held by more than two items")
        other = first.setdefault(twin, item)
        if other is item:
            continue
        paired.add(twin)
        if other.get(FAMILY_ID) != item.get(FAMILY_ID):
            raise ItemFileError(f"twins {other[ID]!r} and {item[ID]!r} are of different families")
        if other[ANSWER] == item[ANSWER]:
            raise ItemFileError(
                f"twins {other[ID]!r} and {item[ID]!r} (twin_id {twin!r}) have the same "
                f"answer {item[ANSWER]!r}"
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
    _check_family(item)
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
