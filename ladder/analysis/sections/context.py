"""What every report section reads and writes: the run, its baselines, figures and numbers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ladder.analysis.baselines import BaselineSet
from ladder.analysis.runfiles import Run
from ladder.core.errors import PlotBackendError, ReportError

__all__ = ["ReportContext"]


@dataclass
class ReportContext:
    """The run and its baselines; where figures go; the numbers the report quotes.

    ``out`` is the markdown file: figures are written beside it as ``<stem>-<name>.png``.
    With ``figures_on`` False (or once matplotlib turns out to be missing) no figure is
    drawn, and ``figure_notes`` says why.
    """

    run: Run
    base: BaselineSet
    out: Path
    figures_on: bool
    figures: list[Path] = field(default_factory=list)
    figure_notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def figure(self, name: str, draw: Callable[[Path], Path], alt: str) -> list[str]:
        """Draw a figure beside the report; markdown lines embedding it (or nothing)."""
        if not self.figures_on:
            return []
        path = self.out.parent / f"{self.out.stem}-{name}.png"
        try:
            draw(path)
        except PlotBackendError as exc:
            self.figures_on = False
            self.figure_notes.append(f"figures were not drawn: {exc}")
            return []
        except OSError as exc:
            raise ReportError(f"{path}: cannot write the figure ({exc.strerror or exc})") from None
        self.figures.append(path)
        return ["", f"![{alt}]({path.name})", ""]
