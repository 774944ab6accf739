"""Bad input to the engine, and the graphical criteria against hand-known answers.

Every malformed SCM or query must raise ``ValueError`` (``SCMError`` is a subclass) with a
message that names the variable and the problem.
"""

from __future__ import annotations

import itertools
import math
import random

import networkx as nx
import pytest

from ladder.engine.graphs import FAMILIES, get_family, random_dag
from ladder.engine.inference import (
    FromWorld,
    ate,
    contrast,
    counterfactual,
    ett,
    is_backdoor_set,
    is_frontdoor_set,
    joint_distribution,
    marginal,
    multiworld_probability,
    nde,
    nie,
    probability,
    probability_of_necessity,
)
from ladder.engine.scm import SCM, SCMError, Variable

try:
    from tests.references import ref_d_separated, ref_is_backdoor
except ImportError:  # tests/ itself on sys.path
    from references import ref_d_separated, ref_is_backdoor


def scm_of(*variables: dict, noise: str = "comonotone") -> SCM:
    return SCM.from_dict({"noise": noise, "variables": list(variables)})


X = {"name": "X", "parents": [], "cpt": [0.5]}
Y = {"name": "Y", "parents": ["X"], "cpt": [0.2, 0.6]}


@pytest.fixture
def xy() -> SCM:
    return scm_of(X, Y)


@pytest.fixture
def determ() -> SCM:
    """X never happens; Z copies W exactly (so W=1, Z=0 is impossible)."""
    return scm_of(
        {"name": "X", "parents": [], "cpt": [0.0]},
        {"name": "Y", "parents": ["X"], "cpt": [0.3, 0.7]},
        {"name": "W", "parents": [], "cpt": [0.5]},
        {"name": "Z", "parents": ["W"], "cpt": [0.0, 1.0]},
    )


def test_scm_error_is_a_value_error():
    assert issubclass(SCMError, ValueError)


# -- malformed SCMs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variables", "pattern"),
    [
        # a cycle (two nodes, three nodes, a self-loop)
        (
            [
                {"name": "A", "parents": ["B"], "cpt": [0.1, 0.2]},
                {"name": "B", "parents": ["A"], "cpt": [0.3, 0.4]},
            ],
            r"variable '[AB]' lies on a cycle: [AB] -> [AB] -> [AB]",
        ),
        (
            [
                X,
                {"name": "P", "parents": ["X", "R"], "cpt": [0.1] * 4},
                {"name": "Q", "parents": ["P"], "cpt": [0.1] * 2},
                {"name": "R", "parents": ["Q"], "cpt": [0.1] * 2},
            ],
            r"variable '[PQR]' lies on a cycle",
        ),
        (
            [{"name": "A", "parents": ["A"], "cpt": [0.1, 0.2]}],
            r"variable 'A' lies on a cycle: A -> A",
        ),
        # an unknown parent
        (
            [X, {"name": "Y", "parents": ["X", "W"], "cpt": [0.1] * 4}],
            r"variable 'Y' has unknown parent 'W'",
        ),
        # a cpt of the wrong length
        (
            [X, {"name": "Y", "parents": ["X"], "cpt": [0.1, 0.2, 0.3]}],
            r"variable 'Y': cpt has 3 entries, expected 2\*\*1 = 2",
        ),
        (
            [{"name": "X", "parents": [], "cpt": []}],
            r"variable 'X': cpt has 0 entries, expected 2\*\*0 = 1",
        ),
        ([{"name": "X", "parents": []}], r"variable 'X': cpt has 0 entries"),
        # probabilities outside [0, 1], NaN, infinity, non-numbers
        (
            [X, {"name": "Y", "parents": ["X"], "cpt": [0.1, 1.5]}],
            r"variable 'Y': cpt\[1\] = 1\.5 is not a probability in \[0, 1\]",
        ),
        (
            [X, {"name": "Y", "parents": ["X"], "cpt": [-0.1, 0.5]}],
            r"variable 'Y': cpt\[0\] = -0\.1 is not a probability",
        ),
        (
            [X, {"name": "Y", "parents": ["X"], "cpt": [0.1, math.nan]}],
            r"variable 'Y': cpt\[1\] = nan is not a probability",
        ),
        (
            [{"name": "X", "parents": [], "cpt": [math.inf]}],
            r"variable 'X': cpt\[0\] = inf is not a probability",
        ),
        (
            [{"name": "X", "parents": [], "cpt": ["0.5"]}],
            r"variable 'X': cpt\[0\] = '0\.5' is not a probability",
        ),
        # duplicates
        ([X, {"name": "X", "parents": [], "cpt": [0.3]}], r"variable 'X' is defined twice"),
        (
            [X, {"name": "Y", "parents": ["X", "X"], "cpt": [0.1] * 4}],
            r"variable 'Y' lists a parent twice",
        ),
        # empty name, unknown field
        ([{"name": "", "parents": [], "cpt": [0.5]}], r"variable name '' must be a non-empty"),
        (
            [{"name": "X", "parents": [], "cpt": [0.5], "weight": 2}],
            r"variable 'X': unknown fields \['weight'\]",
        ),
    ],
    ids=[
        "cycle2",
        "cycle3",
        "self-loop",
        "unknown-parent",
        "cpt-length",
        "cpt-empty",
        "cpt-missing",
        "above-1",
        "below-0",
        "nan",
        "inf",
        "string",
        "duplicate-variable",
        "duplicate-parent",
        "empty-name",
        "unknown-field",
    ],
)
def test_malformed_scm(variables, pattern):
    with pytest.raises(ValueError, match=pattern):
        scm_of(*variables)


