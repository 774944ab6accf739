"""Benchmark yes/no scoring on a real model: naive vs ladder vs the bare batched-forward bound.

Usage::

    PYTHONPATH=. python bench/bench_scoring.py [--model smollm2-135m-instruct] [--n 160]

Prompts are made-up causal stories with one yes/no question each (~150-200 tokens after the
chat template). Reported, in items/s:

(a) naive   — ``naive_option_logprobs``: one full forward per prompt+option (on a subset);
(b) ladder  — ``score_options`` (defaults);
(c) bound   — total prompt tokens ÷ tokens/s of a plain batched ``model(input_ids, mask)``
              forward over the same prompts (length-sorted, left-padded, the same token
              budget): what any scorer needing one forward of each prompt could reach;
(d) shared  — ``score_options`` on a second set where 4 questions share each story
              (prefix sharing; this can beat the per-item bound).

Methods are timed in alternating rounds and the best round is kept, so a busy machine
penalises all of them alike. ``--clock cpu`` times with the process's CPU time instead of the
wall clock: on a shared machine with ``--threads 1`` it is the stable measure (with more
threads, OpenMP spin-waits inflate CPU time).
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

import torch

from ladder.harness.models import format_prompt, load_model, naive_option_logprobs, score_options
from ladder.harness.models.loading import LoadedModel
from ladder.harness.models.scoring import DEFAULT_MAX_BATCH_TOKENS, _left_pad, encode

_NAMES = [
    ("smoking", "tar deposits", "lung cancer"),
    ("rain", "the sprinkler", "wet grass"),
    ("studying", "sleep quality", "exam scores"),
    ("vaccination", "immunity", "hospital visits"),
    ("the zorp level", "blixness", "the quand rate"),
    ("education", "income", "health"),
    ("fertilizer", "soil nitrogen", "crop yield"),
    ("exercise", "blood pressure", "heart disease"),
]


def _story(rng: random.Random, x: str, m: str, y: str, sentences: int) -> str:
    lines = [
        "Consider an invented, closed world in which nothing holds except the conditions stated "
        "below: no other factors or causal links exist.",
        f"{x.capitalize()} has a direct effect on {m} and on {y}. {m.capitalize()} has a direct "
        f"effect on {y}.",
    ]
    for _ in range(sentences):
        a, b = rng.choice([(x, m), (x, y), (m, y)])
        p = rng.randint(5, 95)
        cond = rng.choice(["present", "absent"])
        lines.append(
            f"When {a} is {cond}, the probability that {b} is present is {p}% in this population."
        )
    return " ".join(lines)


def _question(rng: random.Random, x: str, y: str) -> str:
    verb = rng.choice(["increase", "decrease"])
    return (
        f"Question: If we intervene to make {x} present, does that {verb} the chance that {y} "
        f"is present? Answer yes or no."
    )


def make_prompts(loaded: LoadedModel, n: int, seed: int, questions_per_story: int = 1) -> list[str]:
    """``n`` chat-formatted prompts of roughly 150-200 tokens."""
    rng = random.Random(seed)
    prompts: list[str] = []
    while len(prompts) < n:
        x, m, y = rng.choice(_NAMES)
        story = _story(rng, x, m, y, rng.randint(3, 5))
        for _ in range(questions_per_story):
            text = f"{story}\n{_question(rng, x, y)}"
            prompts.append(format_prompt(loaded, text, use_chat_template=loaded.chat_template))
    return prompts[:n]


CLOCK: Callable[[], float] = time.perf_counter


def bare_forward(loaded: LoadedModel, prompts: list[str], max_batch_tokens: int) -> float:
    """Seconds for plain ``model(...)`` forwards (all-position logits) over length-sorted
    left-padded batches under the token budget."""
    seqs = sorted((encode(loaded, p) for p in prompts), key=len, reverse=True)
    start = CLOCK()
    with torch.inference_mode():
        i = 0
        while i < len(seqs):
            width = len(seqs[i])
            size = max(1, max_batch_tokens // width)
            batch = seqs[i : i + size]
            ids, mask, pos = _left_pad(batch, 0, loaded.device)
            loaded.model(input_ids=ids, attention_mask=mask, position_ids=pos)
            i += size
    return CLOCK() - start


def best_of(rounds: int, fns: dict[str, Callable[[], float]]) -> dict[str, float]:
    """Run each timing function ``rounds`` times, interleaved; keep each one's minimum."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, fn in fns.items():
            best[name] = min(best[name], fn())
    return best


def _timed(fn: Callable[[], object]) -> Callable[[], float]:
    def run() -> float:
        start = CLOCK()
        fn()
        return CLOCK() - start

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="model (default: embedded SmolLM2)")
    parser.add_argument("--n", type=int, default=160, help="prompts")
    parser.add_argument("--naive-n", type=int, default=24, help="prompts for the naive scorer")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max-batch-tokens", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    args = parser.parse_args()

    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    torch.set_num_threads(args.threads)
    loaded = load_model(args.model)
    prompts = make_prompts(loaded, args.n, args.seed)
    shared = make_prompts(loaded, args.n, args.seed + 1, questions_per_story=4)
    lengths = [len(encode(loaded, p)) for p in prompts]
    tokens = sum(lengths)
    budget = args.max_batch_tokens or DEFAULT_MAX_BATCH_TOKENS
    kwargs = {"max_batch_tokens": budget}
    print(
        f"model {loaded.name} | {args.n} prompts, {min(lengths)}-{max(lengths)} tokens "
        f"(mean {tokens / args.n:.0f}) | threads {args.threads} | budget {budget} tokens | "
        f"{args.clock} clock"
    )
    score_options(loaded, prompts[:4], progress=False)  # warm-up

    times = best_of(
        args.rounds,
        {
            "naive": _timed(lambda: naive_option_logprobs(loaded, prompts[: args.naive_n])),
            "ladder": _timed(lambda: score_options(loaded, prompts, progress=False, **kwargs)),
            "bound": lambda: bare_forward(loaded, prompts, budget),
            "shared": _timed(lambda: score_options(loaded, shared, progress=False, **kwargs)),
        },
    )
    rate = {
        "naive": args.naive_n / times["naive"],
        "ladder": args.n / times["ladder"],
        "bound": args.n / times["bound"],
        "shared": args.n / times["shared"],
    }
    print(f"(c) bare batched forward: {tokens / times['bound']:.0f} tokens/s")
    print(f"{'method':<34}{'items/s':>9}{'÷ bound':>9}")
    rows = [
        ("(a) naive (1 forward per option)", "naive"),
        ("(b) ladder score_options", "ladder"),
        ("(c) bound: bare batched forward", "bound"),
        ("(d) ladder, 4 questions per story", "shared"),
    ]
    for label, key in rows:
        print(f"{label:<34}{rate[key]:>9.2f}{rate[key] / rate['bound']:>9.2f}")
    print(f"ladder ÷ naive: {rate['ladder'] / rate['naive']:.1f}x")


if __name__ == "__main__":
    main()
