"""Queries of the item contract: what is asked, its exact truth and its yes/no answer.

Each query type is registered once with :func:`query_type`, which records its rung,
its decision rule and the function computing its truth through :mod:`ladder.engine.inference`.

Example
-------
>>> from ladder.engine.scm import SCM
>>> scm = SCM.from_dict({"variables": [
...     {"name": "Z", "parents": [], "cpt": [0.4]},
...     {"name": "X", "parents": ["Z"], "cpt": [0.3, 0.8]},
...     {"name": "Y", "parents": ["X", "Z"], "cpt": [0.1, 0.5, 0.6, 0.9]}]})
>>> q = Query("ate", treatment="X", outcome="Y", polarity=-1)
>>> round(truth(scm, q), 10), answer(q, truth(scm, q))
(0.46, 'no')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ladder.engine import inference
from ladder.engine.scm import SCM, SCMError

__all__ = [
    "QUERY_TYPES",
    "Query",
    "QueryType",
    "answer",
    "association_truth",
    "query_type",
    "truth",
]

Rule = Literal["probability", "difference", "indicator"]


@dataclass(frozen=True)
class Query:
    """One question on an SCM, in the item contract's ``query`` shape."""

    type: str
    treatment: str | None = None
    outcome: str | None = None
    polarity: int = 1
    given: Mapping[str, int] = field(default_factory=dict)
    mediator: str | None = None
    adjust: tuple[str, ...] | None = None
    do: Mapping[str, int] | None = None

    def __post_init__(self) -> None:
        if self.type not in QUERY_TYPES:
            raise SCMError(f"unknown query type {self.type!r}; allowed: {', '.join(QUERY_TYPES)}")
        if self.polarity not in (1, -1):
            raise SCMError(f"query {self.type}: polarity {self.polarity!r} must be +1 or -1")
        for needed in QUERY_TYPES[self.type].needs:
            if getattr(self, needed) is None:
                raise SCMError(f"query {self.type} needs a {needed!r}")

    @property
    def rung(self) -> int:
        return QUERY_TYPES[self.type].rung

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.treatment is not None:
            out["treatment"] = self.treatment
        out["outcome"] = self.outcome
        out["polarity"] = self.polarity
        if self.given:
            out["given"] = dict(self.given)
        if self.mediator is not None:
            out["mediator"] = self.mediator
        if self.adjust is not None:
            out["adjust"] = list(self.adjust)
        if self.do is not None:
            out["do"] = dict(self.do)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Query:
        known = {"type", "treatment", "outcome", "polarity", "given", "mediator", "adjust", "do"}
        unknown = set(data) - known
        if unknown:
            raise SCMError(f"query: unknown fields {sorted(unknown)}; allowed: {sorted(known)}")
        adjust = data.get("adjust")
        return cls(
            type=data["type"],
            treatment=data.get("treatment"),
            outcome=data.get("outcome"),
            polarity=int(data.get("polarity", 1)),
            given=dict(data.get("given", {})),
            mediator=data.get("mediator"),
            adjust=tuple(adjust) if adjust is not None else None,
            do=dict(data["do"]) if data.get("do") is not None else None,
        )


@dataclass(frozen=True)
class QueryType:
    """Registry entry: rung, decision rule, required fields, truth and rung-1 counterpart."""

    name: str
    rung: int
    rule: Rule
    needs: tuple[str, ...]
    truth: Callable[[SCM, Query], float]
    association: Callable[[SCM, Query], float]


QUERY_TYPES: dict[str, QueryType] = {}


def query_type(
    name: str,
    rung: int,
    rule: Rule,
    needs: tuple[str, ...] = ("outcome",),
    association: Callable[[SCM, Query], float] | None = None,
) -> Callable[[Callable[[SCM, Query], float]], Callable[[SCM, Query], float]]:
    """Register the truth function of a query type (decorator)."""

    def register(fn: Callable[[SCM, Query], float]) -> Callable[[SCM, Query], float]:
        QUERY_TYPES[name] = QueryType(name, rung, rule, needs, fn, association or fn)
        return fn

    return register


def truth(scm: SCM, query: Query) -> float:
    """The exact ``truth`` of ``query`` on ``scm`` (see the contract's table)."""
    return QUERY_TYPES[query.type].truth(scm, query)


def association_truth(scm: SCM, query: Query) -> float:
    """What a perfect rung-1 reasoner would compute for ``query``.

    It answers every question with the observational quantity that reads like it:
    ``P(y|x1) − P(y|x0)`` for an effect of ``do(x)``, conditionals for counterfactuals.
    """
    return QUERY_TYPES[query.type].association(scm, query)


def answer(query: Query, value: float) -> str:
    """The contract's yes/no rule for ``value`` (a truth, or a baseline's estimate)."""
    rule = QUERY_TYPES[query.type].rule
    if rule == "probability":
        return "yes" if query.polarity * (value - 0.5) > 0 else "no"
    if rule == "difference":
        return "yes" if query.polarity * value > 0 else "no"
    return "yes" if value == 1 else "no"


