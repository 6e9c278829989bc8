"""Opening a log for reading: a regular file, a pipe (`<(cat log)`, `-` for stdin) or gzip.

Anything else is refused up front, because reading it would never end: a device such as
/dev/zero streams forever, and a FIFO that no process writes to blocks forever. Pipes are
read as streams (no seeking), so the gzip check peeks at the first bytes instead.
"""

from __future__ import annotations

import gzip
import io
import os
import stat
import sys
import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import IO

from babysit.errors import BabysitError
from babysit.readers.common import ReadStats

STDIN = "-"
# How long to wait for a process to start writing into a named FIFO before giving up: long
# enough for a writer started in the same shell line, short enough not to look hung.
FIFO_WAIT_SECONDS = 10.0
_POLL = 0.05


def is_stdin(path: Path) -> bool:
    """True for `-`, the conventional name of standard input."""
    return str(path) == STDIN


def is_stream(path: Path) -> bool:
    """True for stdin and pipes: read once, front to back, never seeked or reopened."""
    if is_stdin(path):
        return True
    try:
        return stat.S_ISFIFO(os.stat(path).st_mode)
    except OSError:
        return False


def check_readable(path: Path) -> None:
    """A BabysitError unless `path` is `-`, an existing regular file or a pipe."""
    if is_stdin(path):
        return
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise BabysitError(f"log not found: {path}") from None
    except OSError as exc:
        raise BabysitError(f"cannot read {path}: {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        raise BabysitError(f"{path} is a directory, expected a JSONL log file")
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
        raise BabysitError(f"{path} is not a regular file or a pipe (a device?): it cannot be "
                           "read as a log")


class _PrefixedPipe(io.RawIOBase):
    """A pipe's descriptor, with the bytes already read while waiting for a writer put back."""

    def __init__(self, fd: int, prefix: bytes) -> None:
        self._fd, self._prefix = fd, prefix

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = os.read(self._fd, len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


def _open_pipe(path: Path, wait: float) -> IO[bytes]:
    """Open a pipe without blocking forever when no process writes to it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise BabysitError(f"cannot read {path}: {exc.strerror}") from None
    deadline = time.monotonic() + wait
    first = b""
    while True:
        try:
            first = os.read(fd, 1 << 16)
        except BlockingIOError:  # a writer is there, with nothing written yet
            break
        if first:
            break
        if time.monotonic() > deadline:  # end of file: no writer has the pipe open
            os.close(fd)
            raise BabysitError(f"no process is writing to {path} (waited {wait:g} s)")
        time.sleep(_POLL)
    os.set_blocking(fd, True)
    return io.BufferedReader(_PrefixedPipe(fd, first), 1 << 16)


def open_log_bytes(path: Path, fifo_wait: float | None = None) -> IO[bytes]:
    """The log's bytes, gunzipped if they start with gzip's magic number."""
    check_readable(path)
    fifo_wait = FIFO_WAIT_SECONDS if fifo_wait is None else fifo_wait
    if is_stdin(path):
        fh: IO[bytes] = sys.stdin.buffer
        if not hasattr(fh, "peek"):  # not a real stream (a test runner's): give it a buffer
            fh = io.BufferedReader(fh)  # type: ignore[arg-type]
    elif is_stream(path):
        fh = _open_pipe(path, fifo_wait)
    else:
        try:
            fh = path.open("rb")
        except OSError as exc:
            raise BabysitError(f"cannot read {path}: {exc.strerror}") from None
    try:
        magic = fh.peek(2)[:2]  # type: ignore[attr-defined]
    except OSError as exc:
        fh.close()
        raise BabysitError(f"cannot read {path}: {exc.strerror}") from None
    if magic == b"\x1f\x8b":
        gz = gzip.GzipFile(fileobj=fh, mode="rb")
        gz.myfileobj = fh  # type: ignore[attr-defined]  # closed with it, as gzip.open does
        return gz  # type: ignore[return-value]
    return fh


def _replaced(path: Path, inode: int, position: int) -> bool | None:
    """True when `path` now names another file, or its file shrank below what was read; None
    when nothing is there (deleted, or between a rotation's move and the new file)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_ino != inode or st.st_size < position


def bounded_lines(fh: IO[str], limit: int, stats: ReadStats) -> Iterator[str]:
    """The lines of an open text file, skipping (and counting in `stats`) any over `limit`
    characters: a 2 GB file of one line costs `limit`, not 4 GB."""
    while line := fh.readline(limit):
        if len(line) == limit and not line.endswith("\n"):
            while (rest := fh.readline(limit)) and not rest.endswith("\n"):
                pass
            stats.long_lines += 1
            continue
        yield line


class LineSplitter:
    """Bytes as they arrive -> complete lines (without their newline). A half-written last
    line waits for its newline; a line over `max_line` bytes is counted in `stats` and dropped
    up to its newline, never kept whole."""

    def __init__(self, stats: ReadStats, max_line: int) -> None:
        """Count overlong lines in `stats`."""
        self.stats, self.max_line = stats, max_line
        self.pending = b""
        self.skipping = False  # inside an overlong line

    def feed(self, chunk: bytes) -> list[bytes]:
        """The lines `chunk` completes."""
        *lines, self.pending = (self.pending + chunk).split(b"\n")
        if self.skipping:  # inside an overlong line: counted once, dropped up to its newline
            if not lines:
                self.pending = b""
                return []
            lines, self.skipping = lines[1:], False
        if len(self.pending) > self.max_line:
            self.stats.lines += 1
            self.stats.long_lines += 1
            self.stats.note_malformed(self.stats.lines)
            self.pending, self.skipping = b"", True
        return lines


def tail_lines(path: Path, stats: ReadStats, poll: float, max_line: int,
               on_missing: Callable[[], None] | None = None) -> Generator[bytes | None, None, bool]:
    """The complete lines of a file another process is appending to, as `tail -F` sees them,
    and None at each poll that finds nothing new (the writer paused or ended); returns True
    when the file was replaced or truncated (a new run: follow it from its start). Lines are
    split as LineSplitter does; `on_missing()` once each time the file is deleted."""
    gone = False  # the path named nothing at the last poll
    splitter = LineSplitter(stats, max_line)
    with path.open("rb") as fh:
        inode = os.fstat(fh.fileno()).st_ino
        while True:
            chunk = fh.read(1 << 16)
            if not chunk:
                replaced = _replaced(path, inode, fh.tell())
                if replaced:
                    return True
                if replaced is None and not gone and on_missing is not None:
                    on_missing()  # said once; following goes on if a new file comes
                gone = replaced is None
                yield None
                time.sleep(poll)
                continue
            for line in splitter.feed(chunk):
                stats.lines += 1
                yield line


def is_gzip(path: Path) -> bool:
    """Whether a regular file starts with gzip's magic number (a finished, compressed log).
    A pipe is never opened to look: the bytes read would be gone for the real reading (a
    FIFO that `watch` peeked at lost its header and the writer its reader)."""
    if is_stream(path) or not path.is_file():
        return False
    try:
        with path.open("rb") as fh:
            return fh.read(2) == b"\x1f\x8b"
    except OSError:
        return False
