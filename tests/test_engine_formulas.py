"""Rung 2 and 3 of the engine against closed-form identification formulas and against an
independent abduction–action–prediction over the noise.

The reference side never calls ``ladder.engine.inference`` for numbers: observational
conditionals come from :func:`references.joint_table` (a loop over all assignments), and
counterfactuals from :func:`references.run_world` over the discretised noise.
"""

from __future__ import annotations

import itertools
import random

import pytest

from ladder.engine.graphs import arrowhead, confounding, frontdoor, mediation, random_dag
from ladder.engine.inference import (
    FromWorld,
    ate,
    counterfactual,
    ett,
    is_backdoor_set,
    is_frontdoor_set,
    marginal,
    multiworld_probability,
    nde,
    nie,
    probability_of_necessity,
    probability_of_sufficiency,
)
from ladder.engine.scm import SCM, SCMError, Variable, random_scm

try:
    from tests.references import (
        FromWorldRef,
        bf_counterfactual,
        bf_ett,
        bf_multiworld,
        bf_nde,
        bf_nie,
        joint_table,
        noise_units,
        raw_scm,
        ref_probability,
    )
except ImportError:  # tests/ itself on sys.path
    from references import (
        FromWorldRef,
        bf_counterfactual,
        bf_ett,
        bf_multiworld,
        bf_nde,
        bf_nie,
        joint_table,
        noise_units,
        raw_scm,
        ref_probability,
    )

TOL = 1e-9
SEEDS = range(12)


class Obs:
    """Observational conditionals of one SCM, from the brute-force joint."""

    def __init__(self, scm: SCM):
        self.scm = scm
        self.table = joint_table(scm)

    def __call__(self, event: dict[str, int], given: dict[str, int] | None = None) -> float:
        p = ref_probability(self.scm, event, given, table=self.table)
        assert p is not None, f"reference: P({given}) = 0"
        return p


def _assignments(names):
    for bits in itertools.product((0, 1), repeat=len(names)):
        yield dict(zip(names, bits, strict=True))


def adjustment(obs: Obs, x: str, y: str, z: list[str], xv: int) -> float:
    """Back-door adjustment Σ_z P(y | x, z) P(z)."""
    return sum(obs({y: 1}, {x: xv, **zz}) * obs(zz) for zz in _assignments(z))


# -- back-door adjustment ---------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_backdoor_confounding(seed):
    g = confounding()
    scm = random_scm(g, seed)
    obs = Obs(scm)
    assert is_backdoor_set(scm.graph, "X", "Y", {"Z"})
    want = adjustment(obs, "X", "Y", ["Z"], 1) - adjustment(obs, "X", "Y", ["Z"], 0)
    assert ate(scm, "X", "Y") == pytest.approx(want, abs=TOL)
    for xv in (0, 1):
        assert marginal(scm, "Y", do={"X": xv}) == pytest.approx(
            adjustment(obs, "X", "Y", ["Z"], xv), abs=TOL
        )


@pytest.mark.parametrize("seed", SEEDS)
def test_backdoor_arrowhead(seed):
    """X is a root: {} and {W} are both valid back-door sets ({M} descends from X)."""
    scm = random_scm(arrowhead(), seed)
    obs = Obs(scm)
    dag = scm.graph
    assert is_backdoor_set(dag, "X", "Y", set())
    assert is_backdoor_set(dag, "X", "Y", {"W"})
    assert not is_backdoor_set(dag, "X", "Y", {"M"})
    got = ate(scm, "X", "Y")
    for z in ([], ["W"]):
        want = adjustment(obs, "X", "Y", z, 1) - adjustment(obs, "X", "Y", z, 0)
        assert got == pytest.approx(want, abs=TOL), z


