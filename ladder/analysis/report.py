"""``ladder report``: a markdown report (with PNG figures) of one run, from its files only.

The report reads the run directory (:mod:`ladder.analysis.runfiles`) and baseline runs on
the same items (:mod:`ladder.analysis.baselines`) — never a model, never exact inference —
and writes ``report.md`` with figures beside it. Its sections, one module each under
:mod:`ladder.analysis.sections`:

* **headline** — accuracy beside balanced accuracy, AUROC of P(yes) against the truth and
  against the association answer and the majority baseline, overall and per rung, with
  family-clustered 95% intervals; whether the model beats chance (clustered test of
  Youden's J); the rung-to-rung changes; the smallest detectable difference;
* **baselines and the ladder gap** — the model against ``random``, ``always-yes``, the
  association-only oracle and the truth oracle on the *same items* (sibling runs with the
  same item-file hash, or runs given with ``--baselines``; missing ones are named with the
  ``ladder run`` commands that make them), accuracy where the association answer is
  wrong (the samples' ``discordant`` items), and the association-following model
  (adjusted for truth, query type, wording and polarity; family-clustered);
* **within families** — when items come in families: rungs paired on the same SCMs,
  verbalization invariance, twin consistency;
* **scored both ways** — only when the items carry a source benchmark's label
  (``source.label``, e.g. imported CLadder items): accuracy against ladder's exact labels
  and against the original ones, side by side;
* **where it breaks** — the same measures by query type × graph family, graph size (binned),
  verbalization and evidence mode, with one joint test per slicing (no extreme-pair tests),
  calibration and answer bias;
* **Granger** — when a ``granger.json`` is present (keys in :data:`GRANGER_KEYS`);
* **reproducibility** — model identity, versions, seeds, hashes, command, environment.

Every number in the text is computed here from the run's files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict, Unpack

from ladder.analysis.baselines import BASELINE_NAMES, BaselineSet, baselines_for, find_baseline_runs
from ladder.analysis.markdown import assemble, markdown_table, warning_lines
from ladder.analysis.runfiles import Run, load_run
from ladder.analysis.sections.calibration import calibration_section
from ladder.analysis.sections.context import ReportContext
from ladder.analysis.sections.footer import footer_section
from ladder.analysis.sections.gap import baselines_section
from ladder.analysis.sections.granger import GRANGER_FILE, GRANGER_KEYS, granger_section
from ladder.analysis.sections.headline import headline_section
from ladder.analysis.sections.slices import (
    evidence_section,
    nodes_section,
    query_family_section,
    verbalization_section,
)
from ladder.analysis.sections.source_labels import has_source_labels, source_labels_section
from ladder.analysis.sections.within_family import has_families, within_family_section
from ladder.core.environment import command_line
from ladder.core.errors import ReportError
from ladder.core.io import atomic_writer

__all__ = [
    "BASELINE_NAMES",
    "GRANGER_KEYS",
    "BaselineSet",
    "Report",
    "ReportError",
    "ReportOptions",
    "Run",
    "baselines_for",
    "build_report",
    "command_line",
    "find_baseline_runs",
    "granger_section",
    "load_run",
    "markdown_table",
    "write_report",
]


@dataclass
class Report:
    """A built report: its markdown, figure files, warnings and the numbers it quotes."""

    markdown: str
    figures: list[Path]
    warnings: list[str]
    data: dict[str, Any]
    path: Path | None = None


class ReportOptions(TypedDict, total=False):
    """The keyword options of :func:`build_report`, which :func:`write_report` passes on."""

    baselines: Sequence[str | Path]
    out: str | Path | None
    granger: str | Path | None
    figures: bool
    command: str | None


def _granger_path(run: Run, granger: str | Path | None) -> Path:
    """The ``granger.json`` to report: the one given (a file or its folder), else the run's."""
    path = Path(granger) if granger is not None else run.path / GRANGER_FILE
    if path.is_dir():
        path = path / GRANGER_FILE
    if granger is not None and not path.exists():
        raise ReportError(f"--granger {granger}: no {GRANGER_FILE} there")
    return path


def _sections(ctx: ReportContext, granger: Path, command: str | None) -> list[list[str]]:
    sections = [
        headline_section(ctx),
        baselines_section(ctx),
        ["## Where it breaks"],
        query_family_section(ctx),
        nodes_section(ctx),
        verbalization_section(ctx),
        evidence_section(ctx),
        calibration_section(ctx),
    ]
    if has_families(ctx.run.samples):
        sections.insert(2, within_family_section(ctx))
    if has_source_labels(ctx.run):
        # imported items (e.g. CLadder) keep their benchmark's own label: score both ways
        sections.insert(1, source_labels_section(ctx))
    if granger.exists():
        sections.append(granger_section(granger, ctx))
    sections.append(footer_section(ctx, command))
    return sections


def _contamination_lines(run: Run) -> list[str]:
    """The "trained on these items" warning of a fine-tuned model scored on its own
    training items (or the same spec and seed)."""
    found = (run.results or {}).get("contamination")
    if not found:
        return []
    what = found.get("reason", "?")
    detail = found.get("task_seeds") or (found.get("sha256") or "")[:16]
    return [
        f"**Trained on these items** ({what}: {detail}; labels {found.get('labels')}): this "
        "run measures memory of the training labels, not reasoning."
    ]


def build_report(
    run_dir: str | Path,
    *,
    baselines: Sequence[str | Path] = (),
    out: str | Path | None = None,
    granger: str | Path | None = None,
    figures: bool = True,
    command: str | None = None,
) -> Report:
    """Build the report of ``run_dir`` and draw its figures beside ``out``.

    ``out`` defaults to ``run_dir/report.md`` (the markdown itself is written by
    :func:`write_report`). ``granger`` is a directory or file; by default the run
    directory's ``granger.json`` is used when present.
    """
    run = load_run(run_dir)
    gpath = _granger_path(run, granger)
    out_path = Path(out) if out is not None else run.path / "report.md"
    ctx = ReportContext(run, baselines_for(run, baselines), out_path, figures)
    sections = _sections(ctx, gpath, command)
    warnings_ = [*_contamination_lines(run), *run.warnings, *ctx.figure_notes]
    head = [
        f"# ladder report: {run.name}",
        "",
        f"Run `{run.path}` — {len(run.samples)} scored items, status {run.status}.",
        *warning_lines(warnings_),
    ]
    return Report(assemble([head, *sections]), ctx.figures, warnings_, ctx.data, out_path)


def write_report(run_dir: str | Path, **options: Unpack[ReportOptions]) -> Report:
    """Build the report (:func:`build_report`, same keyword options) and write its markdown
    atomically (figures are written while building)."""
    report = build_report(run_dir, **options)
    assert report.path is not None  # build_report always sets it
    try:
        report.path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_writer(report.path) as fh:
            fh.write(report.markdown)
    except OSError as exc:
        raise ReportError(
            f"{report.path}: cannot write the report ({exc.strerror or exc})"
        ) from None
    return report
