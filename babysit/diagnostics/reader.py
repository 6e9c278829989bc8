"""Reads run logs robustly: babysit's own, or the minimal JSONL other training code writes.

Never raises on a bad line: malformed lines are skipped and counted with their line numbers,
a half-written last line (a run still writing) is noted, gzip is read transparently. Only a
file that cannot be read at all, or holds no readable record, is a BabysitError.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from babysit.errors import BabysitError

try:  # orjson parses log lines ~4x faster; it rejects the bare NaN tokens json accepts
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - orjson is a dependency, but stay usable without it
    _fast_loads = json.loads

Record = dict[str, Any]
MAX_REPORTED_LINES = 20  # line numbers kept per problem kind: bounded memory on huge logs
_NONFINITE_STRINGS = {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity",
                      "-infinity"}


def number(value: Any) -> float | None:
    """A metric value as float; NaN/Infinity however written; None when it is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _NONFINITE_STRINGS:
            return float(text.replace("infinity", "inf"))
        try:
            return float(text)
        except ValueError:
            return None
    return None


def is_finite(value: float | None) -> bool:
    """True for a real, finite number."""
    return value is not None and math.isfinite(value)


@dataclass
class ReadStats:
    """What the reader had to skip or guess, for the report."""

    lines: int = 0
    records: int = 0
    malformed: int = 0
    malformed_lines: list[int] = field(default_factory=list)
    truncated_last_line: bool = False
    non_monotonic_steps: int = 0

    def note_malformed(self, line_no: int) -> None:
        """Count a line that is not a JSON object."""
        self.malformed += 1
        if len(self.malformed_lines) < MAX_REPORTED_LINES:
            self.malformed_lines.append(line_no)


def check_readable(path: Path) -> None:
    """A BabysitError unless `path` is an existing file."""
    if not path.exists():
        raise BabysitError(f"log not found: {path}")
    if path.is_dir():
        raise BabysitError(f"{path} is a directory, expected a JSONL log file")


def _open(path: Path) -> IO[bytes]:
    check_readable(path)
    try:
        fh: IO[bytes] = path.open("rb")
        magic = fh.read(2)
        fh.seek(0)
    except OSError as exc:
        raise BabysitError(f"cannot read {path}: {exc.strerror}") from None
    if magic == b"\x1f\x8b":
        fh.close()
        return gzip.open(path, "rb")
    return fh


def parse_line(text: bytes) -> Record | None:
    """One log line as a JSON object, or None if it is not one (any JSON dialect we accept)."""
    try:
        obj = _fast_loads(text)
    except (ValueError, RecursionError):
        try:  # bare NaN / Infinity tokens, as Python's json.dumps writes them
            obj = json.loads(text)
        except (ValueError, RecursionError):
            return None
    return obj if isinstance(obj, dict) else None


def normalize(obj: Record, index: int) -> Record:
    """Default the type to step and the step to the record's position; flags -> NaN."""
    kind = obj.setdefault("type", "step")
    if kind == "step":
        step = obj.get("step")
        if step.__class__ is not int:
            step = number(step)
            obj["step"] = int(step) if is_finite(step) else index
        for key in obj.get("nonfinite", ()) if isinstance(obj.get("nonfinite"), list) else ():
            if isinstance(key, str) and obj.get(key) is None:
                obj[key] = math.nan
    return obj


def read_records(path: Path, stats: ReadStats | None = None) -> Iterator[Record]:
    """Yield the log's records in order (header, steps, summary), normalized.

    A step record always has an int `step`. Raises BabysitError only if the file cannot be
    opened, or when it is exhausted without a single readable record.
    """
    stats = stats if stats is not None else ReadStats()
    step_index = 0
    last_step = None
    with _open(path) as fh:
        try:
            for raw in fh:
                stats.lines += 1
                complete = raw.endswith(b"\n")
                text = raw.strip()
                if not text:
                    continue
                obj = parse_line(text)
                if obj is None:
                    if not complete:
                        stats.truncated_last_line = True
                    else:
                        stats.note_malformed(stats.lines)
                    continue
                rec = normalize(obj, step_index)
                if rec["type"] == "step":
                    step_index += 1
                    if last_step is not None and rec["step"] <= last_step:
                        stats.non_monotonic_steps += 1
                    last_step = rec["step"]
                stats.records += 1
                yield rec
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            # A truncated or corrupt gzip stream: keep what was read, note the rest.
            stats.truncated_last_line = True
            if stats.records == 0:
                raise BabysitError(f"cannot read {path}: {exc}") from None
    if stats.records == 0:
        what = "is empty" if stats.lines == 0 else "has no readable JSON record"
        raise BabysitError(f"{path} {what} (expected one JSON object per line, see "
                           "docs/log-format.md)")
