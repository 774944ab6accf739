"""ladder vs lm-evaluation-harness vs the bare forward bound, on item families and per-item core.

Usage::

    PYTHONPATH=. python bench/bench_families.py [--n 60] [--rounds 3] [--threads 2]
        [--model smollm2-135m-instruct] [--seed 11] [--no-lm-eval] [--profile]

Two item sets are drawn from a fresh ``core`` sample (``--seed``):

* ``families`` — whole families of items v2 (several questions asked of one SCM; their
  prompts share the story, graph and numbers), ``--n`` items;
* ``per-item`` — one question from each of ``--n`` different families: the ``core`` mix of
  prompt lengths with nothing shared but the chat template's header.

Each prompt goes through the model's chat template (as ``ladder run`` does) and is scored
three ways, in the same process, on the same token ids:

* ``ladder`` — :func:`ladder.harness.models.score_options` on the whole list with the
  items' ``family_id`` as ``prefix_groups`` (what :class:`~ladder.harness.predictors.
  HFPredictor` runs on one chunk of items);
* ``lm-eval`` — lm-evaluation-harness's HF backend (``HFLM``, ``--batch-size``) fed the same
  (context, continuation) token ids through ``_loglikelihood_tokens``: its own batching,
  length sorting and one-token-continuation reuse, on text identical to ladder's. (Its public
  ``loglikelihood`` would move the template's trailing newline into the continuation, making
  every option two tokens and doubling its forwards: that would be an unfair comparison);
* ``bound`` — a bare batched ``model(input_ids, attention_mask)`` over the same prompts
  (length-sorted, left-padded, ladder's token budget): the per-item bound any scorer needing
  one forward of each prompt is held to.

The methods run interleaved, in a rotated order, ``--rounds`` times; the script prints each
round's times and the ratios ladder/lm-eval and ladder/bound (items/s), then their medians,
and the largest |Δp_yes| between ladder and lm-eval. ``--profile`` adds a ``torch.profiler``
table of ladder on the longest per-item prompts (where the time goes: attention, linear
layers, padding, cache copies).
"""

from __future__ import annotations

import argparse
import collections
import math
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from bench_scoring import bare_forward

from ladder.generation.generate import generate_items
from ladder.generation.specs import load_suite
from ladder.harness.models import format_prompt, load_model, score_options
from ladder.harness.models.loading import LoadedModel
from ladder.harness.models.scoring import DEFAULT_MAX_BATCH_TOKENS, _prepare_options, encode

CLOCK: Callable[[], float] = time.perf_counter


def item_sets(n: int, seed: int) -> dict[str, list[dict[str, Any]]]:
    """``families``: whole families, ``n`` items; ``per-item``: one item of each of ``n``
    families (drawn from a second, disjoint part of the sample)."""
    spec = load_suite("core")
    by_family: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for item in generate_items(spec, seed, 14 * n):
        by_family[item["family_id"]].append(item)
    families = list(by_family.values())
    rng = random.Random(seed)
    rng.shuffle(families)
    whole: list[dict[str, Any]] = []
    used = 0
    while len(whole) < n and used < len(families):
        whole.extend(families[used])
        used += 1
    single = [rng.choice(f) for f in families[used : used + n]]
    if len(single) < n:
        raise SystemExit(f"only {len(single)} families left for the per-item set; lower --n")
    return {"families": whole[:n], "per-item": single}


def lm_eval_scorer(loaded: LoadedModel, batch_size: int) -> Callable[[list[str]], list[float]]:
    """A function prompts -> p_yes that scores with lm-eval's HFLM on ladder's token ids."""
    from lm_eval.models.huggingface import HFLM

    lm = HFLM(pretrained=loaded.model, tokenizer=loaded.tokenizer, batch_size=batch_size)

    def score(prompts: list[str]) -> list[float]:
        conts, prompt_ids, option_ids, _ = _prepare_options(loaded, prompts, ("Yes", "No"), "auto")
        requests = [
            ((prompt, cont), ids, opt)
            for prompt, ids, opts, pair in zip(prompts, prompt_ids, option_ids, conts, strict=True)
            for cont, opt in zip(pair, opts, strict=True)
        ]
        out = lm._loglikelihood_tokens(requests, disable_tqdm=True)
        lps = [lp for lp, _ in out]
        return [1 / (1 + math.exp(lps[k + 1] - lps[k])) for k in range(0, len(lps), 2)]

    return score


