"""Import CLadder questions (causalNLP/cladder) as ladder items, with exact labels.

CLadder ships questions (one JSON list per file) and models (``*-model-meta.json``: one
object per SCM with its ``structure``, ``params`` and ``background``). This module rebuilds
each model as a ladder SCM, maps each question to a ladder query, and takes ``truth`` and
``answer`` from :mod:`ladder.engine.queries`; it never computes a probability itself.
Questions ladder cannot express faithfully come back as skips with a one-line reason.
The label audit lives in :mod:`ladder.generation.cladder_audit`; ``docs/cladder.md`` says
how each CLadder field is read.

CLadder's ``p(Y | X, V2)`` is a nested list indexed ``[x][v2]``: flattened row-major it is
ladder's ``cpt`` with the first listed parent as the most significant bit:

>>> flatten_cpt([[0.1, 0.2], [0.3, 0.4]])
[0.1, 0.2, 0.3, 0.4]
>>> parse_param_name("p(Y | X, V2)")
('Y', ['X', 'V2'])
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ladder.core.errors import LadderError
from ladder.core.records import CONTRACT_VERSION_V1, Item
from ladder.engine import queries
from ladder.engine.queries import Query
from ladder.engine.scm import SCM

__all__ = [
    "GRAPH_FAMILIES",
    "HIDDEN",
    "CladderFormatError",
    "Converted",
    "build_scm",
    "convert_file",
    "convert_question",
    "flatten_cpt",
    "index_models",
    "map_query",
    "parse_param_name",
]

#: CLadder graph id -> ladder graph family. CLadder's ``fork`` (X → Y ← V2) and
#: ``diamondcut`` have no ladder family of that shape, so they are ``random``; the
#: item's ``source.graph_id`` keeps CLadder's name.
GRAPH_FAMILIES: dict[str, str] = {
    "chain": "chain",
    "collision": "collider",
    "confounding": "confounding",
    "mediation": "mediation",
    "IV": "iv",
    "frontdoor": "frontdoor",
    "diamond": "diamond",
    "arrowhead": "arrowhead",
    "fork": "random",
    "diamondcut": "random",
}
#: The unobserved confounder of CLadder's hidden-confounder graphs.
HIDDEN: dict[str, str] = {"IV": "V1", "frontdoor": "V1"}
_VERBALIZATIONS = {"anti": "anticommonsense", "non": "nonsense"}
_PARAM = re.compile(r"^p\((\w+)(?:\s*\|\s*([\w\s,]+))?\)$")
_QUESTION_KEYS = ("question_id", "given_info", "question", "answer", "meta")


class CladderFormatError(LadderError, ValueError):
    """A file is not in CLadder's format, or names a model or graph that is missing."""


# A converted question: ("item", Item) or ("skip", {"question_id": ..., "reason": ...}).
Converted = tuple[str, dict[str, Any]]


def parse_param_name(name: str) -> tuple[str, list[str]]:
    """``"p(Y | X, V2)"`` -> ``("Y", ["X", "V2"])``; anything else raises."""
    match = _PARAM.match(name.strip())
    if not match:
        raise CladderFormatError(f"parameter name {name!r} is not of the form 'p(V | A, B)'")
    parents = [p.strip() for p in (match.group(2) or "").split(",") if p.strip()]
    return match.group(1), parents


def flatten_cpt(value: Any) -> list[float]:
    """Row-major flattening of CLadder's nested list (a bare number is a root's P(V=1))."""
    if isinstance(value, list):
        return [p for part in value for p in flatten_cpt(part)]
    return [float(value)]


def _topological(variables: dict[str, list[str]], where: str) -> list[str]:
    order: list[str] = []
    while len(order) < len(variables):
        ready = [v for v, ps in variables.items() if v not in order and set(ps) <= set(order)]
        if not ready:
            raise CladderFormatError(f"{where}: the parameters do not form a DAG")
        order.extend(sorted(ready))
    return order


