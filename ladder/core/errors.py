"""One error hierarchy: every failure caused by the user's input is a :class:`LadderError`.

The command line prints a ``LadderError`` as one line and exits with status 2; any other
exception is a bug and keeps its traceback. Each subclass also derives from ``ValueError``
so callers that catch ``ValueError`` keep working.

>>> issubclass(SCMError, LadderError) and issubclass(SCMError, ValueError)
True
"""

from __future__ import annotations

__all__ = [
    "GenerationError",
    "GrangerRunError",
    "ItemFileError",
    "LadderError",
    "LeaderboardError",
    "ModelLoadError",
    "PlotBackendError",
    "ReportError",
    "RunError",
    "SCMError",
    "ScoringError",
    "SpanAlignmentError",
    "SpecError",
    "Terminated",
    "UsageError",
    "stop_reason",
]


class LadderError(Exception):
    """Bad input or an unusable file: the message says what, where, and what is allowed."""


class UsageError(LadderError, ValueError):
    """Bad command-line arguments."""


class SCMError(LadderError, ValueError):
    """An SCM, graph or query is malformed, or evidence has probability zero."""


class SpecError(LadderError, ValueError):
    """A task spec (YAML) is malformed."""


class GenerationError(LadderError, ValueError):
    """No valid item could be drawn for a cell (e.g. a margin too large)."""


class ItemFileError(LadderError, ValueError):
    """An item or run file is missing or malformed; the message names the file and line."""


class ModelLoadError(LadderError, ValueError):
    """A model cannot be found or loaded."""


class ScoringError(LadderError, ValueError):
    """A prompt cannot be scored (e.g. too long for the model)."""


class SpanAlignmentError(ScoringError):
    """A scored span does not line up with token boundaries."""


class RunError(LadderError, ValueError):
    """A run cannot start or resume; the message says why."""


class GrangerRunError(RunError):
    """A Granger run cannot start or resume."""


class ReportError(LadderError, ValueError):
    """A report cannot be built from the given run files."""


class LeaderboardError(ReportError):
    """Runs cannot be ranked together."""


class PlotBackendError(LadderError, RuntimeError):
    """matplotlib is missing or cannot draw here."""


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived (the CLI turns it into this): unwinds like Ctrl-C, so temporary files
    are removed and runs keep what they flushed."""


def stop_reason(exc: KeyboardInterrupt) -> tuple[str, int]:
    """How a stopped command reports itself: (word, exit status), 143 for SIGTERM, 130 for Ctrl-C.

    >>> stop_reason(Terminated()), stop_reason(KeyboardInterrupt())
    (('terminated', 143), ('interrupted', 130))
    """
    return ("terminated", 143) if isinstance(exc, Terminated) else ("interrupted", 130)
