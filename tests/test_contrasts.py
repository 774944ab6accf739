"""``families.contrasts``: the prompt also states the observational ``P(Y=1 | X=x)`` of the
pair each difference question asks, so the rung-1 answer is two printed numbers compared
(``true``), or their difference as one signed number, so it is the printed sign
(``difference``).

The printed numbers are held against pgmpy's variable elimination on the item's SCM (not
the engine), the stored ``association_answer`` against the printed numbers read back from
the prompt text, and the prompt-only solver of ``test_prompt_solver`` must still recover
every label from the prompt (the extra numbers are consistent with the factorisation; the
solver does not read a difference).
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
_DIFFERENCE = re.compile(
    r"P\((\w+)=1 \| (\w+)=1\) \u2212 P\(\1=1 \| \2=0\) = ([+\u2212])([0-9]\.[0-9]{2})\."
)
_NATURAL = re.compile(r"The probability that (.+?) is ([0-9.]+) (higher|lower) if (.+?) than if")


@pytest.fixture(scope="module", params=["pair", "difference"])
def items(request, tmp_path_factory) -> list[dict]:
    path = tmp_path_factory.mktemp("spec") / "s.yaml"
    form = "true" if request.param == "pair" else request.param
    path.write_text(SPEC.replace("contrasts: true", f"contrasts: {form}"))
    return list(generate_items(load_spec(path), 3, 120))


def _printed(item: dict) -> dict[tuple[str, str, int], float]:
    """(outcome, treatment, bit) → the number printed for P(outcome=1 | treatment=bit)."""
    evidence = item["prompt"].split("\n")[2]
    return {(y, x, int(b)): float(v) for y, x, b, v in _CONTRAST.findall(evidence)}


def _printed_differences(item: dict) -> dict[tuple[str, str], float]:
    """(outcome, treatment) → the printed P(outcome=1 | treatment=1) − P(outcome=1 | …=0)."""
    evidence = item["prompt"].split("\n")[2]
    return {
        (y, x): (1 if sign == "+" else -1) * float(v)
        for y, x, sign, v in _DIFFERENCE.findall(evidence)
    }


def _stated_contrast(item: dict, outcome: str, treatment: str) -> float:
    """The printed contrast of the pair, whichever form the prompt states it in."""
    differences = _printed_differences(item)
    if differences:
        return differences[(outcome, treatment)]
    printed = _printed(item)
    return printed[(outcome, treatment, 1)] - printed[(outcome, treatment, 0)]


def test_each_difference_question_has_its_contrast_printed_and_true(items):
    checked = 0
    for item in items:
        q = item["query"]
        if q["type"] == "correlation" and q.get("given"):
            continue
        model = to_pgmpy(SCM.from_dict(item["scm"]))
        exact = {
            bit: pgmpy_probability(model, {q["outcome"]: 1}, {q["treatment"]: bit})
            for bit in (1, 0)
        }
        differences = _printed_differences(item)
        if differences:
            stated = differences[(q["outcome"], q["treatment"])]
            assert stated == pytest.approx(exact[1] - exact[0], abs=0.005)
            assert not _printed(item).get((q["outcome"], q["treatment"], 1))  # not both forms
        else:
            printed = _printed(item)
            for bit in (1, 0):
                stated = printed[(q["outcome"], q["treatment"], bit)]
                assert stated == pytest.approx(exact[bit], abs=0.005)
        checked += 1
    assert checked == len(items)


def test_association_answer_is_the_printed_comparison(items):
    for item in items:
        q = item["query"]
        diff = _stated_contrast(item, q["outcome"], q["treatment"])
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


def test_a_difference_in_words_names_its_direction(tmp_path):
    path = tmp_path / "s.yaml"
    natural = SPEC.replace("contrasts: true", "contrasts: difference").replace(
        "verbalizations: [symbolic]", "verbalizations: [commonsense]"
    )
    path.write_text(natural)
    items = list(generate_items(load_spec(path), 5, 30))
    for item in items:
        q = item["query"]
        model = to_pgmpy(SCM.from_dict(item["scm"]))
        exact = pgmpy_probability(model, {q["outcome"]: 1}, {q["treatment"]: 1}) - (
            pgmpy_probability(model, {q["outcome"]: 1}, {q["treatment"]: 0})
        )
        found = _NATURAL.findall(item["prompt"].split("\n")[2])
        assert len(found) == 1, item["prompt"]
        _, size, direction, _ = found[0]
        assert float(size) == pytest.approx(abs(exact), abs=0.005)
        assert direction == ("higher" if exact > 0 else "lower")


def test_contrasts_must_be_a_bool_or_difference(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text(SPEC.replace("contrasts: true", "contrasts: often"))
    assert cli_main(["generate", "--spec", "bad.yaml", "--out", "o.jsonl"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "ladder generate: error: bad.yaml: field 'families.contrasts': "
        "'often'; allowed: true, false, difference"
    )
    assert not (tmp_path / "o.jsonl").exists()
