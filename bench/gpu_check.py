"""Device check: score items on the GPU in float32, bfloat16 and float16 against CPU float32.

Usage (on a machine with a GPU; never part of the test suite)::

    PYTHONPATH=. python bench/gpu_check.py [--n 64] [--model smollm2-135m-instruct]
        [--json out.json]

Without CUDA it prints ``no GPU: skipped`` and exits 0. With CUDA it scores ``--n`` fresh
``core`` items (the ``ladder run`` path: :class:`HFPredictor`, chat template, loglik) once on
the CPU in float32 (the reference) and then on ``--device`` (default ``cuda``) in each dtype,
after a warm-up batch, and prints per dtype: items/s, agreement of the yes/no predictions
with the CPU reference, and the largest ``|Δp_yes|``. The exit status is 1 when the GPU in
float32 disagrees with the CPU in float32 (a prediction flips, or ``|Δp_yes|`` > 1e-3):
that would be a device bug, not rounding. Reduced precision is measured, not judged.
``--device cpu`` runs the same code without a GPU (a smoke test of the script itself).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from ladder.generation.generate import generate_items
from ladder.generation.specs import load_suite
from ladder.harness.predictors import HFPredictor, Prediction

#: GPU float32 against CPU float32: beyond this, something is wrong on the device.
F32_TOLERANCE = 1e-3


def _score(
    model: str, dtype: str, device: str, items: list[dict[str, Any]]
) -> tuple[float, list[Prediction]]:
    """Items/s and predictions of ``model`` in ``dtype`` on ``device`` (after a warm-up)."""
    import torch

    predictor = HFPredictor(model, dtype=dtype, device=device)
    predictor.predict(items[:4])  # kernels, allocator, cuBLAS handles: not the measure
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    began = time.perf_counter()
    preds = predictor.predict(items)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    rate = len(items) / (time.perf_counter() - began)
    del predictor
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return rate, preds


def agreement(reference: list[Prediction], other: list[Prediction]) -> tuple[float, float]:
    """Share of equal predictions and the largest ``|Δp_yes|``.

    >>> agreement([Prediction(0.6, "yes"), Prediction(0.1, "no")],
    ...           [Prediction(0.4, "no"), Prediction(0.1, "no")])
    (0.5, 0.2)
    """
    same = sum(a.prediction == b.prediction for a, b in zip(reference, other, strict=True))
    diff = max(
        abs((a.p_yes or 0.0) - (b.p_yes or 0.0)) for a, b in zip(reference, other, strict=True)
    )
    return same / len(reference), round(diff, 12)


def main() -> int:
    """Run the check; 0 when skipped or sound, 1 when GPU float32 disagrees with CPU."""
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no GPU: skipped (torch.cuda.is_available() is False)")
        return 0
    name = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "cpu"
    items = list(generate_items(load_suite("core"), args.seed, args.n))
    cpu_rate, reference = _score(args.model, "float32", "cpu", items)
    print(f"{args.n} core items, {args.model}; device {name}")
    print(f"cpu float32 (reference): {cpu_rate:.1f} items/s")
    report: dict[str, Any] = {"device": name, "n": args.n, "cpu_float32_items_per_s": cpu_rate}
    ok = True
    for dtype in ("float32", "bfloat16", "float16"):
        rate, preds = _score(args.model, dtype, args.device, items)
        agree, max_dp = agreement(reference, preds)
        print(
            f"{args.device} {dtype}: {rate:.1f} items/s ({rate / cpu_rate:.1f}x cpu), "
            f"agreement with cpu float32 {agree:.3f}, max |dp_yes| {max_dp:.2e}"
        )
        report[dtype] = {"items_per_s": rate, "agreement": agree, "max_abs_dp": max_dp}
        if dtype == "float32" and (agree < 1.0 or max_dp > F32_TOLERANCE):
            ok = False
            print(f"FAIL: {args.device} float32 differs from cpu float32 beyond rounding")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
