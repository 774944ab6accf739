"""Baseline runs on the same items as a run, found on disk — never computed here.

A report compares a model with the four baselines of :data:`BASELINE_NAMES`, read from
*runs* of those baselines on the same item file (equal ``items.sha256``): runs given with
``--baselines``, then sibling runs (``<root>/<name>/<stamp>`` or ``<parent>/<name>``).
A baseline without such a run is named in :attr:`BaselineSet.missing`, with the exact
``ladder run`` command that makes it (:func:`baseline_commands`); the report says so and
still writes everything else.

>>> bool(STAMP.fullmatch("20260101T000000Z-2")), bool(STAMP.fullmatch("smollm2"))
(True, False)

It also holds the **mixture baselines** that validate the analysis (issue 11): rules with a
known weight, so that a report must recover the weight and must not mistake answer bias for
association-following. ``mixture-α`` answers with the truth oracle with probability α and
with the association oracle otherwise; ``biased-β`` says "yes" with probability β whatever
the item. Their draws are deterministic per (weight, seed, item id). :func:`recover_alpha`
and :func:`recover_beta` estimate the weights back from a run's samples.

>>> parse_mixture("mixture-0.7"), parse_mixture("biased-0.8"), parse_mixture("random")
(('mixture', 0.7), ('biased', 0.8), None)
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ladder.analysis.runfiles import BASELINE_NAMES, Run, load_run, read_results
from ladder.core.errors import ReportError
from ladder.core.records import ANSWER, DISCORDANT, NO, YES
from ladder.harness.metrics import wilson_interval
from ladder.harness.mixtures import (
    MIXTURE_KINDS,
    biased_answer,
    is_baseline_name,
    mixture_answer,
    parse_mixture,
)

__all__ = [
    "ASSOC",
    "BASELINE_NAMES",
    "MIXTURE_KINDS",
    "TRUTH",
    "BaselineSet",
    "baseline_commands",
    "baselines_for",
    "biased_answer",
    "find_baseline_runs",
    "mixture_answer",
    "parse_mixture",
    "recover_alpha",
    "recover_beta",
]

ASSOC, TRUTH = "association-oracle", "truth-oracle"
#: How ``ladder run`` names a fresh run directory under ``<out-dir>/<model>/``.
STAMP = re.compile(r"\d{8}T\d{6}Z(-\d+)?")


@dataclass
class BaselineSet:
    """Baseline samples keyed by baseline name then item id, and where each came from.

    ``missing`` lists the baselines with no usable run, ``commands`` the ``ladder run``
    commands that would make them, ``warnings`` anything else worth a note.
    """

    samples: dict[str, dict[str, dict[str, Any]]]
    sources: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)

    def accuracy(self, name: str, ids: Iterable[str]) -> float | None:
        """Accuracy of baseline ``name`` on ``ids`` (None when absent or not covered)."""
        table = self.samples.get(name)
        ids = list(ids)
        if table is None or not ids or any(i not in table for i in ids):
            return None
        return sum(bool(table[i]["correct"]) for i in ids) / len(ids)


def _candidate_dirs(run_dir: Path) -> list[Path]:
    """Run directories near ``run_dir``: ``<root>/<slug>/<stamp>`` and ``<parent>/<name>``."""
    found: list[Path] = []
    root = run_dir.parent.parent
    for pattern_root, pattern in ((root, "*/*/results.json"), (run_dir.parent, "*/results.json")):
        try:
            found += [p.parent for p in sorted(pattern_root.glob(pattern))]
        except OSError:
            continue
    return found


def _expand_dirs(dirs: Iterable[str | Path]) -> list[Path]:
    """Each of ``dirs`` is a run directory or a folder holding runs (any depth ≤ 2)."""
    out: list[Path] = []
    for d in dirs:
        d = Path(d)
        if not d.is_dir():
            raise ReportError(f"--baselines {d}: no such directory")
        if (d / "results.json").exists() or (d / "samples.jsonl").exists():
            out.append(d)
        else:
            out += [p.parent for p in sorted(d.glob("*/results.json"))]
            out += [p.parent for p in sorted(d.glob("*/*/results.json"))]
    return out


def _baseline_hash(d: Path) -> tuple[bool, str | None]:
    """Whether ``d`` is a baseline run, and the item hash it records."""
    data, _ = read_results(d)
    # A neighbouring folder may hold any JSON at all: anything not shaped like a baseline
    # run's results is simply not a baseline.
    model = data.get("model") if isinstance(data, dict) else None
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(model, dict) or model.get("kind") != "baseline":
        return False, None
    if not is_baseline_name(str(model.get("name"))):
        return False, None
    sha = items.get("sha256") if isinstance(items, dict) else None
    return True, sha if isinstance(sha, str) else None


def find_baseline_runs(
    run: Run, extra: Sequence[str | Path] = (), skipped: list[str] | None = None
) -> dict[str, list[Run]]:
    """Baseline runs on the same items (equal ``items.sha256``): given dirs, then siblings.

    Returns ``{baseline name: [runs, newest first]}``; runs with another hash are skipped
    (those among ``extra`` are named in ``skipped``).
    """
    out: dict[str, list[Run]] = {}
    seen: set[Path] = {run.path.resolve()}
    given = _expand_dirs(extra)
    for d in [*given, *_candidate_dirs(run.path)]:
        if d.resolve() in seen:
            continue
        seen.add(d.resolve())
        is_baseline, sha = _baseline_hash(d)
        if not is_baseline:
            continue
        if sha != run.items_sha256 or not run.items_sha256:
            if skipped is not None and d in given:
                skipped.append(
                    f"--baselines {d} ignored: its items (sha256 {str(sha)[:12]}) "
                    f"are not this run's ({str(run.items_sha256)[:12]})"
                )
            continue
        try:
            other = load_run(d)
        except ReportError:
            continue
        out.setdefault(other.name, []).append(other)
    for runs in out.values():
        runs.sort(key=lambda r: str((r.results or {}).get("started", "")), reverse=True)
    return out


def _items_file(run: Run) -> Path | None:
    """The item file a baseline run of ``run`` should score: the run's copy, else the
    recorded path when it still exists."""
    if (run.path / "items.jsonl").is_file():
        return run.path / "items.jsonl"
    recorded = ((run.results or {}).get("items") or {}).get("path")
    if recorded and Path(recorded).is_file():
        return Path(recorded)
    return None


def baseline_commands(run: Run, names: Sequence[str]) -> list[str]:
    """The ``ladder run`` commands that make baseline runs ``names`` where a report of
    ``run`` finds them (beside it, in the same layout).

    >>> run = Run(Path("runs/tiny/20260101T000000Z"), None, None, [], None)
    >>> print(*baseline_commands(run, ["truth-oracle"]))  # no item file there: a placeholder
    ladder run --model truth-oracle --items ITEMS.jsonl --run-dir runs/truth-oracle/20260101T000000Z
    """
    items = _items_file(run)
    items_arg = str(items) if items is not None else "ITEMS.jsonl"
    stamped = STAMP.fullmatch(run.path.name) is not None
    out = []
    for name in names:
        target = (
            run.path.parent.parent / name / run.path.name if stamped else run.path.parent / name
        )
        argv = ["ladder", "run", "--model", name, "--items", items_arg, "--run-dir", str(target)]
        out.append(shlex.join(argv))
    return out


def baselines_for(run: Run, extra: Sequence[str | Path] = ()) -> BaselineSet:
    """The baselines on the run's scored items, from runs that cover every scored item.

    Baselines without such a run are listed in ``missing`` with the commands that make
    them; a run that covers only part of the items is named with a ``--resume`` hint.
    """
    ids = [s["id"] for s in run.samples]
    base = BaselineSet({}, {})
    found = find_baseline_runs(run, extra, base.warnings)
    if run.is_baseline:  # a baseline's own report: the run is its own baseline
        found[run.name] = [run, *found.get(run.name, [])]
    for name in BASELINE_NAMES:
        for other in found.get(name, []):
            table = {s["id"]: s for s in other.samples}
            if all(i in table for i in ids):
                source = "this run" if other is run else f"run `{other.path}`"
                base.samples[name], base.sources[name] = table, source
                break
        else:
            base.missing.append(name)
            for other in found.get(name, [])[:1]:
                have = {s["id"] for s in other.samples}
                covered = sum(i in have for i in ids)
                base.warnings.append(
                    f"baseline run `{other.path}` covers {covered} of the {len(ids)} scored "
                    f"items; finish it with `ladder run --resume {shlex.quote(str(other.path))}`"
                )
    base.commands = baseline_commands(run, base.missing)
    return base


def _proportion(hits: int, n: int) -> dict[str, Any]:
    low, high = wilson_interval(hits, n)
    return {
        "estimate": hits / n if n else None,
        "low": low if n else None,
        "high": high if n else None,
        "n": n,
    }


def recover_alpha(samples: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """α of a mixture run: the share of discordant items answered with the truth, with a
    Wilson 95% interval (each item's draw is independent, so items are the unit).

    Only discordant items with a readable answer count (elsewhere truth and association
    agree, or the association answer is missing). Keys: ``estimate``, ``low``, ``high``, ``n``.

    >>> s = [{"discordant": True, "answer": "yes", "prediction": p} for p in ("yes", "no")]
    >>> recover_alpha(s)["estimate"]
    0.5
    """
    rows = [s for s in samples if s.get(DISCORDANT) and s.get("prediction") in (YES, NO)]
    return _proportion(sum(s["prediction"] == s[ANSWER] for s in rows), len(rows))


def recover_beta(samples: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """β of a biased run: its share of "yes" among readable answers, with a Wilson 95%
    interval. Keys: ``estimate``, ``low``, ``high``, ``n``.

    >>> recover_beta([{"prediction": "yes"}] * 3 + [{"prediction": "no"}])["estimate"]
    0.75
    """
    rows = [s for s in samples if s.get("prediction") in (YES, NO)]
    return _proportion(sum(s["prediction"] == YES for s in rows), len(rows))