@pytest.mark.parametrize("seed", range(40))
def test_backdoor_random_parents(seed):
    rng = random.Random(seed)
    g = random_dag(rng.randint(3, 8), seed=seed)
    scm = random_scm(g, seed)
    x, y = g.treatment, g.outcome
    parents = list(scm[x].parents)
    assert is_backdoor_set(scm.graph, x, y, parents)
    obs = Obs(scm)
    want = adjustment(obs, x, y, parents, 1) - adjustment(obs, x, y, parents, 0)
    assert ate(scm, x, y) == pytest.approx(want, abs=TOL)


@pytest.mark.parametrize("seed", range(25))
def test_every_valid_backdoor_set_adjusts(seed):
    """Soundness of is_backdoor_set: every set it accepts gives P(y | do(x))."""
    rng = random.Random(seed)
    g = random_dag(rng.randint(3, 6), density=0.6, seed=seed)
    scm = random_scm(g, seed)
    x, y = g.treatment, g.outcome
    obs = Obs(scm)
    truth = {xv: ref_probability(scm, {y: 1}, do={x: xv}) for xv in (0, 1)}
    others = [n for n in scm.names if n not in (x, y)]
    accepted = 0
    for r in range(len(others) + 1):
        for z in itertools.combinations(others, r):
            if is_backdoor_set(scm.graph, x, y, set(z)):
                accepted += 1
                for xv in (0, 1):
                    assert adjustment(obs, x, y, list(z), xv) == pytest.approx(
                        truth[xv], abs=TOL
                    ), z
    assert accepted >= 1


# -- front-door ----------------------------------------------------------------------------


def frontdoor_formula(obs: Obs, x: str, y: str, m: list[str], xv: int) -> float:
    """Σ_m P(m | x) Σ_x' P(y | x', m) P(x')."""
    total = 0.0
    for mm in _assignments(m):
        inner = sum(obs({y: 1}, {x: xp, **mm}) * obs({x: xp}) for xp in (0, 1))
        total += obs(mm, {x: xv}) * inner
    return total


@pytest.mark.parametrize("seed", SEEDS)
def test_frontdoor_family(seed):
    g = frontdoor()
    scm = random_scm(g, seed)
    assert scm.hidden_names == ("U",)
    assert is_frontdoor_set(scm.graph, "X", "Y", {"M"})
    obs = Obs(scm)
    for xv in (0, 1):
        assert marginal(scm, "Y", do={"X": xv}) == pytest.approx(
            frontdoor_formula(obs, "X", "Y", ["M"], xv), abs=TOL
        )
    want = frontdoor_formula(obs, "X", "Y", ["M"], 1) - frontdoor_formula(obs, "X", "Y", ["M"], 0)
    assert ate(scm, "X", "Y") == pytest.approx(want, abs=TOL)


@pytest.mark.parametrize("seed", range(30))
def test_every_valid_frontdoor_set_identifies(seed):
    """Soundness of is_frontdoor_set on random graphs: accepted sets give P(y | do(x))."""
    rng = random.Random(seed)
    g = random_dag(rng.randint(4, 6), density=0.5, seed=seed)
    scm = random_scm(g, seed)
    x, y = g.treatment, g.outcome
    obs = Obs(scm)
    others = [n for n in scm.names if n not in (x, y)]
    for r in range(1, len(others) + 1):
        for m in itertools.combinations(others, r):
            if is_frontdoor_set(scm.graph, x, y, set(m)):
                for xv in (0, 1):
                    assert marginal(scm, y, do={x: xv}) == pytest.approx(
                        frontdoor_formula(obs, x, y, list(m), xv), abs=TOL
                    ), m


# -- mediation formula ------------------------------------------------------------------------


