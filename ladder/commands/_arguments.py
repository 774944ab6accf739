"""Arguments shared by several commands: the model options and positive integers.

>>> import argparse
>>> parser = argparse.ArgumentParser()
>>> add_model_arguments(parser.add_argument_group("model"), model_help="a model")
>>> args = parser.parse_args(["--model", "m", "--max-batch-tokens", "512"])
>>> args.model, args.max_batch_tokens, args.device, args.trust_remote_code
('m', 512, None, None)
"""

from __future__ import annotations

import argparse

__all__ = ["add_model_arguments", "positive_int"]


def positive_int(text: str) -> int:
    """An argparse ``type`` for integers of at least 1 (so ``-5`` fails in the parser).

    >>> positive_int("3")
    3
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: must be a positive integer")
    return value


def add_model_arguments(group: argparse._ArgumentGroup, model_help: str) -> None:
    """The options that say which model to load and how (``ladder run``, ``ladder granger``).

    Every default is ``None`` ("not given"), so a resumed run can tell an explicit option
    from its recorded one; the commands fill in float32, cpu and no remote code.
    """
    group.add_argument("--model", default=None, help=model_help)
    group.add_argument(
        "--gguf-file",
        default=None,
        help="GGUF file name inside --model's folder, or a path to a .gguf file",
    )
    group.add_argument(
        "--dtype",
        default=None,
        choices=["float32", "bfloat16", "float16"],
        help="weights dtype (default float32; on --resume: the run's own)",
    )
    group.add_argument(
        "--device", default=None, choices=["cpu", "cuda", "auto"], help="default cpu"
    )
    group.add_argument("--revision", default=None, help="hub revision (branch, tag or commit)")
    group.add_argument(
        "--trust-remote-code",
        action="store_true",
        default=None,
        help="allow the model's own Python code (only for a model whose code you trust)",
    )
    group.add_argument(
        "--max-batch-tokens",
        type=positive_int,
        default=None,
        help="padded tokens per forward pass (a positive integer; default: the scorer's)",
    )
