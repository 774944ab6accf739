"""LLMTime-style digit serialisation of a bivariate series (x, y) for next-token scoring.

The map (documented choice)
---------------------------
Both series go through ONE shared affine map (:class:`Scale`) onto the integer codes
``0 .. 10**digits - 1``: ``code = round((v - lo) / width)`` with ``lo = min(x ∪ y)`` and
``width = (max(x ∪ y) - lo) / (10**digits - 1)``. Every value prints with exactly ``digits``
digits (zero-padded, so ``7`` prints as ``007``), non-negative, no sign and no decimal point,
so a value is always the same number of tokens. A shared map keeps the two series on one
scale (a model can compare them), is the same for the real X and for any surrogate made by
rearranging X's values (circular shifts, block permutations: same value set), and is
invertible up to the bin width: ``value ≈ lo + code * width`` (:meth:`Scale.decode`).

The layout
----------
One time step per segment, ``a,b;`` with no spaces and no separators between segments,
after an optional ``header``:

* ``order="yx"`` (default, transfer entropy): ``y_t,x_t;`` — ``y_t`` comes before ``x_t``,
  so its tokens are predicted from ``y_{<t}`` and strictly earlier ``x_{<t}``;
* ``order="xy"`` (directed information): ``x_t,y_t;`` — ``y_t`` also sees ``x_t``.

Both embedded tokenizers (SmolLM2, Gemma-3) give one token per digit, comma and semicolon
(``528,250;`` → ``5 2 8 , 2 5 0 ;``), i.e. ``2*digits + 2`` tokens per step. The returned
``y_spans[t] = (start, end)`` is the character range of ``y_t``'s digits, for
:func:`ladder.harness.models.scoring.span_logprobs`.

Example:
    >>> import numpy as np
    >>> s = serialize(np.array([0.0, 1.0, 2.0]), np.array([2.0, 1.0, 0.0]), digits=1)
    >>> s.text, s.y_spans[1]
    ('9,0;4,4;0,9;', (4, 5))
    >>> parse_serialized(s.text)[1].tolist()  # y codes back
    [9, 4, 0]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

__all__ = [
    "ORDERS",
    "Scale",
    "Serialized",
    "body_start",
    "parse_serialized",
    "serialize",
    "tokens_per_step",
]

Order = Literal["yx", "xy"]
ORDERS: tuple[str, ...] = ("yx", "xy")
MAX_DIGITS = 6


@dataclass(frozen=True)
class Scale:
    """The shared affine map ``value -> code = round((value - lo) / width)``.

    Example:
        >>> sc = Scale.fit(np.array([0.0, 9.9]), np.array([1.0, 2.0]), digits=2)
        >>> sc.encode(np.array([0.0, 5.0, 9.9])).tolist(), round(float(sc.decode(99)), 9)
        ([0, 50, 99], 9.9)
    """

    lo: float
    width: float
    digits: int

    @property
    def max_code(self) -> int:
        """Largest code, ``10**digits - 1``."""
        return 10**self.digits - 1

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, digits: int = 3) -> Scale:
        """The map that sends ``min(x ∪ y)`` to 0 and ``max(x ∪ y)`` to ``10**digits - 1``.

        Raises ``ValueError`` for a bad digit count, non-finite values, or when x and y
        together take a single value (nothing to scale).
        """
        if isinstance(digits, bool) or int(digits) != digits or not 1 <= digits <= MAX_DIGITS:
            raise ValueError(f"digits must be an integer from 1 to {MAX_DIGITS}, got {digits!r}")
        both = np.concatenate([np.asarray(x, float).ravel(), np.asarray(y, float).ravel()])
        if both.size == 0:
            raise ValueError("cannot scale empty series")
        if not np.isfinite(both).all():
            raise ValueError("cannot serialize non-finite values (NaN or inf)")
        lo, hi = float(both.min()), float(both.max())
        if not hi > lo:
            raise ValueError(f"x and y together are constant ({lo!r}); nothing to serialize")
        return cls(lo=lo, width=(hi - lo) / (10 ** int(digits) - 1), digits=int(digits))

    def encode(self, values: np.ndarray) -> np.ndarray:
        """Integer codes (clipped to ``0 .. max_code``)."""
        codes = np.rint((np.asarray(values, float) - self.lo) / self.width)
        return np.clip(codes, 0, self.max_code).astype(np.int64)

    def decode(self, codes: Any) -> np.ndarray:
        """Values at the centre of each code's bin."""
        return self.lo + np.asarray(codes, float) * self.width

    def to_dict(self) -> dict[str, Any]:
        """Plain data for run files."""
        return {"lo": self.lo, "width": self.width, "digits": self.digits}


