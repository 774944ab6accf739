"""Throughput of the exact causal engine, and pgmpy on the same rung-1/2 queries.

Run from the repository root::

    python bench/bench_engine.py [--scms 300] [--seed 0]

Prints figures only (no assertions).  Targets: rung-1/2 queries on graphs of ≤ 8 nodes
≥ 1,000/s; rung-3 queries (ett, nde, nie, counterfactual) on graphs of ≤ 6 nodes ≥ 200/s.
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from references import pgmpy_classes, pgmpy_do, pgmpy_probability, to_pgmpy  # noqa: E402

from ladder.engine.graphs import random_dag  # noqa: E402
from ladder.engine.inference import (  # noqa: E402
    counterfactual,
    ett,
    nde,
    nie,
    probability,
)
from ladder.engine.scm import SCM, random_scm  # noqa: E402


def make_scms(count: int, lo: int, hi: int, seed: int) -> list[tuple[SCM, str, str]]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        g = random_dag(
            rng.randint(lo, hi), density=rng.choice([0.3, 0.5, 0.7]), seed=rng.getrandbits(32)
        )
        out.append((random_scm(g, rng.getrandbits(32)), g.treatment, g.outcome))
    return out


def rung12_queries(scm: SCM, x: str, y: str, rng: random.Random, k: int = 6):
    """A mix of marginal / conditional / interventional queries: (event, given, do)."""
    names = list(scm.names)
    queries = []
    for i in range(k):
        kind = i % 3
        target = rng.choice(names)
        if kind == 0:
            queries.append(({target: 1}, {}, {}))
        elif kind == 1:
            ev = {n: rng.randint(0, 1) for n in rng.sample(names, rng.randint(1, 2)) if n != target}
            queries.append(({target: 1}, ev, {}))
        else:
            do = {x: rng.randint(0, 1)}
            ev = {n: rng.randint(0, 1) for n in rng.sample(names, 1) if n not in (x, y)}
            queries.append(({y: 1}, ev, do))
    return queries


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>10,.0f}/s  ({count} in {seconds:.2f} s)"


def bench_rung12(scms, seed: int) -> None:
    rng = random.Random(seed)
    work = [(scm, rung12_queries(scm, x, y, rng)) for scm, x, y in scms]
    n_q = sum(len(q) for _, q in work)
    for scm, qs in work[:5]:  # warm-up (imports, first contraction paths)
        for event, given, do in qs:
            probability(scm, event, given, do)

    t0 = time.perf_counter()
    engine_answers = [
        probability(scm, event, given, do) for scm, qs in work for event, given, do in qs
    ]
    t_engine = time.perf_counter() - t0

    # pgmpy: build every model (and every do-model) first, then time the queries alone.
    _, _, variable_elimination = pgmpy_classes()
    t0 = time.perf_counter()
    built = []
    for scm, qs in work:
        model = to_pgmpy(scm)
        engines = {}
        for _, _, do in qs:
            key = tuple(sorted(do.items()))
            if key not in engines:
                engines[key] = (m := pgmpy_do(model, do), variable_elimination(m))
        built.append((qs, engines))
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    pgmpy_answers = []
    for qs, engines in built:
        for event, given, do in qs:
            m, ve = engines[tuple(sorted(do.items()))]
            pgmpy_answers.append(pgmpy_probability(m, event, given, ve))
    t_pgmpy = time.perf_counter() - t0
    worst = max(abs(a - b) for a, b in zip(engine_answers, pgmpy_answers, strict=True))

    print(
        f"rung 1/2, {len(work)} fresh SCMs of 3-8 nodes, {n_q} queries "
        "(1/3 marginal, 1/3 conditional, 1/3 do):"
    )
    print(f"  ladder engine             {rate(n_q, t_engine)}")
    print(f"  pgmpy VE, queries only    {rate(n_q, t_pgmpy)}")
    print(
        f"  pgmpy VE, incl. building  {rate(n_q, t_pgmpy + t_build)}"
        f"   (model + do-surgery + VE objects: {t_build:.2f} s)"
    )
    print(
        f"  speed-up vs pgmpy: {t_pgmpy / t_engine:.1f}x (queries only), "
        f"{(t_pgmpy + t_build) / t_engine:.1f}x (incl. building)"
    )
    print(f"  max |engine - pgmpy| = {worst:.1e}")


def rung3_queries(scm: SCM, x: str, y: str, rng: random.Random):
    names = list(scm.names)
    mediators = [n for n in names if n not in (x, y)] or [x]
    m = rng.choice(mediators)
    other = rng.choice(names)
    given = {x: 1} if other == x else {x: 1, other: rng.randint(0, 1)}
    target = rng.choice(names)
    return [
        ("ett", lambda: ett(scm, x, y, given)),
        ("nde", lambda: nde(scm, x, y, m)),
        ("nie", lambda: nie(scm, x, y, m)),
        ("counterfactual", lambda: counterfactual(scm, y, {x: 0}, {x: 1, y: 1})),
        ("counterfactual", lambda: counterfactual(scm, target, {x: 1}, given)),
    ]


def bench_rung3(scms, seed: int, label: str) -> None:
    rng = random.Random(seed)
    calls = [q for scm, x, y in scms for q in rung3_queries(scm, x, y, rng)]
    for _, fn in calls[:10]:
        fn()
    per_kind: dict[str, list[float]] = {}
    t0 = time.perf_counter()
    for kind, fn in calls:
        t = time.perf_counter()
        fn()
        per_kind.setdefault(kind, []).append(time.perf_counter() - t)
    total = time.perf_counter() - t0
    print(f"rung 3, {label}, {len(scms)} fresh SCMs:")
    print(f"  all rung-3 queries        {rate(len(calls), total)}")
    for kind, times in per_kind.items():
        print(f"    {kind:<22}  {rate(len(times), sum(times))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scms", type=int, default=300, help="SCMs per benchmark")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        pgmpy_classes()
    import pgmpy

    print(
        f"python {platform.python_version()}, pgmpy {pgmpy.__version__}, "
        f"{platform.machine()}, seed {args.seed}"
    )
    bench_rung12(make_scms(args.scms, 3, 8, args.seed), args.seed)
    bench_rung3(make_scms(args.scms, 3, 6, args.seed + 2), args.seed + 2, "graphs of 3-6 nodes")
    bench_rung3(
        make_scms(max(20, args.scms // 5), 12, 12, args.seed + 3),
        args.seed + 3,
        "graphs of 12 nodes",
    )
    scms12 = make_scms(max(20, args.scms // 5), 12, 12, args.seed + 4)
    rng = random.Random(args.seed + 4)
    work = [(scm, rung12_queries(scm, x, y, rng)) for scm, x, y in scms12]
    n_q = sum(len(q) for _, q in work)
    t0 = time.perf_counter()
    for scm, qs in work:
        for event, given, do in qs:
            probability(scm, event, given, do)
    print(f"rung 1/2, {len(work)} fresh SCMs of 12 nodes:")
    print(f"  ladder engine             {rate(n_q, time.perf_counter() - t0)}")


if __name__ == "__main__":
    main()
