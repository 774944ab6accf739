"""The label audit of imported CLadder questions: where CLadder's label or value differs
from ladder's exact one, and why.

Every question gets one class (:data:`CLASSES`):

* ``none``: CLadder's value equals ladder's to 1e-9 and the labels agree;
* ``parent_independence``: CLadder's value is the one obtained by multiplying a node's
  parents' marginals as if they were independent (CLadder issue 15), which ladder
  recomputes with :func:`independence_value` from the engine's exact marginals;
* ``near_zero``: CLadder answers "no" to both polarities when its value is within 0.005 of
  the threshold;
* ``wording``: a question the yes/no rule cannot express (skipped on import);
* ``stated_numbers``: value and label agree, but numbers the prompt states (``meta.given_info``)
  differ from the model by more than 1e-6;
* ``inexpressible``: skipped on import for another reason;
* ``other``: any other difference.

A label difference is classed by its cause: ``near_zero`` when CLadder's own value, put
through ladder's rule, would not give CLadder's label (and lies in the zero band);
``parent_independence`` when CLadder's label follows from its value, and that value differs
from ladder's by the pattern.

>>> THRESHOLDS["marginal"], THRESHOLDS["ate"]
(0.5, 0.0)
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from itertools import product
from typing import Any

from ladder.engine import inference, queries
from ladder.engine.queries import Query
from ladder.engine.scm import SCM

__all__ = [
    "CLASSES",
    "NEAR_ZERO",
    "THRESHOLDS",
    "VALUE_TOLERANCE",
    "audit",
    "audit_markdown",
    "classify_item",
    "classify_skip",
    "comparable_value",
    "independence_value",
    "stated_deviation",
]

CLASSES = (
    "none",
    "parent_independence",
    "near_zero",
    "wording",
    "stated_numbers",
    "inexpressible",
    "other",
)
#: Values closer than this count as equal.
VALUE_TOLERANCE = 1e-9
#: CLadder's zero band: |value − threshold| below it is answered "no" for both polarities.
NEAR_ZERO = 0.005
#: Stated numbers further than this from the model's are inconsistent.
STATED_TOLERANCE = 1e-6
#: The decision threshold of CLadder's value, per CLadder query type.
THRESHOLDS: dict[str, float] = {"marginal": 0.5, "det-counterfactual": 0.5}
THRESHOLDS.update(
    dict.fromkeys(["correlation", "ate", "ett", "nde", "nie", "exp_away", "backadj"], 0.0)
)
_WORDING_TYPES = ("collider_bias", "backadj")
_TERM = re.compile(r"^[pP]\(\s*(\w+)(?:\s*=\s*([01]))?(?:\s*[|,]\s*(.*))?\)$")


def comparable_value(item: Mapping[str, Any]) -> float | None:
    """Ladder's exact value of the quantity CLadder's ``groundtruth`` holds (None for
    ``backadj`` and ``collider_bias``, whose groundtruth is not a number).

    ``exp_away``: CLadder reports P(Y=1 | X=1, C=1) − P(Y=1 | C=1) (same sign as ladder's
    contrast); ``det-counterfactual``: whether Y takes the asked value (1 or 0).
    """
    kind = item["source"]["query_type"]
    q = item["query"]
    if kind in _WORDING_TYPES:
        return None
    if kind == "det-counterfactual":
        return item["truth"] if q["polarity"] == 1 else 1.0 - item["truth"]
    if kind == "exp_away":
        scm = SCM.from_dict(item["scm"])
        x, y, given = q["treatment"], q["outcome"], q["given"]
        return inference.marginal(scm, y, {**given, x: 1}) - inference.marginal(scm, y, given)
    return float(item["truth"])


def _naive(scm: SCM, target: str, do: Mapping[str, int]) -> float:
    """P(target=1) with its parents' (exact) marginals multiplied as if independent."""
    var = next(v for v in scm.variables if v.name == target)
    total = 0.0
    for row, bits in enumerate(product((0, 1), repeat=len(var.parents))):
        weight = 1.0
        for parent, bit in zip(var.parents, bits, strict=True):
            p = do[parent] if parent in do else inference.marginal(scm, parent, do=dict(do))
            weight *= p if bit else 1.0 - p
        total += weight * var.cpt[row]
    return total