def _contrast(scm: SCM, q: Query, given: Mapping[str, int] | None = None) -> float:
    assert q.treatment is not None and q.outcome is not None
    return inference.contrast(scm, q.treatment, q.outcome, q.given if given is None else given)


@query_type("marginal", 1, "probability")
def _marginal(scm: SCM, q: Query) -> float:
    assert q.outcome is not None
    return inference.marginal(scm, q.outcome, q.given)


@query_type("correlation", 1, "difference", ("treatment", "outcome"))
def _correlation(scm: SCM, q: Query) -> float:
    return _contrast(scm, q)


@query_type("explaining_away", 1, "difference", ("treatment", "outcome"))
def _explaining_away(scm: SCM, q: Query) -> float:
    return _contrast(scm, q)


@query_type("ate", 2, "difference", ("treatment", "outcome"), association=_contrast)
def _ate(scm: SCM, q: Query) -> float:
    assert q.treatment is not None and q.outcome is not None
    return inference.ate(scm, q.treatment, q.outcome, q.given or None)


@query_type("collider_bias", 2, "difference", ("treatment", "outcome"), association=_contrast)
def _collider_bias(scm: SCM, q: Query) -> float:
    # The asked effect is unconditional: conditioning on the collider is the trap.
    assert q.treatment is not None and q.outcome is not None
    return inference.ate(scm, q.treatment, q.outcome)


def _assoc_backdoor(scm: SCM, q: Query) -> float:
    """A rung-1 reasoner "adjusts for everything correlated with both X and Y"."""
    assert q.treatment is not None and q.outcome is not None and q.adjust is not None
    others = [v for v in scm.observed_names if v not in (q.treatment, q.outcome)]
    correlates = inference.associated(scm, q.treatment, others) & inference.associated(
        scm, q.outcome, others
    )
    return 1.0 if set(q.adjust) == correlates else 0.0


@query_type(
    "backdoor_set", 2, "indicator", ("treatment", "outcome", "adjust"), association=_assoc_backdoor
)
def _backdoor_set(scm: SCM, q: Query) -> float:
    assert q.treatment is not None and q.outcome is not None and q.adjust is not None
    return 1.0 if inference.is_backdoor_set(scm.graph, q.treatment, q.outcome, q.adjust) else 0.0


def _assoc_ett(scm: SCM, q: Query) -> float:
    assert q.treatment is not None
    rest = {k: v for k, v in q.given.items() if k != q.treatment}
    return _contrast(scm, q, rest)


@query_type("ett", 3, "difference", ("treatment", "outcome"), association=_assoc_ett)
def _ett(scm: SCM, q: Query) -> float:
    assert q.treatment is not None and q.outcome is not None
    if q.treatment not in q.given:
        raise SCMError(f"ett: given {dict(q.given)} must hold the treatment {q.treatment!r}")
    return inference.ett(scm, q.treatment, q.outcome, q.given)


def _assoc_nde(scm: SCM, q: Query) -> float:
    # Rung-1 reading of "the effect not through M": the contrast among units with equal M,
    # averaged over the observed distribution of M.
    assert q.treatment and q.outcome and q.mediator
    p_m1 = inference.marginal(scm, q.mediator)
    return sum(
        p_m * _contrast(scm, q, {q.mediator: m})
        for m, p_m in ((0, 1.0 - p_m1), (1, p_m1))
        if p_m > 0
    )


def _assoc_nie(scm: SCM, q: Query) -> float:
    return _contrast(scm, q, {}) - _assoc_nde(scm, q)


@query_type("nde", 3, "difference", ("treatment", "outcome", "mediator"), association=_assoc_nde)
def _nde(scm: SCM, q: Query) -> float:
    assert q.treatment and q.outcome and q.mediator
    return inference.nde(scm, q.treatment, q.outcome, q.mediator)


@query_type("nie", 3, "difference", ("treatment", "outcome", "mediator"), association=_assoc_nie)
def _nie(scm: SCM, q: Query) -> float:
    assert q.treatment and q.outcome and q.mediator
    return inference.nie(scm, q.treatment, q.outcome, q.mediator)


def _assoc_counterfactual(scm: SCM, q: Query) -> float:
    # Read "had X been x'" as "among units with X = x'", keeping evidence on other causes.
    assert q.outcome is not None and q.do is not None
    evidence = {k: v for k, v in q.given.items() if k not in q.do and k != q.outcome}
    evidence.update(q.do)
    return inference.marginal(scm, q.outcome, evidence)


@query_type(
    "counterfactual", 3, "probability", ("outcome", "do"), association=_assoc_counterfactual
)
def _counterfactual(scm: SCM, q: Query) -> float:
    assert q.outcome is not None and q.do is not None
    return inference.counterfactual(scm, q.outcome, q.do, q.given)
