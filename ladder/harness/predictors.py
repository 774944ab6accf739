"""Predictors: anything that answers items — baselines and Hugging Face causal LMs.

A predictor maps items to :class:`Prediction` objects.  Baselines are registered by
name with :func:`baseline`; every other name is loaded as a Hugging Face model.

>>> item = {"id": "a", "answer": "no", "prompt": "…"}
>>> get_predictor("always-yes").predict([item])[0].prediction
'yes'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ladder.core.errors import ModelLoadError
from ladder.engine.queries import Query, answer, association_truth
from ladder.engine.scm import SCM
from ladder.generation.generate import NO_COUNTERPART
from ladder.harness.mixtures import biased_answer, mixture_answer, parse_mixture
from ladder.harness.models.extract import extract_yes_no, generate_answers
from ladder.harness.models.loading import load_model
from ladder.harness.models.scoring import format_prompt, score_options
from ladder.harness.provenance import finetune_summary, read_provenance

__all__ = [
    "BASELINES",
    "HFPredictor",
    "Prediction",
    "Predictor",
    "baseline",
    "get_predictor",
    "tokenizer_digest",
]


@dataclass(frozen=True)
class Prediction:
    """One answer: ``p_yes`` (None when unreadable) and the yes/no/unreadable decision."""

    p_yes: float | None
    prediction: str
    extra: dict[str, Any] = field(default_factory=dict)


class Predictor(Protocol):
    """What the runner needs of a predictor.

    A predictor may also offer ``cache_identity() -> dict`` (everything besides the text
    that decides its answers) and ``scored_text(item) -> str`` (the exact text it scores);
    the response cache keys on both (see :mod:`ladder.harness.cache`).
    """

    name: str
    slug: str
    fingerprint: str

    def identity(self) -> dict[str, Any]: ...

    def settings(self) -> dict[str, Any]: ...

    def predict(self, items: Sequence[dict[str, Any]]) -> list[Prediction]: ...


def _decide(p_yes: float) -> str:
    return "yes" if p_yes > 0.5 else "no"


@dataclass
class _Baseline:
    name: str
    rule: Callable[[dict[str, Any]], Prediction]
    description: str

    @property
    def slug(self) -> str:
        return self.name

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(f"baseline:{self.name}:v1".encode()).hexdigest()

    def identity(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": "baseline",
            "description": self.description,
            "fingerprint": self.fingerprint,
        }

    def settings(self) -> dict[str, Any]:
        return {}

    def cache_identity(self) -> dict[str, Any]:
        """The baseline's fingerprint: its rule is all that decides its answers."""
        return {"fingerprint": self.fingerprint, "settings": {}}

    def scored_text(self, item: dict[str, Any]) -> str:
        """The whole item: a rule may read any field (truth, scm, association_answer)."""
        return json.dumps(item, sort_keys=True, ensure_ascii=False)

    def predict(self, items: Sequence[dict[str, Any]]) -> list[Prediction]:
        return [self.rule(item) for item in items]


BASELINES: dict[str, _Baseline] = {}


def baseline(
    name: str, description: str
) -> Callable[[Callable[[dict[str, Any]], Prediction]], Callable[[dict[str, Any]], Prediction]]:
    """Register a baseline rule ``item -> Prediction`` under ``name`` (decorator)."""

    def register(
        rule: Callable[[dict[str, Any]], Prediction],
    ) -> Callable[[dict[str, Any]], Prediction]:
        BASELINES[name] = _Baseline(name, rule, description)
        return rule

    return register


@baseline("random", "a fair coin per item (seeded by the item id); p_yes = 0.5")
def _random(item: dict[str, Any]) -> Prediction:
    coin = hashlib.sha256(f"random-baseline|{item['id']}".encode()).digest()[0] & 1
    return Prediction(0.5, "yes" if coin else "no")


@baseline("always-yes", "answers yes to everything")
def _always_yes(item: dict[str, Any]) -> Prediction:
    return Prediction(1.0, "yes")


