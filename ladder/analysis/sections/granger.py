"""The Granger section: a ``granger.json`` (and ``series.jsonl`` beside it), read tolerantly.

Where the section looks for its data is declared once, in :data:`GRANGER_KEYS`; it shows a
per-cell table, computed sentences (agreement with statsmodels and with the truth, the
hidden-common-driver false-positive rate) and ROC curves over the per-series scores.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ladder.analysis import granger_plots, plots
from ladder.analysis.markdown import markdown_table, num
from ladder.analysis.measures import auroc, cluster_bootstrap
from ladder.analysis.sections.context import ReportContext
from ladder.core import stats
from ladder.core.errors import ReportError
from ladder.core.io import read_json, read_jsonl

__all__ = [
    "GRANGER_COLUMNS",
    "GRANGER_DIRECTION",
    "GRANGER_FILE",
    "GRANGER_KEYS",
    "GRANGER_SCORERS",
    "GRANGER_SERIES_FILE",
    "granger_section",
    "series_curves",
]

#: Where the Granger section looks for its data, in one place. Each role lists candidate keys,
#: first found wins; a dotted key ("summary.fpr.hidden_driver") looks inside nested dicts, and
#: a value that is a dict keyed by direction yields its :data:`GRANGER_DIRECTION` entry.
#: The first candidates are what ``ladder.granger.probe`` writes (granger_version 1).
GRANGER_KEYS: dict[str, tuple[str, ...]] = {
    # granger.json, top level
    "cells": ("cells",),
    "model_name": ("model.name", "model"),
    "status": ("status",),
    "n_done": ("n_done",),
    "n_planned": ("n_planned",),
    "grid_name": ("grid.name",),
    "alpha": ("settings.alpha", "grid.alpha", "alpha"),
    "fpr_hidden": ("summary.fpr.hidden_driver",),  # {"n", "sm", "model", "verbal"}
    # one cell (a dict in the cells list)
    "label": ("label", "cell", "name"),
    "params": (
        "condition",
        "coupling",
        "lag",
        "length",
        "nonlinearity",
        "hidden_driver",
        "feedback",
        "nonstationary",
        "intervened",
        "direction",
    ),
    "truth_rate": ("truth_rate", "rate_truth", "rates.truth"),
    "statsmodels_rate": (
        "sm_reject_rate",
        "statsmodels_rate",
        "rate_statsmodels",
        "rates.statsmodels",
    ),
    "model_rate": ("model_reject_rate", "model_rate", "rate_model", "rates.model"),
    "agree_statsmodels": (
        "agree_model_sm",
        "agreement_model_statsmodels",
        "agreement.model_statsmodels",
    ),
    "agree_truth": ("acc_model_truth", "agreement_model_truth", "agreement.model_truth"),
    # one line of series.jsonl
    "series_truth": ("truth", "true_link", "x_causes_y"),
    "series_coupling": ("coupling", "params.coupling"),
}
#: Cell columns shown, in order, when present (else every scalar key of the cells is shown).
GRANGER_COLUMNS: tuple[str, ...] = (
    "condition",
    "coupling",
    "lag",
    "length",
    "n",
    "truth_rate",
    "sm_reject_rate",
    "model_reject_rate",
    "verbal_yes_rate",
    "agree_model_sm",
    "acc_sm_truth",
    "acc_model_truth",
    "kappa_model_sm",
    "kappa_model_truth",
    "te_ratio_median",
    "auc.auc_sm",
    "auc.auc_te_m",
)
#: ROC scorers over series.jsonl: (name, candidate keys, +1 if larger means "X causes Y" or
#: -1 for a p-value). Series where a scorer's value is missing are left out of its curve.
GRANGER_SCORERS: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("statsmodels (1 − p)", ("sm_p", "statsmodels_p"), -1),
    ("model TE_M", ("te_m", "model_score"), 1),
    ("Gaussian TE", ("te_gauss",), 1),
    ("verbal P(yes)", ("p_yes",), 1),
)
#: When a value is a dict keyed by direction (``{"x->y": ..., "y->x": ...}``), this one is used.
GRANGER_DIRECTION = "x->y"
GRANGER_FILE = "granger.json"
GRANGER_SERIES_FILE = "series.jsonl"


def _dig(d: Any, key: str) -> Any:
    """``d["a"]["b"]`` for ``key = "a.b"`` (None when absent); direction dicts resolved.

    >>> _dig({"a": {"b": {"x->y": 3, "y->x": 4}}}, "a.b"), _dig({}, "a.b")
    (3, None)
    """
    value = d
    for part in key.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, Mapping) and GRANGER_DIRECTION in value:
        value = value[GRANGER_DIRECTION]
    return value


def _lookup(d: Mapping[str, Any], role: str) -> Any:
    """The first value found for ``role`` (see :data:`GRANGER_KEYS`), or None."""
    for key in GRANGER_KEYS[role]:
        value = _dig(d, key)
        if value is not None:
            return value
    return None


def _flat(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, Mapping):
            out.update(_flat(v, f"{prefix}{k}."))
        elif v is None or isinstance(v, str | int | float | bool):
            out[f"{prefix}{k}"] = v
    return out


def _gfmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return num(v)
    return str(v)


def _real(v: Any) -> float | None:
    """``v`` as a finite float, else None (bools are not numbers here)."""
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        return None
    return float(v)


def _cell_label(cell: Mapping[str, Any], index: int) -> str:
    label = _lookup(cell, "label")
    if label is not None:
        return str(label)
    parts = [f"{k}={_gfmt(cell[k])}" for k in GRANGER_KEYS["params"] if k in cell]
    return ", ".join(parts) or f"cell {index + 1}"


def _agreement_sentence(pairs: Sequence[tuple[float, str]], other: str) -> str:
    hi = max(pairs, key=lambda p: p[0])
    lo = min(pairs, key=lambda p: p[0])
    if hi[0] == lo[0]:
        return (
            f"The model agrees with {other} equally in all {len(pairs)} cells "
            f"(agreement {num(hi[0])})."
        )
    return (
        f"The model agrees with {other} most in `{hi[1]}` (agreement {num(hi[0])}) "
        f"and least in `{lo[1]}` ({num(lo[0])}), over {len(pairs)} cells."
    )


def _granger_sentence(
    cells: Sequence[Mapping[str, Any]], other: str, agree_role: str, rate_role: str
) -> str:
    """Where the model agrees most and least with ``other`` (agreement, else rates)."""
    labels = [_cell_label(c, i) for i, c in enumerate(cells)]
    pairs = [
        (a, lab)
        for c, lab in zip(cells, labels, strict=True)
        if (a := _real(_lookup(c, agree_role))) is not None
    ]
    if pairs:
        return _agreement_sentence(pairs, other)
    diffs = []
    for c, lab in zip(cells, labels, strict=True):
        m, o = _real(_lookup(c, "model_rate")), _real(_lookup(c, rate_role))
        if m is not None and o is not None:
            diffs.append((abs(m - o), lab, m, o))
    if not diffs:
        return f"No cell reports the model's agreement with {other} or both rejection rates."
    close = min(diffs, key=lambda d: d[0])
    far = max(diffs, key=lambda d: d[0])
    return (
        f"The model's rejection rate is closest to {other}'s in `{close[1]}` "
        f"({num(close[2])} vs {num(close[3])}) and farthest in `{far[1]}` "
        f"({num(far[2])} vs {num(far[3])}), over {len(diffs)} cells."
    )


def _hidden_driver_sentence(data: Mapping[str, Any]) -> str | None:
    """Rejection rates under a hidden common driver (no true link), when reported."""
    block = _lookup(data, "fpr_hidden")
    if not isinstance(block, Mapping) or not block.get("n"):
        return None
    sm, model = _real(block.get("sm")), _real(block.get("model"))
    if sm is None and model is None:
        return None
    alpha = _real(_lookup(data, "alpha")) or stats.ALPHA
    return (
        f"Hidden common driver (X does not cause Y): statsmodels reports a link in "
        f"{num(sm)} of {block['n']} series and the model in {num(model)}; a test that "
        f"saw only true links would do so in about {num(alpha, 2)} of them."
    )


def _series_label(row: Mapping[str, Any]) -> Any:
    """Whether X causes Y in a series: its truth label, else coupling ≠ 0 (None if neither)."""
    truth = _lookup(row, "series_truth")
    if truth is None:
        coupling = _real(_lookup(row, "series_coupling"))
        truth = None if coupling is None else coupling != 0.0
    return truth


def _scored_points(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[tuple[float, bool]]]:
    """``(score, truly linked)`` per scorer in :data:`GRANGER_SCORERS`, where both known."""
    labels = [_series_label(r) for r in rows]
    out: dict[str, list[tuple[float, bool]]] = {}
    for name, keys, sign in GRANGER_SCORERS:
        pts = []
        for r, y in zip(rows, labels, strict=True):
            value = next((v for k in keys if (v := _real(_dig(r, k))) is not None), None)
            if y is not None and value is not None:
                pts.append((sign * value, bool(y)))
        out[name] = pts
    return out


def series_curves(rows: Sequence[Mapping[str, Any]]) -> dict[str, tuple[Any, Any, float]]:
    """ROC curves ``(fpr, tpr, auc)`` per scorer in :data:`GRANGER_SCORERS` that has both
    true and false links among the series ``rows``."""
    curves = {}
    for name, pts in _scored_points(rows).items():
        ys = [y for _, y in pts]
        if any(ys) and not all(ys):
            scores = [s for s, _ in pts]
            fpr, tpr = stats.roc_curve(scores, ys)
            curves[name] = (fpr, tpr, stats.roc_auc(scores, ys))
    return curves


def series_counts(rows: Sequence[Mapping[str, Any]]) -> dict[str, tuple[int, int]]:
    """``(truly linked, not linked)`` series per scorer: the n behind each ROC curve."""
    return {
        name: (sum(y for _, y in pts), sum(not y for _, y in pts))
        for name, pts in _scored_points(rows).items()
    }


def _granger_table(cells: Sequence[Mapping[str, Any]]) -> list[str]:
    flat = [_flat(c) for c in cells]
    present = {k for f in flat for k in f}
    columns = [k for k in GRANGER_COLUMNS if k in present]
    if not columns:
        for f in flat:
            columns += [k for k in f if k not in columns]
    labelled = any(_lookup(c, "label") is not None for c in cells)
    rows = [
        [_cell_label(c, i) if labelled else i + 1, *[_gfmt(f.get(k)) for k in columns]]
        for i, (c, f) in enumerate(zip(cells, flat, strict=True))
    ]
    return markdown_table(
        ["cell" if labelled else "#", *columns],
        rows,
        ("l" if labelled else "r") + "r" * len(columns),
    )


def _header_lines(path: Path, data: Mapping[str, Any], ctx: ReportContext | None) -> list[str]:
    """Where the data came from, and notes on another model or an unfinished run."""
    roles = ("model_name", "grid_name", "status", "n_done", "n_planned", "alpha")
    header = {role: _lookup(data, role) for role in roles}
    shown = [
        f"{role.replace('_', ' ')} {_gfmt(v)}"
        for role, v in header.items()
        if v is not None and not isinstance(v, Mapping | list)
    ]
    lines = [f"From `{path}`: " + "; ".join(shown) + ".", ""] if shown else []
    granger_fp = _dig(data, "model.fingerprint")
    if (
        ctx is not None
        and granger_fp
        and ctx.run.model.get("fingerprint") not in (None, granger_fp)
    ):
        lines += [
            f"> **Note:** the Granger run is of model {_gfmt(header['model_name'])}, "
            f"not of this report's model {ctx.run.name}.",
            "",
        ]
    if header["status"] not in (None, "complete"):
        lines += [
            f"> **Warning:** the Granger run is {header['status']}: "
            f"{_gfmt(header['n_done']) or '?'} of {_gfmt(header['n_planned']) or '?'} "
            "series; the numbers cover those only.",
            "",
        ]
    return lines


def _roc_lines(series: Path, ctx: ReportContext) -> list[str]:
    try:
        rows = read_jsonl(series, error=ReportError)
    except ReportError as exc:
        return ["", f"> **Warning:** {exc}; no ROC curve."]
    curves = series_curves(rows)
    if not curves:
        return [
            "",
            f"{series.name} has no usable per-series scores with both true "
            "and false links; no ROC curve.",
        ]
    ctx.data["granger"]["auc"] = {k: v[2] for k, v in curves.items()}
    return [
        "",
        f"ROC AUC against the true graph over {series.name}: "
        + ", ".join(f"{k} {num(v[2])}" for k, v in curves.items())
        + ".",
        *ctx.figure(
            "granger-roc",
            lambda p: plots.roc_curves(
                p, curves, "Granger: ROC against the true graph", counts=series_counts(rows)
            ),
            "Granger ROC curves",
        ),
    ]


def _read(path: Path) -> tuple[Mapping[str, Any] | None, str]:
    try:
        data = read_json(path, ReportError)
    except ReportError as exc:
        detail = str(exc).removeprefix(f"{path}: ")
        return None, f"> **Warning:** {path} is unreadable ({detail}); section skipped."
    if not isinstance(data, Mapping):
        return None, f"> **Warning:** {path} is not a JSON object; section skipped."
    return data, ""


def _ci(block: Any, nd: int = 3) -> str:
    """``mean [lo, hi]`` of a cell's interval block (empty when absent)."""
    if not isinstance(block, Mapping) or _real(block.get("mean")) is None:
        return ""
    return f"{num(block['mean'], nd)} [{num(block.get('lo'), nd)}, {num(block.get('hi'), nd)}]"