def build_scm(model: Mapping[str, Any], where: str = "model") -> dict[str, Any]:
    """The ladder SCM record of a CLadder model (its ``params`` and ``graph_id``).

    >>> rec = build_scm({"graph_id": "chain", "params": {"p(X)": 0.5,
    ...     "p(V2 | X)": [0.2, 0.9], "p(Y | V2)": [0.1, 0.7]}})
    >>> [(v["name"], v["parents"], v["cpt"]) for v in rec["variables"]]
    [('X', [], [0.5]), ('V2', ['X'], [0.2, 0.9]), ('Y', ['V2'], [0.1, 0.7])]
    """
    graph = model.get("graph_id")
    if graph not in GRAPH_FAMILIES:
        raise CladderFormatError(
            f"{where}: unknown graph id {graph!r}; allowed: {', '.join(GRAPH_FAMILIES)}"
        )
    params = model.get("params")
    if not isinstance(params, dict) or not params:
        raise CladderFormatError(f"{where}: 'params' must be a non-empty object")
    parsed = {}
    for name, value in params.items():
        var, parents = parse_param_name(name)
        parsed[var] = (parents, flatten_cpt(value))
    order = _topological({v: ps for v, (ps, _) in parsed.items()}, where)
    variables = []
    for var in order:
        rec: dict[str, Any] = {"name": var, "parents": parsed[var][0], "cpt": parsed[var][1]}
        if HIDDEN.get(graph) == var:
            rec["observed"] = False
        variables.append(rec)
    record = {"noise": "comonotone", "variables": variables}
    try:
        SCM.from_dict(record)
    except LadderError as exc:
        raise CladderFormatError(f"{where}: {exc}") from None
    return record


def index_models(models: Any, where: str = "models") -> dict[int, dict[str, Any]]:
    """CLadder's model list keyed by ``model_id`` (a bad shape raises)."""
    if not isinstance(models, list) or not all(
        isinstance(m, dict) and "model_id" in m and "params" in m for m in models
    ):
        raise CladderFormatError(
            f"{where}: not a CLadder model file (a JSON list of objects with model_id and params)"
        )
    return {int(m["model_id"]): m for m in models}


def _sign(flag: Any) -> int:
    """CLadder's polarity flags (true/false or 1/0) as +1/−1."""
    return 1 if flag else -1