def mediation_formula(obs: Obs, x: str, y: str, m: str, w: list[str]) -> tuple[float, float]:
    """(NDE, NIE) by Pearl's mediation formula, adjusting for ``w`` (non-descendants of X)."""
    nde_, nie_ = 0.0, 0.0
    for ww in _assignments(w):
        pw = obs(ww)
        for mv in (0, 1):
            y1 = obs({y: 1}, {x: 1, m: mv, **ww})
            y0 = obs({y: 1}, {x: 0, m: mv, **ww})
            m0 = obs({m: mv}, {x: 0, **ww})
            m1 = obs({m: mv}, {x: 1, **ww})
            nde_ += (y1 - y0) * m0 * pw
            nie_ += y0 * (m1 - m0) * pw
    return nde_, nie_


@pytest.mark.parametrize("seed", SEEDS)
def test_mediation_formula(seed):
    scm = random_scm(mediation(), seed)
    want_nde, want_nie = mediation_formula(Obs(scm), "X", "Y", "M", [])
    assert nde(scm, "X", "Y", "M") == pytest.approx(want_nde, abs=TOL)
    assert nie(scm, "X", "Y", "M") == pytest.approx(want_nie, abs=TOL)


@pytest.mark.parametrize("seed", SEEDS)
def test_mediation_formula_arrowhead(seed):
    """W confounds M and Y but is not affected by X: adjusting for W identifies NDE/NIE."""
    scm = random_scm(arrowhead(), seed)
    obs = Obs(scm)
    want_nde, want_nie = mediation_formula(obs, "X", "Y", "M", ["W"])
    assert nde(scm, "X", "Y", "M") == pytest.approx(want_nde, abs=TOL)
    assert nie(scm, "X", "Y", "M") == pytest.approx(want_nie, abs=TOL)
    # Leaving W out is wrong in general: M and Y are confounded.
    naive_nde, _ = mediation_formula(obs, "X", "Y", "M", [])
    if seed == 0:
        assert abs(naive_nde - want_nde) > 1e-6


# -- effect of treatment on the treated -----------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_ett_adjustment_confounding(seed):
    scm = random_scm(confounding(), seed)
    obs = Obs(scm)
    for xv in (0, 1):
        want = sum(
            (obs({"Y": 1}, {"X": 1, "Z": z}) - obs({"Y": 1}, {"X": 0, "Z": z}))
            * obs({"Z": z}, {"X": xv})
            for z in (0, 1)
        )
        assert ett(scm, "X", "Y", {"X": xv}) == pytest.approx(want, abs=TOL), xv


# -- probabilities of causation under monotonicity ---------------------------------------------


def monotone_confounding(seed: int) -> SCM:
    """Confounding family with Y's cpt increasing in X in every context of Z."""
    scm = random_scm(confounding(), seed)
    y = scm["Y"]
    bit = len(y.parents) - 1 - y.parents.index("X")
    cpt = list(y.cpt)
    for i in range(len(cpt)):
        if not i >> bit & 1:
            j = i | 1 << bit
            cpt[i], cpt[j] = min(cpt[i], cpt[j]), max(cpt[i], cpt[j])
    return scm.with_cpt("Y", cpt)


@pytest.mark.parametrize("seed", SEEDS)
def test_tian_pearl_pn_ps_monotone(seed):
    scm = monotone_confounding(seed)
    obs = Obs(scm)
    p_y = obs({"Y": 1})
    do0 = adjustment(obs, "X", "Y", ["Z"], 0)
    do1 = adjustment(obs, "X", "Y", ["Z"], 1)
    pn = (p_y - do0) / obs({"X": 1, "Y": 1})
    ps = (do1 - p_y) / obs({"X": 0, "Y": 0})
    assert probability_of_necessity(scm, "X", "Y") == pytest.approx(pn, abs=TOL)
    assert probability_of_sufficiency(scm, "X", "Y") == pytest.approx(ps, abs=TOL)


