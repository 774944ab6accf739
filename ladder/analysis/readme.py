"""Quote the leaderboard's computed headline in the README (between markers).

``python -m ladder.analysis.readme README.md reports/leaderboard.md RUN_DIR...`` replaces the text
between ``<!-- leaderboard:start -->`` and ``<!-- leaderboard:end -->`` with a link to the
leaderboard and its headline, recomputed from the runs, so no number is typed by hand.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from ladder.analysis.leaderboard import leaderboard_headline
from ladder.core.errors import UsageError
from ladder.core.io import atomic_writer

__all__ = ["END", "START", "readme_block", "update_readme"]

START = "<!-- leaderboard:start -->"
END = "<!-- leaderboard:end -->"


def readme_block(leaderboard: str | Path, run_dirs: Sequence[str | Path]) -> str:
    """The markdown quoted between the markers."""
    headline = leaderboard_headline(run_dirs)
    return (
        f"{START}\nFrom [{Path(leaderboard).as_posix()}]({Path(leaderboard).as_posix()}) "
        f"(computed by `ladder leaderboard`):\n\n> {headline}\n{END}"
    )


def update_readme(
    readme: str | Path, leaderboard: str | Path, run_dirs: Sequence[str | Path]
) -> None:
    """Rewrite the block between the markers of ``readme``."""
    path = Path(readme)
    text = path.read_text()
    if START not in text or END not in text:
        raise UsageError(f"{path}: markers {START} and {END} not found")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    with atomic_writer(path) as fh:
        fh.write(head + readme_block(leaderboard, run_dirs) + tail)


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit("usage: python -m ladder.analysis.readme README.md LEADERBOARD.md RUN_DIR...")
    update_readme(sys.argv[1], sys.argv[2], sys.argv[3:])
