"""TE_M scoring speed against a bare forward pass over the same token sequences.

Builds the texts one grid series gives TE_M (the real series and its surrogates, as
``model_te`` builds them) for the first series of a grid, then times, in one process and
interleaved (bare, TE_M, bare, TE_M, ...):

* **bare forward**: the transformer body alone (no vocabulary projection, no log-softmax,
  no tokenization) over the same token ids, length-sorted and packed under the same
  ``max_batch_tokens`` budget — the least work any scorer must do;
* **TE_M scoring**: :class:`ladder.granger.model_side.HFScorer` end to end (tokenization,
  span lookup, forward, projection at the scored positions).

It prints both throughputs (tokens/s, best of ``--repeats``) and their ratio.

Usage::

    python bench/bench_granger_speed.py                     # embedded SmolLM2, quick grid
    python bench/bench_granger_speed.py --series 4 --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

from ladder.granger.grid import load_grid
from ladder.granger.model_side import HFScorer, span_positions
from ladder.granger.probe import prepared_series, series_texts


def grid_texts(grid_name: str, n_series: int) -> tuple[list[str], list[list[tuple[int, int]]]]:
    """The TE_M texts and y spans of the first ``n_series`` series of a grid."""
    grid = load_grid(grid_name)
    texts: list[str] = []
    spans: list[list[tuple[int, int]]] = []
    for entry in grid.plan()[:n_series]:
        series, _ = prepared_series(grid, entry)
        t, s, _, _ = series_texts(series, grid, entry)
        texts += t
        spans += s
    return texts, spans


def bare_forward(loaded: Any, sequences: list[list[int]], max_batch_tokens: int) -> float:
    """Seconds for the transformer body over ``sequences`` (length-sorted, packed, padded)."""
    import torch

    model = loaded.model
    base = getattr(model, model.base_model_prefix)
    pad = loaded.tokenizer.pad_token_id or 0
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    start = time.perf_counter()
    with torch.inference_mode():
        i = 0
        while i < len(order):
            width = len(sequences[order[i]])
            rows = max(1, max_batch_tokens // width)
            batch = [sequences[j] for j in order[i : i + rows]]
            width = max(len(s) for s in batch)
            ids = torch.full((len(batch), width), pad, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for r, seq in enumerate(batch):
                ids[r, : len(seq)] = torch.tensor(seq)
                mask[r, : len(seq)] = 1
            base(input_ids=ids.to(loaded.device), attention_mask=mask.to(loaded.device))
            i += len(batch)
    return time.perf_counter() - start


def measure(
    loaded: Any,
    texts: list[str],
    spans: list[list[tuple[int, int]]],
    max_batch_tokens: int = 2048,
    repeats: int = 2,
) -> dict[str, float]:
    """Best-of-``repeats`` tokens/s of the bare forward and of TE_M scoring, and the ratio."""
    sequences = [span_positions(loaded, t, s)[0] for t, s in zip(texts, spans, strict=True)]
    tokens = sum(len(s) for s in sequences)
    scorer = HFScorer(loaded, max_batch_tokens=max_batch_tokens)
    bare_forward(loaded, sequences[:1], max_batch_tokens)  # warm-up (kernels, allocator)
    bare, te = [], []
    for _ in range(repeats):
        bare.append(bare_forward(loaded, sequences, max_batch_tokens))
        start = time.perf_counter()
        scorer(texts, spans)
        te.append(time.perf_counter() - start)
    out = {
        "tokens": tokens,
        "bare_tokens_per_s": tokens / min(bare),
        "te_m_tokens_per_s": tokens / min(te),
    }
    out["ratio"] = out["te_m_tokens_per_s"] / out["bare_tokens_per_s"]
    return out


def report_lines(result: dict[str, float]) -> list[str]:
    """The two throughputs and their ratio, as printed."""
    return [
        f"bare forward: {result['bare_tokens_per_s']:.0f} tokens/s",
        f"TE_M scoring: {result['te_m_tokens_per_s']:.0f} tokens/s",
        f"ratio TE_M / bare: {result['ratio']:.3f} (over {result['tokens']} tokens)",
    ]


def main() -> int:
    """Load a model, build a grid's TE_M texts, print both throughputs and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model (default: embedded SmolLM2)")
    parser.add_argument("--grid", default="quick", help="grid name or YAML path")
    parser.add_argument("--series", type=int, default=2, help="series whose texts are timed")
    parser.add_argument("--max-batch-tokens", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    args = parser.parse_args()

    import torch

    from ladder.harness.models.loading import load_model

    if args.threads:
        torch.set_num_threads(args.threads)
    loaded = load_model(args.model)
    texts, spans = grid_texts(args.grid, args.series)
    print(
        f"model {loaded.name}  grid {args.grid}  texts {len(texts)}  cpu cores "
        f"{os.cpu_count()}  torch threads {torch.get_num_threads()}  load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    result = measure(loaded, texts, spans, args.max_batch_tokens, args.repeats)
    print("\n".join(report_lines(result)))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