@pytest.mark.parametrize(
    ("px", "p0", "p1"),
    [
        (0.5, 0.2, 0.6),
        (0.3, 0.6, 0.2),
        (0.7, 0.4, 0.4),
        (0.5, 0.0, 0.9),
        (0.2, 0.9, 0.1),
        (0.6, 0.35, 1.0),
        (0.5, 0.0, 1.0),
        (0.45, 0.13, 0.77),
    ],
)
def test_twin_network_two_nodes_by_hand(px, p0, p1):
    """X → Y, Y := 1[U < p_X]: every counterfactual is a ratio of interval lengths."""
    scm = SCM((Variable("X", (), (px,)), Variable("Y", ("X",), (p0, p1))))
    cases = [  # (do x, evidence X, evidence Y, counterfactual value, P(U in ... | ...))
        (0, 1, 1, 1, min(p0, p1) / p1 if p1 > 0 else None),
        (0, 1, 0, 1, max(0.0, p0 - p1) / (1 - p1) if p1 < 1 else None),
        (1, 0, 1, 1, min(p0, p1) / p0 if p0 > 0 else None),
        (1, 0, 0, 1, max(0.0, p1 - p0) / (1 - p0) if p0 < 1 else None),
    ]
    for do_x, ex, ey, val, want in cases:
        if want is None:
            with pytest.raises(SCMError, match="probability 0"):
                counterfactual(scm, "Y", {"X": do_x}, {"X": ex, "Y": ey}, val)
            continue
        got = counterfactual(scm, "Y", {"X": do_x}, {"X": ex, "Y": ey}, val)
        assert got == pytest.approx(want, abs=TOL), (do_x, ex, ey)
        assert counterfactual(scm, "Y", {"X": do_x}, {"X": ex, "Y": ey}, 1 - val) == pytest.approx(
            1 - want, abs=TOL
        )
    if p1 > 0:
        assert probability_of_necessity(scm, "X", "Y") == pytest.approx(
            1 - min(p0, p1) / p1, abs=TOL
        )
    if p0 < 1:
        assert probability_of_sufficiency(scm, "X", "Y") == pytest.approx(
            max(0.0, p1 - p0) / (1 - p0), abs=TOL
        )
    # Without evidence, the counterfactual is the interventional probability.
    assert counterfactual(scm, "Y", {"X": 1}) == pytest.approx(p1, abs=TOL)


# -- brute-force abduction–action–prediction --------------------------------------------------


def _bf_cases():
    cases = []
    for seed in range(30):
        rng = random.Random(seed)
        g = random_dag(rng.randint(3, 6), seed=seed)
        cases.append((f"grid-{seed}", random_scm(g, seed), g.treatment, g.outcome))
    for seed in range(12):
        rng = random.Random(1000 + seed)
        g = random_dag(rng.randint(3, 5), density=0.5, seed=1000 + seed)
        cases.append((f"raw-{seed}", raw_scm(g, seed, extreme=0.25), g.treatment, g.outcome))
    for make in (arrowhead, mediation, frontdoor):
        g = make()
        cases.append((f"{g.family}", random_scm(g, 3), g.treatment, g.outcome))
    return cases


BF_CASES = _bf_cases()


