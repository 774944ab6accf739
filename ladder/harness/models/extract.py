"""``--mode generate``: greedy answers and a strict yes/no reader.

``extract_yes_no`` never guesses: it returns ``"yes"`` or ``"no"`` only when the text
commits to one answer, else ``None`` (unreadable). Rules, applied to the text with markdown
decoration removed and case folded:

1. A both-ways phrase anywhere (``yes and no``, ``yes or no``, ``yes/no``, ``neither yes nor
   no``) → ``None``.
2. An explicit answer statement (``the answer is yes``, ``answer: **No**``, ``final answer -
   yes``, ``my answer would be no``) → that answer; statements that disagree → ``None``.
3. Otherwise the first word decides when it is an answer word (``Yes.``, ``**No**``, ``YES``,
   ``no, because ...``, ``Yeah``, ``Nope``; an ``A:``/``Answer`` label before it is allowed),
   except hedges that start with "no" (``No idea``, ``No way to tell``) → ``None``.
4. Anything else → ``None``: a "no" inside an explanation ("there is no effect") is not an
   answer, and "I cannot tell" is not a guess.

This module imports torch only inside :func:`generate_answers`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from tqdm import tqdm

from ladder.harness.models.scoring import encode

if TYPE_CHECKING:
    from ladder.harness.models.loading import LoadedModel

YesNo = Literal["yes", "no"]

_YES = r"(?:yes|yeah|yep|yup)"
_NO = r"(?:no|nope|nah)"
_BOTH_WAYS = re.compile(
    rf"\b(?:{_YES}\s*(?:and|or|/|&)\s*{_NO}|{_NO}\s*(?:and|or|/|&)\s*{_YES}|neither\s+{_YES}\s+nor\s+{_NO}"
    rf"|neither\s+{_NO}\s+nor\s+{_YES})\b"
)
_STATEMENT = re.compile(
    r"\b(?:(?:final|short|correct|my|the)\s+)?answer\s*(?:is|would\s+be|will\s+be|should\s+be|=|:|-|—)?"
    rf"\s*[:\-—]?\s*[\"'“‘(\[]?\s*(?P<word>{_YES}|{_NO})\b"
)
_LEADING = re.compile(
    rf"^(?:(?:final\s+)?(?:answer|a|response)\s*[:\-—.]\s*)?[\"'“‘(\[]?\s*(?P<word>{_YES}|{_NO})\b"
)
_HEDGE_AFTER_NO = re.compile(
    r"^no\s+(?:idea|clue|way\s+to|answer|definitive|definite|clear|certain|information|data"
    r"|one\s+can|conclusion|comment|way\s+of)\b"
)
_MARKUP = re.compile(r"[*_`#>~|]+")


def _normalize(text: str) -> str:
    """Drop markdown decoration and list bullets, fold case, squeeze whitespace."""
    text = _MARKUP.sub(" ", text.lower())
    text = re.sub(r"^\s*(?:[-+•]|\d+[.)])\s+", "", text)
    return re.sub(r"\s+", " ", text).strip()


def _word(word: str) -> YesNo:
    return "yes" if re.fullmatch(_YES, word) else "no"


def extract_yes_no(text: str | None) -> YesNo | None:
    """Read a committed yes/no answer from generated text, or ``None`` (see module doc)."""
    if not text:
        return None
    norm = _normalize(text)
    if not norm or _BOTH_WAYS.search(norm):
        return None
    stated = {_word(m.group("word")) for m in _STATEMENT.finditer(norm)}
    if len(stated) > 1:
        return None
    leading = _LEADING.match(norm)
    first: YesNo | None = None
    if leading:
        first = _word(leading.group("word"))
        rest = norm[leading.start("word") :]
        if first == "no" and _HEDGE_AFTER_NO.match(rest):
            first = None
    if stated:
        (answer,) = stated
        if first is not None and first != answer:
            return None
        return answer
    return first


def generate_answers(
    loaded: LoadedModel,
    prompts: Sequence[str],
    max_new_tokens: int = 16,
    *,
    batch_size: int = 16,
    progress: bool = True,
) -> list[str]:
    """Greedy continuations of final prompt texts (see ``format_prompt``), in input order.

    Prompts are encoded like the scorer does (``<bos>`` once), sorted by length, left-padded
    with an attention mask, and decoded without special tokens. Generation stops at the
    tokenizer's or generation config's end-of-sequence tokens.
    """
    import torch

    if isinstance(prompts, str):
        raise ValueError("prompts must be a list of strings, not one string")
    if max_new_tokens < 1 or batch_size < 1:
        raise ValueError("max_new_tokens and batch_size must be positive")
    model, tok = loaded.model, loaded.tokenizer
    encoded = [encode(loaded, p) for p in prompts]
    order = sorted(range(len(prompts)), key=lambda i: len(encoded[i]), reverse=True)
    eos = _eos_ids(loaded)
    pad = tok.pad_token_id if tok.pad_token_id is not None else (eos[0] if eos else 0)
    out: list[str] = [""] * len(prompts)
    with (
        torch.inference_mode(),
        tqdm(total=len(prompts), unit="item", desc="generating", disable=not progress) as bar,
    ):
        for lo in range(0, len(order), batch_size):
            idx = order[lo : lo + batch_size]
            width = max(len(encoded[i]) for i in idx)
            ids = torch.full((len(idx), width), pad, dtype=torch.long)
            mask = torch.zeros((len(idx), width), dtype=torch.long)
            for r, i in enumerate(idx):
                ids[r, width - len(encoded[i]) :] = torch.tensor(encoded[i])
                mask[r, width - len(encoded[i]) :] = 1
            gen = model.generate(
                input_ids=ids.to(loaded.device),
                attention_mask=mask.to(loaded.device),
                max_new_tokens=max_new_tokens,
                do_sample=False,
                temperature=None,
                top_p=None,
                top_k=None,
                pad_token_id=pad,
                eos_token_id=eos or None,
            )
            new = gen[:, width:].tolist()
            for r, i in enumerate(idx):
                tokens = new[r]
                for j, t in enumerate(tokens):
                    if t in eos:
                        tokens = tokens[:j]
                        break
                out[i] = tok.decode(tokens, skip_special_tokens=True).strip()
            bar.update(len(idx))
    return out


def _eos_ids(loaded: LoadedModel) -> list[int]:
    """End-of-sequence ids from the generation config and the tokenizer."""
    ids: list[int] = []
    config_eos = getattr(getattr(loaded.model, "generation_config", None), "eos_token_id", None)
    if isinstance(config_eos, int):
        ids.append(config_eos)
    elif isinstance(config_eos, (list, tuple)):
        ids.extend(int(x) for x in config_eos)
    if loaded.tokenizer.eos_token_id is not None:
        ids.append(int(loaded.tokenizer.eos_token_id))
    return list(dict.fromkeys(ids))