def test_malformed_scm_via_constructor():
    with pytest.raises(SCMError, match=r"variable 'Y': cpt\[1\] = nan"):
        SCM((Variable("X"), Variable("Y", ("X",), (0.1, math.nan))))
    with pytest.raises(SCMError, match=r"variable 'Y' has unknown parent 'Q'"):
        SCM((Variable("Y", ("Q",), (0.1, 0.2)),))


def test_boundary_cpts_are_accepted():
    scm = scm_of(
        {"name": "X", "parents": [], "cpt": [0]}, {"name": "Y", "parents": ["X"], "cpt": [1, 0.0]}
    )
    assert scm["Y"].cpt == (1.0, 0.0)
    assert marginal(scm, "Y") == 1.0


def test_with_cpt_unknown_variable(xy):
    """SCM BUG (reported): with_cpt on a name the SCM lacks silently returns an unchanged
    copy instead of raising, so a typo in a variable name goes unnoticed."""
    with pytest.raises(ValueError, match=r"unknown variable 'Q'"):
        xy.with_cpt("Q", [0.1])


def test_with_cpt_validates(xy):
    with pytest.raises(SCMError, match=r"variable 'Y': cpt has 1 entries, expected 2\*\*1"):
        xy.with_cpt("Y", [0.1])
    with pytest.raises(SCMError, match=r"variable 'Y': cpt\[0\] = 2\.0 is not a probability"):
        xy.with_cpt("Y", [2.0, 0.1])


def test_observed_flag_must_be_a_boolean():
    """SCM BUG (reported, minor): from_dict turns ``"observed": "false"`` (a string) into
    ``bool("false") is True``, silently making a hidden variable observed; it should be
    rejected like the other malformed fields."""
    with pytest.raises(ValueError, match=r"variable 'U'.*observed"):
        SCM.from_dict(
            {"variables": [{"name": "U", "parents": [], "cpt": [0.5], "observed": "false"}]}
        )


def test_malformed_scm_top_level():
    with pytest.raises(SCMError, match=r"noise 'gaussian' is not supported"):
        scm_of(X, noise="gaussian")
    with pytest.raises(SCMError, match=r"'variables' list"):
        SCM.from_dict({"noise": "comonotone"})
    with pytest.raises(SCMError, match=r"scm\.variables\[1\] must be an object with a 'name'"):
        SCM.from_dict({"variables": [X, {"parents": []}]})