@pytest.mark.parametrize(("label", "scm", "x", "y"), BF_CASES, ids=[c[0] for c in BF_CASES])
def test_brute_force_counterfactuals(label, scm, x, y):
    units = noise_units(scm)
    assert sum(units[1]) == pytest.approx(1.0, abs=1e-12)
    names = list(scm.names)
    rng = random.Random(label)
    checked = 0
    # counterfactual with random interventions and random factual evidence
    for _ in range(10):
        do = {n: rng.randint(0, 1) for n in rng.sample(names, rng.randint(1, 2))}
        given = {n: rng.randint(0, 1) for n in rng.sample(names, rng.randint(0, 3))}
        target = rng.choice(names)
        value = rng.randint(0, 1)
        want = bf_counterfactual(scm, target, do, given, value, units=units)
        if want is None:
            with pytest.raises(SCMError, match="probability 0"):
                counterfactual(scm, target, do, given, value)
            continue
        got = counterfactual(scm, target, do, given, value)
        assert got == pytest.approx(want, abs=TOL), (do, given, target, value)
        checked += 1
    # ett, with given holding X (and sometimes more)
    for xv in (0, 1):
        extra = {n: rng.randint(0, 1) for n in rng.sample(names, rng.randint(0, 2))}
        given = {**extra, x: xv}
        want = bf_ett(scm, x, y, given, units=units)
        if want is not None:
            assert ett(scm, x, y, given) == pytest.approx(want, abs=TOL), given
            checked += 1
    # nested counterfactuals: every other variable as the mediator
    for m in names:
        if m in (x, y):
            continue
        assert nde(scm, x, y, m) == pytest.approx(bf_nde(scm, x, y, m, units=units), abs=TOL)
        assert nie(scm, x, y, m) == pytest.approx(bf_nie(scm, x, y, m, units=units), abs=TOL)
        checked += 2
    # probabilities of causation
    for fn, do, given, value in (
        (probability_of_necessity, {x: 0}, {x: 1, y: 1}, 0),
        (probability_of_sufficiency, {x: 1}, {x: 0, y: 0}, 1),
    ):
        want = bf_counterfactual(scm, y, do, given, value, units=units)
        if want is not None:
            assert fn(scm, x, y) == pytest.approx(want, abs=TOL)
    # three worlds, one nested value, evidence in two worlds
    if len(names) >= 3:
        m = rng.choice([n for n in names if n not in (x, y)])
        worlds_ref = [{}, {x: 1}, {x: 0, m: FromWorldRef(1)}]
        worlds = [{}, {x: 1}, {x: 0, m: FromWorld(1)}]
        for _ in range(3):
            event = {(2, y): rng.randint(0, 1), (1, rng.choice(names)): rng.randint(0, 1)}
            given = {(0, x): rng.randint(0, 1), (1, m): rng.randint(0, 1)}
            if (1, m) in event and event[(1, m)] != given[(1, m)]:
                continue
            want = bf_multiworld(scm, worlds_ref, event, given, units=units)
            if want is None:
                continue
            got = multiworld_probability(scm, worlds, event, given)
            assert got == pytest.approx(want, abs=TOL), (event, given)
            checked += 1
    assert checked >= 4


@pytest.mark.parametrize("seed", range(9))
def test_brute_force_twelve_nodes(seed):
    """Large graphs stay exact: cpt entries from {0.25, 0.7} keep 3 noise intervals per
    variable, so 3**12 units can still be enumerated."""
    rng = random.Random(seed)
    n = 10 + seed % 3
    g = random_dag(n, density=0.4, seed=seed)
    scm = SCM(
        tuple(
            Variable(
                v,
                tuple(g.parents(v)),
                tuple(rng.choice((0.25, 0.7)) for _ in range(2 ** len(g.parents(v)))),
            )
            for v in g.nodes
        )
    )
    units = noise_units(scm)
    assert len(units[1]) <= 3**n
    x, y = g.treatment, g.outcome
    names = list(scm.names)
    m = rng.choice([v for v in names if v not in (x, y)])
    assert nde(scm, x, y, m) == pytest.approx(bf_nde(scm, x, y, m, units=units), abs=TOL)
    assert nie(scm, x, y, m) == pytest.approx(bf_nie(scm, x, y, m, units=units), abs=TOL)
    given = {x: 1, rng.choice(names): rng.randint(0, 1)}
    want = bf_ett(scm, x, y, given, units=units)
    if want is not None:
        assert ett(scm, x, y, given) == pytest.approx(want, abs=TOL)
    for _ in range(3):
        do = {rng.choice(names): rng.randint(0, 1)}
        evidence = {v: rng.randint(0, 1) for v in rng.sample(names, 3)}
        target = rng.choice(names)
        want = bf_counterfactual(scm, target, do, evidence, units=units)
        if want is not None:
            assert counterfactual(scm, target, do, evidence) == pytest.approx(want, abs=TOL)