def _naive_mediation(scm: SCM, q: Mapping[str, Any], kind: str) -> float:
    """Arrowhead NDE/NIE with the mediator's and confounder's marginals independent."""
    x, y, m = q["treatment"], q["outcome"], q["mediator"]
    out = next(v for v in scm.variables if v.name == y)
    other = [p for p in out.parents if p not in (x, m)]
    pm = {a: inference.marginal(scm, m, do={x: a}) for a in (0, 1)}
    po = {w: inference.marginal(scm, w) for w in other}
    total = 0.0
    for bits in product((0, 1), repeat=len(out.parents)):
        row = dict(zip(out.parents, bits, strict=True))
        if row[x] == 1:
            continue
        weight = 1.0
        for w in other:
            weight *= po[w] if row[w] else 1.0 - po[w]
        cpt = {a: out.cpt[_row_index(out.parents, {**row, x: a})] for a in (0, 1)}
        pm0 = pm[0] if row[m] else 1.0 - pm[0]
        pm1 = pm[1] if row[m] else 1.0 - pm[1]
        total += weight * (pm0 * (cpt[1] - cpt[0]) if kind == "nde" else (pm1 - pm0) * cpt[0])
    return total


def _row_index(parents: Iterable[str], values: Mapping[str, int]) -> int:
    index = 0
    for parent in parents:
        index = 2 * index + values[parent]
    return index


def independence_value(item: Mapping[str, Any]) -> float | None:
    """CLadder's value under the parent-independence pattern (None where it has none).

    P(Y=1) in every graph; in ``arrowhead`` also ATE and ETT (X is a root there, so ETT =
    ATE) and NDE/NIE.
    """
    kind, graph = item["source"]["query_type"], item["source"]["graph_id"]
    q, scm = item["query"], SCM.from_dict(item["scm"])
    if kind == "marginal":
        return _naive(scm, q["outcome"], {})
    if graph != "arrowhead":
        return None
    if kind in ("ate", "ett"):
        x, y = q["treatment"], q["outcome"]
        return _naive(scm, y, {x: 1}) - _naive(scm, y, {x: 0})
    if kind in ("nde", "nie"):
        return _naive_mediation(scm, q, kind)
    return None


def _stated_terms(key: str, value: Any, scm: SCM) -> list[float] | None:
    """|stated − model| for each number of one ``given_info`` entry (None: not parsed)."""
    match = _TERM.match(key.strip())
    if not match or match.group(1) not in scm:
        return None
    target, fixed, rest = match.group(1), match.group(2), match.group(3) or ""
    names = [t.strip() for t in rest.split(",") if t.strip()]
    if fixed is not None:  # "P(Y=1, X=0)": a joint event with fixed values
        event = {target: int(fixed)}
        for term in names:
            name, _, bit = term.partition("=")
            if name.strip() not in scm or bit.strip() not in ("0", "1"):
                return None
            event[name.strip()] = int(bit)
        return [abs(inference.probability(scm, event) - float(value))]
    if any(n not in scm for n in names):
        return None
    flat = [float(v) for v in _flatten(value)]
    if len(flat) != 2 ** len(names):
        return None
    diffs = []
    for row, bits in enumerate(product((0, 1), repeat=len(names))):
        given = dict(zip(names, bits, strict=True))
        diffs.append(abs(inference.marginal(scm, target, given) - flat[row]))
    return diffs


def _flatten(value: Any) -> list[Any]:
    return [p for part in value for p in _flatten(part)] if isinstance(value, list) else [value]


def stated_deviation(item: Mapping[str, Any], meta: Mapping[str, Any]) -> float | None:
    """The largest |stated − model| over the numbers of ``meta.given_info`` ladder can read
    (None when it reads none)."""
    info = meta.get("given_info")
    if not isinstance(info, dict):
        return None
    scm = SCM.from_dict(item["scm"])
    diffs: list[float] = []
    for key, value in info.items():
        diffs.extend(_stated_terms(key, value, scm) or [])
    return max(diffs) if diffs else None


def _label_cause(
    item: Mapping[str, Any], value: float | None, exact: float | None, pattern: bool
) -> str:
    """Why CLadder's label differs from ladder's answer.

    ``near_zero`` when CLadder's "no" follows from its zero band: the exact value lies in
    the band (CLadder would say "no" even with the right value), or CLadder's own value does
    and the rule would otherwise give its label's opposite.
    """
    kind, label = item["source"]["query_type"], item["source"]["label"]
    if value is None or exact is None:
        return "parent_independence" if pattern else "other"
    own = queries.answer(Query.from_dict(item["query"]), _as_truth(item, value))
    threshold = THRESHOLDS[kind]
    in_band = abs(exact - threshold) < NEAR_ZERO or (
        abs(value - threshold) < NEAR_ZERO and own != label
    )
    if label == "no" and in_band:
        return "near_zero"
    if own != label:
        return "other"
    return "parent_independence" if pattern else "other"


def _as_truth(item: Mapping[str, Any], value: float) -> float:
    """CLadder's value on ladder's truth scale (det counterfactuals ask Y=0 as 1 − P)."""
    if item["source"]["query_type"] == "det-counterfactual" and item["query"]["polarity"] == -1:
        return 1.0 - value
    return value


