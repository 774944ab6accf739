"""Log-probability scoring: yes/no options after a prompt, and teacher-forced token log-probs.

Public functions
----------------
``format_prompt(loaded, question, use_chat_template)``
    Wrap a raw question in the chat template (assistant turn opened), or return it unchanged.
``score_options(loaded, prompts, options=("Yes", "No"))`` → ``list[OptionScores]``
    Summed log-prob of each answer option after each prompt, and ``p_yes``.
``naive_option_logprobs(loaded, prompts, options)``
    The reference: one full forward per prompt+option, log-softmax everywhere. Slow; tests
    hold ``score_options`` to it.
``token_logprobs(loaded, sequences, positions)``
    ``log p(seq[t] | seq[:t])`` at requested positions of token-id sequences.
``span_logprobs(loaded, texts, spans)``
    The same for character spans of texts, summed per span (Granger probes: the log-prob of
    one serialized value ``y_t``).

Option strings (how an answer is appended to a prompt)
------------------------------------------------------
``option_form="auto"`` (the default) decides from how the prompt ends:

* the prompt ends with a newline (a chat template's assistant header ``...assistant\\n``,
  ``<start_of_turn>model\\n``) or is empty → the option as given: ``"Yes"``;
* it ends with spaces or tabs (``"Answer: "``) → those trailing blanks are removed from the
  prompt and the option gets one leading space: prompt ``"Answer:"`` + ``" Yes"``. A trailing
  space would otherwise be a token of its own that a model almost never produces before a
  word, and the answer word's usual token carries the space;
* anything else (``"Answer:"``, ``"...?"``) → ``" Yes"``.

An option that already starts with whitespace is used verbatim. ``"raw"`` always appends the
options verbatim; ``"space"`` always uses the leading-space form.

Both embedded tokenizers make each of ``Yes``/``No``/`` Yes``/`` No`` a single token
(SmolLM2: 10539/5230 and 9230/2838; Gemma-3: 10784/3771 and 8438/2301).

Tokenization: the prompt is encoded once (with the tokenizer's own leading special tokens,
e.g. Gemma's ``<bos>``, unless the text already starts with them — a chat template that
writes ``<bos>`` must not get a second one); each option's ids are the tail of the encoding
of ``prompt + option`` after the prompt's ids. If the prompt's ids are not a prefix of that
encoding (the tokenizer merged across the boundary), the option is encoded on its own,
appended to the prompt's ids, and ``OptionScores.boundary_drift`` is set.

How the work is done
--------------------
Items are grouped (optionally: prompts sharing a long token prefix, such as several questions
about one story, form a group that encodes the shared prefix once; ``prefix_groups`` names
the families outright, e.g. items v2's ``family_id``), groups are sorted by
length and packed into batches under a padded-token budget (``max_batch_tokens``). A batch
runs the base transformer (no vocabulary projection) over left-padded prefixes with explicit
position ids; then, when needed, "rows" (the rest of each prompt, and each multi-token
option's tokens but the last) run on a copy of the prefix KV cache selected/expanded over
rows. The vocabulary projection (``lm_head``, plus ``final_logit_softcapping`` where the
config has one) and the log-softmax run only at the positions whose next token is scored.
Single-token options after an unshared prompt therefore cost exactly one forward pass of the
prompt and one projection row per prompt. Results are written to slots, so the input order
is kept.

Sharing a prefix never changes a score: every prompt is tokenized whole, and a group's
prefix is the longest common prefix of its members' token ids, so each row continues the
very ids its prompt has (no re-tokenization of a prefix and a suffix apart, hence no
token-boundary question).

If the fast path (base model + head) does not reproduce the model's own logits on a probe
(an architecture with extra logit scaling), the full model forward is used instead, with
``logits_to_keep`` where possible.
"""

from __future__ import annotations

import copy
import inspect
import itertools
import math
import warnings
import weakref
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from tqdm import tqdm

from ladder.core.errors import ScoringError, SpanAlignmentError

if TYPE_CHECKING:
    import torch

    from ladder.harness.models.loading import LoadedModel

OptionForm = Literal["auto", "raw", "space"]
DEFAULT_OPTIONS: tuple[str, ...] = ("Yes", "No")
DEFAULT_MAX_BATCH_TOKENS = 2048  # best of 512-4096 for SmolLM2 on 2 CPU cores
DEFAULT_MAX_BATCH_SIZE = 64
DEFAULT_MIN_SHARED_PREFIX = 32
#: upper bound on projected rows × vocabulary held at once (floats)
_HEAD_CHUNK_FLOATS = 1 << 24
#: rows of a row pass may hold this many budgets of cached prefix tokens (memory bound)
_CACHE_ROW_FACTOR = 4


