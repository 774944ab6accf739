"""Queries of the item contract: what is asked, its exact truth and its yes/no answer.

The public face of :mod:`ladder.engine.query_types`, where each query type is declared
once (one module per type). Exact values go through :mod:`ladder.engine.inference`.

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
>>> round(association_truth(scm, q), 10)
0.628
"""

from __future__ import annotations

from ladder.core.records import Answer
from ladder.engine.query_types import QUERY_TYPES, Query, QueryType, Rule
from ladder.engine.scm import SCM

__all__ = ["QUERY_TYPES", "Query", "QueryType", "Rule", "answer", "association_truth", "truth"]


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
    """The contract's yes/no rule for ``value`` (a truth, or a baseline's estimate)."""
    return query.kind.answer(query.polarity, value)
