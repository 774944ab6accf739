"""Shared fixtures: tiny random-init causal LMs with an offline-built tokenizer.

``tiny_model``       LlamaForCausalLM (hidden 32, 2 layers); tokenizer adds ``<bos>``, no template
``tiny_chat_model``  the same model; its tokenizer has a chat template that writes ``<bos>`` itself
``tiny_gemma``       Gemma3ForCausalLM with a sliding window of 8 tokens and final-logit softcapping

All are ``ladder.harness.models.LoadedModel`` objects built in well under a second, no downloads.
The tokenizer is a byte-level BPE trained on a small made-up corpus, so ``Yes``/``No`` and
`` Yes``/`` No`` are single tokens and rarer words (``Perhaps``) are several.
"""

from __future__ import annotations

import copy

import pytest

_CORPUS_LINES = [
    "Question: Does smoking cause cancer? Answer: Yes",
    "Question: Does the rooster cause the sunrise? Answer: No",
    "Is X a cause of Y? Yes. Is Y a cause of X? No.",
    "Yes\nNo\nYes\nNo\nyes no yes no",
    "Imagine a self-contained world with three variables: rain, sprinkler and wet grass.",
    "If the sprinkler is on, the grass is likely wet. The answer is yes. The answer is no.",
    "528,250;531,249;540,251;\n0123456789",
]
TINY_CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n"
    "{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def build_tiny_tokenizer():
    """A byte-level BPE tokenizer (vocab ≈ 420) that prepends ``<bos>``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=420,
        special_tokens=["<pad>", "<bos>", "<eos>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_CORPUS_LINES * 20, trainer)
    bos = tok.token_to_id("<bos>")
    tok.post_processor = processors.TemplateProcessing(
        single="<bos> $A", pair="<bos> $A $B", special_tokens=[("<bos>", bos)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>"
    )


def wrap_tiny(model, tokenizer, name: str):
    """Wrap a model and tokenizer as a ``LoadedModel``."""
    from ladder.harness.models.loading import LoadedModel

    model.eval()
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        name=name,
        slug=name,
        fingerprint=f"test-{name}",
        source="local",
        chat_template=bool(getattr(tokenizer, "chat_template", None)),
    )


@pytest.fixture(scope="session")
def tiny_tokenizer():
    return build_tiny_tokenizer()


def build_tiny_llama(tokenizer):
    """A random-init 2-layer LlamaForCausalLM sized for ``tokenizer`` (seeded)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        initializer_range=0.3,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return LlamaForCausalLM(config).eval()


@pytest.fixture(scope="session")
def _tiny_llama(tiny_tokenizer):
    return build_tiny_llama(tiny_tokenizer)


@pytest.fixture(scope="session")
def tiny_model(_tiny_llama, tiny_tokenizer):
    """Tiny Llama; its tokenizer prepends <bos> and has no chat template."""
    return wrap_tiny(_tiny_llama, tiny_tokenizer, "tiny-llama")


@pytest.fixture(scope="session")
def tiny_chat_model(_tiny_llama, tiny_tokenizer):
    """The tiny Llama with a chat template that writes <bos> itself."""
    tokenizer = copy.deepcopy(tiny_tokenizer)
    tokenizer.chat_template = TINY_CHAT_TEMPLATE
    return wrap_tiny(_tiny_llama, tokenizer, "tiny-llama-chat")


def build_tiny_gemma(tokenizer):
    """A random-init Gemma-3 text model: sliding window 8 (layers 0-1), full attention
    (layer 2), final-logit softcapping 3 (seeded)."""
    import torch
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    torch.manual_seed(1)
    config = Gemma3TextConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=1,
        head_dim=8,
        query_pre_attn_scalar=8,
        sliding_window=8,
        layer_types=["sliding_attention", "sliding_attention", "full_attention"],
        final_logit_softcapping=3.0,
        max_position_embeddings=512,
        initializer_range=0.3,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return Gemma3ForCausalLM(config).eval()


@pytest.fixture(scope="session")
def tiny_gemma(tiny_tokenizer):
    """Tiny Gemma-3 (sliding window 8, softcap 3) with the tiny tokenizer."""
    return wrap_tiny(build_tiny_gemma(tiny_tokenizer), tiny_tokenizer, "tiny-gemma")
