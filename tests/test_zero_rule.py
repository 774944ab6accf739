"""The yes/no rule's zero tolerance: |value − threshold| < 1e-12 is the threshold itself.

An effect that is exactly 0 often computes as ±1e-16; it must answer "no" for both
polarities (neither more nor less likely), never "yes" for one of them.
"""

from __future__ import annotations

import pytest

from ladder.engine.queries import QUERY_TYPES, ZERO_TOLERANCE, Query, answer, truth
from ladder.engine.scm import SCM

DIFFERENCE = [n for n, k in QUERY_TYPES.items() if k.rule == "difference"]
PROBABILITY = [n for n, k in QUERY_TYPES.items() if k.rule == "probability"]


def _query(name: str, polarity: int) -> Query:
    fields = {"type": name, "treatment": "X", "outcome": "Y", "polarity": polarity}
    fields.update({"mediator": "M", "given": {"X": 0}, "do": {"X": 1}})
    kind = QUERY_TYPES[name]
    wanted = {"type", "polarity", "outcome", *kind.needs}
    return Query.from_dict({k: v for k, v in fields.items() if k in wanted})


def test_the_rule_types_are_the_contracts() -> None:
    assert set(DIFFERENCE) == {
        "correlation",
        "explaining_away",
        "ate",
        "collider_bias",
        "ett",
        "nde",
        "nie",
    }
    assert set(PROBABILITY) == {"marginal", "counterfactual"}
    assert ZERO_TOLERANCE == 1e-12


@pytest.mark.parametrize("name", DIFFERENCE)
@pytest.mark.parametrize("polarity", [1, -1])
@pytest.mark.parametrize("value", [1e-16, -1e-16, 0.0, 9e-13, -9e-13])
def test_a_zero_difference_is_no_for_both_polarities(
    name: str, polarity: int, value: float
) -> None:
    assert answer(_query(name, polarity), value) == "no"


@pytest.mark.parametrize("name", PROBABILITY)
@pytest.mark.parametrize("polarity", [1, -1])
@pytest.mark.parametrize("offset", [1e-16, -1e-16, 0.0, 9e-13, -9e-13])
def test_a_probability_of_one_half_is_no_for_both_polarities(
    name: str, polarity: int, offset: float
) -> None:
    assert answer(_query(name, polarity), 0.5 + offset) == "no"


@pytest.mark.parametrize("name", DIFFERENCE)
def test_values_beyond_the_tolerance_are_still_decided(name: str) -> None:
    assert answer(_query(name, 1), 1e-11) == "yes"
    assert answer(_query(name, -1), -1e-11) == "yes"
    assert answer(_query(name, 1), -1e-11) == "no"


def test_a_structurally_zero_effect_computed_with_rounding_error_is_no() -> None:
    # X and Y are both causes of C, so do(X) cannot move Y: the computed effect is 0 up to
    # rounding, and its sign (±1e-16 on CLadder's colliders) must not decide the answer.
    scm = SCM.from_dict(
        {
            "variables": [
                {"name": "X", "parents": [], "cpt": [0.1]},
                {"name": "Y", "parents": [], "cpt": [0.7]},
                {"name": "C", "parents": ["X", "Y"], "cpt": [0.3, 0.6, 0.1, 0.9]},
            ]
        }
    )
    q = Query("collider_bias", treatment="X", outcome="Y")
    value = truth(scm, q)
    assert abs(value) < 1e-12
    for polarity in (1, -1):
        assert (
            answer(Query("collider_bias", treatment="X", outcome="Y", polarity=polarity), value)
            == "no"
        )
        assert QUERY_TYPES["collider_bias"].answer(polarity, 1e-16) == "no"
        assert QUERY_TYPES["collider_bias"].answer(polarity, -1e-16) == "no"
