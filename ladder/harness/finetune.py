"""Fine-tune a causal LM to answer ladder items with labels we choose (positive controls).

The model is trained on exactly what the harness scores: the prompt text comes from
:meth:`ladder.harness.predictors.HFPredictor.scored_text` (the chat template or the bare
prompt plus ``"Answer:"``), the options are attached by
:func:`ladder.harness.models.scoring.option_continuations` and tokenized as
:func:`~ladder.harness.models.scoring.score_options` tokenizes them. The loss is the
cross-entropy of the *renormalized* option distribution::

    lp_k = Σ_t log p(option_k token t | prompt, earlier option tokens)
    loss = -log softmax(lp_yes, lp_no)[label]  =  -log p_yes  (or -log(1 - p_yes))

which is exactly the ``p_yes`` the scorer reports, so a falling loss is a rising score. (A
token-level loss on the chosen option alone would also push probability away from every
other token of the vocabulary, which ``p_yes`` ignores; it is not used.)

Labels: ``truth`` trains on ``answer``; ``association`` on ``association_answer`` (items
where it is null — no rung-1 counterpart — are skipped and counted).

LoRA (peft, ``all-linear`` targets, merged into the weights at the end) or full fine-tuning;
AdamW from torch, linear warm-up and decay from transformers, gradient clipping at 1. The
order of examples is a function of the seed and the epoch, so a checkpoint needs only the
step, the trainable weights and the optimizer and scheduler states to continue exactly where
it stopped. Checkpoints (``OUT/checkpoint/``) are written every ``checkpoint_every`` steps
and at the end, atomically; rerunning the same command continues from the last one. The
result is a plain Hugging Face folder (weights, config, tokenizer with its chat template)
plus ``ladder_provenance.json`` (:mod:`ladder.harness.provenance`).
"""

from __future__ import annotations

import math
import random
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from ladder.core.environment import VERSION, command_line, git_commit
from ladder.core.errors import ItemFileError, RunError, UsageError
from ladder.core.io import atomic_writer, file_sha256, read_json, write_json
from ladder.generation.items import read_items
from ladder.harness.models.scoring import DEFAULT_OPTIONS, encode, option_continuations
from ladder.harness.predictors import HFPredictor
from ladder.harness.provenance import (
    PROVENANCE_FILE,
    item_summary,
    read_provenance,
    write_provenance,
)

if TYPE_CHECKING:
    import torch

    from ladder.harness.models.loading import LoadedModel

__all__ = [
    "LABELS",
    "Example",
    "TrainSettings",
    "build_examples",
    "finetune",
    "label_index",
    "option_logprobs",
    "option_token_ids",
]

LABELS = ("truth", "association")
CHECKPOINT = "checkpoint"
_STATE, _TENSORS = "identity.json", "trainer.pt"
DEFAULT_LR = {True: 5e-4, False: 2e-5}  # LoRA, full
#: settings that change how the work is cut up, not what is learned (beyond float rounding)
_NOT_IDENTITY = ("checkpoint_every", "max_batch_tokens")


@dataclass(frozen=True)
class TrainSettings:
    """What decides a training run (all recorded; a resume must repeat them).

    ``lr`` ``None`` means 5e-4 with LoRA, 2e-5 for full fine-tuning. ``max_steps`` caps the
    steps that ``epochs`` would give. ``max_batch_tokens`` bounds the padded tokens of one
    forward pass (a larger batch runs in parts whose gradients add up; memory follows it).
    Neither it nor ``checkpoint_every`` is part of the identity (they change no result beyond
    float rounding).
    """

    labels: str = "truth"
    epochs: int = 1
    lr: float | None = None
    lora: bool = True
    lora_rank: int = 16
    batch_size: int = 8
    seed: int = 0
    max_steps: int | None = None
    checkpoint_every: int = 50
    max_batch_tokens: int = 1024

    def resolved(self) -> TrainSettings:
        """The settings with the default learning rate filled in.

        >>> TrainSettings(lora=False).resolved().lr
        2e-05
        """
        return self if self.lr is not None else replace(self, lr=DEFAULT_LR[self.lora])

    def identity(self) -> dict[str, Any]:
        """The settings that decide the trained weights."""
        data = asdict(self.resolved())
        return {k: v for k, v in data.items() if k not in _NOT_IDENTITY}


