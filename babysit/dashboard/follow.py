"""Follow a log that another process is still writing, like `tail -F`, record by record.

A half-written last line waits for its newline. A log that is replaced (a new run with
--overwrite renames a new file over it, or log rotation moves it away) or truncated is
noticed by its inode and size, and the new run is followed from its start. A pipe is read
as a stream: it ends when its writer does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from babysit.readers.common import ReadStats
from babysit.readers.inputs import check_readable, is_stream, tail_lines
from babysit.readers.jsonl import (
    MAX_LINE_BYTES,
    check_values,
    normalize,
    parse_line,
    read_records,
)

Record = dict

POLL_SECONDS = 0.2


def wait_for(path: Path, poll: float = POLL_SECONDS) -> None:
    """Block until `path` exists (a run that has not created its log yet)."""
    while not path.exists():
        time.sleep(poll)


def follow_records(path: Path, stats: ReadStats | None = None, until_summary: bool = True,
                   poll: float = POLL_SECONDS,
                   on_replaced: Callable[[], None] | None = None,
                   on_missing: Callable[[], None] | None = None) -> Iterator[Record]:
    """Yield records as lines are completed, across replacements of the file.

    Ends after a summary record when `until_summary`, otherwise runs until interrupted.
    `on_replaced()` is called when the log was replaced or truncated, before the new run's
    first record; `on_missing()` once each time the log is deleted (following goes on, for a
    new file at that path).
    """
    check_readable(path)
    stats = stats if stats is not None else ReadStats()
    if is_stream(path):
        yield from read_records(path, stats)
        return
    while (yield from _follow_file(path, stats, until_summary, poll, on_missing)):
        if on_replaced is not None:
            on_replaced()


def _follow_file(path: Path, stats: ReadStats, until_summary: bool, poll: float,
                 on_missing: Callable[[], None] | None = None) -> Iterator[Record]:
    """Follow one file; return True if it was replaced, False after its summary."""
    lines = tail_lines(path, stats, poll, MAX_LINE_BYTES, on_missing)
    steps = 0
    while True:
        try:
            line = next(lines)
        except StopIteration as stop:
            return stop.value  # True: replaced
        if line is None or not line.strip():
            continue
        obj = parse_line(line)
        if obj is None:
            stats.note_malformed(stats.lines)
            continue
        check_values(obj, stats.lines, stats)
        rec = normalize(obj, steps)
        steps += rec.get("type") == "step"
        stats.records += 1
        yield rec
        if until_summary and rec.get("type") == "summary":
            lines.close()
            return False
