"""ladder: causal-reasoning probes for language models (command line).

Each command lives in its own module under :mod:`ladder.commands`. Bad input (a
:class:`~ladder.core.errors.LadderError`) is reported as one line ``ladder <command>: error:
...`` with exit status 2; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import NoReturn

from ladder.commands import COMMANDS
from ladder.core.errors import LadderError, Terminated, UsageError, stop_reason

__all__ = ["Terminated", "build_parser", "main"]


def _on_sigterm(signum: int, frame: FrameType | None) -> NoReturn:
    raise Terminated(f"signal {signum}")


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """While the command runs, SIGTERM raises :class:`Terminated` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (raised, printed by :func:`main`)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    """The ``ladder`` parser with one sub-parser per command module."""
    parser = _Parser(prog="ladder", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.configure(p)
        p.set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (2 for bad input, 130 when interrupted,
    143 when terminated by SIGTERM)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        with _sigterm_unwinds():
            return args.handler(args)
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM as Terminated
        word, status = stop_reason(exc)
        print(f"ladder {args.command}: {word}", file=sys.stderr)
        return status
    except LadderError as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"ladder {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
