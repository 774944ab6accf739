"""Benchmark ``ladder finetune``: training tokens/s against the scorer's forward-only tokens/s.

Usage::

    PYTHONPATH=. python bench/bench_finetune.py [--model smollm2-135m-instruct]
        [--items FILE | --spec tasks/control_small.yaml] [--n 64] [--steps 6]
        [--batch-size 8] [--full] [--threads N]

On the same items and the same model (the embedded SmolLM2 is read from its converted copy in
``~/.cache/ladder/models``) it reports

(a) forward — ``score_options`` over the items' scored prompts (what ``ladder run`` does);
(b) train   — optimizer steps of :mod:`ladder.harness.finetune` (LoRA, or ``--full``): forward,
              backward, AdamW; the first step is a warm-up and is not timed;

each as tokens/s of wall-clock time and of this process's CPU time (on a shared machine the
CPU-time rate is the steadier one), and the peak resident memory of the process
(``resource.getrusage``, which covers both phases; the training phase dominates).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import torch

from ladder.generation.generate import generate_items
from ladder.generation.items import read_items
from ladder.generation.specs import load_spec
from ladder.harness.finetune import TrainSettings, _Trainer, build_examples
from ladder.harness.models.scoring import score_options
from ladder.harness.predictors import HFPredictor

SPEC = Path(__file__).resolve().parent.parent / "tasks" / "control_small.yaml"


def _clock() -> tuple[float, float]:
    return time.monotonic(), time.process_time()


def _rates(tokens: int, began: tuple[float, float]) -> str:
    wall, cpu = (now - then for now, then in zip(_clock(), began, strict=True))
    return f"{tokens / wall:8.0f} tok/s wall  {tokens / cpu:8.0f} tok/s cpu  ({wall:.1f} s)"


def main() -> int:
    """Run the benchmark and print one line per phase."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--items", type=Path, default=None)
    ap.add_argument("--spec", type=Path, default=SPEC)
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--full", action="store_true", help="full fine-tuning instead of LoRA")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    items = (
        read_items(args.items)[: args.n]
        if args.items
        else list(generate_items(load_spec(args.spec), 0, args.n))
    )
    predictor = HFPredictor(args.model)
    examples, _ = build_examples(predictor, items, "truth")
    prompts = [predictor.scored_text(i) for i in items]
    n_prompt = sum(len(e.prompt_ids) for e in examples)
    print(f"{args.model}: {len(items)} items, {n_prompt / len(items):.0f} prompt tokens each")
    began = _clock()
    score_options(predictor.loaded, prompts, progress=False)
    print(f"forward (score_options)  {_rates(n_prompt, began)}")
    settings = TrainSettings(
        batch_size=args.batch_size, lora=not args.full, max_steps=args.steps + 1, epochs=99
    ).resolved()
    trainer = _Trainer(predictor.loaded, examples, settings)
    trainer.train_step()  # warm-up: allocator, optimizer state
    tokens0, began = trainer.tokens, _clock()
    for _ in range(args.steps):
        trainer.train_step()
    kind = "full" if args.full else f"LoRA r{settings.lora_rank}"
    print(f"train ({kind}, batch {args.batch_size}) {_rates(trainer.tokens - tokens0, began)}")
    print(f"losses {[round(x, 3) for x in trainer.losses]}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB -> GiB
    print(f"peak RSS {peak:.2f} GiB (limit 8)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