@baseline("truth-oracle", "answers with the exact truth (a plumbing check: must score 100%)")
def _truth_oracle(item: dict[str, Any]) -> Prediction:
    value = answer(Query.from_dict(item["query"]), float(item["truth"]))
    return Prediction(1.0 if value == "yes" else 0.0, value)


@baseline(
    "association-oracle",
    "the perfect rung-1 reasoner: answers each question with its observational "
    "counterpart (P(y|x) where P(y|do(x)) is asked, ...), as recorded at generation",
)
def _association_oracle(item: dict[str, Any]) -> Prediction:
    if "association_answer" in item:
        # Written at generation (null when the counterpart conditions on an impossible event).
        decision = item["association_answer"]
        if decision is None:
            # Null: the type has no rung-1 counterpart (backdoor_set in contract 2) or it is
            # undefined; never recomputed. A coin's p_yes, "no", and the reason recorded.
            reason = "none" if item.get("query_type") in NO_COUNTERPART else "undefined"
            return Prediction(0.5, "no", {"association": None, "counterpart": reason})
        return Prediction(1.0 if decision == "yes" else 0.0, decision)
    # Items from elsewhere may lack the field: compute it with the engine's registry.
    query = Query.from_dict(item["query"])
    try:
        value = association_truth(SCM.from_dict(item["scm"]), query)
    except ValueError:  # the observational counterpart conditions on an impossible event
        return Prediction(0.5, "no", {"association": None})
    decision = answer(query, value)
    return Prediction(1.0 if decision == "yes" else 0.0, decision, {"association": value})