def _rate_ci(block: Any) -> str:
    if not isinstance(block, Mapping) or block.get("n") is None:
        return ""
    return f"{block['k']}/{block['n']} [{num(block['lo'], 2)}, {num(block['hi'], 2)}]"


def _v2_table(cells: Sequence[Mapping[str, Any]]) -> list[str]:
    """One row per cell: TE_pop, the model's and the stand-in's mean TE_M with 95% t
    intervals, the verdict, per-series rejections (secondary) and the verbal answers."""
    rows = []
    for i, c in enumerate(cells):
        rows.append(
            [
                _cell_label(c, i),
                num(_real(c.get("te_pop")), 4),
                _ci(c.get("te_m_cell"), 4),
                c.get("te_m_verdict") or "",
                num(_real(_dig(c, "te_m_cell.p_holm")), 4),
                _ci(c.get("oracle_te_m_cell"), 4),
                _ci(c.get("te_gauss_cell"), 4),
                _rate_ci(c.get("model_reject_ci")),
                _rate_ci(c.get("oracle_reject_ci")),
                _rate_ci(c.get("sm_reject_ci")),
                num(_real(c.get("p_yes_predict_mean"))),
                num(_real(c.get("p_yes_cause_mean"))),
            ]
        )
    headers = [
        "cell",
        "TE_pop",
        "model TE_M [95% CI]",
        "model uses X?",
        "p (Holm)",
        "stand-in TE_M [95% CI]",
        "TE_gauss [95% CI]",
        "model rejects",
        "stand-in rejects",
        "statsmodels rejects",
        "P(yes) predict",
        "P(yes) cause",
    ]
    return markdown_table(headers, rows, "l" + "r" * (len(headers) - 1))


