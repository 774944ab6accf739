"""Fast tests of ladder.harness.models on tiny random-init models (no downloads)."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch

from ladder.harness.models import (
    ModelLoadError,
    OptionScores,
    ScoringError,
    SpanAlignmentError,
    encode,
    extract_yes_no,
    format_prompt,
    generate_answers,
    load_model,
    naive_option_logprobs,
    option_continuations,
    score_options,
    slugify,
    span_logprobs,
    token_logprobs,
)
from ladder.harness.models import scoring as scoring_mod

STORY = (
    "Imagine a self-contained world with three variables: rain, sprinkler and wet grass. "
    "If the sprinkler is on, the grass is likely wet. "
)
PROMPTS = [
    "Question: Does smoking cause cancer? Answer:",
    "Is X a cause of Y?",
    STORY + "Is rain a cause of wet grass? Answer:",
    STORY + "Is the grass a cause of rain?\n",
    "Yes",
    STORY + "Does the sprinkler matter? Answer: ",
    STORY + STORY + "Q: 528,250;531,249;540,251; next?",
    STORY + "Is rain a cause of the sprinkler? Answer:",
]
TOL = 1e-4


def _max_err(got: list[OptionScores], ref: list[list[float]]) -> float:
    pairs = zip(got, ref, strict=True)
    return max(abs(a - b) for g, r in pairs for a, b in zip(g.logprobs, r, strict=True))


@pytest.mark.parametrize("share_prefix", [False, True])
@pytest.mark.parametrize("max_batch_tokens", [4096, 64])
def test_single_token_options_match_naive(tiny_model, share_prefix, max_batch_tokens):
    ref = naive_option_logprobs(tiny_model, PROMPTS)
    got = score_options(
        tiny_model,
        PROMPTS,
        share_prefix=share_prefix,
        min_shared_prefix=8,
        max_batch_tokens=max_batch_tokens,
        progress=False,
    )
    assert [g.n_tokens for g in got] == [(1, 1)] * len(PROMPTS)
    assert _max_err(got, ref) < TOL


@pytest.mark.parametrize("fixture", ["tiny_model", "tiny_gemma"])
@pytest.mark.parametrize("share_prefix", [False, True])
@pytest.mark.parametrize("options", [("Yes", "Perhaps not"), ("Maybe", "No", "Perhaps")])
def test_multi_token_options_match_naive(request, fixture, share_prefix, options):
    loaded = request.getfixturevalue(fixture)
    ref = naive_option_logprobs(loaded, PROMPTS, options)
    got = score_options(
        loaded, PROMPTS, options, share_prefix=share_prefix, min_shared_prefix=8, progress=False
    )
    assert max(max(g.n_tokens) for g in got) > 1
    assert _max_err(got, ref) < TOL


def test_gemma_softcap_and_sliding_window_match_naive(tiny_gemma):
    cfg = tiny_gemma.model.config
    assert cfg.final_logit_softcapping and cfg.sliding_window == 8
    assert all(len(encode(tiny_gemma, p)) > 8 for p in PROMPTS[2:4])  # past the window
    ref = naive_option_logprobs(tiny_gemma, PROMPTS)
    got = score_options(tiny_gemma, PROMPTS, progress=False, max_batch_tokens=100)
    assert _max_err(got, ref) < TOL


def test_fallback_path_matches_naive(tiny_gemma, monkeypatch):
    """With the base-model fast path disabled the full forward gives the same numbers."""
    monkeypatch.setattr(scoring_mod, "_fast_path_ok", lambda runner: False)
    ref = naive_option_logprobs(tiny_gemma, PROMPTS, ("Yes", "Perhaps not"))
    got = score_options(tiny_gemma, PROMPTS, ("Yes", "Perhaps not"), progress=False)
    assert _max_err(got, ref) < TOL


def test_fast_path_is_used_and_projects_only_answer_positions(tiny_model):
    assert scoring_mod._Runner(tiny_model).fast
    rows: list[int] = []
    hook = tiny_model.model.lm_head.register_forward_hook(
        lambda module, args, output: rows.append(args[0].reshape(-1, args[0].shape[-1]).shape[0])
    )
    try:
        score_options(tiny_model, PROMPTS, share_prefix=False, progress=False)
    finally:
        hook.remove()
    assert sum(rows) == len(PROMPTS)  # one projected row per prompt, both options read from it


def test_order_is_restored(tiny_model):
    together = score_options(tiny_model, PROMPTS, progress=False, max_batch_tokens=128)
    alone = [score_options(tiny_model, [p], progress=False)[0] for p in PROMPTS]
    for a, b in zip(together, alone, strict=True):
        assert a.logprobs == pytest.approx(b.logprobs, abs=TOL)
    reversed_scores = score_options(tiny_model, PROMPTS[::-1], progress=False)
    for a, b in zip(together, reversed_scores[::-1], strict=True):
        assert a.logprobs == pytest.approx(b.logprobs, abs=TOL)


def test_p_yes_formula(tiny_model):
    for s in score_options(tiny_model, PROMPTS, progress=False):
        assert 0.0 <= s.p_yes <= 1.0
        lp_yes, lp_no = s.logprobs
        expected = math.exp(lp_yes) / (math.exp(lp_yes) + math.exp(lp_no))
        assert s.p_yes == pytest.approx(expected, rel=1e-9, abs=1e-12)
        assert s.lp_yes == lp_yes and s.lp_no == lp_no
        assert sum(s.probs()) == pytest.approx(1.0)
        assert s.to_dict()["p_yes"] == s.p_yes
    extreme = OptionScores(("Yes", "No"), ("Yes", "No"), (-1000.0, -1.0), (1, 1))
    assert extreme.p_yes == pytest.approx(0.0, abs=1e-300)


def test_empty_prompt_list(tiny_model):
    assert score_options(tiny_model, [], progress=False) == []
    assert token_logprobs(tiny_model, [], progress=False) == []


def test_prompts_must_be_a_list(tiny_model):
    with pytest.raises(ScoringError, match="list of strings"):
        score_options(tiny_model, "Is it?", progress=False)


@pytest.mark.parametrize(
    ("prompt", "form", "expected"),
    [
        ("Answer:", "auto", ("Answer:", (" Yes", " No"))),
        ("Answer: ", "auto", ("Answer:", (" Yes", " No"))),
        ("<|assistant|>\n", "auto", ("<|assistant|>\n", ("Yes", "No"))),
        ("", "auto", ("", ("Yes", "No"))),
        ("Answer: ", "raw", ("Answer: ", ("Yes", "No"))),
        ("Answer:\n", "space", ("Answer:\n", (" Yes", " No"))),
    ],
)
def test_option_continuations(prompt, form, expected):
    assert option_continuations(prompt, ("Yes", "No"), form) == expected


def test_option_continuations_rejects_bad_input():
    with pytest.raises(ScoringError):
        option_continuations("Q?", ())
    with pytest.raises(ScoringError):
        option_continuations("Q?", ("Yes", ""))
    with pytest.raises(ScoringError, match="option_form"):
        option_continuations("Q?", ("Yes",), "weird")  # type: ignore[arg-type]


def test_boundary_drift_is_detected_and_still_scored(tiny_model):
    prompts = ["Question: Does smoking cause cancer? Answer: Ye"]
    with pytest.warns(UserWarning, match="not a prefix"):
        got = score_options(tiny_model, prompts, ("s", "No"), option_form="raw", progress=False)
    assert got[0].boundary_drift
    with pytest.warns(UserWarning, match="not a prefix"):
        ref = naive_option_logprobs(tiny_model, prompts, ("s", "No"), option_form="raw")
    assert _max_err(got, ref) < TOL
    clean = score_options(tiny_model, prompts, ("No",), progress=False)
    assert not clean[0].boundary_drift


def test_chat_template_bos_not_doubled(tiny_chat_model):
    tok = tiny_chat_model.tokenizer
    text = format_prompt(tiny_chat_model, "Is X a cause of Y?", use_chat_template=True)
    assert text.startswith("<bos>") and text.endswith("<|assistant|>\n")
    ids = encode(tiny_chat_model, text)
    assert ids.count(tok.bos_token_id) == 1 and ids[0] == tok.bos_token_id
    plain = encode(tiny_chat_model, "Is X a cause of Y?")
    assert plain[0] == tok.bos_token_id and plain.count(tok.bos_token_id) == 1
    got = score_options(tiny_chat_model, [text], progress=False)
    assert got[0].continuations == ("Yes", "No")
    ref = naive_option_logprobs(tiny_chat_model, [text])
    assert _max_err(got, ref) < TOL


def test_chat_template_missing_is_an_error(tiny_model):
    assert format_prompt(tiny_model, "Is it?", use_chat_template=False) == "Is it?"
    with pytest.raises(ScoringError, match="no chat template"):
        format_prompt(tiny_model, "Is it?", use_chat_template=True)


def _naive_token_logprobs(loaded, seq: list[int]) -> np.ndarray:
    with torch.inference_mode():
        logits = loaded.model(input_ids=torch.tensor([seq])).logits[0].float()
    logp = torch.log_softmax(logits, dim=-1)
    return np.array([float(logp[t - 1, seq[t]]) for t in range(1, len(seq))])


@pytest.mark.parametrize("fixture", ["tiny_model", "tiny_gemma"])
def test_token_logprobs_match_full_forward(request, fixture):
    loaded = request.getfixturevalue(fixture)
    rng = np.random.default_rng(0)
    vocab = loaded.model.config.vocab_size
    seqs = [list(rng.integers(3, vocab, size=n)) for n in (5, 23, 2, 40, 17)]
    seqs.append([*seqs[3][:30], 7, 8, 9])  # shares a 30-token prefix with seqs[3]
    everything = token_logprobs(
        loaded, seqs, progress=False, min_shared_prefix=8, max_batch_tokens=64
    )
    for seq, got in zip(seqs, everything, strict=True):
        np.testing.assert_allclose(got, _naive_token_logprobs(loaded, seq), atol=TOL)
    positions = [[4, 1], [22, 5, 5], [1], [39], [], [31, 32]]
    some = token_logprobs(loaded, seqs, positions, progress=False)
    for seq, pos, got in zip(seqs, positions, some, strict=True):
        full = _naive_token_logprobs(loaded, seq)
        np.testing.assert_allclose(got, [full[p - 1] for p in pos], atol=TOL)


def test_token_logprobs_rejects_bad_positions(tiny_model):
    with pytest.raises(ScoringError, match="outside"):
        token_logprobs(tiny_model, [[1, 2, 3]], [[0]], progress=False)
    with pytest.raises(ScoringError, match="outside"):
        token_logprobs(tiny_model, [[1, 2, 3]], [[3]], progress=False)
    with pytest.raises(ScoringError, match="position lists"):
        token_logprobs(tiny_model, [[1, 2, 3]], [[1], [2]], progress=False)


def test_span_logprobs_sum_token_logprobs(tiny_model):
    text = "Series: 528,250;531,249;540,251;"
    spans = [(8, 11), (12, 15), (16, 19)]  # 528, 250, 531
    got = span_logprobs(tiny_model, [text], [spans], progress=False)[0]
    ids, members = scoring_mod.span_token_positions(tiny_model, text, spans)
    assert ids == encode(tiny_model, text)
    full = _naive_token_logprobs(tiny_model, ids)
    expected = [sum(full[p - 1] for p in m) for m in members]
    np.testing.assert_allclose(got, expected, atol=TOL)
    assert got.shape == (3,)


def test_span_cutting_a_token_is_an_error(tiny_model):
    text = "Series: 528,250;"  # "528" is one token in the tiny tokenizer
    with pytest.raises(SpanAlignmentError, match="straddles"):
        span_logprobs(tiny_model, [text], [[(8, 10)]], progress=False)
    with pytest.raises(SpanAlignmentError):
        span_logprobs(tiny_model, [text], [[(5, 5)]], progress=False)


def test_generate_batched_equals_one_by_one(tiny_model):
    prompts = PROMPTS[:5]
    batched = generate_answers(tiny_model, prompts, max_new_tokens=6, batch_size=4, progress=False)
    alone = [
        generate_answers(tiny_model, [p], max_new_tokens=6, progress=False)[0] for p in prompts
    ]
    assert batched == alone
    assert all(isinstance(a, str) for a in batched)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yes.", "yes"),
        ("**No**", "no"),
        ("The answer is yes", "yes"),
        ("no, because the grass is wet", "no"),
        ("YES", "yes"),
        ("  \n\n**Yes**, it does.", "yes"),
        ("# No", "no"),
        ("- No.", "no"),
        ("Answer: No", "no"),
        ("The answer is: **Yes**.", "yes"),
        ('Well, the final answer is "no".', "no"),
        ("Nope", "no"),
        ("A: yes", "yes"),
        ("yes and no", None),
        ("Yes or no?", None),
        ("Yes/No", None),
        ("I cannot tell", None),
        ("No idea.", None),
        ("There is no effect.", None),
        ("Yes. The answer is no.", None),
        ("No, the answer is yes", None),
        ("eyes", None),
        ("It depends.", None),
        ("", None),
    ],
)
def test_extract_yes_no(text, expected):
    assert extract_yes_no(text) == expected


def test_missing_gguf_file_names_the_path(tmp_path):
    missing = tmp_path / "nothing-here.gguf"
    with pytest.raises(ModelLoadError, match="GGUF file not found") as info:
        load_model(str(missing))
    assert str(missing) in str(info.value)
    with pytest.raises(ModelLoadError, match="GGUF file not found"):
        load_model(str(tmp_path), gguf_file="absent.gguf")
    assert "\n" not in str(info.value)


def test_unknown_model_id_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from ladder.harness.models import loading

    loading.hub_reachable.cache_clear()
    start = time.perf_counter()
    with pytest.raises(ModelLoadError) as info:
        load_model("no-such-org/no-such-model-xyz")
    loading.hub_reachable.cache_clear()
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert "\n" not in message
    assert "no-such-org/no-such-model-xyz" in message
    assert "could not be found locally or on the hub" in message
    for way in ("local folder", ".gguf", "--gguf-file", "smollm2-135m-instruct", "gemma-3-270m"):
        assert way in message
    assert time.perf_counter() - start < 20


def test_bad_local_paths_and_options(tmp_path):
    with pytest.raises(ModelLoadError, match="no model folder"):
        load_model(str(tmp_path / "absent-folder"))
    with pytest.raises(ModelLoadError, match=r"no config\.json"):
        load_model(str(tmp_path))
    with pytest.raises(ModelLoadError, match="dtype"):
        load_model(None, dtype="float8")


def test_slugify():
    assert slugify("HuggingFaceTB/SmolLM2-135M-Instruct") == "huggingfacetb--smollm2-135m-instruct"
    assert slugify("/tmp/My Model!.gguf") == "--tmp--my-model-.gguf".strip("-.")
    assert slugify("???") == "model"


def test_special_prefix(tiny_model):
    assert tiny_model.special_prefix == (tiny_model.tokenizer.bos_token_id,)


def test_local_folder_load_and_fingerprint(tiny_model, tmp_path, monkeypatch):
    monkeypatch.setenv("LADDER_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "tiny"
    tiny_model.model.save_pretrained(folder)
    tiny_model.tokenizer.save_pretrained(folder)
    first = load_model(str(folder))
    again = load_model(str(folder))
    assert first.source == "local" and first.path == str(folder.resolve())
    assert first.slug == "tiny" and len(first.fingerprint) == 64
    assert first.fingerprint == again.fingerprint
    assert load_model(str(folder), dtype="bfloat16").fingerprint != first.fingerprint
    got = score_options(first, PROMPTS[:3], progress=False)
    ref = score_options(tiny_model, PROMPTS[:3], progress=False)
    for a, b in zip(got, ref, strict=True):
        assert a.logprobs == pytest.approx(b.logprobs, abs=TOL)


def test_interrupted_conversion_leaves_no_cache(tmp_path, monkeypatch):
    from ladder.harness.models import embedded

    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"not really a gguf")
    spec = embedded.EmbeddedModel(
        name="fake",
        aliases=(),
        distribution="fake",
        module="fake",
        install="pip install fake",
        gguf_name="fake.gguf",
        locate=lambda: (fake, "0" * 64),
        materialize=lambda folder: fake,
    )

    def explode(path):
        (tmp_path / "cache" / "partial-marker").touch()
        raise RuntimeError("interrupted")

    monkeypatch.setattr(embedded, "load_from_gguf", explode)
    target = tmp_path / "cache" / "fake-000000000000"
    with pytest.raises(RuntimeError, match="interrupted"):
        embedded.convert(spec, target, "0" * 64)
    assert not target.exists()
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["partial-marker"]
