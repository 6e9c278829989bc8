"""Follow a log that another process is still writing, like `tail -f`, record by record."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from babysit.diagnostics.reader import ReadStats, check_readable, normalize, parse_line

Record = dict

POLL_SECONDS = 0.2


def wait_for(path: Path, poll: float = POLL_SECONDS) -> None:
    """Block until `path` exists (a run that has not created its log yet)."""
    while not path.exists():
        time.sleep(poll)


def follow_records(path: Path, stats: ReadStats | None = None, until_summary: bool = True,
                   poll: float = POLL_SECONDS) -> Iterator[Record]:
    """Yield records as lines are completed; a half-written last line waits for its newline.

    Ends after a summary record when `until_summary`, otherwise runs until interrupted.
    """
    check_readable(path)
    stats = stats if stats is not None else ReadStats()
    pending = b""
    steps = 0
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(1 << 16)
            if not chunk:
                time.sleep(poll)
                continue
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                stats.lines += 1
                if not line.strip():
                    continue
                obj = parse_line(line)
                if obj is None:
                    stats.note_malformed(stats.lines)
                    continue
                rec = normalize(obj, steps)
                steps += rec.get("type") == "step"
                stats.records += 1
                yield rec
                if until_summary and rec.get("type") == "summary":
                    return