@dataclass(frozen=True)
class Serialized:
    """A serialized series: the text, where each ``y_t`` sits in it, and the map used.

    ``y_spans[t]``/``x_spans[t]`` are ``(start, end)`` character ranges of the digits of
    ``y_t``/``x_t``; ``x_codes``/``y_codes`` are the printed integers.
    """

    text: str
    y_spans: list[tuple[int, int]]
    x_spans: list[tuple[int, int]]
    x_codes: np.ndarray
    y_codes: np.ndarray
    scale: Scale
    order: str
    header: str

    def __len__(self) -> int:
        return len(self.y_spans)


def tokens_per_step(digits: int = 3) -> int:
    """Tokens per time step with a one-token-per-character tokenizer: ``2*digits + 2``."""
    return 2 * digits + 2


def serialize(
    x: np.ndarray,
    y: np.ndarray,
    *,
    digits: int = 3,
    order: Order = "yx",
    header: str = "",
    scale: Scale | None = None,
) -> Serialized:
    """Serialize ``(x, y)`` as ``header + "y0,x0;y1,x1;..."`` (or ``x,y`` with ``order="xy"``).

    ``scale`` defaults to :meth:`Scale.fit` on ``x`` and ``y``; pass the real series' scale
    when serializing a surrogate so both texts use the same map.

    Example:
        >>> s = serialize(np.array([1.0, 3.0]), np.array([0.0, 2.0]), digits=2, order="xy")
        >>> s.text, s.y_spans
        ('33,00;99,66;', [(3, 5), (9, 11)])
    """
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}; allowed: {', '.join(ORDERS)}")
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    if xa.ndim != 1 or xa.shape != ya.shape:
        raise ValueError(f"x and y must be 1-D of equal length, got {xa.shape} and {ya.shape}")
    if xa.size == 0:
        raise ValueError("cannot serialize empty series")
    if header and re.search(r"\d", header[-1:]):
        raise ValueError("header must not end with a digit (it would merge with the first value)")
    if scale is None:
        scale = Scale.fit(xa, ya, digits)
    elif not (np.isfinite(xa).all() and np.isfinite(ya).all()):
        raise ValueError("cannot serialize non-finite values (NaN or inf)")
    d = scale.digits
    xc, yc = scale.encode(xa), scale.encode(ya)
    fmt = f"{{:0{d}d}}"
    first, second = (yc, xc) if order == "yx" else (xc, yc)
    body = "".join(
        f"{fmt.format(a)},{fmt.format(b)};"
        for a, b in zip(first.tolist(), second.tolist(), strict=True)
    )
    step = 2 * d + 2
    base = len(header)
    starts = base + step * np.arange(xa.size)
    first_spans = [(int(s), int(s) + d) for s in starts]
    second_spans = [(int(s) + d + 1, int(s) + 2 * d + 1) for s in starts]
    y_spans, x_spans = (first_spans, second_spans) if order == "yx" else (second_spans, first_spans)
    return Serialized(header + body, y_spans, x_spans, xc, yc, scale, order, header)


_SEGMENT = re.compile(r"(\d+),(\d+);")
_BODY = re.compile(r"(?:\d+,\d+;)+\Z")


def body_start(text: str) -> int:
    """Index where the serialized body (the trailing run of ``a,b;`` segments) starts.

    Example:
        >>> body_start("Series:\\n05,10;07,11;")
        8
    """
    match = _BODY.search(text)
    if match is None:
        raise ValueError("the text does not end with a run of 'a,b;' segments")
    return match.start()


def parse_serialized(text: str, order: Order = "yx") -> tuple[np.ndarray, np.ndarray]:
    """Inverse of the layout: ``(x_codes, y_codes)`` from a serialized text (header skipped).

    The header is everything before the trailing run of ``digits,digits;`` segments.

    Example:
        >>> parse_serialized("Series:\\n05,10;07,11;")
        (array([10, 11]), array([5, 7]))
    """
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}; allowed: {', '.join(ORDERS)}")
    pairs = _SEGMENT.findall(text, body_start(text))
    first = np.array([int(a) for a, _ in pairs], dtype=np.int64)
    second = np.array([int(b) for _, b in pairs], dtype=np.int64)
    return (second, first) if order == "yx" else (first, second)
