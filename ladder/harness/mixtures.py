"""Mixture baselines: answer rules with a known weight, for validating the analysis.

``mixture-α`` answers with the truth oracle with probability α and with the association
oracle otherwise; ``biased-β`` says "yes" with probability β whatever the item. Their draws
are deterministic per (kind, weight, seed, item id). They live in the harness so that
``ladder run --model mixture-0.7`` can score them; the analysis recovers their weights
(:func:`ladder.analysis.baselines.recover_alpha`, ``recover_beta``).

>>> parse_mixture("mixture-0.7"), parse_mixture("biased-0.8"), parse_mixture("random")
(('mixture', 0.7), ('biased', 0.8), None)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from ladder.core.records import ANSWER, ASSOCIATION_ANSWER, ID, NO, YES

__all__ = [
    "FIXED_BASELINES",
    "MIXTURE_KINDS",
    "biased_answer",
    "is_baseline_name",
    "mixture_answer",
    "parse_mixture",
]

#: The baselines without a weight.
FIXED_BASELINES = ("random", "always-yes", "association-oracle", "truth-oracle")
#: Name prefixes of the mixture baselines: ``mixture-<α>`` and ``biased-<β>``.
MIXTURE_KINDS = ("mixture", "biased")
_WEIGHT = re.compile(r"(mixture|biased)-(0(\.\d+)?|1(\.0+)?)")


def parse_mixture(name: str) -> tuple[str, float] | None:
    """``(kind, weight)`` of a mixture baseline's name, None for any other name."""
    match = _WEIGHT.fullmatch(name)
    return (match.group(1), float(match.group(2))) if match else None


def _uniform(kind: str, weight: float, seed: int, item_id: str) -> float:
    """A uniform number in [0, 1) fixed by (kind, weight, seed, item id)."""
    digest = hashlib.sha256(f"{kind}-baseline|{weight!r}|{seed}|{item_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def mixture_answer(item: Mapping[str, Any], alpha: float, seed: int = 0) -> tuple[float, str]:
    """``(p_yes, prediction)`` of ``mixture-α``: the truth oracle's answer with probability
    ``alpha``, the association oracle's otherwise.

    Where the item has no association answer (None: no rung-1 counterpart) the association
    oracle's own answer is used, as the ``association-oracle`` baseline gives it: "no" with
    ``p_yes`` 0.5. So ``mixture-1`` is the truth oracle and ``mixture-0`` the association
    oracle, and the weight is read on discordant items, where the two differ.

    >>> item = {"id": "a", "answer": "yes", "association_answer": "no"}
    >>> mixture_answer(item, 1.0), mixture_answer(item, 0.0)
    ((1.0, 'yes'), (0.0, 'no'))
    """
    if _uniform("mixture", alpha, seed, item[ID]) < alpha:
        decision = item[ANSWER]
    else:
        decision = item.get(ASSOCIATION_ANSWER)
        if decision is None:
            return 0.5, NO
    return (1.0 if decision == YES else 0.0), decision


def biased_answer(item: Mapping[str, Any], beta: float, seed: int = 0) -> tuple[float, str]:
    """``(p_yes, prediction)`` of ``biased-β``: "yes" with probability ``beta`` whatever the
    item; ``p_yes`` is 1 or 0 with the answer (a biased coin that is sure of itself).

    >>> biased_answer({"id": "a"}, 1.0), biased_answer({"id": "a"}, 0.0)
    ((1.0, 'yes'), (0.0, 'no'))
    """
    says_yes = _uniform("biased", beta, seed, item[ID]) < beta
    return (1.0, YES) if says_yes else (0.0, NO)


def is_baseline_name(name: str) -> bool:
    """Whether ``name`` is a baseline: one of :data:`FIXED_BASELINES` or a mixture name.

    >>> is_baseline_name("truth-oracle"), is_baseline_name("biased-0.5"), is_baseline_name("x")
    (True, True, False)
    """
    return name in FIXED_BASELINES or parse_mixture(name) is not None