def _v2_sentences(cells: Sequence[Mapping[str, Any]], data: Mapping[str, Any]) -> list[str]:
    """Claims the intervals support: where mean TE_M is above 0, and the smallest mean the
    other cells could have detected."""
    labels = [_cell_label(c, i) for i, c in enumerate(cells)]
    above = [
        lab for c, lab in zip(cells, labels, strict=True) if c.get("te_m_verdict") == "above 0"
    ]
    unclear = [
        (lab, _real(_dig(c, "te_m_cell.mde")))
        for c, lab in zip(cells, labels, strict=True)
        if c.get("te_m_verdict") == "not distinguishable from 0"
    ]
    settings = data.get("settings") or {}
    out = [
        f"Per cell, mean TE_M over the cell's series with a 95% t interval; the test against 0 "
        f"is Holm-adjusted over cells. Each series has {settings.get('surrogates', '?')} "
        f"surrogates; per-series rejections (secondary) are at level "
        f"{num(_real(settings.get('series_alpha')), 2)}, statsmodels' at "
        f"{num(_real(settings.get('alpha')), 2)}. The stand-in (an in-context least-squares "
        "VAR) on the same series shows what an ideal linear Granger predictor detects.",
        f"The model's mean TE_M is above 0 in {len(above)} of {len(cells)} cells"
        + (f": {', '.join(f'`{lab}`' for lab in above)}." if above else "."),
    ]
    if unclear:
        out.append(
            "Where the interval includes 0, the smallest mean TE_M the cell could have "
            "detected (80% power): "
            + ", ".join(f"`{lab}` {num(m, 4)}" for lab, m in unclear)
            + " nats/step."
        )
    return out


