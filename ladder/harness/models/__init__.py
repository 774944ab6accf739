"""The model side of ladder: loading, prompt formatting, log-prob scoring, generation.

Nothing here imports other ladder modules, and submodules load lazily (PEP 562), so
``from ladder.harness.models import extract_yes_no`` does not import torch.

Public API::

    load_model(model=None, *, gguf_file=None, dtype="float32", device="cpu", ...) -> LoadedModel
    format_prompt(loaded, question, use_chat_template) -> str
    score_options(loaded, prompts, options=("Yes", "No"), ...) -> list[OptionScores]
    naive_option_logprobs(loaded, prompts, options=("Yes", "No"), ...) -> list[list[float]]
    token_logprobs(loaded, sequences, positions=None, ...) -> list[np.ndarray]
    span_logprobs(loaded, texts, spans, ...) -> list[np.ndarray]
    generate_answers(loaded, prompts, max_new_tokens=16, ...) -> list[str]
    extract_yes_no(text) -> "yes" | "no" | None
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "LoadedModel": "loading",
    "ModelLoadError": "loading",
    "load_model": "loading",
    "slugify": "loading",
    "special_prefix_ids": "loading",
    "embedded_names": "embedded",
    "load_embedded": "embedded",
    "OptionScores": "scoring",
    "ScoringError": "scoring",
    "SpanAlignmentError": "scoring",
    "encode": "scoring",
    "format_prompt": "scoring",
    "naive_option_logprobs": "scoring",
    "option_continuations": "scoring",
    "score_options": "scoring",
    "span_logprobs": "scoring",
    "token_logprobs": "scoring",
    "extract_yes_no": "extract",
    "generate_answers": "extract",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ladder.harness.models' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"ladder.harness.models.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
