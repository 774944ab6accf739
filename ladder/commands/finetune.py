"""``ladder finetune``: train a model to answer items with chosen labels (positive controls).

See :mod:`ladder.harness.finetune` for what is trained and how, and ``docs/finetune.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ladder.commands._arguments import positive_int
from ladder.core.errors import UsageError
from ladder.harness.finetune import LABELS, TrainSettings, finetune

__all__ = ["HELP", "NAME", "configure", "run"]

NAME = "finetune"
HELP = "fine-tune a model on items' truth or association labels (LoRA or full)"


def configure(p: argparse.ArgumentParser) -> None:
    """Add the ``ladder finetune`` options to ``p``."""
    p.add_argument(
        "--model",
        default=None,
        help="base model: embedded name, local folder or hub id (default: the embedded "
        "SmolLM2-135M-Instruct)",
    )
    p.add_argument("--items", type=Path, required=True, help="training item file (JSONL)")
    p.add_argument("--labels", required=True, choices=LABELS, help="which answer to train on")
    p.add_argument("--out", type=Path, required=True, help="output model folder")
    p.add_argument("--epochs", type=positive_int, default=1, help="passes over the items")
    p.add_argument("--max-steps", type=positive_int, default=None, help="stop after N steps")
    p.add_argument("--lr", type=float, default=None, help="default 5e-4 (LoRA), 2e-5 (full)")
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--lora", dest="lora", action="store_true", default=True, help="default")
    kind.add_argument("--full", dest="lora", action="store_false", help="train every weight")
    p.add_argument("--lora-rank", type=positive_int, default=16, help="LoRA rank (default 16)")
    p.add_argument("--batch-size", type=positive_int, default=8, help="items per step")
    p.add_argument("--seed", type=int, default=0, help="example order and LoRA init")
    p.add_argument(
        "--checkpoint-every", type=positive_int, default=50, help="steps between checkpoints"
    )
    p.add_argument(
        "--max-batch-tokens",
        type=positive_int,
        default=1024,
        help="padded tokens per forward pass; a larger batch runs in parts (memory bound)",
    )
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    tpl = p.add_mutually_exclusive_group()
    tpl.add_argument(
        "--chat-template",
        dest="chat_template",
        action="store_true",
        default=None,
        help="require the chat template (default: use it if present, as `ladder run` does)",
    )
    tpl.add_argument(
        "--no-chat-template",
        dest="chat_template",
        action="store_false",
        help="train on the bare prompt followed by 'Answer:'",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Train, write the model folder and its provenance, print a summary."""
    if args.lr is not None and not args.lr > 0:
        raise UsageError(f"--lr {args.lr}: must be a positive number")
    settings = TrainSettings(
        labels=args.labels,
        epochs=args.epochs,
        lr=args.lr,
        lora=args.lora,
        lora_rank=args.lora_rank,
        batch_size=args.batch_size,
        seed=args.seed,
        max_steps=args.max_steps,
        checkpoint_every=args.checkpoint_every,
        max_batch_tokens=args.max_batch_tokens,
    )
    record = finetune(
        args.model,
        args.items,
        args.out,
        settings,
        device=args.device,
        chat_template=args.chat_template,
        progress=not args.quiet,
        log=lambda line: print(line, file=sys.stderr),
    )
    loss = record.get("loss") or {}
    print(
        f"wrote {args.out}: {record.get('steps')} steps, loss {loss.get('first'):.4f} -> "
        f"{loss.get('final'):.4f}, {record.get('train_tokens_per_second')} tokens/s"
    )
    return 0
