"""Reproducibility: model identity, versions, seeds, hashes, commands and environment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ladder.analysis.markdown import code, markdown_table
from ladder.analysis.runfiles import Run
from ladder.analysis.sections.context import ReportContext
from ladder.core.environment import VERSION, git_commit

__all__ = ["footer_section"]

MODEL_DETAILS = ("source", "dtype", "architecture", "package", "revision")


def _spec_text(spec: Any) -> str:
    if not isinstance(spec, Mapping):
        return "not recorded (items given as a file)"
    return (
        f"{spec.get('name')} ({spec.get('source')}), sha256 "
        f"{code(spec.get('sha256'))}, seed {spec.get('seed')}, n {spec.get('n')}"
    )


def _run_rows(run: Run) -> list[list[str]]:
    res = run.results or {}
    model = run.model
    items = res.get("items") or {}
    lad = res.get("ladder") or {}
    details = ", ".join(f"{k} {model[k]}" for k in MODEL_DETAILS if model.get(k))
    expected = run.n_expected if run.n_expected is not None else "?"
    return [
        [
            "model",
            f"{run.name} ({model.get('kind', 'unknown kind')})"
            + (f"; {details}" if details else ""),
        ],
        ["fingerprint", code(model.get("fingerprint"))],
        ["settings", code(res.get("settings"))],
        [
            "ladder (run)",
            f"version {lad.get('version', '?')}, commit {code(lad.get('git_commit'))}",
        ],
        [
            "status",
            f"{run.status}; {len(run.samples)} of {expected} items scored; started "
            f"{res.get('started', '?')}, finished {res.get('finished') or '?'}",
        ],
        ["items", f"sha256 {code(run.items_sha256)}"],
        [
            "tasks / seeds",
            f"{', '.join(map(str, items.get('tasks', []))) or '?'} / "
            f"{', '.join(map(str, items.get('seeds', []))) or '?'}",
        ],
        ["spec", _spec_text(items.get("spec"))],
        ["command", code(res.get("command"))],
    ]


def footer_section(ctx: ReportContext, command: str | None) -> list[str]:
    """``## Reproducibility``: what made the run, and what made this report."""
    env = (ctx.run.results or {}).get("environment") or {}
    rows = [
        *_run_rows(ctx.run),
        ["environment", "; ".join(f"{k} {v}" for k, v in env.items()) or "not recorded"],
        ["report", f"ladder {VERSION}, commit {code(git_commit())}, command {code(command)}"],
    ]
    return ["## Reproducibility", "", *markdown_table(["what", "value"], rows, "ll")]