# --------------------------------------------------------------------------- prompts


def format_prompt(
    loaded: LoadedModel, question: str, use_chat_template: bool, *, system: str | None = None
) -> str:
    """Return the text the model sees for a raw ``question``.

    With ``use_chat_template`` the question becomes the user turn of the tokenizer's chat
    template and the assistant turn is opened (``add_generation_prompt=True``), so the
    answer is the next thing the model writes; a ``system`` message is added when given.
    Without it the question is returned unchanged.

    Raises:
        ScoringError: a chat template is asked for but the tokenizer has none (e.g. the
            Gemma-3-270M base model).
    """
    if not use_chat_template:
        return question
    tokenizer = loaded.tokenizer
    if not getattr(tokenizer, "chat_template", None):
        raise ScoringError(
            f"model {loaded.name!r} has no chat template (base model?); "
            f"score it with plain prompts (use_chat_template=False)"
        )
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": question})
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return str(text)


def encode(loaded: LoadedModel, text: str) -> list[int]:
    """Token ids of ``text`` as a model should see it at the start of a sequence.

    The tokenizer's leading special tokens (Gemma's ``<bos>``) are added unless the text
    already begins with them (a chat template that writes ``<bos>`` itself); trailing ones
    (an EOS some tokenizers append) never are.
    """
    body = list(loaded.tokenizer(text, add_special_tokens=False)["input_ids"])
    return _with_prefix(loaded.special_prefix, body)


def _with_prefix(prefix: Sequence[int], body: list[int]) -> list[int]:
    if prefix and body[: len(prefix)] != list(prefix):
        return [*prefix, *body]
    return body


def option_continuations(
    prompt: str, options: Sequence[str], form: OptionForm = "auto"
) -> tuple[str, tuple[str, ...]]:
    """Return ``(context, continuations)``: the prompt as scored and the text of each option.

    See the module docstring for the rule; e.g. ``("Answer:", ["Yes"])`` →
    ``("Answer:", (" Yes",))`` and ``("...assistant\\n", ["Yes"])`` → ``(..., ("Yes",))``.
    """
    if form not in ("auto", "raw", "space"):
        raise ScoringError(f"unknown option_form {form!r}; use 'auto', 'raw' or 'space'")
    if not options:
        raise ScoringError("at least one answer option is needed")
    if any(not option for option in options):
        raise ScoringError("answer options must be non-empty strings")
    if form == "raw":
        return prompt, tuple(options)
    if form == "auto" and (not prompt or prompt.endswith(("\n", "\r"))):
        return prompt, tuple(options)
    context = prompt.rstrip(" \t")
    conts = tuple(option if option[:1].isspace() else " " + option for option in options)
    return context, conts


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class OptionScores:
    """Scores of the answer options after one prompt.

    Attributes:
        options: the options as asked for (``("Yes", "No")``).
        continuations: the text actually appended to the prompt (``(" Yes", " No")``).
        logprobs: summed log-prob (nats) of each continuation's tokens given the prompt.
        n_tokens: number of tokens of each continuation.
        boundary_drift: whether the prompt's tokens were not a prefix of prompt+option's
            tokens for some option (the option was then encoded on its own).
    """

    options: tuple[str, ...]
    continuations: tuple[str, ...]
    logprobs: tuple[float, ...]
    n_tokens: tuple[int, ...]
    boundary_drift: bool = False

    def probs(self) -> tuple[float, ...]:
        """The options' probabilities renormalized over the options (a softmax of logprobs)."""
        top = max(self.logprobs)
        weights = [math.exp(lp - top) for lp in self.logprobs]
        total = sum(weights)
        return tuple(w / total for w in weights)

    @property
    def p_yes(self) -> float:
        """``exp(lp_yes) / (exp(lp_yes) + exp(lp_no))``: the first option ("yes") renormalized
        over the options (with more than two options, over all of them)."""
        return self.probs()[0]

    @property
    def lp_yes(self) -> float:
        """Log-prob of the first option."""
        return self.logprobs[0]

    @property
    def lp_no(self) -> float:
        """Log-prob of the second option."""
        return self.logprobs[1]

    def to_dict(self) -> dict[str, Any]:
        """Plain data for run files."""
        return {
            "options": list(self.options),
            "continuations": list(self.continuations),
            "logprobs": list(self.logprobs),
            "n_tokens": list(self.n_tokens),
            "p_yes": self.p_yes,
            "boundary_drift": self.boundary_drift,
        }


# --------------------------------------------------------------------------- work units

Read = tuple[int, int, int]
"""(position, target token id, output slot): add ``log p(target | tokens[:position+1])``
to ``out[slot]``; the position is that of the hidden state that predicts the target."""