def _all_true(meta: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        if key in meta and meta[key] is not True:
            return f"{key}={meta[key]!r}: only {key}=true occurs in CLadder's files and is mapped"
    return None


def _simple_query(meta: Mapping[str, Any], kind: str) -> Query | str:
    """marginal, correlation, ate, ett, nde, nie."""
    reason = _all_true(meta, "treated", "result")
    if reason:
        return reason
    x, y, pol = meta["treatment"], meta["outcome"], _sign(meta["polarity"])
    if kind == "marginal":
        return Query("marginal", outcome=y, polarity=pol)
    if kind in ("correlation", "ate"):
        return Query(kind, treatment=x, outcome=y, polarity=pol)
    if kind == "ett":
        # Asked of the treated (X=1): "would Y=1 be more likely had X been 0" is −ETT > 0.
        return Query("ett", treatment=x, outcome=y, polarity=-pol, given={x: 1})
    mediators = meta.get("mediators") or []
    if len(mediators) != 1:
        return f"{kind} through mediators {mediators}: ladder's {kind} takes exactly one mediator"
    return Query(kind, treatment=x, outcome=y, mediator=mediators[0], polarity=pol)


def _graph_query(meta: Mapping[str, Any], kind: str, scm: SCM) -> Query | str:
    """exp_away, collider_bias, backadj, det-counterfactual."""
    x, y = meta["treatment"], meta["outcome"]
    if kind == "exp_away":
        reason = _all_true(meta, "treated", "result", "baseline")
        return reason or Query(
            "explaining_away",
            treatment=x,
            outcome=y,
            given={meta["collider"]: 1},
            polarity=_sign(meta["polarity"]),
        )
    if kind == "collider_bias":
        if not meta["polarity"]:
            return "collider_bias worded 'does not affect': the structural-zero rule answers no"
        return Query("collider_bias", treatment=x, outcome=y, polarity=1)
    if kind == "backadj":
        return _backadj_query(meta, scm)
    return Query(
        "counterfactual",
        treatment=x,
        outcome=y,
        given={k: int(v) for k, v in meta["given_info"].items()},
        do={x: int(meta["action"])},
        polarity=_sign(meta["polarity"]),
    )


def _backadj_query(meta: Mapping[str, Any], scm: SCM) -> Query | str:
    """ "Is Method 1 more correct than Method 2?" is "is Method 1 valid?" only when at most
    one of the two sets is valid."""
    first, second = (list(s) for s in meta["given_info"])
    both = [
        queries.truth(scm, Query("backdoor_set", meta["treatment"], meta["outcome"], adjust=s))
        for s in (tuple(first), tuple(second))
    ]
    if both == [1.0, 1.0]:
        return (
            f"both methods ({first} and {second}) are valid back-door sets: "
            "'more correct' has no yes/no answer"
        )
    return Query("backdoor_set", meta["treatment"], meta["outcome"], adjust=tuple(first))


_SIMPLE = {"marginal", "correlation", "ate", "ett", "nde", "nie"}
_GRAPH = {"exp_away", "collider_bias", "backadj", "det-counterfactual"}


def map_query(meta: Mapping[str, Any], scm: SCM) -> Query | str:
    """The ladder query of a CLadder question's ``meta``, or why there is none."""
    kind = meta.get("query_type")
    if kind in _SIMPLE:
        return _simple_query(meta, kind)
    if kind in _GRAPH:
        return _graph_query(meta, kind, scm)
    return f"query type {kind!r} has no ladder counterpart"


def _prompt(model: Mapping[str, Any], question: Mapping[str, Any]) -> str:
    parts = [model.get("background", ""), question["given_info"], question["question"]]
    return "\n".join(p.strip() for p in parts if p and p.strip()) + "\nAnswer yes or no."


def _verbalization(stem: str) -> str:
    return _VERBALIZATIONS.get(stem.rsplit("-", 1)[-1], "commonsense")


def _item(
    question: Mapping[str, Any], model: Mapping[str, Any], record: dict, query: Query, stem: str
) -> Item:
    """The item of a mapped question (truth and answer from the engine)."""
    scm = SCM.from_dict(record)
    meta = question["meta"]
    truth = float(queries.truth(scm, query))
    edges = sorted([p, v["name"]] for v in record["variables"] for p in v["parents"])
    return {  # type: ignore[return-value]
        "id": f"cladder-{stem}-{question['question_id']}",
        "task": "cladder",
        "rung": query.rung,
        "graph_family": GRAPH_FAMILIES[model["graph_id"]],
        "verbalization": _verbalization(stem),
        "scm": record,
        "query": query.to_dict(),
        "truth": truth,
        "answer": queries.answer(query, truth),
        "prompt": _prompt(model, question),
        "seed": int(model.get("seed", 0)),
        "contract_version": CONTRACT_VERSION_V1,
        "query_type": query.type,
        "evidence": "probabilities",
        "n_nodes": len(record["variables"]),
        "story": meta.get("story_id"),
        "edges": edges,
        "source": _source(question, stem),
    }


def _source(question: Mapping[str, Any], stem: str) -> dict[str, Any]:
    meta = question["meta"]
    return {
        "benchmark": "cladder",
        "question_id": question["question_id"],
        "desc_id": question.get("desc_id"),
        "model_id": meta["model_id"],
        "graph_id": meta.get("graph_id"),
        "query_type": meta.get("query_type"),
        "label": question["answer"],
        "value": meta.get("groundtruth"),
        "file": f"{stem}.json",
    }


def _check_question(question: Any, where: str) -> None:
    if not isinstance(question, dict) or any(k not in question for k in _QUESTION_KEYS):
        raise CladderFormatError(
            f"{where}: not a CLadder question (needs {', '.join(_QUESTION_KEYS)})"
        )
    meta = question["meta"]
    if not isinstance(meta, dict) or "model_id" not in meta or "query_type" not in meta:
        raise CladderFormatError(f"{where}: meta lacks model_id or query_type")


def convert_question(
    question: Mapping[str, Any], models: Mapping[int, Mapping[str, Any]], stem: str
) -> Converted:
    """One CLadder question as ``("item", item)`` or ``("skip", {..., "reason"})``."""
    where = f"{stem}.json: question {question.get('question_id')!r}"
    _check_question(question, where)
    model_id = question["meta"]["model_id"]
    if model_id not in models:
        raise CladderFormatError(f"{where}: model_id {model_id} is not in the model file")
    model = models[model_id]
    record = build_scm(model, f"model {model_id}")
    query = map_query(question["meta"], SCM.from_dict(record))
    if isinstance(query, str):
        skip = dict(_source(question, stem), reason=query)
        return "skip", skip
    return "item", dict(_item(question, model, record, query, stem))


def convert_file(
    questions: Any, models: Mapping[int, Mapping[str, Any]], path: str | Path
) -> tuple[list[Item], list[dict[str, Any]]]:
    """Every question of a CLadder question file: (items, skipped), in file order."""
    if not isinstance(questions, list) or not questions:
        raise CladderFormatError(f"{path}: not a CLadder question file (a non-empty JSON list)")
    stem = Path(path).stem
    items: list[Item] = []
    skipped: list[dict[str, Any]] = []
    for question in questions:
        kind, record = convert_question(question, models, stem)
        (items if kind == "item" else skipped).append(record)  # type: ignore[arg-type]
    return items, skipped