def _timed(fn: Callable[[], object]) -> float:
    start = CLOCK()
    fn()
    return CLOCK() - start


def run_rounds(methods: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    """Each method once per round, the order rotated each round; seconds per method."""
    times: dict[str, list[float]] = {name: [] for name in methods}
    names = list(methods)
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            times[name].append(_timed(methods[name]))
    return times


def report(label: str, n: int, times: dict[str, list[float]]) -> None:
    """Per-round items/s and ratios, then medians."""
    print(f"\n== {label}: {n} items per round")
    for r in range(len(times["ladder"])):
        line = [f"round {r + 1}:"]
        line += [f"{name} {n / t[r]:.2f} it/s" for name, t in times.items()]
        line += [
            f"ladder/{name} {t[r] / times['ladder'][r]:.2f}x"
            for name, t in times.items()
            if name != "ladder"
        ]
        print(f"  {line[0]} " + "; ".join(line[1:]))
    for name, t in times.items():
        if name != "ladder":
            ratios = [b / a for a, b in zip(times["ladder"], t, strict=True)]
            print(
                f"  ladder/{name}: per round {', '.join(f'{x:.2f}' for x in ratios)} -> "
                f"median {statistics.median(ratios):.2f}x"
            )


def profile(loaded: LoadedModel, prompts: list[str], budget: int) -> None:
    """torch.profiler table of ladder on the given (long) prompts."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        score_options(loaded, prompts, progress=False, max_batch_tokens=budget)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=14))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--n", type=int, default=60, help="items per set and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--batch-size", type=int, default=8, help="lm-eval batch size")
    parser.add_argument("--max-batch-tokens", type=int, default=DEFAULT_MAX_BATCH_TOKENS)
    parser.add_argument("--sets", default="families,per-item")
    parser.add_argument("--no-lm-eval", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    parser.add_argument(
        "--dtype",
        choices=["float32", "bfloat16"],
        default="float32",
        help="one model object in this dtype serves ladder, lm-eval and the bound alike",
    )
    args = parser.parse_args()

    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    torch.set_num_threads(args.threads)
    loaded = load_model(args.model, dtype=args.dtype)
    budget = args.max_batch_tokens
    lm_eval = None if args.no_lm_eval else lm_eval_scorer(loaded, args.batch_size)
    sets = item_sets(args.n, args.seed)
    print(
        f"model {loaded.name} | threads {args.threads} | ladder budget {budget} tokens | "
        f"lm-eval batch {args.batch_size} | {args.clock} clock | core seed {args.seed} | "
        f"{args.dtype}"
    )
    for label in args.sets.split(","):
        prompts = [format_prompt(loaded, i["prompt"], True) for i in sets[label]]
        keys = [i["family_id"] for i in sets[label]]  # as HFPredictor passes them
        lengths = [len(encode(loaded, p)) for p in prompts]
        print(
            f"{label}: {len(prompts)} prompts, {min(lengths)}-{max(lengths)} tokens "
            f"(mean {sum(lengths) / len(lengths):.0f}), "
            f"{len({i['family_id'] for i in sets[label]})} families"
        )
        methods: dict[str, Callable[[], object]] = {
            "ladder": lambda p=prompts, k=keys: score_options(
                loaded, p, progress=False, max_batch_tokens=budget, prefix_groups=k
            ),
            "bound": lambda p=prompts: bare_forward(loaded, p, budget),
        }
        if lm_eval is not None:
            methods["lm-eval"] = lambda p=prompts: lm_eval(p)
            ours = [s.p_yes for s in score_options(loaded, prompts, progress=False)]
            theirs = lm_eval(prompts)
            gap = max(abs(a - b) for a, b in zip(ours, theirs, strict=True))
            print(f"  max |p_yes(ladder) - p_yes(lm-eval)| = {gap:.2e}")
        report(label, len(prompts), run_rounds(methods, args.rounds))
        if args.profile and label == "per-item":
            longest = sorted(prompts, key=len, reverse=True)[: max(4, len(prompts) // 4)]
            profile(loaded, longest, budget)


if __name__ == "__main__":
    main()
