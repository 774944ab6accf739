"""The mixture baselines (ladder.analysis.baselines): α and β recovered on generated items,
the edges equal the oracles, the draws are deterministic, and answer bias is not
mistaken for association-following."""

from __future__ import annotations

import pytest

from ladder.analysis.association import FOLLOWS, association_following
from ladder.analysis.baselines import (
    biased_answer,
    mixture_answer,
    parse_mixture,
    recover_alpha,
    recover_beta,
)
from ladder.generation.generate import generate_items
from ladder.generation.specs import load_suite


@pytest.fixture(scope="module")
def items() -> list[dict]:
    return list(generate_items(load_suite("core"), seed=4, n=600))


def _run(items: list[dict], rule) -> list[dict]:
    out = []
    for it in items:
        p_yes, prediction = rule(it)
        out.append(
            {
                "id": it["id"],
                "answer": it["answer"],
                "association_answer": it["association_answer"],
                "discordant": it["discordant"],
                "family_id": it["family_id"],
                "query_type": it["query_type"],
                "verbalization": it["verbalization"],
                "polarity": it["query"]["polarity"],
                "p_yes": p_yes,
                "prediction": prediction,
            }
        )
    return out


@pytest.mark.parametrize("alpha", [0.7, 0.3])
def test_alpha_is_recovered_within_its_interval(items: list[dict], alpha: float) -> None:
    r = recover_alpha(_run(items, lambda it: mixture_answer(it, alpha, seed=0)))
    assert r["n"] == sum(it["discordant"] for it in items) > 50
    assert r["low"] <= alpha <= r["high"]
    assert r["high"] - r["low"] < 0.25


@pytest.mark.parametrize("beta", [0.8, 0.3])
def test_beta_is_recovered_within_its_interval(items: list[dict], beta: float) -> None:
    r = recover_beta(_run(items, lambda it: biased_answer(it, beta, seed=0)))
    assert r["n"] == len(items)
    assert r["low"] <= beta <= r["high"]


def test_edges_are_the_oracles(items: list[dict]) -> None:
    for it in items:
        assert mixture_answer(it, 1.0) == (float(it["answer"] == "yes"), it["answer"])
        assoc = it["association_answer"]
        # as the association-oracle baseline answers: "no" at 0.5 without a counterpart
        expected = (0.5, "no") if assoc is None else (float(assoc == "yes"), assoc)
        assert mixture_answer(it, 0.0) == expected
        assert biased_answer(it, 1.0) == (1.0, "yes") and biased_answer(it, 0.0) == (0.0, "no")


def test_draws_are_deterministic_per_item_and_seed(items: list[dict]) -> None:
    first = [mixture_answer(it, 0.5, seed=1) for it in items]
    assert first == [mixture_answer(it, 0.5, seed=1) for it in items]
    assert first != [mixture_answer(it, 0.5, seed=2) for it in items]
    assert [biased_answer(it, 0.5, 1) for it in items] != [
        biased_answer(it, 0.5, 2) for it in items
    ]


def test_biased_baseline_is_not_an_associational_reasoner(items: list[dict]) -> None:
    biased = association_following(_run(items, lambda it: biased_answer(it, 0.8, seed=0)))
    assert biased["verdict"] != FOLLOWS and biased["low"] <= 0 <= biased["high"]
    mixed = association_following(_run(items, lambda it: mixture_answer(it, 0.7, seed=0)))
    assert mixed["verdict"] == FOLLOWS and mixed["low"] <= 0.3 <= mixed["high"]


def test_names() -> None:
    assert parse_mixture("mixture-0.7") == ("mixture", 0.7)
    assert parse_mixture("biased-1") == ("biased", 1.0)
    for bad in ("mixture-1.5", "mixture-", "biased-0.8x", "truth-oracle", "mixture-.5"):
        assert parse_mixture(bad) is None


def test_mixture_runs_end_to_end_and_their_reports_recover_the_weight(
    items: list[dict], tmp_path
) -> None:
    """``ladder run --model mixture-0.7`` and ``biased-0.9`` score like any baseline; their
    reports recover the weights within the intervals and never call the biased baseline
    associational."""
    from ladder.analysis.association import FOLLOWS
    from ladder.analysis.report import build_report
    from ladder.cli import main
    from ladder.generation.generate import dumps

    path = tmp_path / "items.jsonl"
    path.write_text("".join(dumps(i) + "\n" for i in items))
    data = {}
    for name in ("mixture-0.7", "biased-0.9", "truth-oracle", "association-oracle"):
        argv = ["run", "--model", name, "--items", str(path), "--run-dir", str(tmp_path / name)]
        assert main([*argv, "--quiet", "--no-cache"]) == 0
    for name in ("mixture-0.7", "biased-0.9"):
        data[name] = build_report(tmp_path / name, figures=False).data
    got = data["mixture-0.7"]["recovered_weight"]
    assert got["kind"] == "mixture" and got["low"] <= 0.7 <= got["high"]
    assert "the set value lies inside" in build_report(tmp_path / "mixture-0.7").markdown
    biased = data["biased-0.9"]
    assert biased["recovered_weight"]["low"] <= 0.9 <= biased["recovered_weight"]["high"]
    assert biased["association_following"]["verdict"] != FOLLOWS
    assert data["mixture-0.7"]["association_following"]["verdict"] == FOLLOWS