def tokenizer_digest(tokenizer: Any) -> str:
    """sha256 over what decides a tokenizer's token ids: its class, its full serialized
    model for a fast tokenizer (vocabulary, merges, normalizer, pre- and post-processor)
    or its vocabulary otherwise, its special tokens and its bos/eos flags."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    parts: list[Any] = [type(tokenizer).__name__]
    if backend is not None:
        parts.append(backend.to_str())
    else:
        parts.append(sorted(tokenizer.get_vocab().items()))
    parts.append(getattr(tokenizer, "special_tokens_map", {}))
    for attr in ("add_bos_token", "add_eos_token", "padding_side", "truncation_side"):
        parts.append(getattr(tokenizer, attr, None))
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


class HFPredictor:
    """A Hugging Face causal LM answering by option log-likelihood or greedy generation."""

    def __init__(
        self,
        model: str | None = None,
        *,
        gguf_file: str | None = None,
        dtype: str = "float32",
        device: str = "cpu",
        revision: str | None = None,
        trust_remote_code: bool = False,
        device_map: str | None = None,
        chat_template: bool | None = None,
        mode: str = "loglik",
        max_batch_tokens: int | None = None,
        max_new_tokens: int = 16,
        progress: bool = False,
    ) -> None:
        # One dict both loads the model and is recorded, so the record cannot drift from it.
        load_options: dict[str, Any] = {
            "gguf_file": gguf_file,
            "dtype": dtype,
            "device": device,
            "revision": revision,
            "trust_remote_code": trust_remote_code,
            "device_map": device_map,
        }
        # Recorded in results.json so that ``ladder run --resume`` can reload the same model.
        self.load = {
            "model": model,
            "options": {
                **load_options,
                "chat_template": chat_template,
                "mode": mode,
                "max_batch_tokens": max_batch_tokens,
            },
        }
        if mode not in ("loglik", "generate"):
            raise ModelLoadError(f"--mode {mode!r}: allowed modes are loglik, generate")
        self.loaded = load_model(model, **load_options)
        if chat_template and not self.loaded.chat_template:
            raise ModelLoadError(
                f"model {self.loaded.name!r} has no chat template; run without "
                "--chat-template (or with --no-chat-template)"
            )
        self.use_chat_template = (
            self.loaded.chat_template if chat_template is None else chat_template
        )
        self.mode = mode
        self.max_batch_tokens = max_batch_tokens
        self.max_new_tokens = max_new_tokens
        self.progress = progress
        self.name = self.loaded.name
        self.slug = self.loaded.slug
        self.fingerprint = self.loaded.fingerprint
        self._cache_identity: dict[str, Any] | None = None

    def identity(self) -> dict[str, Any]:
        ident = {
            "name": self.name,
            "kind": "hf",
            "source": self.loaded.source,
            "fingerprint": self.fingerprint,
            "dtype": self.loaded.dtype,
            "architecture": type(self.loaded.model).__name__,
            "load": self.load,
        }
        for key in ("weights_sha256", "revision", "path", "package"):
            value = getattr(self.loaded, key, None)
            if value:
                ident[key] = value
        record = read_provenance(self.loaded.path) if self.loaded.source == "local" else None
        if record is not None:
            ident["finetune"] = finetune_summary(record)
        return ident

    def settings(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "chat_template": self.use_chat_template,
            "options": ["Yes", "No"],
            "max_new_tokens": self.max_new_tokens if self.mode == "generate" else None,
        }

    def cache_identity(self) -> dict[str, Any]:
        """Everything besides the scored text that decides the answers: the weights'
        fingerprint (with dtype), the tokenizer's digest, the chat template's text and the
        scoring settings. Folders that differ only in tokenizer or template differ here."""
        if self._cache_identity is None:
            template = self.loaded.tokenizer.chat_template if self.use_chat_template else None
            self._cache_identity = {
                "fingerprint": self.fingerprint,
                "dtype": self.loaded.dtype,
                "tokenizer": tokenizer_digest(self.loaded.tokenizer),
                "chat_template": template,
                "settings": self.settings(),
            }
        return self._cache_identity

    def scored_text(self, item: dict[str, Any]) -> str:
        """The exact text the model reads for ``item`` (template applied, options after)."""
        return self._question(item)

    def _question(self, item: dict[str, Any]) -> str:
        text = item["prompt"] if self.use_chat_template else item["prompt"] + "\nAnswer:"
        return format_prompt(self.loaded, text, self.use_chat_template)

    def predict(self, items: Sequence[dict[str, Any]]) -> list[Prediction]:
        prompts = [self._question(item) for item in items]
        if self.mode == "generate":
            texts = generate_answers(self.loaded, prompts, max_new_tokens=self.max_new_tokens)
            out = []
            for text in texts:
                value = extract_yes_no(text)
                out.append(
                    Prediction(
                        None if value is None else float(value == "yes"),
                        value or "unreadable",
                        {"text": text},
                    )
                )
            return out
        kwargs: dict[str, Any] = {"progress": self.progress}
        if self.max_batch_tokens:
            kwargs["max_batch_tokens"] = self.max_batch_tokens
        # A family's questions share their story's prompt prefix: scored once per family.
        families = [item.get("family_id") for item in items]
        scores = score_options(
            self.loaded, prompts, ("Yes", "No"), prefix_groups=families, **kwargs
        )
        return [
            Prediction(s.p_yes, _decide(s.p_yes), {"lp_yes": s.lp_yes, "lp_no": s.lp_no})
            for s in scores
        ]


def mixture_baseline(name: str) -> _Baseline | None:
    """The ``mixture-α`` or ``biased-β`` baseline named ``name`` (None for other names).

    >>> mixture_baseline("mixture-0.7").predict([{"id": "a", "answer": "yes",
    ...     "association_answer": "yes"}])[0].prediction
    'yes'
    """
    parsed = parse_mixture(name)
    if parsed is None:
        return None
    kind, weight = parsed
    if kind == "mixture":
        description = f"the truth with probability {weight}, else the association answer"
        return _Baseline(name, lambda item: Prediction(*mixture_answer(item, weight)), description)
    description = f"yes with probability {weight} whatever the item"
    return _Baseline(name, lambda item: Prediction(*biased_answer(item, weight)), description)


def get_predictor(name: str | None, **options: Any) -> Predictor:
    """A baseline by name (the fixed ones, ``mixture-α``, ``biased-β``), or a Hugging Face
    model (hub id, folder, GGUF, embedded name)."""
    if name in BASELINES:
        return BASELINES[name]
    if name is not None and (mixture := mixture_baseline(name)) is not None:
        return mixture
    return HFPredictor(name, **options)