@dataclass(frozen=True)
class Example:
    """One training example: prompt token ids, each option's token ids, the label's index."""

    prompt_ids: tuple[int, ...]
    option_ids: tuple[tuple[int, ...], ...]
    label: int


def label_index(item: dict[str, Any], labels: str) -> int | None:
    """Index of the option to train toward (0 = yes, 1 = no), ``None`` when there is none.

    >>> label_index({"answer": "no", "association_answer": "yes"}, "association")
    0
    >>> label_index({"answer": "no", "association_answer": None}, "association") is None
    True
    """
    if labels not in LABELS:
        raise UsageError(f"--labels {labels!r}: allowed are {', '.join(LABELS)}")
    value = item["answer"] if labels == "truth" else item.get("association_answer")
    if value is None:
        return None
    return 0 if value == "yes" else 1


def option_token_ids(
    loaded: LoadedModel, prompt: str, options: Sequence[str] = DEFAULT_OPTIONS
) -> tuple[list[int], list[list[int]]]:
    """Prompt ids and each option's ids, as :func:`score_options` encodes them: the option
    is the tail of ``encode(context + continuation)`` after the context's ids, or encoded
    on its own when the tokenizer merges across the boundary."""
    context, continuations = option_continuations(prompt, options, "auto")
    prompt_ids = encode(loaded, context)
    option_ids = []
    for cont in continuations:
        full = encode(loaded, context + cont)
        tail = full[len(prompt_ids) :]
        if full[: len(prompt_ids)] != prompt_ids or not tail:
            tail = list(loaded.tokenizer(cont, add_special_tokens=False)["input_ids"])
        option_ids.append(tail)
    return prompt_ids, option_ids


def build_examples(
    predictor: HFPredictor, items: Sequence[dict[str, Any]], labels: str
) -> tuple[list[Example], int]:
    """Training examples of the items with a label, and how many items had none."""
    examples: list[Example] = []
    skipped = 0
    for item in items:
        label = label_index(item, labels)
        if label is None:
            skipped += 1
            continue
        prompt_ids, option_ids = option_token_ids(predictor.loaded, predictor.scored_text(item))
        examples.append(Example(tuple(prompt_ids), tuple(map(tuple, option_ids)), label))
    return examples, skipped


def option_logprobs(
    model: Any, examples: Sequence[Example], pad_id: int, device: Any
) -> tuple[torch.Tensor, int]:
    """``[len(examples), n_options]`` summed option log-probs (with gradients), and the
    number of tokens run through the model.

    One row per distinct ``prompt + option[:-1]`` (single-token options share one row),
    left-padded with explicit position ids; only the last ``K`` positions (``K`` = longest
    option) are projected to the vocabulary.
    """
    import torch

    rows: dict[tuple[int, ...], int] = {}
    reads: list[tuple[int, int, int, int]] = []  # (row, position from the end, target, slot)
    width = max(len(o) for e in examples for o in e.option_ids)
    n_opt = len(examples[0].option_ids)
    for b, ex in enumerate(examples):
        for k, opt in enumerate(ex.option_ids):
            row = rows.setdefault(ex.prompt_ids + opt[:-1], len(rows))
            reads += [(row, width - len(opt) + j, t, b * n_opt + k) for j, t in enumerate(opt)]
    seqs = list(rows)
    longest = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), longest), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), longest), dtype=torch.long)
    for i, seq in enumerate(seqs):
        ids[i, longest - len(seq) :] = torch.tensor(seq)
        mask[i, longest - len(seq) :] = 1
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    out = model(
        input_ids=ids.to(device),
        attention_mask=mask.to(device),
        position_ids=pos.to(device),
        logits_to_keep=width,
    )
    logp = torch.log_softmax(out.logits[:, -width:].float(), dim=-1)
    r, c, t, s = (torch.tensor(col, device=logp.device) for col in zip(*reads, strict=True))
    sums = torch.zeros(len(examples) * n_opt, device=logp.device).index_add(0, s, logp[r, c, t])
    return sums.view(len(examples), n_opt), int(mask.sum())


