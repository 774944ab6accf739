"""Queries of the item contract: what is asked, its exact truth and its yes/no answer.

The public face of :mod:`ladder.engine.query_types`, where each query type is declared
once (one module per type). Exact values go through :mod:`ladder.engine.inference`.

Example
-------
The natural direct effect in a mediation model (X → M → Y and X → Y), asked as "less likely?":

>>> from ladder.engine.scm import SCM
>>> med = SCM.from_dict({"variables": [
...     {"name": "X", "parents": [], "cpt": [0.5]},
...     {"name": "M", "parents": ["X"], "cpt": [0.2, 0.7]},
...     {"name": "Y", "parents": ["X", "M"], "cpt": [0.1, 0.4, 0.3, 0.8]}]})
>>> q = Query.from_dict({"type": "nde", "treatment": "X", "outcome": "Y", "mediator": "M",
...                      "polarity": -1})
>>> q.rung, q.kind.rule
(3, 'difference')
>>> round(truth(med, q), 10), answer(q, truth(med, q))  # Σ_m P(m|X=0)·[P(y|1,m) − P(y|0,m)]
(0.24, 'no')
>>> round(association_truth(med, q), 10)  # rung 1 weighs the same contrasts by P(m) instead
0.29
"""

from __future__ import annotations

from ladder.core.records import Answer
from ladder.engine.query_types import QUERY_TYPES, Query, QueryType, Rule
from ladder.engine.query_types._base import ZERO_TOLERANCE
from ladder.engine.scm import SCM

__all__ = [
    "QUERY_TYPES",
    "ZERO_TOLERANCE",
    "Query",
    "QueryType",
    "Rule",
    "answer",
    "association_truth",
    "truth",
]


def truth(scm: SCM, query: Query) -> float:
    """The exact ``truth`` of ``query`` on ``scm`` (see the contract's table)."""
    return query.kind.truth(scm, query)


def association_truth(scm: SCM, query: Query) -> float:
    """What a perfect rung-1 reasoner would compute for ``query``.

    It answers every question with the observational quantity that reads like it:
    ``P(y|x1) − P(y|x0)`` for an effect of ``do(x)``, conditionals for counterfactuals.
    """
    return query.kind.associate(scm, query)


def answer(query: Query, value: float) -> Answer:
    """The contract's yes/no rule for ``value`` (a truth, or a baseline's estimate).

    A value within :data:`ZERO_TOLERANCE` of the threshold (0 for differences, ½ for
    probabilities) is "no" for both polarities: an exact zero computed as 1e-16 is no effect.

    >>> q = Query("marginal", outcome="Y", polarity=-1)
    >>> answer(q, 0.5 - 1e-16), answer(q, 0.4)
    ('no', 'yes')
    """
    return query.kind.answer(query.polarity, value)
