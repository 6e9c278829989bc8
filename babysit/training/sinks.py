"""Where records go: anything with emit(record) and close() can watch a run."""

from __future__ import annotations

import errno
import os
import stat
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from babysit.atomic import temp_beside
from babysit.errors import BabysitError
from babysit.training.records import encode

try:  # advisory locks on the log (POSIX); without them two runs could share one name
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

Record = dict[str, Any]
RUNS_DIR = Path("runs")  # where a run's log goes when none is named (as TensorBoard's runs/)


class Sink(Protocol):
    """An observer of the record stream."""

    def emit(self, record: Record) -> None:
        """Receive one record (header, step or summary), in order."""

    def close(self) -> None:
        """The run is over; release resources."""


class JsonlSink:
    """Writes one strict-JSON line per record straight to the OS, so a crash loses at most one.

    The log is never left with a half-written line, nor emptied by a run that never started:
    each line goes out in full or the file is cut back to the line before and a BabysitError
    says why (disk full, file-size limit); with `overwrite` the new log is written under a
    temporary name beside the old one and renamed over it when its first record arrives; with
    `append` the new run's records follow the old ones (readers split the file at each header).
    An existing file that is not a regular one (a FIFO, /dev/null) is written in place.
    """

    def __init__(self, path: Path, overwrite: bool = False,
                 exists_hint: str = "pass --overwrite to replace it", append: bool = False) -> None:
        """Open `path` for writing; refuse to replace an existing log unless overwrite or
        append (`exists_hint` says how, in the caller's terms: a CLI flag or a Python argument)."""
        self.path = path
        self._offset = 0  # bytes of whole lines written: where to cut back to after a failure
        self._temp: Path | None = None  # renamed to `path` at the first record
        self._created = False  # this sink made the file (removed again if nothing is written)
        if path.is_dir():
            raise BabysitError(f"log {path} is a directory; give a file name, e.g. {path / 'run.jsonl'}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise BabysitError(f"cannot create log {path}: a part of {path.parent} is a file, "
                               "not a directory") from None
        except OSError as exc:
            raise BabysitError(f"cannot create log {path}: {exc.strerror}") from None
        try:
            if path.exists() and not path.is_file():
                self._fd = _open_special(path)
            elif path.exists() and append:
                self._fd = os.open(path, os.O_RDWR | os.O_APPEND)  # read: the last byte
                self._offset = os.fstat(self._fd).st_size
                self._end_last_line()
            elif path.exists() and overwrite:
                _refuse_if_written(path)
                self._temp = temp_beside(path)
                self._fd = os.open(self._temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            else:
                self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                self._created = True
            if stat.S_ISREG(os.fstat(self._fd).st_mode):
                _lock(self._fd)  # held while this run writes: another --overwrite must not replace it
        except FileExistsError:
            raise BabysitError(f"log {path} already exists ({exists_hint})") from None
        except OSError as exc:
            raise BabysitError(f"cannot write log {path}: {exc.strerror}") from None

    def _end_last_line(self) -> None:
        """End a half-written last line (a crashed run's) before appending after it."""
        if self._offset and os.pread(self._fd, 1, self._offset - 1) != b"\n":  # type: ignore[arg-type]
            os.write(self._fd, b"\n")  # type: ignore[arg-type]
            self._offset += 1

    def emit(self, record: Record) -> None:
        """Append the record as one line, written through to the OS."""
        if self._fd is None:
            return
        data = (encode(record) + "\n").encode("utf-8")
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view):]
            if self._temp is not None:  # the run has started: now replace the old log
                _refuse_if_written(self.path, self._temp)
                os.replace(self._temp, self.path)
                self._temp = None
        except OSError as exc:
            self._fail(exc)
        self._offset += len(data)
        self._created = False

    def _fail(self, exc: OSError) -> None:
        """Cut the partial line off, close, and raise the one-line error."""
        fd, self._fd = self._fd, None
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode):  # type: ignore[arg-type]
                os.ftruncate(fd, self._offset)  # type: ignore[arg-type]
        except OSError:
            pass
        os.close(fd)  # type: ignore[arg-type]
        if self._temp is not None:
            self._temp.unlink(missing_ok=True)
            self._temp = None
        raise BabysitError(f"cannot write log {self.path}: {exc.strerror or exc}") from None

    def close(self) -> None:
        """Close the file (idempotent); a log that never got a record is removed again."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        unwritten = self._temp if self._temp is not None else self.path if self._created else None
        if unwritten is not None:
            unwritten.unlink(missing_ok=True)
        self._temp, self._created = None, False


def _lock(fd: int) -> bool:
    """Take the log's advisory lock (flock: released when the file is closed, or the process
    dies); False when another open of the file holds it. Always True without fcntl (Windows)."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _refuse_if_written(path: Path, temp: Path | None = None) -> None:
    """A BabysitError when a live run holds `path` (two `--overwrite` runs on one log: the
    second would make the first's log vanish while both said they succeeded); `temp`, this
    run's own unwritten log, is removed first."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # gone or unreadable: nothing live to protect
    try:
        free = _lock(fd)
    finally:
        os.close(fd)  # releases the probe's own lock at once
    if not free:
        if temp is not None:
            temp.unlink(missing_ok=True)
        raise BabysitError(f"log {path} is being written by another run; give this one another "
                           "--log, or stop that run first")


def _open_special(path: Path) -> int:
    """Open a FIFO or device for writing without blocking on a FIFO nobody reads."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise BabysitError(f"cannot write log {path}: it is a FIFO nobody is reading") from None
        raise
    os.set_blocking(fd, True)
    return fd


class MemorySink:
    """Keeps every record in a list: for tests and the Python API."""

    def __init__(self) -> None:
        """Start with no records."""
        self.records: list[Record] = []

    def emit(self, record: Record) -> None:
        """Keep the record."""
        self.records.append(record)

    def close(self) -> None:
        """Nothing to release."""


def new_run_id() -> str:
    """A sortable id from the local start time, e.g. 20261125-114211."""
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def open_new_log(run_id: str, directory: Path = RUNS_DIR) -> JsonlSink:
    """A log at directory/<run_id>.jsonl, or <run_id>-2.jsonl, -3 ... if that name is taken."""
    return open_numbered(directory / f"{run_id}.jsonl")


def open_numbered(path: Path) -> JsonlSink:
    """A new log at `path`, or beside it as <stem>-2<suffix>, -3 ... when that name is taken
    (a script run again keeps its earlier runs' logs, as Lightning's version_N folders do)."""
    for n in range(1, 1000):
        candidate = path if n == 1 else path.with_name(f"{path.stem}-{n}{path.suffix}")
        if not candidate.is_file():  # free; or a directory, a FIFO: JsonlSink says or writes
            try:
                return JsonlSink(candidate)
            except BabysitError:  # taken by a run that started in the same moment
                if candidate.is_file():
                    continue
                raise
    raise BabysitError(f"no free log name beside {path} (tried {path.stem}-2 .. -999)")
