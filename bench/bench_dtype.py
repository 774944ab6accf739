"""bfloat16 against float32 on the same fresh ``core`` items: speed-up and what it changes.

Usage::

    PYTHONPATH=. python bench/bench_dtype.py [--n 80] [--rounds 3] [--seed 11]
        [--model smollm2-135m-instruct] [--other bfloat16] [--threads 1 --clock cpu]

Both dtypes of the model are loaded once; each round scores all ``--n`` items (chat
template, loglik, the ``ladder run`` path through :class:`HFPredictor`) in float32 and in the
other dtype, the order alternating between rounds, so a busy machine slows both alike.
Printed: each round's seconds and ratio, the median ratio (the speed-up), and from the first
round the predictions that flip (yes ↔ no), the largest and mean ``|Δp_yes|``, and accuracy
under each dtype. The items are generated fresh (``--seed`` not used by committed runs).
On a shared machine ``--threads 1 --clock cpu`` (the process's CPU time, one thread, so no
OpenMP spin-waits) is the stable measure; the wall clock is the default.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from ladder.generation.generate import generate_items
from ladder.generation.specs import load_suite
from ladder.harness.predictors import HFPredictor, Prediction


def _timed(
    predictor: HFPredictor, items: list[dict[str, Any]], clock: Any = time.perf_counter
) -> tuple[float, list[Prediction]]:
    began = clock()
    out = predictor.predict(items)
    return clock() - began, out


def compare(
    items: list[dict[str, Any]], base: list[Prediction], other: list[Prediction]
) -> dict[str, Any]:
    """Flips, largest and mean ``|Δp_yes|`` and each side's accuracy.

    >>> items = [{"answer": "yes"}, {"answer": "no"}]
    >>> a = [Prediction(0.6, "yes"), Prediction(0.2, "no")]
    >>> b = [Prediction(0.4, "no"), Prediction(0.25, "no")]
    >>> r = compare(items, a, b)
    >>> r["flips"], round(r["max_abs_dp"], 3), r["accuracy"]
    (1, 0.2, (1.0, 0.5))
    """
    diffs = [abs(x.p_yes - y.p_yes) for x, y in zip(base, other, strict=True)]  # type: ignore[operator]
    flips = sum(x.prediction != y.prediction for x, y in zip(base, other, strict=True))

    def accuracy(preds: list[Prediction]) -> float:
        hits = sum(p.prediction == i["answer"] for p, i in zip(preds, items, strict=True))
        return hits / len(items)

    return {
        "flips": flips,
        "max_abs_dp": max(diffs),
        "mean_abs_dp": statistics.fmean(diffs),
        "accuracy": (accuracy(base), accuracy(other)),
    }


def main() -> None:
    """Score the items in both dtypes in alternating rounds and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--other", default="bfloat16", choices=["bfloat16", "float16"])
    parser.add_argument("--n", type=int, default=80)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter

    items: list[dict[str, Any]] = list(generate_items(load_suite("core"), args.seed, args.n))
    chars = sorted(len(i["prompt"]) for i in items)
    print(
        f"{len(items)} fresh core items (seed {args.seed}), prompt chars median "
        f"{chars[len(chars) // 2]}, max {chars[-1]}; {args.clock} clock"
    )
    models = {d: HFPredictor(args.model, dtype=d) for d in ("float32", args.other)}
    first: dict[str, list[Prediction]] = {}
    ratios = []
    for r in range(args.rounds):
        order = ["float32", args.other] if r % 2 == 0 else [args.other, "float32"]
        seconds = {}
        for dtype in order:
            seconds[dtype], preds = _timed(models[dtype], items, clock)
            first.setdefault(dtype, preds)
        ratio = seconds["float32"] / seconds[args.other]
        ratios.append(ratio)
        print(
            f"round {r + 1}: float32 {seconds['float32']:.1f} s, {args.other} "
            f"{seconds[args.other]:.1f} s, speed-up {ratio:.2f}x"
        )
    print(f"median speed-up of {args.other} over float32: {statistics.median(ratios):.2f}x")
    result = compare(items, first["float32"], first[args.other])
    print(
        f"predictions flipped: {result['flips']} of {len(items)}; "
        f"max |dp_yes| {result['max_abs_dp']:.4f}, mean {result['mean_abs_dp']:.4f}; "
        f"accuracy float32 {result['accuracy'][0]:.3f}, {args.other} "
        f"{result['accuracy'][1]:.3f}"
    )


if __name__ == "__main__":
    main()
