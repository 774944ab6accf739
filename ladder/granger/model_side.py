"""Model-implied transfer entropy (TE_M) with surrogate significance.

A *scorer* turns serialized texts into log-probabilities of character spans::

    Scorer = Callable[[list[str], list[list[tuple[int, int]]]], list[list[float]]]

``scorer(texts, spans)[i][j]`` is ``log q(text_i[spans[i][j]] | text_i before it)`` in nats.
Two scorers ship here: :func:`hf_scorer` (a Hugging Face causal LM through
:func:`ladder.harness.models.scoring.span_logprobs`) and :class:`LinearGaussianScorer`, a stand-in
predictor with a known answer (an in-context least-squares VAR; its TE_M tends to the
Gaussian transfer entropy ``TE_gauss``).

TE_M (see DESIGN.md, "Granger probes: definitions")
---------------------------------------------------
The series is serialized (:mod:`ladder.granger.serialize`) with ``y_t`` before ``x_t``; the
same text is built again with ``S`` surrogate versions of X that keep the prompt's format and
X's own dynamics (same values, same map) but break X's link to Y:

* ``kind="circular"``: ``x`` rotated by a random offset ``k`` with
  ``min_shift <= k <= n - min_shift`` (distinct offsets while there are enough);
* ``kind="block"``: ``x`` cut into blocks of ``block_length`` and the blocks put in a random
  order in which no block keeps its place (a derangement).

Then, over the scored steps ``t = burn_in .. n-1``::

    TE_M = mean_j mean_t [ log q(y_t | real x) - log q(y_t | surrogate_j x) ]   (nats/step)

The first ``burn_in`` steps are context only (the model has not yet seen the format and the
scale; the stand-in has no fit yet) and are left out of every mean. X is never dropped: a
prompt without X changes length and format, so it is not a valid null.

Significance. The statistic is the total log-likelihood of Y's scored values,
``T = sum_t log q(y_t | x-version)``: ``T_0`` with the real X, ``T_j`` with surrogate ``j``.
Under the null (X carries nothing about Y's future), the real X is one more draw of the same
kind as the surrogates, so ``T_0`` is exchangeable with ``T_1..T_S`` and its rank among them
is uniform; the p-value ::

    p = (1 + #{j : T_j >= T_0}) / (S + 1)

is then uniform on ``{1/(S+1), ..., 1}`` (``P(p <= a) <= a`` for every ``a``). Since
``T_j >= T_0`` is ``te_j <= 0`` with ``te_j`` surrogate ``j``'s TE, the p-value is also
``(1 + #{te_j <= 0}) / (S + 1)``. With ``S`` surrogates the smallest p is ``1/(S+1)``: at
``alpha = 0.05`` at least 19 are needed to ever reject.

Example:
    >>> from ladder.granger.series import var_series
    >>> s = var_series(400, 0.6, 1, "x->y", seed=0)
    >>> r = model_te(LinearGaussianScorer(lag=1), s, n_surrogates=19, seed=0)
    >>> r["p_value"], r["te_m"] > 0.1
    (0.05, True)
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import log_ndtr

from ladder.granger.serialize import ORDERS, Scale, serialize
from ladder.harness.models.scoring import span_token_positions, token_logprobs

if TYPE_CHECKING:
    from ladder.granger.series import Series
    from ladder.harness.models.loading import LoadedModel

__all__ = [
    "DEFAULT_BURN_IN",
    "SURROGATE_KINDS",
    "HFScorer",
    "LinearGaussianScorer",
    "Scorer",
    "hf_scorer",
    "model_te",
    "prequential_logprobs",
    "score_texts",
    "span_positions",
    "surrogate_p_value",
    "surrogates",
    "te_statistics",
    "te_texts",
]

Scorer = Callable[[list[str], list[list[tuple[int, int]]]], list[list[float]]]
"""``scorer(texts, spans) -> log-probs``: one list of floats (nats) per text, one per span."""

SURROGATE_KINDS: tuple[str, ...] = ("circular", "block")
DEFAULT_BURN_IN = 10
"""Steps at the start of a series that are context only (not in TE_M's mean)."""

_LOGP_FLOOR = -700.0


# --------------------------------------------------------------------------- HF scorer


class HFScorer:
    """A Hugging Face causal LM as a :data:`Scorer` (teacher-forced span log-probs).

    Each text is tokenized once (with offsets); a value's tokens are found by binary search
    over the token offsets (:func:`span_positions`), falling back to
    :func:`ladder.harness.models.scoring.span_token_positions` when a text holds whitespace
    or a token straddles a value. All texts of a call (the real series and its surrogates)
    go to :func:`ladder.harness.models.scoring.token_logprobs` together, which sorts them by
    length and packs them under ``max_batch_tokens``; the vocabulary projection runs only at
    the positions that predict a scored digit. Counts the tokens it has run in ``n_tokens``.
    """

    def __init__(self, loaded: LoadedModel, max_batch_tokens: int | None = None) -> None:
        self.loaded = loaded
        self.max_batch_tokens = max_batch_tokens
        self.n_tokens = 0

    def __call__(self, texts: list[str], spans: list[list[tuple[int, int]]]) -> list[list[float]]:
        if len(texts) != len(spans):
            raise ValueError(f"{len(spans)} span lists for {len(texts)} texts")
        sequences, positions, layouts = [], [], []
        for text, text_spans in zip(texts, spans, strict=True):
            ids, members = span_positions(self.loaded, text, text_spans)
            sequences.append(ids)
            positions.append([p for m in members for p in m])
            layouts.append([len(m) for m in members])
        kwargs: dict[str, Any] = {"progress": False}
        if self.max_batch_tokens is not None:
            kwargs["max_batch_tokens"] = self.max_batch_tokens
        per_token = token_logprobs(self.loaded, sequences, positions, **kwargs)
        self.n_tokens += sum(len(ids) for ids in sequences)
        out = []
        for values, layout in zip(per_token, layouts, strict=True):
            bounds = np.cumsum([0, *layout])
            out.append([float(values[a:b].sum()) for a, b in itertools.pairwise(bounds)])
        return out


def span_positions(
    loaded: LoadedModel, text: str, spans: Sequence[tuple[int, int]]
) -> tuple[list[int], list[list[int]]]:
    """Token ids of ``text`` and the token positions inside each character span.

    The same answer as :func:`ladder.harness.models.scoring.span_token_positions` (which is
    used whenever the text holds whitespace or a token does not lie exactly inside a span),
    found by binary search instead of a scan per span.
    """
    if any(ch.isspace() for ch in text):
        return span_token_positions(loaded, text, spans)
    enc = loaded.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    body = list(enc["input_ids"])
    offsets = np.asarray(enc["offset_mapping"], dtype=np.int64).reshape(-1, 2)
    ids = list(loaded.special_prefix) + body
    if loaded.special_prefix and body[: len(loaded.special_prefix)] == list(loaded.special_prefix):
        return span_token_positions(loaded, text, spans)
    shift = len(ids) - len(body)
    starts, ends = offsets[:, 0], offsets[:, 1]
    result = []
    for start, end in spans:
        j0 = int(np.searchsorted(ends, start, side="right"))
        j1 = int(np.searchsorted(starts, end, side="left"))
        if j1 <= j0 or starts[j0] < start or ends[j1 - 1] > end or j0 + shift == 0:
            return span_token_positions(loaded, text, spans)
        result.append(list(range(j0 + shift, j1 + shift)))
    return ids, result


def hf_scorer(loaded: LoadedModel, max_batch_tokens: int | None = None) -> HFScorer:
    """Wrap a loaded model as a :data:`Scorer` via ``span_logprobs``.

    Example (not run here: needs a model)::

        scorer = hf_scorer(load_model(None))
        scorer(["012,500;013,498;"], [[(8, 11)]])   # log q("013" | "012,500;")
    """
    return HFScorer(loaded, max_batch_tokens)


# --------------------------------------------------------------------------- stand-in predictor


def _log_interval(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``log(Phi(b) - Phi(a))`` for standardized edges ``a < b`` (may be infinite), stably."""
    flip = a > 0
    lo = np.where(flip, -b, a)
    hi = np.where(flip, -a, b)
    lhi = log_ndtr(hi)
    llo = log_ndtr(lo)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = lhi + np.log(-np.expm1(llo - lhi))
    return np.maximum(np.nan_to_num(out, nan=_LOGP_FLOOR, neginf=_LOGP_FLOOR), _LOGP_FLOOR)


def _code_logprob(codes: np.ndarray, mean: np.ndarray, sd: np.ndarray, max_code: int) -> np.ndarray:
    """Log-probability of printed integer codes under N(mean, sd²) binned to width 1.

    The bin of code ``c`` is ``[c - 1/2, c + 1/2)``; the end codes 0 and ``max_code`` take
    the tails, so the probabilities over ``0..max_code`` sum to one.
    """
    a = np.where(codes <= 0, -np.inf, (codes - 0.5 - mean) / sd)
    b = np.where(codes >= max_code, np.inf, (codes + 0.5 - mean) / sd)
    return _log_interval(a, b)


def _lag_features(y: np.ndarray, x: np.ndarray, lag: int, x_shift: int) -> np.ndarray:
    """Features ``[1, y_{t-1..t-lag}, x_{t-1+s..t-lag+s}]`` for targets ``t = lag..n-1``.

    Shapes: ``y``, ``x`` (B, n) -> (B, n - lag, 1 + 2*lag).
    """
    n = y.shape[1]
    cols = [np.ones((y.shape[0], n - lag))]
    cols += [y[:, lag - i : n - i] for i in range(1, lag + 1)]
    cols += [x[:, lag - i + x_shift : n - i + x_shift] for i in range(1, lag + 1)]
    return np.stack(cols, axis=2)


def prequential_logprobs(
    y_codes: np.ndarray, x_codes: np.ndarray, lag: int, max_code: int, x_shift: int = 0
) -> np.ndarray:
    """Log-prob of each printed ``y_t`` under a least-squares VAR fitted on the past only.

    For each row (series) and each ``t``, regress ``y_s`` on ``[1, y_{s-1..s-lag},
    x_{s-1..s-lag}]`` over the earlier targets ``s < t`` (``x_shift=1`` uses
    ``x_{s..s-lag+1}``: x printed before y), predict ``y_t`` as ``N(f_t'b, s2 (1 + f_t'
    (F'F)^-1 f_t))`` with ``s2 = SSR/(m - k)``, and return the probability of the printed
    code's bin. Before ``k + 2`` earlier targets exist the prediction is the running mean and
    standard deviation of earlier y (wide at first). Shapes: (B, n) -> (B, n).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> y = rng.integers(400, 600, (1, 50)); x = rng.integers(400, 600, (1, 50))
        >>> lp = prequential_logprobs(y, x, 1, 999)
        >>> lp.shape, bool(np.all(lp < 0))
        ((1, 50), True)
    """
    y = np.asarray(y_codes, dtype=np.float64)
    x = np.asarray(x_codes, dtype=np.float64)
    if y.ndim != 2 or y.shape != x.shape:
        raise ValueError(f"y and x codes must be 2-D of one shape, got {y.shape}, {x.shape}")
    if x_shift not in (0, 1):
        raise ValueError(f"x_shift must be 0 or 1, got {x_shift!r}")
    if isinstance(lag, bool) or int(lag) != lag or lag < 1:
        raise ValueError(f"lag must be an integer >= 1, got {lag!r}")
    lag = int(lag)
    centre = max_code / 2.0
    yc, xc = y - centre, x - centre
    mean, sd = _running_moments(yc, max_code)
    _fill_var_predictions(yc, xc, lag, x_shift, mean, sd)
    return _code_logprob(y, mean + centre, sd, max_code)


def _running_moments(yc: np.ndarray, max_code: int) -> tuple[np.ndarray, np.ndarray]:
    """Fallback prediction: running mean / sd of earlier centred y, shapes (B, n) -> (B, n).

    At ``t = 0`` the mean is the middle code and, until three earlier values exist, the sd
    is a quarter of the code range; the sd is never below half a code.
    """
    B, n = yc.shape
    counts = np.arange(n, dtype=np.float64)
    csum = np.concatenate([np.zeros((B, 1)), np.cumsum(yc, axis=1)[:, :-1]], axis=1)
    csq = np.concatenate([np.zeros((B, 1)), np.cumsum(yc**2, axis=1)[:, :-1]], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean0 = np.where(counts > 0, csum / np.maximum(counts, 1), 0.0)
        var0 = np.where(counts > 1, (csq - counts * mean0**2) / np.maximum(counts - 1, 1), 0.0)
    sd0 = np.where(counts > 2, np.sqrt(np.maximum(var0, 0.0)), max_code / 4.0)
    return mean0.copy(), np.maximum(sd0, 0.5)


def _fill_var_predictions(
    yc: np.ndarray, xc: np.ndarray, lag: int, x_shift: int, mean: np.ndarray, sd: np.ndarray
) -> None:
    """Overwrite ``mean``/``sd`` in place with the past-only VAR prediction where it exists.

    A step gets the least-squares prediction once ``k + 2`` earlier targets exist
    (``k = 1 + 2*lag`` features); earlier steps keep the fallback.
    """
    n = yc.shape[1]
    k = 1 + 2 * lag
    if n - lag <= k + 2:
        return
    feats = _lag_features(yc, xc, lag, x_shift)  # (B, T, k), T = n - lag
    target = yc[:, lag:]
    outer = np.einsum("btk,btl->btkl", feats, feats)
    # A_t, b_t, c_t: sums over earlier targets only (exclusive cumulative sums)
    A = np.cumsum(outer, axis=1) - outer
    bvec = np.cumsum(feats * target[..., None], axis=1) - feats * target[..., None]
    cy = np.cumsum(target**2, axis=1) - target**2
    m = np.arange(n - lag, dtype=np.float64)  # earlier targets at each t
    ok = m >= k + 2
    idx = np.flatnonzero(ok)
    if not idx.size:
        return
    Ai = A[:, idx]
    scale = np.trace(Ai, axis1=2, axis2=3)[..., None, None] / k
    Ai = Ai + 1e-10 * scale * np.eye(k)
    rhs = np.stack([bvec[:, idx], feats[:, idx]], axis=3)  # (B, I, k, 2)
    sol = np.linalg.solve(Ai, rhs)
    beta, ainv_f = sol[..., 0], sol[..., 1]
    f = feats[:, idx]
    ssr = np.maximum(cy[:, idx] - np.einsum("bik,bik->bi", beta, bvec[:, idx]), 0.0)
    s2 = ssr / (m[idx] - k)
    lev = np.einsum("bik,bik->bi", f, ainv_f)
    mu = np.einsum("bik,bik->bi", f, beta)
    cols = idx + lag
    mean[:, cols] = mu
    sd[:, cols] = np.sqrt(np.maximum(s2 * (1.0 + lev), 0.25))


_PAIR = re.compile(r"(\d+),(\d+);")


def _parse_spans(
    text: str, spans: Sequence[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray, int, list[int], int]:
    """Target codes, other codes, x_shift, time index of each span, and digit count."""
    matches = list(_PAIR.finditer(text))
    if not matches:
        raise ValueError("no 'a,b;' segment in the text")
    # keep the trailing run of back-to-back segments (the body; a header may precede it)
    run_start = len(matches) - 1
    while run_start > 0 and matches[run_start - 1].end() == matches[run_start].start():
        run_start -= 1
    matches = matches[run_start:]
    if matches[-1].end() != len(text.rstrip()):
        raise ValueError("the text does not end with its serialized segments")
    where = {}
    for t, mt in enumerate(matches):
        where[(mt.start(1), mt.end(1))] = (t, 0)
        where[(mt.start(2), mt.end(2))] = (t, 1)
    fields = set()
    times = []
    for span in spans:
        key = (int(span[0]), int(span[1]))
        if key not in where:
            raise ValueError(f"span {key} is not exactly one serialized value")
        t, field_ = where[key]
        times.append(t)
        fields.add(field_)
    if len(fields) > 1:
        raise ValueError("spans mix both fields of the segments; score one variable at a time")
    target_field = fields.pop() if fields else 0
    first = np.array([int(mt.group(1)) for mt in matches], dtype=np.int64)
    second = np.array([int(mt.group(2)) for mt in matches], dtype=np.int64)
    digits = len(matches[0].group(1))
    if target_field == 0:
        return first, second, 0, times, digits
    return second, first, 1, times, digits


class LinearGaussianScorer:
    """Stand-in predictor: the exact log-probability of each printed ``y_t`` under an
    in-context least-squares VAR fitted on the text before it (:func:`prequential_logprobs`).

    It reads the numbers back from the text; the spans say which field is Y (the other is
    X, whose values up to but excluding ``y_t`` — ``x_t`` too when X is printed first —
    enter as ``lag`` lags). Texts of equal length are scored together (vectorised).

    Example:
        >>> sc = LinearGaussianScorer(lag=1)
        >>> lp = sc(["500,500;510,490;" * 20], [[(8, 11)]])
        >>> len(lp[0]), lp[0][0] < 0
        (1, True)
    """

    name = "linear-oracle"

    def __init__(self, lag: int = 1) -> None:
        if isinstance(lag, bool) or int(lag) != lag or lag < 1:
            raise ValueError(f"lag must be an integer >= 1, got {lag!r}")
        self.lag = int(lag)
        self.n_tokens = 0

    def __call__(self, texts: list[str], spans: list[list[tuple[int, int]]]) -> list[list[float]]:
        if len(texts) != len(spans):
            raise ValueError(f"{len(spans)} span lists for {len(texts)} texts")
        parsed = [_parse_spans(text, sp) for text, sp in zip(texts, spans, strict=True)]
        out: list[list[float]] = [[] for _ in texts]
        groups: dict[tuple[int, int, int], list[int]] = {}
        for i, (y, _, shift, _, digits) in enumerate(parsed):
            groups.setdefault((len(y), shift, digits), []).append(i)
        for (_, shift, digits), members in groups.items():
            ys = np.stack([parsed[i][0] for i in members])
            xs = np.stack([parsed[i][1] for i in members])
            lp = prequential_logprobs(ys, xs, self.lag, 10**digits - 1, x_shift=shift)
            for row, i in enumerate(members):
                out[i] = [float(lp[row, t]) for t in parsed[i][3]]
        self.n_tokens += sum(len(t) for t in texts)
        return out


# --------------------------------------------------------------------------- surrogates


def surrogates(
    x: np.ndarray,
    n_surrogates: int,
    kind: str = "circular",
    *,
    rng: np.random.Generator,
    min_shift: int | None = None,
    block_length: int | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """``(S, n)`` surrogate versions of ``x`` and a record of how they were made.

    ``circular``: ``np.roll(x, k)`` for offsets ``k`` drawn from ``min_shift .. n-min_shift``
    (default ``min_shift = max(5, n // 10)``), without replacement while enough offsets
    exist. ``block``: blocks of ``block_length`` (default ``max(5, round(sqrt(n)))``)
    reordered by a random derangement (no block stays where it was).

    Example:
        >>> sx, info = surrogates(np.arange(20.0), 3, rng=np.random.default_rng(0))
        >>> sx.shape, sorted(set(sx[0])) == list(np.arange(20.0)), len(info["offsets"])
        ((3, 20), True, 3)
    """
    xa = np.asarray(x, dtype=np.float64)
    n = xa.shape[0]
    if isinstance(n_surrogates, bool) or int(n_surrogates) != n_surrogates or n_surrogates < 1:
        raise ValueError(f"n_surrogates must be an integer >= 1, got {n_surrogates!r}")
    S = int(n_surrogates)
    if kind == "circular":
        m = max(5, n // 10) if min_shift is None else int(min_shift)
        if m < 1 or n - 2 * m < 0:
            raise ValueError(
                f"min_shift {m} leaves no circular offset for length {n} "
                f"(need 1 <= min_shift <= n/2)"
            )
        pool = np.arange(m, n - m + 1)
        offsets = rng.choice(pool, size=S, replace=pool.size < S)
        out = np.stack([np.roll(xa, int(k)) for k in offsets])
        return out, {"kind": kind, "min_shift": m, "offsets": [int(k) for k in offsets]}
    if kind == "block":
        b = max(5, round(math.sqrt(n))) if block_length is None else int(block_length)
        n_blocks = math.ceil(n / b)
        if b < 1 or n_blocks < 2:
            raise ValueError(f"block_length {b} gives fewer than 2 blocks for length {n}")
        blocks = [xa[i * b : (i + 1) * b] for i in range(n_blocks)]
        rows, perms = [], []
        for _ in range(S):
            perm = rng.permutation(n_blocks)
            while np.any(perm == np.arange(n_blocks)):
                perm = rng.permutation(n_blocks)
            rows.append(np.concatenate([blocks[j] for j in perm]))
            perms.append([int(j) for j in perm])
        return np.stack(rows), {"kind": kind, "block_length": b, "permutations": perms}
    raise ValueError(f"unknown surrogate kind {kind!r}; allowed: {', '.join(SURROGATE_KINDS)}")


def surrogate_p_value(te_per_surrogate: Sequence[float]) -> float:
    """``(1 + #{te_j <= 0}) / (S + 1)``: surrogate j fits Y at least as well as the real X.

    Example:
        >>> surrogate_p_value([0.1, 0.2, -0.05, 0.3])
        0.4
    """
    te = np.asarray(te_per_surrogate, dtype=np.float64)
    if te.size == 0:
        raise ValueError("no surrogates")
    return float((1 + np.sum(~(te > 0))) / (te.size + 1))


# --------------------------------------------------------------------------- TE_M


def _te_series(
    series: Series | tuple[np.ndarray, np.ndarray], order: str, burn_in: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``(x, y)`` arrays of ``series``, after checking ``order`` and ``burn_in`` against it."""
    if isinstance(series, tuple):
        x, y = (np.asarray(v, dtype=np.float64) for v in series)
    else:
        x, y = series.x, series.y
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}; allowed: {', '.join(ORDERS)}")
    n = len(x)
    if isinstance(burn_in, bool) or int(burn_in) != burn_in or burn_in < 1:
        raise ValueError(f"burn_in must be an integer >= 1, got {burn_in!r}")
    if n - burn_in < 2:
        raise ValueError(f"series of length {n} leaves fewer than 2 steps after burn_in {burn_in}")
    return x, y


def score_texts(scorer: Scorer, texts: list[str], spans: list[Any], n_steps: int) -> np.ndarray:
    """Call ``scorer`` once on all texts; check it gave finite (len(texts), n_steps) values."""
    values = scorer(texts, spans)
    ll = np.asarray(values, dtype=np.float64)
    if ll.shape != (len(texts), n_steps) or not np.isfinite(ll).all():
        raise ValueError(
            f"scorer returned {ll.shape} values (finite: {np.isfinite(ll).all()}); "
            f"expected finite {(len(texts), n_steps)}"
        )
    return ll


def te_texts(
    series: Series | tuple[np.ndarray, np.ndarray],
    n_surrogates: int = 19,
    kind: str = "circular",
    seed: int = 0,
    *,
    digits: int = 3,
    order: str = "yx",
    burn_in: int = DEFAULT_BURN_IN,
    header: str = "",
    min_shift: int | None = None,
    block_length: int | None = None,
) -> tuple[list[str], list[list[tuple[int, int]]], Scale, dict[str, Any]]:
    """The ``S + 1`` texts TE_M scores (real X first, then the surrogates), the spans of
    the scored ``y_t`` in each, the shared scale and the surrogates' record.

    Example:
        >>> texts, spans, _, info = te_texts((np.arange(30.0), np.ones(30) * -1), 2, digits=1)
        >>> len(texts), len(spans[0]), texts[0][:8], info["kind"]
        (3, 20, '0,0;0,1;', 'circular')
    """
    x, y = _te_series(series, order, burn_in)
    rng = np.random.default_rng(seed)
    scale = Scale.fit(x, y, digits)
    sx, info = surrogates(
        x, n_surrogates, kind, rng=rng, min_shift=min_shift, block_length=block_length
    )
    texts, spans = [], []
    for xv in [x, *sx]:
        ser = serialize(xv, y, order=order, header=header, scale=scale)  # type: ignore[arg-type]
        texts.append(ser.text)
        spans.append(ser.y_spans[burn_in:])
    return texts, spans, scale, info


def te_statistics(ll: np.ndarray) -> dict[str, Any]:
    """TE_M, its surrogate p-value and the per-step gains from log-likelihoods ``ll`` of
    shape ``(S + 1, steps)`` (row 0: real X).

    ``step_gain[t] = log q(y_t | real X) - mean_j log q(y_t | surrogate j)``: its running
    sum over ``t`` is the information-flow curve, and its mean is ``te_m``.

    Example:
        >>> r = te_statistics(np.array([[-1.0, -1.0], [-1.5, -1.0], [-2.0, -0.5]]))
        >>> r["te_m"], r["te_per_surrogate"], r["step_gain"], r["p_value"]
        (0.25, [0.25, 0.25], [0.75, -0.25], 0.3333333333333333)
    """
    real, surr = ll[0], ll[1:]
    te_per = (real[None, :] - surr).mean(axis=1)
    gain = real - surr.mean(axis=0)
    return {
        "te_m": float(te_per.mean()),
        "te_per_surrogate": [float(v) for v in te_per],
        "p_value": surrogate_p_value(te_per),
        "loglik_real": float(real.mean()),
        "loglik_surrogate": float(surr.mean()),
        "step_gain": [round(float(v), 6) for v in gain],
    }


def model_te(
    scorer: Scorer,
    series: Series | tuple[np.ndarray, np.ndarray],
    n_surrogates: int = 19,
    kind: str = "circular",
    seed: int = 0,
    *,
    digits: int = 3,
    order: str = "yx",
    burn_in: int = DEFAULT_BURN_IN,
    header: str = "",
    min_shift: int | None = None,
    block_length: int | None = None,
) -> dict[str, Any]:
    """Model-implied transfer entropy X -> Y and its surrogate p-value (module docstring).

    ``series`` is a :class:`~ladder.granger.series.Series` or an ``(x, y)`` pair. All ``S+1``
    texts (:func:`te_texts`) go to ``scorer`` in one call.

    Returns a JSON-ready dict: :func:`te_statistics`'s keys (``te_m`` in nats/step,
    ``te_per_surrogate``, ``p_value``, ``loglik_real``/``loglik_surrogate``, ``step_gain``),
    ``n_steps`` (scored steps), ``n_surrogates``, ``kind``, ``order``, ``digits``,
    ``burn_in``, ``scale`` and ``surrogates`` (offsets or permutations).
    """
    texts, spans, scale, info = te_texts(
        series,
        n_surrogates,
        kind,
        seed,
        digits=digits,
        order=order,
        burn_in=burn_in,
        header=header,
        min_shift=min_shift,
        block_length=block_length,
    )
    n_steps = len(spans[0])
    ll = score_texts(scorer, texts, spans, n_steps)
    return {
        **te_statistics(ll),
        "n_steps": int(n_steps),
        "n_surrogates": int(n_surrogates),
        "kind": kind,
        "order": order,
        "digits": int(digits),
        "burn_in": int(burn_in),
        "scale": scale.to_dict(),
        "surrogates": info,
    }