def classify_item(item: Mapping[str, Any], meta: Mapping[str, Any] | None = None) -> dict:
    """The audit row of one imported item: class, value and label differences."""
    src = item["source"]
    value = src["value"] if isinstance(src["value"], (int, float)) else None
    exact = comparable_value(item)
    value_diff = value is not None and exact is not None and abs(value - exact) > VALUE_TOLERANCE
    pattern = False
    if value_diff:
        naive = independence_value(item)
        pattern = naive is not None and abs(naive - value) <= VALUE_TOLERANCE
    label_diff = src["label"] != item["answer"]
    if label_diff:
        cls = _label_cause(item, value, exact, pattern)
    elif value_diff:
        cls = "parent_independence" if pattern else "other"
    else:
        dev = stated_deviation(item, meta or {})
        cls = "stated_numbers" if dev is not None and dev > STATED_TOLERANCE else "none"
    return _row(src, cls, value_diff, label_diff, exact, item["answer"])


def _row(
    src: Mapping[str, Any],
    cls: str,
    value_diff: bool,
    label_diff: bool,
    exact: float | None,
    answer: str | None,
) -> dict[str, Any]:
    return {
        "id": f"cladder-{src['file'][:-5]}-{src['question_id']}",
        "query_type": src["query_type"],
        "graph_id": src["graph_id"],
        "class": cls,
        "value_differs": value_diff,
        "label_differs": label_diff,
        "cladder_label": src["label"],
        "ladder_answer": answer,
        "cladder_value": src["value"],
        "ladder_value": exact,
    }


def classify_skip(skip: Mapping[str, Any]) -> dict[str, Any]:
    """The audit row of a question skipped on import.

    ``backadj`` skips offer two valid sets, so "is Method 1 more correct" read as "is Method 1
    valid" is "yes"; ``collider_bias`` skips are worded "does not affect", which ladder's
    rule answers "no". The label differs where CLadder says otherwise.
    """
    kind = skip["query_type"]
    if kind in _WORDING_TYPES:
        reading = "yes" if kind == "backadj" else "no"
        return _row(skip, "wording", False, skip["label"] != reading, None, reading)
    return _row(skip, "inexpressible", False, False, None, None)


def audit(rows: Iterable[Mapping[str, Any]], n_examples: int = 3) -> dict[str, Any]:
    """The audit table of classified rows: counts per (query type, graph, class), the
    value and label differences among them, and up to ``n_examples`` ids per cell."""
    cells: dict[tuple[str, str, str], dict[str, Any]] = defaultdict(
        lambda: {"n": 0, "value_differs": 0, "label_differs": 0, "examples": []}
    )
    totals: Counter[str] = Counter()
    label_totals: Counter[str] = Counter()
    for row in rows:
        cell = cells[(row["query_type"], str(row["graph_id"]), row["class"])]
        cell["n"] += 1
        cell["value_differs"] += int(row["value_differs"])
        cell["label_differs"] += int(row["label_differs"])
        if row["class"] != "none" and len(cell["examples"]) < n_examples:
            cell["examples"].append(row["id"])
        totals[row["class"]] += 1
        label_totals[row["class"]] += int(row["label_differs"])
    table = [
        {"query_type": t, "graph_id": g, "class": c, **cells[(t, g, c)]}
        for t, g, c in sorted(cells)
    ]
    return {"cells": table, "classes": dict(totals), "label_differs": dict(label_totals)}


def audit_markdown(table: Mapping[str, Any]) -> str:
    """The audit as markdown: totals per class, then the non-``none`` cells."""
    lines = ["# CLadder label audit", "", "| class | questions | labels differ |", "|---|---|---|"]
    for cls in CLASSES:
        if cls in table["classes"]:
            lines.append(
                f"| {cls} | {table['classes'][cls]} | {table['label_differs'].get(cls, 0)} |"
            )
    lines += [
        "",
        "| query type | graph | class | questions | values differ | labels differ | examples |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in table["cells"]:
        if c["class"] == "none":
            continue
        lines.append(
            f"| {c['query_type']} | {c['graph_id']} | {c['class']} | {c['n']} | "
            f"{c['value_differs']} | {c['label_differs']} | {', '.join(c['examples'])} |"
        )
    return "\n".join(lines) + "\n"


def audit_import(
    questions: Iterable[Mapping[str, Any]],
    items: Iterable[Mapping[str, Any]],
    skipped: Iterable[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """The audit rows of one imported file: its items (with their questions' stated
    numbers) and its skipped questions."""
    metas = {q["question_id"]: q["meta"] for q in questions}
    rows = [classify_item(i, metas.get(i["source"]["question_id"])) for i in items]
    return rows + [classify_skip(s) for s in skipped]
