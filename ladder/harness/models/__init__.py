"""The model side of ladder: loading, prompt formatting, log-prob scoring, generation.

The submodules import only :mod:`ladder.core` among ladder modules, and torch and
transformers only inside functions, so ``from ladder.harness.models import extract_yes_no``
does not import torch.

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

from ladder.harness.models.embedded import embedded_names, load_embedded
from ladder.harness.models.extract import extract_yes_no, generate_answers
from ladder.harness.models.loading import (
    LoadedModel,
    ModelLoadError,
    load_model,
    slugify,
    special_prefix_ids,
)
from ladder.harness.models.scoring import (
    OptionScores,
    ScoringError,
    SpanAlignmentError,
    encode,
    format_prompt,
    naive_option_logprobs,
    option_continuations,
    score_options,
    span_logprobs,
    token_logprobs,
)

__all__ = [
    "LoadedModel",
    "ModelLoadError",
    "OptionScores",
    "ScoringError",
    "SpanAlignmentError",
    "embedded_names",
    "encode",
    "extract_yes_no",
    "format_prompt",
    "generate_answers",
    "load_embedded",
    "load_model",
    "naive_option_logprobs",
    "option_continuations",
    "score_options",
    "slugify",
    "span_logprobs",
    "special_prefix_ids",
    "token_logprobs",
]
