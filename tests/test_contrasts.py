"""``families.contrasts``: the prompt also states the observational ``P(Y=1 | X=x)`` of the
pair each difference question asks, so the rung-1 answer is two printed numbers compared.

The printed numbers are held against pgmpy's variable elimination on the item's SCM (not
the engine), the stored ``association_answer`` against the printed numbers read back from
the prompt text, and the prompt-only solver of ``test_prompt_solver`` must still recover
every label from the prompt (the extra numbers are consistent with the factorisation).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
from references import pgmpy_probability, to_pgmpy
from test_prompt_solver import solve

from ladder.cli import main as cli_main
from ladder.engine.scm import SCM
from ladder.generation.generate import generate_items
from ladder.generation.specs import load_spec

SPEC = """\
name: contrasts-test
n: 120
margin: 0.05
verbalizations: [symbolic]
evidence: [probabilities]
families:
  discordant: {ate: 0.25}
  candidates: 48
  contrasts: true
cells:
  confounding: [correlation, ate, ett]
  mediation: [correlation, ate, nde]
"""
_CONTRAST = re.compile(r"P\((\w+)=1 \| (\w+)=([01])\) = ([0-9.]+)\.")


@pytest.fixture(scope="module")
def items(tmp_path_factory) -> list[dict]:
    path = tmp_path_factory.mktemp("spec") / "s.yaml"
    path.write_text(SPEC)
    return list(generate_items(load_spec(path), 3, 120))


def _printed(item: dict) -> dict[tuple[str, str, int], float]:
    """(outcome, treatment, bit) → the number printed for P(outcome=1 | treatment=bit)."""
    evidence = item["prompt"].split("\n")[2]
    return {(y, x, int(b)): float(v) for y, x, b, v in _CONTRAST.findall(evidence)}


def test_each_difference_question_has_its_contrast_printed_and_true(items):
    checked = 0
    for item in items:
        q = item["query"]
        if q["type"] == "correlation" and q.get("given"):
            continue
        printed = _printed(item)
        model = to_pgmpy(SCM.from_dict(item["scm"]))
        for bit in (1, 0):
            exact = pgmpy_probability(model, {q["outcome"]: 1}, {q["treatment"]: bit})
            assert printed[(q["outcome"], q["treatment"], bit)] == pytest.approx(exact, abs=0.005)
        checked += 1
    assert checked == len(items)


def test_association_answer_is_the_printed_comparison(items):
    for item in items:
        q = item["query"]
        printed = _printed(item)
        pair = (q["outcome"], q["treatment"])
        diff = printed[(*pair, 1)] - printed[(*pair, 0)]
        assert diff != 0
        want = "yes" if q.get("polarity", 1) * diff > 0 else "no"
        assert item["association_answer"] == want, item["id"]
    assert any(item["discordant"] for item in items)  # where the printed comparison misleads


def test_family_prompts_share_the_evidence_and_the_solver_still_answers(items):
    context = defaultdict(set)
    for item in items:
        context[item["family_id"]].add("\n".join(item["prompt"].split("\n")[:3]))
        assert solve(item) == item["answer"], item["id"]
    assert all(len(c) == 1 for c in context.values())


def test_without_contrasts_nothing_is_added(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SPEC.replace("  contrasts: true\n", ""))
    items = list(generate_items(load_spec(path), 3, 30))
    for item in items:
        q = item["query"]
        assert (q["outcome"], q["treatment"], 1) not in _printed(item)


def test_contrasts_must_be_a_bool(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text(SPEC.replace("contrasts: true", "contrasts: often"))
    assert cli_main(["generate", "--spec", "bad.yaml", "--out", "o.jsonl"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "ladder generate: error: bad.yaml: field 'families.contrasts': "
        "'often' must be true or false"
    )
    assert not (tmp_path / "o.jsonl").exists()
