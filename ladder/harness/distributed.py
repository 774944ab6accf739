"""Data-parallel runs: one run directory written by several processes (torchrun, accelerate).

Under ``torchrun --nproc_per_node N`` or ``accelerate launch`` every process gets the standard
variables ``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK`` (and ``MASTER_ADDR``/``MASTER_PORT``);
:func:`detect` reads them (``WORLD_SIZE`` unset or 1: ``None``, a plain single-process run).
The roles:

* **rank 0** (the main process) alone opens the run directory: it takes the ``.lock``,
  writes the header, and decides what is scored (items, limit, what is already done); it
  then :meth:`Group.share` s that plan with the other ranks. No other rank ever touches the
  lock or the header, so the lock cannot deadlock: it is held by one process, as before.
* **every rank** scores its own :func:`shard` of the items (a contiguous block of the item
  order, cut only between item families, so a family's questions stay in one process and
  keep their shared prefix) and appends its records to its own log, ``samples.rank<R>.jsonl``
  beside ``samples.jsonl`` (:func:`rank_log_path`); no two processes append to one file.
* at the end every rank waits at :meth:`Group.barrier`; rank 0 then folds the rank logs into
  the one log in item order (:func:`consolidate`), removes them and writes the metrics, so
  the finished directory is the one a single process would have written.

A killed run leaves its rank logs; the next ``--resume`` (with any number of processes,
one included) consolidates them first, so the shards are resumed where they stopped, and
the shards of the new session are cut from the items that are left out of the whole list,
not out of the old shards.

The process group is gloo whatever the device: the ranks exchange only a small plan and
barriers (never tensors), which gloo does over TCP on any machine; each rank's model sits on
its own device (``cuda:LOCAL_RANK``) independently of the group.

The helpers here are generic (records with an ``id``, any log name): ``ladder granger``
shards its series the same way.

>>> shard(list("abcdefg"), rank=1, world_size=3)
['c', 'd']
>>> rank_log_path(Path("run/samples.jsonl"), 2).name
'samples.rank2.jsonl'
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ladder.core.errors import LadderError, RunError
from ladder.harness.rundir import LogWriter, RunDir, read_log

__all__ = [
    "BARRIER_TIMEOUT",
    "DistributedError",
    "Group",
    "consolidate",
    "detect",
    "follower_plan",
    "local_device",
    "main_plan",
    "merge_records",
    "rank_log_path",
    "rank_logs",
    "shard",
    "shard_bounds",
]

T = TypeVar("T")

#: How long a rank may wait for the others (one shard may take hours longer than another);
#: a rank that dies is noticed sooner by the launcher, which stops the whole group.
BARRIER_TIMEOUT = _dt.timedelta(hours=24)
_RANK_LOG = re.compile(r"\.rank(\d+)$")


class DistributedError(RunError):
    """The distributed environment variables are unusable, or another rank failed."""


@dataclass
class Group:
    """This process's place in a data-parallel run (``rank`` of ``world_size``).

    Use it as a context manager: entering initialises the torch process group (gloo),
    leaving destroys it.
    """

    rank: int
    world_size: int
    local_rank: int
    shared: bool = field(default=False, repr=False)

    @property
    def is_main(self) -> bool:
        """Whether this is rank 0, the process that owns the run directory."""
        return self.rank == 0

    def __enter__(self) -> Group:
        import torch.distributed as td

        if not td.is_initialized():
            td.init_process_group("gloo", timeout=BARRIER_TIMEOUT)
        return self

    def __exit__(self, *exc: object) -> None:
        import torch.distributed as td

        if td.is_initialized():
            td.destroy_process_group()

    def share(self, obj: Any = None) -> Any:
        """Rank 0's ``obj``, on every rank (others pass nothing). A plan ``{"error": ...}``
        from rank 0 raises :class:`DistributedError` on the others."""
        import torch.distributed as td

        box = [obj if self.is_main else None]
        td.broadcast_object_list(box, src=0)
        self.shared = True
        got = box[0]
        if not self.is_main and isinstance(got, dict) and "error" in got:
            raise DistributedError(f"rank {self.rank}: rank 0 stopped: {got['error']}")
        return got

    def fail(self, exc: BaseException) -> None:
        """On rank 0, before a plan was shared: tell the other ranks to stop with ``exc``."""
        if self.is_main and not self.shared:
            text = str(exc).strip().splitlines()
            self.share({"error": text[0] if text else type(exc).__name__})

    def barrier(self) -> None:
        """Wait until every rank gets here."""
        import torch.distributed as td

        td.barrier()


def _int_var(environ: Mapping[str, str], name: str, default: str | None = None) -> int:
    text = environ.get(name, default)
    try:
        return int(str(text))
    except ValueError:
        raise DistributedError(
            f"environment variable {name}={text!r}: must be a whole number "
            "(set by torchrun or accelerate launch)"
        ) from None


def detect(environ: Mapping[str, str] | None = None) -> Group | None:
    """The data-parallel group this process belongs to, from ``WORLD_SIZE``/``RANK``/
    ``LOCAL_RANK``; ``None`` for a single process (``WORLD_SIZE`` unset or 1).

    >>> detect({}) is None, detect({"WORLD_SIZE": "1"}) is None
    (True, True)
    >>> detect({"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1"})
    Group(rank=1, world_size=2, local_rank=1)
    >>> detect({"WORLD_SIZE": "2", "RANK": "2"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ladder.harness.distributed.DistributedError: environment variable RANK=2: must be ...
    """
    environ = os.environ if environ is None else environ
    if not environ.get("WORLD_SIZE"):
        return None
    world = _int_var(environ, "WORLD_SIZE")
    if world < 1:
        raise DistributedError(f"environment variable WORLD_SIZE={world}: must be at least 1")
    if world == 1:
        return None
    if "RANK" not in environ:
        raise DistributedError(
            f"WORLD_SIZE={world} but RANK is not set; start the processes with torchrun or "
            "accelerate launch"
        )
    rank = _int_var(environ, "RANK")
    if not 0 <= rank < world:
        raise DistributedError(
            f"environment variable RANK={rank}: must be between 0 and WORLD_SIZE-1 ({world - 1})"
        )
    return Group(rank, world, _int_var(environ, "LOCAL_RANK", str(rank)))


def local_device(device: str, group: Group | None) -> str:
    """The device this rank loads its model on: plain ``cuda`` becomes ``cuda:LOCAL_RANK``
    in a group (one GPU per process); anything else is kept.

    >>> local_device("cuda", Group(1, 2, 1)), local_device("cuda", None)
    ('cuda:1', 'cuda')
    >>> local_device("cpu", Group(1, 2, 1))
    'cpu'
    """
    return f"cuda:{group.local_rank}" if group is not None and device == "cuda" else device


def shard_bounds(n: int, rank: int, world_size: int) -> tuple[int, int]:
    """``[start, end)`` of rank ``rank``'s contiguous block of ``n`` units; the blocks of
    ranks ``0..world_size-1`` cover ``0..n`` in order, sizes differing by at most one.

    >>> [shard_bounds(10, r, 3) for r in range(3)]
    [(0, 3), (3, 6), (6, 10)]
    """
    return rank * n // world_size, (rank + 1) * n // world_size


def shard(
    units: Sequence[T], rank: int, world_size: int, key: Callable[[T], Any] | None = None
) -> list[T]:
    """Rank ``rank``'s contiguous block of ``units`` (see :func:`shard_bounds`).

    With ``key`` (an item's ``family_id``), each cut between blocks moves forward to the
    next change of key, so a run of consecutive units with one key (an item family: its
    questions share a prompt prefix the scorer computes once) stays in one block.

    >>> fam = ["a", "a", "b", "b", "b", "c"]
    >>> [shard(fam, r, 2) for r in range(2)]
    [['a', 'a', 'b'], ['b', 'b', 'c']]
    >>> [shard(fam, r, 2, key=str) for r in range(2)]
    [['a', 'a', 'b', 'b', 'b'], ['c']]
    """

    def cut(k: int) -> int:
        at = shard_bounds(len(units), k, world_size)[0]
        if key is not None:
            while 0 < at < len(units) and key(units[at]) == key(units[at - 1]):
                at += 1
        return at

    return list(units[cut(rank) : cut(rank + 1)])


def rank_log_path(log_path: Path, rank: int) -> Path:
    """The log rank ``rank`` appends to: ``samples.jsonl`` → ``samples.rank<rank>.jsonl``."""
    return log_path.with_name(f"{log_path.stem}.rank{rank}{log_path.suffix}")


def rank_logs(log_path: Path) -> list[Path]:
    """The rank logs beside ``log_path`` that exist now, by rank."""
    found = []
    for p in log_path.parent.glob(f"{log_path.stem}.rank*{log_path.suffix}"):
        match = _RANK_LOG.search(p.name[: len(p.name) - len(log_path.suffix)])
        if match:
            found.append((int(match.group(1)), p))
    return [p for _, p in sorted(found)]


def merge_records(parts: Sequence[Sequence[dict[str, Any]]], order: Sequence[str]) -> list[dict]:
    """The records of ``parts`` in the order of the ids in ``order``; the first record of an
    id wins; records whose id is not in ``order`` follow, in the order met.

    >>> merge_records([[{"id": "c"}], [{"id": "a"}, {"id": "c", "x": 1}]], ["a", "b", "c"])
    [{'id': 'a'}, {'id': 'c'}]
    """
    position = {unit: k for k, unit in enumerate(order)}
    first: dict[Any, dict[str, Any]] = {}
    for part in parts:
        for record in part:
            first.setdefault(record["id"], record)
    ranked = sorted(first.values(), key=lambda r: position.get(r["id"], len(position)))
    return ranked


def consolidate(
    log_path: Path,
    order: Sequence[str],
    replace: Callable[[list[dict[str, Any]]], None],
    error: type[LadderError] = RunError,
    repair: bool = True,
) -> list[dict[str, Any]]:
    """Fold the rank logs into ``log_path`` in ``order``; return every record.

    The main log and each rank log are read (a torn last line is cut when ``repair``); when
    there are rank logs, or the main log is out of order, ``replace(records)`` rewrites the
    main log (atomically: :meth:`ladder.harness.rundir.RunDir.replace_log`) and the rank
    logs are removed. With ``repair=False`` nothing is written (a read-only view, for a run
    whose other ranks may still be writing).
    """
    main = read_log(log_path, error, repair) if log_path.exists() else []
    parts = rank_logs(log_path)
    records = merge_records([main, *(read_log(p, error, repair) for p in parts)], order)
    if repair and (parts or [r["id"] for r in records] != [r["id"] for r in main]):
        replace(records)
        for p in parts:
            p.unlink()
    return records


def main_plan(
    rd: RunDir, order: Sequence[str], group: Group | None, **extra: Any
) -> tuple[set[str], RunDir | LogWriter]:
    """Rank 0 (or a single process), after :meth:`RunDir.start`: fold leftover rank logs
    into the log, and return the ids already done and where this process appends (its rank
    log in a group, else the run's log). In a group the plan (``done``, ``log`` and
    ``extra``) goes to the other ranks (:func:`follower_plan`); each then takes
    :func:`shard` of the units in ``order`` less ``done``.
    """
    done = {r["id"] for r in consolidate(rd.log_path, order, rd.replace_log, rd.error)}
    if group is None:
        return done, rd
    group.share({"done": done, "log": str(rd.log_path), **extra})
    return done, LogWriter(rank_log_path(rd.log_path, group.rank), sync_seconds=rd.sync_seconds)


def follower_plan(group: Group) -> tuple[dict[str, Any], LogWriter]:
    """A rank other than 0: rank 0's plan (see :func:`main_plan`) and this rank's log writer.

    Raises :class:`DistributedError` when rank 0 stopped before sharing a plan.
    """
    plan = group.share()
    return plan, LogWriter(rank_log_path(Path(plan["log"]), group.rank))