# -- malformed queries ------------------------------------------------------------------------


def test_conditioning_on_a_probability_zero_event(determ):
    with pytest.raises(SCMError, match=r"X=1 has probability 0"):
        probability(determ, {"Y": 1}, {"X": 1})
    with pytest.raises(SCMError, match=r"X=1 has probability 0"):
        marginal(determ, "Y", {"X": 1})
    # each part possible, the conjunction not
    with pytest.raises(SCMError, match=r"W=1, Z=0 has probability 0"):
        probability(determ, {"Y": 1}, {"W": 1, "Z": 0})
    with pytest.raises(SCMError, match=r"X=1 has probability 0"):
        contrast(determ, "X", "Y")
    with pytest.raises(SCMError, match=r"X=1.* has probability 0"):
        counterfactual(determ, "Y", {"X": 0}, {"X": 1, "Y": 1})
    with pytest.raises(SCMError, match=r"X=1.* has probability 0"):
        probability_of_necessity(determ, "X", "Y")
    with pytest.raises(SCMError, match=r"X=1 has probability 0"):
        ett(determ, "X", "Y", {"X": 1})
    # evidence contradicting the intervention in the same world
    with pytest.raises(SCMError, match=r"X=0 is impossible"):
        probability(determ, {"Y": 1}, {"X": 0}, do={"X": 1})
    # the same query with possible evidence is fine
    assert marginal(determ, "Y", {"X": 0}) == pytest.approx(0.3)


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda s: marginal(s, "Q"), r"unknown variable 'Q'"),
        (lambda s: probability(s, {"Y": 1, "Q": 0}), r"unknown variable 'Q'"),
        (lambda s: probability(s, {"Y": 1}, {"Q": 1}), r"unknown variable 'Q'"),
        (lambda s: probability(s, {"Y": 1}, do={"Q": 1}), r"unknown variable 'Q'"),
        (lambda s: ate(s, "Q", "Y"), r"unknown variable 'Q'"),
        (lambda s: ate(s, "X", "Q"), r"unknown variable 'Q'"),
        (lambda s: contrast(s, "X", "Q"), r"unknown variable 'Q'"),
        (lambda s: counterfactual(s, "Q", {"X": 1}), r"unknown variable 'Q'"),
        (lambda s: counterfactual(s, "Y", {"Q": 1}), r"unknown variable 'Q'"),
        (lambda s: counterfactual(s, "Y", {"X": 1}, {"Q": 0}), r"unknown variable 'Q'"),
        (lambda s: ett(s, "X", "Y", {"Q": 1}), r"unknown variable 'Q'"),
        (lambda s: nde(s, "X", "Y", "Q"), r"unknown variable 'Q'"),
        (lambda s: nie(s, "X", "Q", "Y"), r"unknown variable 'Q'"),
        (lambda s: joint_distribution(s, do={"Q": 1}), r"unknown variable 'Q'"),
        (lambda s: multiworld_probability(s, [{}], {(1, "Y"): 1}), r"'Y' refers to world 1"),
        (lambda s: is_backdoor_set(s.graph, "X", "Y", {"Q"}), r"unknown variable 'Q'"),
        (lambda s: is_frontdoor_set(s.graph, "Q", "Y", {"X"}), r"unknown variable 'Q'"),
    ],
    ids=[
        "marginal",
        "event",
        "given",
        "do",
        "ate-treatment",
        "ate-outcome",
        "contrast",
        "cf-outcome",
        "cf-do",
        "cf-given",
        "ett",
        "nde",
        "nie",
        "joint-do",
        "world-index",
        "backdoor",
        "frontdoor",
    ],
)
def test_unknown_variable_in_a_query(xy, call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call(xy)


def test_unknown_variable_in_joint_distribution(xy):
    """ENGINE BUG (reported): joint_distribution(scm, ["Q"]) raises a bare KeyError('Q')
    — not a ValueError, and without saying which SCM variables exist — because it reads
    ``net.terms[0][name]`` without validating the names first."""
    with pytest.raises(ValueError, match=r"unknown variable 'Q'"):
        joint_distribution(xy, ["X", "Q"])


def test_variable_listed_twice_in_joint_distribution(xy):
    with pytest.raises(SCMError, match=r"listed twice"):
        joint_distribution(xy, ["Y", "Y"])


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda s: probability(s, {"Y": 2}), r"Y=2: variables are binary"),
        (lambda s: probability(s, {"Y": 0.5}), r"Y=0\.5: variables are binary"),
        (lambda s: marginal(s, "Y", {"X": -1}), r"X=-1: variables are binary"),
        (lambda s: marginal(s, "Y", {"X": "1"}), r"X='1': variables are binary"),
        (lambda s: marginal(s, "Y", do={"X": 2}), r"do\(X=2\): variables are binary"),
        (lambda s: counterfactual(s, "Y", {"X": 1}, value=2), r"Y=2: variables are binary"),
        (lambda s: counterfactual(s, "Y", {"X": 3}), r"do\(X=3\): variables are binary"),
        (lambda s: counterfactual(s, "Y", {"X": 1}, {"X": None}), r"X=None: variables are binary"),
        (lambda s: ett(s, "X", "Y", {"X": 2}), r"X=2: variables are binary"),
        (lambda s: joint_distribution(s, do={"X": 2}), r"do\(X=2\): variables are binary"),
        (lambda s: s.check_assignment({"X": 7}), r"evidence X=7: variables are binary"),
    ],
    ids=[
        "event-2",
        "event-half",
        "given-neg",
        "given-str",
        "do",
        "cf-value",
        "cf-do",
        "cf-given-none",
        "ett",
        "joint-do",
        "check-assignment",
    ],
)
def test_non_binary_values(xy, call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call(xy)


def test_from_world_must_name_an_earlier_world(xy):
    with pytest.raises(
        SCMError,
        match=r"do\(X = value in world 1\) in world 1: a world can "
        r"only refer to an earlier world",
    ):
        multiworld_probability(xy, [{}, {"X": FromWorld(1)}], {(1, "Y"): 1})


# -- graphical criteria, by hand -------------------------------------------------------------


def _dag(family: str) -> nx.DiGraph:
    return get_family(family).dag


@pytest.mark.parametrize(
    ("family", "adjust", "valid"),
    [
        ("confounding", {"Z"}, True),
        ("confounding", set(), False),
        ("fork", {"Z"}, True),  # X does not cause Y; {Z} blocks X ← Z → Y
        ("fork", set(), False),
        ("chain", set(), True),
        ("chain", {"M"}, False),  # M descends from X
        ("mediation", set(), True),
        ("mediation", {"M"}, False),
        ("collider", set(), True),  # X → C ← Y: no back-door path at all
        ("collider", {"C"}, False),  # C descends from X (and conditioning would open X → C ← Y)
        ("diamond", set(), True),
        ("diamond", {"A"}, False),
        ("arrowhead", set(), True),  # X is a root
        ("arrowhead", {"W"}, True),  # W is no descendant of X; X → M ← W → Y is not back-door
        ("arrowhead", {"M"}, False),
        ("arrowhead", {"M", "W"}, False),
        ("iv", set(), False),  # X ← U → Y is open
        ("iv", {"Z"}, False),
        ("iv", {"U"}, True),  # valid, but U is hidden
        ("iv", {"U", "Z"}, True),
        ("frontdoor", set(), False),
        ("frontdoor", {"M"}, False),
        ("frontdoor", {"U"}, True),
        ("confounding", {"X"}, False),  # the treatment itself is never a member
        ("confounding", {"Z", "Y"}, False),
    ],
)
def test_backdoor_by_hand(family, adjust, valid):
    g = get_family(family)
    assert is_backdoor_set(g.dag, g.treatment, g.outcome, adjust) is valid


def test_iv_has_no_observed_backdoor_set():
    g = get_family("iv")
    others = [n for n in g.observed if n not in (g.treatment, g.outcome)]
    for r in range(len(others) + 1):
        for z in itertools.combinations(others, r):
            assert not is_backdoor_set(g.dag, g.treatment, g.outcome, set(z)), z


def test_backdoor_m_bias():
    """X ← A → C ← B → Y, X → Y: {} is valid, {C} opens the collider, {C, A} closes it."""
    dag = nx.DiGraph([("A", "X"), ("A", "C"), ("B", "C"), ("B", "Y"), ("X", "Y")])
    answers = {
        (): True,
        ("C",): False,
        ("A", "C"): True,
        ("B", "C"): True,
        ("A",): True,
        ("B",): True,
    }
    for z, valid in answers.items():
        assert is_backdoor_set(dag, "X", "Y", set(z)) is valid, z
    # conditioning on a descendant of the collider opens it too
    dag.add_edge("C", "D")
    assert not is_backdoor_set(dag, "X", "Y", {"D"})


@pytest.mark.parametrize(
    ("edges", "mediators", "valid"),
    [
        (list(_dag("frontdoor").edges), {"M"}, True),
        (list(_dag("frontdoor").edges), set(), False),
        (list(_dag("frontdoor").edges), {"U"}, False),  # does not intercept X → M → Y
        (list(_dag("diamond").edges), {"A", "B"}, True),
        (list(_dag("diamond").edges), {"A"}, False),  # X → B → Y not intercepted
        (list(_dag("mediation").edges), {"M"}, False),  # direct edge X → Y
        (list(_dag("chain").edges), {"M"}, True),
        (list(_dag("arrowhead").edges), {"M"}, False),
        # (ii) fails: a back-door path X ← U → M
        ([("U", "X"), ("U", "M"), ("X", "M"), ("M", "Y")], {"M"}, False),
        # (iii) fails: M ← V → Y is not blocked by X
        ([("X", "M"), ("M", "Y"), ("V", "M"), ("V", "Y")], {"M"}, False),
        # (iii) holds: M ← X ← U → Y is blocked by X
        ([("U", "X"), ("U", "Y"), ("X", "M"), ("M", "Y"), ("W", "M")], {"M"}, True),
    ],
    ids=[
        "frontdoor-M",
        "frontdoor-empty",
        "frontdoor-U",
        "diamond-AB",
        "diamond-A",
        "mediation",
        "chain",
        "arrowhead",
        "ii-fails",
        "iii-fails",
        "extra-cause",
    ],
)
def test_frontdoor_by_hand(edges, mediators, valid):
    dag = nx.DiGraph(edges)
    assert is_frontdoor_set(dag, "X", "Y", mediators) is valid


@pytest.mark.parametrize("seed", range(40))
def test_backdoor_matches_path_enumeration(seed):
    """is_backdoor_set against Pearl's definition applied path by path (tests/references)."""
    rng = random.Random(seed)
    g = random_dag(rng.randint(3, 7), density=rng.choice([0.3, 0.5, 0.7]), seed=seed)
    dag = g.dag
    pairs = [(a, b) for a in dag for b in dag if a != b]
    for x, y in rng.sample(pairs, min(4, len(pairs))):
        others = [n for n in dag if n not in (x, y)]
        for r in range(len(others) + 1):
            for z in itertools.combinations(others, r):
                assert is_backdoor_set(dag, x, y, set(z)) == ref_is_backdoor(dag, x, y, set(z))


def test_path_reference_sanity():
    """The path-enumeration reference itself, on the families (vs networkx)."""
    for make in FAMILIES.values():
        dag = make().dag
        for a, b in itertools.permutations(dag, 2):
            for r in range(len(dag) - 1):
                for z in itertools.combinations([n for n in dag if n not in (a, b)], r):
                    assert ref_d_separated(dag, {a}, {b}, set(z)) == nx.is_d_separator(
                        dag, {a}, {b}, set(z)
                    )