def _interval_text(d: Mapping[str, Any]) -> str:
    return f"{num(d['diff'], 4)} [{num(d['lo'], 4)}, {num(d['hi'], 4)}]"


def _matched_sentences(cells: Sequence[Mapping[str, Any]], labels: Sequence[str]) -> list[str]:
    """Prediction against causation: each cell whose X predicts Y without causing it (the
    hidden driver), its TE_M verdict, and Welch's difference from each ``var`` cell of the
    same population TE (within 10%), for the model and for the stand-in."""
    out = []
    for c, lab in zip(cells, labels, strict=True):
        block = c.get("te_m_cell")
        hidden = c.get("truth_rate") == 0 and c.get("truth_predictive_rate") == 1
        if not hidden or not isinstance(block, Mapping):
            continue
        verdict = c.get("te_m_verdict")
        text = (
            f"`{lab}`: X does not cause Y, but its past predicts Y. The model's mean TE_M is "
            f"{_ci(block, 4)}, {verdict}"
        )
        if verdict == "above 0":
            text += ": it uses a predictive link that is not causal, as a Granger predictor does"
        pop = _real(c.get("te_pop"))
        for m, mlab in zip(cells, labels, strict=True):
            mpop = _real(m.get("te_pop"))
            if m.get("condition") != "var" or m.get("truth_rate") != 1 or not pop or not mpop:
                continue
            if abs(mpop - pop) > 0.1 * pop:
                continue
            diff = stats.mean_difference(m.get("te_m_cell") or {}, block)
            if diff is None:
                continue
            text += (
                f". Against the TE-matched causal link `{mlab}` (TE_pop {num(mpop, 4)} against "
                f"{num(pop, 4)}), the model's mean TE_M there minus here is "
                f"{_interval_text(diff)} (Welch, {stats.format_p(diff['p'])})"
            )
            oracle = stats.mean_difference(
                m.get("oracle_te_m_cell") or {}, c.get("oracle_te_m_cell") or {}
            )
            if oracle is not None:
                text += f"; the stand-in's is {_interval_text(oracle)}"
        out.append(text + ".")
    return out