class _Trainer:
    """The model being trained, its optimizer and schedule, and the deterministic order."""

    def __init__(self, loaded: LoadedModel, examples: list[Example], settings: TrainSettings):
        import torch
        from transformers import get_linear_schedule_with_warmup

        self.loaded, self.examples, self.settings = loaded, examples, settings
        self.per_epoch = math.ceil(len(examples) / settings.batch_size)
        total = settings.epochs * self.per_epoch
        self.total = min(total, settings.max_steps) if settings.max_steps else total
        torch.manual_seed(settings.seed)  # LoRA's initial A matrices
        self.peft, self.net = _trainable(loaded.model, settings)
        self.params = [p for p in self.net.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(self.params, lr=settings.lr, weight_decay=0.0)
        warmup = min(10, self.total // 10)
        self.scheduler = get_linear_schedule_with_warmup(self.optimizer, warmup, self.total)
        tok = loaded.tokenizer
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        self.pad_id = int(pad or 0)
        self.step, self.losses, self.tokens, self.seconds = 0, [], 0, 0.0
        self._orders: dict[int, list[int]] = {}

    def batch(self, step: int) -> list[Example]:
        """The examples of ``step``: epoch ``e`` visits them in an order seeded by (seed, e)."""
        epoch, within = divmod(step, self.per_epoch)
        if epoch not in self._orders:
            order = list(range(len(self.examples)))
            random.Random(f"{self.settings.seed}:{epoch}").shuffle(order)
            self._orders = {epoch: order}
        size = self.settings.batch_size
        return [self.examples[i] for i in self._orders[epoch][within * size : (within + 1) * size]]

    def train_step(self) -> float:
        """One optimizer step on the next batch; returns its loss (the batch mean).

        The batch runs in micro-batches of at most ``max_batch_tokens`` padded tokens whose
        gradients add up to the whole batch's: memory follows the budget, not the batch.
        """
        import torch

        began = time.monotonic()
        self.net.train()
        batch = self.batch(self.step)
        total = 0.0
        for part in _micro_batches(batch, self.settings.max_batch_tokens):
            lp, n_tokens = option_logprobs(self.net, part, self.pad_id, self.loaded.device)
            labels = torch.tensor([e.label for e in part], device=lp.device)
            loss = torch.nn.functional.cross_entropy(lp, labels, reduction="sum") / len(batch)
            loss.backward()
            total += loss.item()
            self.tokens += n_tokens
        torch.nn.utils.clip_grad_norm_(self.params, 1.0)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        self.losses.append(total)
        self.seconds += time.monotonic() - began
        return total

    def state(self) -> dict[str, Any]:
        """Everything a resume needs (plain tensors and numbers: loads with weights_only)."""
        trainable = {
            n: p.detach().clone() for n, p in self.net.named_parameters() if p.requires_grad
        }
        return {
            "step": self.step,
            "trainable": trainable,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "losses": self.losses,
            "tokens": self.tokens,
            "seconds": self.seconds,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from a :meth:`state`."""
        import torch

        named = dict(self.net.named_parameters())
        with torch.no_grad():
            for name, value in state["trainable"].items():
                named[name].copy_(value)
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step, self.losses = int(state["step"]), list(state["losses"])
        self.tokens, self.seconds = int(state["tokens"]), float(state["seconds"])

    def merged(self) -> Any:
        """The trained model as a plain transformers model (LoRA merged into the weights)."""
        model = self.peft.merge_and_unload() if self.peft is not None else self.net
        model.eval()
        return model


def _micro_batches(batch: list[Example], max_tokens: int) -> list[list[Example]]:
    """Consecutive parts of ``batch`` whose padded size (rows × longest row) stays within
    ``max_tokens`` (a part holds one example at least).

    >>> ex = [Example((1,) * n, ((2,), (3,)), 0) for n in (3, 5, 2)]
    >>> [len(part) for part in _micro_batches(ex, 10)]
    [2, 1]
    """
    parts: list[list[Example]] = []
    current: list[Example] = []
    longest = 0
    for ex in batch:
        width = len(ex.prompt_ids) + max(len(o) for o in ex.option_ids) - 1
        if current and (len(current) + 1) * max(longest, width) > max_tokens:
            parts.append(current)
            current, longest = [], 0
        current.append(ex)
        longest = max(longest, width)
    if current:
        parts.append(current)
    return parts


def _trainable(model: Any, settings: TrainSettings) -> tuple[Any, Any]:
    """(peft wrapper or None, the module to call): LoRA adapters on every linear layer of
    the body (``all-linear`` leaves the output head out), or every weight trainable."""
    if not settings.lora:
        for param in model.parameters():
            param.requires_grad_(True)
        return None, model
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError:
        raise UsageError(
            "--lora needs the peft package: pip install peft (or use --full)"
        ) from None
    config = LoraConfig(
        r=settings.lora_rank,
        lora_alpha=2 * settings.lora_rank,
        lora_dropout=0.0,  # no randomness in a step: a resumed run repeats the same steps
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )
    wrapped = get_peft_model(model, config)
    return wrapped, wrapped.get_base_model()


# --------------------------------------------------------------------------- the output folder


def check_out(out: Path) -> str:
    """``"new"`` (absent or empty), ``"resume"`` (holds a checkpoint) or ``"done"`` (holds a
    finished model); any other folder or a file raises :class:`UsageError`."""
    if not out.exists():
        return "new"
    if not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    if (out / PROVENANCE_FILE).is_file():
        return "done"
    if (out / CHECKPOINT / _STATE).is_file():
        return "resume"
    if any(out.iterdir()):
        raise UsageError(
            f"--out {out}: the folder exists and holds neither a ladder checkpoint nor a "
            "finished model; give a new or empty folder"
        )
    return "new"


def _save_checkpoint(out: Path, trainer: _Trainer) -> None:
    """Write the trainer's state atomically (a kill mid-write keeps the previous one)."""
    import torch

    with atomic_writer(out / CHECKPOINT / _TENSORS, "wb") as fh:
        torch.save(trainer.state(), fh)


def _load_checkpoint(out: Path, identity: dict[str, Any], trainer: _Trainer) -> None:
    """Check that the checkpoint was made by the same training, then restore it."""
    import torch

    recorded = read_json(out / CHECKPOINT / _STATE, RunError)
    _check_identity(recorded, identity, out / CHECKPOINT)
    path = out / CHECKPOINT / _TENSORS
    if path.is_file():
        trainer.restore(torch.load(path, weights_only=True, map_location=trainer.loaded.device))


def _check_identity(recorded: dict[str, Any], identity: dict[str, Any], where: Path) -> None:
    """Refuse to continue or reuse training made with other items, model or settings."""
    differ = [key for key in identity if recorded.get(key) != identity[key]]
    if differ:
        raise RunError(
            f"{where}: made by a different training ({', '.join(differ)} differ); rerun with "
            "the same --model, --items and options, or give another --out"
        )


# --------------------------------------------------------------------------- the command


def _identity(predictor: HFPredictor, items_path: Path, settings: TrainSettings) -> dict[str, Any]:
    return {
        "base_fingerprint": predictor.fingerprint,
        "items_sha256": file_sha256(items_path),
        "chat_template": predictor.use_chat_template,
        "settings": settings.identity(),
    }


def _train_loop(out: Path, trainer: _Trainer, progress: bool) -> None:
    """Steps until done, checkpointing every ``checkpoint_every`` steps and at the end."""
    bar = tqdm(
        total=trainer.total,
        initial=trainer.step,
        unit="step",
        desc="finetune",
        disable=not progress,
        file=sys.stderr,
        dynamic_ncols=True,
    )
    with bar:
        while trainer.step < trainer.total:
            loss = trainer.train_step()
            rate = trainer.tokens / max(trainer.seconds, 1e-9)
            bar.set_postfix(loss=f"{loss:.3f}", tok_s=f"{rate:.0f}", refresh=False)
            bar.update(1)
            if trainer.step % trainer.settings.checkpoint_every == 0:
                _save_checkpoint(out, trainer)
    _save_checkpoint(out, trainer)


def _record(
    predictor: HFPredictor,
    items_path: Path,
    items: Sequence[dict[str, Any]],
    trainer: _Trainer,
    skipped: int,
) -> dict[str, Any]:
    """The provenance record of a finished training."""
    loaded, losses = predictor.loaded, trainer.losses
    tail = max(1, min(10, len(losses) // 5))
    base = {
        "name": loaded.name,
        "fingerprint": loaded.fingerprint,
        "source": loaded.source,
        "dtype": loaded.dtype,
        **{k: getattr(loaded, k) for k in ("path", "package", "weights_sha256", "revision")},
        "provenance": read_provenance(loaded.path) if loaded.source == "local" else None,
    }
    return {
        "kind": "ladder finetune",
        "ladder": VERSION,
        "git_commit": git_commit(),
        "command": command_line(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "base_model": base,
        "training_items": {
            **item_summary(items_path, items),
            "n_trained": len(trainer.examples),
            "n_skipped": skipped,
        },
        "labels": trainer.settings.labels,
        "chat_template": predictor.use_chat_template,
        "options": list(DEFAULT_OPTIONS),
        "settings": asdict(trainer.settings),
        "steps": trainer.step,
        "loss": {"first": _mean(losses[:tail]), "final": _mean(losses[-tail:]), "window": tail},
        "loss_history": [round(x, 5) for x in losses],
        "train_seconds": round(trainer.seconds, 3),
        "train_tokens_per_second": round(trainer.tokens / max(trainer.seconds, 1e-9), 1),
    }


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _finished(out: Path, identity: dict[str, Any]) -> dict[str, Any]:
    """The record of a folder that already holds this training's model."""
    record = read_provenance(out) or {}
    recorded = {
        "base_fingerprint": (record.get("base_model") or {}).get("fingerprint"),
        "items_sha256": (record.get("training_items") or {}).get("sha256"),
        "chat_template": record.get("chat_template"),
        "settings": {
            k: v for k, v in (record.get("settings") or {}).items() if k not in _NOT_IDENTITY
        },
    }
    _check_identity(recorded, identity, out)
    return record


def finetune(
    model: str | None,
    items_path: str | Path,
    out: str | Path,
    settings: TrainSettings,
    *,
    device: str = "cpu",
    chat_template: bool | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train ``model`` on the items' labels and write the model folder ``out``; return its
    provenance record. Rerunning with the same arguments continues from the last checkpoint
    (or returns the record at once when ``out`` already holds the finished model).

    Raises:
        UsageError, ItemFileError, ModelLoadError, RunError: bad input, in one line.
    """
    items_path, out, settings = Path(items_path), Path(out), settings.resolved()
    label_index({"answer": "yes"}, settings.labels)  # an unknown --labels fails first
    items = read_items(items_path)
    if not items:
        raise ItemFileError(f"{items_path}: holds no items")
    state = check_out(out)
    predictor = HFPredictor(model, device=device, chat_template=chat_template)
    identity = _identity(predictor, items_path, settings)
    if state == "done":
        log(f"{out}: already holds this training's model")
        return _finished(out, identity)
    examples, skipped = build_examples(predictor, items, settings.labels)
    log(
        f"labels {settings.labels}: {len(examples)} items to train on, {skipped} skipped"
        + (" (association_answer null)" if settings.labels == "association" else "")
    )
    if not examples:
        raise UsageError(f"--items {items_path}: no item has a {settings.labels} label")
    trainer = _Trainer(predictor.loaded, examples, settings)
    if state == "resume":
        _load_checkpoint(out, identity, trainer)
        log(f"resuming from step {trainer.step} of {trainer.total}")
    else:
        (out / CHECKPOINT).mkdir(parents=True, exist_ok=True)
        write_json(out / CHECKPOINT / _STATE, identity)
    _train_loop(out, trainer, progress)
    record = _record(predictor, items_path, items, trainer, skipped)
    trainer.merged().save_pretrained(out, safe_serialization=True)
    predictor.loaded.tokenizer.save_pretrained(out)
    write_provenance(out, record)  # last: its presence marks the folder finished
    shutil.rmtree(out / CHECKPOINT, ignore_errors=True)
    return record