@dataclass
class _Item:
    """One scored sequence: ``ids`` with reads on it, and optional branches appended to it
    (each branch continues ``ids``; its reads are at branch positions, ≥ 0)."""

    ids: list[int]
    reads: list[Read]
    branches: list[tuple[list[int], list[Read]]] = field(default_factory=list)


@dataclass
class _Row:
    group: int
    ids: list[int]
    reads: list[Read]


@dataclass
class _Group:
    prefix: list[int]
    reads: list[Read]
    rows: list[_Row]
    n_items: int


def _lcp(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _cluster(
    items: Sequence[_Item], min_shared: int, keys: Sequence[Hashable | None] | None = None
) -> list[list[int]]:
    """Clusters of item indices that share one prefix pass.

    Items with the same non-None key (a family of questions about one story) form one
    cluster when their common token prefix has ≥ ``min_shared`` tokens, however long their
    own tails are; the rest are clustered by :func:`_auto_cluster`.

    >>> items = [_Item([1, 2, 3, 4], []), _Item([1, 2, 3, 5, 6, 7, 8, 9], []), _Item([9], [])]
    >>> _cluster(items, 2, ["f", "f", None])
    [[0, 1], [2]]
    >>> _cluster(items, 2)  # without keys, a prefix under half of item 1's length is not shared
    [[0], [1], [2]]
    """
    keyed: dict[Hashable, list[int]] = {}
    free: list[int] = []
    for index, key in enumerate(keys if keys is not None else [None] * len(items)):
        if key is None:
            free.append(index)
        else:
            keyed.setdefault(key, []).append(index)
    clusters: list[list[int]] = []
    for members in keyed.values():
        head = items[members[0]].ids
        shared = min((_lcp(head, items[m].ids) for m in members[1:]), default=0)
        if len(members) > 1 and shared >= min_shared:
            clusters.append(members)
        else:
            free.extend(members)
    return clusters + _auto_cluster(items, sorted(free), min_shared)


def _auto_cluster(items: Sequence[_Item], indices: list[int], min_shared: int) -> list[list[int]]:
    """Cluster item indices whose ids share a long prefix (≥ ``min_shared`` tokens and at
    least half of every member's length); singletons otherwise."""
    order = sorted(indices, key=lambda i: items[i].ids)
    clusters: list[list[int]] = []
    prefix_len = 0
    longest = 0
    for index in order:
        ids = items[index].ids
        if clusters:
            head = items[clusters[-1][0]].ids
            shared = min(prefix_len, _lcp(head, ids))
            if shared >= min_shared and 2 * shared >= max(longest, len(ids)):
                clusters[-1].append(index)
                prefix_len, longest = shared, max(longest, len(ids))
                continue
        clusters.append([index])
        prefix_len, longest = len(ids), len(ids)
    return clusters


def _make_group(items: Sequence[_Item], members: list[int]) -> _Group:
    """Split member items into a shared prefix pass and rows that continue it."""
    if len(members) == 1:
        prefix_len = len(items[members[0]].ids)
    else:
        first = items[members[0]].ids
        prefix_len = min(_lcp(first, items[m].ids) for m in members[1:])
    prefix = items[members[0]].ids[:prefix_len]
    group = _Group(prefix=prefix, reads=[], rows=[], n_items=len(members))
    for m in members:
        item = items[m]
        tail = item.ids[prefix_len:]
        tail_reads: list[Read] = []
        for pos, target, slot in item.reads:
            if pos < prefix_len:
                group.reads.append((pos, target, slot))
            else:
                tail_reads.append((pos - prefix_len, target, slot))
        if not item.branches:
            if tail:
                group.rows.append(_Row(0, tail, tail_reads))
            continue
        shift = len(tail)
        for b, (ids, reads) in enumerate(item.branches):
            row_reads = [(p + shift, t, s) for p, t, s in reads]
            if b == 0:
                row_reads = tail_reads + row_reads
            group.rows.append(_Row(0, tail + ids, row_reads))
    return group


def _plan_batches(
    groups: list[_Group], max_batch_tokens: int, max_batch_size: int
) -> list[list[_Group]]:
    """Longest first, greedily packed so that (groups × longest prefix) ≤ budget."""
    ordered = sorted(groups, key=lambda g: len(g.prefix), reverse=True)
    batches: list[list[_Group]] = []
    current: list[_Group] = []
    for group in ordered:
        width = len(current[0].prefix) if current else len(group.prefix)
        if current and (
            (len(current) + 1) * width > max_batch_tokens or len(current) >= max_batch_size
        ):
            batches.append(current)
            current = []
        current.append(group)
    if current:
        batches.append(current)
    return batches


def _chunk_rows(rows: list[_Row], prefix_width: int, max_batch_tokens: int) -> list[list[_Row]]:
    """Longest first; each chunk keeps rows × longest ≤ budget and the copied cache bounded."""
    ordered = sorted(rows, key=lambda r: len(r.ids), reverse=True)
    chunks: list[list[_Row]] = []
    current: list[_Row] = []
    for row in ordered:
        width = len(current[0].ids) if current else len(row.ids)
        n = len(current) + 1
        if current and (
            n * width > max_batch_tokens
            or n * (prefix_width + width) > _CACHE_ROW_FACTOR * max_batch_tokens
        ):
            chunks.append(current)
            current = []
        current.append(row)
    if current:
        chunks.append(current)
    return chunks


# --------------------------------------------------------------------------- the runner


class _Runner:
    """Runs a model's transformer body and projects only the positions asked for."""

    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
        self.model = loaded.model
        self.device = loaded.device
        tok = loaded.tokenizer
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        self.pad_id = int(pad) if pad is not None else 0
        cfg = self.model.config
        text_cfg = cfg.get_text_config() if hasattr(cfg, "get_text_config") else cfg
        self.softcap: float | None = getattr(text_cfg, "final_logit_softcapping", None)
        self.base: Any = getattr(self.model, getattr(self.model, "base_model_prefix", ""), None)
        self.head: Any = self.model.get_output_embeddings()
        self.fast = _fast_path_ok(self)
        body = self.base if self.fast else self.model
        params = inspect.signature(body.forward).parameters
        self.cache_kw = "cache" if "cache" in params else "past_key_values"
        self.keep_kw = "logits_to_keep" in inspect.signature(self.model.forward).parameters

    def forward(
        self,
        ids: torch.Tensor,
        mask: torch.Tensor,
        pos: torch.Tensor,
        *,
        cache: Any = None,
        use_cache: bool = False,
        first_col: int = 0,
    ) -> tuple[torch.Tensor, int, Any]:
        """Return (states, offset, cache): ``states[:, c - offset]`` predicts the token after
        column ``c`` for every ``c ≥ first_col``; states are hidden states (fast path) or
        logits (fallback)."""
        kwargs: dict[str, Any] = {
            "input_ids": ids,
            "attention_mask": mask,
            "position_ids": pos,
            "use_cache": use_cache,
        }
        if cache is not None:
            kwargs[self.cache_kw] = cache
        if self.fast:
            out = self.base(**kwargs)
            states, offset = out.last_hidden_state, 0
        else:
            offset = 0
            if self.keep_kw and first_col > 0:
                kwargs["logits_to_keep"] = ids.shape[1] - first_col
                offset = first_col
            out = self.model(**kwargs)
            states = out.logits
        new_cache = getattr(out, self.cache_kw, None) if use_cache else None
        return states, offset, new_cache

    def project(self, states: torch.Tensor) -> torch.Tensor:
        """Log-softmax over the vocabulary for rows of states (float32)."""
        import torch

        if self.fast:
            logits = self.head(states)
            if self.softcap:
                logits = torch.tanh(logits / self.softcap) * self.softcap
        else:
            logits = states
        return torch.log_softmax(logits.float(), dim=-1)

    def read(
        self, states: torch.Tensor, where: list[tuple[int, int, int, int]], out: np.ndarray
    ) -> None:
        """For each (batch row, state column, target, slot) add the target's log-prob to
        ``out[slot]``, projecting each distinct (row, column) once, in chunks."""
        import torch

        if not where:
            return
        keys = sorted({(b, c) for b, c, _, _ in where})
        index = {key: i for i, key in enumerate(keys)}
        rows = torch.tensor([k[0] for k in keys], device=states.device)
        cols = torch.tensor([k[1] for k in keys], device=states.device)
        gathered = states[rows, cols]
        vocab = self.head.weight.shape[0] if self.fast else states.shape[-1]
        chunk = max(1, _HEAD_CHUNK_FLOATS // max(vocab, 1))
        unique = torch.tensor([index[(b, c)] for b, c, _, _ in where], device=states.device)
        targets = torch.tensor([t for _, _, t, _ in where], device=states.device)
        values = torch.empty(len(where), dtype=torch.float64)
        for lo in range(0, len(keys), chunk):
            logp = self.project(gathered[lo : lo + chunk])
            sel = ((unique >= lo) & (unique < lo + chunk)).nonzero().flatten()
            if len(sel):
                picked = logp[unique[sel] - lo, targets[sel]]
                values[sel.cpu()] = picked.double().cpu()
        np.add.at(out, np.array([s for _, _, _, s in where]), values.numpy())


_FAST_OK: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def _fast_path_ok(runner: _Runner) -> bool:
    """Whether base model + head (+ softcap) reproduce the model's own last-position logits."""
    import torch

    model = runner.model
    if model in _FAST_OK:
        return _FAST_OK[model]
    ok = False
    if runner.base is not None and runner.head is not None and hasattr(runner.head, "weight"):
        probe = encode(runner.loaded, "Is this a probe? Yes")[:16] or [runner.pad_id]
        ids = torch.tensor([probe], device=runner.device)
        try:
            with torch.inference_mode():
                ref = model(input_ids=ids).logits[0, -1].float()
                hidden = runner.base(input_ids=ids).last_hidden_state[0, -1:]
                logits = runner.head(hidden)
                if runner.softcap:
                    logits = torch.tanh(logits / runner.softcap) * runner.softcap
            ok = bool(torch.allclose(logits[0].float(), ref, atol=1e-3, rtol=1e-3))
        except (TypeError, AttributeError, RuntimeError, ValueError):
            ok = False
    _FAST_OK[model] = ok
    return ok


def _select_cache(cache: Any, index: torch.Tensor, reuse: bool) -> Any:
    """The cache rows ``index`` (repeats allowed); a shallow copy unless ``reuse``."""
    if not reuse:
        if hasattr(cache, "layers"):
            new = copy.copy(cache)
            new.layers = [copy.copy(layer) for layer in cache.layers]
            cache = new
        else:  # pragma: no cover - old cache classes
            cache = copy.deepcopy(cache)
    cache.batch_select_indices(index)
    return cache


def _left_pad(
    seqs: Sequence[Sequence[int]], pad_id: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Left-padded ids, attention mask and position ids (0 at each sequence's first token)."""
    import torch

    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, seq in enumerate(seqs):
        if seq:
            ids[i, width - len(seq) :] = torch.tensor(seq, dtype=torch.long)
            mask[i, width - len(seq) :] = 1
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    return ids.to(device), mask.to(device), pos.to(device)


def _run_batch(runner: _Runner, batch: list[_Group], out: np.ndarray, max_tokens: int) -> None:
    """Prefix pass over the batch's groups, then row passes on copies of the prefix cache."""
    import torch

    prefixes = [g.prefix for g in batch]
    width = max(len(p) for p in prefixes)
    ids, mask, pos = _left_pad(prefixes, runner.pad_id, runner.device)
    where = [
        (b, width - len(g.prefix) + p, t, s) for b, g in enumerate(batch) for p, t, s in g.reads
    ]
    rows = [_Row(b, r.ids, r.reads) for b, g in enumerate(batch) for r in g.rows]
    first_col = min((c for _, c, _, _ in where), default=width - 1)
    states, offset, cache = runner.forward(
        ids, mask, pos, use_cache=bool(rows), first_col=first_col
    )
    runner.read(states, [(b, c - offset, t, s) for b, c, t, s in where], out)
    del states
    if not rows:
        return
    lengths = torch.tensor([len(p) for p in prefixes], device=runner.device)
    chunks = _chunk_rows(rows, width, max_tokens)
    for n, chunk in enumerate(chunks):
        groups = torch.tensor([r.group for r in chunk], device=runner.device)
        row_width = max(len(r.ids) for r in chunk)
        row_ids = torch.full((len(chunk), row_width), runner.pad_id, dtype=torch.long)
        row_mask = torch.zeros((len(chunk), row_width), dtype=torch.long)
        for i, row in enumerate(chunk):
            row_ids[i, : len(row.ids)] = torch.tensor(row.ids, dtype=torch.long)
            row_mask[i, : len(row.ids)] = 1
        row_ids, row_mask = row_ids.to(runner.device), row_mask.to(runner.device)
        full_mask = torch.cat([mask[groups], row_mask], dim=1)
        row_pos = lengths[groups, None] + torch.arange(row_width, device=runner.device)[None]
        row_cache = _select_cache(cache, groups, reuse=n == len(chunks) - 1)
        first = min((p for r in chunk for p, _, _ in r.reads), default=row_width - 1)
        states, offset, _ = runner.forward(
            row_ids, full_mask, row_pos, cache=row_cache, use_cache=True, first_col=first
        )
        reads = [(i, p - offset, t, s) for i, r in enumerate(chunk) for p, t, s in r.reads]
        runner.read(states, reads, out)
        del states, row_cache


def _run(
    loaded: LoadedModel,
    items: Sequence[_Item],
    n_slots: int,
    *,
    max_batch_tokens: int,
    max_batch_size: int,
    share_prefix: bool,
    min_shared_prefix: int,
    progress: bool,
    desc: str,
    keys: Sequence[Hashable | None] | None = None,
) -> np.ndarray:
    """Execute the reads of all items; return the slot sums (float64). ``keys``: an
    optional family key per item (see :func:`_cluster`)."""
    import torch

    if max_batch_tokens < 1 or max_batch_size < 1:
        raise ScoringError("max_batch_tokens and max_batch_size must be positive")
    out = np.zeros(n_slots, dtype=np.float64)
    if not items:
        return out
    clusters = (
        _cluster(items, max(1, min_shared_prefix), keys)
        if share_prefix
        else [[i] for i in range(len(items))]
    )
    groups = [_make_group(items, members) for members in clusters]
    batches = _plan_batches(groups, max_batch_tokens, max_batch_size)
    was_training = loaded.model.training
    loaded.model.eval()
    try:
        runner = _Runner(loaded)
        with (
            torch.inference_mode(),
            tqdm(total=len(items), unit="item", desc=desc, disable=not progress) as bar,
        ):
            for batch in batches:
                _run_batch(runner, batch, out, max_batch_tokens)
                bar.update(sum(g.n_items for g in batch))
    finally:
        loaded.model.train(was_training)
    return out


# --------------------------------------------------------------------------- options


def _option_ids(
    loaded: LoadedModel, contexts: list[str], conts: list[tuple[str, ...]]
) -> tuple[list[list[int]], list[list[list[int]]], list[bool]]:
    """Prompt ids, per-option ids and drift flags (see the module docstring)."""
    tok = loaded.tokenizer
    ctx_bodies = tok(contexts, add_special_tokens=False)["input_ids"] if contexts else []
    flat = [c + o for c, opts in zip(contexts, conts, strict=True) for o in opts]
    full_bodies = tok(flat, add_special_tokens=False)["input_ids"] if flat else []
    alone_cache: dict[str, list[int]] = {}
    prompt_ids: list[list[int]] = []
    option_ids: list[list[list[int]]] = []
    drift: list[bool] = []
    k = 0
    for body, opts in zip(ctx_bodies, conts, strict=True):
        body = list(body)
        prompt_ids.append(_with_prefix(loaded.special_prefix, body))
        ids_k: list[list[int]] = []
        drifted = False
        for opt in opts:
            full = list(full_bodies[k])
            k += 1
            tail = full[len(body) :]
            if full[: len(body)] != body or not tail:
                drifted = True
                if opt not in alone_cache:
                    alone_cache[opt] = list(tok(opt, add_special_tokens=False)["input_ids"])
                tail = alone_cache[opt]
            if not tail:
                raise ScoringError(f"option {opt!r} encodes to no tokens")
            ids_k.append(tail)
        option_ids.append(ids_k)
        drift.append(drifted)
    return prompt_ids, option_ids, drift


def _prepare_options(
    loaded: LoadedModel, prompts: Sequence[str], options: Sequence[str], option_form: OptionForm
) -> tuple[list[tuple[str, ...]], list[list[int]], list[list[list[int]]], list[bool]]:
    if isinstance(prompts, str):
        raise ScoringError("prompts must be a list of strings, not one string")
    pairs = [option_continuations(p, options, option_form) for p in prompts]
    contexts = [c for c, _ in pairs]
    conts = [o for _, o in pairs]
    prompt_ids, option_ids, drift = _option_ids(loaded, contexts, conts)
    if any(drift):
        warnings.warn(
            f"{sum(drift)} prompt(s): prompt tokens are not a prefix of prompt+option tokens; "
            "those options were encoded on their own (boundary_drift=True)",
            stacklevel=3,
        )
    return conts, prompt_ids, option_ids, drift


def _option_items(
    prompt_ids: list[list[int]], option_ids: list[list[list[int]]], n_opt: int
) -> list[_Item]:
    """One :class:`_Item` per prompt: option ``k`` of prompt ``i`` sums into slot ``i*n_opt+k``.

    The first token of every option is read at the prompt's last position; an option's
    later tokens are read along a branch holding its earlier tokens.
    """
    items: list[_Item] = []
    for i, (ids, opts) in enumerate(zip(prompt_ids, option_ids, strict=True)):
        if not ids:
            raise ScoringError(f"prompt {i} encodes to no tokens and the tokenizer adds no BOS")
        last = len(ids) - 1
        reads = [(last, opt[0], i * n_opt + k) for k, opt in enumerate(opts)]
        branches = [
            (opt[:-1], [(j, opt[j + 1], i * n_opt + k) for j in range(len(opt) - 1)])
            for k, opt in enumerate(opts)
            if len(opt) > 1
        ]
        items.append(_Item(ids, reads, branches))
    return items


def score_options(
    loaded: LoadedModel,
    prompts: Sequence[str],
    options: Sequence[str] = DEFAULT_OPTIONS,
    *,
    option_form: OptionForm = "auto",
    max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS,
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
    share_prefix: bool = True,
    min_shared_prefix: int = DEFAULT_MIN_SHARED_PREFIX,
    prefix_groups: Sequence[Hashable | None] | None = None,
    progress: bool = True,
) -> list[OptionScores]:
    """Score answer options after each prompt (final text: see :func:`format_prompt`).

    Args:
        loaded: the model.
        prompts: final prompt texts.
        options: answer options; the first is "yes" for ``p_yes``.
        option_form: how options attach to prompts (module docstring).
        max_batch_tokens: padded tokens per forward pass (batch rows × longest row).
        max_batch_size: sequences per forward pass.
        share_prefix: encode once the token prefix that several prompts share (≥
            ``min_shared_prefix`` tokens and ≥ half of each prompt), e.g. one story with
            several questions. Results are the same either way (up to float rounding).
        prefix_groups: a key per prompt (an item's ``family_id``, or None): prompts with one
            key share a pass over their common token prefix (≥ ``min_shared_prefix`` tokens,
            even under half a prompt); scores do not change (module docstring).
        progress: show a tqdm bar (items/s).

    Returns:
        One :class:`OptionScores` per prompt, in input order.
    """
    if prefix_groups is not None and len(prefix_groups) != len(prompts):
        raise ScoringError(f"{len(prefix_groups)} prefix_groups for {len(prompts)} prompts")
    conts, prompt_ids, option_ids, drift = _prepare_options(loaded, prompts, options, option_form)
    n_opt = len(options)
    items = _option_items(prompt_ids, option_ids, n_opt)
    sums = _run(
        loaded,
        items,
        len(items) * n_opt,
        max_batch_tokens=max_batch_tokens,
        max_batch_size=max_batch_size,
        share_prefix=share_prefix,
        min_shared_prefix=min_shared_prefix,
        progress=progress,
        desc="scoring",
        keys=prefix_groups,
    )
    return [
        OptionScores(
            options=tuple(options),
            continuations=conts[i],
            logprobs=tuple(float(x) for x in sums[i * n_opt : (i + 1) * n_opt]),
            n_tokens=tuple(len(o) for o in option_ids[i]),
            boundary_drift=drift[i],
        )
        for i in range(len(items))
    ]


def naive_option_logprobs(
    loaded: LoadedModel,
    prompts: Sequence[str],
    options: Sequence[str] = DEFAULT_OPTIONS,
    *,
    option_form: OptionForm = "auto",
    progress: bool = False,
) -> list[list[float]]:
    """Reference scorer: for each prompt and option, one full forward of prompt+option
    through the whole model, log-softmax at every position, sum over the option's tokens.

    Uses the same tokenization as :func:`score_options`, so the two differ only in how the
    forward passes are organised.
    """
    import torch

    _, prompt_ids, option_ids, _ = _prepare_options(loaded, prompts, options, option_form)
    model = loaded.model
    result: list[list[float]] = []
    with torch.inference_mode():
        for ids, opts in tqdm(
            list(zip(prompt_ids, option_ids, strict=True)),
            unit="item",
            desc="naive",
            disable=not progress,
        ):
            row: list[float] = []
            for opt in opts:
                full = torch.tensor([ids + opt], device=loaded.device)
                logp = torch.log_softmax(model(input_ids=full).logits[0].float(), dim=-1)
                start = len(ids) - 1
                total = sum(float(logp[start + j, tok]) for j, tok in enumerate(opt))
                row.append(total)
            result.append(row)
    return result


# --------------------------------------------------------------------------- token level


def token_logprobs(
    loaded: LoadedModel,
    sequences: Sequence[Sequence[int]],
    positions: Sequence[Iterable[int]] | None = None,
    *,
    max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS,
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
    share_prefix: bool = True,
    min_shared_prefix: int = DEFAULT_MIN_SHARED_PREFIX,
    progress: bool = True,
) -> list[np.ndarray]:
    """Teacher-forced log-probs of the actual tokens at chosen positions.

    For sequence ``s`` and position ``t`` (``1 ≤ t < len(s)``) the value is
    ``log p(s[t] | s[:t])`` in nats. The sequences are used as given (add BOS yourself, or
    build them with :func:`encode`). The vocabulary projection runs only at the requested
    positions, so asking for a few positions of a long sequence is cheap.

    Args:
        sequences: token-id sequences.
        positions: for each sequence, the positions to score, in the order wanted (repeats
            allowed); ``None`` → every position ``1..len(s)-1``.

    Returns:
        For each sequence, a float64 array aligned with its ``positions``.
    """
    if positions is not None and len(positions) != len(sequences):
        raise ScoringError(f"{len(positions)} position lists for {len(sequences)} sequences")
    items: list[_Item] = []
    slices: list[tuple[int, int]] = []
    slot = 0
    for i, seq in enumerate(sequences):
        seq = [int(x) for x in seq]
        wanted = list(range(1, len(seq))) if positions is None else [int(p) for p in positions[i]]
        bad = [p for p in wanted if not 1 <= p < len(seq)]
        if bad:
            raise ScoringError(
                f"sequence {i} (length {len(seq)}): positions {bad[:5]} are outside "
                f"1..{len(seq) - 1} (position 0 has no context; prepend BOS to score the first "
                "token)"
            )
        reads = [(p - 1, seq[p], slot + j) for j, p in enumerate(wanted)]
        slices.append((slot, slot + len(wanted)))
        slot += len(wanted)
        items.append(_Item(seq, reads))
    sums = _run(
        loaded,
        [it for it in items if it.reads],
        slot,
        max_batch_tokens=max_batch_tokens,
        max_batch_size=max_batch_size,
        share_prefix=share_prefix,
        min_shared_prefix=min_shared_prefix,
        progress=progress,
        desc="token log-probs",
    )
    return [sums[a:b].copy() for a, b in slices]


def _token_chars(text: str, start: int, end: int) -> tuple[int, int]:
    """A token's character range without its leading/trailing whitespace."""
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return start, start
    lead = len(piece) - len(piece.lstrip())
    return start + lead, start + lead + len(stripped)


def span_token_positions(
    loaded: LoadedModel, text: str, spans: Sequence[tuple[int, int]]
) -> tuple[list[int], list[list[int]]]:
    """Token ids of ``text`` (as :func:`encode` gives them) and, per character span
    ``[start, end)``, the positions of the tokens that make it up.

    A token belongs to a span when its characters, less surrounding whitespace, lie inside
    the span. A token that straddles a span edge raises :class:`SpanAlignmentError`.
    """
    enc = loaded.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    body = list(enc["input_ids"])
    offsets = [tuple(o) for o in enc["offset_mapping"]]
    ids = _with_prefix(loaded.special_prefix, body)
    shift = len(ids) - len(body)
    chars = [_token_chars(text, a, b) for a, b in offsets]
    result: list[list[int]] = []
    for start, end in spans:
        if not 0 <= start < end <= len(text):
            raise SpanAlignmentError(f"span ({start}, {end}) is empty or outside the text")
        members: list[int] = []
        for j, (a, b) in enumerate(chars):
            if a == b or b <= start or a >= end:
                continue
            if a < start or b > end:
                piece = text[offsets[j][0] : offsets[j][1]]
                raise SpanAlignmentError(
                    f"token {piece!r} at chars {offsets[j]} straddles the span ({start}, {end}) "
                    f"{text[start:end]!r}"
                )
            members.append(j + shift)
        if not members:
            raise SpanAlignmentError(f"span ({start}, {end}) {text[start:end]!r} holds no token")
        if members[0] == 0:
            raise SpanAlignmentError(
                f"span ({start}, {end}) starts the sequence; its first token has no context"
            )
        result.append(members)
    return ids, result


def span_logprobs(
    loaded: LoadedModel,
    texts: Sequence[str],
    spans: Sequence[Sequence[tuple[int, int]]],
    **kwargs: Any,
) -> list[np.ndarray]:
    """Summed teacher-forced log-prob (nats) of the tokens inside each character span.

    ``spans[i]`` lists ``(start, end)`` character ranges of ``texts[i]``; the result for
    text ``i`` is an array with one entry per span: ``Σ log p(token | everything before
    it)`` over the span's tokens (see :func:`span_token_positions`). Keyword arguments go
    to :func:`token_logprobs`.
    """
    if len(spans) != len(texts):
        raise ScoringError(f"{len(spans)} span lists for {len(texts)} texts")
    sequences: list[list[int]] = []
    positions: list[list[int]] = []
    layouts: list[list[int]] = []
    for text, text_spans in zip(texts, spans, strict=True):
        ids, members = span_token_positions(loaded, text, text_spans)
        sequences.append(ids)
        positions.append([p for m in members for p in m])
        layouts.append([len(m) for m in members])
    per_token = token_logprobs(loaded, sequences, positions, **kwargs)
    result: list[np.ndarray] = []
    for values, layout in zip(per_token, layouts, strict=True):
        bounds = np.cumsum([0, *layout])
        result.append(np.array([values[a:b].sum() for a, b in itertools.pairwise(bounds)]))
    return result