#: The verbal questions' ``series.jsonl`` keys: (P(yes) key, label key, the question).
VERBAL_LABELS = (
    ("p_yes_predict", "truth_predictive", "does X's past help predict Y?"),
    ("p_yes_cause", "truth", "would changing X change Y?"),
)


def _verbal_sentence(rows: Sequence[Mapping[str, Any]]) -> str | None:
    """Do the model's words separate the series? AUROC of each question's P(yes) against
    its own label over the series asked, with an item-bootstrap interval."""
    parts = []
    for key, label, question in VERBAL_LABELS:
        scored = [
            {"s": float(r[key]), "y": bool(r[label])}
            for r in rows
            if _real(r.get(key)) is not None and r.get(label) is not None
        ]
        if not scored:
            continue

        def statistic(group: list[Mapping[str, Any]]) -> float | None:
            return auroc([g["s"] for g in group], [g["y"] for g in group])

        res = cluster_bootstrap(scored, statistic, cluster_key=None)
        if res["estimate"] is None or res["low"] is None:
            continue
        p_yes = [g["s"] for g in scored]
        chance = res["low"] <= 0.5 <= res["high"]
        parts.append(
            f'"{question}": P(yes) {num(min(p_yes))}–{num(max(p_yes))}, AUROC against its '
            f"label {num(res['estimate'])} [{num(res['low'])}, {num(res['high'])}] over "
            f"{len(scored)} series" + (" (not distinguishable from chance)" if chance else "")
        )
    if not parts:
        return None
    return "In words (95% item-bootstrap intervals): " + "; ".join(parts) + "."


