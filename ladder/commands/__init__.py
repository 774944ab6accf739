"""The command-line commands, one module each.

Every module here defines ``NAME`` and ``HELP``, ``configure(parser)`` (its arguments) and
``run(args) -> int`` (its exit status); :data:`COMMANDS` lists them in the order ``ladder
--help`` shows. Adding a command is one module and one line below.
"""

from __future__ import annotations

from types import ModuleType

from ladder.commands import export, finetune, generate, granger, import_, leaderboard, report, run

__all__ = ["COMMANDS"]

COMMANDS: dict[str, ModuleType] = {
    module.NAME: module
    for module in (generate, run, export, granger, report, leaderboard, import_, finetune)
}
