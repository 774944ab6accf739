"""One run-directory lifecycle, shared by ``ladder run`` and ``ladder granger``.

A run directory holds a *header* (``results.json`` or ``granger.json``: identity, settings,
status, metrics) and an append-only JSONL *log* (``samples.jsonl`` or ``series.jsonl``: one
record per unit of work). :class:`RunDir` owns the steps every run goes through:

1. **open** — :meth:`RunDir.create` (a new, empty directory) or :meth:`RunDir.resume` (an
   existing run: the old header is in :attr:`RunDir.previous`, the records already written
   are in :attr:`RunDir.done`, a torn last line is cut, repeated ids are dropped);
   either way an exclusive, non-blocking ``fcntl.flock`` on ``.lock`` inside the directory
   is held until :meth:`RunDir.close`, so a second process gets a one-line error;
2. **start** — :meth:`RunDir.start` writes the header with ``status: "running"``, the
   ``started`` time (kept from the first session on resume), the ladder version, the
   environment and the command line (the first session's command is never overwritten; a
   resume is appended to ``resumed``);
3. **append** — :meth:`RunDir.append` writes records, flushes them to the OS at once (a kill
   of the process loses nothing written) and fsyncs at least every ``sync_seconds``;
4. **finish** — :meth:`RunDir.finish` merges final keys (metrics...) into the header and
   sets ``status`` to ``complete`` or ``partial`` and the ``finished`` time.

Leaving the ``with`` block by an exception after ``start`` marks the header ``partial``;
leaving it by an exception before ``start`` removes a directory this object created, so
a failed start never leaves an empty run directory behind.

>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> with RunDir.create(root / "r", "results.json", "samples.jsonl") as rd:
...     _ = rd.start({"model": "m"}, command="ladder run --model m")
...     rd.append([{"id": "a", "x": 1}])
...     header = rd.finish({"metrics": {"n": 1}}, complete=True)
>>> header["status"], header["command"], read_log(root / "r" / "samples.jsonl")
('complete', 'ladder run --model m', [{'id': 'a', 'x': 1}])
>>> with RunDir.resume(root / "r", "results.json", "samples.jsonl") as rd:
...     [r["id"] for r in rd.done], rd.previous["metrics"]
(['a'], {'n': 1})
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import fcntl
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from ladder.core.environment import VERSION, command_line, environment, git_commit
from ladder.core.errors import LadderError, RunError
from ladder.core.io import atomic_writer, drop_duplicate_ids, read_json, read_jsonl, write_json

__all__ = [
    "LOCK_NAME",
    "SYNC_SECONDS",
    "LogWriter",
    "RunDir",
    "check_writable_dir",
    "command_line",
    "keep_recorded",
    "new_run_path",
    "read_log",
    "utc_now",
]

LOCK_NAME = ".lock"
SYNC_SECONDS = 2.0


def keep_recorded(
    option: str,
    recorded: Any,
    given: Any,
    where: str | Path,
    error: type[LadderError] = RunError,
) -> Any:
    """The value a resumed run recorded for ``option``; a different explicit ``given`` raises.

    A resumed run keeps the settings it was started with, so that resuming never changes
    what is measured (``None`` means the option was not given).

    >>> keep_recorded("--limit", 20, None, "r")
    20
    >>> keep_recorded("--limit", 20, 3, "r")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ladder.core.errors.RunError: r: the run was made with --limit 20; resume it without ...
    """
    if given is not None and given != recorded:
        was = f"{option} {recorded}" if recorded is not None else f"no {option}"
        raise error(
            f"{where}: the run was made with {was}; resume it without {option} "
            "(a resumed run keeps its recorded settings)"
        )
    return recorded


def utc_now() -> str:
    """The current UTC time in ISO 8601 (the format of ``started``/``finished``)."""
    return _dt.datetime.now(_dt.UTC).isoformat()


def new_run_path(root: str | Path, slug: str) -> Path:
    """An unused path ``root/slug/<UTC timestamp>`` (suffixed ``-2``, ``-3``... if taken).

    Nothing is created; pass the path to :meth:`RunDir.create`.
    """
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    base = Path(root) / slug / stamp
    path, k = base, 1
    while path.exists():
        k += 1
        path = base.with_name(f"{stamp}-{k}")
    return path


def read_log(
    path: str | Path, error: type[LadderError] = RunError, repair: bool = False
) -> list[dict[str, Any]]:
    """Records of a run's JSONL log: torn last line dropped (cut if ``repair``), repeated
    ids dropped with a :class:`ladder.core.io.DuplicateRecordWarning`."""
    return drop_duplicate_ids(read_jsonl(path, repair, error), path)


def check_writable_dir(path: str | Path, option: str, error: type[LadderError] = RunError) -> None:
    """Raise ``error`` (one line naming ``option``) unless ``path`` is, or can be made, a
    writable directory. Creates nothing: call it before loading a model or making a run.

    >>> check_writable_dir(__file__, "--out-dir")
    Traceback (most recent call last):
    ...
    ladder.core.errors.RunError: --out-dir ...: is a file, not a directory
    """
    path = Path(path)
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        where = "is a file" if probe == path else f"{probe} is a file"
        raise error(f"{option} {path}: {where}, not a directory")
    try:  # os.access says yes to root even on a read-only file system: really try
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as exc:
        raise error(f"{option} {path}: not writable ({exc.strerror or exc})") from None


class LogWriter:
    """Appends JSONL records to one file: each append is flushed to the OS at once (a
    killed process loses nothing written) and fsynced at least every ``sync_seconds``.

    :class:`RunDir` appends through one; a rank of a data-parallel run appends to its own
    rank log through another (:mod:`ladder.harness.distributed`).
    """

    def __init__(
        self, path: str | Path, *, allow_nan: bool = True, sync_seconds: float = SYNC_SECONDS
    ) -> None:
        self.path = Path(path)
        self.allow_nan = allow_nan
        self.sync_seconds = sync_seconds
        self._fh: IO[str] | None = self.path.open("a", encoding="utf-8")
        self._last_sync = time.monotonic()

    def append(self, records: Iterable[dict[str, Any]]) -> None:
        """Append records; flush now, fsync if ``sync_seconds`` have passed."""
        if self._fh is None:
            raise RuntimeError(f"{self.path}: append after close()")
        text = "".join(
            json.dumps(r, ensure_ascii=False, allow_nan=self.allow_nan) + "\n" for r in records
        )
        self._fh.write(text)
        self._fh.flush()  # in the OS now: a killed process loses nothing written
        if time.monotonic() - self._last_sync >= self.sync_seconds:
            self.sync()

    def sync(self) -> None:
        """Flush and fsync the file."""
        if self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())
        self._last_sync = time.monotonic()

    def close(self) -> None:
        """Sync and close (idempotent)."""
        if self._fh is not None:
            self.sync()
            self._fh.close()
            self._fh = None


class RunDir:
    """An open, locked run directory; use :meth:`create` or :meth:`resume`, then ``with``.

    Attributes:
        path: the directory.
        header_path, log_path: the header JSON file and the JSONL log inside it.
        previous: the header found on disk when resuming (``None`` for a new run).
        done: records already in the log when resuming (``[]`` for a new run).
        header: the header as last written (``{}`` before :meth:`start`).
    """

    def __init__(
        self,
        path: str | Path,
        header_name: str,
        log_name: str,
        *,
        error: type[LadderError] = RunError,
        allow_nan: bool = True,
        sync_seconds: float = SYNC_SECONDS,
    ) -> None:
        self.path = Path(path)
        self.header_path = self.path / header_name
        self.log_path = self.path / log_name
        self.error = error
        self.allow_nan = allow_nan
        self.sync_seconds = sync_seconds
        self.previous: dict[str, Any] | None = None
        self.done: list[dict[str, Any]] = []
        self.header: dict[str, Any] = {}
        self._created = False
        self._lock_fd: int | None = None
        self._log: LogWriter | None = None
        self._finished = False

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | Path,
        header_name: str,
        log_name: str,
        *,
        option: str = "--run-dir",
        host: bool = False,
        **kwargs: Any,
    ) -> RunDir:
        """Make (or take, if empty) the directory ``path`` for a new run, and lock it.

        With ``host``, a directory that already holds other files is taken as it is (the
        caller has checked it is one it may add its files to, e.g. a ``ladder run``
        directory receiving Granger probes); nothing there is removed on failure.

        Raises ``error`` when ``path`` is a file, cannot be created, is not empty (the
        message points to ``--resume``) or is locked by another process.
        """
        rd = cls(path, header_name, log_name, **kwargs)
        check_writable_dir(rd.path, option, rd.error)
        existed = rd.path.exists()
        try:
            rd.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise rd.error(f"{option} {rd.path}: cannot create ({exc.strerror or exc})") from None
        rd._created = not existed
        rd._lock(option)
        if not host and any(p.name != LOCK_NAME for p in rd.path.iterdir()):
            rd.close()
            raise rd.error(
                f"{option} {rd.path}: exists and is not empty; continue it with --resume "
                "or choose a new directory"
            )
        return rd

    @classmethod
    def resume(
        cls,
        path: str | Path,
        header_name: str,
        log_name: str,
        *,
        option: str = "--resume",
        **kwargs: Any,
    ) -> RunDir:
        """Lock the existing run at ``path`` and read its header and records.

        The log's torn last line (a killed write) is cut and repeated ids are dropped with a
        warning. Raises ``error`` when there is no run there or another process holds it.
        """
        rd = cls(path, header_name, log_name, **kwargs)
        if not rd.path.is_dir():
            raise rd.error(f"{option} {rd.path}: no such run directory")
        rd._lock(option)
        try:
            if not rd.header_path.is_file():
                raise rd.error(f"{option} {rd.path}: no {header_name}; not a run to resume")
            previous = read_json(rd.header_path, rd.error)
            if not isinstance(previous, dict):
                raise rd.error(f"{rd.header_path}: not a JSON object; not a run to resume")
            rd.previous = previous
            rd.done = read_log(rd.log_path, rd.error, repair=True)
        except BaseException:
            rd.close()
            raise
        return rd

    def _lock(self, option: str) -> None:
        """Take the exclusive lock on ``.lock`` (non-blocking), or raise ``error``."""
        lock_path = self.path / LOCK_NAME
        for _ in range(5):
            try:
                fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as exc:
                raise self.error(
                    f"{option} {self.path}: cannot lock ({exc.strerror or exc})"
                ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                raise self.error(
                    f"{self.path}: another ladder process is using this run directory"
                ) from None
            # The holder removes .lock when it closes; a lock on that removed file is no
            # lock at all, so check we hold the file that is there now, else try again.
            with contextlib.suppress(FileNotFoundError):
                if os.fstat(fd).st_ino == os.stat(lock_path).st_ino:
                    self._lock_fd = fd
                    return
            os.close(fd)
        raise self.error(f"{self.path}: could not take the run lock; try again")

    # -- the lifecycle ---------------------------------------------------------------------

    def start(
        self,
        header: dict[str, Any],
        command: str | None = None,
        extra_environment: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Write the header with ``status: "running"`` and open the log for appending.

        ``header`` holds the caller's keys; the lifecycle keys (``status``, ``started``,
        ``finished``, ``ladder``, ``command``, ``environment``, and ``resumed`` on resume)
        are filled in here, in place when ``header`` already has them (to keep key order).
        ``command`` defaults to :func:`command_line`; ``extra_environment`` is added to
        ``environment`` (a data-parallel run's ``world_size``). Returns the header written.
        """
        command = command_line() if command is None else command
        prev = self.previous or {}
        lifecycle: dict[str, Any] = {
            "status": "running",
            "started": prev.get("started") or utc_now(),
            "finished": None,
            "ladder": {"version": VERSION, "git_commit": git_commit()},
            "command": prev.get("command", command) if self.previous else command,
            "environment": {**environment(), **(extra_environment or {})},
        }
        if self.previous is not None:
            lifecycle["resumed"] = [
                *prev.get("resumed", []),
                {"at": utc_now(), "command": command},
            ]
        self.header = {**header, **lifecycle}
        self.write_header()
        self._open_log()
        return self.header

    def _open_log(self) -> None:
        self._log = LogWriter(
            self.log_path, allow_nan=self.allow_nan, sync_seconds=self.sync_seconds
        )

    def write_header(self) -> None:
        """(Re)write the header file atomically from :attr:`header`."""
        write_json(self.header_path, self.header, allow_nan=self.allow_nan)

    def append(self, records: Iterable[dict[str, Any]]) -> None:
        """Append records to the log; flush now, fsync if ``sync_seconds`` have passed."""
        if self._log is None:
            raise RuntimeError("RunDir.append before start()")
        self._log.append(records)

    def sync(self) -> None:
        """Flush and fsync the log (done at least every ``sync_seconds`` and at the end)."""
        if self._log is not None:
            self._log.sync()

    def replace_log(self, records: Iterable[dict[str, Any]]) -> None:
        """Rewrite the log atomically with ``records`` in the order given (the merge of a
        data-parallel run's rank logs); appending, if started, continues on the new file."""
        reopen = self._log is not None
        if self._log is not None:
            self._log.close()
            self._log = None
        with atomic_writer(self.log_path) as fh:
            for r in records:
                fh.write(json.dumps(r, ensure_ascii=False, allow_nan=self.allow_nan) + "\n")
        if reopen:
            self._open_log()

    def records(self) -> list[dict[str, Any]]:
        """Every record in the log now (after a :meth:`sync`), repeated ids dropped."""
        self.sync()
        return read_log(self.log_path, self.error)

    def finish(self, updates: dict[str, Any], complete: bool) -> dict[str, Any]:
        """Merge ``updates`` into the header, set ``status`` (``complete`` or ``partial``)
        and ``finished``, and write it. Returns the header written."""
        self.sync()
        self.header.update(updates)
        self.header["status"] = "complete" if complete else "partial"
        self.header["finished"] = utc_now()
        self.write_header()
        self._finished = True
        return self.header

    # -- closing ---------------------------------------------------------------------------

    def close(self) -> None:
        """Sync and close the log and release the lock (removing ``.lock``). Idempotent."""
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.path / LOCK_NAME)  # while still holding it: see _lock
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> RunDir:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None and self.header and not self._finished:
            # Stopped with work left (Ctrl-C, an error): say so; the records stay for resume.
            with contextlib.suppress(Exception):
                self.header["status"] = "partial"
                self.write_header()
        self.close()
        if exc_type is not None and self._created and not self.header:
            # Nothing was started in the directory we made: leave nothing behind.
            shutil.rmtree(self.path, ignore_errors=True)