def _flow_lines(rows: Sequence[Mapping[str, Any]], ctx: ReportContext) -> list[str]:
    """One information-flow figure per condition (model and stand-in, one line per cell)."""
    by_condition: dict[str, dict[str, list[list[float]]]] = {}
    pops: dict[str, dict[str, float]] = {}
    for r in rows:
        cond = str(r.get("condition"))
        for who in ("model", "oracle"):
            gain = _dig(r, f"{who}.step_gain")
            if isinstance(gain, list) and gain:
                label = f"{'model' if who == 'model' else 'stand-in'}, c={_gfmt(r.get('coupling'))}"
                by_condition.setdefault(cond, {}).setdefault(label, []).append(gain)
                if who == "oracle" and _real(r.get("te_pop")) is not None:
                    pops.setdefault(cond, {})[label] = float(r["te_pop"])
    lines: list[str] = []
    for cond, groups in by_condition.items():
        start = int(_dig(rows[0], "model.burn_in") or 0) if rows else 0
        curves = {k: granger_plots.mean_band(v, start) for k, v in groups.items()}
        lines += ctx.figure(
            f"granger-flow-{cond.replace('_', '-')}",
            lambda p, c=curves, n=cond: granger_plots.info_flow(
                p, c, f"Information flow X -> Y: {n} (mean ± 95% band over series)", pops.get(n)
            ),
            f"Granger information flow, {cond}",
        )
    if lines:
        lines = [
            "",
            "Information flow: the cumulative log-likelihood gain of Y's values from X's real "
            "past over the surrogates' (nats), against the step t, mean over series with a "
            "95% band; grey dotted: slope TE_pop.",
            *lines,
        ]
    return lines


def _v2_section(
    path: Path, data: Mapping[str, Any], cells: list[Mapping[str, Any]], ctx: ReportContext | None
) -> list[str]:
    """The granger_version 2 body: the cell table, the supported claims, the flow figures."""
    sentences = _v2_sentences(cells, data)
    sentences += _matched_sentences(cells, [_cell_label(c, i) for i, c in enumerate(cells)])
    series = path.parent / GRANGER_SERIES_FILE
    rows: list[dict[str, Any]] | None = None
    unreadable: list[str] = []
    if series.exists():
        try:
            rows = read_jsonl(series, error=ReportError)
        except ReportError as exc:
            unreadable = ["", f"> **Warning:** {exc}; no information-flow curve."]
    verbal = _verbal_sentence(rows) if rows is not None else None
    if verbal:
        sentences.append(verbal)
    lines = [*_v2_table(cells), "", *[f"- {sentence}" for sentence in sentences]]
    if ctx is not None:
        ctx.data["granger"] = {"cells": len(cells), "sentences": sentences, "version": 2}
        lines += _flow_lines(rows, ctx) if rows is not None else unreadable
    return lines


V1_NOTE = (
    "> **Note:** these Granger results are from the v1 grid (granger_version 1: short "
    "series, few per cell, no cell-level inference); their rejection rates have too little "
    "power to say whether the model uses X's past. Rerun with `ladder granger --grid quick` "
    "for the v2 grid."
)


def granger_section(path: str | Path, ctx: ReportContext | None = None) -> list[str]:
    """Markdown lines for a ``granger.json`` (and ``series.jsonl`` beside it), tolerant of
    missing keys: a per-cell table, ROC curves and computed sentences."""
    path = Path(path)
    lines = ["## Granger probes", ""]
    data, problem = _read(path)
    if data is None:
        return [*lines, problem]
    lines += _header_lines(path, data, ctx)
    key = next((k for k in GRANGER_KEYS["cells"] if isinstance(data.get(k), list)), None)
    cells = [c for c in data[key] if isinstance(c, Mapping)] if key else []
    if not cells:
        return [
            *lines,
            f"{path.name} has no list of cells under "
            f"{' / '.join(GRANGER_KEYS['cells'])} (keys found: {', '.join(data) or 'none'}).",
        ]
    if any("te_m_cell" in c for c in cells):
        return [*lines, *_v2_section(path, data, cells, ctx)]
    if _real(data.get("granger_version")) == 1:
        lines += [V1_NOTE, ""]
    sentences = [
        _granger_sentence(cells, "statsmodels", "agree_statsmodels", "statsmodels_rate"),
        _granger_sentence(cells, "the truth", "agree_truth", "truth_rate"),
    ]
    if hidden := _hidden_driver_sentence(data):
        sentences.append(hidden)
    lines += [*_granger_table(cells), "", *[f"- {sentence}" for sentence in sentences]]
    series = path.parent / GRANGER_SERIES_FILE
    if ctx is not None:
        ctx.data["granger"] = {"cells": len(cells), "sentences": sentences}
        if series.exists():
            lines += _roc_lines(series, ctx)
    return lines
